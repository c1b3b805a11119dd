//! One decoding step of softmax attention over a key/value cache, in place.
//!
//! Why: sampling from a causal LM runs one query per sequence per step. Through the general
//! kernels ([`super::attention`]) that step concatenated each layer's whole cache into fresh
//! tensors (11 % of ChemGPT sampling in `memmove`) and ran a 1 x n `gemm` call per head, whose
//! set-up cost more than its arithmetic (22 % of samples in the `gemm` crate's dispatch and
//! edge kernels). Here the cache is a `[b, capacity, heads * d]` buffer that grows in place and
//! each `(sequence, head)` is one task of plain dot products, a softmax over the visible keys and
//! a weighted sum of values. Inference only (no backward): the KV cache uses it inside
//! [`crate::grad_mode::inference`].

use super::fused::{contiguous, dispatch_float, softmax_in_place, uninit, Real};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, WithDType};
use rayon::prelude::*;

/// Split accumulators: a float sum in one accumulator runs in order and does not vectorise.
const LANES: usize = 8;

#[inline(always)]
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zr(); LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = T::zr();
    for (&x, &y) in ta.iter().zip(tb) {
        s += x * y;
    }
    for a in acc {
        s += a;
    }
    s
}

/// Sizes of one decode step: heads, head width, row width, visible keys `lo..lo + n`, capacity.
#[derive(Clone, Copy)]
struct Shape1 {
    h: usize,
    dk: usize,
    hd: usize,
    lo: usize,
    n: usize,
    cap: usize,
}

/// Context of sequence `bi` into `o` (`hd` wide) for its query row `qrow`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn sequence<T: Real>(
    o: &mut [T],
    qrow: &[T],
    k: &[T],
    v: &[T],
    bi: usize,
    s: Shape1,
    scale: T,
    scores: &mut Vec<T>,
) {
    let Shape1 {
        h,
        dk,
        hd,
        lo,
        n,
        cap,
    } = s;
    let base = bi * cap * hd;
    // scores[hi * n + jj]: head hi, visible position lo + jj.
    scores.clear();
    scores.resize(h * n, T::zr());
    for jj in 0..n {
        let krow = &k[base + (lo + jj) * hd..][..hd];
        for hi in 0..h {
            let r = hi * dk..(hi + 1) * dk;
            scores[hi * n + jj] = dot(&qrow[r.clone()], &krow[r]) * scale;
        }
    }
    for row in scores.chunks_mut(n) {
        softmax_in_place(row);
    }
    o.fill(T::zr());
    for jj in 0..n {
        let vrow = &v[base + (lo + jj) * hd..][..hd];
        for hi in 0..h {
            let p = scores[hi * n + jj];
            let r = hi * dk..(hi + 1) * dk;
            for (ov, &vv) in o[r.clone()].iter_mut().zip(&vrow[r]) {
                *ov += p * vv;
            }
        }
    }
}

/// [`sequence`] compiled with AVX2 + FMA when the CPU has them. Why not a closure through
/// `vectorised`: LLVM did not inline the closure into the AVX2 copy, and this kernel ran as
/// scalar SSE code at 46 % of ChemGPT sampling.
#[allow(clippy::too_many_arguments)]
fn sequence_dispatch<T: Real>(
    o: &mut [T],
    qrow: &[T],
    k: &[T],
    v: &[T],
    bi: usize,
    s: Shape1,
    scale: T,
    scores: &mut Vec<T>,
) {
    #[cfg(target_arch = "x86_64")]
    if super::fused::use_avx2() {
        /// # Safety
        /// The CPU must support AVX2 and FMA.
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn avx2<T: Real>(
            o: &mut [T],
            qrow: &[T],
            k: &[T],
            v: &[T],
            bi: usize,
            s: Shape1,
            scale: T,
            scores: &mut Vec<T>,
        ) {
            sequence(o, qrow, k, v, bi, s, scale, scores)
        }
        // SAFETY: checked just above.
        return unsafe { avx2(o, qrow, k, v, bi, s, scale, scores) };
    }
    sequence(o, qrow, k, v, bi, s, scale, scores)
}

struct DecodeStep {
    heads: usize,
    /// Keys `lo..len` of the cache are visible to the query.
    lo: usize,
    len: usize,
    scale: f64,
}

impl CustomOp3 for DecodeStep {
    fn name(&self) -> &'static str {
        "chemlm-decode-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (b, _, hd) = l1.shape().dims3()?;
        let cap = l2.dims()[1];
        let dk = hd / self.heads;
        let (lo, len) = (self.lo, self.len);
        dispatch_float!(s1, self.name(), |T| {
            let q = contiguous::<T>(s1, l1, self.name())?;
            let k = contiguous::<T>(s2, l2, self.name())?;
            let v = contiguous::<T>(s3, l3, self.name())?;
            // SAFETY: every sequence's task below writes all of its hd outputs.
            let mut out: Vec<T> = unsafe { uninit(b * hd) };
            let (h, n) = (self.heads, len - lo);
            let scale = T::lit(self.scale);
            // One task per sequence, reading each cached position's keys and values for all
            // heads as one contiguous row (per-head tasks strode through the cache).
            let shape = Shape1 {
                h,
                dk,
                hd,
                lo,
                n,
                cap,
            };
            out.par_chunks_mut(hd).enumerate().for_each_init(
                Vec::new,
                |scores: &mut Vec<T>, (bi, o)| {
                    sequence_dispatch(o, &q[bi * hd..][..hd], k, v, bi, shape, scale, scores)
                },
            );
            Ok((T::to_cpu_storage_owned(out), l1.shape().clone()))
        })
    }
}

/// Context `[b, 1, heads * d]` of one query per sequence `q` `[b, 1, heads * d]` over the first
/// `len` positions of the cache buffers `k`, `v` `[b, capacity, heads * d]`, of which only
/// positions `>= len - window` are visible when `window` is set (GPT-Neo's local layers):
/// `softmax(scale * q K^T) V`, with the keys a causal mask would block left out. CPU f32/f64,
/// contiguous buffers; no gradient.
pub fn decode_step(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    len: usize,
    window: Option<usize>,
    heads: usize,
    scale: f64,
) -> Result<Tensor> {
    let (b, one, hd) = q.dims3()?;
    let (kb, cap, khd) = k.dims3()?;
    if one != 1 || kb != b || khd != hd || v.dims() != k.dims() {
        candle_core::bail!(
            "decode attention: q {:?}, k {:?}, v {:?} are not [b, 1, w], [b, cap, w] twice",
            q.dims(),
            k.dims(),
            v.dims()
        );
    }
    if heads == 0 || hd % heads != 0 || len == 0 || len > cap {
        candle_core::bail!(
            "decode attention: {heads} heads for width {hd}, {len} positions of {cap}"
        );
    }
    if window == Some(0) {
        candle_core::bail!("decode attention: a local window of 0 positions sees nothing");
    }
    if !k.is_contiguous() || !v.is_contiguous() {
        candle_core::bail!("decode attention: the cache buffers must be contiguous");
    }
    let lo = window.map_or(0, |w| len.saturating_sub(w));
    q.contiguous()?.apply_op3_no_bwd(
        k,
        v,
        &DecodeStep {
            heads,
            lo,
            len,
            scale,
        },
    )
}
