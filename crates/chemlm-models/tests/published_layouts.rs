//! The layouts of the released checkpoints chemlm loads from the Hub: every field of their
//! `config.json` (including the ones chemlm ignores) parses, and the tensor names and shapes the
//! checkpoints hold are exactly the ones chemlm's models expect. The files themselves cannot be
//! downloaded here (no network); the names follow the Hugging Face modelling code of each port
//! (MoLFormer's `modeling_molformer.py`, transformers' GPT-Neo), and the parameter count must
//! equal the published one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use chemlm_models::{count_parameters, io, LanguageModel, Model, ModelConfig};

/// `ibm/MoLFormer-XL-both-10pct`'s config.json fields (remote-code layout, transformers 4.35).
const MOLFORMER_XL_CONFIG: &str = r#"{
  "_name_or_path": "ibm/MoLFormer-XL-both-10pct",
  "architectures": ["MolformerForMaskedLM"],
  "attention_probs_dropout_prob": 0.1,
  "auto_map": {
    "AutoConfig": "configuration_molformer.MolformerConfig",
    "AutoModel": "modeling_molformer.MolformerModel",
    "AutoModelForMaskedLM": "modeling_molformer.MolformerForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_molformer.MolformerForSequenceClassification"
  },
  "classifier_dropout_prob": null,
  "classifier_skip_connection": true,
  "deterministic_eval": false,
  "embedding_dropout_prob": 0.2,
  "feature_map_kernel": "relu",
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1,
  "hidden_size": 768,
  "initializer_range": 0.02,
  "intermediate_size": 768,
  "layer_norm_eps": 1e-12,
  "linear_attention_eps": 1e-06,
  "max_position_embeddings": 202,
  "model_type": "molformer",
  "num_attention_heads": 12,
  "num_hidden_layers": 12,
  "num_random_features": 32,
  "pad_token_id": 2,
  "tie_word_embeddings": false,
  "torch_dtype": "float32",
  "transformers_version": "4.35.2",
  "vocab_size": 2362
}"#;

/// Tensor names and shapes of `MolformerForMaskedLM` as the port's modules lay them out
/// (`molformer.embeddings`, `molformer.encoder.layer.N.{attention.self.{query,key,value,
/// feature_map},attention.output,intermediate,output}`, `molformer.LayerNorm`,
/// `lm_head.{transform.{dense,LayerNorm},decoder}`); the rotary caches are non-persistent
/// buffers and not in the file.
fn molformer_port_layout(
    h: usize,
    layers: usize,
    heads: usize,
    feats: usize,
    vocab: usize,
) -> BTreeMap<String, Vec<usize>> {
    let mut m = BTreeMap::new();
    let lin = |m: &mut BTreeMap<String, Vec<usize>>, n: String, i: usize, o: usize, b: bool| {
        m.insert(format!("{n}.weight"), vec![o, i]);
        if b {
            m.insert(format!("{n}.bias"), vec![o]);
        }
    };
    let ln = |m: &mut BTreeMap<String, Vec<usize>>, n: String| {
        m.insert(format!("{n}.weight"), vec![h]);
        m.insert(format!("{n}.bias"), vec![h]);
    };
    m.insert(
        "molformer.embeddings.word_embeddings.weight".into(),
        vec![vocab, h],
    );
    for l in 0..layers {
        let p = format!("molformer.encoder.layer.{l}");
        for q in ["query", "key", "value"] {
            lin(&mut m, format!("{p}.attention.self.{q}"), h, h, true);
        }
        m.insert(
            format!("{p}.attention.self.feature_map.weight"),
            vec![h / heads, feats],
        );
        lin(&mut m, format!("{p}.attention.output.dense"), h, h, true);
        ln(&mut m, format!("{p}.attention.output.LayerNorm"));
        lin(&mut m, format!("{p}.intermediate.dense"), h, h, true);
        lin(&mut m, format!("{p}.output.dense"), h, h, true);
        ln(&mut m, format!("{p}.output.LayerNorm"));
    }
    ln(&mut m, "molformer.LayerNorm".into());
    lin(&mut m, "lm_head.transform.dense".into(), h, h, true);
    ln(&mut m, "lm_head.transform.LayerNorm".into());
    lin(&mut m, "lm_head.decoder".into(), h, vocab, false);
    m
}

fn layout_of(model: &Model) -> BTreeMap<String, Vec<usize>> {
    io::state_dict(model)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.dims().to_vec()))
        .collect()
}

