//! Summed cross-entropy over the vocabulary with an ignore index, as one fused multi-threaded
//! `CustomOp` (forward and backward).
//!
//! Why: the composed path (`max`, `sub`, `exp`, `sum`, `log`, `sub`, `gather`, `sum`) allocates
//! six `[rows, vocab]` temporaries and runs single-threaded; its backward adds as many again. Here
//! the forward is one parallel pass over rows (log-sum-exp and the target's logit per row) and the
//! backward writes `g * (softmax - onehot)` in one more pass. Rows whose target equals the ignore
//! index contribute neither loss nor gradient, so a masked-LM loss can run over all positions of
//! a batch with unmasked ones set to the ignore index.

use super::fused::{
    contiguous, dispatch_float, row_max, rows_per_task, sum_exp_shifted, vectorised, Real,
};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, WithDType};
use rayon::prelude::*;

/// Target value meaning "no loss at this row".
pub const IGNORE_INDEX: u32 = u32::MAX;

struct CrossEntropySum {
    ignore: u32,
}
struct CrossEntropyBwd {
    ignore: u32,
}

fn targets_of<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [u32]> {
    match s {
        CpuStorage::U32(_) => contiguous::<u32>(s, l, what),
        _ => candle_core::bail!("{what}: targets must be u32"),
    }
}

fn check_target(t: u32, ignore: u32, vocab: usize) -> Result<Option<usize>> {
    if t == ignore {
        return Ok(None);
    }
    if (t as usize) >= vocab {
        candle_core::bail!("cross-entropy: target {t} outside a vocabulary of {vocab}");
    }
    Ok(Some(t as usize))
}

/// Log-sum-exp of one row (max-shifted; `exp_fast`, which vectorises, since the LM head's
/// rows are 32 k wide and libm's `expf` was 2 % of a t5-small training step).
#[inline(always)]
fn lse<T: Real>(row: &[T]) -> T {
    let max = row_max(row);
    max + sum_exp_shifted(row, max).ln()
}

fn ce_forward<T: Real>(x: &[T], t: &[u32], v: usize, ignore: u32) -> Result<T> {
    if v == 0 {
        candle_core::bail!("cross entropy over zero classes");
    }
    let rows = t.len();
    let per = rows_per_task(rows, v);
    let partial: Result<Vec<f64>> = x
        .par_chunks(per * v)
        .zip(t.par_chunks(per))
        .map(|(xs, ts)| {
            vectorised(|| {
                let mut acc = 0f64;
                for (row, &tg) in xs.chunks(v).zip(ts) {
                    if let Some(k) = check_target(tg, ignore, v)? {
                        let l = lse(row) - row[k];
                        acc += l.to_f64();
                    }
                }
                Ok(acc)
            })
        })
        .collect();
    Ok(T::lit(partial?.iter().sum::<f64>()))
}

fn ce_backward<T: Real>(x: &[T], t: &[u32], g: T, v: usize, ignore: u32) -> Result<Vec<T>> {
    if v == 0 {
        candle_core::bail!("cross entropy over zero classes");
    }
    let mut out = super::fused::zeros(x.len());
    let per = rows_per_task(t.len(), v);
    out.par_chunks_mut(per * v)
        .zip(x.par_chunks(per * v).zip(t.par_chunks(per)))
        .try_for_each(|(o, (xs, ts))| -> Result<()> {
            vectorised(|| {
                for ((orow, row), &tg) in o.chunks_mut(v).zip(xs.chunks(v)).zip(ts) {
                    let Some(k) = check_target(tg, ignore, v)? else {
                        continue;
                    };
                    let l = lse(row);
                    for (ov, &xv) in orow.iter_mut().zip(row) {
                        *ov = g * (xv - l).exp_fast();
                    }
                    orow[k] -= g;
                }
                Ok(())
            })
        })?;
    Ok(out)
}

fn vocab_of(l: &Layout, rows: usize, what: &str) -> Result<usize> {
    let dims = l.dims();
    if dims.len() != 2 || dims[0] != rows {
        candle_core::bail!("{what}: logits {dims:?} do not match {rows} targets");
    }
    if dims[1] == 0 {
        candle_core::bail!("{what}: empty vocabulary");
    }
    Ok(dims[1])
}

impl CustomOp2 for CrossEntropySum {
    fn name(&self) -> &'static str {
        "chemlm-cross-entropy"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let t = targets_of(s2, l2, self.name())?;
        let v = vocab_of(l1, t.len(), self.name())?;
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let loss: T = ce_forward(x, t, v, self.ignore)?;
            Ok((T::to_cpu_storage_owned(vec![loss]), Shape::from(())))
        })
    }
    fn bwd(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = grad.reshape(())?.to_dtype(logits.dtype())?;
        let d = logits.contiguous()?.apply_op3_no_bwd(
            &targets.contiguous()?,
            &g,
            &CrossEntropyBwd {
                ignore: self.ignore,
            },
        )?;
        Ok((Some(d), None))
    }
}

impl CustomOp3 for CrossEntropyBwd {
    fn name(&self) -> &'static str {
        "chemlm-cross-entropy-bwd"
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
        let t = targets_of(s2, l2, self.name())?;
        let v = vocab_of(l1, t.len(), self.name())?;
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let g = contiguous::<T>(s3, l3, self.name())?;
            let Some(&g) = g.first() else {
                candle_core::bail!("{}: empty upstream gradient", self.name())
            };
            let out = ce_backward(x, t, g, v, self.ignore)?;
            Ok((T::to_cpu_storage_owned(out), l1.shape().clone()))
        })
    }
}

/// `sum_i -log softmax(logits_i)[targets_i]` over rows whose target is not `ignore`;
/// `logits` `[n, vocab]` (f32/f64, CPU), `targets` `[n]` u32. A scalar of the logits' dtype,
/// differentiable with respect to the logits. Targets outside the vocabulary are an error.
pub fn cross_entropy_sum(logits: &Tensor, targets: &Tensor, ignore: u32) -> Result<Tensor> {
    logits
        .contiguous()?
        .apply_op2(&targets.contiguous()?, CrossEntropySum { ignore })
}

/// The composed reference (differentiable candle primitives), same contract as
/// [`cross_entropy_sum`]; ignored rows are dropped with `index_select` first.
pub fn cross_entropy_sum_composed(
    logits: &Tensor,
    targets: &Tensor,
    ignore: u32,
) -> Result<Tensor> {
    let t: Vec<u32> = targets.to_vec1()?;
    let keep: Vec<u32> = (0..t.len() as u32)
        .filter(|&i| t[i as usize] != ignore)
        .collect();
    if keep.is_empty() {
        return Tensor::zeros((), logits.dtype(), logits.device());
    }
    let idx = Tensor::from_slice(&keep, keep.len(), logits.device())?;
    let x = logits.index_select(&idx, 0)?;
    let tg = targets.index_select(&idx, 0)?;
    let max = x.max_keepdim(candle_core::D::Minus1)?.detach();
    let shifted = x.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(candle_core::D::Minus1)?.log()?;
    let logp = shifted.broadcast_sub(&lse)?;
    logp.gather(&tg.unsqueeze(1)?, 1)?.sum_all()?.neg()
}
