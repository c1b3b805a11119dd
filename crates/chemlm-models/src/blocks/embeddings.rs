//! BERT-style input embeddings: word + learned absolute position + token type, then LayerNorm
//! and dropout (BERT, ALBERT; ALBERT's may be narrower than the hidden size).

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
        })
    }

    /// The word embedding matrix (tied to the MLM decoder).
    pub fn word_weight(&self) -> &Tensor {
        self.word.embeddings()
    }

    /// `ids` `[b, s]` u32 → `[b, s, width]`; token type 0 everywhere (single-segment input).
    pub fn forward(&self, ids: &Tensor, train: bool) -> Result<Tensor> {
        let (_, s) = ids.dims2()?;
        check_len(s, self.max_positions)?;
        let ids = ids.to_dtype(DType::U32)?;
        let w = candle_nn::Module::forward(&self.word, &ids)?;
        let pos_ids = Tensor::arange(0u32, s as u32, ids.device())?;
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
