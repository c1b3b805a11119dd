//! Scaled dot-product attention with an additive bias (T5's position bias and masks) as two
//! fused multi-threaded `CustomOp`s that read queries, keys and values in the projections'
//! own `[batch, tokens, heads * width]` layout.
//!
//! Why: composed from candle ops, every attention sublayer copies Q, K and V into
//! `[batch, heads, tokens, width]`, copies `K^T` once more, materialises the scores, adds the
//! bias in another pass, runs softmax, multiplies by a dropout mask, multiplies by V and copies
//! the context back, and the backward repeats each step; on t5-small the copies alone were 5 %
//! of a training step and mostly serial. Here every `(batch, head)` pair is one task whose
//! small products run in the `gemm` kernels straight on the strided projections:
//!
//! - [`probs`]: `P = softmax(scale * Q K^T + bias)` `[b, h, nq, nk]`; backward
//!   `dS = P * (dP - rowsum(dP * P))`, `dQ = scale dS K`, `dK = scale dS^T Q`, `dbias = dS`.
//! - [`context`]: `C = dropout(P) V` `[b, nq, h * dv]`, the dropout mask a function of a seed
//!   ([`DropoutMask`], word `i` of the mask is element `i` of `P`, so it equals dropout applied to
//!   `P` as a tensor); backward `dP = mask * (dC V^T)`, `dV = dropout(P)^T dC`.
//!
//! The probabilities stay a tensor between the two ops: they are what the backward needs, and
//! callers that want attention maps read them. Not differentiable twice (nothing trains through
//! an attention gradient).

use super::dropout::DropoutMask;
use super::fused::{contiguous, dispatch_float, softmax_in_place, vectorised, zeros, Real};
use candle_core::{
    CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Storage, Tensor, WithDType,
};
use rayon::prelude::*;

/// Shapes of one call: `b` sequences, `h` heads, `nq` queries, `nk` keys, key and value widths.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dims {
    b: usize,
    h: usize,
    nq: usize,
    nk: usize,
    dk: usize,
    dv: usize,
}

impl Dims {
    fn blocks(&self) -> usize {
        self.b * self.h
    }
    /// Offset of block `(bi, hi)` in `[b, h, nq, nk]`.
    fn p_off(&self, blk: usize) -> usize {
        blk * self.nq * self.nk
    }
    /// Offset of head `hi` of token 0 of sequence `bi` in `[b, n, h * w]`.
    fn tok_off(&self, blk: usize, n: usize, w: usize) -> usize {
        let (bi, hi) = (blk / self.h, blk % self.h);
        bi * n * self.h * w + hi * w
    }
}

/// A read-only strided matrix inside a slice.
#[derive(Clone, Copy)]
struct Mat<'a, T> {
    data: &'a [T],
    off: usize,
    rs: usize,
    cs: usize,
}

/// An output buffer that several tasks write disjoint parts of.
#[derive(Clone, Copy)]
struct Shared<T> {
    ptr: *mut T,
    len: usize,
}
// SAFETY: tasks write disjoint elements (checked by construction in each kernel) and the
// buffer outlives the parallel loop that uses it.
unsafe impl<T: Send> Send for Shared<T> {}
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    fn new(v: &mut [T]) -> Self {
        Self {
            ptr: v.as_mut_ptr(),
            len: v.len(),
        }
    }

    /// Pointer to element `off` (asserted inside the buffer).
    fn at(&self, off: usize) -> *mut T {
        assert!(off < self.len);
        // SAFETY: in bounds (just asserted).
        unsafe { self.ptr.add(off) }
    }

    /// `len` elements from `off` as a slice (a method, so closures capture the whole `Shared`,
    /// which is `Sync`, and not its raw pointer field).
    ///
    /// # Safety
    /// `off + len` within the buffer, and no other live reference to those elements.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, off: usize, len: usize) -> &mut [T] {
        assert!(off + len <= self.len);
        std::slice::from_raw_parts_mut(self.ptr.add(off), len)
    }
}

/// Index of the last element of a `rows x cols` matrix at `off` with strides `rs`, `cs`.
fn last(off: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    off + (rows - 1) * rs + (cols - 1) * cs
}

