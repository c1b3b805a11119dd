//! Model configurations, serialised in Hugging Face `config.json` layout (field names as in
//! `BertConfig`, also read for `RobertaConfig`, `AlbertConfig`, `GPTNeoConfig` and IBM's
//! `MolformerConfig`) so checkpoints move between chemlm and `transformers`. The same structs are
//! read from the TOML presets.

use crate::error::{ModelError, ModelResult};
use crate::ops::Activation;
use crate::traits::LmKind;
use serde::{Deserialize, Serialize};

fn d_layer_norm_eps() -> f64 {
    1e-12
}
fn d_init() -> f64 {
    0.02
}
fn d_type_vocab() -> usize {
    2
}
fn d_dropout() -> f64 {
    0.1
}
fn d_pad() -> u32 {
    0
}

/// BERT encoder (MolBERT, DeLiCaTe's teacher), `BertForMaskedLM` layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default)]
    pub hidden_act: Activation,
    #[serde(default = "d_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "d_dropout")]
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "d_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "d_layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "d_init")]
    pub initializer_range: f64,
    #[serde(default = "d_pad")]
    pub pad_token_id: u32,
    /// Id of the tokenizer's `<bos>`, written so Hugging Face tools find it; `None` (not written)
    /// when the model was never tied to a tokenizer. No effect on the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<u32>,
    /// Id of the tokenizer's `<eos>`, as `bos_token_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<u32>,
}

fn d_one() -> usize {
    1
}
fn d_gelu_new() -> Activation {
    Activation::GeluNew
}

/// ALBERT-style encoder with cross-layer parameter sharing (DeLiCaTe's CLPS): `num_hidden_groups`
/// distinct layers applied `num_hidden_layers` times in total (layer i uses group
/// `i / (num_hidden_layers / num_hidden_groups)`), and factorised embeddings when
/// `embedding_size != hidden_size`. `AlbertForMaskedLM` layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbertConfig {
    pub vocab_size: usize,
    pub embedding_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    #[serde(default = "d_one")]
    pub num_hidden_groups: usize,
    #[serde(default = "d_one")]
    pub inner_group_num: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "d_gelu_new")]
    pub hidden_act: Activation,
    #[serde(default = "d_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "d_dropout")]
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "d_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "d_layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "d_init")]
    pub initializer_range: f64,
    #[serde(default = "d_pad")]
    pub pad_token_id: u32,
    /// Id of the tokenizer's `<bos>` (see [`BertConfig::bos_token_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<u32>,
    /// Id of the tokenizer's `<eos>` (see [`BertConfig::bos_token_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<u32>,
}

/// Attention used by MoLFormer layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MolformerAttention {
    /// Linear attention with a feature map (the released model).
    #[default]
    Linear,
    /// Full softmax attention (MoLFormer's ablation), scaled by 1/sqrt(head_dim).
    Full,
}

fn d_eps6() -> f64 {
    1e-6
}
fn d_features() -> usize {
    32
}
fn d_rotary() -> f64 {
    10000.0
}
fn d_emb_dropout() -> f64 {
    0.2
}
fn d_fmap() -> crate::blocks::FeatureMapKind {
    crate::blocks::FeatureMapKind::GeneralizedRandom
}
fn d_true() -> bool {
    true
}
fn d_relu_kernel() -> String {
    "relu".into()
}

