//! `hf:ORG/NAME[@REVISION]` model sources: every `--model` (and `--teacher`, `--init`) that names
//! a Hub model is downloaded into the Hugging Face cache (`chemlm-hub`) before the command runs,
//! and replaced by the local snapshot directory, so the commands only ever see directories.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chemlm_hub::{is_hub_source, Hub, HubConfig, Progress};
use indicatif::{ProgressBar, ProgressStyle};

/// A download bar per file; hidden when `--quiet` (indicatif draws nothing when stderr is not a
/// terminal).
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, filename: &str, total: Option<u64>, resumed_from: u64) {
        self.0.reset();
        self.0.set_length(total.unwrap_or(0));
        self.0.set_position(resumed_from);
        self.0.set_prefix(filename.to_string());
    }

    fn update(&self, _filename: &str, bytes_done: u64, total: Option<u64>) {
        if let Some(t) = total {
            self.0.set_length(t);
        }
        self.0.set_position(bytes_done);
    }
}

fn hub(quiet: bool) -> Hub {
    let hub = Hub::new(HubConfig::from_env());
    if quiet {
        return hub;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix}: {bytes}/{total_bytes} [{elapsed_precise}, {bytes_per_sec}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    hub.with_progress(Bar(bar))
}

/// Replaces a `hf:` source by its local snapshot directory; leaves a local path as it is (the
/// command reports a missing directory itself, with its own wording).
pub fn resolve(path: &mut PathBuf, quiet: bool) -> Result<()> {
    let Some(source) = path.to_str().filter(|s| is_hub_source(s)) else {
        return Ok(());
    };
    let source = source.to_owned();
    let dir = chemlm_hub::resolve_model_dir_with(&hub(quiet), &source)
        .with_context(|| format!("cannot get {source}"))?;
    *path = dir;
    Ok(())
}

/// [`resolve`] for an optional argument.
pub fn resolve_opt(path: &mut Option<PathBuf>, quiet: bool) -> Result<()> {
    match path {
        Some(p) => resolve(p, quiet),
        None => Ok(()),
    }
}

/// [`resolve`] for a string argument that may also be a keyword (`none`).
pub fn resolve_str(source: &mut Option<String>, quiet: bool) -> Result<()> {
    if let Some(s) = source.as_mut().filter(|s| is_hub_source(s)) {
        let mut p = PathBuf::from(s.as_str());
        resolve(&mut p, quiet)?;
        *s = p.to_string_lossy().into_owned();
    }
    Ok(())
}
