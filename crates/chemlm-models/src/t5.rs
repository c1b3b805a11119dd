//! T5 encoder-decoder (Raffel et al. 2020), v1.0 (ReLU feed-forward, LM head tied to the shared
//! embedding) and v1.1 (gated-GELU feed-forward, separate `lm_head`) from one [`T5Config`], with
//! Hugging Face `T5ForConditionalGeneration` tensor names.
//!
//! What makes T5 differ from the other chemlm models:
//! * pre-norm blocks with T5's RMS layer norm ([`crate::ops::rms_norm()`]: no mean, no bias);
//! * no absolute positions: a learned bias per (bucket of relative position, head) is added to the
//!   attention scores. Buckets are bidirectional in the encoder and causal in the decoder; the
//!   tables live in block 0 of each stack and the bias is computed once per pass and reused by
//!   every layer, as T5 does;
//! * no `1/sqrt(d_kv)` score scaling (T5 folds it into the query initialisation);
//! * cross-attention has no position bias, only the encoder padding mask;
//! * a tied LM head sees the decoder output rescaled by `d_model^-0.5`; an untied one does not;
//! * dropout (`dropout_rate`, train mode only) on the embeddings, attention probabilities, the
//!   FFN's hidden layer, every sublayer output and after each final norm, as HF places it;
//! * fresh weights follow HF's `_init_weights` with `f = initializer_factor`: `shared` and
//!   `lm_head` N(0, f); `q` N(0, f (d_model d_kv)^-1/2); `k`, `v`, `wi*` and the relative bias
//!   tables N(0, f d_model^-1/2); `o` N(0, f (heads d_kv)^-1/2); `wo` N(0, f d_ff^-1/2); norm
//!   weights f. Parameter counts and FLOPs: [`crate::params`].
//!
//! Padding: right-padded sources and targets. Incremental decoding keeps a [`T5Cache`]: the
//! cross-attention keys/values and the encoder mask are computed once per source in
//! [`T5::new_cache`]; the self-attention keys/values grow by the tokens fed to
//! [`T5::decode_cached`].

mod cpu;

use crate::blocks::attention::softmax_attention_merged;
use crate::blocks::dropout::ModelRng;
use crate::blocks::{mask, Dropout, Linear};
use crate::config::T5Config;
use crate::ops::rms_norm::RmsNorm;
use crate::ops::Activation;
use crate::traits::{LanguageModel, LmKind, ModelOutput, OutputRequest};
use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// Bucket of relative position `rel = key - query`, exactly as Hugging Face's
/// `T5Attention._relative_position_bucket`: half the buckets (per direction when bidirectional)
/// hold exact distances, the rest log-spaced distances up to `max_distance`, beyond which all
/// distances share the last bucket. Causal buckets map every future key to bucket 0. The log is
/// taken in f32 and truncated, as PyTorch does, so bucket boundaries agree exactly.
pub fn relative_position_bucket(
    rel: i64,
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
) -> u32 {
    let mut nb = num_buckets as i64;
    let mut bucket = 0i64;
    let dist = if bidirectional {
        nb /= 2;
        if rel > 0 {
            bucket += nb;
        }
        rel.abs()
    } else {
        (-rel).max(0)
    };
    let max_exact = nb / 2;
    if dist < max_exact {
        bucket += dist;
    } else {
        let ratio = (dist as f32 / max_exact as f32).ln();
        let span = ((max_distance as f64) / (max_exact as f64)).ln() as f32;
        let large = max_exact + (ratio / span * (nb - max_exact) as f32) as i64;
        bucket += large.min(nb - 1);
    }
    bucket as u32
}

/// `[1, heads, q_len, k_len]` relative position bias for queries at `offset..offset + q_len` over
/// keys `0..k_len`, looked up (differentiably) in `table` `[buckets, heads]`.
fn position_bias(
    table: &Tensor,
    q_len: usize,
    k_len: usize,
    offset: usize,
    bidirectional: bool,
    max_distance: usize,
) -> Result<Tensor> {
    let (nb, heads) = table.dims2()?;
    let mut idx = Vec::with_capacity(q_len * k_len);
    for q in 0..q_len {
        let qp = (q + offset) as i64;
        for k in 0..k_len {
            idx.push(relative_position_bucket(
                k as i64 - qp,
                bidirectional,
                nb,
                max_distance,
            ));
        }
    }
    let idx = Tensor::from_vec(idx, q_len * k_len, table.device())?;
    table
        .index_select(&idx, 0)?
        .reshape((q_len, k_len, heads))?
        .permute((2, 0, 1))?
        .unsqueeze(0)?
        .contiguous()
}

