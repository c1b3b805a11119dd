//! Writes tiny chemlm model directories for `scripts/check_hf_export.py`, which loads each with
//! transformers (`AutoModelFor…` + `AutoTokenizer`) and compares.
//!
//! `cargo run -p chemlm-models --example export_for_hf -- OUTDIR` writes, under OUTDIR:
//! * one directory per model (BERT, ALBERT with and without the factorised embedding, GPT-Neo,
//!   RoBERTa, T5 v1.0 and v1.1), saved by `Model::save` with a tokenizer (a SMILES tokenizer
//!   built here; for T5 a Unigram tokenizer trained here), every weight randomised so that a
//!   misnamed or mis-tied tensor changes the outputs;
//! * in each, `io.safetensors`: the padded batch chemlm encodes (`input_ids`, `attention_mask`;
//!   T5 also `decoder_input_ids`, `decoder_attention_mask`) and chemlm's `logits` and
//!   `last_hidden_state` (T5: the encoder's);
//! * `manifest.json`: per model the directory, the transformers auto class, the texts and the
//!   ids chemlm's tokenizer gives each text.

use candle_core::{DType, Device, Tensor};
use chemlm_data::{Seq2SeqTokenizer, Tokenizer, TokenizerKind, UnigramConfig, VocabConfig};
use chemlm_models::config::SpecialTokenIds;
use chemlm_models::{LanguageModel, Model, ModelConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::Path;

type Error = Box<dyn std::error::Error>;

/// The SMILES the tokenizer is built from.
const CORPUS: &[&str] = &[
    "CCO",
    "c1ccccc1O",
    "CC(=O)Nc1ccc(O)cc1",
    "C#N",
    "ClC(Cl)Cl",
    "[NH4+]",
    "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
];

/// What the models are run on: in-vocabulary SMILES of different lengths, and one with tokens
/// the vocabulary lacks (`[Na+]`, `[Cl-]` become `<unk>`).
const SMILES: &[&str] = &[
    "CC(=O)Nc1ccc(O)cc1",
    "CCO",
    "[Na+].[Cl-]",
    "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O",
];

/// T5 source → target pairs (the tokenizer is trained on both sides).
const T5_PAIRS: &[(&str, &str)] = &[
    ("translate SMILES: CCO", "ethanol"),
    ("translate SMILES: c1ccccc1O", "phenol"),
    ("caption: CC(=O)O", "acetic acid, a carboxylic acid"),
];

fn cfg(json: serde_json::Value) -> Result<ModelConfig, Error> {
    Ok(ModelConfig::from_json(&json.to_string(), "export_for_hf")?)
}

/// Every weight drawn again: N(0, std) (norm scales 1 + N(0, std)), from a fixed seed, so
/// LayerNorm biases, output biases and every projection matter for the outputs.
fn randomise(model: &Model, seed: u64, std: f32) -> Result<(), Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = model
        .varmap()
        .data()
        .lock()
        .map_err(|_| "weight map lock poisoned")?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let n = var.elem_count();
        let is_norm_scale = name.ends_with(".weight")
            && (name.contains("LayerNorm")
                || name.contains("layer_norm")
                || name.contains(".ln_")
                || name.contains("full_layer_layer_norm"));
        let values: Vec<f32> = (0..n)
            .map(|_| {
                // Box-Muller: two uniforms → one standard normal.
                let u1: f32 = rng.gen_range(f32::EPSILON..1.0);
                let u2: f32 = rng.gen();
                let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
                if is_norm_scale {
                    1.0 + std * z
                } else {
                    std * z
                }
            })
            .collect();
        var.set(&Tensor::from_vec(values, var.shape(), var.device())?)?;
    }
    Ok(())
}

/// Right-pads `rows` with `pad`: (`ids` i64, `mask` i64) `[rows, longest]`.
fn pad_batch(rows: &[Vec<u32>], pad: u32) -> Result<(Tensor, Tensor), Error> {
    let len = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for r in rows {
        for i in 0..len {
            ids.push(i64::from(*r.get(i).unwrap_or(&pad)));
            mask.push(i64::from(i < r.len()));
        }
    }
    let dev = Device::Cpu;
    Ok((
        Tensor::from_vec(ids, (rows.len(), len), &dev)?,
        Tensor::from_vec(mask, (rows.len(), len), &dev)?,
    ))
}

struct Entry {
    name: &'static str,
    auto_class: &'static str,
    texts: Vec<String>,
    token_ids: Vec<Vec<u32>>,
}

impl Entry {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "dir": self.name,
            "auto_class": self.auto_class,
            "texts": self.texts,
            "token_ids": self.token_ids,
        })
    }
}