#[test]
fn molformer_xl_config_and_tensor_layout() {
    let cfg = ModelConfig::from_json(MOLFORMER_XL_CONFIG, "MoLFormer-XL config.json").unwrap();
    assert_eq!(cfg.architecture(), "molformer");
    assert_eq!(cfg.vocab_size(), 2362);
    assert_eq!(cfg.max_positions(), 202);
    let ModelConfig::Molformer(m) = &cfg else {
        panic!("not a MoLFormer config")
    };
    assert_eq!(m.pad_token_id, 2);
    assert_eq!(m.num_random_features, 32);
    // Published size: 46.8 M parameters.
    let p = count_parameters(&cfg).unwrap();
    assert!(
        (46_700_000..46_900_000).contains(&p.all),
        "{} parameters",
        p.all
    );
    let model = Model::new(&cfg, &Device::Cpu, 0).unwrap();
    assert_eq!(
        layout_of(&model),
        molformer_port_layout(768, 12, 12, 32, 2362)
    );
    // Written back, the config keeps what the port reads.
    let v: serde_json::Value = serde_json::from_str(&cfg.to_json().unwrap()).unwrap();
    assert_eq!(v["model_type"], "molformer");
    assert_eq!(v["feature_map_kernel"], "relu");
    assert_eq!(v["architectures"][0], "MolformerForMaskedLM");
}

#[test]
fn molformer_kernel_other_than_relu_is_refused() {
    let text = MOLFORMER_XL_CONFIG.replace("\"relu\"", "\"gelu\"");
    let err = ModelConfig::from_json(&text, "config.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("feature_map_kernel"), "{err}");
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// A `MolformerModel` checkpoint (what `AutoModel.from_pretrained(...).save_pretrained` writes:
/// no `molformer.` prefix, no LM head) loads for embeddings with the same hidden states as the
/// full checkpoint, and reports its head as not loaded.
#[test]
fn molformer_base_model_checkpoint_loads_without_head() {
    let full = Model::load(&golden("molformer"), &Device::Cpu).unwrap();
    assert!(full.lm_head_loaded());
    let (tensors, _) = io::read_weights(&golden("molformer"), &Device::Cpu).unwrap();
    let base: std::collections::HashMap<String, Tensor> = tensors
        .into_iter()
        .filter(|(k, _)| !k.starts_with("lm_head."))
        .map(|(k, v)| (k.trim_start_matches("molformer.").to_string(), v))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        golden("molformer/config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    candle_core::safetensors::save(&base, dir.path().join("model.safetensors")).unwrap();
    let bare = Model::load(dir.path(), &Device::Cpu).unwrap();
    assert!(!bare.lm_head_loaded());
    let ids = Tensor::new(&[[0u32, 5, 6, 7, 1]], &Device::Cpu).unwrap();
    let mask = Tensor::ones((1, 5), candle_core::DType::U32, &Device::Cpu).unwrap();
    let a = full.forward_hidden(&ids, &mask, false).unwrap();
    let b = bare.forward_hidden(&ids, &mask, false).unwrap();
    let d = (a - b).unwrap().abs().unwrap().max_all().unwrap();
    assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
}

/// A GPT-Neo `config.json` as transformers writes it for ChemGPT (`ncfrey/ChemGPT-*`), with the
/// fields chemlm does not use.
#[test]
fn chemgpt_style_gpt_neo_config_parses() {
    let text = r#"{
      "activation_function": "gelu_new",
      "architectures": ["GPTNeoForCausalLM"],
      "attention_dropout": 0,
      "attention_layers": ["global", "local", "global", "local"],
      "attention_types": [[["global", "local"], 2]],
      "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 2,
      "embed_dropout": 0, "gradient_checkpointing": false, "hidden_size": 128,
      "initializer_range": 0.02, "intermediate_size": null, "layer_norm_epsilon": 1e-05,
      "max_position_embeddings": 512, "model_type": "gpt_neo", "num_heads": 8, "num_layers": 4,
      "resid_dropout": 0, "summary_activation": null, "summary_first_dropout": 0.1,
      "summary_proj_to_labels": true, "summary_type": "cls_index", "summary_use_proj": true,
      "torch_dtype": "float32", "transformers_version": "4.12.3", "use_cache": true,
      "vocab_size": 591, "window_size": 256
    }"#;
    let cfg = ModelConfig::from_json(text, "ChemGPT config.json").unwrap();
    assert_eq!(cfg.architecture(), "gpt_neo");
    assert_eq!(cfg.num_layers(), 4);
    assert_eq!(cfg.vocab_size(), 591);
    Model::new(&cfg, &Device::Cpu, 0).unwrap();
}
