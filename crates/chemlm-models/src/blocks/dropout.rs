//! Dropout driven by a seedable RNG.
//!
//! Each call draws one seed from the model's stream; the mask is a pure function of that seed
//! (`crate::ops::dropout`), so it is made in parallel and does not depend on the thread count.
//!
//! candle's `ops::dropout` draws from an unseedable thread RNG, which breaks reproducible training
//! and resume-equivalence. This one draws its masks from a ChaCha stream the model owns and the
//! trainer can reset (see `LanguageModel::set_seed`).

use candle_core::{Result, Tensor};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, Mutex};

/// Shared RNG for all stochastic parts of one model.
#[derive(Clone, Debug)]
pub struct ModelRng(Arc<Mutex<ChaCha8Rng>>);

impl ModelRng {
    pub fn new(seed: u64) -> Self {
        ModelRng(Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))))
    }

    /// Restart the stream from `seed`.
    pub fn reseed(&self, seed: u64) {
        if let Ok(mut r) = self.0.lock() {
            *r = ChaCha8Rng::seed_from_u64(seed);
        }
    }

    /// Run `f` with the RNG locked.
    pub fn with<T>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> T) -> Result<T> {
        let mut r = self
            .0
            .lock()
            .map_err(|_| candle_core::Error::Msg("model rng lock poisoned".into()))?;
        Ok(f(&mut r))
    }
}

/// Inverted dropout with probability `p`.
#[derive(Clone, Debug)]
pub struct Dropout {
    p: f64,
    rng: ModelRng,
}

impl Dropout {
    pub fn new(p: f64, rng: ModelRng) -> Self {
        Self { p, rng }
    }

    /// Identity unless `train` and `p > 0`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.p <= 0.0 {
            return Ok(x.clone());
        }
        match self.mask(train)? {
            Some(m) => crate::ops::dropout::apply(x, m),
            None => Ok(x.clone()),
        }
    }

    /// The mask of the next call (one draw from the shared stream; the mask is a function of
    /// it, see `ops::dropout`), or `None` when this dropout is off (`!train` or `p = 0`).
    /// For kernels that apply the mask themselves (fused attention).
    pub fn mask(&self, train: bool) -> Result<Option<crate::ops::dropout::DropoutMask>> {
        if !train || self.p <= 0.0 {
            return Ok(None);
        }
        let seed = self.rng.with(|r| r.next_u64())?;
        Ok(Some(crate::ops::dropout::DropoutMask::new(self.p, seed)))
    }
}
