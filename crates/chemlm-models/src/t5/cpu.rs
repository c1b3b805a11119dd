//! Incremental T5 decoding on the CPU over plain f32 buffers.
//!
//! Why a second decoder path: a decoding step feeds one token per row, so every tensor is small
//! and the tensor path's per-op costs dominate it (measured on t5-small, 40 beam rows: copies,
//! caches and tiny batched products took over half of each step). There, the self-attention
//! cache grows by `Tensor::cat` (the whole history copied every step), a beam reorder copies
//! every layer's cache, cross-attention keys/values are copied once per beam, and each
//! (row, head) attention product is its own small GEMM. Here:
//! * each projection is one GEMM call (the `gemm` crate, the kernels candle's matmul uses)
//!   reading the weights where they are: no copy, so a model being trained decodes with its
//!   current weights; residual additions are folded into the output projections;
//! * self-attention keys/values are appended once per position and never moved: a beam reorder
//!   only rewrites which slot of each earlier position holds a row's history (`ancestry`),
//!   `rows x length` integers;
//! * cross-attention keys/values are kept once per source, not once per beam;
//! * attention runs row by row over that row's own keys, rows in parallel.
//!
//! Used when the model is f32 on the CPU without autocast ([`super::T5`]'s `Seq2SeqModel`
//! implementation decides); the tensor path ([`super::TensorDecoding`]) covers GPUs and half
//! precision. Both give the same logits up to float summation order (tests/t5_cpu_decode.rs).

use super::{relative_position_bucket, T5};
use crate::ops::fused::use_avx2;
use crate::ops::Activation;
use candle_core::{CpuStorage, DType, Device, Layout, Result, Storage, StorageRef, Tensor};
use rayon::prelude::*;

/// Decoder state of the CPU path: caches of every layer plus the rows' bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct CpuDecodeState {
    rows: usize,
    /// Decoder positions fed so far.
    len: usize,
    /// Source (encoder row) each decoder row reads.
    row_source: Vec<u32>,
    /// `ancestry[p][r]`: the slot of position `p` holding row `r`'s history.
    ancestry: Vec<Vec<u32>>,
    /// First slot of each position in the per-layer key/value buffers.
    position_start: Vec<usize>,
    /// Slots written so far (one per row and position).
    slots: usize,
    /// Per decoder layer, the keys / values of every slot, `inner` floats each.
    self_k: Vec<Vec<f32>>,
    self_v: Vec<Vec<f32>>,
    /// Per decoder layer, cross-attention keys / values `[sources, heads, src_len, d_kv]`.
    cross_k: Vec<Vec<f32>>,
    cross_v: Vec<Vec<f32>>,
    src_len: usize,
    /// `[sources, src_len]` additive padding bias (0 or the blocked value), as the tensor path.
    cross_bias: Vec<f32>,
}

impl CpuDecodeState {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Row `i` := old row `idx[i]`: only the bookkeeping moves, never a key or value.
    pub(crate) fn select_rows(&mut self, idx: &[u32]) -> Result<()> {
        if let Some(&bad) = idx.iter().find(|&&r| r as usize >= self.rows) {
            candle_core::bail!("select_rows: row {bad} of a state with {} rows", self.rows);
        }
        for slots in &mut self.ancestry {
            *slots = idx.iter().map(|&r| slots[r as usize]).collect();
        }
        self.row_source = idx.iter().map(|&r| self.row_source[r as usize]).collect();
        self.rows = idx.len();
        Ok(())
    }
}

/// The contiguous f32 data of a CPU tensor.
fn f32_data<'a>(storage: &'a Storage, layout: &Layout) -> Result<&'a [f32]> {
    let Storage::Cpu(CpuStorage::F32(data)) = storage else {
        candle_core::bail!("CPU decoding needs f32 weights on the CPU");
    };
    let (a, b) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("CPU decoding needs contiguous weights".into()))?;
    Ok(&data[a..b])
}

/// One decoder block's weights, borrowed.
struct LayerW<'a> {
    sa_norm: &'a [f32],
    q: &'a [f32],
    k: &'a [f32],
    v: &'a [f32],
    o: &'a [f32],
    ca_norm: &'a [f32],
    cq: &'a [f32],
    co: &'a [f32],
    ff_norm: &'a [f32],
    /// `wi` (plain) or `wi_0` (gated).
    wi: &'a [f32],
    /// `wi_1` of the gated feed-forward.
    wi1: Option<&'a [f32]>,
    wo: &'a [f32],
}

