//! Fused, multi-threaded CPU kernels with hand-written backward passes.
//!
//! Why: candle composes layer norm, softmax and GELU from 5–10 single-threaded elementwise ops, each
//! allocating a full-size temporary, and their backward passes double that. Here each forward is
//! one parallel pass over rows (rayon), and each backward is one more `CustomOp` (so the autograd
//! graph holds a single node per op). Each kernel supports f32 (speed) and f64 (finite-difference
//! tests). The composed versions in the sibling modules are the reference they are tested against.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, WithDType,
};
use rayon::prelude::*;

/// Scalar arithmetic the kernels need, for f32 and f64.
/// f32 or f64 inside a fused CPU kernel (shared with chemlm-ff's kernels).
pub trait Real:
    WithDType
    + Copy
    + Send
    + Sync
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + PartialOrd
{
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn erf_(self) -> Self;
    /// tanh: [`tanh_f32_fast`] (vectorisable, within 4e-7) in f32, libm in f64.
    fn tanh_(self) -> Self;
    /// `e^x` for `x <= 88`: [`exp_f32`] (vectorisable, within 2 ulp) in f32, libm in f64.
    fn exp_fast(self) -> Self;
    fn zr() -> Self;
    fn lit(v: f64) -> Self;
}

impl Real for f32 {
    #[inline(always)]
    fn exp(self) -> Self {
        f32::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        f32::ln(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn erf_(self) -> Self {
        erf_f32_fast(self)
    }
    #[inline(always)]
    fn tanh_(self) -> Self {
        tanh_f32_fast(self)
    }
    #[inline(always)]
    fn exp_fast(self) -> Self {
        exp_f32(self)
    }
    #[inline(always)]
    fn zr() -> Self {
        0.0
    }
    #[inline(always)]
    fn lit(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    #[inline(always)]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn erf_(self) -> Self {
        candle_core::cpu::erf::erf_f64(self)
    }
    #[inline(always)]
    fn tanh_(self) -> Self {
        f64::tanh(self)
    }
    #[inline(always)]
    fn exp_fast(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn zr() -> Self {
        0.0
    }
    #[inline(always)]
    fn lit(v: f64) -> Self {
        v
    }
}

/// erf for f32 as one rational function of `x` on [-4, 4] (odd degree-13 numerator, even
/// degree-8 denominator; the minimax fit Eigen and XLA use), clamped there: f32's erf is ±1 to
/// within one rounding step beyond. Branch-free, so GELU loops vectorise; libm's `erff` call per element was 4.5 % of
/// a bert-small training step. Within 1e-6 of the f64 erf (`tests/fused_ops.rs`).
#[inline(always)]
pub fn erf_f32_fast(x: f32) -> f32 {
    // Plain multiply-adds: `mul_add` would be a libm call on the x86-64 baseline (no FMA).
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p - 2.101_024e-6;
    p = x2 * p - 5.692_506_4e-5;
    p = x2 * p - 7.349_906_3e-4;
    p = x2 * p - 2.954_600_1e-3;
    p = x2 * p - 1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 - 2.133_740_6e-4;
    q = x2 * q - 1.682_827e-3;
    q = x2 * q - 7.373_329e-3;
    q = x2 * q - 1.426_474e-2;
    x * p / q
}

/// tanh for f32 as one rational function (odd degree-13 numerator, even degree-6 denominator;
/// Eigen's fast float tanh fit), clamped at ±7.905 where f32's tanh is ±1. Branch-free, so the
/// tanh-GELU loops vectorise: libm's `tanhf` (and the `expm1f` inside it) took 20 % of ChemGPT
/// sampling. Within 4e-7 of the f64 tanh (`tests/fused_ops.rs`).
#[inline(always)]
pub fn tanh_f32_fast(x: f32) -> f32 {
    let x = x.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let mut p = x2 * -2.760_768_5e-16 + 2.000_188e-13;
    p = x2 * p - 8.604_672e-11;
    p = x2 * p + 5.122_297e-8;
    p = x2 * p + 1.485_722_4e-5;
    p = x2 * p + 6.372_619_3e-4;
    p = x2 * p + 4.893_524_6e-3;
    let mut q = x2 * 1.198_258_4e-6 + 1.185_347_1e-4;
    q = x2 * q + 2.268_434_6e-3;
    q = x2 * q + 4.893_525e-3;
    x * p / q
}

/// `e^x` without a libm call, so that loops over it vectorise: Cody–Waite reduction
/// `x = n ln 2 + r`, Cephes' degree-6 polynomial for `e^r` on `|r| <= ln 2 / 2`, and `2^n` from
/// the exponent bits. Within 2 ulp of libm on [-87, 88] (tests); inputs above 88.3 are clamped
/// there, inputs below -87.3 give exactly 0 (as masked attention scores must: a blocked key
/// then gets exactly no weight and no gradient), where libm would give a denormal.
#[inline(always)]
pub fn exp_f32(x_in: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round to nearest by adding and removing 1.5·2²³ (exact for |x·log2 e| < 2²²): `round()`
    // is a libm call on the x86-64 baseline and would stop the loops around it vectorising.
    const SHIFT: f32 = 12_582_912.0;
    let x = x_in.clamp(-87.3, 88.3);
    let n = (x * LOG2E + SHIFT) - SHIFT;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2ⁿ from the bits of n + 1.5·2²³ (n sits in the low mantissa bits): integer ops only, no
    // float-to-int conversion (`as i32` saturates, which the baseline cannot vectorise).
    let n_bits = (x * LOG2E + SHIFT).to_bits();
    let e = y * f32::from_bits(n_bits.wrapping_sub(SHIFT.to_bits() - 127) << 23);
    // A select, not a branch: the loops around stay vectorised.
    if x_in < -87.3 {
        0.0
    } else {
        e
    }
}

/// Whether this CPU has AVX2 and FMA (checked once).
pub fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVX2.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Runs `f` compiled for AVX2 where the CPU has it (the release build targets the x86-64
/// baseline, SSE2, so element-wise loops would otherwise run 4 floats wide). `f` should be a
/// small loop of `#[inline(always)]` arithmetic, so that it is inlined into the AVX2 copy;
/// results are the same either way (no FMA contraction: Rust never fuses a·b + c on its own).
#[inline(always)]
pub fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        /// # Safety
        /// The CPU must support AVX2 and FMA ([`use_avx2`]).
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: checked just above.
        return unsafe { avx2(f) };
    }
    f()
}

/// Lanes of the split accumulators below: 8 f32 fill one AVX2 register.
const LANES: usize = 8;

/// Maximum of a non-empty row, in `LANES` interleaved partial maxima: a float reduction in one
/// accumulator has to run in order, so it does not vectorise.
#[inline(always)]
pub fn row_max<T: Real>(row: &[T]) -> T {
    let mut acc = [row[0]; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            if v > *a {
                *a = v;
            }
        }
    }
    let mut m = acc[0];
    for &v in acc[1..].iter().chain(tail) {
        if v > m {
            m = v;
        }
    }
    m
}

/// `sum_j exp(row[j] - shift)` with [`Real::exp_fast`], in `LANES` interleaved partial sums
/// (vectorises; the order of additions differs from a left-to-right sum by rounding only).
#[inline(always)]
pub fn sum_exp_shifted<T: Real>(row: &[T], shift: T) -> T {
    let mut acc = [T::zr(); LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += (v - shift).exp_fast();
        }
    }
    let mut sum = T::zr();
    for &v in tail {
        sum += (v - shift).exp_fast();
    }
    for a in acc {
        sum += a;
    }
    sum
}

