//! Dense layers as one CPU op: y = act(x Wᵀ + b) computed block by block of rows, each block
//! filled with the bias, multiplied into by the GEMM and passed through the activation while it
//! is still in cache.
//!
//! Why: as three ops (product, bias add, shifted softplus) a SchNet filter layer made four
//! passes over an `[n_edges, F]` buffer far larger than the caches, plus a fresh zeroed
//! allocation per op; here it is one. The backward needs no pre-activation: for the shifted
//! softplus y = ln(½eᶻ + ½), σ(z) = 1 − ½e^(−y), so the gradient is written in the output,
//! which candle hands to the backward as a differentiable tensor. Every backward is built from
//! differentiable ops ([`ssp_grad`], [`half_exp_neg_mul`], matmuls, column sums), so the
//! second backward of force training stays exact.

use super::{
    column_sum, cont, fused_here, map2, map3, same_shapes, skip_weight_gradients, ssp, Float,
};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, WithDType};
use chemlm_models::dispatch_float;
use chemlm_models::ops::fused::{contiguous, for_each_chunk, uninit, vectorised, Real};

/// What a fused dense layer applies after the bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epilogue {
    /// Nothing: y = x Wᵀ + b.
    Identity,
    /// SchNet's shifted softplus ln(0.5·eᶻ + 0.5).
    ShiftedSoftplus,
}

/// x Wᵀ for `[n, in]` rows and a `[out, in]` weight: one GEMM, and a backward that skips the
/// weight gradient inside [`super::positions_only`].
pub fn linear(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    dense(x, w, None, Epilogue::Identity)
}

/// act(x Wᵀ + b) for `[n, in]` rows, a `[out, in]` weight and an optional `[out]` bias, as one
/// op on the CPU in f32/f64 (the composed ops elsewhere). Weight and bias gradients are
/// skipped inside [`super::positions_only`].
pub fn dense(x: &Tensor, w: &Tensor, b: Option<&Tensor>, act: Epilogue) -> Result<Tensor> {
    let fits = fused_here(x)
        && x.rank() == 2
        && w.rank() == 2
        && x.dtype() == w.dtype()
        && b.is_none_or(|b| b.rank() == 1 && b.dtype() == x.dtype());
    if !fits {
        let y = x.matmul(&w.t()?)?;
        let y = match b {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        return match act {
            Epilogue::Identity => Ok(y),
            Epilogue::ShiftedSoftplus => crate::blocks::shifted_softplus(&y)
                .map_err(|e| candle_core::Error::Msg(e.to_string())),
        };
    }
    let op = Dense { act };
    match b {
        Some(b) => cont(x)?.apply_op3(&cont(w)?, &cont(b)?, op),
        None => cont(x)?.apply_op2(&cont(w)?, op),
    }
}

/// Rows per block: at least two blocks per thread so both cores stay busy, at most 256 rows
/// (a 128-wide f32 block is 128 KiB, inside a core's L2) so the epilogue finds the block in
/// cache; tiny products run as one block.
fn rows_per_block(n: usize, inp: usize, out: usize) -> usize {
    if n * inp.max(1) * out < 1 << 16 {
        return n.max(1);
    }
    n.div_ceil(2 * rayon::current_num_threads()).clamp(16, 256)
}

/// `dst[n, out] (+)= x[n, in] · w[out, in]ᵀ` through the `gemm` crate (candle's CPU kernels),
/// on the calling thread; `accumulate` adds to what `dst` holds (the bias).
fn gemm_xwt<T: Real>(
    dst: &mut [T],
    x: &[T],
    w: &[T],
    (n, inp, out): (usize, usize, usize),
    accumulate: bool,
) {
    assert!(dst.len() == n * out && x.len() == n * inp && w.len() == out * inp);
    if n == 0 || out == 0 || inp == 0 {
        return;
    }
    // SAFETY: the assert keeps every index the strides reach inside the slices; `dst` is a
    // distinct `&mut` slice; T is f32 or f64. lhs = x (row stride inp), rhs = wᵀ: element
    // (k, c) is w[c * inp + k] (row stride 1, column stride inp). With `accumulate` false the
    // GEMM writes dst without reading it.
    unsafe {
        gemm::gemm(
            n,
            out,
            inp,
            dst.as_mut_ptr(),
            1,
            out as isize,
            accumulate,
            x.as_ptr(),
            1,
            inp as isize,
            w.as_ptr(),
            inp as isize,
            1,
            T::lit(1.0),
            T::lit(1.0),
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

fn dense_kernel<T: Float>(
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    (n, inp, out): (usize, usize, usize),
    act: Epilogue,
) -> Vec<T> {
    if n * out == 0 {
        return Vec::new();
    }
    let rows = rows_per_block(n, inp, out);
    // SAFETY: every block is written whole below: filled with the bias (or zeros when there
    // is neither bias nor product), or overwritten by the GEMM (inp > 0, no bias).
    let mut y = unsafe { uninit(n * out) };
    for_each_chunk(&mut y, rows * out, |k, blk| {
        let r = blk.len() / out;
        let xs = &x[k * rows * inp..(k * rows + r) * inp];
        match b {
            Some(b) => blk.chunks_mut(out).for_each(|row| row.copy_from_slice(b)),
            None if inp == 0 => blk.fill(T::zr()),
            None => {}
        }
        gemm_xwt(blk, xs, w, (r, inp, out), b.is_some());
        if act == Epilogue::ShiftedSoftplus {
            vectorised(|| blk.iter_mut().for_each(|v| *v = ssp(*v)));
        }
    });
    y
}

struct Dense {
    act: Epilogue,
}

impl Dense {
    fn forward(
        &self,
        (sx, lx): (&CpuStorage, &Layout),
        (sw, lw): (&CpuStorage, &Layout),
        bias: Option<(&CpuStorage, &Layout)>,
    ) -> Result<(CpuStorage, Shape)> {
        let name = "chemlm-ff-dense";
        let ((n, inp), (out, w_in)) = (lx.shape().dims2()?, lw.shape().dims2()?);
        if inp != w_in {
            candle_core::bail!("{name}: input width {inp}, weight [{out}, {w_in}]");
        }
        if let Some((_, lb)) = bias {
            if lb.dims() != [out] {
                candle_core::bail!("{name}: {out} outputs, bias {:?}", lb.dims());
            }
        }
        dispatch_float!(sx, name, |T| {
            let x = contiguous::<T>(sx, lx, name)?;
            let w = contiguous::<T>(sw, lw, name)?;
            let b = match bias {
                Some((sb, lb)) => Some(contiguous::<T>(sb, lb, name)?),
                None => None,
            };
            let y = dense_kernel(x, w, b, (n, inp, out), self.act);
            Ok((T::to_cpu_storage_owned(y), Shape::from((n, out))))
        })
    }

    /// Gradients in x, W and b (the last two skipped in a force pass).
    fn backward(
        &self,
        x: &Tensor,
        w: &Tensor,
        y: &Tensor,
        grad: &Tensor,
        bias: bool,
    ) -> Result<(Tensor, Option<Tensor>, Option<Tensor>)> {
        let dz = match self.act {
            Epilogue::Identity => grad.clone(),
            Epilogue::ShiftedSoftplus => ssp_grad(grad, y)?,
        };
        let dx = dz.matmul(w)?;
        if skip_weight_gradients() {
            return Ok((dx, None, None));
        }
        let dw = dz.t()?.matmul(x)?;
        let db = if bias { Some(column_sum(&dz)?) } else { None };
        Ok((dx, Some(dw), db))
    }
}

impl CustomOp2 for Dense {
    fn name(&self) -> &'static str {
        "chemlm-ff-dense"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.forward((s1, l1), (s2, l2), None)
    }
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = self.backward(x, w, res, grad, false)?;
        Ok((Some(dx), dw))
    }
}

impl CustomOp3 for Dense {
    fn name(&self) -> &'static str {
        "chemlm-ff-dense-bias"
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
        self.forward((s1, l1), (s2, l2), Some((s3, l3)))
    }
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, db) = self.backward(x, w, res, grad, true)?;
        Ok((Some(dx), dw, db))
    }
}

