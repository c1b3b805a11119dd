//! Training hyperparameters, readable from the `[train]` table of a TOML file.

use crate::error::{Result, TrainError};
use crate::objectives::MaskingConfig;
use crate::optim::{AdamHyper, DecayRule, LrSchedule, OptimizerKind, ScheduleKind};
use serde::{Deserialize, Serialize};

/// Everything the trainer needs besides the model and the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Optimizer updates to run.
    pub steps: u64,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warm-up updates.
    pub warmup_steps: u64,
    /// Decay after warm-up.
    pub schedule: ScheduleKind,
    /// Multiplicative step decay on top of `schedule`: the learning rate of update `k` is
    /// multiplied by `lr_decay_factor ^ floor(k / lr_decay_every)`. GT4SD's Text+Chem T5 recipe
    /// decays by 0.99 once per epoch (`lr_decay_every` = updates per epoch). 1.0 = off.
    pub lr_decay_factor: f64,
    /// Updates between two step decays (0 = never).
    pub lr_decay_every: u64,
    /// AdamW or LAMB.
    pub optimizer: OptimizerKind,
    /// Adam β1.
    pub beta1: f64,
    /// Adam β2.
    pub beta2: f64,
    /// Adam ε (default 1e-8 for AdamW, 1e-6 for LAMB).
    pub eps: Option<f64>,
    /// Decoupled weight decay for parameters the decay rule selects.
    pub weight_decay: f64,
    /// Which parameters decay.
    pub decay: DecayRule,
    /// Clip the global gradient norm to this (None = no clipping).
    pub max_grad_norm: Option<f64>,
    /// Micro-batches per optimizer update.
    pub grad_accum: u32,
    /// Seed of masking and every other random choice the trainer makes.
    pub seed: u64,
    /// Evaluate on the validation source every this many updates (0 = never).
    pub eval_every: u64,
    /// Cap on validation batches per evaluation (None = whole source).
    pub eval_batches: Option<usize>,
    /// Stop after this many evaluations without improvement (None = never).
    pub patience: Option<u32>,
    /// Improvement smaller than this does not reset patience.
    pub min_delta: f64,
    /// Checkpoint every this many updates (0 = only at the end).
    pub checkpoint_every: u64,
    /// Checkpoints kept (older ones are deleted).
    pub keep_checkpoints: usize,
    /// Log a tracing line every this many updates.
    pub log_every: u64,
    /// MLM corruption.
    pub masking: MaskingConfig,
    /// Discount of TSE-EMA.
    pub tse_gamma: f64,
    /// Compute precision: f32, or bf16/f16 autocast with f32 master weights and optimizer state
    /// (f16 adds dynamic loss scaling). See [`chemlm_models::precision`].
    pub precision: chemlm_models::Precision,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 1000,
            lr: 1e-4,
            warmup_steps: 100,
            schedule: ScheduleKind::Linear,
            lr_decay_factor: 1.0,
            lr_decay_every: 0,
            optimizer: OptimizerKind::Adamw,
            beta1: 0.9,
            beta2: 0.999,
            eps: None,
            weight_decay: 0.01,
            decay: DecayRule::default(),
            max_grad_norm: Some(1.0),
            grad_accum: 1,
            seed: 0,
            eval_every: 0,
            eval_batches: None,
            patience: None,
            min_delta: 0.0,
            checkpoint_every: 0,
            keep_checkpoints: 2,
            log_every: 50,
            masking: MaskingConfig::default(),
            tse_gamma: 0.999,
            precision: chemlm_models::Precision::F32,
        }
    }
}

impl TrainConfig {
    /// Rejects values that cannot train.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(TrainError::Config(m.to_string()));
        if self.steps == 0 {
            return bad("steps must be > 0");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be a positive number");
        }
        if !(0.0..1.0).contains(&self.beta1) || !(0.0..1.0).contains(&self.beta2) {
            return bad("beta1 and beta2 must lie in [0, 1)");
        }
        if !(self.lr_decay_factor > 0.0 && self.lr_decay_factor <= 1.0) {
            return bad("lr_decay_factor must lie in (0, 1]");
        }
        if self.weight_decay < 0.0 {
            return bad("weight_decay must be >= 0");
        }
        if self.grad_accum == 0 {
            return bad("grad_accum must be >= 1");
        }
        if let Some(n) = self.max_grad_norm {
            if n.is_nan() || n <= 0.0 {
                return bad("max_grad_norm must be > 0");
            }
        }
        if self.keep_checkpoints == 0 {
            return bad("keep_checkpoints must be >= 1");
        }
        if !(0.0..=1.0).contains(&self.tse_gamma) {
            return bad("tse_gamma must lie in [0, 1]");
        }
        Ok(())
    }

    /// The learning-rate schedule.
    pub fn schedule(&self) -> LrSchedule {
        LrSchedule {
            kind: self.schedule,
            peak_lr: self.lr,
            warmup_steps: self.warmup_steps,
            total_steps: self.steps,
        }
    }

    /// The learning rate of update `step` (0-based): the schedule times the step decay.
    pub fn lr_at(&self, step: u64) -> f64 {
        let decays = match self.lr_decay_every {
            0 => 0,
            every => step / every,
        };
        self.schedule().lr_at(step)
            * self
                .lr_decay_factor
                .powi(decays.min(i32::MAX as u64) as i32)
    }

    /// Optimizer hyperparameters with the per-optimizer ε default.
    pub fn adam_hyper(&self) -> AdamHyper {
        let eps = self.eps.unwrap_or(match self.optimizer {
            OptimizerKind::Adamw => 1e-8,
            OptimizerKind::Lamb => 1e-6,
        });
        AdamHyper {
            beta1: self.beta1,
            beta2: self.beta2,
            eps,
            weight_decay: self.weight_decay,
        }
    }
}