/// `row[j] = exp(row[j] - shift)` in place, returning their sum (as [`sum_exp_shifted`]).
#[inline(always)]
pub fn exp_shifted_in_place<T: Real>(row: &mut [T], shift: T) -> T {
    let mut acc = [T::zr(); LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c.iter_mut()) {
            *v = (*v - shift).exp_fast();
            *a += *v;
        }
    }
    let mut sum = T::zr();
    for v in chunks.into_remainder() {
        *v = (*v - shift).exp_fast();
        sum += *v;
    }
    for a in acc {
        sum += a;
    }
    sum
}

/// Softmax of one non-empty row in place (max-shifted).
#[inline(always)]
pub fn softmax_in_place<T: Real>(row: &mut [T]) {
    if row.is_empty() {
        return;
    }
    let max = row_max(row);
    let sum = exp_shifted_in_place(row, max);
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// A zero-filled buffer of `n` elements for a kernel's output, zeroed in parallel when large.
/// Why: freed tensor memory is reused from the heap (see [`crate::alloc::tune_allocator`]), so
/// `vec![0; n]` is a memset on the calling thread, 3 % of a bert-small training step while the
/// other core waited.
pub fn zeros<T: Real>(n: usize) -> Vec<T> {
    const PAR_MIN: usize = 64 * 1024;
    if n < PAR_MIN || rayon::current_num_threads() <= 1 {
        return vec![T::zr(); n];
    }
    let mut v: Vec<T> = Vec::with_capacity(n);
    v.spare_capacity_mut()[..n]
        .par_chunks_mut(16 * 1024)
        .for_each(|c| {
            for x in c {
                x.write(T::zr());
            }
        });
    // SAFETY: the loop above initialised all n elements.
    unsafe { v.set_len(n) };
    v
}

/// An output buffer of `n` elements with unspecified contents, for a kernel that writes every
/// element. Why: zero-filling outputs that the kernel overwrites anyway was 6–8 % of a SchNet
/// force-training step (a memset per op over buffers far larger than the caches); the first
/// write is now the kernel's own, on its own thread.
///
/// # Safety
/// The caller must write every element before any is read or the buffer leaves the kernel.
#[allow(clippy::uninit_vec)]
pub unsafe fn uninit<T: Real>(n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    // SAFETY: capacity is n; T is f32/f64/f16/bf16 (every bit pattern a value), and the
    // caller initialises all n elements before reading them (this function's contract).
    unsafe { v.set_len(n) };
    v
}

/// Runs `f(k, chunk)` over the `chunk`-element pieces of `out` (piece `k` starts at element
/// `k * chunk`): in parallel when there are several pieces and several threads, otherwise on
/// the calling thread. Why: rayon hands work from a thread outside its pool (the trainer's, the
/// MD loop's) to a worker and back, two context switches per call, which cost more than the
/// work itself on small tensors (measured: a PaiNN MD step on one 21-atom molecule took twice
/// as long with one thread as without the kernels).
pub fn for_each_chunk<T: Send>(
    out: &mut [T],
    chunk: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let chunk = chunk.max(1);
    if out.len() <= chunk || rayon::current_num_threads() <= 1 {
        out.chunks_mut(chunk).enumerate().for_each(|(k, o)| f(k, o));
    } else {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(k, o)| f(k, o));
    }
}

