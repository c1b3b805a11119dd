//! Training objectives: what loss a batch gives.
//!
//! An [`Objective`] turns a host [`Batch`] into a summed loss and a weight (number of predicted
//! tokens). The trainer divides the summed loss of all micro-batches of a step by their summed
//! weight, so gradient accumulation gives exactly the gradient of one large batch. Distillation
//! and other losses plug into the same trainer by implementing this trait.

pub mod augment;
pub mod loss;
pub mod masking;

use crate::data::Batch;
use candle_core::{Device, Tensor};
use chemlm_models::LanguageModel;
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;

pub use masking::{MaskedBatch, Masker, MaskingConfig, SpecialTokens};

/// The loss of one (micro-)batch.
#[derive(Debug, Clone)]
pub struct LossOutput {
    /// Scalar f32 tensor: the loss summed over predicted positions (differentiable).
    pub loss_sum: Tensor,
    /// The number the loss is averaged over (predicted positions).
    pub weight: f64,
    /// Correct arg-max predictions among predicted positions (computed when not training).
    pub correct: Option<usize>,
    /// Real (non-pad) input tokens, for throughput.
    pub tokens: usize,
}

/// A loss the trainer can minimise.
pub trait Objective {
    /// Short name for logs ("mlm", "clm", "distill").
    fn name(&self) -> &str;
    /// Computes the loss of `batch`. `rng` supplies every random choice (masking), so runs are
    /// reproducible. `train` is passed to the model (dropout) and asks to skip accuracy.
    fn compute(
        &self,
        batch: &Batch,
        rng: &mut ChaCha8Rng,
        train: bool,
    ) -> crate::error::Result<LossOutput>;

    /// The loss of rows `rows` of `batch` only (a data-parallel rank's share of a global
    /// batch). Every random choice is drawn for the whole batch, in the order [`compute`] draws
    /// it, so `rng` stays in step on every rank and the sum over ranks of the losses and
    /// weights is what [`compute`] gives for the whole batch. An empty `rows` still draws them
    /// and returns a zero loss of weight 0. Objectives that cannot split a batch refuse.
    ///
    /// [`compute`]: Objective::compute
    fn compute_rows(
        &self,
        batch: &Batch,
        rows: &[usize],
        rng: &mut ChaCha8Rng,
        train: bool,
    ) -> crate::error::Result<LossOutput> {
        if rows.len() == batch.batch_size && rows.iter().enumerate().all(|(i, &r)| i == r) {
            return self.compute(batch, rng, train);
        }
        Err(crate::error::TrainError::Distributed(format!(
            "the {} objective does not split a batch across ranks",
            self.name()
        )))
    }

    /// Restarts the model's own random stream (dropout, random features) before a training
    /// micro-batch. The trainer passes a seed derived from (run seed, step, micro-batch), so
    /// dropout masks are a function of the position in training and resume bit-identically.
    fn set_seed(&self, _seed: u64) {}
}

/// Masked-LM: corrupt with [`Masker`], predict the original tokens at chosen positions.
pub struct MlmObjective<'m> {
    model: &'m dyn LanguageModel,
    masker: Masker,
    device: Device,
}

impl<'m> MlmObjective<'m> {
    /// Masked-LM on `model` (whose inputs live on `device`).
    pub fn new(model: &'m dyn LanguageModel, masker: Masker, device: Device) -> Self {
        MlmObjective {
            model,
            masker,
            device,
        }
    }
}

impl MlmObjective<'_> {
    /// The loss of `masked` (drawn for `batch`) on `batch`'s rows `rows` (all rows: `None`).
    fn loss_of(
        &self,
        batch: &Batch,
        masked: &MaskedBatch,
        rows: Option<&[usize]>,
        train: bool,
    ) -> crate::error::Result<LossOutput> {
        let sub;
        let (part, ids, positions, targets) = match rows {
            None => (
                batch,
                &masked.input_ids,
                Cow::Borrowed(&masked.positions[..]),
                Cow::Borrowed(&masked.targets[..]),
            ),
            Some(rows) => {
                sub = batch.select_rows(&masked.input_ids, rows);
                let (t, t_new) = (batch.seq_len, sub.seq_len);
                // Row r of the batch is row k of the part; positions stay ascending.
                let mut slot = vec![usize::MAX; batch.batch_size];
                for (k, &r) in rows.iter().enumerate() {
                    slot[r] = k;
                }
                let (mut pos, mut tg) = (Vec::new(), Vec::new());
                for (&p, &y) in masked.positions.iter().zip(&masked.targets) {
                    let (r, c) = (p as usize / t, p as usize % t);
                    if slot[r] != usize::MAX {
                        pos.push((slot[r] * t_new + c) as u32);
                        tg.push(y);
                    }
                }
                (&sub, &sub.ids, Cow::Owned(pos), Cow::Owned(tg))
            }
        };
        token_loss(
            self.model,
            &self.device,
            part,
            ids,
            &positions,
            &targets,
            train,
        )
    }
}

