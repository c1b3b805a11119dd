//! T5 SentencePiece tokenizer against Hugging Face `tokenizers` (golden files made by
//! scripts/gen_t5_tokenizer_golden.py), and the escape that repairs its lost characters.

use std::path::{Path, PathBuf};

use chemlm_data::tokenizer::escape::{coverage, CharEscape};
use chemlm_data::tokenizer::sentencepiece::Seq2SeqTokenizer;
use serde_json::Value;

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/t5-tokenizer")
}

fn lines() -> Vec<String> {
    std::fs::read_to_string(golden().join("lines.txt"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<String>(l).unwrap())
        .collect()
}

fn expected() -> Vec<Value> {
    std::fs::read_to_string(golden().join("expected.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The tokenizer.json layout transformers 5 writes, built from the committed (transformers 4 / GT4SD
/// layout) file and modern_parts.json.
fn modern_json() -> String {
    let mut tok: Value =
        serde_json::from_str(&std::fs::read_to_string(golden().join("tokenizer.json")).unwrap())
            .unwrap();
    let mut parts: Value =
        serde_json::from_str(&std::fs::read_to_string(golden().join("modern_parts.json")).unwrap())
            .unwrap();
    let charsmap = tok["normalizer"]["precompiled_charsmap"].clone();
    for n in parts["normalizer"]["normalizers"].as_array_mut().unwrap() {
        if n["type"] == "Precompiled" {
            n["precompiled_charsmap"] = charsmap.clone();
        }
    }
    for k in ["normalizer", "pre_tokenizer", "decoder"] {
        tok[k] = parts[k].clone();
    }
    tok.to_string()
}

fn check(tok: &Seq2SeqTokenizer, layout: &str) {
    let lines = lines();
    let exp = expected();
    assert_eq!(lines.len(), exp.len());
    assert!(lines.len() >= 200);
    let batch = tok.encode_batch(&lines).unwrap();
    for (i, (s, e)) in lines.iter().zip(&exp).enumerate() {
        let e = &e[layout];
        let want: Vec<u32> = e["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let ids = tok.encode(s).unwrap();
        assert_eq!(ids, want, "{layout} line {}: {s:?}", i + 1);
        assert_eq!(batch[i], want);
        assert_eq!(
            tok.decode(&ids, true).unwrap(),
            e["decode_skip"].as_str().unwrap(),
            "{layout} line {}",
            i + 1
        );
        assert_eq!(
            tok.decode(&ids, false).unwrap(),
            e["decode_all"].as_str().unwrap(),
            "{layout} line {}",
            i + 1
        );
    }
}

#[test]
fn gt4sd_layout_ids_and_decodes_equal_hf_tokenizers() {
    let tok = Seq2SeqTokenizer::from_file(&golden().join("tokenizer.json")).unwrap();
    assert_eq!(
        (tok.pad_id(), tok.eos_id(), tok.unk_id()),
        (0, 1, 2),
        "T5 special ids"
    );
    assert_eq!(
        tok.token_to_id("<extra_id_0>"),
        Some(tok.vocab_size() as u32 - 1)
    );
    check(&tok, "legacy");
}

/// A checkpoint that ships only `spiece.model` (slow `T5Tokenizer`): the tokenizer built from the
/// SentencePiece file is the one transformers converts it to — the same vocabulary, scores,
/// character map and specials as the committed tokenizer.json, and the same ids and decodes.
#[test]
fn spiece_model_alone_converts_to_the_shipped_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        golden().join("spiece.model"),
        dir.path().join("spiece.model"),
    )
    .unwrap();
    let tok = Seq2SeqTokenizer::from_dir(dir.path()).unwrap();
    let shipped = Seq2SeqTokenizer::from_file(&golden().join("tokenizer.json")).unwrap();
    assert_eq!(tok.vocab_size(), shipped.vocab_size());
    assert_eq!(tok.specials(), shipped.specials());
    let ours: Value = serde_json::from_str(&tok.to_json().unwrap()).unwrap();
    let theirs: Value = serde_json::from_str(&shipped.to_json().unwrap()).unwrap();
    for k in [
        "model",
        "normalizer",
        "pre_tokenizer",
        "post_processor",
        "decoder",
        "added_tokens",
    ] {
        assert_eq!(ours[k], theirs[k], "{k}");
    }
    check(&tok, "legacy");
    // tokenizer_config.json's extra_ids sets the sentinel count; tokenizer.json wins when present.
    std::fs::write(
        dir.path().join("tokenizer_config.json"),
        r#"{"extra_ids": 3}"#,
    )
    .unwrap();
    let three = Seq2SeqTokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(three.vocab_size(), shipped.vocab_size() - 97);
    assert_eq!(
        three.token_to_id("<extra_id_0>"),
        Some(three.vocab_size() as u32 - 1)
    );
    std::fs::copy(
        golden().join("tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .unwrap();
    assert_eq!(
        Seq2SeqTokenizer::from_dir(dir.path()).unwrap().vocab_size(),
        shipped.vocab_size()
    );
    // Neither file: the error names both.
    let empty = tempfile::tempdir().unwrap();
    let err = Seq2SeqTokenizer::from_dir(empty.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains("spiece.model"),
        "{err}"
    );
}

#[test]
fn transformers5_layout_ids_and_decodes_equal_hf_tokenizers() {
    let tok = Seq2SeqTokenizer::from_json_str(&modern_json(), Path::new("modern")).unwrap();
    check(&tok, "modern");
}

#[test]
fn lost_characters_are_reported_and_the_escape_repairs_them() {
    let tok = Seq2SeqTokenizer::from_file(&golden().join("tokenizer.json")).unwrap();
    let lines = lines();
    let report = coverage(&tok, &lines).unwrap();
    // The vocabulary was trained without these (as the stock T5 one).
    for c in ['\\', '{', '}', '~', '<', 'µ', '²'] {
        assert!(report.lost_chars.contains_key(&c), "{c:?} not reported");
    }
    assert!(report.whitespace_altered);
    assert!(report.failing_texts > 0);
    for c in ['C', '(', '=', '[', '@', '/'] {
        assert!(
            !report.lost_chars.contains_key(&c),
            "{c:?} wrongly reported"
        );
    }
    let esc = CharEscape::for_tokenizer(&tok, &lines).unwrap().unwrap();
    let fixed = tok.clone().with_escape(Some(esc.clone()));
    let failures = fixed.round_trip_failures(&lines).unwrap();
    let bad: Vec<&String> = failures.iter().map(|&i| &lines[i]).collect();
    assert!(bad.is_empty(), "still lost after escaping: {bad:?}");
    // The stereo bond comes back, and the escaped ids hold no <unk>.
    let ids = fixed.encode("C/C=C\\C").unwrap();
    assert!(!ids.contains(&fixed.unk_id()));
    assert_eq!(fixed.decode(&ids, true).unwrap(), "C/C=C\\C");
    // Without the escape, GT4SD's fallback maps <unk> back to a backslash.
    let plain = tok.encode("C/C=C\\C").unwrap();
    assert_eq!(tok.decode_unk_as(&plain, "\\").unwrap(), "C/C=C\\C");
    // The escape saves and loads as JSON.
    let back: CharEscape = serde_json::from_str(&serde_json::to_string(&esc).unwrap()).unwrap();
    assert_eq!(back, esc);
}
