//! Fused CPU kernels on the force-field hot path (f32 and f64; other devices and dtypes use the
//! composed candle ops).
//!
//! Why: a force-training step is a forward pass, a backward pass for the forces and a second
//! backward through both. Built from stock ops, every dense layer's bias is a broadcast whose
//! backward is a serial strided reduction, every shifted softplus recomputes a sigmoid through
//! a scalar libm loop, and the force pass computes weight gradients nobody reads (a third of
//! its matrix products). Here each of those is one parallel pass.
//!
//! Every op's backward is made of ops that are themselves differentiable (other ops of this
//! module or candle ops), so gradients of gradients stay exact; `tests/fused.rs` checks values,
//! first and second derivatives against the composed forms.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Result, Shape};
use candle_core::{Tensor, WithDType};
use chemlm_models::dispatch_float;
use chemlm_models::ops::fused::{contiguous, for_each_chunk, uninit, vectorised, Real};
use std::cell::Cell;

thread_local! {
    /// Set while a backward pass whose only wanted gradient is the positions' runs.
    static POSITIONS_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, a backward pass of which only the gradient with respect to the positions will be
/// read (forces), with the weight and bias gradients of [`dense`] skipped.
/// The flag is per thread (candle's backward runs on the calling thread) and restored on exit.
pub fn positions_only<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            POSITIONS_ONLY.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(POSITIONS_ONLY.with(|p| p.replace(true)));
    f()
}

fn skip_weight_gradients() -> bool {
    POSITIONS_ONLY.with(Cell::get)
}

/// Whether the fused kernels apply to `t`.
pub(crate) fn fused_here(t: &Tensor) -> bool {
    t.device().is_cpu() && matches!(t.dtype(), DType::F32 | DType::F64)
}

/// Elements per rayon task of an element-wise kernel.
const CHUNK: usize = 8 * 1024;

/// f32/f64 helpers the kernels below need beyond [`Real`].
trait Float: Real {
    /// ln(1 + t) for t in [0, 1].
    fn ln1p_unit(self) -> Self;
}

impl Float for f32 {
    /// ln(1 + t) = 2 atanh(s), s = t / (2 + t) ≤ 1/3: eight odd terms of the series leave an
    /// error below 1e-9, and the loop stays free of libm calls (it vectorises).
    #[inline(always)]
    fn ln1p_unit(self) -> f32 {
        let s = self / (2.0 + self);
        let u = s * s;
        let mut p = 1.0 / 15.0;
        p = p * u + 1.0 / 13.0;
        p = p * u + 1.0 / 11.0;
        p = p * u + 1.0 / 9.0;
        p = p * u + 1.0 / 7.0;
        p = p * u + 1.0 / 5.0;
        p = p * u + 1.0 / 3.0;
        p = p * u + 1.0;
        2.0 * s * p
    }
}

impl Float for f64 {
    fn ln1p_unit(self) -> f64 {
        self.ln_1p()
    }
}

#[inline(always)]
fn sigmoid<T: Float>(x: T) -> T {
    T::lit(1.0) / (T::lit(1.0) + (T::zr() - x).exp_fast())
}

#[inline(always)]
fn ssp<T: Float>(x: T) -> T {
    let ax = if x < T::zr() { T::zr() - x } else { x };
    let relu = if x > T::zr() { x } else { T::zr() };
    relu + (T::zr() - ax).exp_fast().ln1p_unit() - T::lit(std::f64::consts::LN_2)
}

/// Contiguous view of an op input.
fn cont(t: &Tensor) -> Result<Tensor> {
    t.contiguous()
}

fn same_shapes(what: &str, layouts: &[&Layout]) -> Result<()> {
    if layouts.windows(2).any(|p| p[0].dims() != p[1].dims()) {
        let dims: Vec<_> = layouts.iter().map(|l| l.dims().to_vec()).collect();
        candle_core::bail!("{what}: shapes differ: {dims:?}");
    }
    Ok(())
}

/// Element-wise map of one input, in parallel chunks.
fn map1<T: Float>(x: &[T], f: impl Fn(T) -> T + Sync) -> CpuStorage {
    // SAFETY: the map writes every element.
    let mut out = unsafe { uninit(x.len()) };
    for_each_chunk(&mut out, CHUNK, |k, o| {
        let x = &x[k * CHUNK..];
        vectorised(|| o.iter_mut().zip(x).for_each(|(o, &x)| *o = f(x)))
    });
    T::to_cpu_storage_owned(out)
}

/// Element-wise map of two inputs of the same length.
fn map2<T: Float>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> CpuStorage {
    // SAFETY: the map writes every element.
    let mut out = unsafe { uninit(a.len()) };
    for_each_chunk(&mut out, CHUNK, |k, o| {
        let (a, b) = (&a[k * CHUNK..], &b[k * CHUNK..]);
        vectorised(|| {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = f(a, b);
            }
        })
    });
    T::to_cpu_storage_owned(out)
}

