//! Gradient clipping by global norm, as `torch.nn.utils.clip_grad_norm_`.

use crate::error::Result;
use candle_core::{DType, Tensor};

/// The L2 norm of all gradients together.
pub fn global_grad_norm(grads: &[Option<Tensor>]) -> Result<f64> {
    let mut total = 0f64;
    for g in grads.iter().flatten() {
        total += if super::fused::fusable(g) {
            super::fused::sum_squares(g)?
        } else {
            g.to_dtype(DType::F32)?
                .sqr()?
                .sum_all()?
                .to_scalar::<f32>()? as f64
        };
    }
    Ok(total.sqrt())
}

/// Scales `grads` so their global norm is at most `max_norm` (coefficient
/// `max_norm / (norm + 1e-6)`, applied only when below 1, as PyTorch does). Returns the norm
/// before clipping.
pub fn clip_grad_norm(grads: &mut [Option<Tensor>], max_norm: f64) -> Result<f64> {
    let norm = global_grad_norm(grads)?;
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        for g in grads.iter_mut().flatten() {
            *g = (&*g * coef)?;
        }
    }
    Ok(norm)
}
