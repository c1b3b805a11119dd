//! The contract between models and the trainer: the trainer only sees [`LanguageModel`].

use candle_core::{Result, Tensor};

/// Which objective a model is trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LmKind {
    /// Bidirectional encoder trained by masked-LM (BERT, ALBERT, MoLFormer).
    Masked,
    /// Left-to-right decoder trained by causal LM (GPT-Neo / ChemGPT).
    Causal,
}

/// A language model the trainer can train.
///
/// Weights live in a `candle_nn::VarMap` owned by whoever built the model; the trainer gets that
/// VarMap separately so optimizers and checkpoints see every trainable tensor.
pub trait LanguageModel {
    /// Masked or causal.
    fn kind(&self) -> LmKind;

    /// Token logits `[batch, seq, vocab]` (f32) for `input_ids` `[batch, seq]` (u32) with
    /// `attention_mask` `[batch, seq]` (u32 or f32; 1 = real token, 0 = padding). `train` turns on
    /// dropout and, for MoLFormer, fresh random features.
    fn forward_logits(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Result<Tensor>;

    /// Final hidden states `[batch, seq, hidden]`, for pooling, distillation and embedding.
    fn forward_hidden(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Result<Tensor>;
}