/// Element-wise map of three inputs of the same length.
fn map3<T: Float>(a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T + Sync) -> CpuStorage {
    // SAFETY: the map writes every element.
    let mut out = unsafe { uninit(a.len()) };
    for_each_chunk(&mut out, CHUNK, |k, o| {
        let (a, b, c) = (&a[k * CHUNK..], &b[k * CHUNK..], &c[k * CHUNK..]);
        vectorised(|| {
            for (((o, &a), &b), &c) in o.iter_mut().zip(a).zip(b).zip(c) {
                *o = f(a, b, c);
            }
        })
    });
    T::to_cpu_storage_owned(out)
}

// ------------------------------------------------------------------ shifted softplus

/// SchNet's shifted softplus ln(0.5·eˣ + 0.5) in one parallel pass. Its derivative is σ(x),
/// applied by [`SigmoidMul`] without materialising σ(x).
pub fn shifted_softplus(x: &Tensor) -> Result<Tensor> {
    cont(x)?.apply_op1(ShiftedSoftplus)
}

struct ShiftedSoftplus;

impl CustomOp1 for ShiftedSoftplus {
    fn name(&self) -> &'static str {
        "chemlm-ff-shifted-softplus"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch_float!(s, self.name(), |T| {
            let x = contiguous::<T>(s, l, self.name())?;
            Ok((map1(x, ssp::<T>), l.shape().clone()))
        })
    }
    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(sigmoid_mul(grad, x)?))
    }
}

/// g · σ(x), element-wise (same shapes).
pub fn sigmoid_mul(g: &Tensor, x: &Tensor) -> Result<Tensor> {
    cont(g)?.apply_op2(&cont(x)?, SigmoidMul)
}

struct SigmoidMul;

impl CustomOp2 for SigmoidMul {
    fn name(&self) -> &'static str {
        "chemlm-ff-sigmoid-mul"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        same_shapes(self.name(), &[l1, l2])?;
        dispatch_float!(s1, self.name(), |T| {
            let g = contiguous::<T>(s1, l1, self.name())?;
            let x = contiguous::<T>(s2, l2, self.name())?;
            Ok((map2(g, x, |g, x| g * sigmoid(x)), l1.shape().clone()))
        })
    }
    fn bwd(
        &self,
        g: &Tensor,
        x: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((
            Some(sigmoid_mul(grad, x)?),
            Some(sigmoid_prime_mul(grad, g, x)?),
        ))
    }
}

/// a · b · σ'(x) = a · b · σ(x)(1 − σ(x)), element-wise (same shapes).
pub fn sigmoid_prime_mul(a: &Tensor, b: &Tensor, x: &Tensor) -> Result<Tensor> {
    cont(a)?.apply_op3(&cont(b)?, &cont(x)?, SigmoidPrimeMul)
}

struct SigmoidPrimeMul;

impl CustomOp3 for SigmoidPrimeMul {
    fn name(&self) -> &'static str {
        "chemlm-ff-sigmoid-prime-mul"
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
        same_shapes(self.name(), &[l1, l2, l3])?;
        dispatch_float!(s1, self.name(), |T| {
            let a = contiguous::<T>(s1, l1, self.name())?;
            let b = contiguous::<T>(s2, l2, self.name())?;
            let x = contiguous::<T>(s3, l3, self.name())?;
            let out = map3(a, b, x, |a, b, x| {
                let s = sigmoid(x);
                a * b * s * (T::lit(1.0) - s)
            });
            Ok((out, l1.shape().clone()))
        })
    }
    /// Third derivatives, never on a training path: composed, but exact.
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        x: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let s = candle_nn::ops::sigmoid(x)?;
        let one_minus_2s = s.affine(-2.0, 1.0)?;
        let dx = sigmoid_prime_mul(grad, &(a * b)?, x)?.mul(&one_minus_2s)?;
        Ok((
            Some(sigmoid_prime_mul(grad, b, x)?),
            Some(sigmoid_prime_mul(grad, a, x)?),
            Some(dx),
        ))
    }
}

// ------------------------------------------------------------------ dense layers

mod dense;
pub use dense::{dense, half_exp_neg_mul, linear, ssp_grad, Epilogue};

/// Column sums `[n, d] → [d]`: fixed blocks of rows summed in parallel, then added in block
/// order, so the result does not depend on the number of threads.
pub fn column_sum(g: &Tensor) -> Result<Tensor> {
    if !fused_here(g) || g.rank() != 2 {
        return g.sum(0);
    }
    cont(g)?.apply_op1(ColumnSum)
}

struct ColumnSum;

