//! Losses with missing labels: a missing entry (mask 0) contributes nothing to the sum nor to
//! the count, so a Tox21 molecule measured on 3 of 12 assays trains exactly those 3 outputs.

use candle_core::Tensor;

use crate::distill::task::{task_soft_loss, TaskDistillConfig, TaskTargets};

/// L1 (MAE) or MSE on standardised targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegressionLoss {
    L1,
    Mse,
}

/// Mean binary cross-entropy with logits over entries where `mask` is 1. `logits`, `targets`
/// (0/1, any value where masked) and `mask` (0/1) are `[batch, tasks]` f32. Uses the stable form
/// `max(z,0) − z·y + log(1 + e^{−|z|})` (PyTorch's `BCEWithLogitsLoss`).
pub fn masked_bce_with_logits(
    logits: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
) -> candle_core::Result<Tensor> {
    let per = ((logits.relu()? - logits.mul(targets)?)? + logits.abs()?.neg()?.exp()?.log1p()?)?;
    masked_mean(&per, mask)
}

/// Mean L1 or squared error over entries where `mask` is 1.
pub fn masked_regression_loss(
    pred: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
    kind: RegressionLoss,
) -> candle_core::Result<Tensor> {
    let d = (pred - targets)?;
    let per = match kind {
        RegressionLoss::L1 => d.abs()?,
        RegressionLoss::Mse => d.sqr()?,
    };
    masked_mean(&per, mask)
}

/// The loss of one fine-tuning batch and, with a teacher, its two parts.
pub struct BatchLoss {
    /// What is differentiated: the true-label loss, or `alpha·soft + (1 − alpha)·hard`.
    pub total: Tensor,
    /// The teacher-matching term (task-stage distillation only).
    pub soft: Option<Tensor>,
    /// The true-label term.
    pub hard: Tensor,
}

/// The loss of head outputs `out` `[batch, tasks]` against standardised targets and their
/// presence mask: masked BCE with logits (classification) or masked L1/MSE (regression), and
/// with `teacher = Some((outputs, cfg))` the task-distillation mix
/// `alpha · soft + (1 − alpha) · hard`, where `soft` is [`task_soft_loss`] (temperature-softened
/// Bernoulli KL on logits, or MSE to the teacher's predictions in the same standardised space)
/// on every entry, labelled or not, and `hard` is the loss without a teacher. So `alpha = 0`
/// trains exactly as no teacher does, and with MSE this equals
/// [`crate::distill::task_distill_loss`].
pub fn finetune_batch_loss(
    out: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
    classification: bool,
    kind: RegressionLoss,
    teacher: Option<(&Tensor, &TaskDistillConfig)>,
) -> candle_core::Result<BatchLoss> {
    let hard = if classification {
        masked_bce_with_logits(out, targets, mask)?
    } else {
        masked_regression_loss(out, targets, mask, kind)?
    };
    let Some((t, cfg)) = teacher else {
        return Ok(BatchLoss {
            total: hard.clone(),
            soft: None,
            hard,
        });
    };
    let which = if classification {
        TaskTargets::Binary {
            labels: targets,
            mask,
        }
    } else {
        TaskTargets::Regression {
            labels: targets,
            mask,
        }
    };
    let soft = task_soft_loss(out, t, which, cfg)?;
    let total = ((&soft * cfg.alpha)? + (&hard * (1.0 - cfg.alpha))?)?;
    Ok(BatchLoss {
        total,
        soft: Some(soft),
        hard,
    })
}

fn masked_mean(per: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let n = mask.sum_all()?.clamp(1.0, f64::MAX)?;
    per.mul(mask)?.sum_all()?.div(&n)
}

/// log1p on tensors (candle has none): `log(1 + x)`.
trait Log1p {
    fn log1p(&self) -> candle_core::Result<Tensor>;
}

impl Log1p for Tensor {
    fn log1p(&self) -> candle_core::Result<Tensor> {
        (self + 1.0)?.log()
    }
}
