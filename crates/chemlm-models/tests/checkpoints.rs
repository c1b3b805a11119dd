//! Checkpoint layouts and export: RoBERTa configs and positions, encoder-only checkpoints (no LM
//! head, no `base_model_prefix`), shard indexes, ALBERT's embedding projection, and the
//! tokenizer files and special ids a saved model directory carries for transformers.

use candle_core::{DType, Device, Tensor};
use chemlm_data::{Tokenizer, TokenizerKind, UnigramConfig, VocabConfig};
use chemlm_models::io::{self, TokenizerSpecials};
use chemlm_models::{presets, LanguageModel, Model, ModelConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

fn roberta_json(pad: Option<u32>) -> String {
    let pad = pad.map_or(String::new(), |p| format!(r#", "pad_token_id": {p}"#));
    format!(
        r#"{{"model_type": "roberta", "vocab_size": 30, "hidden_size": 16,
            "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 32,
            "max_position_embeddings": 515, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0{pad}}}"#
    )
}

fn roberta(pad: Option<u32>) -> ModelConfig {
    ModelConfig::from_json(&roberta_json(pad), "test").unwrap()
}

fn tiny_bert() -> ModelConfig {
    let mut cfg = presets::preset("bert-small").unwrap();
    if let ModelConfig::Bert(c) = &mut cfg {
        c.hidden_size = 16;
        c.num_hidden_layers = 2;
        c.num_attention_heads = 4;
        c.intermediate_size = 32;
        c.vocab_size = 30;
    }
    cfg
}

#[test]
fn roberta_config_takes_robertas_defaults_and_round_trips() {
    let cfg = roberta(None);
    let ModelConfig::Roberta(c) = &cfg else {
        panic!("{cfg:?}")
    };
    // RobertaConfig's defaults, not BERT's 0: the pad id numbers the positions.
    assert_eq!(
        (c.pad_token_id, c.bos_token_id, c.eos_token_id),
        (1, Some(0), Some(2))
    );
    // ChemBERTa-77M: 515 position rows, the first two never read by a token.
    assert_eq!(cfg.max_positions(), 513);
    assert_eq!(cfg.architecture(), "roberta");
    assert_eq!(cfg.hf_class(), "RobertaForMaskedLM");
    let json = cfg.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["model_type"], "roberta");
    assert_eq!(v["architectures"][0], "RobertaForMaskedLM");
    assert_eq!(ModelConfig::from_json(&json, "round trip").unwrap(), cfg);
    // A null pad (transformers writes one for configs that lack it) also means RoBERTa's 1.
    let null_pad = roberta_json(None).replace(
        "\"type_vocab_size\"",
        "\"pad_token_id\": null, \"type_vocab_size\"",
    );
    let ModelConfig::Roberta(c) = ModelConfig::from_json(&null_pad, "null").unwrap() else {
        panic!()
    };
    assert_eq!(c.pad_token_id, 1);
    // TOML presets go through the same defaults.
    let toml = "model_type = \"roberta\"\nvocab_size = 30\nhidden_size = 16\n\
                num_hidden_layers = 1\nnum_attention_heads = 4\nintermediate_size = 32\n\
                max_position_embeddings = 20\n";
    let ModelConfig::Roberta(c) = ModelConfig::from_toml(toml, "toml").unwrap() else {
        panic!()
    };
    assert_eq!((c.pad_token_id, c.eos_token_id), (1, Some(2)));
    // A pad outside the vocabulary cannot index the position table sensibly.
    let err = ModelConfig::from_json(&roberta_json(Some(30)), "bad pad")
        .unwrap_err()
        .to_string();
    assert!(err.contains("pad_token_id 30"), "{err}");
}

