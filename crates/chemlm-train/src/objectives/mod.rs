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
        let (ids, mask) = batch.tensors(&masked.input_ids, &self.device)?;
        let logits = self.model.forward_logits(&ids, &mask, train)?;
        let selected = loss::select_positions(&logits, &masked.positions)?;
        let targets = loss::targets_tensor(&masked.targets, &self.device)?;
        let loss_sum = loss::cross_entropy_sum(&selected, &targets)?;
        let correct = if train {
            None
        } else {
            Some(loss::count_correct(&selected, &masked.targets)?)
        };
        Ok(LossOutput {
            loss_sum,
            weight: masked.positions.len() as f64,
            correct,
            tokens: batch.real_tokens(),
        })
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
        let (ids, mask) = batch.tensors(&batch.ids, &self.device)?;
        let logits = self.model.forward_logits(&ids, &mask, train)?;
        let selected = loss::select_positions(&logits, &positions)?;
        let tg = loss::targets_tensor(&targets, &self.device)?;
        let loss_sum = loss::cross_entropy_sum(&selected, &tg)?;
        let correct = if train {
            None
        } else {
            Some(loss::count_correct(&selected, &targets)?)
        };
        Ok(LossOutput {
            loss_sum,
            weight: positions.len() as f64,
            correct,
            tokens: batch.real_tokens(),
        })
    }
}
