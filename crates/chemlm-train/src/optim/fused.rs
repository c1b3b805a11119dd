//! In-place, multi-threaded AdamW / LAMB updates (CPU, f32 and f64).
//!
//! Why: the composed updates in [`super::adamw`] / [`super::lamb`] run 10–15 tensor ops per
//! parameter, each allocating a full-size temporary and running on one thread. Here each step is
//! three streaming passes (first moment, second moment, parameter), written in place into the
//! existing storage with rayon over element chunks; LAMB adds one read-only pass for its two norms.
//! Formulas and operation order follow the composed versions, so results agree to float rounding
//! (tested in `tests/fused_optim.rs`). The composed code stays the reference and the path for
//! other devices and dtypes; `chemlm_models::ops::set_fused` chooses.

use candle_core::{CpuStorage, DType, InplaceOp2, InplaceOp3, Layout, Result, Storage, Tensor};
use rayon::prelude::*;

const CHUNK: usize = 16 * 1024;

/// Whether `t` can take the fused path.
pub fn fusable(t: &Tensor) -> bool {
    chemlm_models::ops::fused_enabled()
        && t.device().is_cpu()
        && matches!(t.dtype(), DType::F32 | DType::F64)
}

trait Float: Copy + Send + Sync + 'static {
    fn f(v: f64) -> Self;
    fn d(self) -> f64;
    fn mut_slice(s: &mut CpuStorage) -> Option<&mut [Self]>;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
}

macro_rules! float_impl {
    ($t:ty, $var:ident) => {
        impl Float for $t {
            fn f(v: f64) -> Self {
                v as $t
            }
            fn d(self) -> f64 {
                self as f64
            }
            fn mut_slice(s: &mut CpuStorage) -> Option<&mut [Self]> {
                match s {
                    CpuStorage::$var(v) => Some(&mut v[..]),
                    _ => None,
                }
            }
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$var(v) => Some(&v[..]),
                    _ => None,
                }
            }
        }
    };
}
float_impl!(f32, F32);
float_impl!(f64, F64);

fn range(l: &Layout, what: &str) -> Result<(usize, usize)> {
    match l.contiguous_offsets() {
        Some(r) => Ok(r),
        None => candle_core::bail!("{what}: needs contiguous tensors"),
    }
}

fn src<'a, T: Float>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [T]> {
    let (a, b) = range(l, what)?;
    match T::slice(s) {
        Some(v) => Ok(&v[a..b]),
        None => candle_core::bail!("{what}: operands must share the parameter's dtype"),
    }
}

fn dst<'a, T: Float>(s: &'a mut CpuStorage, l: &Layout, what: &str) -> Result<&'a mut [T]> {
    let (a, b) = range(l, what)?;
    match T::mut_slice(s) {
        Some(v) => Ok(&mut v[a..b]),
        None => candle_core::bail!("{what}: only f32/f64 are supported"),
    }
}

/// `state ← beta·state + (1 − beta)·g` (or `g²` when `squared`).
struct Ema {
    beta: f64,
    squared: bool,
}

impl Ema {
    fn run<T>(&self, s: &mut CpuStorage, l: &Layout, g: &CpuStorage, gl: &Layout) -> Result<()>
    where
        T: Float + std::ops::Mul<Output = T> + std::ops::Add<Output = T>,
    {
        let name = "chemlm-ema";
        let g = src::<T>(g, gl, name)?;
        let s = dst::<T>(s, l, name)?;
        if s.len() != g.len() {
            candle_core::bail!("{name}: state of {} for a gradient of {}", s.len(), g.len());
        }
        let (b, a) = (T::f(self.beta), T::f(1.0 - self.beta));
        let sq = self.squared;
        s.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .for_each(|(sc, gc)| {
                for (x, &gv) in sc.iter_mut().zip(gc) {
                    let t = if sq { gv * gv } else { gv };
                    *x = *x * b + t * a;
                }
            });
        Ok(())
    }
}