/// Q/K/V/O projections of one attention sublayer (no biases in T5).
#[derive(Debug, Clone)]
struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    heads: usize,
}

impl Attention {
    /// HF init: q ~ N(0, f (d_model d_kv)^-1/2), k, v ~ N(0, f d_model^-1/2),
    /// o ~ N(0, f (heads d_kv)^-1/2).
    fn new(c: &T5Config, vb: VarBuilder) -> Result<Self> {
        let (d, inner, f) = (c.d_model, c.inner_dim(), c.initializer_factor);
        let dm = (d as f64).powf(-0.5);
        Ok(Self {
            q: Linear::new(
                d,
                inner,
                false,
                f * ((d * c.d_kv) as f64).powf(-0.5),
                vb.pp("q"),
            )?,
            k: Linear::new(d, inner, false, f * dm, vb.pp("k"))?,
            v: Linear::new(d, inner, false, f * dm, vb.pp("v"))?,
            o: Linear::new(inner, d, false, f * (inner as f64).powf(-0.5), vb.pp("o"))?,
            heads: c.num_heads,
        })
    }

    /// Keys and values `[b, n, heads * d_kv]` of `x` `[b, n, d_model]` (the projections' own
    /// layout: heads are split inside [`Attention::attend`]).
    fn kv(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((self.k.forward(x)?, self.v.forward(x)?))
    }

    /// Output `[b, q, d_model]` of queries from `x` over `k`, `v` (`[b, n, heads * d_kv]`) with
    /// additive `bias` (broadcast to `[b, heads, q, n]`); fused on the CPU, see
    /// [`softmax_attention_merged`].
    fn attend(
        &self,
        x: &Tensor,
        k: &Tensor,
        v: &Tensor,
        bias: &Tensor,
        dropout: &Dropout,
        train: bool,
    ) -> Result<Tensor> {
        let q = self.q.forward(x)?;
        let (context, _) =
            softmax_attention_merged(&q, k, v, bias, self.heads, 1.0, (dropout, train), false)?;
        self.o.forward(&context)
    }
}

/// `DenseReluDense`: `wo(act(wi x))`, or gated `wo(act(wi_0 x) * wi_1 x)`.
#[derive(Debug, Clone)]
enum FeedForward {
    Plain {
        wi: Linear,
        wo: Linear,
    },
    Gated {
        wi_0: Linear,
        wi_1: Linear,
        wo: Linear,
    },
}

impl FeedForward {
    fn new(c: &T5Config, gated: bool, vb: VarBuilder) -> Result<Self> {
        let (d, ff, f) = (c.d_model, c.d_ff, c.initializer_factor);
        let (sd_in, sd_out) = (f * (d as f64).powf(-0.5), f * (ff as f64).powf(-0.5));
        Ok(if gated {
            FeedForward::Gated {
                wi_0: Linear::new(d, ff, false, sd_in, vb.pp("wi_0"))?,
                wi_1: Linear::new(d, ff, false, sd_in, vb.pp("wi_1"))?,
                wo: Linear::new(ff, d, false, sd_out, vb.pp("wo"))?,
            }
        } else {
            FeedForward::Plain {
                wi: Linear::new(d, ff, false, sd_in, vb.pp("wi"))?,
                wo: Linear::new(ff, d, false, sd_out, vb.pp("wo"))?,
            }
        })
    }

    fn forward(
        &self,
        x: &Tensor,
        act: Activation,
        dropout: &Dropout,
        train: bool,
    ) -> Result<Tensor> {
        match self {
            FeedForward::Plain { wi, wo } => {
                wo.forward(&dropout.forward(&act.apply(&wi.forward(x)?)?, train)?)
            }
            FeedForward::Gated { wi_0, wi_1, wo } => {
                let g = (act.apply(&wi_0.forward(x)?)? * wi_1.forward(x)?)?;
                wo.forward(&dropout.forward(&g, train)?)
            }
        }
    }
}

