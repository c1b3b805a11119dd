//! Task-specific (fine-tuning-stage) distillation: the fine-tuned teacher's predictions as soft
//! targets, mixed with the true labels.
//!
//! `loss = alpha · soft + (1 − alpha) · hard`, where for
//! - multi-class classification (`[n, classes]` logits, integer labels): soft = `T²·KL(softmax(t/T)
//!   ‖ softmax(s/T))` per molecule, hard = cross-entropy;
//! - binary (multi-task) classification (`[n, tasks]` logits, 0/1 labels with a presence mask, as
//!   Tox21-style sets have missing labels): soft = `T²·KL(Bernoulli(σ(t/T)) ‖ Bernoulli(σ(s/T)))`
//!   per (molecule, task), hard = binary cross-entropy on present labels;
//! - regression (`[n, tasks]` predictions): soft = MSE to the teacher's predictions, hard = MSE
//!   to the present labels.
//!
//! The soft term uses every (molecule, task) entry — the teacher has a prediction even where the
//! label is missing, which is part of what it transfers — and the hard term only present labels.
//! All terms are means, so `alpha` trades them off directly. The reference values are in
//! `scripts/gen_distill_golden.py`.
//!
//! The fine-tuning loop (`chemlm finetune --teacher`, [`crate::finetune::teacher`]) takes the
//! soft term from [`task_soft_loss`] and mixes it with its own true-label loss (masked BCE, or
//! L1/MSE on standardised targets as `--loss` says): with MSE that is exactly
//! [`task_distill_loss`], and `alpha = 0` is exactly plain fine-tuning.

use candle_core::{DType, Result, Tensor};
use serde::{Deserialize, Serialize};

/// Settings of task-stage distillation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskDistillConfig {
    /// Weight of the soft (teacher) term; `1 − alpha` goes to the true labels.
    pub alpha: f64,
    /// Temperature of the soft targets (classification only).
    pub temperature: f64,
}

impl Default for TaskDistillConfig {
    fn default() -> Self {
        TaskDistillConfig {
            alpha: 0.5,
            temperature: 2.0,
        }
    }
}

/// The true labels of a batch.
#[derive(Debug, Clone, Copy)]
pub enum TaskTargets<'a> {
    /// Class indices `[n]` (u32) for `[n, classes]` logits.
    Classes(&'a Tensor),
    /// 0/1 labels `[n, tasks]` and a 1/0 presence mask of the same shape, for per-task logits.
    Binary {
        labels: &'a Tensor,
        mask: &'a Tensor,
    },
    /// Values `[n, tasks]` and a 1/0 presence mask, for regression outputs.
    Regression {
        labels: &'a Tensor,
        mask: &'a Tensor,
    },
}

/// The task-distillation loss of a batch: scalar tensors, each a mean.
#[derive(Debug, Clone)]
pub struct TaskDistillLoss {
    /// `alpha · soft + (1 − alpha) · hard` (differentiable w.r.t. the student only).
    pub total: Tensor,
    /// The teacher-matching term.
    pub soft: Tensor,
    /// The true-label term.
    pub hard: Tensor,
}

fn check(cfg: &TaskDistillConfig) -> Result<()> {
    if !(0.0..=1.0).contains(&cfg.alpha) {
        candle_core::bail!(
            "task distillation: alpha must be in [0, 1], got {}",
            cfg.alpha
        );
    }
    if !(cfg.temperature.is_finite() && cfg.temperature > 0.0) {
        candle_core::bail!(
            "task distillation: temperature must be positive, got {}",
            cfg.temperature
        );
    }
    Ok(())
}

/// `log σ(x)` computed stably as `−softplus(−x) = min(x, 0) − log(1 + e^{−|x|})`.
fn log_sigmoid(x: &Tensor) -> Result<Tensor> {
    let neg_abs = x.abs()?.neg()?;
    let softplus_part = (neg_abs.exp()? + 1.0)?.log()?;
    x.minimum(0f32)?.sub(&softplus_part)
}

/// Mean of `x` over entries where `mask` is 1 (0 when none is).
fn masked_mean(x: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let count = mask.sum_all()?.to_scalar::<f32>()? as f64;
    if count == 0.0 {
        return Tensor::new(0f32, x.device());
    }
    (x * mask)?.sum_all()? / count
}

