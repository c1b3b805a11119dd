//! Hugging Face `tokenizers` serialization (`tokenizer.json`, format version 1.0).
//!
//! We write the same structure `tokenizers` 0.2x writes for a `WordLevel` model with a regex
//! `Split` pre-tokenizer, so `Tokenizer.from_file("tokenizer.json")` in Python reproduces our ids
//! (checked by a golden test). Fields are written in the library's order and the vocabulary in id
//! order, so the file diffs cleanly.

use std::path::Path;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

use super::{Tokenizer, TokenizerKind, Vocab};
use crate::error::DataError;

#[derive(Serialize)]
struct HfTokenizer<'a> {
    version: &'static str,
    truncation: Option<()>,
    padding: Option<()>,
    added_tokens: Vec<AddedToken<'a>>,
    normalizer: Option<()>,
    pre_tokenizer: PreTokenizer,
    post_processor: PostProcessor<'a>,
    decoder: TypeOnly,
    model: Model<'a>,
}

#[derive(Serialize)]
struct AddedToken<'a> {
    id: u32,
    content: &'a str,
    single_word: bool,
    lstrip: bool,
    rstrip: bool,
    normalized: bool,
    special: bool,
}

#[derive(Serialize)]
struct PreTokenizer {
    #[serde(rename = "type")]
    kind: &'static str,
    pattern: Pattern,
    behavior: &'static str,
    invert: bool,
}

#[derive(Serialize)]
struct Pattern {
    #[serde(rename = "Regex")]
    regex: &'static str,
}

#[derive(Serialize)]
struct TypeOnly {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct PostProcessor<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    single: Vec<Piece<'a>>,
    pair: Vec<Piece<'a>>,
    special_tokens: SpecialMap<'a>,
}

#[derive(Serialize)]
enum Piece<'a> {
    SpecialToken { id: &'a str, type_id: u32 },
    Sequence { id: &'static str, type_id: u32 },
}

struct SpecialMap<'a>(Vec<(&'a str, u32)>);

impl Serialize for SpecialMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry<'b> {
            id: &'b str,
            ids: [u32; 1],
            tokens: [&'b str; 1],
        }
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for &(t, id) in &self.0 {
            m.serialize_entry(
                t,
                &Entry {
                    id: t,
                    ids: [id],
                    tokens: [t],
                },
            )?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct Model<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    vocab: VocabMap<'a>,
    unk_token: &'a str,
}

/// The vocabulary as a JSON object in id order.
struct VocabMap<'a>(&'a Vocab);

impl Serialize for VocabMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (i, t) in self.0.tokens().iter().enumerate() {
            m.serialize_entry(t, &(i as u32))?;
        }
        m.end()
    }
}