/// `dst[off + i * rs + j] = beta * sum_k a[i, k] b[k, j]` for an `m x k` `a` and a `k x n` `b`,
/// single-threaded (`gemm` crate, the kernels candle's matmul uses); the callers parallelise
/// over blocks. Panics when a matrix reaches outside its buffer.
#[allow(clippy::too_many_arguments)]
fn product<T: Real>(
    (m, n, k): (usize, usize, usize),
    dst: Shared<T>,
    dst_off: usize,
    dst_rs: usize,
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    beta: T,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(last(dst_off, m, n, dst_rs, 1) < dst.len);
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                // SAFETY: in bounds (assert above); this block's elements belong to this task.
                unsafe { *dst.at(dst_off + i * dst_rs + j) = T::zr() };
            }
        }
        return;
    }
    assert!(last(a.off, m, k, a.rs, a.cs) < a.data.len());
    assert!(last(b.off, k, n, b.rs, b.cs) < b.data.len());
    // SAFETY: the asserts keep every element the strides reach inside its buffer, `dst` is not
    // read (read_dst = false) and does not alias `a` or `b`, and T is f32 or f64.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.at(dst_off),
            1,
            dst_rs as isize,
            false,
            a.data.as_ptr().add(a.off),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr().add(b.off),
            b.cs as isize,
            b.rs as isize,
            T::zr(),
            beta,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// Runs `f(block)` for every block, in parallel when there are several and several threads.
fn each_block(n: usize, f: impl Fn(usize) + Sync + Send) {
    if n > 1 && rayon::current_num_threads() > 1 {
        (0..n).into_par_iter().for_each(f);
    } else {
        (0..n).for_each(f);
    }
}

/// The CPU storage of a tensor, or an error naming `what`.
fn cpu_slice<'a, T: WithDType>(s: &'a Storage, l: &Layout, what: &str) -> Result<&'a [T]> {
    match s {
        Storage::Cpu(c) => contiguous::<T>(c, l, what),
        _ => candle_core::bail!("{what}: CPU tensors only"),
    }
}

// ---------------------------------------------------------------- probabilities

/// `softmax(scale * Q K^T + bias)`.
struct Probs {
    heads: usize,
    scale: f64,
}

fn probs_dims(heads: usize, q: &Layout, k: &Layout, bias: &Layout) -> Result<Dims> {
    let (qd, kd) = (q.dims(), k.dims());
    if heads == 0 || qd.len() != 3 || kd.len() != 3 || qd[0] != kd[0] || qd[2] != kd[2] {
        candle_core::bail!("attention: q {qd:?} and k {kd:?} are not [b, n, heads * d]");
    }
    if qd[2] % heads != 0 {
        candle_core::bail!(
            "attention: width {} is not divisible by {heads} heads",
            qd[2]
        );
    }
    let s = Dims {
        b: qd[0],
        h: heads,
        nq: qd[1],
        nk: kd[1],
        dk: qd[2] / heads,
        dv: 0,
    };
    if bias.dims() != [s.b, s.h, s.nq, s.nk] {
        candle_core::bail!(
            "attention: bias {:?} is not [b, h, nq, nk] = {:?}",
            bias.dims(),
            [s.b, s.h, s.nq, s.nk]
        );
    }
    Ok(s)
}

fn probs_fwd<T: Real>(q: &[T], k: &[T], bias: &[T], bl: &Layout, s: Dims, scale: f64) -> Vec<T> {
    let mut p = zeros::<T>(s.blocks() * s.nq * s.nk);
    let out = Shared::new(&mut p);
    let hd = s.h * s.dk;
    let bst = bl.stride();
    let boff = bl.start_offset();
    each_block(s.blocks(), |blk| {
        let po = s.p_off(blk);
        product(
            (s.nq, s.nk, s.dk),
            out,
            po,
            s.nk,
            Mat {
                data: q,
                off: s.tok_off(blk, s.nq, s.dk),
                rs: hd,
                cs: 1,
            },
            // K^T: row = key feature, column = key.
            Mat {
                data: k,
                off: s.tok_off(blk, s.nk, s.dk),
                rs: 1,
                cs: hd,
            },
            T::lit(scale),
        );
        let (bi, hi) = (blk / s.h, blk % s.h);
        // SAFETY: rows po .. po + nq * nk belong to this block only.
        let rows = unsafe { out.slice(po, s.nq * s.nk) };
        let b0 = boff + bi * bst[0] + hi * bst[1];
        bias_softmax_rows(rows, s.nk, bias, b0, bst[2], bst[3]);
    });
    p
}