/// Rows per rayon task: enough work per task that scheduling stays negligible.
pub fn rows_per_task(rows: usize, width: usize) -> usize {
    let target = 16 * 1024 / width.max(1);
    target.clamp(1, rows.max(1))
}

/// Elements per rayon task for `len` elements in rows of `width`: whole rows, and never 0 (a
/// zero-width tensor has no rows to split, but `par_chunks` refuses a chunk size of 0).
pub fn row_chunk(len: usize, width: usize) -> usize {
    (rows_per_task(len / width.max(1), width) * width).max(1)
}

/// The contiguous slice of a CPU storage, or an error naming `what`.
pub fn contiguous<'a, T: WithDType>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [T]> {
    let data = s.as_slice::<T>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{what}: fused kernel needs a contiguous input"),
    }
}

/// Runs `$body` with `$t` bound to f32 or f64 after the storage's dtype (an error otherwise).
/// Callers import `candle_core::CpuStorage`.
#[macro_export]
macro_rules! dispatch_float {
    ($storage:expr, $name:expr, |$t:ident| $body:expr) => {
        match $storage {
            CpuStorage::F32(_) => {
                type $t = f32;
                $body
            }
            CpuStorage::F64(_) => {
                type $t = f64;
                $body
            }
            _ => candle_core::bail!("{}: only f32/f64 are supported", $name),
        }
    };
}
pub use dispatch_float;

// ---------------------------------------------------------------- softmax

struct Softmax;
struct SoftmaxBwd;

fn softmax_rows<T: Real>(x: &[T], d: usize) -> Vec<T> {
    // SAFETY: every chunk is first copied from `x`.
    let mut out = unsafe { uninit(x.len()) };
    let chunk = row_chunk(x.len(), d);
    out.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .for_each(|(o, xs)| {
            o.copy_from_slice(xs);
            vectorised(|| {
                for row in o.chunks_mut(d) {
                    softmax_in_place(row);
                }
            })
        });
    out
}

