//! Where the Hub is, who we are, and where the cache lives: the environment variables of
//! `huggingface_hub` (`huggingface_hub/constants.py`), read with the same precedence so that a
//! cache and token a Python user already has are found without extra flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The public Hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// How much a blob that is already in the cache is checked before it is used.
///
/// Its size is always compared with the Hub's when online (a truncated blob is common: a killed
/// copy, a full disk); hashing a multi-GB file is not free, hence the choice for the sha256 of LFS
/// files (whose etag is their sha256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheVerify {
    /// Compare sizes only.
    SizeOnly,
    /// Also hash an LFS blob the first time one [`crate::Hub`] uses it (default): a corrupt
    /// cache is caught once per run, and repeated lookups in the same run cost nothing.
    #[default]
    HashOnce,
    /// Hash an LFS blob every time it is used.
    HashAlways,
}

/// Settings of a [`crate::Hub`]. Build it with [`HubConfig::from_env`] (what the CLI does),
/// [`HubConfig::from_vars`] (the same rules over any variable source, for tests that must not
/// touch the process environment) or [`HubConfig::new`] with explicit values.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Base URL without a trailing slash, e.g. `https://huggingface.co`.
    pub endpoint: String,
    /// Bearer token sent to the endpoint (never to a CDN host it redirects to).
    pub token: Option<String>,
    /// The hub cache directory (`.../huggingface/hub`), holding `models--ORG--NAME` folders.
    pub cache_dir: PathBuf,
    /// Make no request at all; answer from the cache only (`HF_HUB_OFFLINE`).
    pub offline: bool,
    /// Limit for the metadata (HEAD) and listing calls (`HF_HUB_ETAG_TIMEOUT`, default 10 s).
    pub etag_timeout: Duration,
    /// Limit for connecting and for each read while downloading (`HF_HUB_DOWNLOAD_TIMEOUT`,
    /// default 10 s); a slow but live download is not cut off.
    pub download_timeout: Duration,
    /// How often a download cut off mid-body is resumed (with `Range`) within the same call
    /// before the error is returned; huggingface_hub's `http_get` retries 5 times. Whatever
    /// arrived stays in `blobs/ETAG.incomplete` for the next call either way.
    pub download_retries: u32,
    /// Pause before each such retry (huggingface_hub waits 1 s).
    pub retry_pause: Duration,
    /// How much a blob already in the cache is checked before use.
    pub verify_cached: CacheVerify,
}

impl HubConfig {
    /// Explicit endpoint and cache directory; no token, online, default timeouts and checks.
    pub fn new(endpoint: impl Into<String>, cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            endpoint: normalize_endpoint(&endpoint.into()),
            token: None,
            cache_dir: cache_dir.into(),
            offline: false,
            etag_timeout: Duration::from_secs(10),
            download_timeout: Duration::from_secs(10),
            download_retries: 5,
            retry_pause: Duration::from_secs(1),
            verify_cached: CacheVerify::default(),
        }
    }

    /// Sets the token (an empty or blank one counts as none, as in huggingface_hub).
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.token = clean_token(token);
        self
    }

    /// Sets offline mode.
    pub fn with_offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// From the process environment; see [`HubConfig::from_vars`] for the rules.
    pub fn from_env() -> Self {
        Self::from_vars(|k| std::env::var(k).ok(), dirs::home_dir())
    }

    /// The rules of `huggingface_hub.constants`, over `var` as the environment and `home` as
    /// `~`:
    ///
    /// - endpoint: `HF_ENDPOINT` with trailing `/` removed, empty or unset → `https://huggingface.co`;
    /// - `HF_HOME`: `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`
    ///   (`~` expanded);
    /// - cache: `HF_HUB_CACHE`, else the legacy `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`;
    /// - token: `HF_TOKEN`, else (unset or empty) the legacy `HUGGING_FACE_HUB_TOKEN`, else the
    ///   file `HF_TOKEN_PATH` (default `$HF_HOME/token`); trimmed, empty = none;
    /// - offline: `HF_HUB_OFFLINE`, else (unset or empty) `TRANSFORMERS_OFFLINE`, true when
    ///   1/ON/YES/TRUE in any case;
    /// - timeouts: `HF_HUB_ETAG_TIMEOUT`, `HF_HUB_DOWNLOAD_TIMEOUT` in seconds (default 10).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, home: Option<PathBuf>) -> Self {
        let home = home.unwrap_or_else(|| PathBuf::from("~"));
        let expand = |s: &str| expand_user(s, &home);
        let nonempty = |k: &str| var(k).filter(|v| !v.is_empty());

        let hf_home = match nonempty("HF_HOME") {
            Some(h) => expand(&h),
            None => match nonempty("XDG_CACHE_HOME") {
                Some(x) => expand(&x).join("huggingface"),
                None => home.join(".cache").join("huggingface"),
            },
        };
        let cache_dir = nonempty("HF_HUB_CACHE")
            .or_else(|| nonempty("HUGGINGFACE_HUB_CACHE"))
            .map(|c| expand(&c))
            .unwrap_or_else(|| hf_home.join("hub"));

        let token_path = nonempty("HF_TOKEN_PATH")
            .map(|p| expand(&p))
            .unwrap_or_else(|| hf_home.join("token"));
        let env_token = nonempty("HF_TOKEN").or_else(|| var("HUGGING_FACE_HUB_TOKEN"));
        let token = clean_token(env_token.as_deref())
            .or_else(|| clean_token(read_token_file(&token_path).as_deref()));

        let offline = nonempty("HF_HUB_OFFLINE")
            .or_else(|| var("TRANSFORMERS_OFFLINE"))
            .is_some_and(|v| is_true(&v));

        let secs = |k: &str, default: u64| {
            let v = var(k)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0);
            v.map(Duration::from_secs_f64)
                .unwrap_or(Duration::from_secs(default))
        };

        let mut cfg = Self::new(var("HF_ENDPOINT").unwrap_or_default(), cache_dir);
        cfg.token = token;
        cfg.offline = offline;
        cfg.etag_timeout = secs("HF_HUB_ETAG_TIMEOUT", 10);
        cfg.download_timeout = secs("HF_HUB_DOWNLOAD_TIMEOUT", 10);
        cfg
    }
}