/// Adds the bias (row `i`, column `j` at `bias[b0 + i * rs + j * cs]`) to each `nk`-wide row and
/// takes its softmax in place.
#[inline(always)]
fn bias_softmax<T: Real>(rows: &mut [T], nk: usize, bias: &[T], b0: usize, rs: usize, cs: usize) {
    for (i, row) in rows.chunks_mut(nk.max(1)).enumerate() {
        let (start, n) = (b0 + i * rs, row.len());
        if cs == 1 {
            for (v, &b) in row.iter_mut().zip(&bias[start..start + n]) {
                *v += b;
            }
        } else {
            for (j, v) in row.iter_mut().enumerate() {
                *v += bias[start + j * cs];
            }
        }
        softmax_in_place(row);
    }
}

/// [`bias_softmax`] compiled with AVX2 + FMA when the CPU has them. Why not [`vectorised`]: the
/// closure it takes is a function of its own that LLVM did not inline into the AVX2 copy, so
/// this softmax ran as scalar SSE code.
fn bias_softmax_rows<T: Real>(
    rows: &mut [T],
    nk: usize,
    bias: &[T],
    b0: usize,
    rs: usize,
    cs: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if super::fused::use_avx2() {
        /// # Safety
        /// The CPU must support AVX2 and FMA.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<T: Real>(r: &mut [T], nk: usize, b: &[T], b0: usize, rs: usize, cs: usize) {
            bias_softmax(r, nk, b, b0, rs, cs)
        }
        // SAFETY: checked just above.
        return unsafe { avx2(rows, nk, bias, b0, rs, cs) };
    }
    bias_softmax(rows, nk, bias, b0, rs, cs)
}

/// Gradients `(dS = dbias, dQ, dK)` of [`probs_fwd`] from `P` and `dP`.
fn probs_bwd<T: Real>(
    p: &[T],
    dp: &[T],
    q: &[T],
    k: &[T],
    s: Dims,
    scale: f64,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let hd = s.h * s.dk;
    let mut ds = zeros::<T>(p.len());
    let mut dq = zeros::<T>(s.b * s.nq * hd);
    let mut dk = zeros::<T>(s.b * s.nk * hd);
    let (ds_o, dq_o, dk_o) = (
        Shared::new(&mut ds),
        Shared::new(&mut dq),
        Shared::new(&mut dk),
    );
    each_block(s.blocks(), |blk| {
        let po = s.p_off(blk);
        let n = s.nq * s.nk;
        // SAFETY: this block's part of dS.
        let dsb = unsafe { ds_o.slice(po, n) };
        vectorised(|| {
            for ((o, pr), gr) in dsb
                .chunks_mut(s.nk.max(1))
                .zip(p[po..po + n].chunks(s.nk.max(1)))
                .zip(dp[po..po + n].chunks(s.nk.max(1)))
            {
                let mut dot = T::zr();
                for (&a, &g) in pr.iter().zip(gr) {
                    dot += a * g;
                }
                for ((ov, &a), &g) in o.iter_mut().zip(pr).zip(gr) {
                    *ov = a * (g - dot);
                }
            }
        });
        let dsm = |rs, cs| Mat {
            // SAFETY: written just above by this task; read-only from here on.
            data: unsafe { ds_o.slice(po, n) },
            off: 0,
            rs,
            cs,
        };
        let (qo, ko) = (s.tok_off(blk, s.nq, s.dk), s.tok_off(blk, s.nk, s.dk));
        // dQ = scale dS K
        product(
            (s.nq, s.dk, s.nk),
            dq_o,
            qo,
            hd,
            dsm(s.nk, 1),
            Mat {
                data: k,
                off: ko,
                rs: hd,
                cs: 1,
            },
            T::lit(scale),
        );
        // dK = scale dS^T Q
        product(
            (s.nk, s.dk, s.nq),
            dk_o,
            ko,
            hd,
            dsm(1, s.nk),
            Mat {
                data: q,
                off: qo,
                rs: hd,
                cs: 1,
            },
            T::lit(scale),
        );
    });
    (ds, dq, dk)
}