fn softmax_bwd_rows<T: Real>(y: &[T], g: &[T], d: usize) -> Vec<T> {
    // SAFETY: the row loop writes every element.
    let mut out = unsafe { uninit(y.len()) };
    let chunk = row_chunk(y.len(), d);
    out.par_chunks_mut(chunk)
        .zip(y.par_chunks(chunk).zip(g.par_chunks(chunk)))
        .for_each(|(o, (ys, gs))| {
            vectorised(|| {
                for ((orow, yrow), grow) in o.chunks_mut(d).zip(ys.chunks(d)).zip(gs.chunks(d)) {
                    let mut dot = T::zr();
                    for (&a, &b) in yrow.iter().zip(grow) {
                        dot += a * b;
                    }
                    for ((ov, &a), &b) in orow.iter_mut().zip(yrow).zip(grow) {
                        *ov = a * (b - dot);
                    }
                }
            })
        });
    out
}

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "chemlm-softmax"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = l.dims().last().copied().unwrap_or(1);
        dispatch_float!(s, self.name(), |T| {
            let x = contiguous::<T>(s, l, self.name())?;
            Ok((
                T::to_cpu_storage_owned(softmax_rows(x, d)),
                l.shape().clone(),
            ))
        })
    }
    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let g = grad.contiguous()?;
        Ok(Some(res.apply_op2_no_bwd(&g, &SoftmaxBwd)?))
    }
}

impl CustomOp2 for SoftmaxBwd {
    fn name(&self) -> &'static str {
        "chemlm-softmax-bwd"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = l1.dims().last().copied().unwrap_or(1);
        dispatch_float!(s1, self.name(), |T| {
            let y = contiguous::<T>(s1, l1, self.name())?;
            let g = contiguous::<T>(s2, l2, self.name())?;
            Ok((
                T::to_cpu_storage_owned(softmax_bwd_rows(y, g, d)),
                l1.shape().clone(),
            ))
        })
    }
}

/// Softmax over the last dim (fused forward and backward).
pub fn softmax(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(Softmax)
}

// ---------------------------------------------------------------- gelu (erf and tanh)

/// An element-wise function `value(x)` and its backward `grad(x, g) = g * value'(x)`, as
/// associated functions so that the loops below are monomorphised with them inlined.
///
/// Why not closures through [`vectorised`]: a closure's body is its own function, compiled for
/// the baseline CPU, and LLVM did not inline it into the AVX2 wrapper once it held an erf and an
/// exp: erf-GELU's backward ran as scalar SSE code (`movss`), 4 % of a bert-small training step.
/// Here the loops are inlined into functions that carry the AVX2 feature themselves.
trait Elementwise {
    fn value<T: Real>(x: T) -> T;
    fn grad<T: Real>(x: T, g: T) -> T;
}

/// `sqrt(2 / pi)` and the cubic coefficient of the tanh approximation (as transformers'
/// `NewGELUActivation` and candle's `gelu`).
const GELU_C: f64 = 0.797_884_560_802_865_4;
const GELU_A: f64 = 0.044_715;

/// Exact GELU `0.5 x (1 + erf(x / sqrt 2))`.
struct ErfGelu;

impl Elementwise for ErfGelu {
    #[inline(always)]
    fn value<T: Real>(v: T) -> T {
        T::lit(0.5) * v * (T::lit(1.0) + (v * T::lit(std::f64::consts::FRAC_1_SQRT_2)).erf_())
    }
    #[inline(always)]
    fn grad<T: Real>(v: T, g: T) -> T {
        let cdf =
            T::lit(0.5) * (T::lit(1.0) + (v * T::lit(std::f64::consts::FRAC_1_SQRT_2)).erf_());
        let pdf =
            (T::lit(-0.5) * v * v).exp_fast() * T::lit(1.0 / (2.0 * std::f64::consts::PI).sqrt());
        g * (cdf + v * pdf)
    }
}

/// tanh GELU `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`.
struct TanhGelu;

