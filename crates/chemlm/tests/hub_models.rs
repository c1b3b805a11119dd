//! `hf:ORG/NAME` model sources end to end through the `chemlm` binary, against the mock Hub of
//! `chemlm-hub`'s tests (127.0.0.1, never the network): `model import` writes a plain model
//! directory, `embed --model hf:…` gives the same embeddings as the imported copy, a second run
//! works offline from the Hugging Face cache, and a missing repository is a clear error.
//!
//! The served model is MoLFormer's golden tiny model (chemlm-models) with a MoLFormer-XL-style
//! tokenizer: `vocab.json` + `special_tokens_map.json`, no `tokenizer.json`.

#[path = "../../chemlm-hub/tests/mock/mod.rs"]
mod mock;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mock::{MockFile, MockHub, MockRepo};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn file(path: PathBuf, name: &str, lfs: bool) -> MockFile {
    MockFile::new(name, &std::fs::read(&path).unwrap(), lfs)
}

/// MoLFormer's golden tiny shape with the vocabulary of the tokenizer below, random weights.
fn tiny_model(dir: &Path) -> PathBuf {
    let golden = root().join("crates/chemlm-models/tests/golden/molformer/config.json");
    let text = std::fs::read_to_string(&golden).unwrap();
    let mut cfg = chemlm_models::ModelConfig::from_json(&text, "golden").unwrap();
    cfg.set_vocab_size(28);
    let out = dir.join("served");
    chemlm_models::Model::new(&cfg, &candle_core::Device::Cpu, 7)
        .unwrap()
        .save(&out, None)
        .unwrap();
    out
}

fn repo(model: &Path) -> MockRepo {
    let tok = root().join("crates/chemlm-data/tests/golden/hub-tokenizers/molformer-vocab");
    MockRepo::new(
        "ibm/tiny-molformer",
        vec![
            file(model.join("config.json"), "config.json", false),
            file(model.join("model.safetensors"), "model.safetensors", true),
            file(tok.join("vocab.json"), "vocab.json", false),
            file(
                tok.join("special_tokens_map.json"),
                "special_tokens_map.json",
                false,
            ),
            MockFile::new("README.md", b"tiny test model\n", false),
        ],
    )
}

