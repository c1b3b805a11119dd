//! Losses with missing labels: a missing entry (mask 0) contributes nothing to the sum nor to
//! the count, so a Tox21 molecule measured on 3 of 12 assays trains exactly those 3 outputs.

use candle_core::Tensor;

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
