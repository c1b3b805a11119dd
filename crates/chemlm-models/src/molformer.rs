//! MoLFormer encoder (Ross et al. 2022): word embeddings only (positions come from rotary
//! embeddings, base 10000, rotate-half, on Q and K), post-LN layers with linear attention over a
//! random-feature map (32 features, relu kernel, eps 1e-6) or `elu + 1`, or full softmax
//! attention; FFN as wide as the hidden size; final LayerNorm; LM head
//! Linear → GELU → LayerNorm → Linear (untied, no bias). Molecule embedding = mean over real
//! tokens. Tensor names follow the Hugging Face port (`ibm/MoLFormer-XL-both-10pct`), including
//! the random projection buffers `…attention.self.feature_map.weight`.

use crate::blocks::dropout::ModelRng;
use crate::blocks::embeddings::{check_len, table};
use crate::blocks::encoder_layer::{AttentionKind, LayerShape, PostLnLayer, BERT_NAMES};
use crate::blocks::{Dropout, FeatureMap, Linear};
use crate::config::{MolformerAttention, MolformerConfig};
use crate::ops::layer_norm::LayerNorm;
use crate::ops::{Activation, Rotary};
use crate::traits::{LanguageModel, LmKind, ModelOutput, OutputRequest};
use candle_core::{DType, Result, Tensor};
use candle_nn::{Embedding, VarBuilder};

/// MoLFormer for masked LM.
#[derive(Debug, Clone)]
pub struct Molformer {
    word: Embedding,
    emb_dropout: Dropout,
    layers: Vec<PostLnLayer>,
    final_ln: LayerNorm,
    rotary: Rotary,
    head_dense: Linear,
    head_act: Activation,
    head_ln: LayerNorm,
    decoder: Linear,
    max_positions: usize,
    rng: ModelRng,
}

impl Molformer {
    pub fn new(c: &MolformerConfig, rng: ModelRng, vb: VarBuilder) -> Result<Self> {
        let std = c.initializer_range;
        let h = c.hidden_size;
        let head_dim = h / c.num_attention_heads;
        let w = table(
            c.vocab_size,
            h,
            std,
            vb.clone(),
            "molformer.embeddings.word_embeddings.weight",
        )?;
        let shape = LayerShape {
            hidden: h,
            heads: c.num_attention_heads,
            ffn: c.intermediate_size,
            act: c.hidden_act,
            ln_eps: c.layer_norm_eps,
            init_std: std,
        };
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for i in 0..c.num_hidden_layers {
            let attention = match c.attention_type {
                MolformerAttention::Full => AttentionKind::Softmax,
                MolformerAttention::Linear => AttentionKind::Linear {
                    feature_map: FeatureMap::new(
                        c.feature_map,
                        head_dim,
                        c.num_random_features,
                        rng.clone(),
                        vb.dtype(),
                        vb.device(),
                    )?,
                    eps: c.linear_attention_eps,
                },
            };
            layers.push(PostLnLayer::new(
                shape,
                &BERT_NAMES,
                attention,
                Dropout::new(c.hidden_dropout_prob, rng.clone()),
                Dropout::new(c.hidden_dropout_prob, rng.clone()),
                vb.pp(format!("molformer.encoder.layer.{i}")),
            )?);
        }
        Ok(Self {
            word: Embedding::new(w, h),
            emb_dropout: Dropout::new(c.embedding_dropout_prob, rng.clone()),
            layers,
            final_ln: LayerNorm::new(h, c.layer_norm_eps, vb.pp("molformer.LayerNorm"))?,
            rotary: Rotary::new(
                head_dim,
                c.max_position_embeddings,
                c.rotary_base,
                vb.dtype(),
                vb.device(),
            )?,
            head_dense: Linear::new(h, h, true, std, vb.pp("lm_head.transform.dense"))?,
            head_act: c.hidden_act,
            head_ln: LayerNorm::new(h, c.layer_norm_eps, vb.pp("lm_head.transform.LayerNorm"))?,
            decoder: Linear::new(h, c.vocab_size, false, std, vb.pp("lm_head.decoder"))?,
            max_positions: c.max_position_embeddings,
            rng,
        })
    }

    /// Random-feature projections by tensor name (buffers saved with the model, not trained).
    pub fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            if let AttentionKind::Linear { feature_map, .. } = l.attention() {
                if let Some(w) = feature_map.weight()? {
                    out.push((
                        format!("molformer.encoder.layer.{i}.attention.self.feature_map.weight"),
                        w,
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Set one buffer by name; returns false if the name is not one of ours.
    pub fn set_buffer(&self, name: &str, t: &Tensor) -> Result<bool> {
        for (i, l) in self.layers.iter().enumerate() {
            if name == format!("molformer.encoder.layer.{i}.attention.self.feature_map.weight") {
                if let AttentionKind::Linear { feature_map, .. } = l.attention() {
                    feature_map.set_weight(t)?;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

impl LanguageModel for Molformer {
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
        let (_, s) = ids.dims2()?;
        check_len(s, self.max_positions)?;
        let ids = ids.to_dtype(DType::U32)?;
        let x = self.emb_dropout.forward(
            &crate::precision::cast(&candle_nn::Module::forward(&self.word, &ids)?)?,
            train,
        )?;
        let (h, hidden_states, attentions) = crate::bert::run_encoder(
            x,
            self.layers.iter(),
            mask,
            Some(&self.rotary),
            train,
            request,
        )?;
        let h = self.final_ln.forward(&h)?;
        let logits = if request.logits {
            let t = self
                .head_ln
                .forward(&self.head_act.apply(&self.head_dense.forward(&h)?)?)?;
            Some(self.decoder.forward(&t)?)
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