impl Elementwise for TanhGelu {
    #[inline(always)]
    fn value<T: Real>(v: T) -> T {
        let u = T::lit(GELU_C) * (v + T::lit(GELU_A) * v * v * v);
        T::lit(0.5) * v * (T::lit(1.0) + u.tanh_())
    }
    #[inline(always)]
    fn grad<T: Real>(v: T, g: T) -> T {
        let v2 = v * v;
        let t = (T::lit(GELU_C) * (v + T::lit(GELU_A) * v2 * v)).tanh_();
        let du = T::lit(GELU_C) * (T::lit(1.0) + T::lit(3.0 * GELU_A) * v2);
        g * (T::lit(0.5) * (T::lit(1.0) + t) + T::lit(0.5) * v * (T::lit(1.0) - t * t) * du)
    }
}

#[inline(always)]
fn value_chunk<T: Real, F: Elementwise>(o: &mut [T], xs: &[T]) {
    for (ov, &v) in o.iter_mut().zip(xs) {
        *ov = F::value(v);
    }
}

#[inline(always)]
fn grad_chunk<T: Real, F: Elementwise>(o: &mut [T], xs: &[T], gs: &[T]) {
    for ((ov, &v), &gv) in o.iter_mut().zip(xs).zip(gs) {
        *ov = F::grad(v, gv);
    }
}

/// `F::value` over `x`, in parallel chunks.
fn values_par<T: Real, F: Elementwise>(x: &[T]) -> Vec<T> {
    // SAFETY: the map writes every element.
    let mut out = unsafe { uninit(x.len()) };
    out.par_chunks_mut(16 * 1024)
        .zip(x.par_chunks(16 * 1024))
        .for_each(|(o, xs)| {
            #[cfg(target_arch = "x86_64")]
            if use_avx2() {
                /// # Safety
                /// The CPU must support AVX2 and FMA ([`use_avx2`]).
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2<T: Real, F: Elementwise>(o: &mut [T], xs: &[T]) {
                    value_chunk::<T, F>(o, xs)
                }
                // SAFETY: checked just above.
                return unsafe { avx2::<T, F>(o, xs) };
            }
            value_chunk::<T, F>(o, xs)
        });
    out
}

/// `F::grad` over `x` and the incoming gradient `g`, in parallel chunks.
fn grads_par<T: Real, F: Elementwise>(x: &[T], g: &[T]) -> Vec<T> {
    // SAFETY: the map writes every element.
    let mut out = unsafe { uninit(x.len()) };
    out.par_chunks_mut(16 * 1024)
        .zip(x.par_chunks(16 * 1024).zip(g.par_chunks(16 * 1024)))
        .for_each(|(o, (xs, gs))| {
            #[cfg(target_arch = "x86_64")]
            if use_avx2() {
                /// # Safety
                /// The CPU must support AVX2 and FMA ([`use_avx2`]).
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2<T: Real, F: Elementwise>(o: &mut [T], xs: &[T], gs: &[T]) {
                    grad_chunk::<T, F>(o, xs, gs)
                }
                // SAFETY: checked just above.
                return unsafe { avx2::<T, F>(o, xs, gs) };
            }
            grad_chunk::<T, F>(o, xs, gs)
        });
    out
}

/// The fused op of an [`Elementwise`] function: forward `F::value`, backward `F::grad`; the
/// names of the forward and the backward op.
struct Activate<F>(std::marker::PhantomData<F>, [&'static str; 2]);
/// Its backward, `(x, g) -> F::grad(x, g)`.
struct ActivateBwd<F>(std::marker::PhantomData<F>, &'static str);

impl<F: Elementwise + Send + Sync + 'static> CustomOp1 for Activate<F> {
    fn name(&self) -> &'static str {
        self.1[0]
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch_float!(s, self.name(), |T| {
            let x = contiguous::<T>(s, l, self.name())?;
            let out = values_par::<T, F>(x);
            Ok((T::to_cpu_storage_owned(out), l.shape().clone()))
        })
    }
    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let g = grad.contiguous()?;
        let op = ActivateBwd::<F>(std::marker::PhantomData, self.1[1]);
        Ok(Some(arg.contiguous()?.apply_op2_no_bwd(&g, &op)?))
    }
}

impl<F: Elementwise + Send + Sync + 'static> CustomOp2 for ActivateBwd<F> {
    fn name(&self) -> &'static str {
        self.1
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let g = contiguous::<T>(s2, l2, self.name())?;
            let out = grads_par::<T, F>(x, g);
            Ok((T::to_cpu_storage_owned(out), l1.shape().clone()))
        })
    }
}

