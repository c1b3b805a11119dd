//! Feature maps for linear attention.
//!
//! * `GeneralizedRandom`: MoLFormer's map (fast-transformers `GeneralizedRandomFeatures`, Hugging
//!   Face `MolformerFeatureMap`): `phi(x) = relu(x W)` with `W` `[head_dim, m]` built from blocks
//!   of orthogonal matrices (QR of a Gaussian block) scaled by the Gaussian rows' norms; 32 features
//!   as released. Redrawn at every training forward, fixed at eval (and saved with the model, so a
//!   loaded model reproduces its eval outputs).
//! * `Elu`: the deterministic `elu(x) + 1` map of "Transformers are RNNs".

use super::dropout::ModelRng;
use candle_core::{DType, Device, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// Which feature map a linear-attention layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureMapKind {
    GeneralizedRandom,
    Elu,
}

/// A feature map with its (for random maps) current projection.
#[derive(Debug, Clone)]
pub struct FeatureMap {
    kind: FeatureMapKind,
    head_dim: usize,
    features: usize,
    weight: Option<Arc<Mutex<Tensor>>>,
    rng: ModelRng,
}

/// Orthogonal random projection `[dim, m]` as in Hugging Face MoLFormer's
/// `orthogonal_random_weights`: ceil(m/dim) blocks `Q * ||G rows||` with `G` Gaussian, `Q` from
/// Gram–Schmidt QR of `G`, concatenated along columns and cut to `m`.
pub fn orthogonal_random_weights(
    rng: &mut rand_chacha::ChaCha8Rng,
    dim: usize,
    m: usize,
) -> Vec<f32> {
    let blocks = m.div_ceil(dim);
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(blocks * dim); // each column, length dim
    for _ in 0..blocks {
        let g: Vec<f64> = crate::init::normal_samples(rng, dim * dim, 0.0, 1.0)
            .into_iter()
            .map(f64::from)
            .collect();
        // row norms of G (torch.linalg.norm(block, dim=1)) scale the columns of Q.
        let norms: Vec<f64> = (0..dim)
            .map(|r| (0..dim).map(|c| g[r * dim + c].powi(2)).sum::<f64>().sqrt())
            .collect();
        let mut q: Vec<Vec<f64>> = Vec::with_capacity(dim);
        for c in 0..dim {
            let mut v: Vec<f64> = (0..dim).map(|r| g[r * dim + c]).collect();
            for u in &q {
                let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
                for (vi, ui) in v.iter_mut().zip(u) {
                    *vi -= dot * ui;
                }
            }
            let n = v.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-12);
            for vi in v.iter_mut() {
                *vi /= n;
            }
            q.push(v);
        }
        for (c, col) in q.into_iter().enumerate() {
            cols.push(col.into_iter().map(|x| x * norms[c]).collect());
        }
    }
    let mut out = vec![0f32; dim * m];
    for r in 0..dim {
        for c in 0..m {
            out[r * m + c] = cols[c][r] as f32;
        }
    }
    out
}

impl FeatureMap {
    /// A map for `head_dim`-wide heads; `features` is ignored for `Elu` (its width is `head_dim`).
    pub fn new(
        kind: FeatureMapKind,
        head_dim: usize,
        features: usize,
        rng: ModelRng,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let weight = match kind {
            FeatureMapKind::GeneralizedRandom => {
                let w = rng.with(|r| orthogonal_random_weights(r, head_dim, features))?;
                let t = Tensor::from_vec(w, (head_dim, features), device)?.to_dtype(dtype)?;
                Some(Arc::new(Mutex::new(t)))
            }
            FeatureMapKind::Elu => None,
        };
        Ok(Self {
            kind,
            head_dim,
            features,
            weight,
            rng,
        })
    }

    pub fn kind(&self) -> FeatureMapKind {
        self.kind
    }

    /// Width of the mapped features.
    pub fn out_dim(&self) -> usize {
        match self.kind {
            FeatureMapKind::GeneralizedRandom => self.features,
            FeatureMapKind::Elu => self.head_dim,
        }
    }

    /// The current random projection (a buffer, not a trainable weight), if any.
    pub fn weight(&self) -> Result<Option<Tensor>> {
        match &self.weight {
            Some(w) => Ok(Some(
                w.lock()
                    .map_err(|_| candle_core::Error::Msg("feature map lock poisoned".into()))?
                    .clone(),
            )),
            None => Ok(None),
        }
    }

    /// Replace the projection (loading a saved model).
    pub fn set_weight(&self, t: &Tensor) -> Result<()> {
        if let Some(w) = &self.weight {
            let mut g = w
                .lock()
                .map_err(|_| candle_core::Error::Msg("feature map lock poisoned".into()))?;
            if g.dims() != t.dims() {
                candle_core::bail!(
                    "feature map weight has shape {:?}, expected {:?}",
                    t.dims(),
                    g.dims()
                );
            }
            *g = t.to_dtype(g.dtype())?.to_device(g.device())?;
        }
        Ok(())
    }

    /// Map queries and keys with the same projection; in training a fresh projection is drawn
    /// first (and kept, so eval after training uses the last one, as fast-transformers does).
    pub fn apply(&self, q: &Tensor, k: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        match self.kind {
            FeatureMapKind::Elu => Ok((elu_plus_one(q)?, elu_plus_one(k)?)),
            FeatureMapKind::GeneralizedRandom => {
                let w = match &self.weight {
                    Some(w) => w,
                    None => candle_core::bail!("random feature map without weights"),
                };
                let mut guard = w
                    .lock()
                    .map_err(|_| candle_core::Error::Msg("feature map lock poisoned".into()))?;
                if train {
                    let fresh = self
                        .rng
                        .with(|r| orthogonal_random_weights(r, self.head_dim, self.features))?;
                    *guard =
                        Tensor::from_vec(fresh, (self.head_dim, self.features), guard.device())?
                            .to_dtype(guard.dtype())?;
                }
                let wt = guard.clone();
                drop(guard);
                Ok((project_relu(q, &wt)?, project_relu(k, &wt)?))
            }
        }
    }
}

/// `elu(x) + 1`, composed so it is differentiable: `relu(x) + exp(min(x, 0))`.
pub fn elu_plus_one(x: &Tensor) -> Result<Tensor> {
    let neg = x.minimum(0.0)?;
    x.relu()? + neg.exp()?
}

/// `relu(x W)` for `x` `[b, h, n, d]` and `W` `[d, m]`.
fn project_relu(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (b, h, n, d) = x.dims4()?;
    let m = w.dim(1)?;
    x.contiguous()?
        .reshape((b * h * n, d))?
        .matmul(&crate::precision::cast_like(w, x)?)?
        .reshape((b, h, n, m))?
        .relu()
}
