//! ALBERT-style encoder with cross-layer parameter sharing (DeLiCaTe's CLPS): `num_hidden_groups`
//! distinct post-LN layers applied `num_hidden_layers` times, and factorised embeddings
//! (`embedding_size` < `hidden_size`, projected by `embedding_hidden_mapping_in`).
//! `AlbertForMaskedLM` tensor names (no pooler, as in `AlbertForMaskedLM`; see [`crate::bert`]).
//!
//! Deviation from HF, on purpose: when `embedding_size == hidden_size` there is no
//! `embedding_hidden_mapping_in` (HF always has one). DeLiCaTe's CLPS model is a BERT whose layer
//! is shared, with no such projection, and its ≈8.1 M parameters only add up without it.

use crate::bert::{HeadShape, TiedMlmHead};
use crate::blocks::dropout::ModelRng;
use crate::blocks::embeddings::{BertEmbeddings, EmbeddingShape, PositionIds};
use crate::blocks::encoder_layer::{AttentionKind, LayerShape, PostLnLayer, ALBERT_NAMES};
use crate::blocks::{Dropout, Linear};
use crate::config::AlbertConfig;
use crate::traits::{LanguageModel, LmKind, ModelOutput, OutputRequest};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// ALBERT for masked LM.
#[derive(Debug, Clone)]
pub struct Albert {
    embeddings: BertEmbeddings,
    mapping: Option<Linear>,
    groups: Vec<PostLnLayer>,
    num_layers: usize,
    head: TiedMlmHead,
    rng: ModelRng,
}

impl Albert {
    pub fn new(c: &AlbertConfig, rng: ModelRng, vb: VarBuilder) -> Result<Self> {
        let std = c.initializer_range;
        let embeddings = BertEmbeddings::new(
            EmbeddingShape {
                vocab: c.vocab_size,
                width: c.embedding_size,
                max_positions: c.max_position_embeddings,
                type_vocab: c.type_vocab_size,
                ln_eps: c.layer_norm_eps,
                init_std: std,
                positions: PositionIds::FromZero,
            },
            Dropout::new(c.hidden_dropout_prob, rng.clone()),
            vb.pp("albert.embeddings"),
        )?;
        let mapping = if c.embedding_size != c.hidden_size {
            Some(Linear::new(
                c.embedding_size,
                c.hidden_size,
                true,
                std,
                vb.pp("albert.encoder.embedding_hidden_mapping_in"),
            )?)
        } else {
            None
        };
        let shape = LayerShape {
            hidden: c.hidden_size,
            heads: c.num_attention_heads,
            ffn: c.intermediate_size,
            act: c.hidden_act,
            ln_eps: c.layer_norm_eps,
            init_std: std,
        };
        let groups = (0..c.num_hidden_groups)
            .map(|g| {
                PostLnLayer::new(
                    shape,
                    &ALBERT_NAMES,
                    AttentionKind::Softmax,
                    Dropout::new(c.hidden_dropout_prob, rng.clone()),
                    Dropout::new(c.attention_probs_dropout_prob, rng.clone()),
                    vb.pp(format!(
                        "albert.encoder.albert_layer_groups.{g}.albert_layers.0"
                    )),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let head = TiedMlmHead::new(
            HeadShape {
                in_dim: c.hidden_size,
                out_dim: c.embedding_size,
                act: c.hidden_act,
                ln_eps: c.layer_norm_eps,
                std,
            },
            embeddings.word_weight().clone(),
            ("dense", "LayerNorm", "bias"),
            vb.pp("predictions"),
        )?;
        Ok(Self {
            embeddings,
            mapping,
            groups,
            num_layers: c.num_hidden_layers,
            head,
            rng,
        })
    }

    /// Which shared group layer application `i` uses (HF: `int(i / (layers / groups))`).
    pub fn group_of(&self, i: usize) -> usize {
        i / (self.num_layers / self.groups.len())
    }
}

impl LanguageModel for Albert {
    fn kind(&self) -> LmKind {
        LmKind::Masked
    }

    fn forward_logits(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        crate::traits::logits_from_detailed(self, ids, mask, train)
    }

    fn forward_hidden(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        crate::traits::hidden_from_detailed(self, ids, mask, train)
    }

    fn forward_detailed(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: bool,
        request: OutputRequest,
    ) -> Result<ModelOutput> {
        let mut x = self.embeddings.forward(ids, train)?;
        if let Some(m) = &self.mapping {
            x = m.forward(&x)?;
        }
        let layers = (0..self.num_layers).map(|i| &self.groups[self.group_of(i)]);
        let (h, hidden_states, attentions) =
            crate::bert::run_encoder(x, layers, mask, None, train, request)?;
        let logits = if request.logits {
            Some(self.head.forward(&h)?)
        } else {
            None
        };
        Ok(ModelOutput {
            logits,
            last_hidden: h,
            hidden_states,
            attentions,
        })
    }

    fn set_seed(&self, seed: u64) {
        self.rng.reseed(seed);
    }
}