/// Every decoder weight, borrowed for one step.
struct Weights<'a> {
    layers: Vec<LayerW<'a>>,
    bias_table: &'a [f32],
    final_norm: &'a [f32],
    lm: &'a [f32],
    embed: &'a [f32],
}

impl T5 {
    /// Tensors the CPU decoder reads, in the order [`Weights::new`] takes them.
    fn decoder_tensors(&self) -> Vec<&Tensor> {
        let mut out = Vec::new();
        for blk in &self.decoder {
            out.extend([
                &blk.sa_norm.weight,
                &blk.sa.q.weight,
                &blk.sa.k.weight,
                &blk.sa.v.weight,
                &blk.sa.o.weight,
                &blk.ca_norm.weight,
                &blk.ca.q.weight,
                &blk.ca.o.weight,
                &blk.ff_norm.weight,
            ]);
            match &blk.ff {
                super::FeedForward::Plain { wi, wo } => out.extend([&wi.weight, &wo.weight]),
                super::FeedForward::Gated { wi_0, wi_1, wo } => {
                    out.extend([&wi_0.weight, &wi_1.weight, &wo.weight])
                }
            }
        }
        out.push(&self.decoder_bias);
        out.push(&self.decoder_norm.weight);
        out.push(match &self.lm_head {
            Some(h) => &h.weight,
            None => &self.shared,
        });
        out.push(&self.shared);
        out
    }

    /// Whether [`T5::cpu_start`] can serve this model: f32 weights, contiguous, on the CPU, and
    /// no autocast in force.
    pub(crate) fn cpu_decoding_applies(&self) -> bool {
        if !self.device().is_cpu() || crate::precision::compute_dtype().is_some() {
            return false;
        }
        self.decoder_tensors().iter().all(|t| {
            let (s, l) = t.storage_and_layout();
            f32_data(&s, l).is_ok()
        })
    }