/// Saves an encoder-only or decoder-only model with the SMILES tokenizer and its outputs.
fn export_single(
    out: &Path,
    name: &'static str,
    config: ModelConfig,
    tok: &Tokenizer,
    tok_path: &Path,
    seed: u64,
) -> Result<Entry, Error> {
    let mut config = config;
    let sp = tok.special_ids();
    config.set_vocab_size(tok.vocab_size());
    config.set_special_token_ids(SpecialTokenIds {
        bos: Some(sp.bos),
        eos: Some(sp.eos),
        pad: Some(sp.pad),
    });
    let model = Model::new(&config, &Device::Cpu, seed)?;
    randomise(&model, seed, 0.3)?;
    let dir = out.join(name);
    model.save(&dir, Some(tok_path))?;
    let token_ids = SMILES
        .iter()
        .map(|s| tok.encode(s, true))
        .collect::<Result<Vec<_>, _>>()?;
    let (ids, mask) = pad_batch(&token_ids, sp.pad)?;
    let (ids_u, mask_u) = (ids.to_dtype(DType::U32)?, mask.to_dtype(DType::U32)?);
    let logits = model.forward_logits(&ids_u, &mask_u, false)?;
    let hidden = model.forward_hidden(&ids_u, &mask_u, false)?;
    let io: HashMap<String, Tensor> = [
        ("input_ids", ids),
        ("attention_mask", mask),
        ("logits", logits),
        ("last_hidden_state", hidden),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    candle_core::safetensors::save(&io, dir.join("io.safetensors"))?;
    Ok(Entry {
        name,
        auto_class: if config.kind() == chemlm_models::LmKind::Causal {
            "AutoModelForCausalLM"
        } else {
            "AutoModelForMaskedLM"
        },
        texts: SMILES.iter().map(|s| s.to_string()).collect(),
        token_ids,
    })
}

/// Saves a T5 with a Unigram tokenizer trained here, and its outputs on [`T5_PAIRS`].
fn export_t5(
    out: &Path,
    name: &'static str,
    config: ModelConfig,
    tok: &Seq2SeqTokenizer,
    tok_path: &Path,
    seed: u64,
) -> Result<Entry, Error> {
    let mut config = config;
    let sp = tok.specials();
    config.set_vocab_size(tok.vocab_size());
    config.set_special_token_ids(SpecialTokenIds {
        bos: None,
        eos: Some(sp.eos),
        pad: Some(sp.pad),
    });
    let model = Model::new(&config, &Device::Cpu, seed)?;
    // T5 has no LayerNorm re-centring the residual stream: at std 0.3 its activations grow until
    // f32 rounding alone (transformers' own f32 against f64: 5e-5) nears the tolerance.
    randomise(&model, seed, 0.15)?;
    let t5 = model.as_t5().ok_or("not a T5 model")?;
    let dir = out.join(name);
    model.save(&dir, Some(tok_path))?;
    let sources: Vec<Vec<u32>> = T5_PAIRS
        .iter()
        .map(|(s, _)| tok.encode(s))
        .collect::<Result<_, _>>()?;
    let targets: Vec<Vec<u32>> = T5_PAIRS
        .iter()
        .map(|(_, t)| tok.encode(t))
        .collect::<Result<_, _>>()?;
    let (ids, mask) = pad_batch(&sources, sp.pad)?;
    // Teacher forcing as transformers' `_shift_right`: the decoder reads <pad> then the target
    // without its last token.
    let dec_rows: Vec<Vec<u32>> = targets
        .iter()
        .map(|t| {
            std::iter::once(config_start(&config))
                .chain(t[..t.len() - 1].iter().copied())
                .collect()
        })
        .collect();
    let (dec, dmask) = pad_batch(&dec_rows, sp.pad)?;
    let u = |t: &Tensor| t.to_dtype(DType::U32);
    let enc = t5.encode(&u(&ids)?, &u(&mask)?, false)?;
    let logits = t5.decode(&u(&dec)?, Some(&u(&dmask)?), &enc, &u(&mask)?, false)?;
    let io: HashMap<String, Tensor> = [
        ("input_ids", ids),
        ("attention_mask", mask),
        ("decoder_input_ids", dec),
        ("decoder_attention_mask", dmask),
        ("logits", logits),
        ("last_hidden_state", enc),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    candle_core::safetensors::save(&io, dir.join("io.safetensors"))?;
    Ok(Entry {
        name,
        auto_class: "AutoModelForSeq2SeqLM",
        texts: T5_PAIRS.iter().map(|(s, _)| s.to_string()).collect(),
        token_ids: sources,
    })
}

fn config_start(c: &ModelConfig) -> u32 {
    match c {
        ModelConfig::T5(t) => t.decoder_start_token_id,
        _ => 0,
    }
}

fn main() -> Result<(), Error> {
    let out = std::env::args_os()
        .nth(1)
        .ok_or("usage: export_for_hf OUTDIR")?;
    let out = Path::new(&out);
    std::fs::create_dir_all(out)?;

    let tok = Tokenizer::build(
        TokenizerKind::Smiles,
        CORPUS.iter().copied(),
        &VocabConfig::default(),
    )?;
    let tok_path = out.join("smiles-tokenizer.json");
    tok.save(&tok_path)?;
    let no_dropout = serde_json::json!({
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0
    });
    let with = |mut v: serde_json::Value, extra: &serde_json::Value| {
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    let bert = with(
        serde_json::json!({"model_type": "bert", "vocab_size": 64, "hidden_size": 32,
            "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
            "hidden_act": "gelu", "max_position_embeddings": 64, "type_vocab_size": 2}),
        &no_dropout,
    );
    let roberta = with(
        serde_json::json!({"model_type": "roberta", "vocab_size": 64, "hidden_size": 32,
            "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
            "hidden_act": "gelu", "max_position_embeddings": 67, "type_vocab_size": 1,
            "layer_norm_eps": 1e-5}),
        &no_dropout,
    );
    let albert = with(
        serde_json::json!({"model_type": "albert", "vocab_size": 64, "embedding_size": 16,
            "hidden_size": 32, "num_hidden_layers": 4, "num_hidden_groups": 2,
            "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu_new",
            "max_position_embeddings": 64}),
        &no_dropout,
    );
    // DeLiCaTe's CLPS shape: no factorised embedding (exported with an identity projection).
    let albert_shared = with(
        serde_json::json!({"model_type": "albert", "vocab_size": 64, "embedding_size": 32,
            "hidden_size": 32, "num_hidden_layers": 3, "num_hidden_groups": 1,
            "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
            "max_position_embeddings": 64}),
        &no_dropout,
    );
    let gpt_neo = serde_json::json!({"model_type": "gpt_neo", "vocab_size": 64,
        "hidden_size": 32, "num_layers": 4, "num_heads": 4, "max_position_embeddings": 64,
        "window_size": 4, "attention_types": [[["global", "local"], 2]],
        "activation_function": "gelu_new", "embed_dropout": 0.0, "attention_dropout": 0.0,
        "resid_dropout": 0.0});
    let mut entries = vec![
        export_single(out, "bert", cfg(bert)?, &tok, &tok_path, 1)?,
        export_single(out, "albert", cfg(albert)?, &tok, &tok_path, 2)?,
        export_single(
            out,
            "albert-shared",
            cfg(albert_shared)?,
            &tok,
            &tok_path,
            3,
        )?,
        export_single(out, "gpt_neo", cfg(gpt_neo)?, &tok, &tok_path, 4)?,
        export_single(out, "roberta", cfg(roberta)?, &tok, &tok_path, 5)?,
    ];

    let texts: Vec<&str> = T5_PAIRS.iter().flat_map(|(s, t)| [*s, *t]).collect();
    let t5_tok = chemlm_data::tokenizer::sentencepiece::train_unigram(
        &texts,
        &UnigramConfig {
            vocab_size: 80,
            extra_ids: 4,
            ..UnigramConfig::default()
        },
    )?;
    let t5_tok_path = out.join("t5-tokenizer.json");
    t5_tok.save(&t5_tok_path)?;
    let t5 = serde_json::json!({"model_type": "t5", "vocab_size": 64, "d_model": 32,
        "d_kv": 8, "d_ff": 64, "num_layers": 2, "num_decoder_layers": 2, "num_heads": 4,
        "relative_attention_num_buckets": 8, "relative_attention_max_distance": 20,
        "dropout_rate": 0.0, "feed_forward_proj": "relu", "tie_word_embeddings": true});
    let mut t5_11 = t5.clone();
    t5_11["feed_forward_proj"] = "gated-gelu".into();
    t5_11["tie_word_embeddings"] = false.into();
    entries.push(export_t5(out, "t5", cfg(t5)?, &t5_tok, &t5_tok_path, 6)?);
    entries.push(export_t5(
        out,
        "t5-v1_1",
        cfg(t5_11)?,
        &t5_tok,
        &t5_tok_path,
        7,
    )?);

    let manifest: Vec<serde_json::Value> = entries.iter().map(Entry::json).collect();
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    eprintln!("wrote {} models under {}", entries.len(), out.display());
    Ok(())
}