/// MoLFormer encoder (IBM), tensor names of the Hugging Face port `ibm/MoLFormer-XL-both-10pct`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MolformerConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    /// MoLFormer's FFN is as wide as the hidden size.
    pub intermediate_size: usize,
    #[serde(default)]
    pub hidden_act: Activation,
    #[serde(default = "d_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "d_emb_dropout")]
    pub embedding_dropout_prob: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "d_layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "d_init")]
    pub initializer_range: f64,
    #[serde(default = "d_eps6")]
    pub linear_attention_eps: f64,
    #[serde(default = "d_features")]
    pub num_random_features: usize,
    /// Keep the random features fixed at eval. chemlm always does: the stored
    /// `feature_map.weight` buffers are used as they are. The released MoLFormer-XL config says
    /// `false`, which makes the Hugging Face port draw new features on every forward pass (its
    /// model card tells users to pass `deterministic_eval=True`); kept for config compatibility.
    #[serde(default = "d_true")]
    pub deterministic_eval: bool,
    /// The random-feature kernel of the Hugging Face port (`relu`, the released model's; the only
    /// one the random-feature map implements).
    #[serde(default = "d_relu_kernel")]
    pub feature_map_kernel: String,
    #[serde(default = "d_pad")]
    pub pad_token_id: u32,
    /// Id of the tokenizer's `<bos>` (see [`BertConfig::bos_token_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<u32>,
    /// Id of the tokenizer's `<eos>` (see [`BertConfig::bos_token_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<u32>,
    /// chemlm extension: linear (released) or full softmax attention.
    #[serde(default)]
    pub attention_type: MolformerAttention,
    /// chemlm extension: random features (released) or deterministic `elu + 1`.
    #[serde(default = "d_fmap")]
    pub feature_map: crate::blocks::FeatureMapKind,
    #[serde(default = "d_rotary")]
    pub rotary_base: f64,
}

fn d_window() -> usize {
    256
}
fn d_ln_eps5() -> f64 {
    1e-5
}
fn d_zero() -> f64 {
    0.0
}

/// GPT-Neo decoder (ChemGPT), `GPTNeoForCausalLM` layout. `attention_types` is HF's run-length
/// form, e.g. `[[["global", "local"], 12]]` for 24 alternating layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GptNeoConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "d_window")]
    pub window_size: usize,
    pub attention_types: Vec<(Vec<AttentionLayerType>, usize)>,
    /// FFN width; `None` means 4 x hidden (HF default).
    #[serde(default)]
    pub intermediate_size: Option<usize>,
    #[serde(default = "d_gelu_new")]
    pub activation_function: Activation,
    #[serde(default = "d_ln_eps5")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "d_zero")]
    pub embed_dropout: f64,
    #[serde(default = "d_zero")]
    pub attention_dropout: f64,
    #[serde(default = "d_zero")]
    pub resid_dropout: f64,
    #[serde(default = "d_init")]
    pub initializer_range: f64,
    /// Special ids of the tokenizer the model was made for. Left out of `config.json` when
    /// unknown: a JSON `null` is what transformers reads as "no such token", which breaks
    /// padding and generation there (generation in chemlm takes the ids from the tokenizer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad_token_id: Option<u32>,
}

/// Global (full causal) or local (windowed causal) attention layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionLayerType {
    Global,
    Local,
}

impl GptNeoConfig {
    /// The per-layer attention types, expanded from the run-length form.
    pub fn attention_layers(&self) -> Vec<AttentionLayerType> {
        let mut out = Vec::new();
        for (pattern, reps) in &self.attention_types {
            for _ in 0..*reps {
                out.extend(pattern.iter().copied());
            }
        }
        out
    }

    pub fn ffn_size(&self) -> usize {
        self.intermediate_size.unwrap_or(4 * self.hidden_size)
    }
}

// Missing fields take transformers' `T5Config` defaults (the t5-small shape), as HF does.
fn d_t5_vocab() -> usize {
    32128
}
fn d_t5_d_model() -> usize {
    512
}
fn d_t5_d_kv() -> usize {
    64
}
fn d_t5_d_ff() -> usize {
    2048
}
fn d_t5_layers() -> usize {
    6
}
fn d_t5_heads() -> usize {
    8
}
fn d_t5_buckets() -> usize {
    32
}
fn d_t5_max_distance() -> usize {
    128
}
fn d_t5_ffn() -> String {
    "relu".into()
}
fn d_one_f() -> f64 {
    1.0
}
fn d_eos_one() -> u32 {
    1
}

/// Source/target length [`ModelConfig::max_positions`] reports for a T5 config without
/// `n_positions`: T5's relative position buckets put no hard limit on the length, so this is only
/// the nominal context for FLOP estimates and for trainers that need some cap.
pub const T5_DEFAULT_MAX_POSITIONS: usize = 4096;