/// One encoder block: self-attention, feed-forward (each pre-norm with a residual).
#[derive(Debug, Clone)]
struct EncoderBlock {
    sa_norm: RmsNorm,
    sa: Attention,
    ff_norm: RmsNorm,
    ff: FeedForward,
}

/// One decoder block: causal self-attention, cross-attention, feed-forward.
#[derive(Debug, Clone)]
struct DecoderBlock {
    sa_norm: RmsNorm,
    sa: Attention,
    ca_norm: RmsNorm,
    ca: Attention,
    ff_norm: RmsNorm,
    ff: FeedForward,
}

/// Per-layer keys/values `[b, n, heads * d_kv]` of one attention kind.
type LayerKv = (Tensor, Tensor);

/// Incremental-decoding state of a batch of `rows` decoder sequences.
#[derive(Debug, Clone)]
pub struct T5Cache {
    /// Self-attention keys/values of the decoder tokens seen so far, per decoder layer.
    self_kv: Vec<Option<LayerKv>>,
    /// Cross-attention keys/values of the encoder output, per decoder layer (fixed).
    cross_kv: Vec<LayerKv>,
    /// `[rows, 1, 1, src]` additive padding bias of the encoder output.
    cross_bias: Tensor,
    /// Which encoder row each decoder row reads: when a reorder keeps every row on the same
    /// source (beam search moves beams within a source), the cross-attention keys/values, which
    /// depend only on the source, are not copied again.
    row_source: Vec<u32>,
    len: usize,
}

impl T5Cache {
    /// Number of decoder positions already in the cache.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of sequences (rows) the cache holds.
    pub fn rows(&self) -> Result<usize> {
        self.cross_bias.dim(0)
    }

    /// Row `i` of the result = row `idx[i]` of `self`, for every layer's self- and cross-attention
    /// keys/values and the encoder mask: reorders beams, or expands one row per source into
    /// `k` beams. `idx` is a 1-D integer tensor (any integer dtype).
    pub fn select_rows(&mut self, idx: &Tensor) -> Result<()> {
        let idx = idx
            .to_dtype(DType::U32)?
            .to_device(self.cross_bias.device())?;
        let pick = |t: &Tensor| t.index_select(&idx, 0);
        for kv in self.self_kv.iter_mut().flatten() {
            *kv = (pick(&kv.0)?, pick(&kv.1)?);
        }
        let rows: Vec<u32> = idx.to_vec1()?;
        let sources = rows
            .iter()
            .map(|&r| {
                self.row_source.get(r as usize).copied().ok_or_else(|| {
                    candle_core::Error::Msg(format!(
                        "select_rows: row {r} of a cache with {} rows",
                        self.row_source.len()
                    ))
                })
            })
            .collect::<Result<Vec<u32>>>()?;
        if sources != self.row_source {
            for kv in self.cross_kv.iter_mut() {
                *kv = (pick(&kv.0)?, pick(&kv.1)?);
            }
            self.cross_bias = pick(&self.cross_bias)?;
            self.row_source = sources;
        }
        Ok(())
    }
}

/// `T5ForConditionalGeneration`.
#[derive(Debug, Clone)]
pub struct T5 {
    shared: Tensor,
    encoder: Vec<EncoderBlock>,
    encoder_bias: Tensor,
    encoder_norm: RmsNorm,
    decoder: Vec<DecoderBlock>,
    decoder_bias: Tensor,
    decoder_norm: RmsNorm,
    lm_head: Option<Linear>,
    act: Activation,
    dropout: Dropout,
    config: T5Config,
    rng: ModelRng,
}

/// Where the decoder's cross-attention keys/values and self-attention history come from.
struct DecoderInputs<'a> {
    cross_kv: &'a [LayerKv],
    cross_bias: &'a Tensor,
    self_kv: Option<&'a mut Vec<Option<LayerKv>>>,
    offset: usize,
}