impl CustomOp3 for Probs {
    fn name(&self) -> &'static str {
        "chemlm-attention-probs"
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
        let s = probs_dims(self.heads, l1, l2, l3)?;
        dispatch_float!(s1, self.name(), |T| {
            let q = contiguous::<T>(s1, l1, self.name())?;
            let k = contiguous::<T>(s2, l2, self.name())?;
            // The bias is read through its strides (a broadcast view).
            let bias = s3.as_slice::<T>()?;
            let p = probs_fwd(q, k, bias, l3, s, self.scale);
            Ok((
                T::to_cpu_storage_owned(p),
                Shape::from((s.b, s.h, s.nq, s.nk)),
            ))
        })
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        bias: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let s = probs_dims(self.heads, q.layout(), k.layout(), bias.layout())?;
        let grad = grad.contiguous()?;
        let (qs, ql) = q.storage_and_layout();
        let (ks, kl) = k.storage_and_layout();
        let (ps, pl) = res.storage_and_layout();
        let (gs, gl) = grad.storage_and_layout();
        let name = self.name();
        let Storage::Cpu(pc) = &*ps else {
            candle_core::bail!("{name}: CPU tensors only");
        };
        let (ds, dq, dk) = dispatch_float!(pc, name, |T| {
            let (ds, dq, dk) = probs_bwd::<T>(
                cpu_slice(&ps, pl, name)?,
                cpu_slice(&gs, gl, name)?,
                cpu_slice(&qs, ql, name)?,
                cpu_slice(&ks, kl, name)?,
                s,
                self.scale,
            );
            (
                Tensor::from_vec(ds, res.shape(), res.device())?,
                Tensor::from_vec(dq, q.shape(), q.device())?,
                Tensor::from_vec(dk, k.shape(), k.device())?,
            )
        });
        Ok((Some(dq), Some(dk), Some(ds)))
    }
}

/// Attention probabilities `softmax(scale * Q K^T + bias)` `[b, heads, nq, nk]` of queries
/// `q` `[b, nq, heads * dk]` over keys `k` `[b, nk, heads * dk]`; `bias` is anything that
/// broadcasts to `[b, heads, nq, nk]` (position bias, padding and causal masks). CPU f32/f64.
pub fn probs(q: &Tensor, k: &Tensor, bias: &Tensor, heads: usize, scale: f64) -> Result<Tensor> {
    let (b, nq, width) = q.dims3()?;
    if heads == 0 || width % heads != 0 {
        candle_core::bail!("attention: width {width} is not divisible by {heads} heads");
    }
    let nk = k.dim(1)?;
    let bias = bias.broadcast_as((b, heads, nq, nk))?;
    q.contiguous()?
        .apply_op3(&k.contiguous()?, &bias, Probs { heads, scale })
}

// ---------------------------------------------------------------- context

/// `dropout(P) V`, merged back to `[b, nq, heads * dv]`.
struct Context {
    dropout: Option<DropoutMask>,
}

fn context_dims(p: &Layout, v: &Layout) -> Result<Dims> {
    let (pd, vd) = (p.dims(), v.dims());
    if pd.len() != 4 || vd.len() != 3 || vd[0] != pd[0] || vd[1] != pd[3] || vd[2] % pd[1] != 0 {
        candle_core::bail!("attention: probs {pd:?} and v {vd:?} do not match");
    }
    Ok(Dims {
        b: pd[0],
        h: pd[1],
        nq: pd[2],
        nk: pd[3],
        dk: 0,
        dv: vd[2] / pd[1],
    })
}

/// The dropout multipliers (1/keep or 0) of block `blk` of `P`, or `None` without dropout.
fn block_mask<T: Real>(s: Dims, blk: usize, mask: &Option<DropoutMask>) -> Option<Vec<T>> {
    mask.map(|m| {
        let mut w = vec![T::lit(1.0); s.nq * s.nk];
        m.scale_block(s.p_off(blk), &mut w);
        w
    })
}

/// Block `blk` of `P` times its dropout multipliers (borrowed as it is without dropout).
fn dropped<'a, T: Real>(
    p: &'a [T],
    s: Dims,
    blk: usize,
    mult: Option<&[T]>,
) -> std::borrow::Cow<'a, [T]> {
    let (po, n) = (s.p_off(blk), s.nq * s.nk);
    match mult {
        None => std::borrow::Cow::Borrowed(&p[po..po + n]),
        Some(w) => {
            std::borrow::Cow::Owned(p[po..po + n].iter().zip(w).map(|(&a, &b)| a * b).collect())
        }
    }
}

fn context_fwd<T: Real>(p: &[T], v: &[T], s: Dims, mask: &Option<DropoutMask>) -> Vec<T> {
    let hd = s.h * s.dv;
    let mut c = zeros::<T>(s.b * s.nq * hd);
    let out = Shared::new(&mut c);
    each_block(s.blocks(), |blk| {
        let mult = block_mask::<T>(s, blk, mask);
        let pd = dropped(p, s, blk, mult.as_deref());
        product(
            (s.nq, s.dv, s.nk),
            out,
            s.tok_off(blk, s.nq, s.dv),
            hd,
            Mat {
                data: &pd,
                off: 0,
                rs: s.nk,
                cs: 1,
            },
            Mat {
                data: v,
                off: s.tok_off(blk, s.nk, s.dv),
                rs: hd,
                cs: 1,
            },
            T::lit(1.0),
        );
    });
    c
}