/// Labels as f32 with missing entries (mask 0, possibly NaN) set to 0, so NaN·0 cannot appear.
fn present(labels: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let y = labels.to_dtype(DType::F32)?;
    mask.ne(0f32)?.where_cond(&y, &mask.zeros_like()?)
}

/// `T²·KL(Bernoulli(σ(t/T)) ‖ Bernoulli(σ(s/T)))`, averaged over every entry.
fn binary_soft(s: &Tensor, t: &Tensor, temp: f64) -> Result<Tensor> {
    let (ls, lt) = ((s / temp)?, (t / temp)?);
    let (log_ps, log_qs) = (log_sigmoid(&ls)?, log_sigmoid(&ls.neg()?)?);
    let (log_pt, log_qt) = (log_sigmoid(&lt)?, log_sigmoid(&lt.neg()?)?);
    let kl = ((log_pt.exp()? * (&log_pt - &log_ps)?)? + (log_qt.exp()? * (&log_qt - &log_qs)?)?)?;
    kl.mean_all()? * (temp * temp)
}

/// Checks the settings and shapes, and returns the student (f32) and the detached teacher (f32).
fn prepare(
    student: &Tensor,
    teacher: &Tensor,
    cfg: &TaskDistillConfig,
) -> Result<(Tensor, Tensor)> {
    check(cfg)?;
    if student.dims() != teacher.dims() {
        candle_core::bail!(
            "task distillation: student outputs {:?} vs teacher outputs {:?}",
            student.dims(),
            teacher.dims()
        );
    }
    Ok((
        student.to_dtype(DType::F32)?,
        teacher.detach().to_dtype(DType::F32)?,
    ))
}

/// The soft (teacher-matching) term alone, exactly as [`task_distill_loss`] computes it; only
/// the kind of `targets` matters (its labels are not read). The fine-tuning loop uses this with
/// its own true-label loss, so that `--loss l1` keeps L1 on the labels.
pub fn task_soft_loss(
    student: &Tensor,
    teacher: &Tensor,
    targets: TaskTargets<'_>,
    cfg: &TaskDistillConfig,
) -> Result<Tensor> {
    let (s, t) = prepare(student, teacher, cfg)?;
    match targets {
        TaskTargets::Classes(_) => {
            let n = s.dim(0)?;
            if n == 0 {
                return Tensor::new(0f32, s.device());
            }
            super::losses::soft_target_kl_sum(&s, &t, cfg.temperature)? / n as f64
        }
        TaskTargets::Binary { .. } => binary_soft(&s, &t, cfg.temperature),
        TaskTargets::Regression { .. } => (&s - &t)?.sqr()?.mean_all(),
    }
}

/// The loss of `student` outputs against the `teacher`'s (detached here) and the true labels.
pub fn task_distill_loss(
    student: &Tensor,
    teacher: &Tensor,
    targets: TaskTargets<'_>,
    cfg: &TaskDistillConfig,
) -> Result<TaskDistillLoss> {
    let soft = task_soft_loss(student, teacher, targets, cfg)?;
    let s = student.to_dtype(DType::F32)?;
    let hard = match targets {
        TaskTargets::Classes(labels) => {
            let n = s.dim(0)?;
            if n == 0 {
                Tensor::new(0f32, s.device())?
            } else {
                (crate::objectives::loss::cross_entropy_sum(&s, labels)? / n as f64)?
            }
        }
        TaskTargets::Binary { labels, mask } => {
            let m = mask.to_dtype(DType::F32)?;
            let y = present(labels, &m)?;
            let bce =
                ((&y * log_sigmoid(&s)?)? + ((1.0 - &y)? * log_sigmoid(&s.neg()?)?)?)?.neg()?;
            masked_mean(&bce, &m)?
        }
        TaskTargets::Regression { labels, mask } => {
            let m = mask.to_dtype(DType::F32)?;
            let y = present(labels, &m)?;
            masked_mean(&(&s - &y)?.sqr()?, &m)?
        }
    };
    let total = ((&soft * cfg.alpha)? + (&hard * (1.0 - cfg.alpha))?)?;
    Ok(TaskDistillLoss { total, soft, hard })
}
