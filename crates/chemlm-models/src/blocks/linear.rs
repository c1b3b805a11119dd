//! A dense layer that flattens leading dimensions to one 2-D matmul.
//!
//! candle_nn's `Linear` broadcasts the weight to a batch of matmuls for 3-D inputs; a single
//! `[tokens, in] x [in, out]` GEMM is faster and its backward is two plain GEMMs.

use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// `y = x W^T + b`, weights `[out, in]` as in PyTorch/Hugging Face checkpoints.
#[derive(Clone, Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// `vb` holds `weight` (N(0, std)) and, if `bias`, `bias` (zeros).
    pub fn new(
        in_dim: usize,
        out_dim: usize,
        bias: bool,
        std: f64,
        vb: VarBuilder,
    ) -> Result<Self> {
        let weight = vb.get_with_hints(
            (out_dim, in_dim),
            "weight",
            Init::Randn {
                mean: 0.0,
                stdev: std,
            },
        )?;
        let bias = if bias {
            Some(vb.get_with_hints(out_dim, "bias", Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Self { weight, bias })
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.weight.dims()[0]
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let in_dim = dims.last().copied().unwrap_or(0);
        let rows = x.elem_count() / in_dim.max(1);
        // Under autocast both sides meet in the compute dtype (see [`crate::precision`]).
        let x2 = crate::precision::cast(&x.reshape((rows, in_dim))?)?;
        let mut y = x2.matmul(&crate::precision::cast(&self.weight)?.t()?)?;
        if let Some(b) = &self.bias {
            let b = crate::precision::cast(b)?;
            y = if crate::ops::use_fused(&y) {
                crate::ops::fused::bias_add(&y, &b)?
            } else {
                y.broadcast_add(&b)?
            };
        }
        let mut out_dims = dims;
        if let Some(last) = out_dims.last_mut() {
            *last = self.out_dim();
        }
        y.reshape(out_dims)
    }
}
