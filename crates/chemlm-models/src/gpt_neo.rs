//! GPT-Neo decoder (ChemGPT): learned absolute positions, pre-LN blocks alternating global and
//! local (windowed) causal self-attention, NO 1/sqrt(d) attention scaling (as Hugging Face's
//! `GPTNeoSelfAttention`), tanh-GELU MLP, final LayerNorm, LM head tied to the token embeddings.
//! A [`KvCache`] makes generation O(n) per new token. `GPTNeoForCausalLM` tensor names.
//!
//! Padding: right-padded batches (positions are 0..seq whatever the mask, as HF does without
//! explicit position ids), so a molecule's logits do not depend on its batch mates.

use crate::blocks::attention::softmax_attention_merged;
use crate::blocks::dropout::ModelRng;
use crate::blocks::embeddings::{check_len, table};
use crate::blocks::{mask, Dropout, Linear};
use crate::config::{AttentionLayerType, GptNeoConfig};
use crate::ops::layer_norm::LayerNorm;
use crate::ops::Activation;
use crate::traits::{LanguageModel, LmKind, ModelOutput, OutputRequest};
use candle_core::{DType, Result, Tensor};
use candle_nn::{Embedding, VarBuilder};

#[derive(Debug, Clone)]
struct Block {
    ln_1: LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    ln_2: LayerNorm,
    fc: Linear,
    proj: Linear,
    window: Option<usize>,
}

/// Per-layer keys and values `[b, n, heads * d]` of the tokens seen so far, for incremental
/// decoding.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of positions already in the cache.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a cached tensor still carries an op graph. Inside inference mode none may: it
    /// would keep every earlier decoding step's activations alive (13 GB for a 0.8 M-parameter
    /// model sampling 256 sequences before this was fixed).
    pub fn holds_graph(&self) -> bool {
        self.layers
            .iter()
            .flatten()
            .any(|(k, v)| k.track_op() || v.track_op())
    }
}

/// GPT-Neo for causal LM.
#[derive(Debug, Clone)]
pub struct GptNeo {
    wte: Embedding,
    wpe: Embedding,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    heads: usize,
    act: Activation,
    embed_dropout: Dropout,
    attn_dropout: Dropout,
    resid_dropout: Dropout,
    max_positions: usize,
    rng: ModelRng,
}