impl InplaceOp2 for Ema {
    fn name(&self) -> &'static str {
        "chemlm-ema"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        match s1 {
            CpuStorage::F32(_) => self.run::<f32>(s1, l1, s2, l2),
            CpuStorage::F64(_) => self.run::<f64>(s1, l1, s2, l2),
            _ => candle_core::bail!("chemlm-ema: only f32/f64 are supported"),
        }
    }
}

/// Updates the moments in place: `m ← β1 m + (1−β1) g`, `v ← β2 v + (1−β2) g²`. Missing moments
/// start at zero (so the first step equals the composed `(1−β) g` initialisation).
pub fn update_moments(
    m: &mut Option<Tensor>,
    v: &mut Option<Tensor>,
    g: &Tensor,
    beta1: f64,
    beta2: f64,
) -> Result<()> {
    let g = g.contiguous()?;
    for (slot, beta, squared) in [(m, beta1, false), (v, beta2, true)] {
        let state = match slot.take() {
            Some(s) => s,
            None => g.zeros_like()?,
        };
        state.inplace_op2(&g, &Ema { beta, squared })?;
        *slot = Some(state);
    }
    Ok(())
}

/// `p ← p·decay − step·m / (√v·inv_bc2_sqrt + eps)` (AdamW), or with `trust`-scaled LAMB
/// direction `p ← p − lr·trust·(m·inv_bc1 / (√(v·inv_bc2) + eps) + wd·p)`.
#[derive(Clone, Copy)]
enum Update {
    AdamW {
        decay: f64,
        step: f64,
        inv_bc2_sqrt: f64,
        eps: f64,
    },
    Lamb {
        inv_bc1: f64,
        inv_bc2: f64,
        eps: f64,
        wd: f64,
        scale: f64,
    },
}

impl Update {
    fn run<T: Float>(
        self,
        p: &mut CpuStorage,
        pl: &Layout,
        m: &CpuStorage,
        ml: &Layout,
        v: &CpuStorage,
        vl: &Layout,
    ) -> Result<()> {
        let name = "chemlm-optimizer-update";
        let m = src::<T>(m, ml, name)?;
        let v = src::<T>(v, vl, name)?;
        let p = dst::<T>(p, pl, name)?;
        if p.len() != m.len() || p.len() != v.len() {
            candle_core::bail!("{name}: parameter and moments differ in size");
        }
        p.par_chunks_mut(CHUNK)
            .zip(m.par_chunks(CHUNK).zip(v.par_chunks(CHUNK)))
            .for_each(|(pc, (mc, vc))| match self {
                Update::AdamW {
                    decay,
                    step,
                    inv_bc2_sqrt,
                    eps,
                } => {
                    for ((w, &mv), &vv) in pc.iter_mut().zip(mc).zip(vc) {
                        let denom = vv.d().sqrt() * inv_bc2_sqrt + eps;
                        *w = T::f(w.d() * decay - mv.d() / denom * step);
                    }
                }
                Update::Lamb {
                    inv_bc1,
                    inv_bc2,
                    eps,
                    wd,
                    scale,
                } => {
                    for ((w, &mv), &vv) in pc.iter_mut().zip(mc).zip(vc) {
                        let u = mv.d() * inv_bc1 / ((vv.d() * inv_bc2).sqrt() + eps) + wd * w.d();
                        *w = T::f(w.d() - scale * u);
                    }
                }
            });
        Ok(())
    }
}

impl InplaceOp3 for Update {
    fn name(&self) -> &'static str {
        "chemlm-optimizer-update"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<()> {
        match s1 {
            CpuStorage::F32(_) => self.run::<f32>(s1, l1, s2, l2, s3, l3),
            CpuStorage::F64(_) => self.run::<f64>(s1, l1, s2, l2, s3, l3),
            _ => candle_core::bail!("chemlm-optimizer-update: only f32/f64 are supported"),
        }
    }
}

/// One in-place AdamW parameter update from already-updated moments (see [`super::AdamW`]).
#[allow(clippy::too_many_arguments)]
pub fn adamw_update(
    p: &Tensor,
    m: &Tensor,
    v: &Tensor,
    lr: f64,
    weight_decay: f64,
    beta1_t: f64,
    beta2_t: f64,
    eps: f64,
) -> Result<()> {
    let op = Update::AdamW {
        decay: 1.0 - lr * weight_decay,
        step: lr / (1.0 - beta1_t),
        inv_bc2_sqrt: 1.0 / (1.0 - beta2_t).sqrt(),
        eps,
    };
    p.inplace_op3(m, v, &op)
}

