//! Softmax over the last dimension.

use candle_core::{Result, Tensor, D};

/// Reference softmax from differentiable primitives. The max is subtracted for stability; it is
/// a constant shift, so detaching it does not change the gradient.
pub fn softmax_last_dim_composed(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    let s = e.sum_keepdim(D::Minus1)?;
    e.broadcast_div(&s)
}

/// Softmax over the last dim: fused kernel on CPU when enabled, else the composed reference.
/// Half-precision scores are exponentiated and summed in f32 and the probabilities returned in
/// the input's dtype (see [`crate::precision`]).
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    let (x, out_dtype) = crate::precision::upcast(x)?;
    let p = if super::use_fused(&x) {
        super::fused::softmax(&x)?
    } else {
        softmax_last_dim_composed(&x)?
    };
    p.to_dtype(out_dtype)
}
