//! Attention kernels on `[batch, heads, seq, head_dim]` tensors: softmax (full, causal, local via
//! the bias) and linear (kernelised, O(n)) attention.

use crate::ops::softmax_last_dim;
use candle_core::{Result, Tensor, D};

/// Context vectors and, on request, the attention map (for distillation or inspection).
#[derive(Debug, Clone)]
pub struct AttentionOutput {
    /// `[batch, heads, q_len, head_dim]`
    pub context: Tensor,
    /// `[batch, heads, q_len, k_len]`, rows summing to 1 over visible keys.
    pub probs: Option<Tensor>,
}

/// `softmax(scale * q k^T + bias) v`. `bias` broadcasts to `[batch, heads, q, k]` (padding,
/// causal and local-window masks, see [`super::mask`]); `dropout` applies to the probabilities.
pub fn softmax_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    scale: f64,
    dropout: Option<(&super::Dropout, bool)>,
    want_probs: bool,
) -> Result<AttentionOutput> {
    let mut scores = q.contiguous()?.matmul(&k.t()?.contiguous()?)?;
    if scale != 1.0 {
        scores = (scores * scale)?;
    }
    if let Some(b) = bias {
        scores = scores.broadcast_add(b)?;
    }
    let probs = softmax_last_dim(&scores)?;
    let used = match dropout {
        Some((d, train)) => d.forward(&probs, train)?,
        None => probs.clone(),
    };
    let context = used.matmul(&v.contiguous()?)?;
    Ok(AttentionOutput {
        context,
        probs: want_probs.then_some(probs),
    })
}

/// [`softmax_attention`] on the projections' own layout: queries `q` `[b, nq, heads * d]`, keys
/// and values `k`, `v` `[b, nk, heads * d]`; returns the context `[b, nq, heads * d]` (heads
/// merged) and, if `want_probs`, the map `[b, heads, nq, nk]`. On f32/f64 CPU tensors (fused ops
/// on) the fused kernels of [`crate::ops::attention`] run on the projections as they are (no head
/// split/merge copies); elsewhere heads are split and merged around [`softmax_attention`]. Both
/// paths draw the same dropout mask (one seed per call, see [`crate::ops::dropout`]).
#[allow(clippy::too_many_arguments)]
pub fn softmax_attention_merged(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    heads: usize,
    scale: f64,
    dropout: (&super::Dropout, bool),
    want_probs: bool,
) -> Result<(Tensor, Option<Tensor>)> {
    if crate::ops::use_fused(q) {
        let p = crate::ops::attention::probs(q, k, bias, heads, scale)?;
        let ctx = crate::ops::attention::context(&p, v, dropout.0.mask(dropout.1)?)?;
        return Ok((ctx, want_probs.then_some(p)));
    }
    let att = softmax_attention(
        &split_heads(q, heads)?,
        &split_heads(k, heads)?,
        &split_heads(v, heads)?,
        Some(bias),
        scale,
        Some(dropout),
        want_probs,
    )?;
    Ok((merge_heads(&att.context)?, att.probs))
}

/// Linear attention (Katharopoulos et al. 2020, as in fast-transformers' `LinearAttention` used by
/// MoLFormer): `out_i = phi(q_i) . sum_j phi(k_j) v_j^T / (phi(q_i) . sum_j phi(k_j) + eps)`.
/// `phi_q`, `phi_k` are already feature-mapped `[b, h, n, m]`; `key_mask` `[b, n]` (1 = real)
/// zeroes padded keys so padding never reaches real tokens. Cost O(n m d) instead of O(n^2 d).
/// Runs the fused kernel ([`crate::ops::linear_attention`]) when fused ops are on, the input is an
/// f32/f64 CPU tensor and no attention map is requested.
pub fn linear_attention(
    phi_q: &Tensor,
    phi_k: &Tensor,
    v: &Tensor,
    key_mask: Option<&Tensor>,
    eps: f64,
    want_probs: bool,
) -> Result<AttentionOutput> {
    if !want_probs && crate::ops::use_fused(phi_q) {
        let context =
            crate::ops::linear_attention::linear_attention(phi_q, phi_k, v, key_mask, eps)?;
        return Ok(AttentionOutput {
            context,
            probs: None,
        });
    }
    linear_attention_composed(phi_q, phi_k, v, key_mask, eps, want_probs)
}

/// [`linear_attention`] composed from candle ops: the reference the fused kernel is tested against,
/// and the path for attention maps, other devices and dtypes.
pub fn linear_attention_composed(
    phi_q: &Tensor,
    phi_k: &Tensor,
    v: &Tensor,
    key_mask: Option<&Tensor>,
    eps: f64,
    want_probs: bool,
) -> Result<AttentionOutput> {
    let phi_k = match key_mask {
        Some(m) => {
            let (b, n) = m.dims2()?;
            let m = super::mask::mask_to_f32(m)?
                .to_dtype(phi_k.dtype())?
                .reshape((b, 1, n, 1))?;
            phi_k.broadcast_mul(&m)?
        }
        None => phi_k.clone(),
    };
    let phi_q = phi_q.contiguous()?;
    let kv = phi_k.t()?.contiguous()?.matmul(&v.contiguous()?)?; // [b,h,m,d]
    let ksum = phi_k.sum_keepdim(2)?.t()?.contiguous()?; // [b,h,m,1]
    let z = (phi_q.matmul(&ksum)? + eps)?; // [b,h,n,1]
    let context = phi_q.matmul(&kv)?.broadcast_div(&z)?;
    let probs = if want_probs {
        Some(phi_q.matmul(&phi_k.t()?.contiguous()?)?.broadcast_div(&z)?)
    } else {
        None
    };
    Ok(AttentionOutput { context, probs })
}

/// `[b, s, h*d]` to `[b, h, s, d]`.
pub fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (b, s, hd) = x.dims3()?;
    x.reshape((b, s, heads, hd / heads))?
        .transpose(1, 2)?
        .contiguous()
}

/// `[b, h, s, d]` to `[b, s, h*d]`.
pub fn merge_heads(x: &Tensor) -> Result<Tensor> {
    let (b, h, s, d) = x.dims4()?;
    x.transpose(1, 2)?.contiguous()?.reshape((b, s, h * d))
}

/// Sum over the last dim kept for callers that normalise maps themselves.
pub fn row_sums(x: &Tensor) -> Result<Tensor> {
    x.sum_keepdim(D::Minus1)
}