impl T5 {
    /// Build from `vb` (seeded HF-style init for fresh models, or a checkpoint's tensors).
    pub fn new(c: &T5Config, rng: ModelRng, vb: VarBuilder) -> Result<Self> {
        let (gated, act) = c.ffn_kind().map_err(candle_core::Error::Msg)?;
        let (d, f, eps) = (c.d_model, c.initializer_factor, c.layer_norm_epsilon);
        let shared = vb.get_with_hints(
            (c.vocab_size, d),
            "shared.weight",
            Init::Randn {
                mean: 0.0,
                stdev: f,
            },
        )?;
        let bias_table = |vb: VarBuilder| {
            vb.get_with_hints(
                (c.relative_attention_num_buckets, c.num_heads),
                "block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                Init::Randn {
                    mean: 0.0,
                    stdev: f * (d as f64).powf(-0.5),
                },
            )
        };
        let enc = vb.pp("encoder");
        let encoder = (0..c.num_layers)
            .map(|i| {
                let b = enc.pp(format!("block.{i}.layer"));
                Ok(EncoderBlock {
                    sa_norm: RmsNorm::new(d, eps, f, b.pp("0.layer_norm"))?,
                    sa: Attention::new(c, b.pp("0.SelfAttention"))?,
                    ff_norm: RmsNorm::new(d, eps, f, b.pp("1.layer_norm"))?,
                    ff: FeedForward::new(c, gated, b.pp("1.DenseReluDense"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let encoder_bias = bias_table(enc.clone())?;
        let encoder_norm = RmsNorm::new(d, eps, f, enc.pp("final_layer_norm"))?;
        let dec = vb.pp("decoder");
        let decoder = (0..c.decoder_layers())
            .map(|i| {
                let b = dec.pp(format!("block.{i}.layer"));
                Ok(DecoderBlock {
                    sa_norm: RmsNorm::new(d, eps, f, b.pp("0.layer_norm"))?,
                    sa: Attention::new(c, b.pp("0.SelfAttention"))?,
                    ca_norm: RmsNorm::new(d, eps, f, b.pp("1.layer_norm"))?,
                    ca: Attention::new(c, b.pp("1.EncDecAttention"))?,
                    ff_norm: RmsNorm::new(d, eps, f, b.pp("2.layer_norm"))?,
                    ff: FeedForward::new(c, gated, b.pp("2.DenseReluDense"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let decoder_bias = bias_table(dec.clone())?;
        let decoder_norm = RmsNorm::new(d, eps, f, dec.pp("final_layer_norm"))?;
        let lm_head = if c.has_lm_head() {
            Some(Linear::new(d, c.vocab_size, false, f, vb.pp("lm_head"))?)
        } else {
            None
        };
        Ok(Self {
            shared,
            encoder,
            encoder_bias,
            encoder_norm,
            decoder,
            decoder_bias,
            decoder_norm,
            lm_head,
            act,
            dropout: Dropout::new(c.dropout_rate, rng.clone()),
            config: c.clone(),
            rng,
        })
    }

    pub fn config(&self) -> &T5Config {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.shared.device()
    }

    fn embed(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, s) = ids.dims2()?;
        let ids = ids.to_dtype(DType::U32)?.flatten_all()?;
        crate::precision::cast(&self.shared.index_select(&ids, 0)?.reshape((
            b,
            s,
            self.config.d_model,
        ))?)
    }

    /// Encoder pass; also returns the input of every block and the final output when asked.
    fn run_encoder(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
        want_states: bool,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let (_, s) = input_ids.dims2()?;
        let mut h = self.dropout.forward(&self.embed(input_ids)?, train)?;
        let bias = position_bias(
            &self.encoder_bias,
            s,
            s,
            0,
            true,
            self.config.relative_attention_max_distance,
        )?
        .to_dtype(h.dtype())?
        .broadcast_add(&mask::padding_bias(attention_mask, h.dtype())?)?;
        let mut states = Vec::new();
        for blk in &self.encoder {
            if want_states {
                states.push(h.clone());
            }
            let n = blk.sa_norm.forward(&h)?;
            let (k, v) = blk.sa.kv(&n)?;
            let a = blk.sa.attend(&n, &k, &v, &bias, &self.dropout, train)?;
            h = (h + self.dropout.forward(&a, train)?)?;
            let n = blk.ff_norm.forward(&h)?;
            let f = blk.ff.forward(&n, self.act, &self.dropout, train)?;
            h = crate::grad_mode::maybe_detach((h + self.dropout.forward(&f, train)?)?);
        }
        let h = self
            .dropout
            .forward(&self.encoder_norm.forward(&h)?, train)?;
        if want_states {
            states.push(h.clone());
        }
        Ok((h, states))
    }

    /// Encoder hidden states `[b, s, d_model]` of `input_ids` `[b, s]` with `attention_mask`
    /// `[b, s]` (1 = token, 0 = padding).
    pub fn encode(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        Ok(self.run_encoder(input_ids, attention_mask, train, false)?.0)
    }

    /// Cross-attention keys/values of every decoder layer over `encoder_hidden`.
    fn cross_kv(&self, encoder_hidden: &Tensor) -> Result<Vec<LayerKv>> {
        self.decoder
            .iter()
            .map(|blk| blk.ca.kv(encoder_hidden))
            .collect()
    }

    /// Decoder pass over `ids` at positions `offset..` → logits `[b, t, vocab]`.
    fn run_decoder(
        &self,
        ids: &Tensor,
        self_mask: Option<&Tensor>,
        inp: DecoderInputs<'_>,
        train: bool,
    ) -> Result<Tensor> {
        let h = self.run_decoder_hidden(ids, self_mask, inp, train)?;
        self.lm_logits(&h)
    }

    /// Decoder pass over `ids` at positions `offset..` → the LM head's input `[b, t, d_model]`
    /// (final norm, dropout and, for a tied head, the `d_model^-0.5` rescale applied).
    fn run_decoder_hidden(
        &self,
        ids: &Tensor,
        self_mask: Option<&Tensor>,
        mut inp: DecoderInputs<'_>,
        train: bool,
    ) -> Result<Tensor> {
        let (_, t) = ids.dims2()?;
        let offset = inp.offset;
        let mut h = self.dropout.forward(&self.embed(ids)?, train)?;
        let dtype = h.dtype();
        let k_len = offset + t;
        let mut bias = position_bias(
            &self.decoder_bias,
            t,
            k_len,
            offset,
            false,
            self.config.relative_attention_max_distance,
        )?
        .to_dtype(dtype)?
        .broadcast_add(&mask::causal_bias(
            t,
            k_len,
            offset,
            None,
            dtype,
            h.device(),
        )?)?;
        if let Some(m) = self_mask {
            bias = bias.broadcast_add(&mask::padding_bias(m, dtype)?)?;
        }
        let cross_bias = inp.cross_bias.to_dtype(dtype)?;
        if let Some(c) = inp.self_kv.as_deref_mut() {
            if c.len() != self.decoder.len() {
                *c = vec![None; self.decoder.len()];
            }
        }
        for (i, blk) in self.decoder.iter().enumerate() {
            let n = blk.sa_norm.forward(&h)?;
            let (mut k, mut v) = blk.sa.kv(&n)?;
            if let Some(c) = inp.self_kv.as_deref_mut() {
                if let Some((pk, pv)) = &c[i] {
                    k = Tensor::cat(&[pk, &k], 1)?;
                    v = Tensor::cat(&[pv, &v], 1)?;
                }
                // Detached: a cache is for inference, and a graph behind it would keep every
                // earlier step (and every pre-reorder copy) alive.
                c[i] = Some((k.detach(), v.detach()));
            }
            let a = blk.sa.attend(&n, &k, &v, &bias, &self.dropout, train)?;
            h = (h + self.dropout.forward(&a, train)?)?;
            let n = blk.ca_norm.forward(&h)?;
            let (ck, cv) = &inp.cross_kv[i];
            let a = blk
                .ca
                .attend(&n, ck, cv, &cross_bias, &self.dropout, train)?;
            h = (h + self.dropout.forward(&a, train)?)?;
            let n = blk.ff_norm.forward(&h)?;
            let f = blk.ff.forward(&n, self.act, &self.dropout, train)?;
            h = crate::grad_mode::maybe_detach((h + self.dropout.forward(&f, train)?)?);
        }
        let mut h = self
            .dropout
            .forward(&self.decoder_norm.forward(&h)?, train)?;
        if self.config.scale_output() {
            h = (h * (self.config.d_model as f64).powf(-0.5))?;
        }
        Ok(h)
    }

    /// Logits `[.., vocab]` of LM-head inputs `[.., d_model]` (from [`T5::decode_hidden`]): the
    /// untied `lm_head`, or the shared embedding for a tied head. A loss that reads only some
    /// positions applies the head to those alone: on t5-small's 32k vocabulary the head is a
    /// quarter of a training step's products, and its `[tokens, vocab]` outputs and gradients
    /// dominate the step's memory traffic.
    pub fn lm_logits(&self, hidden: &Tensor) -> Result<Tensor> {
        let dims = hidden.dims().to_vec();
        let d = dims.last().copied().unwrap_or(0);
        let flat = hidden.reshape((hidden.elem_count() / d.max(1), d))?;
        let logits = match &self.lm_head {
            Some(head) => head.forward(&flat)?,
            None => flat.matmul(&crate::precision::cast(&self.shared)?.t()?)?,
        };
        let mut out = dims;
        if let Some(last) = out.last_mut() {
            *last = self.config.vocab_size;
        }
        logits.reshape(out)
    }

    /// Decoder logits `[b, t, vocab]` for `decoder_input_ids` `[b, t]` (teacher forcing, causal)
    /// over `encoder_hidden` `[b, s, d_model]` with its `encoder_mask` `[b, s]`.
    /// `decoder_attention_mask` `[b, t]` hides right padding of the decoder inputs.
    pub fn decode(
        &self,
        decoder_input_ids: &Tensor,
        decoder_attention_mask: Option<&Tensor>,
        encoder_hidden: &Tensor,
        encoder_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        self.lm_logits(&self.decode_hidden(
            decoder_input_ids,
            decoder_attention_mask,
            encoder_hidden,
            encoder_mask,
            train,
        )?)
    }

    /// [`T5::decode`] without the LM head: its input `[b, t, d_model]`, to which
    /// [`T5::lm_logits`] gives the logits (`decode` = `lm_logits(decode_hidden(..))`).
    pub fn decode_hidden(
        &self,
        decoder_input_ids: &Tensor,
        decoder_attention_mask: Option<&Tensor>,
        encoder_hidden: &Tensor,
        encoder_mask: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        let cross_kv = self.cross_kv(encoder_hidden)?;
        let cross_bias = mask::padding_bias(encoder_mask, encoder_hidden.dtype())?;
        let inp = DecoderInputs {
            cross_kv: &cross_kv,
            cross_bias: &cross_bias,
            self_kv: None,
            offset: 0,
        };
        self.run_decoder_hidden(decoder_input_ids, decoder_attention_mask, inp, train)
    }

    /// [`T5::encode`] then [`T5::decode`].
    pub fn forward(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        decoder_input_ids: &Tensor,
        decoder_attention_mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        let enc = self.encode(input_ids, attention_mask, train)?;
        self.decode(
            decoder_input_ids,
            decoder_attention_mask,
            &enc,
            attention_mask,
            train,
        )
    }

    /// Decoder inputs from labels `[b, t]` (HF `_shift_right`): `decoder_start_token_id` first,
    /// then the labels without their last token; ignored positions (-100, or
    /// [`crate::ops::cross_entropy::IGNORE_INDEX`] in u32 labels) become `pad_token_id`.
    /// Returns u32.
    pub fn shift_right(&self, labels: &Tensor) -> Result<Tensor> {
        let (b, t) = labels.dims2()?;
        let rows: Vec<Vec<i64>> = labels.to_dtype(DType::I64)?.to_vec2()?;
        let ignore = i64::from(crate::ops::cross_entropy::IGNORE_INDEX);
        let (start, pad) = (self.config.decoder_start_token_id, self.config.pad_token_id);
        let mut out = Vec::with_capacity(b * t);
        for row in &rows {
            if t == 0 {
                break;
            }
            out.push(start);
            for &x in &row[..t - 1] {
                out.push(if x < 0 || x == ignore {
                    pad
                } else {
                    u32::try_from(x).map_err(|_| {
                        candle_core::Error::Msg(format!("label {x} is not a token id"))
                    })?
                });
            }
        }
        Tensor::from_vec(out, (b, t), labels.device())
    }

    /// A decoding cache for `encoder_hidden` `[rows, s, d_model]` / `encoder_mask` `[rows, s]`:
    /// every decoder layer's cross-attention keys/values are computed here, once. Cached tensors
    /// are detached from the autograd graph (decoding is inference).
    pub fn new_cache(&self, encoder_hidden: &Tensor, encoder_mask: &Tensor) -> Result<T5Cache> {
        let cross_kv = self
            .cross_kv(encoder_hidden)?
            .into_iter()
            .map(|(k, v)| (k.detach(), v.detach()))
            .collect();
        Ok(T5Cache {
            self_kv: vec![None; self.decoder.len()],
            cross_kv,
            cross_bias: mask::padding_bias(encoder_mask, encoder_hidden.dtype())?,
            row_source: (0..encoder_hidden.dim(0)? as u32).collect(),
            len: 0,
        })
    }

    /// Logits `[rows, n, vocab]` of `ids` `[rows, n]` placed after the `cache.len()` decoder
    /// positions already cached (eval mode); the self-attention cache grows by `n`. Equal to the
    /// matching positions of [`T5::decode`] over the whole prefix.
    pub fn decode_cached(&self, ids: &Tensor, cache: &mut T5Cache) -> Result<Tensor> {
        let (rows, n) = ids.dims2()?;
        if rows != cache.rows()? {
            candle_core::bail!(
                "decode_cached: {rows} rows of ids for a cache of {} rows",
                cache.rows()?
            );
        }
        let inp = DecoderInputs {
            cross_kv: &cache.cross_kv,
            cross_bias: &cache.cross_bias,
            self_kv: Some(&mut cache.self_kv),
            offset: cache.len,
        };
        let logits = self.run_decoder(ids, None, inp, false)?;
        cache.len += n;
        Ok(logits)
    }
}

impl LanguageModel for T5 {
    fn kind(&self) -> LmKind {
        LmKind::Seq2Seq
    }

    fn forward_logits(&self, _ids: &Tensor, _mask: &Tensor, _train: bool) -> Result<Tensor> {
        candle_core::bail!(
            "T5 is a seq2seq model: logits need decoder inputs (use T5::forward or T5::decode)"
        )
    }

    /// The encoder's output, so `embed` mean-pools encoder states.
    fn forward_hidden(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        self.encode(ids, mask, train)
    }

    /// Encoder states (per-block inputs and final output on request); logits and attention maps
    /// cannot come from the encoder alone.
    fn forward_detailed(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: bool,
        request: OutputRequest,
    ) -> Result<ModelOutput> {
        if request.logits {
            candle_core::bail!("T5 is a seq2seq model: logits need decoder inputs");
        }
        if request.attentions {
            candle_core::bail!("T5 does not return attention maps");
        }
        let (last_hidden, hidden_states) =
            self.run_encoder(ids, mask, train, request.hidden_states)?;
        Ok(ModelOutput {
            logits: None,
            last_hidden,
            hidden_states,
            attentions: Vec::new(),
        })
    }

    fn set_seed(&self, seed: u64) {
        self.rng.reseed(seed);
    }
}

/// Decoder state of [`T5`]'s [`crate::seq2seq::Seq2SeqModel`] implementation: the CPU engine's
/// buffers for an f32 model on the CPU, else a [`T5Cache`] of tensors.
#[derive(Debug, Clone)]
pub struct T5DecodeState(DecodeState);

#[derive(Debug, Clone)]
enum DecodeState {
    Cpu(cpu::CpuDecodeState),
    Tensors(T5Cache),
}

impl T5DecodeState {
    /// Decoder positions fed so far.
    pub fn len(&self) -> usize {
        match &self.0 {
            DecodeState::Cpu(s) => s.len(),
            DecodeState::Tensors(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows (decoder sequences) held.
    pub fn rows(&self) -> Result<usize> {
        match &self.0 {
            DecodeState::Cpu(s) => Ok(s.rows()),
            DecodeState::Tensors(c) => c.rows(),
        }
    }

    /// Whether the CPU engine (plain f32 buffers, see the `cpu` module) holds this state.
    pub fn is_cpu_engine(&self) -> bool {
        matches!(self.0, DecodeState::Cpu(_))
    }
}

/// Decoding (greedy, beam, sampling in [`crate::seq2seq`]): an f32 model on the CPU without
/// autocast decodes on the CPU engine (plain buffers, one GEMM per projection, caches never
/// copied on beam reorders); anything else on the tensor path ([`TensorDecoding`]).
impl crate::seq2seq::Seq2SeqModel for T5 {
    type State = T5DecodeState;

    fn start(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<T5DecodeState> {
        if !self.cpu_decoding_applies() {
            return Ok(T5DecodeState(DecodeState::Tensors(
                TensorDecoding(self).start(input_ids, attention_mask)?,
            )));
        }
        let enc = crate::grad_mode::inference(|| self.encode(input_ids, attention_mask, false))?;
        let st = crate::grad_mode::inference(|| self.cpu_start(&enc, attention_mask))?;
        Ok(T5DecodeState(DecodeState::Cpu(st)))
    }

    fn step(&self, state: &mut T5DecodeState, last: &Tensor) -> Result<Tensor> {
        match &mut state.0 {
            DecodeState::Cpu(st) => {
                let ids: Vec<u32> = last.to_dtype(DType::U32)?.flatten_all()?.to_vec1()?;
                let rows = ids.len();
                let logits = self.cpu_step(st, &ids)?;
                Tensor::from_vec(logits, (rows, self.config.vocab_size), last.device())
            }
            DecodeState::Tensors(c) => TensorDecoding(self).step(c, last),
        }
    }

    fn select_rows(&self, state: &mut T5DecodeState, idx: &Tensor) -> Result<()> {
        match &mut state.0 {
            DecodeState::Cpu(st) => {
                let idx: Vec<u32> = idx.to_dtype(DType::U32)?.flatten_all()?.to_vec1()?;
                st.select_rows(&idx)
            }
            DecodeState::Tensors(c) => c.select_rows(idx),
        }
    }

    fn decoder_start_token_id(&self) -> u32 {
        self.config.decoder_start_token_id
    }

    fn eos_token_id(&self) -> u32 {
        self.config.eos_token_id
    }

    fn pad_token_id(&self) -> u32 {
        self.config.pad_token_id
    }
}

/// A [`T5`] decoded on the tensor path whatever its device and dtype: a [`T5Cache`] of candle
/// tensors grown and reordered with tensor ops. [`T5`] itself uses this path off the CPU or in
/// half precision; wrapping a model in `TensorDecoding` forces it (to compare the two paths, or
/// to measure what the CPU engine saves).
#[derive(Debug, Clone, Copy)]
pub struct TensorDecoding<'a>(pub &'a T5);

impl crate::seq2seq::Seq2SeqModel for TensorDecoding<'_> {
    type State = T5Cache;

    fn start(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<T5Cache> {
        let enc = crate::grad_mode::inference(|| self.0.encode(input_ids, attention_mask, false))?;
        self.0.new_cache(&enc, attention_mask)
    }

    fn step(&self, state: &mut T5Cache, last: &Tensor) -> Result<Tensor> {
        let rows = last.dim(0)?;
        let ids = last.to_dtype(DType::U32)?.reshape((rows, 1))?;
        let logits = crate::grad_mode::inference(|| self.0.decode_cached(&ids, state))?;
        logits.squeeze(1)?.to_dtype(DType::F32)
    }

    fn select_rows(&self, state: &mut T5Cache, idx: &Tensor) -> Result<()> {
        state.select_rows(idx)
    }

    fn decoder_start_token_id(&self) -> u32 {
        self.0.config.decoder_start_token_id
    }

    fn eos_token_id(&self) -> u32 {
        self.0.config.eos_token_id
    }

    fn pad_token_id(&self) -> u32 {
        self.0.config.pad_token_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_t5_rules() {
        // Bidirectional, 32 buckets, max distance 128: 8 exact buckets per side.
        assert_eq!(relative_position_bucket(0, true, 32, 128), 0);
        assert_eq!(relative_position_bucket(-7, true, 32, 128), 7);
        assert_eq!(relative_position_bucket(7, true, 32, 128), 23);
        assert_eq!(relative_position_bucket(-1000, true, 32, 128), 15);
        assert_eq!(relative_position_bucket(1000, true, 32, 128), 31);
        // Causal: future keys share bucket 0, the past uses all 32.
        assert_eq!(relative_position_bucket(5, false, 32, 128), 0);
        assert_eq!(relative_position_bucket(-15, false, 32, 128), 15);
        assert_eq!(relative_position_bucket(-1000, false, 32, 128), 31);
        // Monotone in distance.
        let mut last = 0;
        for d in 0..300 {
            let b = relative_position_bucket(-d, false, 32, 128);
            assert!(b >= last);
            last = b;
        }
    }
}