#[test]
fn roberta_positions_skip_padding_on_either_side() {
    // Positions follow the ids (pad id 1), so a molecule's states do not depend on where or
    // how much it is padded — left padding included, unlike BERT's 0..seq positions.
    let model = Model::new(&roberta(None), &Device::Cpu, 5).unwrap();
    let mol = [0u32, 7, 9, 11, 13, 2];
    let alone = Tensor::new(&[mol], &Device::Cpu).unwrap();
    let ones = alone.ones_like().unwrap();
    let h_alone = model
        .forward_hidden(&alone, &ones, false)
        .unwrap()
        .get(0)
        .unwrap();
    let right: Vec<u32> = mol.iter().copied().chain([1, 1, 1]).collect();
    let left: Vec<u32> = [1, 1, 1].into_iter().chain(mol.iter().copied()).collect();
    let mask_r: Vec<u32> = right.iter().map(|&t| u32::from(t != 1)).collect();
    let mask_l: Vec<u32> = left.iter().map(|&t| u32::from(t != 1)).collect();
    let rows = |a: Vec<u32>, b: Vec<u32>| {
        let n = a.len();
        Tensor::from_vec([a, b].concat(), (2, n), &Device::Cpu).unwrap()
    };
    let ids = rows(right, left);
    let mask = rows(mask_r, mask_l);
    let h = model.forward_hidden(&ids, &mask, false).unwrap();
    let r = h.get(0).unwrap().narrow(0, 0, 6).unwrap();
    let l = h.get(1).unwrap().narrow(0, 3, 6).unwrap();
    assert!(
        max_diff(&r, &h_alone) < 1e-5,
        "right padding changed the states"
    );
    assert!(
        max_diff(&l, &h_alone) < 1e-5,
        "left padding changed the states"
    );
    // 513 tokens fit ChemBERTa's 515 rows, 514 do not.
    let small = {
        let mut c = roberta(None);
        if let ModelConfig::Roberta(b) = &mut c {
            b.max_position_embeddings = 8;
        }
        Model::new(&c, &Device::Cpu, 0).unwrap()
    };
    let six = Tensor::new(&[[0u32, 5, 5, 5, 5, 2]], &Device::Cpu).unwrap();
    small
        .forward_hidden(&six, &six.ones_like().unwrap(), false)
        .unwrap();
    let seven = Tensor::new(&[[0u32, 5, 5, 5, 5, 5, 2]], &Device::Cpu).unwrap();
    let err = small
        .forward_hidden(&seven, &seven.ones_like().unwrap(), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("exceeds the model's 6 positions"), "{err}");
}

fn weights(dir: &Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(dir.join(io::WEIGHTS_FILE), &Device::Cpu).unwrap()
}

#[test]
fn headless_checkpoint_saves_headless_until_the_head_is_trained() {
    let tmp = tempfile::tempdir().unwrap();
    let mtr = Model::load(&golden("roberta-mtr"), &Device::Cpu).unwrap();
    assert!(!mtr.lm_head_loaded());
    let out = tmp.path().join("encoder");
    mtr.save(&out, None).unwrap();
    let saved = weights(&out);
    assert!(
        saved.keys().all(|k| !k.starts_with("lm_head.")),
        "random head saved"
    );
    assert!(saved.contains_key("roberta.encoder.layer.1.output.dense.weight"));
    let again = Model::load(&out, &Device::Cpu).unwrap();
    assert!(
        !again.lm_head_loaded(),
        "a reload must still know the head is untrained"
    );
    // Once (pre)training has given the head weights, it is saved and loads as a head.
    again.set_lm_head_loaded(true);
    let out2 = tmp.path().join("trained");
    again.save(&out2, None).unwrap();
    assert!(weights(&out2).contains_key("lm_head.dense.weight"));
    assert!(Model::load(&out2, &Device::Cpu).unwrap().lm_head_loaded());

    // A head with only some of its tensors is a broken checkpoint, not an encoder-only one.
    let mut partial = weights(&out2);
    partial.remove("lm_head.layer_norm.weight");
    let p = out2.join(io::WEIGHTS_FILE);
    candle_core::safetensors::save(&partial, &p).unwrap();
    let err = Model::load(&out2, &Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("lm_head.layer_norm.weight"), "{err}");
}

#[test]
fn bare_encoder_checkpoints_load_without_the_prefix() {
    // What `AutoModel.save_pretrained` writes for BERT: no `bert.` prefix, a pooler, no head.
    let tmp = tempfile::tempdir().unwrap();
    let model = Model::new(&tiny_bert(), &Device::Cpu, 3).unwrap();
    let dir = tmp.path().join("bert");
    model.save(&dir, None).unwrap();
    let mut bare: HashMap<String, Tensor> = weights(&dir)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("cls."))
        .map(|(k, v)| (k.trim_start_matches("bert.").to_string(), v))
        .collect();
    bare.insert(
        "pooler.dense.weight".into(),
        Tensor::zeros((16, 16), DType::F32, &Device::Cpu).unwrap(),
    );
    assert!(bare.keys().all(|k| !k.starts_with("bert.")));
    candle_core::safetensors::save(&bare, dir.join(io::WEIGHTS_FILE)).unwrap();
    let loaded = Model::load(&dir, &Device::Cpu).unwrap();
    assert!(!loaded.lm_head_loaded());
    let ids = Tensor::new(&[[1u32, 5, 6, 7, 2]], &Device::Cpu).unwrap();
    let mask = ids.ones_like().unwrap();
    let a = model.forward_hidden(&ids, &mask, false).unwrap();
    let b = loaded.forward_hidden(&ids, &mask, false).unwrap();
    assert_eq!(max_diff(&a, &b), 0.0);
    assert!(loaded.forward_logits(&ids, &mask, false).is_err());
}