pub(super) fn to_json(tok: &Tokenizer) -> String {
    let v = tok.vocab();
    let sp = v.special_ids();
    let name = |id: u32| v.token(id).unwrap_or_default();
    let mut specials: Vec<u32> = vec![sp.bos, sp.eos, sp.pad, sp.mask, sp.unk];
    specials.sort_unstable();
    let (bos, eos) = (name(sp.bos), name(sp.eos));
    let doc = HfTokenizer {
        version: "1.0",
        truncation: None,
        padding: None,
        added_tokens: specials
            .iter()
            .map(|&id| AddedToken {
                id,
                content: name(id),
                single_word: false,
                lstrip: false,
                rstrip: false,
                normalized: false,
                special: true,
            })
            .collect(),
        normalizer: None,
        pre_tokenizer: PreTokenizer {
            kind: "Split",
            pattern: Pattern {
                regex: tok.kind().pattern(),
            },
            behavior: "Isolated",
            invert: false,
        },
        post_processor: PostProcessor {
            kind: "TemplateProcessing",
            single: vec![
                Piece::SpecialToken {
                    id: bos,
                    type_id: 0,
                },
                Piece::Sequence {
                    id: "A",
                    type_id: 0,
                },
                Piece::SpecialToken {
                    id: eos,
                    type_id: 0,
                },
            ],
            pair: vec![
                Piece::SpecialToken {
                    id: bos,
                    type_id: 0,
                },
                Piece::Sequence {
                    id: "A",
                    type_id: 0,
                },
                Piece::SpecialToken {
                    id: eos,
                    type_id: 0,
                },
                Piece::Sequence {
                    id: "B",
                    type_id: 1,
                },
                Piece::SpecialToken {
                    id: eos,
                    type_id: 1,
                },
            ],
            special_tokens: SpecialMap(vec![(bos, sp.bos), (eos, sp.eos)]),
        },
        decoder: TypeOnly { kind: "Fuse" },
        model: Model {
            kind: "WordLevel",
            vocab: VocabMap(v),
            unk_token: name(sp.unk),
        },
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

pub(super) fn from_json(text: &str, origin: &Path) -> Result<Tokenizer, DataError> {
    let bad = |reason: String| DataError::format(origin, reason);
    let doc: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let model = doc.get("model").ok_or_else(|| bad("no \"model\"".into()))?;
    let model_type = model.get("type").and_then(Value::as_str);
    if model_type != Some("WordLevel") {
        return Err(bad(format!(
            "model type {model_type:?} is not supported (WordLevel only)"
        )));
    }
    let pre = doc.get("pre_tokenizer").unwrap_or(&Value::Null);
    let pattern = match (
        pre.get("type").and_then(Value::as_str),
        pre.pointer("/pattern/Regex"),
    ) {
        (Some("Split"), Some(Value::String(p))) => p.as_str(),
        _ => {
            return Err(bad(
                "pre_tokenizer must be a Split with a Regex pattern".into()
            ))
        }
    };
    let kind = [TokenizerKind::Smiles, TokenizerKind::Selfies]
        .into_iter()
        .find(|k| k.pattern() == pattern)
        .ok_or_else(|| bad(format!("unknown pre-tokenizer pattern {pattern:?}")))?;
    let vocab = model
        .get("vocab")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("model.vocab is not an object".into()))?;
    let mut tokens: Vec<Option<String>> = vec![None; vocab.len()];
    for (t, id) in vocab {
        let id = id
            .as_u64()
            .filter(|&i| (i as usize) < tokens.len())
            .ok_or_else(|| {
                bad(format!(
                    "token {t:?} has id {id}, not in 0..{}",
                    tokens.len()
                ))
            })?;
        if tokens[id as usize].replace(t.clone()).is_some() {
            return Err(bad(format!("id {id} is used twice")));
        }
    }
    let tokens: Vec<String> = tokens.into_iter().map(Option::unwrap_or_default).collect();
    // Special roles: the model's `unk_token`, then what the files beside it declare, then the
    // usual names (ours, for every vocabulary chemlm builds; MoLFormer-XL's has no `<unk>`).
    let mut declared = match origin.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => super::foreign::declared_specials(dir)?,
        _ => Default::default(),
    };
    if let Some(unk) = model.get("unk_token").and_then(Value::as_str) {
        declared.insert("unk_token".into(), unk.to_owned());
    }
    let names = super::foreign::assign_roles(&tokens, &declared, origin)?;
    let vocab = Vocab::from_tokens_with(tokens, &names).map_err(|e| bad(e.to_string()))?;
    if let Some(added) = doc.get("added_tokens").and_then(Value::as_array) {
        for a in added {
            let (id, content) = (
                a.get("id").and_then(Value::as_u64),
                a.get("content").and_then(Value::as_str),
            );
            match (id, content) {
                (Some(id), Some(c)) if vocab.id(c) == Some(id as u32) => {}
                _ => {
                    return Err(bad(format!(
                        "added token {a} does not match the vocabulary"
                    )))
                }
            }
        }
    }
    Ok(Tokenizer::new(kind, vocab))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::VocabConfig;

    #[test]
    fn json_round_trip() {
        for (kind, corpus) in [
            (
                TokenizerKind::Smiles,
                vec!["CC(=O)O", r"F/C=C\Br", "[NH4+].[Cl-]"],
            ),
            (
                TokenizerKind::Selfies,
                vec!["[C][C][=Branch1][C][=O][O]", "[N+1].[Cl-1]"],
            ),
        ] {
            let t = Tokenizer::build(kind, corpus, &VocabConfig::default()).unwrap();
            let json = t.to_hf_json();
            let back = Tokenizer::from_hf_json(&json, Path::new("t.json")).unwrap();
            assert_eq!(back, t);
            assert_eq!(back.kind(), kind);
            assert_eq!(back.to_hf_json(), json);
        }
    }

    #[test]
    fn rejects_foreign_files() {
        let p = Path::new("x.json");
        assert!(Tokenizer::from_hf_json("{}", p).is_err());
        assert!(Tokenizer::from_hf_json(r#"{"model":{"type":"BPE"}}"#, p).is_err());
        let t = Tokenizer::build(TokenizerKind::Smiles, ["CC"], &VocabConfig::default()).unwrap();
        let json = t.to_hf_json().replace("Br?", "Br");
        let err = Tokenizer::from_hf_json(&json, p).unwrap_err().to_string();
        assert!(err.contains("unknown pre-tokenizer pattern"), "{err}");
    }
}
