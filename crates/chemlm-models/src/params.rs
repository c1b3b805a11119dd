//! Parameter counts and training FLOPs per token.
//!
//! Counts come from the real model code: the network is built with a [`ShapeRecorder`] backend
//! (no weights allocated), so a count can never drift from what `Model::new` builds.
//!
//! Conventions, matching how each released model reports its size:
//! * `total`: MoLFormer includes its LM head (46.8 M for molformer-xl); BERT/ALBERT (MolBERT,
//!   DeLiCaTe) count embeddings, layers and pooler but not the MLM head (its decoder is tied
//!   anyway). chemlm builds no pooler (MLM never uses or trains it, and `*ForMaskedLM` has
//!   none), so its `hidden x hidden + hidden` weights are added to `total` and `non_embedding`
//!   to keep the published counts. RoBERTa counts embeddings and layers (`RobertaForMaskedLM`
//!   has no pooler), not the MLM head. GPT-Neo counts everything (the LM head is the tied token
//!   embedding).
//! * `non_embedding`: `total` minus token, position and token-type embedding tables (Kaplan et
//!   al. 2020's N, used by ChemGPT's scaling laws).
//! * `all`: every trainable tensor of our model (heads included, tied tensors once).
//!
//! * T5: `total` = `all` = every tensor of `T5ForConditionalGeneration`, `shared` (the token
//!   embedding of encoder, decoder and a tied head) once, `lm_head` when untied (v1.1): equal to
//!   transformers' `model.num_parameters()` (t5-small 60,506,624; t5-base 222,903,552).
//!   `non_embedding` leaves out `shared` and an untied `lm_head` (vocabulary matrices).
//!
//! `flops_per_token` (training, forward + backward) follows Kaplan et al. 2020, Table 1:
//! `C = 6 N + 6 n_layer n_ctx d_model` (the second term is attention scores and weighted values,
//! `2 n_layer n_ctx d_attn` forward, x3 for forward + backward), with `n_ctx` the model's maximum
//! positions. Variants, same derivation: GPT-Neo local layers use `min(n_ctx, window)`; MoLFormer's
//! linear attention costs `8 m d_model` forward per layer and token (feature projection of q and
//! k: 4 m d_head per head; k v^T accumulation and q (k v^T): 4 m d_head; m = features, or d_head for
//! `elu + 1`), so its term is `24 n_layer m d_model`. ALBERT's N counts shared weights once but
//! they are applied every pass, so ALBERT uses its per-pass compute, `N_compute = N_nonemb_shared x
//! passes / groups`.
//!
//! T5 (encoder-decoder): a "token" is one source position plus one target position (source and
//! target both `n_ctx` long), so every non-embedding weight is used once per token and
//! `C = 6 N_non_embedding + 6 n_ctx d_attn (L_enc + 2 L_dec)`, `d_attn = num_heads d_kv`: encoder
//! self-attention over `n_ctx` keys in `L_enc` layers, decoder self-attention (counted at the full
//! `n_ctx`, as Kaplan does for causal models) and cross-attention over `n_ctx` source keys in each
//! of the `L_dec` layers. `n_ctx` is `n_positions` (512 for the t5 presets), else
//! [`crate::config::T5_DEFAULT_MAX_POSITIONS`].

use crate::config::{AttentionLayerType, ModelConfig, MolformerAttention};
use crate::error::ModelResult;
use crate::init::ShapeRecorder;
use candle_core::{DType, Device};
use serde::Serialize;

/// Parameter counts of one config (see module docs for the conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamCount {
    pub total: usize,
    pub non_embedding: usize,
    pub all: usize,
}

/// Every trainable tensor `(name, shape)` the config builds, in build order.
pub fn parameter_shapes(config: &ModelConfig) -> ModelResult<Vec<(String, Vec<usize>)>> {
    let rec = ShapeRecorder::new();
    let vb = rec.var_builder(DType::F32, &Device::Cpu);
    let rng = crate::blocks::dropout::ModelRng::new(0);
    crate::model::Network::build(config, rng, vb)?;
    Ok(rec.tensors())
}

fn is_embedding(config: &ModelConfig, name: &str) -> bool {
    if let ModelConfig::T5(_) = config {
        return name == "shared.weight" || name == "lm_head.weight";
    }
    name.ends_with("word_embeddings.weight")
        || name.ends_with("position_embeddings.weight")
        || name.ends_with("token_type_embeddings.weight")
        || name.ends_with("wte.weight")
        || name.ends_with("wpe.weight")
}

fn is_excluded_head(config: &ModelConfig, name: &str) -> bool {
    match config {
        ModelConfig::Bert(_) => name.starts_with("cls."),
        ModelConfig::Roberta(_) => name.starts_with("lm_head."),
        ModelConfig::Albert(_) => name.starts_with("predictions."),
        _ => false,
    }
}