/// T5 encoder-decoder (v1.0: ReLU FFN, LM head tied to `shared`; v1.1: gated-GELU, untied head),
/// field names exactly as Hugging Face `T5Config`, `T5ForConditionalGeneration` layout. Fields of
/// a real `config.json` that chemlm does not use (`task_specific_params`, `architectures`,
/// `transformers_version`, `dense_act_fn`, ...) are ignored when loading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T5Config {
    #[serde(default = "d_t5_vocab")]
    pub vocab_size: usize,
    #[serde(default = "d_t5_d_model")]
    pub d_model: usize,
    /// Width of one attention head (need not be `d_model / num_heads`).
    #[serde(default = "d_t5_d_kv")]
    pub d_kv: usize,
    #[serde(default = "d_t5_d_ff")]
    pub d_ff: usize,
    /// Encoder layers.
    #[serde(default = "d_t5_layers")]
    pub num_layers: usize,
    /// Decoder layers; `None` means as many as the encoder (HF default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_decoder_layers: Option<usize>,
    #[serde(default = "d_t5_heads")]
    pub num_heads: usize,
    #[serde(default = "d_t5_buckets")]
    pub relative_attention_num_buckets: usize,
    #[serde(default = "d_t5_max_distance")]
    pub relative_attention_max_distance: usize,
    #[serde(default = "d_dropout")]
    pub dropout_rate: f64,
    #[serde(default = "d_eps6")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "d_one_f")]
    pub initializer_factor: f64,
    /// `relu` (v1.0), `gated-gelu` (v1.1, tanh GELU as HF), also `gelu`, `gated-relu`,
    /// `gelu_new`, `gated-gelu_new`.
    #[serde(default = "d_t5_ffn")]
    pub feed_forward_proj: String,
    /// LM head = `shared` (and decoder output rescaled by `d_model^-0.5`) when true.
    #[serde(default = "d_true")]
    pub tie_word_embeddings: bool,
    /// transformers >= 5 writes `tie_word_embeddings: true` for every T5 and records an untied
    /// (v1.1) head as `scale_decoder_outputs: false`; when present it decides the rescale, and
    /// `false` means a separate `lm_head.weight`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_decoder_outputs: Option<bool>,
    #[serde(default = "d_true")]
    pub is_encoder_decoder: bool,
    /// Nominal maximum length (t5-small's config says 512); not a hard limit, see
    /// [`T5_DEFAULT_MAX_POSITIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_positions: Option<usize>,
    #[serde(default = "d_pad")]
    pub pad_token_id: u32,
    #[serde(default = "d_eos_one")]
    pub eos_token_id: u32,
    #[serde(default = "d_pad")]
    pub decoder_start_token_id: u32,
}

impl T5Config {
    /// Decoder depth (`num_decoder_layers`, else `num_layers`).
    pub fn decoder_layers(&self) -> usize {
        self.num_decoder_layers.unwrap_or(self.num_layers)
    }

    /// Attention inner width `num_heads * d_kv`.
    pub fn inner_dim(&self) -> usize {
        self.num_heads * self.d_kv
    }

    /// Rescale the decoder output by `d_model^-0.5` before the LM head (tied T5 only).
    pub fn scale_output(&self) -> bool {
        self.scale_decoder_outputs
            .unwrap_or(self.tie_word_embeddings)
    }

