//! Exponential moving average of the weights.
//!
//! After every optimizer step the shadow weights move toward the current ones,
//! `s ← d·s + (1 − d)·w` with `d = min(decay, (1 + n)/(10 + n))` after `n` updates (torch_ema's
//! `use_num_updates` warm-up, so the average is not stuck at the random initialisation).
//! Validation, `best/` and the final model use the averaged weights: [`Ema::swap`] exchanges them
//! with the live ones and a second call swaps back.

use crate::error::{FfError, FfResult};
use candle_core::Tensor;
use chemlm_train::optim::ParamSet;
use std::collections::HashMap;

/// Shadow weights aligned with a [`ParamSet`].
#[derive(Debug, Clone)]
pub struct Ema {
    decay: f64,
    num_updates: u64,
    shadow: Vec<Tensor>,
}

impl Ema {
    /// Starts the average at the current weights.
    pub fn new(params: &ParamSet, decay: f64) -> FfResult<Self> {
        let shadow = params
            .iter()
            .map(|p| p.var.as_tensor().copy())
            .collect::<candle_core::Result<_>>()?;
        Ok(Ema {
            decay,
            num_updates: 0,
            shadow,
        })
    }

    /// The configured decay.
    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// Updates performed.
    pub fn num_updates(&self) -> u64 {
        self.num_updates
    }

    /// One update after an optimizer step.
    pub fn update(&mut self, params: &ParamSet) -> FfResult<()> {
        self.num_updates += 1;
        let n = self.num_updates as f64;
        let d = self.decay.min((1.0 + n) / (10.0 + n));
        for (s, p) in self.shadow.iter_mut().zip(params.iter()) {
            *s = ((&*s * d)? + (p.var.as_tensor() * (1.0 - d))?)?;
        }
        Ok(())
    }

    /// Exchanges live and shadow weights (call again to undo).
    pub fn swap(&mut self, params: &ParamSet) -> FfResult<()> {
        for (s, p) in self.shadow.iter_mut().zip(params.iter()) {
            let live = p.var.as_tensor().copy()?;
            p.var.set(s)?;
            *s = live;
        }
        Ok(())
    }

    /// Shadow tensors keyed by parameter name, plus the update count, for a checkpoint.
    pub fn state_tensors(&self, params: &ParamSet) -> FfResult<HashMap<String, Tensor>> {
        let mut map: HashMap<String, Tensor> = params
            .iter()
            .zip(&self.shadow)
            .map(|(p, s)| (p.name.clone(), s.clone()))
            .collect();
        let device = self.shadow.first().map(|t| t.device().clone());
        if let Some(dev) = device {
            map.insert(
                NUM_UPDATES_KEY.to_string(),
                Tensor::new(&[self.num_updates as i64], &dev)?,
            );
        }
        Ok(map)
    }

    /// Restores what [`state_tensors`](Self::state_tensors) saved.
    pub fn load_state(&mut self, params: &ParamSet, map: &HashMap<String, Tensor>) -> FfResult<()> {
        for (s, p) in self.shadow.iter_mut().zip(params.iter()) {
            let t = map
                .get(&p.name)
                .ok_or_else(|| FfError::Invalid(format!("EMA state lacks {}", p.name)))?;
            if t.shape() != p.var.shape() {
                return Err(FfError::Invalid(format!(
                    "EMA state {} has shape {:?}, the parameter {:?}",
                    p.name,
                    t.shape(),
                    p.var.shape()
                )));
            }
            *s = t.to_device(p.var.device())?.to_dtype(p.var.dtype())?;
        }
        if let Some(n) = map.get(NUM_UPDATES_KEY) {
            let v: Vec<i64> = n.to_vec1()?;
            self.num_updates = v.first().copied().unwrap_or(0).max(0) as u64;
        }
        Ok(())
    }
}

const NUM_UPDATES_KEY: &str = "__ema_num_updates";