/// Exact (erf) GELU, fused forward and backward.
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    let op = Activate::<ErfGelu>(
        std::marker::PhantomData,
        ["chemlm-gelu-erf", "chemlm-gelu-erf-bwd"],
    );
    x.contiguous()?.apply_op1(op)
}

/// tanh-approximated GELU (`gelu_new`), fused forward and backward.
pub fn gelu_tanh(x: &Tensor) -> Result<Tensor> {
    let op = Activate::<TanhGelu>(
        std::marker::PhantomData,
        ["chemlm-gelu-tanh", "chemlm-gelu-tanh-bwd"],
    );
    x.contiguous()?.apply_op1(op)
}

// ---------------------------------------------------------------- layer norm

struct LayerNormOp {
    eps: f64,
}
struct LayerNormBwd {
    eps: f64,
}

fn row_stats<T: Real>(row: &[T], eps: f64) -> (T, T) {
    let n = T::lit(row.len() as f64);
    let mut sum = T::zr();
    for &v in row {
        sum += v;
    }
    let mean = sum / n;
    let mut var = T::zr();
    for &v in row {
        let c = v - mean;
        var += c * c;
    }
    let rstd = T::lit(1.0) / (var / n + T::lit(eps)).sqrt();
    (mean, rstd)
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "chemlm-layer-norm"
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
        let d = l1.dims().last().copied().unwrap_or(1);
        let eps = self.eps;
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let gamma = contiguous::<T>(s2, l2, self.name())?;
            let beta = contiguous::<T>(s3, l3, self.name())?;
            if gamma.len() != d || beta.len() != d {
                candle_core::bail!(
                    "layer norm: weight of {} / bias of {} for width {d}",
                    gamma.len(),
                    beta.len()
                );
            }
            // SAFETY: the row loop writes every element.
            let mut out = unsafe { uninit(x.len()) };
            let chunk = row_chunk(x.len(), d);
            out.par_chunks_mut(chunk)
                .zip(x.par_chunks(chunk))
                .for_each(|(o, xs)| {
                    for (orow, xrow) in o.chunks_mut(d).zip(xs.chunks(d)) {
                        let (mean, rstd) = row_stats(xrow, eps);
                        for (i, (ov, &v)) in orow.iter_mut().zip(xrow).enumerate() {
                            *ov = (v - mean) * rstd * gamma[i] + beta[i];
                        }
                    }
                });
            Ok((T::to_cpu_storage_owned(out), l1.shape().clone()))
        })
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = gamma.elem_count();
        let n = x.elem_count();
        let flat = x.contiguous()?.apply_op3_no_bwd(
            &gamma.contiguous()?,
            &grad.contiguous()?,
            &LayerNormBwd { eps: self.eps },
        )?;
        let dx = flat.narrow(0, 0, n)?.reshape(x.shape())?;
        let dgamma = flat.narrow(0, n, d)?.reshape(gamma.shape())?;
        let dbeta = flat.narrow(0, n + d, d)?.reshape(gamma.shape())?;
        Ok((Some(dx), Some(dgamma), Some(dbeta)))
    }
}

impl CustomOp3 for LayerNormBwd {
    fn name(&self) -> &'static str {
        "chemlm-layer-norm-bwd"
    }
    /// Output: `dx` (flattened) followed by `dgamma` and `dbeta`, one flat vector, so a single
    /// parallel pass produces all three.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = l1.dims().last().copied().unwrap_or(1);
        let eps = self.eps;
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let gamma = contiguous::<T>(s2, l2, self.name())?;
            let g = contiguous::<T>(s3, l3, self.name())?;
            let n = x.len();
            let mut out = zeros(n + 2 * d);
            let (dx, rest) = out.split_at_mut(n);
            let chunk = row_chunk(n, d);
            let (dgamma, dbeta) = dx
                .par_chunks_mut(chunk)
                .zip(x.par_chunks(chunk).zip(g.par_chunks(chunk)))
                .map(|(o, (xs, gs))| {
                    let mut dg = vec![T::zr(); d];
                    let mut db = vec![T::zr(); d];
                    let mut xhat = vec![T::zr(); d];
                    for ((orow, xrow), grow) in o.chunks_mut(d).zip(xs.chunks(d)).zip(gs.chunks(d))
                    {
                        let (mean, rstd) = row_stats(xrow, eps);
                        let mut m1 = T::zr();
                        let mut m2 = T::zr();
                        for i in 0..d {
                            xhat[i] = (xrow[i] - mean) * rstd;
                            let gy = grow[i] * gamma[i];
                            m1 += gy;
                            m2 += gy * xhat[i];
                            dg[i] += grow[i] * xhat[i];
                            db[i] += grow[i];
                        }
                        let inv_d = T::lit(1.0 / d as f64);
                        m1 *= inv_d;
                        m2 *= inv_d;
                        for i in 0..d {
                            let gy = grow[i] * gamma[i];
                            orow[i] = rstd * (gy - m1 - xhat[i] * m2);
                        }
                    }
                    (dg, db)
                })
                .reduce(
                    || (vec![T::zr(); d], vec![T::zr(); d]),
                    |(mut a, mut b), (c, e)| {
                        for i in 0..d {
                            a[i] += c[i];
                            b[i] += e[i];
                        }
                        (a, b)
                    },
                );
            rest[..d].copy_from_slice(&dgamma);
            rest[d..].copy_from_slice(&dbeta);
            Ok((T::to_cpu_storage_owned(out), Shape::from(n + 2 * d)))
        })
    }
}