    /// Decoder state for `encoder_hidden` `[b, s, d_model]` / `encoder_mask` `[b, s]`, one row
    /// per source: the cross-attention keys/values of every layer, computed once.
    pub(crate) fn cpu_start(
        &self,
        encoder_hidden: &Tensor,
        encoder_mask: &Tensor,
    ) -> Result<CpuDecodeState> {
        let (b, s, _) = encoder_hidden.dims3()?;
        let mut cross_k = Vec::with_capacity(self.decoder.len());
        let mut cross_v = Vec::with_capacity(self.decoder.len());
        let split = |t: &Tensor| -> Result<Vec<f32>> {
            crate::blocks::attention::split_heads(t, self.config.num_heads)?
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()
        };
        for (k, v) in self.cross_kv(encoder_hidden)? {
            cross_k.push(split(&k)?);
            cross_v.push(split(&v)?);
        }
        let cross_bias = crate::blocks::mask::padding_bias(encoder_mask, DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        Ok(CpuDecodeState {
            rows: b,
            len: 0,
            row_source: (0..b as u32).collect(),
            ancestry: Vec::new(),
            position_start: Vec::new(),
            slots: 0,
            self_k: vec![Vec::new(); self.decoder.len()],
            self_v: vec![Vec::new(); self.decoder.len()],
            cross_k,
            cross_v,
            src_len: s,
            cross_bias,
        })
    }

    /// Logits `[rows * vocab]` of the next token after feeding `last` (one id per row).
    pub(crate) fn cpu_step(&self, st: &mut CpuDecodeState, last: &[u32]) -> Result<Vec<f32>> {
        let rows = st.rows;
        if last.len() != rows {
            candle_core::bail!("decoder step: {} ids for {rows} rows", last.len());
        }
        let c = &self.config;
        let (d, heads, dkv) = (c.d_model, c.num_heads, c.d_kv);
        let inner = heads * dkv;
        let tensors = self.decoder_tensors();
        let guards: Vec<(StorageRef<'_>, &Layout)> =
            tensors.iter().map(|t| t.storage_and_layout()).collect();
        let gated = matches!(
            self.decoder.first().map(|b| &b.ff),
            Some(super::FeedForward::Gated { .. })
        );
        let w = Weights::new(&guards, self.decoder.len(), gated)?;
        let vocab = c.vocab_size;

        let mut h = vec![0f32; rows * d];
        for (row, &id) in h.chunks_mut(d).zip(last) {
            let id = id as usize;
            if id >= vocab {
                candle_core::bail!("token id {id} outside the vocabulary of {vocab}");
            }
            row.copy_from_slice(&w.embed[id * d..(id + 1) * d]);
        }

        // Position bias of the new token (at position t) over keys 0..=t, per head.
        let t = st.len;
        let nb = c.relative_attention_num_buckets;
        let mut pos_bias = vec![0f32; heads * (t + 1)];
        for p in 0..=t {
            let bucket = relative_position_bucket(
                p as i64 - t as i64,
                false,
                nb,
                c.relative_attention_max_distance,
            ) as usize;
            for hd in 0..heads {
                pos_bias[hd * (t + 1) + p] = w.bias_table[bucket * heads + hd];
            }
        }
        st.position_start.push(st.slots);

        let eps = c.layer_norm_epsilon;
        let ff = c.d_ff;
        let mut n = vec![0f32; rows * d];
        let mut q = vec![0f32; rows * inner];
        let mut kv = vec![0f32; rows * inner];
        let mut ctx = vec![0f32; rows * inner];
        let mut hid = vec![0f32; rows * ff];
        let mut gate = vec![0f32; if gated { rows * ff } else { 0 }];
        for (li, lw) in w.layers.iter().enumerate() {
            // Self-attention.
            rms_norm_rows(&mut n, &h, lw.sa_norm, d, eps);
            linear(&mut q, &n, lw.q, (rows, d, inner), false);
            linear(&mut kv, &n, lw.k, (rows, d, inner), false);
            st.self_k[li].extend_from_slice(&kv);
            linear(&mut kv, &n, lw.v, (rows, d, inner), false);
            st.self_v[li].extend_from_slice(&kv);
            self_attention(&mut ctx, &q, st, li, &pos_bias, (heads, dkv));
            linear(&mut h, &ctx, lw.o, (rows, inner, d), true);
            // Cross-attention.
            rms_norm_rows(&mut n, &h, lw.ca_norm, d, eps);
            linear(&mut q, &n, lw.cq, (rows, d, inner), false);
            cross_attention(&mut ctx, &q, st, li, (heads, dkv));
            linear(&mut h, &ctx, lw.co, (rows, inner, d), true);
            // Feed-forward.
            rms_norm_rows(&mut n, &h, lw.ff_norm, d, eps);
            linear(&mut hid, &n, lw.wi, (rows, d, ff), false);
            activate(&mut hid, self.act, rows, ff)?;
            if let Some(wi1) = lw.wi1 {
                linear(&mut gate, &n, wi1, (rows, d, ff), false);
                hid.par_iter_mut()
                    .zip(gate.par_iter())
                    .for_each(|(a, &g)| *a *= g);
            }
            linear(&mut h, &hid, lw.wo, (rows, ff, d), true);
        }
        rms_norm_rows(&mut n, &h, w.final_norm, d, eps);
        if c.scale_output() {
            let s = (d as f64).powf(-0.5) as f32;
            n.iter_mut().for_each(|x| *x *= s);
        }
        let mut logits = vec![0f32; rows * vocab];
        linear(&mut logits, &n, w.lm, (rows, d, vocab), false);
        st.ancestry.push((0..rows as u32).collect());
        st.slots += rows;
        st.len += 1;
        Ok(logits)
    }
}

impl<'a> Weights<'a> {
    fn new(guards: &'a [(StorageRef<'_>, &Layout)], layers: usize, gated: bool) -> Result<Self> {
        let mut it = guards.iter().map(|(s, l)| f32_data(s, l));
        let mut next = || {
            it.next()
                .unwrap_or_else(|| Err(candle_core::Error::Msg("missing decoder weight".into())))
        };
        let mut out = Vec::with_capacity(layers);
        for _ in 0..layers {
            let (sa_norm, q, k, v, o) = (next()?, next()?, next()?, next()?, next()?);
            let (ca_norm, cq, co, ff_norm) = (next()?, next()?, next()?, next()?);
            let wi = next()?;
            let wi1 = if gated { Some(next()?) } else { None };
            let wo = next()?;
            out.push(LayerW {
                sa_norm,
                q,
                k,
                v,
                o,
                ca_norm,
                cq,
                co,
                ff_norm,
                wi,
                wi1,
                wo,
            });
        }
        Ok(Self {
            layers: out,
            bias_table: next()?,
            final_norm: next()?,
            lm: next()?,
            embed: next()?,
        })
    }
}