    fn validate(&self, origin: &str) -> ModelResult<()> {
        if self.d_kv == 0 || self.d_ff == 0 || self.decoder_layers() == 0 {
            return Err(ModelError::config(
                origin,
                "d_kv, d_ff and num_decoder_layers must be positive",
            ));
        }
        // The bidirectional bucketing halves the buckets and keeps half of those exact; the log
        // spacing needs at least one exact bucket and a max distance beyond the exact range.
        let nb = self.relative_attention_num_buckets;
        if nb < 4 || self.relative_attention_max_distance <= nb / 2 {
            return Err(ModelError::config(
                origin,
                format!(
                    "relative_attention_num_buckets ({nb}) must be >= 4 and \
                     relative_attention_max_distance ({}) > buckets / 2",
                    self.relative_attention_max_distance
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout_rate) {
            return Err(ModelError::config(origin, "dropout_rate must be in [0, 1)"));
        }
        let vocab = self.vocab_size as u64;
        for (name, id) in [
            ("pad_token_id", self.pad_token_id),
            ("eos_token_id", self.eos_token_id),
            ("decoder_start_token_id", self.decoder_start_token_id),
        ] {
            if u64::from(id) >= vocab {
                return Err(ModelError::config(
                    origin,
                    format!("{name} {id} is outside the vocabulary of {vocab}"),
                ));
            }
        }
        self.ffn_kind().map_err(|e| ModelError::config(origin, e))?;
        Ok(())
    }

    /// Whether the model has its own `lm_head.weight` (v1.1) instead of reusing `shared`.
    pub fn has_lm_head(&self) -> bool {
        !self.tie_word_embeddings || !self.scale_output()
    }

    /// `(gated, activation)` of the feed-forward block from `feed_forward_proj`.
    pub fn ffn_kind(&self) -> Result<(bool, Activation), String> {
        let p = self.feed_forward_proj.as_str();
        let (gated, act) = match p.split_once('-') {
            Some(("gated", a)) => (true, a),
            Some(_) => {
                return Err(format!(
                    "feed_forward_proj `{p}` is not `ACT` or `gated-ACT`"
                ))
            }
            None => (false, p),
        };
        let act = match act {
            "relu" => Activation::Relu,
            // HF maps `gated-gelu` to the tanh approximation (`gelu_new`), plain `gelu` to erf.
            "gelu" if gated => Activation::GeluNew,
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluNew,
            other => {
                return Err(format!(
                    "unsupported feed_forward_proj activation `{other}`"
                ))
            }
        };
        Ok((gated, act))
    }
}

/// `model_type: "roberta"` reads BERT's fields with `RobertaConfig`'s defaults for the special
/// ids (pad 1, bos 0, eos 2) instead of BERT's: RoBERTa's position ids count from the pad id, so
/// a config without `pad_token_id` must not silently shift every position to BERT's 0.
fn de_roberta<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BertConfig, D::Error> {
    use serde::de::Error;
    let mut v = serde_json::Value::deserialize(d)?;
    if let Some(o) = v.as_object_mut() {
        // A null pad would leave transformers without padding_idx too: take the default.
        if o.get("pad_token_id").is_none_or(serde_json::Value::is_null) {
            o.insert("pad_token_id".into(), ROBERTA_PAD.into());
        }
        for (k, default) in [("bos_token_id", 0u32), ("eos_token_id", 2)] {
            if !o.contains_key(k) {
                o.insert(k.into(), default.into());
            }
        }
    }
    serde_json::from_value(v).map_err(D::Error::custom)
}

/// Ids of `<bos>`, `<eos>` and `<pad>` as `config.json` records them (`None`: not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpecialTokenIds {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub pad: Option<u32>,
}

/// `RobertaConfig`'s default `pad_token_id` (also ChemBERTa's).
pub const ROBERTA_PAD: u32 = 1;

/// Any supported architecture. `model_type` (as in HF `config.json`) selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model_type")]
pub enum ModelConfig {
    #[serde(rename = "bert")]
    Bert(BertConfig),
    /// RoBERTa (ChemBERTa): the BERT network with position ids that start after the pad id and
    /// skip padding, one token type, and `RobertaForMaskedLM` tensor names (see [`crate::bert`]).
    #[serde(rename = "roberta", deserialize_with = "de_roberta")]
    Roberta(BertConfig),
    #[serde(rename = "albert")]
    Albert(AlbertConfig),
    #[serde(rename = "molformer")]
    Molformer(MolformerConfig),
    #[serde(rename = "gpt_neo")]
    GptNeo(GptNeoConfig),
    #[serde(rename = "t5")]
    T5(T5Config),
}

impl ModelConfig {
    /// Parse a `config.json` (HF or ours). `origin` names the source in errors.
    pub fn from_json(text: &str, origin: &str) -> ModelResult<Self> {
        let c: ModelConfig =
            serde_json::from_str(text).map_err(|e| ModelError::config(origin, e))?;
        c.validate(origin)?;
        Ok(c)
    }

    /// Parse a TOML preset.
    pub fn from_toml(text: &str, origin: &str) -> ModelResult<Self> {
        let c: ModelConfig = toml::from_str(text).map_err(|e| ModelError::config(origin, e))?;
        c.validate(origin)?;
        Ok(c)
    }

    /// `config.json` text in HF layout (with `architectures`). A T5 head is written in the form
    /// transformers 4 and 5 both read the same way: `tie_word_embeddings: false` (no
    /// `scale_decoder_outputs`) for a separate unscaled head, `true` for a tied one.
    pub fn to_json(&self) -> ModelResult<String> {
        let mut config = self.clone();
        if let ModelConfig::T5(c) = &mut config {
            if c.has_lm_head() != c.scale_output() {
                c.tie_word_embeddings = !c.has_lm_head();
                c.scale_decoder_outputs = None;
            }
        }
        let mut v = serde_json::to_value(&config).map_err(|e| ModelError::config("config", e))?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("architectures".into(), serde_json::json!([self.hf_class()]));
        }
        serde_json::to_string_pretty(&v).map_err(|e| ModelError::config("config", e))
    }

    /// Hugging Face class whose tensor names we use.
    pub fn hf_class(&self) -> &'static str {
        match self {
            ModelConfig::Bert(_) => "BertForMaskedLM",
            ModelConfig::Roberta(_) => "RobertaForMaskedLM",
            ModelConfig::Albert(_) => "AlbertForMaskedLM",
            ModelConfig::Molformer(_) => "MolformerForMaskedLM",
            ModelConfig::GptNeo(_) => "GPTNeoForCausalLM",
            ModelConfig::T5(_) => "T5ForConditionalGeneration",
        }
    }

