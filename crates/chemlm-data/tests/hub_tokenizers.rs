//! Tokenizers in the layouts published checkpoints ship (ChemBERTa's byte-level BPE, fast and
//! slow; a ChemGPT-style SELFIES word-level `tokenizer.json`; MoLFormer-XL's bare `vocab.json`)
//! load with `Tokenizer::load_dir` and give the ids Python gives. Golden files:
//! `scripts/gen_hub_tokenizer_golden.py` (cross-checked there against transformers' AutoTokenizer).

use std::path::PathBuf;

use chemlm_data::tokenizer::{Tokenizer, TokenizerKind};
use serde_json::Value;

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hub-tokenizers")
}

fn cases() -> Value {
    serde_json::from_str(&std::fs::read_to_string(golden().join("cases.json")).unwrap()).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn check(name: &str) -> Tokenizer {
    let tok = Tokenizer::load_dir(&golden().join(name)).unwrap();
    let all = cases();
    let list = all[name].as_array().unwrap();
    assert!(list.len() >= 5);
    for c in list {
        let text = c["text"].as_str().unwrap();
        assert_eq!(
            tok.encode(text, true).unwrap(),
            ids(&c["ids"]),
            "{name}: {text}"
        );
        assert_eq!(
            tok.encode(text, false).unwrap(),
            ids(&c["ids_plain"]),
            "{name}: {text}"
        );
        let decoded = tok.decode(&ids(&c["ids"]), true).unwrap();
        assert_eq!(decoded, c["decoded"].as_str().unwrap(), "{name}: {text}");
        // The pieces cover the text in order (offsets into the input).
        let pieces = tok.tokenize(text).unwrap();
        assert_eq!(pieces.len(), ids(&c["ids_plain"]).len(), "{name}: {text}");
    }
    tok
}

#[test]
fn chemberta_style_bpe_fast_and_slow() {
    for name in ["roberta-fast", "roberta-slow"] {
        let tok = check(name);
        assert!(tok.is_foreign());
        assert_eq!(tok.kind(), TokenizerKind::Smiles);
        let v = tok.vocab();
        let sp = tok.special_ids();
        assert_eq!(
            [sp.bos, sp.eos, sp.pad, sp.mask, sp.unk].map(|i| v.token(i).unwrap().to_string()),
            ["<s>", "</s>", "<pad>", "<mask>", "<unk>"].map(String::from),
            "{name}"
        );
    }
}

#[test]
fn chemgpt_style_selfies_word_level() {
    let tok = check("selfies-word");
    assert_eq!(tok.kind(), TokenizerKind::Selfies);
    let v = tok.vocab();
    let sp = tok.special_ids();
    assert_eq!(v.token(sp.bos), Some("[CLS]"));
    assert_eq!(v.token(sp.eos), Some("[SEP]"));
    assert_eq!(v.token(sp.pad), Some("[PAD]"));
    assert_eq!(v.token(sp.unk), Some("[UNK]"));
    // Saved and read back, the tokenizer is the same (a model directory written by chemlm keeps
    // the published tokenizer as it was).
    let dir = tempfile::tempdir().unwrap();
    for f in ["tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(golden().join("selfies-word").join(f), dir.path().join(f)).unwrap();
    }
    tok.save(&dir.path().join("tokenizer.json")).unwrap();
    let back = Tokenizer::load_dir(dir.path()).unwrap();
    assert_eq!(back, tok);
}

#[test]
fn molformer_vocab_without_unk_maps_unknown_to_pad() {
    let tok = check("molformer-vocab");
    assert!(!tok.is_foreign());
    let sp = tok.special_ids();
    assert_eq!(sp.unk, sp.pad);
    assert_eq!(tok.vocab().token(sp.bos), Some("<bos>"));
}

#[test]
fn a_directory_without_a_tokenizer_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Tokenizer::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no tokenizer in"), "{err}");
    std::fs::write(dir.path().join("tokenizer.json"), "{\"model\": 3}").unwrap();
    let err = Tokenizer::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("tokenizer.json"), "{err}");
}
