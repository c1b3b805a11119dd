//! BERT-style input embeddings: word + learned absolute position + token type, then LayerNorm
//! and dropout (BERT, RoBERTa, ALBERT; ALBERT's may be narrower than the hidden size). RoBERTa
//! differs only in which position row each token reads, see [`PositionIds`].

use super::Dropout;
use crate::ops::layer_norm::LayerNorm;
use candle_core::{DType, Result, Tensor};
use candle_nn::{Embedding, Init, VarBuilder};

/// `word_embeddings`, `position_embeddings`, `token_type_embeddings`, `LayerNorm`.
#[derive(Debug, Clone)]
pub struct BertEmbeddings {
    word: Embedding,
    position: Embedding,
    token_type: Tensor,
    ln: LayerNorm,
    dropout: Dropout,
    max_positions: usize,
    positions: PositionIds,
}

/// How token positions index the position table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionIds {
    /// BERT, ALBERT: `0..seq` whatever the tokens.
    FromZero,
    /// RoBERTa (fairseq's `make_positions`, transformers' `create_position_ids_from_input_ids`):
    /// real tokens count up from `pad + 1`, every `pad` token gets row `pad`. Positions follow
    /// the ids, not the attention mask, because that is what the pretrained weights saw.
    AfterPadding { pad: u32 },
}

/// Sizes of a [`BertEmbeddings`].
#[derive(Debug, Clone, Copy)]
pub struct EmbeddingShape {
    pub vocab: usize,
    pub width: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub ln_eps: f64,
    pub init_std: f64,
    pub positions: PositionIds,
}

/// A `[rows, width]` embedding table named `name` initialised N(0, std).
pub fn table(rows: usize, width: usize, std: f64, vb: VarBuilder, name: &str) -> Result<Tensor> {
    vb.get_with_hints(
        (rows, width),
        name,
        Init::Randn {
            mean: 0.0,
            stdev: std,
        },
    )
}

impl BertEmbeddings {
    pub fn new(s: EmbeddingShape, dropout: Dropout, vb: VarBuilder) -> Result<Self> {
        let w = table(
            s.vocab,
            s.width,
            s.init_std,
            vb.clone(),
            "word_embeddings.weight",
        )?;
        let p = table(
            s.max_positions,
            s.width,
            s.init_std,
            vb.clone(),
            "position_embeddings.weight",
        )?;
        let t = table(
            s.type_vocab.max(1),
            s.width,
            s.init_std,
            vb.clone(),
            "token_type_embeddings.weight",
        )?;
        Ok(Self {
            word: Embedding::new(w, s.width),
            position: Embedding::new(p, s.width),
            token_type: t,
            ln: LayerNorm::new(s.width, s.ln_eps, vb.pp("LayerNorm"))?,
            dropout,
            max_positions: s.max_positions,
            positions: s.positions,
        })
    }

    /// The word embedding matrix (tied to the MLM decoder).
    pub fn word_weight(&self) -> &Tensor {
        self.word.embeddings()
    }

    /// Longest sequence the position table covers (RoBERTa: rows `0..=pad` are never read by a
    /// real token).
    pub fn max_len(&self) -> usize {
        match self.positions {
            PositionIds::FromZero => self.max_positions,
            PositionIds::AfterPadding { pad } => {
                self.max_positions.saturating_sub(pad as usize + 1)
            }
        }
    }

    /// Position ids `[s]` (shared by the batch) or `[b, s]` (RoBERTa: they depend on the ids).
    fn position_ids(&self, ids: &Tensor) -> Result<Tensor> {
        let (_, s) = ids.dims2()?;
        match self.positions {
            PositionIds::FromZero => Tensor::arange(0u32, s as u32, ids.device()),
            PositionIds::AfterPadding { pad } => {
                // cumsum(not_pad) * not_pad + pad, in f32: counts of 0/1 are exact far beyond
                // any position table.
                let not_pad = ids.ne(pad)?.to_dtype(DType::F32)?;
                let counts = not_pad.cumsum(1)?;
                ((counts * not_pad)? + f64::from(pad))?.to_dtype(DType::U32)
            }
        }
    }

    /// `ids` `[b, s]` u32 → `[b, s, width]`; token type 0 everywhere (single-segment input).
    pub fn forward(&self, ids: &Tensor, train: bool) -> Result<Tensor> {
        let (_, s) = ids.dims2()?;
        check_len(s, self.max_len())?;
        let ids = ids.to_dtype(DType::U32)?;
        let w = candle_nn::Module::forward(&self.word, &ids)?;
        let pos_ids = self.position_ids(&ids)?;
        let p = candle_nn::Module::forward(&self.position, &pos_ids)?;
        let t = self.token_type.narrow(0, 0, 1)?;
        let x = w.broadcast_add(&p)?.broadcast_add(&t)?;
        self.dropout.forward(&self.ln.forward(&x)?, train)
    }
}

/// Clear error for sequences longer than the position table.
pub fn check_len(s: usize, max: usize) -> Result<()> {
    if s > max {
        candle_core::bail!("sequence of {s} tokens exceeds the model's {max} positions");
    }
    Ok(())
}
