//! BERT encoder with MLM head (MolBERT; DeLiCaTe's teacher), `BertForMaskedLM` tensor names, and
//! RoBERTa (ChemBERTa), which is the same network: [`BertFlavor`] holds everything that differs
//! (tensor-name prefix and head names, position ids that start after the pad id, the head's
//! fixed erf GELU). Post-LN, learned absolute positions, GELU, FFN 4x in the presets.
//!
//! No pooler: `*ForMaskedLM` has none, MLM never trains one, and a saved pooler is a tensor
//! transformers reports as unexpected. (MolBERT's published parameter count includes a pooler;
//! [`crate::params`] adds it to `total`.)

use crate::blocks::dropout::ModelRng;
use crate::blocks::embeddings::{BertEmbeddings, EmbeddingShape, PositionIds};
use crate::blocks::encoder_layer::{
    AttentionKind, LayerMasks, LayerShape, PostLnLayer, BERT_NAMES,
};
use crate::blocks::{mask, Dropout, Linear};
use crate::config::BertConfig;
use crate::ops::layer_norm::LayerNorm;
use crate::ops::Activation;
use crate::traits::{LanguageModel, LmKind, ModelOutput, OutputRequest};
use candle_core::{Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// BERT's MLM head: dense → act → LayerNorm → decoder tied to the word embeddings + bias.
#[derive(Debug, Clone)]
pub struct TiedMlmHead {
    dense: Linear,
    act: Activation,
    ln: LayerNorm,
    decoder: Tensor,
    bias: Tensor,
}

/// Sizes of a [`TiedMlmHead`]: hidden → `out_dim` (the embedding width) → vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct HeadShape {
    pub in_dim: usize,
    pub out_dim: usize,
    pub act: Activation,
    pub ln_eps: f64,
    pub std: f64,
}

impl TiedMlmHead {
    /// `names` = (dense, LayerNorm, output bias), relative to `vb`; `decoder` is the tied word
    /// embedding matrix.
    pub fn new(
        s: HeadShape,
        decoder: Tensor,
        names: (&str, &str, &str),
        vb: VarBuilder,
    ) -> Result<Self> {
        let vocab = decoder.dim(0)?;
        Ok(Self {
            dense: Linear::new(s.in_dim, s.out_dim, true, s.std, vb.pp(names.0))?,
            act: s.act,
            ln: LayerNorm::new(s.out_dim, s.ln_eps, vb.pp(names.1))?,
            decoder,
            bias: vb.get_with_hints(vocab, names.2, Init::Const(0.0))?,
        })
    }

    pub fn forward(&self, h: &Tensor) -> Result<Tensor> {
        let x = self.ln.forward(&self.act.apply(&self.dense.forward(h)?)?)?;
        let (b, s, e) = x.dims3()?;
        x.reshape((b * s, e))?
            .matmul(&crate::precision::cast(&self.decoder)?.t()?)?
            .broadcast_add(&crate::precision::cast(&self.bias)?)?
            .reshape((b, s, ()))
    }
}

/// The BERT-family member a [`Bert`] is: what its checkpoint calls things and how it numbers
/// positions. The layers, attention and encoder are the same code for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BertFlavor {
    /// `BertForMaskedLM`: `bert.*`, head `cls.predictions.*` with the config's activation.
    Bert,
    /// `RobertaForMaskedLM`: `roberta.*`, head `lm_head.{dense,layer_norm,bias}` whose activation
    /// is always erf GELU (transformers' `RobertaLMHead` ignores `hidden_act`), positions after
    /// the pad id.
    Roberta,
}

impl BertFlavor {
    /// `base_model_prefix` of the Hugging Face class.
    pub fn prefix(self) -> &'static str {
        match self {
            BertFlavor::Bert => "bert",
            BertFlavor::Roberta => "roberta",
        }
    }

    /// (head prefix, dense, LayerNorm, output bias) names of the MLM head.
    fn head_names(self) -> (&'static str, (&'static str, &'static str, &'static str)) {
        match self {
            BertFlavor::Bert => (
                "cls.predictions",
                ("transform.dense", "transform.LayerNorm", "bias"),
            ),
            BertFlavor::Roberta => ("lm_head", ("dense", "layer_norm", "bias")),
        }
    }
}

