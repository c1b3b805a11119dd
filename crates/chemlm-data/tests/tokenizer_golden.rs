//! Our tokenizers against the references, through golden files made by
//! `scripts/gen_data_golden.py`: MoLFormer's regex as Python's `re` applies it, `selfies.split_selfies`,
//! and Hugging Face `tokenizers` loading our `tokenizer.json`.

use std::path::{Path, PathBuf};

use chemlm_data::tokenizer::{detokenize, Tokenizer, TokenizerKind, VocabConfig};
use serde_json::Value;

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check(kind: TokenizerKind) {
    let k = kind.to_string();
    let corpus = std::fs::read_to_string(golden(&format!("tok_{k}_corpus.txt"))).unwrap();
    let lines: Vec<&str> = corpus.lines().collect();

    // The committed tokenizer.json is exactly what we build from the corpus (min_freq 2), so the
    // Hugging Face ids below were computed on our current output format.
    let built = Tokenizer::build(
        kind,
        lines.iter().copied(),
        &VocabConfig {
            min_freq: 2,
            max_size: None,
        },
    )
    .unwrap();
    let path = golden(&format!("tok_{k}.tokenizer.json"));
    let committed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        built.to_hf_json(),
        committed,
        "tokenizer.json writer changed; rerun the script"
    );
    let tok = Tokenizer::load(&path).unwrap();
    assert_eq!(tok, built);

    let refs = std::fs::read_to_string(golden(&format!("tok_{k}_ref.jsonl"))).unwrap();
    let mut n = 0;
    let mut unk = 0;
    for (line, row) in refs.lines().enumerate() {
        let row: Value = serde_json::from_str(row).unwrap();
        let text = row["text"].as_str().unwrap();
        assert_eq!(text, lines[line]);
        let want_tokens: Vec<&str> = row["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let ours = tok.tokenize(text).unwrap();
        assert_eq!(ours, want_tokens, "tokens of {text}");
        assert_eq!(detokenize(&ours), text);
        let want_ids: Vec<u32> = row["hf_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let ids = tok.encode(text, true).unwrap();
        assert_eq!(ids, want_ids, "ids of {text}");
        assert_eq!(
            tok.decode(&ids, true).unwrap(),
            row["hf_decoded"].as_str().unwrap()
        );
        unk += ids.iter().filter(|&&i| i == tok.special_ids().unk).count();
        n += 1;
    }
    assert_eq!(n, lines.len());
    // The sample has rare tokens on purpose: `<unk>` handling is part of what is compared.
    assert!(unk > 0, "no <unk> in the {k} sample");
}

#[test]
fn smiles_matches_molformer_regex_and_hf_tokenizers() {
    check(TokenizerKind::Smiles);
}

#[test]
fn selfies_matches_selfies_package_and_hf_tokenizers() {
    check(TokenizerKind::Selfies);
}
