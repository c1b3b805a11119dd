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

/// One layer's cached keys and values.
#[derive(Debug)]
enum LayerKv {
    /// `[b, n, heads * d]`, grown by concatenation: keeps the op graph outside inference mode.
    Joined(Tensor, Tensor),
    /// `[b, capacity, heads * d]` buffers written in place, the cache's first `len` positions
    /// valid (inference mode on CPU): a new token copies only itself, not the earlier positions.
    Buffered(Tensor, Tensor),
}

/// What attention reads after an append.
enum CachedKv {
    /// All positions `[b, n, heads * d]`, for the general attention kernels.
    Full(Tensor, Tensor),
    /// The buffers, for [`crate::ops::decode_attention::decode_step`] (one new position).
    Buffers(Tensor, Tensor),
}

/// Per-layer keys and values of the tokens seen so far, for incremental decoding.
#[derive(Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<LayerKv>>,
    len: usize,
    /// Positions to allocate the in-place buffers for at once.
    reserve: usize,
}

impl Clone for KvCache {
    /// A deep copy: the in-place buffers must not be shared between two caches.
    fn clone(&self) -> Self {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                l.as_ref().map(|l| match l {
                    LayerKv::Joined(k, v) => LayerKv::Joined(k.clone(), v.clone()),
                    LayerKv::Buffered(k, v) => LayerKv::Buffered(
                        k.copy().expect("copy of a CPU buffer"),
                        v.copy().expect("copy of a CPU buffer"),
                    ),
                })
            })
            .collect();
        Self {
            layers,
            len: self.len,
            reserve: self.reserve,
        }
    }
}

impl KvCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache that allocates room for `positions` tokens at once (the prompt plus the tokens to
    /// generate), instead of growing by doubling.
    pub fn with_capacity(positions: usize) -> Self {
        Self {
            reserve: positions,
            ..Self::default()
        }
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
        self.layers.iter().flatten().any(|l| match l {
            LayerKv::Joined(k, v) | LayerKv::Buffered(k, v) => k.track_op() || v.track_op(),
        })
    }

    /// Whether layers keep in-place buffers (inference mode on CPU) rather than joined tensors.
    pub fn is_buffered(&self) -> bool {
        matches!(
            self.layers.iter().flatten().next(),
            Some(LayerKv::Buffered(..))
        )
    }

    /// Appends layer `i`'s new keys and values `[b, s, heads * d]` after the `self.len` cached
    /// positions.
    fn append(&mut self, i: usize, k: Tensor, v: Tensor) -> Result<CachedKv> {
        let offset = self.len;
        let s = k.dim(1)?;
        let reserve = self.reserve;
        let slot = &mut self.layers[i];
        let joined = |k: &Tensor, v: &Tensor| {
            // Inside inference mode the cache holds plain values: a cached tensor that kept its
            // op graph would keep every earlier step's activations alive with it.
            LayerKv::Joined(
                crate::grad_mode::maybe_detach(k.clone()),
                crate::grad_mode::maybe_detach(v.clone()),
            )
        };
        match slot.take() {
            None if offset == 0
                && crate::grad_mode::is_inference()
                && crate::ops::use_fused(&k) =>
            {
                let (b, _, w) = k.dims3()?;
                let cap = reserve.max(s).max(16);
                let kb = Tensor::zeros((b, cap, w), k.dtype(), k.device())?;
                let vb = Tensor::zeros((b, cap, w), v.dtype(), v.device())?;
                kb.slice_set(&k.detach().contiguous()?, 1, 0)?;
                vb.slice_set(&v.detach().contiguous()?, 1, 0)?;
                *slot = Some(LayerKv::Buffered(kb, vb));
                Ok(CachedKv::Full(k, v))
            }
            None => {
                *slot = Some(joined(&k, &v));
                Ok(CachedKv::Full(k, v))
            }
            Some(LayerKv::Joined(pk, pv)) => {
                let k = Tensor::cat(&[&pk, &k], 1)?;
                let v = Tensor::cat(&[&pv, &v], 1)?;
                *slot = Some(joined(&k, &v));
                Ok(CachedKv::Full(k, v))
            }
            Some(LayerKv::Buffered(mut kb, mut vb)) => {
                let (b, cap, w) = kb.dims3()?;
                if offset + s > cap {
                    // Double (at least): the copy of the earlier positions happens log n times.
                    let grow = (2 * cap).max(offset + s) - offset;
                    let pad = Tensor::zeros((b, grow, w), kb.dtype(), kb.device())?;
                    kb = Tensor::cat(&[&kb.narrow(1, 0, offset)?, &pad], 1)?;
                    vb = Tensor::cat(&[&vb.narrow(1, 0, offset)?, &pad], 1)?;
                }
                kb.slice_set(&k.detach().contiguous()?, 1, offset)?;
                vb.slice_set(&v.detach().contiguous()?, 1, offset)?;
                let out = if s == 1 {
                    CachedKv::Buffers(kb.clone(), vb.clone())
                } else {
                    CachedKv::Full(
                        kb.narrow(1, 0, offset + s)?.copy()?,
                        vb.narrow(1, 0, offset + s)?.copy()?,
                    )
                };
                *slot = Some(LayerKv::Buffered(kb, vb));
                Ok(out)
            }
        }
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

    /// Softmax attention of `q` `[b, s, heads * d]` (positions `offset..`) over all keys and
    /// values so far `[b, n, heads * d]`, with the causal (and local-window) mask and padding.
    #[allow(clippy::too_many_arguments)]
    fn attend(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        offset: usize,
        window: Option<usize>,
        pad_bias: &Option<Tensor>,
        train: bool,
        request: OutputRequest,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let s = q.dim(1)?;
        let mut bias = mask::causal_bias(s, k.dim(1)?, offset, window, q.dtype(), q.device())?;
        if let Some(pb) = pad_bias {
            bias = bias.broadcast_add(pb)?;
        }
        // GPT-Neo does not scale its scores.
        softmax_attention_merged(
            q,
            k,
            v,
            &bias,
            self.heads,
            1.0,
            (&self.attn_dropout, train),
            request.attentions,
        )
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
                c.layers = (0..self.blocks.len()).map(|_| None).collect();
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
            let k = blk.k.forward(&a_in)?;
            let v = blk.v.forward(&a_in)?;
            let cached = match cache.as_deref_mut() {
                Some(c) => c.append(i, k, v)?,
                None => CachedKv::Full(k, v),
            };
            let (context, probs) = match cached {
                // One new position per sequence, no padding, nothing to return but the context.
                CachedKv::Buffers(kb, vb)
                    if pad_bias.is_none() && !request.attentions && !train =>
                {
                    let ctx = crate::ops::decode_attention::decode_step(
                        &q,
                        &kb,
                        &vb,
                        offset + 1,
                        blk.window,
                        self.heads,
                        1.0,
                    )?;
                    (ctx, None)
                }
                CachedKv::Buffers(kb, vb) => {
                    let (k, v) = (kb.narrow(1, 0, offset + s)?, vb.narrow(1, 0, offset + s)?);
                    self.attend(&q, &k, &v, offset, blk.window, &pad_bias, train, request)?
                }
                CachedKv::Full(k, v) => {
                    self.attend(&q, &k, &v, offset, blk.window, &pad_bias, train, request)?
                }
            };
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