#[test]
fn shard_indexes_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let src = golden("roberta-sharded");
    let dir = tmp.path();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let shards = io::shard_files(&dir.join(io::SAFETENSORS_INDEX_FILE)).unwrap();
    assert!(shards.len() >= 2, "{shards:?}");
    let (all, from) = io::read_weights(dir, &Device::Cpu).unwrap();
    assert!(from.ends_with(io::SAFETENSORS_INDEX_FILE));
    assert!(
        all.contains_key("lm_head.dense.weight")
            && all.contains_key("roberta.embeddings.word_embeddings.weight")
    );

    let index_path = dir.join(io::SAFETENSORS_INDEX_FILE);
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&index_path).unwrap()).unwrap();
    let write = |v: &serde_json::Value| {
        std::fs::write(&index_path, serde_json::to_string(v).unwrap()).unwrap()
    };
    // A shard outside the directory is refused.
    let mut bad = index.clone();
    bad["weight_map"]["lm_head.bias"] = "../elsewhere.safetensors".into();
    write(&bad);
    let err = io::read_weights(dir, &Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("not a file name"), "{err}");
    // A tensor the index places in a shard that lacks it is reported by name.
    let mut bad = index.clone();
    bad["weight_map"]["roberta.no.such.tensor"] = index["weight_map"]["lm_head.bias"].clone();
    write(&bad);
    let err = io::read_weights(dir, &Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("roberta.no.such.tensor"), "{err}");
    // A missing shard file is an error naming it.
    write(&index);
    let (first, _) = &shards[0];
    std::fs::remove_file(first).unwrap();
    let err = io::read_weights(dir, &Device::Cpu).unwrap_err().to_string();
    let file = first.file_name().unwrap().to_string_lossy().into_owned();
    assert!(err.contains(&file) && err.contains("not found"), "{err}");
}

