//! Masked mean pooling: the molecule embedding of MoLFormer (and our default for every encoder).

use candle_core::{Result, Tensor, D};

/// Mean of `hidden` `[batch, seq, dim]` over positions where `mask` `[batch, seq]` is 1.
/// A row with no real token gives zeros (denominator clamped, as MoLFormer's `masked_avg_pool1d`).
///
/// Half-precision hidden states (autocast) are averaged in f32 and the embedding returned in f32:
/// it is what users store and compare.
pub fn masked_mean(hidden: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let (hidden, _) = crate::precision::upcast(hidden)?;
    let hidden = &hidden;
    let m = super::mask::mask_to_f32(mask)?
        .to_dtype(hidden.dtype())?
        .unsqueeze(D::Minus1)?;
    let summed = hidden.broadcast_mul(&m)?.sum(1)?;
    let count = m.sum(1)?.clamp(1e-9, f64::MAX)?;
    summed.broadcast_div(&count)
}