/// T5 RMS norm of each `d`-wide row, as the fused kernel computes it (`x * r * w`, `r` from the
/// f32 mean of squares).
fn rms_norm_rows(out: &mut [f32], x: &[f32], w: &[f32], d: usize, eps: f64) {
    for (orow, xrow) in out.chunks_mut(d).zip(x.chunks(d)) {
        let mut ss = 0f32;
        for &v in xrow {
            ss += v * v;
        }
        let r = 1.0 / (ss / d as f32 + eps as f32).sqrt();
        for ((o, &v), &wi) in orow.iter_mut().zip(xrow).zip(w) {
            *o = v * r * wi;
        }
    }
}

/// `dst[m, n] (+)= x[m, k] · w[n, k]ᵀ` (weights `[out, in]` as stored), one GEMM.
fn linear(dst: &mut [f32], x: &[f32], w: &[f32], (m, k, n): (usize, usize, usize), add: bool) {
    assert!(dst.len() >= m * n && x.len() >= m * k && w.len() >= n * k);
    if m == 0 || n == 0 {
        return;
    }
    let threads = crate::threads::pool_threads();
    // Below ~64k multiply-adds a second thread costs more than it saves.
    let par = if threads > 1 && m * n * k >= 1 << 16 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assert keeps every index the strides reach inside the three slices, and `dst`
    // (a `&mut`) cannot alias `x` or `w`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            add,
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            k as isize,
            1,
            if add { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// The feed-forward activation in place: ReLU here, the GELUs through the same candle op as the
/// tensor path so both paths agree bit for bit.
fn activate(x: &mut Vec<f32>, act: Activation, rows: usize, width: usize) -> Result<()> {
    match act {
        Activation::Relu => x.par_iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Gelu | Activation::GeluNew => {
            let t = Tensor::from_vec(std::mem::take(x), (rows, width), &Device::Cpu)?;
            *x = act.apply(&t)?.flatten_all()?.to_vec1::<f32>()?;
        }
    }
    Ok(())
}

/// How the attention inner loops multiply-add: plain `a * b + c` (every x86-64 CPU), or fused
/// (`mul_add`, one instruction inside the AVX2+FMA build of the row kernels).
trait MulAdd {
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

struct Plain;
impl MulAdd for Plain {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

#[cfg(target_arch = "x86_64")]
struct Fused;
#[cfg(target_arch = "x86_64")]
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// Dot product with eight independent partial sums (so that it vectorises).
#[inline(always)]
fn dot<M: MulAdd>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut tail = 0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = M::mul_add(*x, *y, tail);
    }
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] = M::mul_add(x[i], y[i], acc[i]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `out += p * v`.
#[inline(always)]
fn axpy<M: MulAdd>(out: &mut [f32], p: f32, v: &[f32]) {
    for (o, &x) in out.iter_mut().zip(v) {
        *o = M::mul_add(p, x, *o);
    }
}

/// `scores := softmax(scores)` (max-subtracted, as the tensor path).
#[inline(always)]
fn softmax_in_place(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    let inv = 1.0 / sum;
    scores.iter_mut().for_each(|s| *s *= inv);
}

/// What one row's attention reads: its query, where each key/value position of its history
/// lives, and the additive bias of each position per head.
struct RowAttention<'a> {
    keys: &'a [f32],
    values: &'a [f32],
    /// Start (in floats) of each position's key/value for this row, before the head offset.
    at: &'a [usize],
    /// `[heads, positions]` additive bias.
    bias: &'a [f32],
    heads: usize,
    dkv: usize,
}

/// Attention of one query row over its positions, every head: `out` `[heads * d_kv]`.
#[inline(always)]
fn attend_row<M: MulAdd>(a: &RowAttention<'_>, q: &[f32], out: &mut [f32], scores: &mut [f32]) {
    let (n, dkv) = (a.at.len(), a.dkv);
    for hd in 0..a.heads {
        let qh = &q[hd * dkv..(hd + 1) * dkv];
        let bias = &a.bias[hd * n..(hd + 1) * n];
        for ((s, &at), &b) in scores.iter_mut().zip(a.at).zip(bias) {
            let k = at + hd * dkv;
            *s = dot::<M>(qh, &a.keys[k..k + dkv]) + b;
        }
        softmax_in_place(&mut scores[..n]);
        let oh = &mut out[hd * dkv..(hd + 1) * dkv];
        oh.fill(0.0);
        for (&p, &at) in scores.iter().zip(a.at) {
            // Padding (bias -1e9) gets exactly 0 after the softmax: nothing to add.
            if p != 0.0 {
                let v = at + hd * dkv;
                axpy::<M>(oh, p, &a.values[v..v + dkv]);
            }
        }
    }
}

/// [`attend_row`] compiled for AVX2+FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA ([`use_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend_row_avx2(a: &RowAttention<'_>, q: &[f32], out: &mut [f32], scores: &mut [f32]) {
    attend_row::<Fused>(a, q, out, scores)
}

/// [`attend_row`] with the best kernels this CPU has.
fn attend(a: &RowAttention<'_>, q: &[f32], out: &mut [f32], scores: &mut [f32], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is [`use_avx2`]'s answer for this CPU.
        return unsafe { attend_row_avx2(a, q, out, scores) };
    }
    let _ = avx2;
    attend_row::<Plain>(a, q, out, scores)
}