/// The BERT/ALBERT pooler (dense `hidden -> hidden` with bias) their papers count; see the
/// module docs.
fn published_pooler(config: &ModelConfig) -> usize {
    match config {
        ModelConfig::Bert(c) => c.hidden_size * c.hidden_size + c.hidden_size,
        ModelConfig::Albert(c) => c.hidden_size * c.hidden_size + c.hidden_size,
        _ => 0,
    }
}

/// Count parameters of `config` without allocating weights.
pub fn count_parameters(config: &ModelConfig) -> ModelResult<ParamCount> {
    let shapes = parameter_shapes(config)?;
    let numel = |d: &Vec<usize>| d.iter().product::<usize>();
    let all = shapes.iter().map(|(_, d)| numel(d)).sum();
    let counted: Vec<_> = shapes
        .iter()
        .filter(|(n, _)| !is_excluded_head(config, n))
        .collect();
    let pooler = published_pooler(config);
    let total = counted.iter().map(|(_, d)| numel(d)).sum::<usize>() + pooler;
    let non_embedding = counted
        .iter()
        .filter(|(n, _)| !is_embedding(config, n))
        .map(|(_, d)| numel(d))
        .sum::<usize>()
        + pooler;
    Ok(ParamCount {
        total,
        non_embedding,
        all,
    })
}

/// Training FLOPs per token (forward + backward), Kaplan-style; see module docs.
pub fn flops_per_token(config: &ModelConfig) -> ModelResult<u64> {
    let n = count_parameters(config)?;
    let d = config.hidden_size() as u64;
    let layers = config.num_layers() as u64;
    let ctx = config.max_positions() as u64;
    let (n_compute, attn) = match config {
        ModelConfig::Bert(_) | ModelConfig::Roberta(_) => {
            (n.non_embedding as u64, 6 * layers * ctx * d)
        }
        ModelConfig::Albert(c) => {
            // Shared layer weights run `passes / groups` times each.
            let shapes = parameter_shapes(config)?;
            let layer_params: u64 = shapes
                .iter()
                .filter(|(n, _)| n.contains("albert_layer_groups"))
                .map(|(_, d)| d.iter().product::<usize>() as u64)
                .sum();
            let reuse = (c.num_hidden_layers / c.num_hidden_groups) as u64;
            (
                n.non_embedding as u64 + layer_params * (reuse - 1),
                6 * layers * ctx * d,
            )
        }
        ModelConfig::Molformer(c) => {
            let attn = match c.attention_type {
                MolformerAttention::Full => 6 * layers * ctx * d,
                MolformerAttention::Linear => {
                    let m = match c.feature_map {
                        crate::blocks::FeatureMapKind::GeneralizedRandom => c.num_random_features,
                        crate::blocks::FeatureMapKind::Elu => c.hidden_size / c.num_attention_heads,
                    } as u64;
                    24 * layers * m * d
                }
            };
            (n.non_embedding as u64, attn)
        }
        ModelConfig::GptNeo(c) => {
            let attn = c
                .attention_layers()
                .iter()
                .map(|t| match t {
                    AttentionLayerType::Global => 6 * ctx * d,
                    AttentionLayerType::Local => 6 * ctx.min(c.window_size as u64) * d,
                })
                .sum();
            (n.non_embedding as u64, attn)
        }
        ModelConfig::T5(c) => {
            let layers = (c.num_layers + 2 * c.decoder_layers()) as u64;
            (
                n.non_embedding as u64,
                6 * ctx * c.inner_dim() as u64 * layers,
            )
        }
    };
    Ok(6 * n_compute + attn)
}

/// Architecture, sizes, parameter counts and training FLOPs per token of a config, as the JSON
/// object `chemlm model info` prints and Python's `Model.info()` returns.
pub fn describe(config: &ModelConfig) -> ModelResult<serde_json::Value> {
    let p = count_parameters(config)?;
    Ok(serde_json::json!({
        "architecture": config.architecture(),
        "hf_class": config.hf_class(),
        "objective": config.kind(),
        "layers": config.num_layers(),
        "hidden_size": config.hidden_size(),
        "heads": config.num_heads(),
        "vocab_size": config.vocab_size(),
        "max_positions": config.max_positions(),
        "parameters": {
            "total": p.total,
            "non_embedding": p.non_embedding,
            "all_trainable": p.all,
        },
        "flops_per_token": flops_per_token(config)?,
        "flops_formula": "training, forward+backward: 6*N_non_embedding + attention term (Kaplan et al. 2020; see chemlm_models::params)",
    }))
}
