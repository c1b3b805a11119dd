//! Inverted dropout as one multi-threaded `CustomOp` whose mask is a pure function of a seed.
//!
//! Why: the mask used to be drawn element by element from the model's shared ChaCha stream on the
//! calling thread (an f64 per element), written to a full-size tensor and multiplied in; a T5
//! training step draws ~30 M of them, a serial 5 % of the step on two cores. Here each call takes
//! ONE `u64` seed from the model's stream and element `i` is kept when word `i` of the ChaCha8
//! stream of that seed is below `keep * 2^32`. Any chunk of the mask can then be made on any
//! thread (`set_word_pos`), the result does not depend on the thread count, the backward
//! regenerates the mask instead of storing it, and no mask tensor is allocated.

use super::fused::{contiguous, dispatch_float, for_each_chunk, vectorised, Real};
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor, WithDType};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Elements per parallel task (one ChaCha re-seek each).
const CHUNK: usize = 16 * 1024;

/// The keep rule of one dropout call: element `i` survives when word `i` of the ChaCha8 stream
/// seeded with `seed` is below `threshold`, and is then scaled by `scale` = 1 / keep.
#[derive(Debug, Clone, Copy)]
pub struct DropoutMask {
    seed: u64,
    threshold: u64,
    scale: f64,
}

impl DropoutMask {
    /// The mask of drop probability `p` (0 < p < 1) for `seed`.
    pub fn new(p: f64, seed: u64) -> Self {
        let keep = (1.0 - p).clamp(0.0, 1.0);
        Self {
            seed,
            // keep * 2^32, so u32 words below it occur with probability keep.
            threshold: (keep * 4_294_967_296.0).round() as u64,
            scale: if keep > 0.0 { 1.0 / keep } else { 0.0 },
        }
    }

    /// Calls `f(offset, words)` with the mask words of elements `start .. start + len`, in order,
    /// in blocks of up to 256 (drawn first, so that the loops over them vectorise).
    fn blocks(&self, start: usize, len: usize, mut f: impl FnMut(usize, &[u32])) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_word_pos(start as u128);
        let mut buf = [0u32; 256];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(buf.len());
            for w in &mut buf[..n] {
                *w = rng.next_u32();
            }
            f(done, &buf[..n]);
            done += n;
        }
    }

    /// `out[j] = x[j] * mask[j]` (mask = scale or 0), in parallel chunks.
    fn apply<T: Real>(&self, x: &[T], out: &mut [T]) {
        for_each_chunk(out, CHUNK, |k, o| {
            let xs = &x[k * CHUNK..k * CHUNK + o.len()];
            self.blocks(k * CHUNK, o.len(), |off, ws| {
                self.select(&xs[off..off + ws.len()], ws, &mut o[off..off + ws.len()]);
            });
        });
    }

    /// `out[j] = x[j] * scale` where word `j` keeps the element, else 0.
    #[inline(always)]
    fn select<T: Real>(&self, x: &[T], words: &[u32], out: &mut [T]) {
        let (zero, scale, thr) = (T::zr(), T::lit(self.scale), self.threshold);
        vectorised(|| {
            for ((o, &v), &w) in out.iter_mut().zip(x).zip(words) {
                *o = if u64::from(w) < thr { v * scale } else { zero };
            }
        })
    }

    /// `out[j] *= mask[start + j]`: a block of a larger masked tensor, for kernels that apply
    /// the mask themselves.
    pub(crate) fn scale_block<T: Real>(&self, start: usize, out: &mut [T]) {
        self.blocks(start, out.len(), |off, ws| {
            let o = &mut out[off..off + ws.len()];
            let (zero, scale, thr) = (T::zr(), T::lit(self.scale), self.threshold);
            vectorised(|| {
                for (v, &w) in o.iter_mut().zip(ws) {
                    *v = if u64::from(w) < thr { *v * scale } else { zero };
                }
            })
        });
    }

    /// The mask itself (`scale` or 0 per element) as f32, for devices the kernel does not run on.
    pub fn values(&self, n: usize) -> Vec<f32> {
        let ones = vec![1f32; CHUNK.min(n)];
        let mut out = vec![0f32; n];
        for_each_chunk(&mut out, CHUNK, |k, o| {
            self.blocks(k * CHUNK, o.len(), |off, ws| {
                self.select(&ones[off..off + ws.len()], ws, &mut o[off..off + ws.len()]);
            });
        });
        out
    }
}

/// `x * mask`; its own backward (`grad * mask`, the same mask).
#[derive(Debug, Clone, Copy)]
struct DropoutOp(DropoutMask);

impl CustomOp1 for DropoutOp {
    fn name(&self) -> &'static str {
        "chemlm-dropout"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch_float!(s, self.name(), |T| {
            let x = contiguous::<T>(s, l, self.name())?;
            // SAFETY: `apply` writes every element (kept or zero).
            let mut out = unsafe { super::fused::uninit(x.len()) };
            self.0.apply(x, &mut out);
            Ok((T::to_cpu_storage_owned(out), l.shape().clone()))
        })
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.contiguous()?.apply_op1(*self)?))
    }
}

/// Inverted dropout of `x` with drop probability `p` and the mask of `seed`.
pub fn dropout(x: &Tensor, p: f64, seed: u64) -> Result<Tensor> {
    apply(x, DropoutMask::new(p, seed))
}

/// `x` times `mask`: the fused kernel on f32/f64 CPU tensors (fused ops on), else `x` times
/// the same mask built on the host.
pub fn apply(x: &Tensor, mask: DropoutMask) -> Result<Tensor> {
    if super::use_fused(x) {
        return x.contiguous()?.apply_op1(DropoutOp(mask));
    }
    let m = Tensor::from_vec(mask.values(x.elem_count()), x.shape(), x.device())?;
    x.mul(&m.to_dtype(x.dtype())?)
}