fn chemlm(args: &[&str], endpoint: &str, cache: &Path, offline: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chemlm"));
    c.arg("--quiet")
        .args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", cache)
        .env_remove("HF_TOKEN")
        .env_remove("HUGGING_FACE_HUB_TOKEN")
        .env("HF_HOME", cache.join("home"));
    if offline {
        c.env("HF_HUB_OFFLINE", "1");
    } else {
        c.env_remove("HF_HUB_OFFLINE");
    }
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn hub_models_import_embed_and_work_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = MockHub::start(vec![repo(&tiny_model(tmp.path()))]);
    let cache = tmp.path().join("cache");
    let smiles = tmp.path().join("in.smi");
    std::fs::write(&smiles, "CCO\nc1ccccc1O\nCC(=O)O\n").unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();

    // Import: a plain chemlm model directory with a tokenizer.json built from vocab.json.
    let out = tmp.path().join("imported");
    let o = chemlm(
        &[
            "model",
            "import",
            "hf:ibm/tiny-molformer",
            "--out",
            &s(&out),
        ],
        &hub.endpoint(),
        &cache,
        false,
    );
    ok(&o);
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // The cache has huggingface_hub's layout.
    let snap = cache.join("models--ibm--tiny-molformer/snapshots");
    assert_eq!(std::fs::read_dir(&snap).unwrap().count(), 1);
    assert!(cache.join("models--ibm--tiny-molformer/refs/main").exists());

    // Embeddings from the Hub id and from the imported copy are identical.
    let e_hub = tmp.path().join("hub.csv");
    let e_dir = tmp.path().join("dir.csv");
    ok(&chemlm(
        &[
            "embed",
            "--model",
            "hf:ibm/tiny-molformer",
            "-i",
            &s(&smiles),
            "-o",
            &s(&e_hub),
        ],
        &hub.endpoint(),
        &cache,
        false,
    ));
    ok(&chemlm(
        &[
            "embed",
            "--model",
            &s(&out),
            "-i",
            &s(&smiles),
            "-o",
            &s(&e_dir),
        ],
        &hub.endpoint(),
        &cache,
        false,
    ));
    let a = std::fs::read_to_string(&e_hub).unwrap();
    assert_eq!(a.lines().count(), 3);
    assert_eq!(a, std::fs::read_to_string(&e_dir).unwrap());

    // Offline, with the Hub gone: the cache serves the model and nothing is requested.
    hub.clear_log();
    let e_off = tmp.path().join("off.csv");
    ok(&chemlm(
        &[
            "embed",
            "--model",
            "hf:ibm/tiny-molformer",
            "-i",
            &s(&smiles),
            "-o",
            &s(&e_off),
        ],
        &mock::dead_endpoint(),
        &cache,
        true,
    ));
    assert_eq!(a, std::fs::read_to_string(&e_off).unwrap());
    assert!(hub.requests().is_empty());

    // A repository that does not exist: non-zero exit naming it; nothing written.
    let o = chemlm(
        &[
            "model",
            "import",
            "hf:ibm/nope",
            "--out",
            &s(&tmp.path().join("x")),
        ],
        &hub.endpoint(),
        &cache,
        false,
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ibm/nope"), "{err}");
    assert!(!tmp.path().join("x").exists());
    // Importing over an existing directory is refused.
    let o = chemlm(
        &[
            "model",
            "import",
            "hf:ibm/tiny-molformer",
            "--out",
            &s(&out),
        ],
        &hub.endpoint(),
        &cache,
        false,
    );
    assert!(!o.status.success());
}

/// The GT4SD golden checkpoint (tests/golden/gt4sd-layout: transformers 4's pytorch_model.bin,
/// T5-layout tokenizer.json) served as a Text+Chem T5 repository, and the same weights as a
/// MolT5-style repository that ships only `spiece.model` (slow `T5Tokenizer`): `chemlm seq2seq
/// --model hf:…` prints transformers' greedy outputs for both, `model import` writes a plain
/// directory (with a converted tokenizer.json) that prints them too, offline.
#[test]
fn hub_t5_checkpoints_with_tokenizer_json_or_only_spiece_model_translate_as_transformers() {
    let golden = root().join("crates/chemlm/tests/golden/gt4sd-layout");
    let spiece = root().join("crates/chemlm-data/tests/golden/t5-tokenizer/spiece.model");
    let weights = [
        file(golden.join("config.json"), "config.json", false),
        file(golden.join("pytorch_model.bin"), "pytorch_model.bin", true),
    ];
    let mut gt4sd = weights.to_vec();
    gt4sd.push(file(golden.join("tokenizer.json"), "tokenizer.json", false));
    gt4sd.push(file(
        golden.join("special_tokens_map.json"),
        "special_tokens_map.json",
        false,
    ));
    gt4sd.push(file(spiece.clone(), "spiece.model", true));
    let mut molt5 = weights.to_vec();
    molt5.push(file(spiece, "spiece.model", true));
    molt5.push(MockFile::new(
        "tokenizer_config.json",
        br#"{"model_max_length": 512, "extra_ids": 100, "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}"#,
        false,
    ));
    let hub = MockHub::start(vec![
        MockRepo::new("GT4SD/tiny-multitask-text-and-chemistry-t5", gt4sd),
        MockRepo::new("laituan245/tiny-molt5", molt5),
    ]);

    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("expected.json")).unwrap())
            .unwrap();
    let cases = expected.as_array().unwrap();
    let input = tmp.path().join("in.txt");
    let inputs: Vec<&str> = cases.iter().map(|c| c["input"].as_str().unwrap()).collect();
    std::fs::write(&input, inputs.join("\n") + "\n").unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let translate = |model: &str, endpoint: &str, offline: bool, tag: &str| {
        let out = tmp.path().join(format!("{tag}.txt"));
        ok(&chemlm(
            &[
                "seq2seq",
                "--model",
                model,
                "--task",
                "forward",
                "--max-length",
                "12",
                "-i",
                &s(&input),
                "-o",
                &s(&out),
            ],
            endpoint,
            &cache,
            offline,
        ));
        let got = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<String> = got.lines().map(str::to_string).collect();
        assert_eq!(lines.len(), cases.len(), "{tag}");
        for (line, c) in lines.iter().zip(cases) {
            assert_eq!(
                line,
                c["text"].as_str().unwrap(),
                "{tag}: input {}",
                c["input"]
            );
        }
    };
    for (i, id) in [
        "GT4SD/tiny-multitask-text-and-chemistry-t5",
        "laituan245/tiny-molt5",
    ]
    .iter()
    .enumerate()
    {
        let hf = format!("hf:{id}");
        translate(&hf, &hub.endpoint(), false, &format!("hub{i}"));
        let imported = tmp.path().join(format!("imported{i}"));
        ok(&chemlm(
            &["model", "import", &hf, "--out", &s(&imported)],
            &hub.endpoint(),
            &cache,
            false,
        ));
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            assert!(imported.join(f).exists(), "{id}: {f} missing");
        }
        // The converted tokenizer.json is the one GT4SD ships (same model, normaliser, specials;
        // the splitting is written in `tokenizers`' current field names, and checked by the
        // translations below).
        let shipped: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(golden.join("tokenizer.json")).unwrap())
                .unwrap();
        let written: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(imported.join("tokenizer.json")).unwrap(),
        )
        .unwrap();
        for k in ["model", "normalizer", "post_processor"] {
            assert_eq!(written[k], shipped[k], "{id}: tokenizer.json {k}");
        }
        hub.clear_log();
        translate(
            &s(&imported),
            &mock::dead_endpoint(),
            true,
            &format!("imported{i}"),
        );
        translate(&hf, &mock::dead_endpoint(), true, &format!("offline{i}"));
        assert!(hub.requests().is_empty());
    }
}