/// BERT or RoBERTa for masked LM.
#[derive(Debug, Clone)]
pub struct Bert {
    embeddings: BertEmbeddings,
    layers: Vec<PostLnLayer>,
    head: TiedMlmHead,
    rng: ModelRng,
}

impl Bert {
    pub fn new(c: &BertConfig, flavor: BertFlavor, rng: ModelRng, vb: VarBuilder) -> Result<Self> {
        let std = c.initializer_range;
        let prefix = flavor.prefix();
        let embeddings = BertEmbeddings::new(
            EmbeddingShape {
                vocab: c.vocab_size,
                width: c.hidden_size,
                max_positions: c.max_position_embeddings,
                type_vocab: c.type_vocab_size,
                ln_eps: c.layer_norm_eps,
                init_std: std,
                positions: match flavor {
                    BertFlavor::Bert => PositionIds::FromZero,
                    BertFlavor::Roberta => PositionIds::AfterPadding {
                        pad: c.pad_token_id,
                    },
                },
            },
            Dropout::new(c.hidden_dropout_prob, rng.clone()),
            vb.pp(format!("{prefix}.embeddings")),
        )?;
        let shape = LayerShape {
            hidden: c.hidden_size,
            heads: c.num_attention_heads,
            ffn: c.intermediate_size,
            act: c.hidden_act,
            ln_eps: c.layer_norm_eps,
            init_std: std,
        };
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                PostLnLayer::new(
                    shape,
                    &BERT_NAMES,
                    AttentionKind::Softmax,
                    Dropout::new(c.hidden_dropout_prob, rng.clone()),
                    Dropout::new(c.attention_probs_dropout_prob, rng.clone()),
                    vb.pp(format!("{prefix}.encoder.layer.{i}")),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let (head_prefix, head_names) = flavor.head_names();
        let head = TiedMlmHead::new(
            HeadShape {
                in_dim: c.hidden_size,
                out_dim: c.hidden_size,
                act: match flavor {
                    BertFlavor::Bert => c.hidden_act,
                    BertFlavor::Roberta => Activation::Gelu,
                },
                ln_eps: c.layer_norm_eps,
                std,
            },
            embeddings.word_weight().clone(),
            head_names,
            vb.pp(head_prefix),
        )?;
        Ok(Self {
            embeddings,
            layers,
            head,
            rng,
        })
    }
}

/// Runs post-LN layers over embeddings, collecting what `request` asks for.
pub(crate) fn run_encoder<'a>(
    x: Tensor,
    layers: impl Iterator<Item = &'a PostLnLayer>,
    attention_mask: &Tensor,
    rotary: Option<&crate::ops::Rotary>,
    train: bool,
    request: OutputRequest,
) -> Result<(Tensor, Vec<Tensor>, Vec<Tensor>)> {
    let bias = mask::padding_bias(attention_mask, x.dtype())?;
    let keys = mask::mask_to_f32(attention_mask)?;
    let masks = LayerMasks {
        bias: &bias,
        keys: &keys,
    };
    let mut hidden_states = Vec::new();
    let mut attentions = Vec::new();
    let mut h = crate::grad_mode::maybe_detach(x);
    for layer in layers {
        if request.hidden_states {
            hidden_states.push(h.clone());
        }
        let (out, probs) = layer.forward(&h, &masks, rotary, train, request.attentions)?;
        if let Some(p) = probs {
            attentions.push(p);
        }
        h = crate::grad_mode::maybe_detach(out);
    }
    if request.hidden_states {
        hidden_states.push(h.clone());
    }
    Ok((h, hidden_states, attentions))
}

impl LanguageModel for Bert {
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
        let x = self.embeddings.forward(ids, train)?;
        let (h, hidden_states, attentions) =
            run_encoder(x, self.layers.iter(), mask, None, train, request)?;
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
