//! The distillation losses, each a differentiable function of student and teacher tensors.
//!
//! Every function takes the teacher's tensors as given and detaches them itself, so no gradient
//! can reach a teacher whatever the caller does. Masks are `[batch, seq]` (u32 or f32, 1 = real
//! token): padding never contributes, so bucketed batches of different padded lengths give the
//! same loss per molecule. The reference definitions (PyTorch) are in
//! `scripts/gen_distill_golden.py` and the values are checked against them in
//! `tests/distill_golden.rs`.

use crate::objectives::loss::log_softmax_last;
use candle_core::{DType, Result, Tensor, D};

/// `Σ_rows T² · KL(softmax(teacher/T) ‖ softmax(student/T))` for logits `[n, vocab]`.
///
/// Hinton et al.'s soft-target loss. The `T²` factor keeps its gradient on the same scale as a
/// hard-label loss whatever the temperature (the gradient of the softened KL shrinks as `1/T²`),
/// so loss weights need no retuning when `T` changes. Equals
/// `F.kl_div(F.log_softmax(s/T), F.log_softmax(t/T), log_target=True, reduction="sum") * T**2`.
/// Returns a scalar (0 for `n == 0`).
pub fn soft_target_kl_sum(student: &Tensor, teacher: &Tensor, temperature: f64) -> Result<Tensor> {
    if student.dims() != teacher.dims() {
        candle_core::bail!(
            "soft-target KL: student logits {:?} vs teacher logits {:?}",
            student.dims(),
            teacher.dims()
        );
    }
    if student.dim(0)? == 0 {
        return Tensor::new(0f32, student.device());
    }
    let t = temperature;
    let ls = log_softmax_last(&(student.to_dtype(DType::F32)? / t)?)?;
    let lt = log_softmax_last(&(teacher.detach().to_dtype(DType::F32)? / t)?)?;
    let kl = (lt.exp()? * (lt - ls)?)?.sum_all()?;
    kl * (t * t)
}

/// `[batch, seq]` mask as f32.
fn mask_f32(mask: &Tensor) -> Result<Tensor> {
    mask.to_dtype(DType::F32)
}

/// Mean squared error between hidden states `[batch, seq, dim]` over real tokens and features:
/// `Σ m_bt (s_btd − t_btd)² / (Σ m_bt · dim)`. The student states must already be projected to
/// the teacher's width (see [`super::Projections`]).
pub fn hidden_mse(student: &Tensor, teacher: &Tensor, mask: &Tensor) -> Result<Tensor> {
    if student.dims() != teacher.dims() {
        candle_core::bail!(
            "hidden-state MSE: student {:?} vs teacher {:?} (project the student first)",
            student.dims(),
            teacher.dims()
        );
    }
    // Losses are f32 whatever precision the models ran in (autocast hidden states are bf16/f16).
    let (student, teacher) = (
        &student.to_dtype(DType::F32)?,
        &teacher.to_dtype(DType::F32)?,
    );
    let dim = student.dim(D::Minus1)? as f64;
    let m = mask_f32(mask)?;
    let diff = (student - teacher.detach())?.sqr()?.sum(D::Minus1)?; // [B, T]
    let total = (diff * &m)?.sum_all()?;
    let count = m.sum_all()?.to_scalar::<f32>()? as f64 * dim;
    if count == 0.0 {
        return Tensor::new(0f32, student.device());
    }
    total / count
}

/// Token-by-token Gram matrix `x xᵀ / width`, `[batch, seq, seq]`.
fn gram(x: &Tensor) -> Result<Tensor> {
    let width = x.dim(D::Minus1)? as f64;
    x.matmul(&x.transpose(1, 2)?.contiguous()?)? / width
}

/// `[batch, seq, seq]` mask of real (query, key) pairs.
fn pair_mask(mask: &Tensor) -> Result<Tensor> {
    let m = mask_f32(mask)?;
    m.unsqueeze(2)?.broadcast_mul(&m.unsqueeze(1)?)
}

