//! Learning-rate schedules: linear warm-up, then constant, linear or cosine decay.
//!
//! Same formulas and step convention as Hugging Face's `get_*_schedule_with_warmup`: the `k`-th
//! optimizer update (0-based) uses `lr_at(k)`, so with warm-up the first update has learning rate
//! 0, and decay reaches 0 at `total_steps`.

use serde::{Deserialize, Serialize};

/// Shape of the decay after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Stay at the peak.
    Constant,
    /// Linear to 0 at `total_steps`.
    Linear,
    /// Half cosine to 0 at `total_steps`.
    Cosine,
}

impl std::str::FromStr for ScheduleKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "constant" => Ok(ScheduleKind::Constant),
            "linear" => Ok(ScheduleKind::Linear),
            "cosine" => Ok(ScheduleKind::Cosine),
            other => Err(format!(
                "unknown schedule {other:?} (constant, linear, cosine)"
            )),
        }
    }
}

/// A warm-up + decay schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// Decay shape.
    pub kind: ScheduleKind,
    /// Learning rate at the end of warm-up.
    pub peak_lr: f64,
    /// Linear warm-up steps from 0.
    pub warmup_steps: u64,
    /// Steps at which decay reaches 0.
    pub total_steps: u64,
}

impl LrSchedule {
    /// The multiplier of `peak_lr` for update `step` (0-based).
    pub fn factor(&self, step: u64) -> f64 {
        let s = step as f64;
        let w = self.warmup_steps as f64;
        if step < self.warmup_steps {
            return s / w.max(1.0);
        }
        let decay_span = (self.total_steps as f64 - w).max(1.0);
        let progress = (s - w) / decay_span;
        match self.kind {
            ScheduleKind::Constant => 1.0,
            ScheduleKind::Linear => ((self.total_steps as f64 - s) / decay_span).max(0.0),
            ScheduleKind::Cosine => {
                (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0)
            }
        }
    }

    /// The learning rate of update `step` (0-based).
    pub fn lr_at(&self, step: u64) -> f64 {
        self.peak_lr * self.factor(step)
    }
}
