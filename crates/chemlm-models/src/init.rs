//! Deterministic weight initialisation.
//!
//! candle's CPU device cannot be seeded (`Device::set_seed` fails on CPU), so `VarMap`-built models
//! would get different weights on every run. [`SeededBackend`] is a `VarBuilder` backend that fills
//! new variables from a ChaCha stream and registers them in a `VarMap`: the same config and seed give
//! bit-identical weights, which the trainer's reproducibility and resume tests rely on.
//! [`ShapeRecorder`] builds a model without allocating weights, to count parameters of big presets.

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, Mutex};

/// Standard normal samples by Box–Muller (rand 0.8 core has no normal distribution).
pub(crate) fn normal_samples(rng: &mut ChaCha8Rng, n: usize, mean: f64, std: f64) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let u1: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = rng.gen::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * u2;
        out.push((mean + std * r * t.cos()) as f32);
        if out.len() < n {
            out.push((mean + std * r * t.sin()) as f32);
        }
    }
    out
}

fn init_values(rng: &mut ChaCha8Rng, init: &Init, shape: &Shape) -> Vec<f32> {
    let n = shape.elem_count();
    match init {
        Init::Const(c) => vec![*c as f32; n],
        Init::Randn { mean, stdev } => normal_samples(rng, n, *mean, *stdev),
        Init::Uniform { lo, up } => (0..n).map(|_| rng.gen_range(*lo..*up) as f32).collect(),
        Init::Kaiming { .. } => {
            // We never ask for Kaiming; fall back to a BERT-like N(0, 0.02).
            normal_samples(rng, n, 0.0, 0.02)
        }
    }
}

/// `VarBuilder` backend: seeded initialisation into a shared `VarMap`.
pub struct SeededBackend {
    varmap: VarMap,
    rng: Mutex<ChaCha8Rng>,
    /// Checkpoint tensors by name: a variable found here with the requested shape starts as a
    /// copy of it instead of a random draw (loading a 47 M-parameter model then skips 47 M normal
    /// samples).
    prefill: Option<Arc<std::collections::HashMap<String, Tensor>>>,
}

impl SeededBackend {
    /// A `VarBuilder` whose new variables are drawn from `seed` and stored in `varmap`.
    pub fn var_builder(
        varmap: &VarMap,
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> VarBuilder<'static> {
        Self::var_builder_prefilled(varmap, seed, None, dtype, device)
    }

    /// [`SeededBackend::var_builder`] whose variables start from `prefill` where it holds them
    /// (same name and shape); the rest are drawn from `seed`.
    pub fn var_builder_prefilled(
        varmap: &VarMap,
        seed: u64,
        prefill: Option<Arc<std::collections::HashMap<String, Tensor>>>,
        dtype: DType,
        device: &Device,
    ) -> VarBuilder<'static> {
        let backend = SeededBackend {
            varmap: varmap.clone(),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            prefill,
        };
        VarBuilder::from_backend(Box::new(backend), dtype, device.clone())
    }
}

impl candle_nn::var_builder::SimpleBackend for SeededBackend {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut data = self
            .varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("varmap lock poisoned".into()))?;
        if let Some(v) = data.get(name) {
            if v.shape() != &s {
                candle_core::bail!(
                    "variable {name} requested with shape {s:?}, exists as {:?}",
                    v.shape()
                );
            }
            return Ok(v.as_tensor().clone());
        }
        if let Some(src) = self
            .prefill
            .as_ref()
            .and_then(|p| p.get(name))
            .filter(|t| t.shape() == &s)
        {
            let var = Var::from_tensor(&src.to_device(dev)?.to_dtype(dtype)?)?;
            let out = var.as_tensor().clone();
            data.insert(name.to_string(), var);
            return Ok(out);
        }
        let values = {
            let mut rng = self
                .rng
                .lock()
                .map_err(|_| candle_core::Error::Msg("rng lock poisoned".into()))?;
            init_values(&mut rng, &h, &s)
        };
        let t = Tensor::from_vec(values, s, dev)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&t)?;
        let out = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        let data = self
            .varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("varmap lock poisoned".into()))?;
        match data.get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("variable {name} not found"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.varmap
            .data()
            .lock()
            .map(|d| d.contains_key(name))
            .unwrap_or(false)
    }
}

/// `VarBuilder` backend that records `(name, element count)` and hands out zero-stride tensors, so a
/// 47 M-parameter model can be "built" in microseconds to count its parameters from real shapes.
type Seen = Arc<Mutex<Vec<(String, Vec<usize>)>>>;

#[derive(Clone, Default)]
pub struct ShapeRecorder {
    seen: Seen,
}

impl ShapeRecorder {
    /// A new empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// A `VarBuilder` feeding this recorder.
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), dtype, device.clone())
    }

    /// Every distinct tensor requested, in first-request order.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl candle_nn::var_builder::SimpleBackend for ShapeRecorder {
    fn get(&self, s: Shape, name: &str, _h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        if let Ok(mut seen) = self.seen.lock() {
            if !seen.iter().any(|(n, _)| n == name) {
                seen.push((name.to_string(), s.dims().to_vec()));
            }
        }
        Tensor::zeros((), dtype, dev)?.broadcast_as(s)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        candle_core::bail!("shape recorder cannot serve unchecked tensor {name}")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.seen
            .lock()
            .map(|s| s.iter().any(|(n, _)| n == name))
            .unwrap_or(false)
    }
}