/// The "MMD" hidden-state loss of TextBrewer (the toolkit DeLiCaTe's distillation recipe is built
/// on): the mean squared difference of the width-normalised token-by-token Gram matrices
/// `S Sᵀ / d_S` and `T Tᵀ / d_T`, over pairs of real tokens.
///
/// It matches how the two models relate the tokens of a molecule to each other rather than the
/// states themselves, so it needs no projection when the widths differ and is complementary to
/// [`hidden_mse`].
pub fn gram_mmd(student: &Tensor, teacher: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let (bs, ts, _) = student.dims3()?;
    let (bt, tt, _) = teacher.dims3()?;
    if (bs, ts) != (bt, tt) {
        candle_core::bail!(
            "Gram MMD: student {:?} vs teacher {:?}",
            student.dims(),
            teacher.dims()
        );
    }
    let pm = pair_mask(mask)?;
    let count = pm.sum_all()?.to_scalar::<f32>()? as f64;
    if count == 0.0 {
        return Tensor::new(0f32, student.device());
    }
    let (student, teacher) = (
        &student.to_dtype(DType::F32)?,
        &teacher.to_dtype(DType::F32)?,
    );
    let d = (gram(student)? - gram(&teacher.detach())?)?.sqr()?;
    (d * pm)?.sum_all()? / count
}

/// Mean squared error between attention maps `[batch, heads, seq, seq]` over real (query, key)
/// pairs and heads. When the head counts differ, each side is first averaged over its heads
/// (TinyBERT matches head by head, which needs equal counts; the mean map is the natural
/// generalisation).
pub fn attention_mse(student: &Tensor, teacher: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let (student, teacher) = (
        &student.to_dtype(DType::F32)?,
        &teacher.to_dtype(DType::F32)?,
    );
    let (s, t) = if student.dim(1)? == teacher.dim(1)? {
        (student.clone(), teacher.detach())
    } else {
        (student.mean_keepdim(1)?, teacher.detach().mean_keepdim(1)?)
    };
    if s.dims() != t.dims() {
        candle_core::bail!(
            "attention MSE: student {:?} vs teacher {:?}",
            student.dims(),
            teacher.dims()
        );
    }
    let heads = s.dim(1)? as f64;
    let pm = pair_mask(mask)?.unsqueeze(1)?;
    let count = pm.sum_all()?.to_scalar::<f32>()? as f64 * heads;
    if count == 0.0 {
        return Tensor::new(0f32, student.device());
    }
    let d = (s - t)?.sqr()?.broadcast_mul(&pm)?;
    d.sum_all()? / count
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn kl_is_zero_for_equal_logits_and_positive_otherwise() -> Result<()> {
        let dev = Device::Cpu;
        let a = Tensor::new(&[[0.5f32, -1.0, 2.0], [0.0, 0.1, 0.2]], &dev)?;
        let b = Tensor::new(&[[1.5f32, -1.0, 0.0], [0.3, 0.1, -0.2]], &dev)?;
        let same = soft_target_kl_sum(&a, &a, 8.0)?.to_scalar::<f32>()?;
        assert!(same.abs() < 1e-5, "{same}");
        assert!(soft_target_kl_sum(&a, &b, 2.0)?.to_scalar::<f32>()? > 0.0);
        Ok(())
    }

    #[test]
    fn teacher_side_gets_no_gradient() -> Result<()> {
        let dev = Device::Cpu;
        let s = Var::from_slice(&[0.1f32, 0.2, -0.3, 0.4, 0.5, 0.6], (1, 2, 3), &dev)?;
        let t = Var::from_slice(&[1.1f32, -0.2, 0.3, 0.0, 0.5, 2.6], (1, 2, 3), &dev)?;
        let mask = Tensor::new(&[[1u32, 1]], &dev)?;
        let loss = (hidden_mse(s.as_tensor(), t.as_tensor(), &mask)?
            + gram_mmd(s.as_tensor(), t.as_tensor(), &mask)?)?;
        let g = loss.backward()?;
        assert!(g.get(s.as_tensor()).is_some());
        assert!(g.get(t.as_tensor()).is_none());
        Ok(())
    }

    #[test]
    fn padding_does_not_count() -> Result<()> {
        let dev = Device::Cpu;
        let s = Tensor::new(&[[[1f32, 2.0], [3.0, 4.0], [9.0, 9.0]]], &dev)?;
        let t = Tensor::new(&[[[1f32, 1.0], [3.0, 5.0], [-9.0, 0.0]]], &dev)?;
        let mask = Tensor::new(&[[1u32, 1, 0]], &dev)?;
        let v = hidden_mse(&s, &t, &mask)?.to_scalar::<f32>()?;
        assert!((v - 0.5).abs() < 1e-6, "{v}");
        let short_s = s.narrow(1, 0, 2)?;
        let short_t = t.narrow(1, 0, 2)?;
        let short_m = mask.narrow(1, 0, 2)?;
        let a = gram_mmd(&s, &t, &mask)?.to_scalar::<f32>()?;
        let b = gram_mmd(&short_s, &short_t, &short_m)?.to_scalar::<f32>()?;
        assert!((a - b).abs() < 1e-6);
        Ok(())
    }
}