#[test]
fn albert_without_projection_exports_an_identity_one() {
    let mut cfg = presets::preset("albert-small").unwrap();
    if let ModelConfig::Albert(c) = &mut cfg {
        c.vocab_size = 30;
        c.embedding_size = 16;
        c.hidden_size = 16;
        c.num_attention_heads = 4;
        c.intermediate_size = 32;
        c.num_hidden_layers = 2;
        c.num_hidden_groups = 1;
    }
    let tmp = tempfile::tempdir().unwrap();
    let model = Model::new(&cfg, &Device::Cpu, 2).unwrap();
    model.save(tmp.path(), None).unwrap();
    let mut w = weights(tmp.path());
    let name = "albert.encoder.embedding_hidden_mapping_in.weight";
    let eye = Tensor::eye(16, DType::F32, &Device::Cpu).unwrap();
    assert_eq!(max_diff(&w[name], &eye), 0.0);
    // Ours loads back; a trained (non-identity) projection would be dropped, so it is refused.
    Model::load(tmp.path(), &Device::Cpu).unwrap();
    w.insert(name.into(), (eye * 2.0).unwrap());
    candle_core::safetensors::save(&w, tmp.path().join(io::WEIGHTS_FILE)).unwrap();
    let err = Model::load(tmp.path(), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not the identity"), "{err}");
}

fn smiles_tokenizer(dir: &Path) -> (Tokenizer, PathBuf) {
    let tok = Tokenizer::build(
        TokenizerKind::Smiles,
        ["CCO", "c1ccccc1O", "CC(=O)N", "ClC#N"],
        &VocabConfig::default(),
    )
    .unwrap();
    let path = dir.join("source-tokenizer.json");
    tok.save(&path).unwrap();
    (tok, path)
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn saved_models_carry_tokenizer_files_and_matching_special_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let (tok, tok_path) = smiles_tokenizer(tmp.path());
    let sp = tok.special_ids();
    // Our vocabularies: <bos> <eos> <pad> <mask> <unk> = 0..5, so BERT's default pad 0 is <bos>.
    assert_eq!((sp.bos, sp.eos, sp.pad), (0, 1, 2));
    let mut configs = vec![
        ("bert", tiny_bert()),
        ("albert", presets::preset("albert-small").unwrap()),
        ("molformer", presets::preset("molformer-tiny").unwrap()),
        ("gpt_neo", presets::preset("gpt-small").unwrap()),
    ];
    let mut rob = roberta(None);
    rob.set_special_token_ids(chemlm_models::config::SpecialTokenIds {
        bos: Some(sp.bos),
        eos: Some(sp.eos),
        pad: Some(sp.pad),
    });
    configs.push(("roberta", rob));
    for (name, mut cfg) in configs {
        cfg.set_vocab_size(tok.vocab_size());
        // Built without the ids (except RoBERTa): saving with the tokenizer must still agree.
        let model = Model::new(&cfg, &Device::Cpu, 1).unwrap();
        let dir = tmp.path().join(name);
        model.save(&dir, Some(&tok_path)).unwrap();
        for f in [
            io::TOKENIZER_FILE,
            io::TOKENIZER_CONFIG_FILE,
            io::SPECIAL_TOKENS_MAP_FILE,
        ] {
            assert!(dir.join(f).exists(), "{name}: no {f}");
        }
        let config = read_json(&dir.join(io::CONFIG_FILE));
        let vocab = tok.vocab();
        let token = |key: &str| {
            let id = config[key]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: {key} = {}", config[key]));
            vocab.token(id as u32).unwrap().to_string()
        };
        assert_eq!(token("pad_token_id"), "<pad>", "{name}");
        assert_eq!(token("bos_token_id"), "<bos>", "{name}");
        assert_eq!(token("eos_token_id"), "<eos>", "{name}");
        let tc = read_json(&dir.join(io::TOKENIZER_CONFIG_FILE));
        assert_eq!(tc["tokenizer_class"], "PreTrainedTokenizerFast");
        assert_eq!(tc["pad_token"], "<pad>");
        assert_eq!(tc["mask_token"], "<mask>");
        assert_eq!(tc["unk_token"], "<unk>");
        assert_eq!(tc["model_max_length"], model.config().max_positions());
        let map = read_json(&dir.join(io::SPECIAL_TOKENS_MAP_FILE));
        assert_eq!(map["bos_token"], "<bos>");
        assert_eq!(map["eos_token"], "<eos>");
        // The copy is the tokenizer itself, and the model reloads.
        assert_eq!(Tokenizer::load(&dir.join(io::TOKENIZER_FILE)).unwrap(), tok);
        Model::load(&dir, &Device::Cpu).unwrap();
    }
}

#[test]
fn t5_tokenizer_files_name_t5s_tokens_and_keep_its_decoding_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let texts = ["the cat sat", "CCO is ethanol", "benzene is c1ccccc1"];
    let tok = chemlm_data::tokenizer::sentencepiece::train_unigram(
        &texts,
        &UnigramConfig {
            vocab_size: 60,
            extra_ids: 2,
            ..UnigramConfig::default()
        },
    )
    .unwrap();
    let tok_path = tmp.path().join("t5-tokenizer.json");
    tok.save(&tok_path).unwrap();
    let specials = TokenizerSpecials::from_file(&tok_path).unwrap();
    let t5s = tok.specials();
    assert_eq!(specials.pad.as_ref().unwrap().id, t5s.pad);
    assert_eq!(specials.eos.as_ref().unwrap().content, "</s>");
    assert!(specials.bos.is_none() && specials.mask.is_none());
    let mut cfg = presets::preset("t5-tiny").unwrap();
    cfg.set_vocab_size(tok.vocab_size());
    let model = Model::new(&cfg, &Device::Cpu, 0).unwrap();
    let dir = tmp.path().join("t5");
    model.save(&dir, Some(&tok_path)).unwrap();
    let tc = read_json(&dir.join(io::TOKENIZER_CONFIG_FILE));
    assert_eq!(tc["eos_token"], "</s>");
    assert_eq!(tc["pad_token"], "<pad>");
    assert!(tc.get("bos_token").is_none());
    let config = read_json(&dir.join(io::CONFIG_FILE));
    assert_eq!(config["pad_token_id"], t5s.pad);
    assert_eq!(config["eos_token_id"], t5s.eos);
}

#[test]
fn gpt_neo_without_known_ids_writes_no_null_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = presets::preset("gpt-small").unwrap();
    if let ModelConfig::GptNeo(c) = &mut cfg {
        c.bos_token_id = None;
        c.eos_token_id = None;
        c.pad_token_id = None;
    }
    let model = Model::new(&cfg, &Device::Cpu, 0).unwrap();
    model.save(tmp.path(), None).unwrap();
    // transformers reads an absent id as its default and a null as "no such token".
    let config = read_json(&tmp.path().join(io::CONFIG_FILE));
    for key in ["bos_token_id", "eos_token_id", "pad_token_id"] {
        assert!(config.get(key).is_none(), "{key} = {}", config[key]);
    }
}
