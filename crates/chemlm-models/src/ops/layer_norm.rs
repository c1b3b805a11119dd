//! Layer normalisation over the last dimension (biased variance, as PyTorch).

use candle_core::{Result, Tensor, D};

/// Reference layer norm from differentiable primitives.
pub fn layer_norm_composed(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let xc = x.broadcast_sub(&mean)?;
    let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
    let xhat = xc.broadcast_div(&(var + eps)?.sqrt()?)?;
    xhat.broadcast_mul(gamma)?.broadcast_add(beta)
}

/// Layer norm: fused kernel on CPU when enabled, else the composed reference. Half-precision
/// inputs are normalised in f32; under autocast the result comes back in the compute dtype
/// (see [`crate::precision`]).
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<Tensor> {
    use crate::precision::{cast, cast_like, upcast};
    let (x, out_dtype) = upcast(x)?;
    let (gamma, beta) = (cast_like(gamma, &x)?, cast_like(beta, &x)?);
    let y = if super::use_fused(&x) {
        super::fused::layer_norm(&x, &gamma, &beta, eps)?
    } else {
        layer_norm_composed(&x, &gamma, &beta, eps)?
    };
    cast(&y.to_dtype(out_dtype)?)
}

/// A layer norm's weights, named as in Hugging Face checkpoints (`weight`, `bias`).
#[derive(Clone, Debug)]
pub struct LayerNorm {
    pub gamma: Tensor,
    pub beta: Tensor,
    pub eps: f64,
}

impl LayerNorm {
    /// `vb.pp(name)` holding `weight` (init 1) and `bias` (init 0).
    pub fn new(size: usize, eps: f64, vb: candle_nn::VarBuilder) -> Result<Self> {
        let gamma = vb.get_with_hints(size, "weight", candle_nn::Init::Const(1.0))?;
        let beta = vb.get_with_hints(size, "bias", candle_nn::Init::Const(0.0))?;
        Ok(Self { gamma, beta, eps })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        layer_norm(x, &self.gamma, &self.beta, self.eps)
    }
}