/// Gradients `(dP, dV)` of [`context_fwd`] from `dC`.
fn context_bwd<T: Real>(
    p: &[T],
    v: &[T],
    dc: &[T],
    s: Dims,
    mask: &Option<DropoutMask>,
) -> (Vec<T>, Vec<T>) {
    let hd = s.h * s.dv;
    let mut dp = zeros::<T>(p.len());
    let mut dv = zeros::<T>(s.b * s.nk * hd);
    let (dp_o, dv_o) = (Shared::new(&mut dp), Shared::new(&mut dv));
    each_block(s.blocks(), |blk| {
        let (po, n) = (s.p_off(blk), s.nq * s.nk);
        let (co, vo) = (s.tok_off(blk, s.nq, s.dv), s.tok_off(blk, s.nk, s.dv));
        // dP = mask * (dC V^T)
        product(
            (s.nq, s.nk, s.dv),
            dp_o,
            po,
            s.nk,
            Mat {
                data: dc,
                off: co,
                rs: hd,
                cs: 1,
            },
            Mat {
                data: v,
                off: vo,
                rs: 1,
                cs: hd,
            },
            T::lit(1.0),
        );
        // One walk of the mask serves dP and dropout(P).
        let mult = block_mask::<T>(s, blk, mask);
        if let Some(w) = &mult {
            // SAFETY: this block's part of dP, written just above by this task.
            let b = unsafe { dp_o.slice(po, n) };
            for (x, &m) in b.iter_mut().zip(w) {
                *x *= m;
            }
        }
        // dV = dropout(P)^T dC
        let pd = dropped(p, s, blk, mult.as_deref());
        product(
            (s.nk, s.dv, s.nq),
            dv_o,
            vo,
            hd,
            Mat {
                data: &pd,
                off: 0,
                rs: 1,
                cs: s.nk,
            },
            Mat {
                data: dc,
                off: co,
                rs: hd,
                cs: 1,
            },
            T::lit(1.0),
        );
    });
    (dp, dv)
}

impl CustomOp2 for Context {
    fn name(&self) -> &'static str {
        "chemlm-attention-context"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let s = context_dims(l1, l2)?;
        dispatch_float!(s1, self.name(), |T| {
            let p = contiguous::<T>(s1, l1, self.name())?;
            let v = contiguous::<T>(s2, l2, self.name())?;
            let c = context_fwd(p, v, s, &self.dropout);
            Ok((
                T::to_cpu_storage_owned(c),
                Shape::from((s.b, s.nq, s.h * s.dv)),
            ))
        })
    }

    fn bwd(
        &self,
        p: &Tensor,
        v: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let s = context_dims(p.layout(), v.layout())?;
        let grad = grad.contiguous()?;
        let (ps, pl) = p.storage_and_layout();
        let (vs, vl) = v.storage_and_layout();
        let (gs, gl) = grad.storage_and_layout();
        let name = self.name();
        let Storage::Cpu(pc) = &*ps else {
            candle_core::bail!("{name}: CPU tensors only");
        };
        let (dp, dv) = dispatch_float!(pc, name, |T| {
            let (dp, dv) = context_bwd::<T>(
                cpu_slice(&ps, pl, name)?,
                cpu_slice(&vs, vl, name)?,
                cpu_slice(&gs, gl, name)?,
                s,
                &self.dropout,
            );
            (
                Tensor::from_vec(dp, p.shape(), p.device())?,
                Tensor::from_vec(dv, v.shape(), v.device())?,
            )
        });
        Ok((Some(dp), Some(dv)))
    }
}

/// Context `dropout(probs) V` `[b, nq, heads * dv]` of probabilities `probs`
/// `[b, heads, nq, nk]` (from [`probs`]) over values `v` `[b, nk, heads * dv]`. The dropout
/// mask is [`DropoutMask`]'s over the elements of `probs`. CPU f32/f64.
pub fn context(probs: &Tensor, v: &Tensor, dropout: Option<DropoutMask>) -> Result<Tensor> {
    probs
        .contiguous()?
        .apply_op2(&v.contiguous()?, Context { dropout })
}
