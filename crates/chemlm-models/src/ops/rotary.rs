//! Rotary position embeddings, rotate-half convention (GPT-NeoX / Hugging Face MoLFormer):
//! `x * cos + rotate_half(x) * sin` with `rotate_half([a, b]) = [-b, a]` and frequencies
//! `base^(-2i/d)` repeated over both halves. Composed from differentiable ops (candle's
//! `rotary_emb::rope` records no gradient).

use candle_core::{DType, Device, Result, Tensor, D};

/// Precomputed cos/sin tables `[max_len, head_dim]`.
#[derive(Clone, Debug)]
pub struct Rotary {
    cos: Tensor,
    sin: Tensor,
    head_dim: usize,
}

impl Rotary {
    /// Tables for positions `0..max_len` of a `head_dim`-wide head (must be even).
    pub fn new(
        head_dim: usize,
        max_len: usize,
        base: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        if !head_dim.is_multiple_of(2) {
            candle_core::bail!("rotary embeddings need an even head dimension, got {head_dim}");
        }
        let half = head_dim / 2;
        let mut cos = Vec::with_capacity(max_len * head_dim);
        let mut sin = Vec::with_capacity(max_len * head_dim);
        for p in 0..max_len {
            for rep in 0..2 {
                let _ = rep;
                for i in 0..half {
                    let inv = 1.0 / base.powf((2 * i) as f64 / head_dim as f64);
                    let a = p as f64 * inv;
                    cos.push(a.cos());
                    sin.push(a.sin());
                }
            }
        }
        let cos = Tensor::from_vec(cos, (max_len, head_dim), device)?.to_dtype(dtype)?;
        let sin = Tensor::from_vec(sin, (max_len, head_dim), device)?.to_dtype(dtype)?;
        Ok(Self { cos, sin, head_dim })
    }

    /// Maximum position covered by the tables.
    pub fn max_len(&self) -> usize {
        self.cos.dim(0).unwrap_or(0)
    }

    /// Rotate `x` `[batch, heads, seq, head_dim]` for positions `offset..offset+seq`.
    pub fn apply(&self, x: &Tensor, offset: usize) -> Result<Tensor> {
        let seq = x.dim(2)?;
        if offset + seq > self.max_len() {
            candle_core::bail!(
                "sequence of {} tokens exceeds the rotary table of {} positions",
                offset + seq,
                self.max_len()
            );
        }
        let cos = self.cos.narrow(0, offset, seq)?.to_dtype(x.dtype())?;
        let sin = self.sin.narrow(0, offset, seq)?.to_dtype(x.dtype())?;
        let half = self.head_dim / 2;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        x.broadcast_mul(&cos)?.add(&rotated.broadcast_mul(&sin)?)
    }
}