/// LAMB norms `(‖w‖, ‖u‖)` of one parameter, `u = m̂ / (√v̂ + eps) + wd·w`, in one threaded pass.
pub fn lamb_norms(
    p: &Tensor,
    m: &Tensor,
    v: &Tensor,
    inv_bc1: f64,
    inv_bc2: f64,
    eps: f64,
    wd: f64,
) -> Result<(f64, f64)> {
    fn go<T: Float>(
        p: &[T],
        m: &[T],
        v: &[T],
        inv_bc1: f64,
        inv_bc2: f64,
        eps: f64,
        wd: f64,
    ) -> (f64, f64) {
        p.par_chunks(CHUNK)
            .zip(m.par_chunks(CHUNK).zip(v.par_chunks(CHUNK)))
            .map(|(pc, (mc, vc))| {
                let (mut ww, mut uu) = (0f64, 0f64);
                for ((&w, &mv), &vv) in pc.iter().zip(mc).zip(vc) {
                    let u = mv.d() * inv_bc1 / ((vv.d() * inv_bc2).sqrt() + eps) + wd * w.d();
                    ww += w.d() * w.d();
                    uu += u * u;
                }
                (ww, uu)
            })
            .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
    let name = "lamb norms";
    let (sp, lp) = p.storage_and_layout();
    let (sm, lm) = m.storage_and_layout();
    let (sv, lv) = v.storage_and_layout();
    let (Storage::Cpu(cp), Storage::Cpu(cm), Storage::Cpu(cv)) = (&*sp, &*sm, &*sv) else {
        candle_core::bail!("{name}: CPU tensors only");
    };
    let (ww, uu) = match cp {
        CpuStorage::F32(_) => go::<f32>(
            src(cp, lp, name)?,
            src(cm, lm, name)?,
            src(cv, lv, name)?,
            inv_bc1,
            inv_bc2,
            eps,
            wd,
        ),
        CpuStorage::F64(_) => go::<f64>(
            src(cp, lp, name)?,
            src(cm, lm, name)?,
            src(cv, lv, name)?,
            inv_bc1,
            inv_bc2,
            eps,
            wd,
        ),
        _ => candle_core::bail!("{name}: only f32/f64 are supported"),
    };
    Ok((ww.sqrt(), uu.sqrt()))
}

/// One in-place LAMB update `w ← w − scale·u` (`scale` = lr · trust ratio).
#[allow(clippy::too_many_arguments)]
pub fn lamb_update(
    p: &Tensor,
    m: &Tensor,
    v: &Tensor,
    inv_bc1: f64,
    inv_bc2: f64,
    eps: f64,
    wd: f64,
    scale: f64,
) -> Result<()> {
    let op = Update::Lamb {
        inv_bc1,
        inv_bc2,
        eps,
        wd,
        scale,
    };
    p.inplace_op3(m, v, &op)
}

/// Sum of squares of a tensor in one threaded pass (no temporaries); other dtypes/devices fall
/// back to composed ops.
pub fn sum_squares(t: &Tensor) -> Result<f64> {
    if !fusable(t) {
        return t.to_dtype(DType::F64)?.sqr()?.sum_all()?.to_scalar::<f64>();
    }
    fn go<T: Float>(x: &[T]) -> f64 {
        x.par_chunks(CHUNK)
            .map(|c| c.iter().map(|&v| v.d() * v.d()).sum::<f64>())
            .sum()
    }
    let t = t.contiguous()?;
    let (s, l) = t.storage_and_layout();
    let Storage::Cpu(c) = &*s else {
        candle_core::bail!("sum of squares: CPU tensors only");
    };
    Ok(match c {
        CpuStorage::F32(_) => go::<f32>(src(c, l, "sum of squares")?),
        CpuStorage::F64(_) => go::<f64>(src(c, l, "sum of squares")?),
        _ => candle_core::bail!("sum of squares: only f32/f64 are supported"),
    })
}