/// Rows per block of [`ColumnSum`].
const SUM_ROWS: usize = 256;

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "chemlm-ff-column-sum"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (_, d) = l.shape().dims2()?;
        dispatch_float!(s, self.name(), |T| {
            let g = contiguous::<T>(s, l, self.name())?;
            let mut total = vec![T::zr(); d];
            if d > 0 {
                let blocks = g.len().div_ceil(SUM_ROWS * d);
                let mut partial = vec![T::zr(); blocks * d];
                for_each_chunk(&mut partial, d, |k, acc| {
                    let block = &g[k * SUM_ROWS * d..((k + 1) * SUM_ROWS * d).min(g.len())];
                    vectorised(|| {
                        for row in block.chunks(d) {
                            acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v);
                        }
                    })
                });
                for p in partial.chunks(d) {
                    total.iter_mut().zip(p).for_each(|(t, &v)| *t += v);
                }
            }
            Ok((T::to_cpu_storage_owned(total), Shape::from(d)))
        })
    }
    fn bwd(&self, g: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.unsqueeze(0)?.broadcast_as(g.shape())?))
    }
}

// ------------------------------------------------------------------ per-row scaling

/// `x[n, d] · c[n, 1]` (every row scaled by its own number: filters by the cutoff of their
/// edge, by a direction component), one parallel pass instead of candle's broadcast, whose
/// backward reduces `[n, d]` to `[n, 1]` through a strided sum. Backward: [`scale_rows`] and
/// [`row_dot`], which close under differentiation.
pub fn scale_rows(x: &Tensor, c: &Tensor) -> Result<Tensor> {
    let fits = x.rank() == 2 && c.dims() == [x.dim(0)?, 1] && x.dtype() == c.dtype();
    if !fused_here(x) || !fits {
        return x.broadcast_mul(c);
    }
    cont(x)?.apply_op2(&cont(c)?, ScaleRows)
}

/// Row-wise dot products `Σ_k a[n, k] b[n, k]` as `[n, 1]`.
pub fn row_dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if !fused_here(a) || a.rank() != 2 || a.dims() != b.dims() || a.dtype() != b.dtype() {
        return (a * b)?.sum_keepdim(1);
    }
    cont(a)?.apply_op2(&cont(b)?, RowDot)
}

struct ScaleRows;

impl CustomOp2 for ScaleRows {
    fn name(&self) -> &'static str {
        "chemlm-ff-scale-rows"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, d) = l1.shape().dims2()?;
        if l2.dims() != [n, 1] {
            candle_core::bail!(
                "{}: rows {:?}, scales {:?}",
                self.name(),
                l1.dims(),
                l2.dims()
            );
        }
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let c = contiguous::<T>(s2, l2, self.name())?;
            // SAFETY: with d > 0 the row loop writes every element; with d = 0 there are none.
            let mut out = unsafe { uninit(n * d) };
            if let Some(rows) = CHUNK.checked_div(d) {
                let rows = rows.max(1);
                for_each_chunk(&mut out, rows * d, |k, o| {
                    let (x, c) = (&x[k * rows * d..], &c[k * rows..]);
                    vectorised(|| {
                        for ((o, x), &c) in o.chunks_mut(d).zip(x.chunks(d)).zip(c) {
                            o.iter_mut().zip(x).for_each(|(o, &x)| *o = x * c);
                        }
                    })
                });
            }
            Ok((T::to_cpu_storage_owned(out), l1.shape().clone()))
        })
    }
    fn bwd(
        &self,
        x: &Tensor,
        c: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(scale_rows(grad, c)?), Some(row_dot(grad, x)?)))
    }
}

struct RowDot;

impl CustomOp2 for RowDot {
    fn name(&self) -> &'static str {
        "chemlm-ff-row-dot"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        same_shapes(self.name(), &[l1, l2])?;
        let (n, d) = l1.shape().dims2()?;
        dispatch_float!(s1, self.name(), |T| {
            let a = contiguous::<T>(s1, l1, self.name())?;
            let b = contiguous::<T>(s2, l2, self.name())?;
            let mut out = if d == 0 {
                chemlm_models::ops::fused::zeros(n)
            } else {
                // SAFETY: with d > 0 the row loop below writes every element.
                unsafe { uninit(n) }
            };
            if let Some(rows) = CHUNK.checked_div(d) {
                let rows = rows.max(1);
                for_each_chunk(&mut out, rows, |k, o| {
                    let (a, b) = (&a[k * rows * d..], &b[k * rows * d..]);
                    vectorised(|| {
                        for ((o, a), b) in o.iter_mut().zip(a.chunks(d)).zip(b.chunks(d)) {
                            *o = a.iter().zip(b).fold(T::zr(), |s, (&a, &b)| s + a * b);
                        }
                    })
                });
            }
            Ok((T::to_cpu_storage_owned(out), Shape::from((n, 1))))
        })
    }
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(scale_rows(b, grad)?), Some(scale_rows(a, grad)?)))
    }
}
