//! Per-step metrics: the `metrics.jsonl` lines and the Training Speed Estimation statistics.
//!
//! TSE (Ru et al. 2021, used by ChemGPT's Training Performance Estimation) ranks hyperparameter
//! candidates by the sum of training losses early in training. The trainer keeps two running
//! values over optimizer steps: `tse = Σ_t loss_t` and the exponentially weighted
//! `tse_ema_T = Σ_t γ^(T−t) loss_t` (γ = 0.999), i.e. litmatter's `tpe.py` estimators with one step
//! per "epoch". Epoch-level variants (TSE-E) can be recomputed from the per-step `loss` and `epoch`
//! fields.

use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One training step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Optimizer steps completed (1-based).
    pub step: u64,
    /// Data epoch of the step's last batch.
    pub epoch: u64,
    /// Mean loss over predicted tokens of the step (all micro-batches).
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Real input tokens in the step.
    pub tokens: u64,
    /// Real input tokens since the start of training.
    pub tokens_seen: u64,
    /// Throughput of this step.
    pub tokens_per_sec: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Wall-clock seconds of training so far (summed over resumed sessions).
    pub elapsed: f64,
    /// Training FLOPs so far, when the model's cost per token is known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flops: Option<f64>,
    /// Σ of training losses so far.
    pub tse: f64,
    /// γ-discounted Σ of training losses so far.
    pub tse_ema: f64,
    /// Data-parallel runs: processes, and seconds of this step spent summing over them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub world_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub allreduce_seconds: Option<f64>,
}

/// One validation pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidRecord {
    /// Optimizer steps completed when evaluated.
    pub step: u64,
    /// Mean loss per predicted token.
    pub loss: f64,
    /// `exp(loss)`.
    pub perplexity: f64,
    /// Arg-max accuracy on predicted tokens (masked tokens for MLM).
    pub accuracy: Option<f64>,
    /// Predicted tokens evaluated.
    pub predicted_tokens: u64,
    /// Training tokens seen when evaluated.
    pub tokens_seen: u64,
    /// Wall-clock seconds of training so far.
    pub elapsed: f64,
    /// Training FLOPs so far.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flops: Option<f64>,
}

/// A line of `metrics.jsonl`, tagged `"kind": "train" | "valid"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MetricLine {
    /// A training step.
    Train(StepRecord),
    /// A validation pass.
    Valid(ValidRecord),
}

impl MetricLine {
    /// The step the line belongs to.
    pub fn step(&self) -> u64 {
        match self {
            MetricLine::Train(r) => r.step,
            MetricLine::Valid(r) => r.step,
        }
    }
}

/// Running TSE statistics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TpeTracker {
    /// Discount of the EMA variant.
    pub gamma: f64,
    /// Σ losses.
    pub tse: f64,
    /// γ-discounted Σ losses.
    pub tse_ema: f64,
    /// Steps seen.
    pub steps: u64,
}

impl Default for TpeTracker {
    fn default() -> Self {
        TpeTracker::new(0.999)
    }
}

impl TpeTracker {
    /// A tracker with discount `gamma`.
    pub fn new(gamma: f64) -> Self {
        TpeTracker {
            gamma,
            tse: 0.0,
            tse_ema: 0.0,
            steps: 0,
        }
    }

    /// Adds one step's training loss.
    pub fn push(&mut self, loss: f64) {
        self.tse += loss;
        self.tse_ema = self.gamma * self.tse_ema + loss;
        self.steps += 1;
    }
}

/// Appends lines to `metrics.jsonl`, flushing each so a killed run keeps what it logged.
pub struct MetricsWriter {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl MetricsWriter {
    /// Starts a fresh file (a new run).
    pub fn create(path: &Path) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| TrainError::io(path, e))?;
        Ok(MetricsWriter {
            path: path.to_path_buf(),
            file: std::io::BufWriter::new(file),
        })
    }

    /// Continues a run resumed at `step`: lines after `step` (logged by the killed run after its
    /// last checkpoint) are dropped, atomically, so the file shows one curve.
    pub fn resume(path: &Path, step: u64) -> Result<Self> {
        let kept = if path.exists() {
            read_metrics(path)?
                .into_iter()
                .filter(|l| l.step() <= step)
                .collect()
        } else {
            Vec::new()
        };
        chemlm_fs::write_with(path, |w| {
            for line in &kept {
                let s = serde_json::to_string(line).map_err(std::io::Error::other)?;
                writeln!(w, "{s}")?;
            }
            Ok(())
        })?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| TrainError::io(path, e))?;
        Ok(MetricsWriter {
            path: path.to_path_buf(),
            file: std::io::BufWriter::new(file),
        })
    }

    /// Writes one line.
    pub fn write(&mut self, line: &MetricLine) -> Result<()> {
        let s = serde_json::to_string(line).map_err(|e| TrainError::format(&self.path, e))?;
        writeln!(self.file, "{s}").map_err(|e| TrainError::io(&self.path, e))?;
        self.file.flush().map_err(|e| TrainError::io(&self.path, e))
    }
}

/// Reads a `metrics.jsonl`, naming the line of any malformed entry.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricLine>> {
    crate::jsonl::read_jsonl(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tse_ema_matches_closed_form() {
        let losses = [3.0, 2.5, 2.0, 1.8, 1.7];
        let mut t = TpeTracker::new(0.9);
        for l in losses {
            t.push(l);
        }
        let n = losses.len();
        let want: f64 = losses
            .iter()
            .enumerate()
            .map(|(i, l)| l * 0.9f64.powi((n - 1 - i) as i32))
            .sum();
        assert!((t.tse_ema - want).abs() < 1e-12);
        assert!((t.tse - 11.0).abs() < 1e-12);
    }
}
