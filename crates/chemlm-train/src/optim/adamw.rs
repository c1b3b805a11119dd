//! AdamW, matching `torch.optim.AdamW` (decoupled decay applied before the Adam step).

use super::{Moments, Optimizer, ParamSet};
use crate::error::Result;
use candle_core::Tensor;
use std::collections::HashMap;

/// AdamW hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWConfig {
    /// First-moment decay (0.9).
    pub beta1: f64,
    /// Second-moment decay (0.999).
    pub beta2: f64,
    /// Denominator epsilon (1e-8).
    pub eps: f64,
    /// Decoupled weight decay (0.01), only for parameters with `decay`.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// AdamW: `p ← p(1 − lr·wd)`, then `p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)`.
#[derive(Debug, Clone)]
pub struct AdamW {
    cfg: AdamWConfig,
    moments: Moments,
}

impl AdamW {
    /// State for `n` parameters.
    pub fn new(cfg: AdamWConfig, n: usize) -> Self {
        AdamW {
            cfg,
            moments: Moments::new(n),
        }
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, params: &ParamSet, grads: &[Option<Tensor>], lr: f64) -> Result<()> {
        let c = self.cfg;
        for (i, (p, g)) in params.iter().zip(grads).enumerate() {
            let Some(g) = g else { continue };
            let t = self.moments.update(i, g, c.beta1, c.beta2)? as i32;
            if super::fused::fusable(g) && super::fused::fusable(p.var.as_tensor()) {
                if let (Some(m), Some(v)) = (&self.moments.m[i], &self.moments.v[i]) {
                    let wd = if p.decay { c.weight_decay } else { 0.0 };
                    super::fused::adamw_update(
                        p.var.as_tensor(),
                        m,
                        v,
                        lr,
                        wd,
                        c.beta1.powi(t),
                        c.beta2.powi(t),
                        c.eps,
                    )?;
                    continue;
                }
            }
            let mut w = p.var.as_tensor().clone();
            if p.decay && c.weight_decay != 0.0 {
                w = (w * (1.0 - lr * c.weight_decay))?;
            }
            let bc1 = 1.0 - c.beta1.powi(t);
            let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
            let (Some(m), Some(v)) = (&self.moments.m[i], &self.moments.v[i]) else {
                continue;
            };
            let denom = ((v.sqrt()? / bc2_sqrt)? + c.eps)?;
            let update = (m.div(&denom)? * (lr / bc1))?;
            p.var.set(&(w - update)?)?;
        }
        Ok(())
    }

    fn state_tensors(&self, params: &ParamSet) -> Result<Vec<(String, Tensor)>> {
        self.moments.state_tensors(params)
    }

    fn load_state(&mut self, params: &ParamSet, tensors: &HashMap<String, Tensor>) -> Result<()> {
        self.moments.load_state(params, tensors)
    }

    fn name(&self) -> &'static str {
        "adamw"
    }
}