    /// Short architecture name (`bert`, `roberta`, `albert`, `molformer`, `gpt_neo`, `t5`).
    pub fn architecture(&self) -> &'static str {
        match self {
            ModelConfig::Bert(_) => "bert",
            ModelConfig::Roberta(_) => "roberta",
            ModelConfig::Albert(_) => "albert",
            ModelConfig::Molformer(_) => "molformer",
            ModelConfig::GptNeo(_) => "gpt_neo",
            ModelConfig::T5(_) => "t5",
        }
    }

    pub fn kind(&self) -> LmKind {
        match self {
            ModelConfig::GptNeo(_) => LmKind::Causal,
            ModelConfig::T5(_) => LmKind::Seq2Seq,
            _ => LmKind::Masked,
        }
    }

    pub fn vocab_size(&self) -> usize {
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => c.vocab_size,
            ModelConfig::Albert(c) => c.vocab_size,
            ModelConfig::Molformer(c) => c.vocab_size,
            ModelConfig::GptNeo(c) => c.vocab_size,
            ModelConfig::T5(c) => c.vocab_size,
        }
    }

    pub fn hidden_size(&self) -> usize {
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => c.hidden_size,
            ModelConfig::Albert(c) => c.hidden_size,
            ModelConfig::Molformer(c) => c.hidden_size,
            ModelConfig::GptNeo(c) => c.hidden_size,
            ModelConfig::T5(c) => c.d_model,
        }
    }

    /// Number of layer applications (for ALBERT: passes, not distinct layers; for T5: encoder
    /// layers, as HF's `num_hidden_layers` alias).
    pub fn num_layers(&self) -> usize {
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => c.num_hidden_layers,
            ModelConfig::Albert(c) => c.num_hidden_layers,
            ModelConfig::Molformer(c) => c.num_hidden_layers,
            ModelConfig::GptNeo(c) => c.num_layers,
            ModelConfig::T5(c) => c.num_layers,
        }
    }

    pub fn num_heads(&self) -> usize {
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => c.num_attention_heads,
            ModelConfig::Albert(c) => c.num_attention_heads,
            ModelConfig::Molformer(c) => c.num_attention_heads,
            ModelConfig::GptNeo(c) => c.num_heads,
            ModelConfig::T5(c) => c.num_heads,
        }
    }

    /// Every size field with the largest value accepted. The bounds are far above any published
    /// model (MoLFormer-XL: hidden 768, T5-11B: d_ff 65536) and keep a corrupt or hostile
    /// `config.json` from reaching the model as a zero width (which layers cannot split into
    /// rows) or a size whose parameter count overflows.
    fn dimensions(&self) -> Vec<(&'static str, usize, usize)> {
        const VOCAB: usize = 1 << 24;
        const WIDTH: usize = 1 << 16;
        const FFN: usize = 1 << 18;
        const LAYERS: usize = 1024;
        const POSITIONS: usize = 1 << 20;
        let mut d = vec![
            ("vocab_size", self.vocab_size(), VOCAB),
            ("hidden size", self.hidden_size(), WIDTH),
            ("number of layers", self.num_layers(), LAYERS),
            ("number of heads", self.num_heads(), WIDTH),
        ];
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => d.extend([
                ("intermediate_size", c.intermediate_size, FFN),
                (
                    "max_position_embeddings",
                    c.max_position_embeddings,
                    POSITIONS,
                ),
                ("type_vocab_size", c.type_vocab_size, VOCAB),
            ]),
            ModelConfig::Albert(c) => d.extend([
                ("embedding_size", c.embedding_size, WIDTH),
                ("intermediate_size", c.intermediate_size, FFN),
                (
                    "max_position_embeddings",
                    c.max_position_embeddings,
                    POSITIONS,
                ),
                ("type_vocab_size", c.type_vocab_size, VOCAB),
                ("num_hidden_groups", c.num_hidden_groups, LAYERS),
            ]),
            ModelConfig::Molformer(c) => d.extend([
                ("intermediate_size", c.intermediate_size, FFN),
                (
                    "max_position_embeddings",
                    c.max_position_embeddings,
                    POSITIONS,
                ),
                ("num_random_features", c.num_random_features.max(1), WIDTH),
            ]),
            ModelConfig::GptNeo(c) => d.extend([
                ("intermediate_size", c.intermediate_size.unwrap_or(1), FFN),
                (
                    "max_position_embeddings",
                    c.max_position_embeddings,
                    POSITIONS,
                ),
                ("window_size", c.window_size, POSITIONS),
            ]),
            ModelConfig::T5(c) => d.extend([
                ("d_kv", c.d_kv, WIDTH),
                ("d_ff", c.d_ff, FFN),
                ("num_decoder_layers", c.decoder_layers(), LAYERS),
                (
                    "relative_attention_num_buckets",
                    c.relative_attention_num_buckets,
                    WIDTH,
                ),
                (
                    "relative_attention_max_distance",
                    c.relative_attention_max_distance,
                    POSITIONS,
                ),
            ]),
        }
        d
    }

    /// Longest sequence (in tokens, specials included) the model accepts. RoBERTa's first
    /// `pad_token_id + 1` position rows are never used by a real token (its positions start
    /// after the pad id), so ChemBERTa's 515 rows hold 513 tokens.
    pub fn max_positions(&self) -> usize {
        match self {
            ModelConfig::Bert(c) => c.max_position_embeddings,
            ModelConfig::Roberta(c) => c
                .max_position_embeddings
                .saturating_sub(c.pad_token_id as usize + 1),
            ModelConfig::Albert(c) => c.max_position_embeddings,
            ModelConfig::Molformer(c) => c.max_position_embeddings,
            ModelConfig::GptNeo(c) => c.max_position_embeddings,
            ModelConfig::T5(c) => c.n_positions.unwrap_or(T5_DEFAULT_MAX_POSITIONS),
        }
    }

    /// Hugging Face's `base_model_prefix`: the name the encoder's tensors sit under in a
    /// checkpoint with a head (`bert.encoder…`); a bare `AutoModel` checkpoint stores the same
    /// tensors without it (`encoder…`). `None` for T5, whose names have no prefix.
    pub fn base_model_prefix(&self) -> Option<&'static str> {
        match self {
            ModelConfig::Bert(_) => Some("bert"),
            ModelConfig::Roberta(_) => Some("roberta"),
            ModelConfig::Albert(_) => Some("albert"),
            ModelConfig::Molformer(_) => Some("molformer"),
            ModelConfig::GptNeo(_) => Some("transformer"),
            ModelConfig::T5(_) => None,
        }
    }

    /// Name prefix of the masked-LM head's own tensors, which an encoder-only checkpoint
    /// (`AutoModel`, DeepChem's ChemBERTa-MTR regression model) does not have. `None` where the
    /// LM head is the tied token embedding (GPT-Neo) or falls back to it (T5).
    pub fn lm_head_prefix(&self) -> Option<&'static str> {
        match self {
            ModelConfig::Bert(_) => Some("cls."),
            ModelConfig::Roberta(_) | ModelConfig::Molformer(_) => Some("lm_head."),
            ModelConfig::Albert(_) => Some("predictions."),
            ModelConfig::GptNeo(_) | ModelConfig::T5(_) => None,
        }
    }

    /// The special ids `config.json` records (T5 has no `<bos>`).
    pub fn special_token_ids(&self) -> SpecialTokenIds {
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => SpecialTokenIds {
                bos: c.bos_token_id,
                eos: c.eos_token_id,
                pad: Some(c.pad_token_id),
            },
            ModelConfig::Albert(c) => SpecialTokenIds {
                bos: c.bos_token_id,
                eos: c.eos_token_id,
                pad: Some(c.pad_token_id),
            },
            ModelConfig::Molformer(c) => SpecialTokenIds {
                bos: c.bos_token_id,
                eos: c.eos_token_id,
                pad: Some(c.pad_token_id),
            },
            ModelConfig::GptNeo(c) => SpecialTokenIds {
                bos: c.bos_token_id,
                eos: c.eos_token_id,
                pad: c.pad_token_id,
            },
            ModelConfig::T5(c) => SpecialTokenIds {
                bos: None,
                eos: Some(c.eos_token_id),
                pad: Some(c.pad_token_id),
            },
        }
    }

    /// Record the special ids of the tokenizer the model is built for (the `Some` ones), so that
    /// `config.json` names the same tokens as `tokenizer.json`. Call it before building: for
    /// RoBERTa the pad id decides the position ids, for T5 pad and eos decide decoding (T5's
    /// decoder starts from `<pad>`, so `decoder_start_token_id` follows the pad id).
    pub fn set_special_token_ids(&mut self, ids: SpecialTokenIds) {
        fn set(slot: &mut Option<u32>, v: Option<u32>) {
            if v.is_some() {
                *slot = v;
            }
        }
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => {
                set(&mut c.bos_token_id, ids.bos);
                set(&mut c.eos_token_id, ids.eos);
                c.pad_token_id = ids.pad.unwrap_or(c.pad_token_id);
            }
            ModelConfig::Albert(c) => {
                set(&mut c.bos_token_id, ids.bos);
                set(&mut c.eos_token_id, ids.eos);
                c.pad_token_id = ids.pad.unwrap_or(c.pad_token_id);
            }
            ModelConfig::Molformer(c) => {
                set(&mut c.bos_token_id, ids.bos);
                set(&mut c.eos_token_id, ids.eos);
                c.pad_token_id = ids.pad.unwrap_or(c.pad_token_id);
            }
            ModelConfig::GptNeo(c) => {
                set(&mut c.bos_token_id, ids.bos);
                set(&mut c.eos_token_id, ids.eos);
                set(&mut c.pad_token_id, ids.pad);
            }
            ModelConfig::T5(c) => {
                c.eos_token_id = ids.eos.unwrap_or(c.eos_token_id);
                if let Some(p) = ids.pad {
                    c.pad_token_id = p;
                    c.decoder_start_token_id = p;
                }
            }
        }
    }

    /// The special ids that change what the network computes (RoBERTa's pad: position ids; T5's
    /// pad and eos: decoder inputs and decoding). Saving a model with a tokenizer must not
    /// rewrite these, or the reloaded model would compute something else.
    pub fn network_special_ids(&self) -> SpecialTokenIds {
        match self {
            ModelConfig::Roberta(c) => SpecialTokenIds {
                pad: Some(c.pad_token_id),
                ..Default::default()
            },
            ModelConfig::T5(c) => SpecialTokenIds {
                bos: None,
                eos: Some(c.eos_token_id),
                pad: Some(c.pad_token_id),
            },
            _ => SpecialTokenIds::default(),
        }
    }

    /// Set the vocabulary size (e.g. to a tokenizer's) before building.
    pub fn set_vocab_size(&mut self, v: usize) {
        match self {
            ModelConfig::Bert(c) | ModelConfig::Roberta(c) => c.vocab_size = v,
            ModelConfig::Albert(c) => c.vocab_size = v,
            ModelConfig::Molformer(c) => c.vocab_size = v,
            ModelConfig::GptNeo(c) => c.vocab_size = v,
            ModelConfig::T5(c) => c.vocab_size = v,
        }
    }

    /// Check the shapes are buildable; errors say which field is wrong.
    pub fn validate(&self, origin: &str) -> ModelResult<()> {
        let (h, heads, layers, vocab) = (
            self.hidden_size(),
            self.num_heads(),
            self.num_layers(),
            self.vocab_size(),
        );
        if h == 0 || heads == 0 || layers == 0 || vocab == 0 || self.max_positions() == 0 {
            return Err(ModelError::config(origin, "sizes must be positive"));
        }
        for (name, value, max) in self.dimensions() {
            if value == 0 || value > max {
                return Err(ModelError::config(
                    origin,
                    format!("{name} is {value}; it must be between 1 and {max}"),
                ));
            }
        }
        if !h.is_multiple_of(heads) && !matches!(self, ModelConfig::T5(_)) {
            return Err(ModelError::config(
                origin,
                format!("hidden size {h} is not a multiple of {heads} heads"),
            ));
        }
        match self {
            ModelConfig::Albert(c) => {
                if c.num_hidden_groups == 0
                    || !c.num_hidden_layers.is_multiple_of(c.num_hidden_groups)
                {
                    return Err(ModelError::config(
                        origin,
                        format!(
                            "{} layers cannot be split into {} groups",
                            c.num_hidden_layers, c.num_hidden_groups
                        ),
                    ));
                }
                if c.inner_group_num != 1 {
                    return Err(ModelError::config(
                        origin,
                        "only inner_group_num = 1 is supported",
                    ));
                }
            }
            ModelConfig::Molformer(c) => {
                if c.feature_map_kernel != "relu" {
                    return Err(ModelError::config(
                        origin,
                        format!(
                            "feature_map_kernel `{}` is not supported (only `relu`, the released \
                             MoLFormer's)",
                            c.feature_map_kernel
                        ),
                    ));
                }
                if !(h / heads).is_multiple_of(2) {
                    return Err(ModelError::config(
                        origin,
                        "rotary embeddings need an even head dimension",
                    ));
                }
                if c.feature_map == crate::blocks::FeatureMapKind::GeneralizedRandom
                    && c.num_random_features == 0
                {
                    return Err(ModelError::config(
                        origin,
                        "num_random_features must be positive",
                    ));
                }
            }
            ModelConfig::GptNeo(c) => {
                let n = c.attention_layers().len();
                if n != c.num_layers {
                    return Err(ModelError::config(
                        origin,
                        format!(
                            "attention_types expand to {n} layers but num_layers is {}",
                            c.num_layers
                        ),
                    ));
                }
                if c.window_size == 0 {
                    return Err(ModelError::config(origin, "window_size must be positive"));
                }
            }
            ModelConfig::T5(c) => c.validate(origin)?,
            ModelConfig::Roberta(c) => {
                if c.pad_token_id as usize >= c.vocab_size {
                    return Err(ModelError::config(
                        origin,
                        format!(
                            "pad_token_id {} is outside the vocabulary of {}",
                            c.pad_token_id, c.vocab_size
                        ),
                    ));
                }
            }
            ModelConfig::Bert(_) => {}
        }
        Ok(())
    }
}
