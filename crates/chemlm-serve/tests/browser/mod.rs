//! Headless Chromium for the web-page tests (this crate's `serve.rs` and the binary's
//! `crates/chemlm/tests/serve.rs`, which includes this file by path).

/// The Chromium binary: `CHEMLM_CHROMIUM`, else `chromium` / `chromium-browser` / `google-chrome`
/// on PATH. `.ci/run` installs Debian's `chromium`.
pub fn chromium() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("CHEMLM_CHROMIUM") {
        return p.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the web page test needs headless Chromium: install it (Debian: apt-get install chromium) \
         or point CHEMLM_CHROMIUM at it"
    );
}

/// Runs headless Chromium on `url` with `args` (a fresh profile, scripts run until the page's
/// network work is done), returns stdout.
pub fn headless(url: &str, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("cannot run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