/// Layer norm over the last dim, fused forward and backward (gradients for x, gamma and beta).
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<Tensor> {
    x.contiguous()?.apply_op3(
        &gamma.contiguous()?,
        &beta.contiguous()?,
        LayerNormOp { eps },
    )
}

// ---------------------------------------------------------------- bias add

/// `x + b` over rows of the last dim.
struct BiasAdd;
/// Column sums `[rows, n] -> [n]`: the bias gradient.
struct ColumnSum;

impl CustomOp2 for BiasAdd {
    fn name(&self) -> &'static str {
        "chemlm-bias-add"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = l1.dims().last().copied().unwrap_or(1);
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let b = contiguous::<T>(s2, l2, self.name())?;
            if b.len() != d {
                candle_core::bail!("bias add: bias of {} for width {d}", b.len());
            }
            // SAFETY: the row loop writes every element.
            let mut out = unsafe { uninit(x.len()) };
            let chunk = row_chunk(x.len(), d);
            out.par_chunks_mut(chunk)
                .zip(x.par_chunks(chunk))
                .for_each(|(o, xs)| {
                    for (orow, xrow) in o.chunks_mut(d).zip(xs.chunks(d)) {
                        for ((ov, &v), &bv) in orow.iter_mut().zip(xrow).zip(b) {
                            *ov = v + bv;
                        }
                    }
                });
            Ok((T::to_cpu_storage_owned(out), l1.shape().clone()))
        })
    }
    /// The input gradient is the upstream gradient itself; the bias gradient one parallel
    /// column sum (candle's broadcast backward reduces on one thread).
    fn bwd(
        &self,
        _x: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let db = grad
            .contiguous()?
            .apply_op1_no_bwd(&ColumnSum)?
            .reshape(b.shape())?;
        Ok((Some(grad.clone()), Some(db)))
    }
}

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "chemlm-column-sum"
    }
    /// Partial sums per fixed block of rows, added in block order: the result does not depend
    /// on how rayon splits the work, so runs are bit-for-bit repeatable.
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = l.dims().last().copied().unwrap_or(1);
        dispatch_float!(s, self.name(), |T| {
            let g = contiguous::<T>(s, l, self.name())?;
            let chunk = row_chunk(g.len(), d);
            let partials: Vec<Vec<T>> = g
                .par_chunks(chunk.max(1))
                .map(|gs| {
                    let mut acc = vec![T::zr(); d];
                    for row in gs.chunks(d) {
                        for (a, &v) in acc.iter_mut().zip(row) {
                            *a += v;
                        }
                    }
                    acc
                })
                .collect();
            let mut out = vec![T::zr(); d];
            for p in &partials {
                for (o, &v) in out.iter_mut().zip(p) {
                    *o += v;
                }
            }
            Ok((T::to_cpu_storage_owned(out), Shape::from(d)))
        })
    }
}

/// `x + b` with `b` broadcast over the rows of `x`'s last dim, fused forward and backward. Its
/// backward is not differentiable again (no gradients of gradients through it).
pub fn bias_add(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op2(&b.contiguous()?, BiasAdd)
}