// ------------------------------------------------------------------ σ from the output

/// g · (1 − ½e^(−y)) element-wise: g · σ(z) for y = ssp(z), the shifted softplus's gradient
/// written in its output.
pub fn ssp_grad(g: &Tensor, y: &Tensor) -> Result<Tensor> {
    if !fused_here(g) || g.dims() != y.dims() || g.dtype() != y.dtype() {
        let s = y.neg()?.exp()?.affine(-0.5, 1.0)?;
        return g * s;
    }
    cont(g)?.apply_op2(&cont(y)?, SspGrad)
}

/// a · b · ½e^(−y) element-wise (same shapes): the derivative of [`ssp_grad`] in y, up to sign.
pub fn half_exp_neg_mul(a: &Tensor, b: &Tensor, y: &Tensor) -> Result<Tensor> {
    let same = a.dims() == b.dims() && a.dims() == y.dims();
    if !fused_here(a) || !same || a.dtype() != b.dtype() || a.dtype() != y.dtype() {
        return (a * b)? * y.neg()?.exp()?.affine(0.5, 0.0)?;
    }
    cont(a)?.apply_op3(&cont(b)?, &cont(y)?, HalfExpNegMul)
}

struct SspGrad;

impl CustomOp2 for SspGrad {
    fn name(&self) -> &'static str {
        "chemlm-ff-ssp-grad"
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
            let y = contiguous::<T>(s2, l2, self.name())?;
            // Constants written inline, not captured: captured locals are re-read through the
            // closure's environment every element and keep the loop scalar.
            Ok((
                map2(g, y, |g, y| {
                    g * (T::lit(1.0) - T::lit(0.5) * (T::zr() - y).exp_fast())
                }),
                l1.shape().clone(),
            ))
        })
    }
    /// ∂/∂g = ½-term as above; ∂/∂y = g · ½e^(−y).
    fn bwd(
        &self,
        g: &Tensor,
        y: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((
            Some(ssp_grad(grad, y)?),
            Some(half_exp_neg_mul(grad, g, y)?),
        ))
    }
}

struct HalfExpNegMul;

impl CustomOp3 for HalfExpNegMul {
    fn name(&self) -> &'static str {
        "chemlm-ff-half-exp-neg-mul"
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
            let y = contiguous::<T>(s3, l3, self.name())?;
            let out = map3(a, b, y, |a, b, y| {
                a * b * T::lit(0.5) * (T::zr() - y).exp_fast()
            });
            Ok((out, l1.shape().clone()))
        })
    }
    /// Third derivatives, never on a training path: exact, partly composed.
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        y: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        Ok((
            Some(half_exp_neg_mul(grad, b, y)?),
            Some(half_exp_neg_mul(grad, a, y)?),
            Some(half_exp_neg_mul(grad, &(a * b)?, y)?.neg()?),
        ))
    }
}