/// The summed cross-entropy of `model` reading `ids` (laid out as `batch`) at flat `positions`
/// against `targets`, as both language-model objectives score a batch. An empty batch (a rank
/// with no rows of a small global batch) scores zero with weight 0, without a forward pass.
fn token_loss(
    model: &dyn LanguageModel,
    device: &Device,
    batch: &Batch,
    ids: &[u32],
    positions: &[u32],
    targets: &[u32],
    train: bool,
) -> crate::error::Result<LossOutput> {
    if batch.batch_size == 0 {
        return Ok(LossOutput {
            loss_sum: Tensor::zeros((), candle_core::DType::F32, device)?,
            weight: 0.0,
            correct: (!train).then_some(0),
            tokens: 0,
        });
    }
    let (ids, mask) = batch.tensors(ids, device)?;
    let logits = model.forward_logits(&ids, &mask, train)?;
    let selected = loss::select_positions(&logits, positions)?;
    let tgt = loss::targets_tensor(targets, device)?;
    let loss_sum = loss::cross_entropy_sum(&selected, &tgt)?;
    let correct = if train {
        None
    } else {
        Some(loss::count_correct(&selected, targets)?)
    };
    Ok(LossOutput {
        loss_sum,
        weight: positions.len() as f64,
        correct,
        tokens: batch.real_tokens(),
    })
}

impl Objective for MlmObjective<'_> {
    fn name(&self) -> &str {
        "mlm"
    }

    fn set_seed(&self, seed: u64) {
        self.model.set_seed(seed);
    }

    fn compute(
        &self,
        batch: &Batch,
        rng: &mut ChaCha8Rng,
        train: bool,
    ) -> crate::error::Result<LossOutput> {
        let masked = self.masker.apply(&batch.ids, &batch.mask, rng);
        self.loss_of(batch, &masked, None, train)
    }

    fn compute_rows(
        &self,
        batch: &Batch,
        rows: &[usize],
        rng: &mut ChaCha8Rng,
        train: bool,
    ) -> crate::error::Result<LossOutput> {
        // The whole batch is masked, so the stream advances as on one process.
        let masked = self.masker.apply(&batch.ids, &batch.mask, rng);
        self.loss_of(batch, &masked, Some(rows), train)
    }
}

/// Causal LM: predict token `t + 1` from tokens `..= t`; padding is never a target.
pub struct ClmObjective<'m> {
    model: &'m dyn LanguageModel,
    device: Device,
}

impl<'m> ClmObjective<'m> {
    /// Causal LM on `model` (whose inputs live on `device`).
    pub fn new(model: &'m dyn LanguageModel, device: Device) -> Self {
        ClmObjective { model, device }
    }
}

/// Flat positions whose logits predict a real next token, and those next tokens.
pub fn causal_targets(batch: &Batch) -> (Vec<u32>, Vec<u32>) {
    let t = batch.seq_len;
    let mut positions = Vec::new();
    let mut targets = Vec::new();
    for r in 0..batch.batch_size {
        for c in 0..t.saturating_sub(1) {
            let here = r * t + c;
            if batch.mask[here] != 0 && batch.mask[here + 1] != 0 {
                positions.push(here as u32);
                targets.push(batch.ids[here + 1]);
            }
        }
    }
    (positions, targets)
}

impl Objective for ClmObjective<'_> {
    fn name(&self) -> &str {
        "clm"
    }

    fn compute_rows(
        &self,
        batch: &Batch,
        rows: &[usize],
        rng: &mut ChaCha8Rng,
        train: bool,
    ) -> crate::error::Result<LossOutput> {
        // No random choices: a row's loss depends on that row alone.
        self.compute(&batch.select_rows(&batch.ids, rows), rng, train)
    }

    fn set_seed(&self, seed: u64) {
        self.model.set_seed(seed);
    }

    fn compute(
        &self,
        batch: &Batch,
        _rng: &mut ChaCha8Rng,
        train: bool,
    ) -> crate::error::Result<LossOutput> {
        let (positions, targets) = causal_targets(batch);
        token_loss(
            self.model,
            &self.device,
            batch,
            &batch.ids,
            &positions,
            &targets,
            train,
        )
    }
}
