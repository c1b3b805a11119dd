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
    /// Encoder-decoder trained by teacher forcing on (source, target) pairs (T5). Its
    /// `forward_logits` needs decoder inputs, so the single-sequence objectives cannot use it.
    #[serde(rename = "seq2seq")]
    Seq2Seq,
}

/// What [`LanguageModel::forward_detailed`] should return besides the last hidden states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputRequest {
    /// Also compute LM logits from the same forward pass.
    pub logits: bool,
    /// Also return the hidden states entering each layer and leaving the last one.
    pub hidden_states: bool,
    /// Also return each layer's attention map (O(n^2) even for linear attention).
    pub attentions: bool,
}

/// Everything one forward pass can give, for distillation and analysis.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// `[batch, seq, vocab]` when requested.
    pub logits: Option<Tensor>,
    /// Final hidden states `[batch, seq, hidden]` (what `forward_hidden` returns).
    pub last_hidden: Tensor,
    /// When requested: `num_layers + 1` tensors `[batch, seq, hidden]` — the embedding output
    /// (after any factorised-embedding projection) and the output of every layer application,
    /// as Hugging Face's `output_hidden_states`. Layer map 0/4/8/12 → 0/1/2/3 indexes this.
    pub hidden_states: Vec<Tensor>,
    /// When requested: one `[batch, heads, seq, seq]` map per layer application.
    pub attentions: Vec<Tensor>,
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
    fn forward_logits(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor>;

    /// Final hidden states `[batch, seq, hidden]`, for pooling, distillation and embedding.
    fn forward_hidden(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor>;

    /// Logits, per-layer hidden states and attention maps from ONE forward pass (distillation).
    /// The default runs `forward_hidden` (and `forward_logits` if asked) and returns no per-layer
    /// tensors; every chemlm architecture overrides it.
    fn forward_detailed(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
        request: OutputRequest,
    ) -> Result<ModelOutput> {
        let last_hidden = self.forward_hidden(input_ids, attention_mask, train)?;
        let logits = if request.logits {
            Some(self.forward_logits(input_ids, attention_mask, train)?)
        } else {
            None
        };
        Ok(ModelOutput {
            logits,
            last_hidden,
            hidden_states: Vec::new(),
            attentions: Vec::new(),
        })
    }

    /// Molecule embeddings `[batch, hidden]`: mean of the final hidden states over real tokens.
    fn embed(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let h = self.forward_hidden(input_ids, attention_mask, false)?;
        crate::blocks::masked_mean(&h, attention_mask)
    }

    /// Restart the model's own random stream (dropout masks, random-feature redraws). A trainer
    /// that calls this with a per-step seed gets runs that resume bit-identically. Default: no-op.
    fn set_seed(&self, _seed: u64) {}
}

/// `forward_logits` for a model whose real work is in `forward_detailed` (one pass, logits only).
pub fn logits_from_detailed<M: LanguageModel + ?Sized>(
    model: &M,
    input_ids: &Tensor,
    attention_mask: &Tensor,
    train: bool,
) -> Result<Tensor> {
    let request = OutputRequest {
        logits: true,
        ..Default::default()
    };
    model
        .forward_detailed(input_ids, attention_mask, train, request)?
        .logits
        .ok_or_else(|| candle_core::Error::Msg("model returned no logits".into()))
}

/// `forward_hidden` for a model whose real work is in `forward_detailed` (no LM head computed).
pub fn hidden_from_detailed<M: LanguageModel + ?Sized>(
    model: &M,
    input_ids: &Tensor,
    attention_mask: &Tensor,
    train: bool,
) -> Result<Tensor> {
    Ok(model
        .forward_detailed(input_ids, attention_mask, train, OutputRequest::default())?
        .last_hidden)
}