impl GptNeo {
    pub fn new(c: &GptNeoConfig, rng: ModelRng, vb: VarBuilder) -> Result<Self> {
        let (h, std) = (c.hidden_size, c.initializer_range);
        let t = vb.pp("transformer");
        let wte = table(c.vocab_size, h, std, t.clone(), "wte.weight")?;
        let wpe = table(c.max_position_embeddings, h, std, t.clone(), "wpe.weight")?;
        let ffn = c.ffn_size();
        let blocks = c
            .attention_layers()
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let b = t.pp(format!("h.{i}"));
                let a = b.pp("attn.attention");
                Ok(Block {
                    ln_1: LayerNorm::new(h, c.layer_norm_epsilon, b.pp("ln_1"))?,
                    q: Linear::new(h, h, false, std, a.pp("q_proj"))?,
                    k: Linear::new(h, h, false, std, a.pp("k_proj"))?,
                    v: Linear::new(h, h, false, std, a.pp("v_proj"))?,
                    out: Linear::new(h, h, true, std, a.pp("out_proj"))?,
                    ln_2: LayerNorm::new(h, c.layer_norm_epsilon, b.pp("ln_2"))?,
                    fc: Linear::new(h, ffn, true, std, b.pp("mlp.c_fc"))?,
                    proj: Linear::new(ffn, h, true, std, b.pp("mlp.c_proj"))?,
                    window: match kind {
                        AttentionLayerType::Global => None,
                        AttentionLayerType::Local => Some(c.window_size),
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            wte: Embedding::new(wte, h),
            wpe: Embedding::new(wpe, h),
            blocks,
            ln_f: LayerNorm::new(h, c.layer_norm_epsilon, t.pp("ln_f"))?,
            heads: c.num_heads,
            act: c.activation_function,
            embed_dropout: Dropout::new(c.embed_dropout, rng.clone()),
            attn_dropout: Dropout::new(c.attention_dropout, rng.clone()),
            resid_dropout: Dropout::new(c.resid_dropout, rng.clone()),
            max_positions: c.max_position_embeddings,
            rng,
        })
    }

    /// Learned positions: the longest sequence (prompt + generated tokens) the model can read.
    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// The device the weights live on.
    pub fn device(&self) -> &candle_core::Device {
        self.wte.embeddings().device()
    }

    fn logits(&self, h: &Tensor) -> Result<Tensor> {
        let (b, s, d) = h.dims3()?;
        h.reshape((b * s, d))?
            .matmul(&crate::precision::cast(self.wte.embeddings())?.t()?)?
            .reshape((b, s, ()))
    }

    /// Core pass over `ids` at positions `offset..`, optionally appending to / reading `cache`.
    fn run(
        &self,
        ids: &Tensor,
        pad_mask: Option<&Tensor>,
        mut cache: Option<&mut KvCache>,
        train: bool,
        request: OutputRequest,
    ) -> Result<ModelOutput> {
        let (_, s) = ids.dims2()?;
        let offset = cache.as_ref().map(|c| c.len).unwrap_or(0);
        check_len(offset + s, self.max_positions)?;
        let ids = ids.to_dtype(DType::U32)?;
        let pos = Tensor::arange(offset as u32, (offset + s) as u32, ids.device())?;
        let x = crate::precision::cast(
            &candle_nn::Module::forward(&self.wte, &ids)?
                .broadcast_add(&candle_nn::Module::forward(&self.wpe, &pos)?)?,
        )?;
        let mut h = self.embed_dropout.forward(&x, train)?;
        let dtype = h.dtype();
        let pad_bias = match pad_mask {
            Some(m) => Some(mask::padding_bias(m, dtype)?),
            None => None,
        };
        if let Some(c) = cache.as_deref_mut() {
            if c.layers.len() != self.blocks.len() {
                c.layers = vec![None; self.blocks.len()];
            }
        }
        let mut hidden_states = Vec::new();
        let mut attentions = Vec::new();
        for (i, blk) in self.blocks.iter().enumerate() {
            if request.hidden_states {
                hidden_states.push(h.clone());
            }
            let a_in = blk.ln_1.forward(&h)?;
            // Keys and values stay in the projections' `[b, n, heads * d]` layout (the cache
            // too).
            let q = blk.q.forward(&a_in)?;
            let mut k = blk.k.forward(&a_in)?;
            let mut v = blk.v.forward(&a_in)?;
            if let Some(c) = cache.as_deref_mut() {
                if let Some((pk, pv)) = &c.layers[i] {
                    k = Tensor::cat(&[pk, &k], 1)?;
                    v = Tensor::cat(&[pv, &v], 1)?;
                }
                // Inside inference mode the cache holds plain values: a cached tensor that kept
                // its op graph would keep every earlier step's activations alive with it.
                c.layers[i] = Some((
                    crate::grad_mode::maybe_detach(k.clone()),
                    crate::grad_mode::maybe_detach(v.clone()),
                ));
            }
            let k_len = k.dim(1)?;
            let mut bias = mask::causal_bias(s, k_len, offset, blk.window, dtype, h.device())?;
            if let Some(pb) = &pad_bias {
                bias = bias.broadcast_add(pb)?;
            }
            // GPT-Neo does not scale its scores.
            let (context, probs) = softmax_attention_merged(
                &q,
                &k,
                &v,
                &bias,
                self.heads,
                1.0,
                (&self.attn_dropout, train),
                request.attentions,
            )?;
            attentions.extend(probs);
            let a = self
                .resid_dropout
                .forward(&blk.out.forward(&context)?, train)?;
            h = (h + a)?;
            let m = blk
                .proj
                .forward(&self.act.apply(&blk.fc.forward(&blk.ln_2.forward(&h)?)?)?)?;
            h = crate::grad_mode::maybe_detach((h + self.resid_dropout.forward(&m, train)?)?);
        }
        if let Some(c) = cache {
            c.len += s;
        }
        let h = self.ln_f.forward(&h)?;
        if request.hidden_states {
            hidden_states.push(h.clone());
        }
        let logits = if request.logits {
            Some(self.logits(&h)?)
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

    /// Incremental decoding: logits `[batch, new, vocab]` for `ids` `[batch, new]` placed after
    /// the `cache.len()` positions already cached; the cache grows by `new`. All sequences of the
    /// batch share positions (no padding), which is how generation starts them (from `<bos>`).
    pub fn forward_cached(&self, ids: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let req = OutputRequest {
            logits: true,
            ..Default::default()
        };
        let out = self.run(ids, None, Some(cache), false, req)?;
        out.logits
            .ok_or_else(|| candle_core::Error::Msg("no logits".into()))
    }
}

impl LanguageModel for GptNeo {
    fn kind(&self) -> LmKind {
        LmKind::Causal
    }

    fn forward_logits(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        let req = OutputRequest {
            logits: true,
            ..Default::default()
        };
        let out = self.run(ids, Some(mask), None, train, req)?;
        out.logits
            .ok_or_else(|| candle_core::Error::Msg("no logits".into()))
    }

    fn forward_hidden(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self
            .run(ids, Some(mask), None, train, OutputRequest::default())?
            .last_hidden)
    }

    fn forward_detailed(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: bool,
        request: OutputRequest,
    ) -> Result<ModelOutput> {
        self.run(ids, Some(mask), None, train, request)
    }

    fn set_seed(&self, seed: u64) {
        self.rng.reseed(seed);
    }
}
