//! Differentiable building-block operations.
//!
//! candle 0.11's stock `LayerNorm` (contiguous input with bias), `RmsNorm`, `ops::softmax_last_dim`
//! and `rotary_emb::rope*` run fused kernels that record no backward op, so training through them
//! silently gets no gradient. Everything here is either composed from differentiable primitives
//! (`*_composed`, the reference) or a fused multi-threaded `CustomOp` with its own backward
//! ([`fused`]); [`set_fused`] chooses which one the models use. Finite-difference tests guard both.

pub mod attention;
pub mod cross_entropy;
pub mod decode_attention;
pub mod dropout;
pub mod fused;
pub mod gelu;
pub mod layer_norm;
pub mod linear_attention;
pub mod rms_norm;
pub mod rotary;
pub mod softmax;

pub use gelu::{gelu_erf, gelu_erf_composed, gelu_tanh, gelu_tanh_composed, Activation};
pub use layer_norm::{layer_norm, layer_norm_composed};
pub use rms_norm::{rms_norm, rms_norm_composed, RmsNorm};
pub use rotary::Rotary;
pub use softmax::{softmax_last_dim, softmax_last_dim_composed};

use std::sync::atomic::{AtomicBool, Ordering};

static FUSED: AtomicBool = AtomicBool::new(true);

/// Use the fused CPU kernels (default) or the composed reference ops. Global because it is a
/// process-wide speed switch, not a modelling choice; results agree to float rounding.
pub fn set_fused(on: bool) {
    FUSED.store(on, Ordering::Relaxed);
}

/// Whether fused kernels are enabled.
pub fn fused_enabled() -> bool {
    FUSED.load(Ordering::Relaxed)
}

/// Fused kernels apply to contiguous-or-not f32/f64 CPU tensors; anything else (CUDA, f16)
/// takes the composed path.
pub(crate) fn use_fused(x: &candle_core::Tensor) -> bool {
    fused_enabled()
        && x.device().is_cpu()
        && matches!(x.dtype(), candle_core::DType::F32 | candle_core::DType::F64)
}
