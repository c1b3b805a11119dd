//! LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning", Algorithm 2).
//!
//! Per parameter tensor: Adam direction with bias correction `r = m̂ / (√v̂ + ε)`, plus decoupled
//! decay `u = r + λ·w` (λ = 0 for parameters the decay rule excludes), then a layer-wise trust
//! ratio `‖w‖ / ‖u‖` (1 when either norm is 0, φ = identity, optionally capped) scales the step:
//! `w ← w − lr · trust · u`. The trust ratio applies to every tensor, as in the paper.

use super::{Moments, Optimizer, ParamSet};
use crate::error::Result;
use candle_core::{DType, Tensor};
use std::collections::HashMap;

/// LAMB hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LambConfig {
    /// First-moment decay (0.9).
    pub beta1: f64,
    /// Second-moment decay (0.999).
    pub beta2: f64,
    /// Denominator epsilon (1e-6, as in the paper's BERT runs).
    pub eps: f64,
    /// Decoupled weight decay (0.01).
    pub weight_decay: f64,
    /// Optional upper bound on the trust ratio (the paper's φ clipping); `None` = identity.
    pub max_trust_ratio: Option<f64>,
}

impl Default for LambConfig {
    fn default() -> Self {
        LambConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-6,
            weight_decay: 0.01,
            max_trust_ratio: None,
        }
    }
}

/// The LAMB optimizer.
#[derive(Debug, Clone)]
pub struct Lamb {
    cfg: LambConfig,
    moments: Moments,
}

impl Lamb {
    /// State for `n` parameters.
    pub fn new(cfg: LambConfig, n: usize) -> Self {
        Lamb {
            cfg,
            moments: Moments::new(n),
        }
    }
}

fn l2_norm(t: &Tensor) -> Result<f64> {
    Ok(t.to_dtype(DType::F32)?
        .sqr()?
        .sum_all()?
        .to_scalar::<f32>()?
        .sqrt() as f64)
}

/// `‖w‖ / ‖u‖` (1 when either is 0), optionally capped.
fn trust_ratio(w_norm: f64, u_norm: f64, cap: Option<f64>) -> f64 {
    let trust = if w_norm > 0.0 && u_norm > 0.0 {
        w_norm / u_norm
    } else {
        1.0
    };
    match cap {
        Some(c) => trust.min(c),
        None => trust,
    }
}

impl Optimizer for Lamb {
    fn step(&mut self, params: &ParamSet, grads: &[Option<Tensor>], lr: f64) -> Result<()> {
        let c = self.cfg;
        for (i, (p, g)) in params.iter().zip(grads).enumerate() {
            let Some(g) = g else { continue };
            let t = self.moments.update(i, g, c.beta1, c.beta2)? as i32;
            let (Some(m), Some(v)) = (&self.moments.m[i], &self.moments.v[i]) else {
                continue;
            };
            let bc1 = 1.0 - c.beta1.powi(t);
            let bc2 = 1.0 - c.beta2.powi(t);
            let w = p.var.as_tensor();
            if super::fused::fusable(g) && super::fused::fusable(w) {
                let wd = if p.decay { c.weight_decay } else { 0.0 };
                let (inv1, inv2) = (1.0 / bc1, 1.0 / bc2);
                let (w_norm, u_norm) = super::fused::lamb_norms(w, m, v, inv1, inv2, c.eps, wd)?;
                let trust = trust_ratio(w_norm, u_norm, c.max_trust_ratio);
                super::fused::lamb_update(w, m, v, inv1, inv2, c.eps, wd, lr * trust)?;
                continue;
            }
            let m_hat = (m / bc1)?;
            let v_hat = (v / bc2)?;
            let mut u = m_hat.div(&(v_hat.sqrt()? + c.eps)?)?;
            if p.decay && c.weight_decay != 0.0 {
                u = (u + (w * c.weight_decay)?)?;
            }
            let trust = trust_ratio(l2_norm(w)?, l2_norm(&u)?, c.max_trust_ratio);
            p.var.set(&(w - (u * (lr * trust))?)?)?;
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
        "lamb"
    }
}
