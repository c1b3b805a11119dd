//! Attention masks as additive biases (0 = attend, large negative = blocked).

use candle_core::{DType, Device, Result, Tensor};

/// Large negative used for blocked positions. Finite (not -inf) so a fully blocked row (a padding
/// query) still gives a finite, ignored softmax; exp underflows to exactly 0 for real rows, so
/// padding cannot leak into real tokens.
pub const BLOCKED: f32 = -1.0e9;

/// `[batch, seq]` 1/0 mask (u8, u32, i64 or float) to f32 in {0, 1}.
pub fn mask_to_f32(mask: &Tensor) -> Result<Tensor> {
    mask.to_dtype(DType::F32)?.ne(0f32)?.to_dtype(DType::F32)
}

/// Key-padding bias `[batch, 1, 1, seq]` from a `[batch, seq]` 1/0 mask.
pub fn padding_bias(mask: &Tensor, dtype: DType) -> Result<Tensor> {
    let m = mask_to_f32(mask)?;
    let (b, s) = m.dims2()?;
    ((m - 1.0)? * (-(BLOCKED as f64)))?
        .reshape((b, 1, 1, s))?
        .to_dtype(dtype)
}

/// Causal bias `[1, 1, q_len, k_len]` for queries at positions `offset..offset+q_len` over keys
/// `0..k_len`; with `window = Some(w)` a query at i also cannot see keys at or before `i - w`
/// (GPT-Neo's local attention: `tril(ones) xor tril(ones, -w)`).
pub fn causal_bias(
    q_len: usize,
    k_len: usize,
    offset: usize,
    window: Option<usize>,
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    let mut v = Vec::with_capacity(q_len * k_len);
    for qi in 0..q_len {
        let i = qi + offset;
        for j in 0..k_len {
            let visible = j <= i && window.is_none_or(|w| j + w > i);
            v.push(if visible { 0.0f32 } else { BLOCKED });
        }
    }
    Tensor::from_vec(v, (1, 1, q_len, k_len), device)?.to_dtype(dtype)
}
