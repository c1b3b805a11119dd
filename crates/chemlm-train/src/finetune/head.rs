//! The prediction head: `dropout → Linear(dim, hidden) → GELU → dropout → Linear(hidden, tasks)`
//! on the pooled embedding (the shape of MoLFormer's fine-tuning `Net`, minus its skip).
//!
//! Weights are plain `Var`s initialised like PyTorch's `nn.Linear` (uniform ±1/√fan_in) from a
//! seeded ChaCha stream, and dropout masks come from a second stream, because candle's own
//! initialisers and dropout draw from an unseeded generator and would make runs irreproducible.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{FinetuneError, Result};

/// Shape and regularisation of the head.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadConfig {
    /// Input width (the encoder's hidden size).
    pub n_in: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Outputs (one logit / standardised value per task).
    pub n_out: usize,
    /// Dropout probability on the input and the hidden layer.
    pub dropout: f64,
}

/// The head's parameters. Names (`head.fc1.weight`, …) are what `head.safetensors` stores.
pub struct Head {
    pub config: HeadConfig,
    pub w1: Var,
    pub b1: Var,
    pub w2: Var,
    pub b2: Var,
}

fn uniform(
    rng: &mut ChaCha8Rng,
    fan_in: usize,
    shape: (usize, usize),
    dev: &Device,
) -> Result<Var> {
    let b = 1.0 / (fan_in as f32).sqrt();
    let v: Vec<f32> = (0..shape.0 * shape.1)
        .map(|_| rng.gen_range(-b..b))
        .collect();
    Ok(Var::from_tensor(&Tensor::from_vec(v, shape, dev)?)?)
}

impl Head {
    /// A freshly initialised head (seeded).
    pub fn new(config: HeadConfig, seed: u64, dev: &Device) -> Result<Self> {
        if config.n_in == 0 || config.hidden == 0 || config.n_out == 0 {
            return Err(FinetuneError::Invalid(format!("bad head shape {config:?}")));
        }
        if !(0.0..1.0).contains(&config.dropout) {
            return Err(FinetuneError::Invalid(format!(
                "dropout must be in [0, 1), got {}",
                config.dropout
            )));
        }
        let mut rng = crate::rng::derived_rng(seed, 0x4845_4144);
        let w1 = uniform(&mut rng, config.n_in, (config.hidden, config.n_in), dev)?;
        let b1 = uniform(&mut rng, config.n_in, (1, config.hidden), dev)?;
        let w2 = uniform(&mut rng, config.hidden, (config.n_out, config.hidden), dev)?;
        let b2 = uniform(&mut rng, config.hidden, (1, config.n_out), dev)?;
        Ok(Self {
            config,
            w1,
            b1,
            w2,
            b2,
        })
    }

    /// `(name, var)` pairs for an optimizer.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        vec![
            ("head.fc1.weight".into(), self.w1.clone()),
            ("head.fc1.bias".into(), self.b1.clone()),
            ("head.fc2.weight".into(), self.w2.clone()),
            ("head.fc2.bias".into(), self.b2.clone()),
        ]
    }

    /// Outputs `[batch, n_out]` for pooled embeddings `x` `[batch, n_in]`. `dropout_rng` set =
    /// training (inverted dropout with masks from that stream), `None` = inference.
    pub fn forward(&self, x: &Tensor, dropout_rng: Option<&mut ChaCha8Rng>) -> Result<Tensor> {
        let p = self.config.dropout;
        let mut rng = dropout_rng;
        let mut drop = |t: Tensor| -> Result<Tensor> {
            match rng.as_deref_mut() {
                Some(r) if p > 0.0 => {
                    let keep = 1.0 - p;
                    let n = t.elem_count();
                    let m: Vec<f32> = (0..n)
                        .map(|_| {
                            if r.gen::<f64>() < keep {
                                (1.0 / keep) as f32
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    let m = Tensor::from_vec(m, t.shape(), t.device())?;
                    Ok(t.mul(&m)?)
                }
                _ => Ok(t),
            }
        };
        let x = drop(x.to_dtype(DType::F32)?)?;
        let h = x
            .matmul(&self.w1.as_tensor().t()?)?
            .broadcast_add(self.b1.as_tensor())?;
        let h = drop(h.gelu_erf()?)?;
        Ok(h.matmul(&self.w2.as_tensor().t()?)?
            .broadcast_add(self.b2.as_tensor())?)
    }

    /// Current weights, copied (a snapshot for early stopping).
    pub fn snapshot(&self) -> Result<Vec<Tensor>> {
        Ok(self
            .named_vars()
            .iter()
            .map(|(_, v)| v.as_tensor().copy())
            .collect::<candle_core::Result<_>>()?)
    }

    /// Restores a [`Head::snapshot`].
    pub fn restore(&self, snap: &[Tensor]) -> Result<()> {
        for ((_, v), t) in self.named_vars().iter().zip(snap) {
            v.set(t)?;
        }
        Ok(())
    }

    /// Writes `head.safetensors`-style weights atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let map: HashMap<String, Tensor> = self
            .named_vars()
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().clone()))
            .collect();
        chemlm_fs::write_via_path(path, false, |tmp| -> Result<()> {
            Ok(candle_core::safetensors::save(&map, tmp)?)
        })
    }

    /// Loads weights saved by [`Head::save`], checking every shape against `config`.
    pub fn load(config: HeadConfig, path: &Path, dev: &Device) -> Result<Self> {
        let map = candle_core::safetensors::load(path, dev).map_err(|e| FinetuneError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let head = Head::new(config, 0, dev)?;
        for (name, var) in head.named_vars() {
            let t = map.get(&name).ok_or_else(|| FinetuneError::File {
                path: path.to_path_buf(),
                reason: format!("missing tensor {name}"),
            })?;
            if t.shape() != var.shape() {
                return Err(FinetuneError::File {
                    path: path.to_path_buf(),
                    reason: format!(
                        "{name} has shape {:?}, the head config needs {:?}",
                        t.dims(),
                        var.dims()
                    ),
                });
            }
            var.set(&t.to_dtype(DType::F32)?)?;
        }
        Ok(head)
    }
}

/// A seeded dropout stream for one training step.
pub fn dropout_rng(seed: u64, step: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x6472_6f70);
    r.set_stream(step);
    r
}
