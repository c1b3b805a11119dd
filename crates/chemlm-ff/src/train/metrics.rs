//! `metrics.jsonl`: one JSON line per epoch.

use crate::error::{FfError, FfResult};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// File name inside the run directory.
pub const METRICS_FILE: &str = "metrics.jsonl";

/// One epoch of training. Train figures are means over the epoch's batches weighted by their
/// number of structures; validation figures are over the whole validation set, with the EMA
/// weights when EMA is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Optimizer steps done at the end of the epoch.
    pub step: u64,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Training loss.
    pub train_loss: f64,
    /// Training energy MSE, eV².
    pub train_energy_mse: f64,
    /// Training force-component MSE, (eV/Å)².
    pub train_force_mse: f64,
    /// Validation loss (same definition as the training loss).
    pub valid_loss: f64,
    /// Validation energy MSE, eV².
    pub valid_energy_mse: f64,
    /// Validation force-component MSE, (eV/Å)².
    pub valid_force_mse: f64,
    /// Validation energy MAE, eV.
    pub valid_energy_mae_ev: f64,
    /// Validation energy MAE, meV.
    pub valid_energy_mae_mev: f64,
    /// Validation force MAE, eV/Å.
    pub valid_force_mae_ev_a: f64,
    /// Validation force MAE, meV/Å.
    pub valid_force_mae_mev_a: f64,
    /// Whether this epoch gave the best validation loss so far (saved as `best/`).
    pub best: bool,
    /// Wall time of the epoch (training and validation), s.
    pub epoch_time_s: f64,
    /// Wall time of the training pass alone (no validation, no checkpoint), s: what speed
    /// comparisons with other tools' training loops use.
    #[serde(default)]
    pub train_time_s: f64,
    /// Wall time of the run so far, s (resumed runs continue the count).
    pub elapsed_s: f64,
}

impl EpochRecord {
    /// The record without wall times (for comparing runs).
    pub fn without_times(&self) -> EpochRecord {
        EpochRecord {
            epoch_time_s: 0.0,
            train_time_s: 0.0,
            elapsed_s: 0.0,
            ..self.clone()
        }
    }
}

/// Appends one record.
pub fn append_record(path: &Path, record: &EpochRecord) -> FfResult<()> {
    let io = |e| FfError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let line = serde_json::to_string(record)
        .map_err(|e| FfError::Invalid(format!("metrics to JSON: {e}")))?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    writeln!(f, "{line}").map_err(io)
}

/// Reads every record (a missing file has none).
pub fn read_records(path: &Path) -> FfResult<Vec<EpochRecord>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).map_err(|e| FfError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| FfError::Config {
                origin: format!("{}:{}", path.display(), i + 1),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Keeps only the records up to `epoch` (a resumed run drops lines written after its
/// checkpoint), rewriting the file atomically.
pub fn truncate_after(path: &Path, epoch: usize) -> FfResult<()> {
    let kept: Vec<EpochRecord> = read_records(path)?
        .into_iter()
        .filter(|r| r.epoch <= epoch)
        .collect();
    let mut text = String::new();
    for r in &kept {
        text += &serde_json::to_string(r)
            .map_err(|e| FfError::Invalid(format!("metrics to JSON: {e}")))?;
        text.push('\n');
    }
    chemlm_models::io::write_atomic(path, text.as_bytes())
        .map_err(|e| FfError::Invalid(e.to_string()))
}
