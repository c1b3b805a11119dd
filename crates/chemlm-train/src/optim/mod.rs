//! Optimizers (AdamW, LAMB), gradient clipping and learning-rate schedules.
//!
//! Written here rather than taken from `candle_nn::AdamW` because pretraining needs per-parameter
//! weight-decay groups, LAMB's per-tensor trust ratio, and optimizer state that can be saved to
//! and restored from a checkpoint.

pub mod adamw;
pub mod clip;
pub mod fused;
pub mod lamb;
pub mod loss_scale;
pub mod params;
pub mod schedule;

use crate::error::Result;
use candle_core::Tensor;
use std::collections::HashMap;

pub use adamw::{AdamW, AdamWConfig};
pub use clip::{clip_grad_norm, global_grad_norm};
pub use lamb::{Lamb, LambConfig};
pub use loss_scale::LossScaler;
pub use params::{DecayRule, Param, ParamSet};
pub use schedule::{LrSchedule, ScheduleKind};

/// A first-order optimizer over a [`ParamSet`].
pub trait Optimizer {
    /// Applies one update with learning rate `lr`. `grads[i]` is the gradient of `params[i]`, or
    /// `None` when the parameter took no part in the loss (it is then left untouched, state and
    /// weight decay included, as PyTorch does).
    fn step(&mut self, params: &ParamSet, grads: &[Option<Tensor>], lr: f64) -> Result<()>;
    /// Every state tensor, keyed `"<slot>/<param name>"`, for a checkpoint.
    fn state_tensors(&self, params: &ParamSet) -> Result<Vec<(String, Tensor)>>;
    /// Restores state saved by [`state_tensors`](Optimizer::state_tensors) for the same params.
    fn load_state(&mut self, params: &ParamSet, tensors: &HashMap<String, Tensor>) -> Result<()>;
    /// Short name ("adamw", "lamb").
    fn name(&self) -> &'static str;
}

/// Which optimizer a run uses, with its hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam with decoupled weight decay (Loshchilov & Hutter 2019).
    Adamw,
    /// Layer-wise adaptive moments (You et al. 2019).
    Lamb,
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "adamw" => Ok(OptimizerKind::Adamw),
            "lamb" => Ok(OptimizerKind::Lamb),
            other => Err(format!("unknown optimizer {other:?} (adamw, lamb)")),
        }
    }
}

/// Shared hyperparameters of the Adam family.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamHyper {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay for parameters the [`DecayRule`] selects.
    pub weight_decay: f64,
}

/// Builds the optimizer `kind` with `hyper` for `params`.
pub fn build_optimizer(
    kind: OptimizerKind,
    hyper: AdamHyper,
    params: &ParamSet,
) -> Box<dyn Optimizer> {
    match kind {
        OptimizerKind::Adamw => Box::new(AdamW::new(
            AdamWConfig {
                beta1: hyper.beta1,
                beta2: hyper.beta2,
                eps: hyper.eps,
                weight_decay: hyper.weight_decay,
            },
            params.len(),
        )),
        OptimizerKind::Lamb => Box::new(Lamb::new(
            LambConfig {
                beta1: hyper.beta1,
                beta2: hyper.beta2,
                eps: hyper.eps,
                weight_decay: hyper.weight_decay,
                max_trust_ratio: None,
            },
            params.len(),
        )),
    }
}

/// Moment state shared by AdamW and LAMB: first and second moments and a per-parameter step
/// count (parameters without gradients do not advance).
#[derive(Debug, Clone, Default)]
pub(crate) struct Moments {
    pub m: Vec<Option<Tensor>>,
    pub v: Vec<Option<Tensor>>,
    pub t: Vec<u64>,
}

impl Moments {
    pub fn new(n: usize) -> Self {
        Moments {
            m: vec![None; n],
            v: vec![None; n],
            t: vec![0; n],
        }
    }

    /// Updates moments of parameter `i` with gradient `g`; returns the new step count.
    pub fn update(&mut self, i: usize, g: &Tensor, beta1: f64, beta2: f64) -> Result<u64> {
        if fused::fusable(g) {
            fused::update_moments(&mut self.m[i], &mut self.v[i], g, beta1, beta2)?;
            self.t[i] += 1;
            return Ok(self.t[i]);
        }
        let m = match &self.m[i] {
            Some(m) => ((m * beta1)? + (g * (1.0 - beta1))?)?,
            None => (g * (1.0 - beta1))?,
        };
        let g2 = g.sqr()?;
        let v = match &self.v[i] {
            Some(v) => ((v * beta2)? + (g2 * (1.0 - beta2))?)?,
            None => (g2 * (1.0 - beta2))?,
        };
        self.m[i] = Some(m);
        self.v[i] = Some(v);
        self.t[i] += 1;
        Ok(self.t[i])
    }

    pub fn state_tensors(&self, params: &ParamSet) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::new();
        for (i, p) in params.iter().enumerate() {
            if let (Some(m), Some(v)) = (&self.m[i], &self.v[i]) {
                // Copies: the fused path updates moments in place after this returns.
                out.push((format!("m/{}", p.name), m.copy()?));
                out.push((format!("v/{}", p.name), v.copy()?));
                let t = Tensor::new(&[self.t[i] as i64], m.device())?;
                out.push((format!("t/{}", p.name), t));
            }
        }
        Ok(out)
    }

    pub fn load_state(
        &mut self,
        params: &ParamSet,
        tensors: &HashMap<String, Tensor>,
    ) -> Result<()> {
        *self = Moments::new(params.len());
        for (i, p) in params.iter().enumerate() {
            let m = tensors.get(&format!("m/{}", p.name));
            let v = tensors.get(&format!("v/{}", p.name));
            let t = tensors.get(&format!("t/{}", p.name));
            match (m, v, t) {
                (Some(m), Some(v), Some(t)) => {
                    let shape = p.var.shape();
                    if m.shape() != shape || v.shape() != shape {
                        return Err(crate::error::TrainError::Config(format!(
                            "optimizer state for {} has shape {:?}, parameter has {:?}",
                            p.name,
                            m.shape(),
                            shape
                        )));
                    }
                    let dev = p.var.device();
                    // Own copies: the fused path updates moments in place.
                    self.m[i] = Some(m.to_device(dev)?.copy()?);
                    self.v[i] = Some(v.to_device(dev)?.copy()?);
                    let steps: Vec<i64> = t.to_dtype(candle_core::DType::I64)?.to_vec1()?;
                    self.t[i] = steps.first().copied().unwrap_or(0).max(0) as u64;
                }
                (None, None, None) => {}
                _ => {
                    return Err(crate::error::TrainError::Config(format!(
                        "optimizer state for {} is incomplete",
                        p.name
                    )))
                }
            }
        }
        Ok(())
    }
}