/// `HF_ENDPOINT` as huggingface_hub reads it: trailing slashes removed, empty → the public Hub.
fn normalize_endpoint(s: &str) -> String {
    let t = s.trim().trim_end_matches('/');
    if t.is_empty() {
        DEFAULT_ENDPOINT.to_string()
    } else {
        t.to_string()
    }
}

/// huggingface_hub's `_clean_token`: surrounding whitespace removed, empty → none.
fn clean_token(t: Option<&str>) -> Option<String> {
    t.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn read_token_file(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// huggingface_hub's `_is_true` (`ENV_VARS_TRUE_VALUES`).
fn is_true(v: &str) -> bool {
    matches!(v.to_ascii_uppercase().as_str(), "1" | "ON" | "YES" | "TRUE")
}

/// `os.path.expanduser` for `~` and `~/…` (not `~user`).
fn expand_user(s: &str, home: &Path) -> PathBuf {
    if s == "~" {
        home.to_path_buf()
    } else if let Some(rest) = s.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> HubConfig {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HubConfig::from_vars(|k| m.get(k).cloned(), Some(PathBuf::from("/home/u")))
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]);
        assert_eq!(c.endpoint, "https://huggingface.co");
        assert_eq!(c.cache_dir, PathBuf::from("/home/u/.cache/huggingface/hub"));
        assert_eq!(c.token, None);
        assert!(!c.offline);
        assert_eq!(c.etag_timeout, Duration::from_secs(10));
    }

    #[test]
    fn endpoint_trailing_slash_and_empty() {
        assert_eq!(
            cfg(&[("HF_ENDPOINT", "http://127.0.0.1:9/")]).endpoint,
            "http://127.0.0.1:9"
        );
        assert_eq!(
            cfg(&[("HF_ENDPOINT", "")]).endpoint,
            "https://huggingface.co"
        );
    }

    #[test]
    fn cache_precedence() {
        assert_eq!(
            cfg(&[("XDG_CACHE_HOME", "/x")]).cache_dir,
            PathBuf::from("/x/huggingface/hub")
        );
        assert_eq!(
            cfg(&[("XDG_CACHE_HOME", "/x"), ("HF_HOME", "~/hf")]).cache_dir,
            PathBuf::from("/home/u/hf/hub")
        );
        assert_eq!(
            cfg(&[("HF_HOME", "/h"), ("HUGGINGFACE_HUB_CACHE", "/legacy")]).cache_dir,
            PathBuf::from("/legacy")
        );
        assert_eq!(
            cfg(&[
                ("HF_HOME", "/h"),
                ("HUGGINGFACE_HUB_CACHE", "/legacy"),
                ("HF_HUB_CACHE", "/c")
            ])
            .cache_dir,
            PathBuf::from("/c")
        );
    }

    #[test]
    fn token_precedence() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "  file-token\n").unwrap();
        let home = dir.path().to_str().unwrap();
        assert_eq!(
            cfg(&[("HF_HOME", home)]).token.as_deref(),
            Some("file-token")
        );
        assert_eq!(
            cfg(&[("HF_HOME", home), ("HUGGING_FACE_HUB_TOKEN", "legacy")])
                .token
                .as_deref(),
            Some("legacy")
        );
        assert_eq!(
            cfg(&[
                ("HF_HOME", home),
                ("HUGGING_FACE_HUB_TOKEN", "legacy"),
                ("HF_TOKEN", " new ")
            ])
            .token
            .as_deref(),
            Some("new")
        );
        // An empty HF_TOKEN falls through to the legacy variable, a blank one to the file.
        assert_eq!(
            cfg(&[("HF_TOKEN", ""), ("HUGGING_FACE_HUB_TOKEN", "legacy")])
                .token
                .as_deref(),
            Some("legacy")
        );
        assert_eq!(
            cfg(&[("HF_HOME", home), ("HF_TOKEN", "   ")])
                .token
                .as_deref(),
            Some("file-token")
        );
        std::fs::write(dir.path().join("token"), "\n").unwrap();
        assert_eq!(cfg(&[("HF_HOME", home)]).token, None);
    }

    #[test]
    fn offline_values() {
        for v in ["1", "ON", "yes", "True", "TRUE"] {
            assert!(cfg(&[("HF_HUB_OFFLINE", v)]).offline, "{v}");
        }
        for v in ["0", "off", "no", "false", "2", ""] {
            assert!(!cfg(&[("HF_HUB_OFFLINE", v)]).offline, "{v}");
        }
        assert!(cfg(&[("TRANSFORMERS_OFFLINE", "1")]).offline);
        assert!(!cfg(&[("HF_HUB_OFFLINE", "0"), ("TRANSFORMERS_OFFLINE", "1")]).offline);
    }

    #[test]
    fn timeouts() {
        let c = cfg(&[
            ("HF_HUB_ETAG_TIMEOUT", "2.5"),
            ("HF_HUB_DOWNLOAD_TIMEOUT", "x"),
        ]);
        assert_eq!(c.etag_timeout, Duration::from_millis(2500));
        assert_eq!(c.download_timeout, Duration::from_secs(10));
    }
}