/// Causal self-attention of each row's new token (position `st.len`, its key/value already
/// appended) over the row's history, with T5's relative position bias and no score scaling.
fn self_attention(
    ctx: &mut [f32],
    q: &[f32],
    st: &CpuDecodeState,
    layer: usize,
    pos_bias: &[f32],
    (heads, dkv): (usize, usize),
) {
    let inner = heads * dkv;
    let t = st.len;
    let avx2 = use_avx2();
    ctx.par_chunks_mut(inner)
        .zip(q.par_chunks(inner))
        .enumerate()
        .for_each(|(r, (out, qr))| {
            let at: Vec<usize> = (0..=t)
                .map(|p| {
                    let slot = if p == t {
                        r
                    } else {
                        st.ancestry[p][r] as usize
                    };
                    (st.position_start[p] + slot) * inner
                })
                .collect();
            let row = RowAttention {
                keys: &st.self_k[layer],
                values: &st.self_v[layer],
                at: &at,
                bias: pos_bias,
                heads,
                dkv,
            };
            let mut scores = vec![0f32; t + 1];
            attend(&row, qr, out, &mut scores, avx2);
        });
}

/// Cross-attention of each row over its source's encoder keys/values with the padding bias.
fn cross_attention(
    ctx: &mut [f32],
    q: &[f32],
    st: &CpuDecodeState,
    layer: usize,
    (heads, dkv): (usize, usize),
) {
    let inner = heads * dkv;
    let s_len = st.src_len;
    let avx2 = use_avx2();
    // Keys of one source are [heads, s_len, d_kv]: position j of head h at (h s_len + j) d_kv,
    // so `at[j] = j d_kv` with the head offset folded into a per-head base below.
    ctx.par_chunks_mut(inner)
        .zip(q.par_chunks(inner))
        .enumerate()
        .for_each(|(r, (out, qr))| {
            let src = st.row_source[r] as usize;
            let bias1 = &st.cross_bias[src * s_len..(src + 1) * s_len];
            let mut scores = vec![0f32; s_len];
            let at: Vec<usize> = (0..s_len).map(|j| j * dkv).collect();
            for hd in 0..heads {
                let base = (src * heads + hd) * s_len * dkv;
                let row = RowAttention {
                    keys: &st.cross_k[layer][base..base + s_len * dkv],
                    values: &st.cross_v[layer][base..base + s_len * dkv],
                    at: &at,
                    bias: bias1,
                    heads: 1,
                    dkv,
                };
                attend(
                    &row,
                    &qr[hd * dkv..(hd + 1) * dkv],
                    &mut out[hd * dkv..(hd + 1) * dkv],
                    &mut scores,
                    avx2,
                );
            }
        });
}
