//! SentencePiece model files (`spiece.model`) as T5 tokenizers.
//!
//! Checkpoints saved with the slow `T5Tokenizer` (MolT5-era repositories among them) may ship
//! only `spiece.model`; transformers then builds the fast tokenizer with its `T5Converter`. This
//! module does the same conversion from the protobuf file itself ([`t5_tokenizer_json`]): the
//! pieces and scores become a Unigram model, the normaliser's precompiled character map a
//! `Precompiled` normaliser, `WhitespaceSplit` + `Metaspace` split the text as SentencePiece
//! does (a dummy `▁` before each word when the model's `add_dummy_prefix` is set), `</s>` is
//! appended, and T5's `<extra_id_*>` tokens follow the pieces in T5's reversed order. The result is
//! the `tokenizer.json` layout that t5-small and the GT4SD checkpoints ship (transformers 4.x), so
//! it encodes exactly as they do (golden test: `tests/seq2seq_tokenizer.rs`).
//!
//! Only Unigram models are accepted (T5's kind); BPE, word and character SentencePiece models
//! are refused with the reason.

use std::path::Path;

use base64::Engine;
use prost::Message;
use serde_json::{json, Value};

use crate::error::DataError;

/// T5's default number of sentinel tokens (`extra_ids` of `T5Tokenizer`).
pub const T5_EXTRA_IDS: usize = 100;

/// SentencePiece's `ModelProto`, only the fields a tokenizer needs (field numbers of
/// `sentencepiece_model.proto`; other fields are skipped).
#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(message, repeated, tag = "1")]
    pieces: Vec<Piece>,
    #[prost(message, optional, tag = "2")]
    trainer_spec: Option<TrainerSpec>,
    #[prost(message, optional, tag = "3")]
    normalizer_spec: Option<NormalizerSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct Piece {
    #[prost(string, optional, tag = "1")]
    piece: Option<String>,
    #[prost(float, optional, tag = "2")]
    score: Option<f32>,
    /// NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6.
    #[prost(int32, optional, tag = "3")]
    kind: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct TrainerSpec {
    /// UNIGRAM = 1 (the default), BPE = 2, WORD = 3, CHAR = 4.
    #[prost(int32, optional, tag = "3")]
    model_type: Option<i32>,
    #[prost(bool, optional, tag = "35")]
    byte_fallback: Option<bool>,
    #[prost(int32, optional, tag = "40")]
    unk_id: Option<i32>,
    #[prost(int32, optional, tag = "42")]
    eos_id: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct NormalizerSpec {
    #[prost(bytes = "vec", optional, tag = "2")]
    precompiled_charsmap: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "3")]
    add_dummy_prefix: Option<bool>,
}

const UNKNOWN: i32 = 2;
const CONTROL: i32 = 3;
const USER_DEFINED: i32 = 4;

/// The `tokenizer.json` text of a T5 tokenizer built from the bytes of a SentencePiece model
/// file, with `extra_ids` sentinels appended (T5: 100). `origin` names the file in errors.
pub fn t5_tokenizer_json(
    bytes: &[u8],
    origin: &Path,
    extra_ids: usize,
) -> Result<String, DataError> {
    let bad = |reason: String| DataError::format(origin, reason);
    let model = ModelProto::decode(bytes)
        .map_err(|e| bad(format!("not a SentencePiece model file: {e}")))?;
    if model.pieces.is_empty() {
        return Err(bad("the SentencePiece model has no pieces".into()));
    }
    let trainer = model.trainer_spec.unwrap_or_default();
    match trainer.model_type.unwrap_or(1) {
        1 => {}
        2 => {
            return Err(bad(
                "a BPE SentencePiece model; only Unigram (T5's) is supported".into(),
            ))
        }
        t => {
            return Err(bad(format!(
                "SentencePiece model type {t}; only Unigram (T5's) is supported"
            )))
        }
    }
    let norm = model.normalizer_spec.unwrap_or_default();
    let id_of = |what: &str, id: Option<i32>, default: i32| -> Result<usize, DataError> {
        let id = id.unwrap_or(default);
        usize::try_from(id)
            .ok()
            .filter(|&i| i < model.pieces.len())
            .ok_or_else(|| bad(format!("{what} id {id} is not a piece of the model")))
    };
    // SentencePiece's defaults: unk 0, eos 2 (T5 sets unk 2, eos 1).
    let unk_id = id_of("unknown", trainer.unk_id, 0)?;
    let eos_id = id_of("end-of-sequence", trainer.eos_id, 2)?;

    let mut vocab = Vec::with_capacity(model.pieces.len() + extra_ids);
    let mut added = Vec::new();
    for (i, p) in model.pieces.iter().enumerate() {
        let piece = p
            .piece
            .clone()
            .ok_or_else(|| bad(format!("piece {i} has no text")))?;
        let kind = p.kind.unwrap_or(1);
        if kind == UNKNOWN || kind == CONTROL || kind == USER_DEFINED {
            added.push(added_token(i, &piece, kind != USER_DEFINED));
        }
        vocab.push(json!([piece, p.score.unwrap_or(0.0)]));
    }
    // T5Tokenizer appends <extra_id_{n-1}> … <extra_id_0>, each a special token scored 0.
    for j in (0..extra_ids).rev() {
        let piece = format!("<extra_id_{j}>");
        added.push(added_token(vocab.len(), &piece, true));
        vocab.push(json!([piece, 0.0]));
    }
    let eos = model.pieces[eos_id].piece.clone().unwrap_or_default();
    let charsmap = norm.precompiled_charsmap.unwrap_or_default();
    let normalizer = if charsmap.is_empty() {
        Value::Null
    } else {
        json!({
            "type": "Precompiled",
            "precompiled_charsmap": base64::engine::general_purpose::STANDARD.encode(&charsmap),
        })
    };
    let metaspace = json!({
        "type": "Metaspace",
        "replacement": "\u{2581}",
        "add_prefix_space": norm.add_dummy_prefix.unwrap_or(true),
    });
    let special = |seq: &str| json!({"Sequence": {"id": seq, "type_id": 0}});
    let eos_tok = json!({"SpecialToken": {"id": eos, "type_id": 0}});
    let tokenizer = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace.clone()],
        },
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("A"), eos_tok.clone()],
            "pair": [special("A"), eos_tok.clone(), special("B"), eos_tok],
            "special_tokens": {eos.clone(): {"id": eos, "ids": [eos_id], "tokens": [eos]}},
        },
        "decoder": metaspace,
        "model": {
            "type": "Unigram",
            "unk_id": unk_id,
            "vocab": vocab,
            "byte_fallback": trainer.byte_fallback.unwrap_or(false),
        },
    });
    serde_json::to_string(&tokenizer).map_err(|e| bad(e.to_string()))
}

/// An `added_tokens` entry as Hugging Face writes it for SentencePiece control pieces.
fn added_token(id: usize, content: &str, special: bool) -> Value {
    json!({
        "id": id,
        "content": content,
        "single_word": false,
        "lstrip": false,
        "rstrip": false,
        "normalized": false,
        "special": special,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(text: &str, score: f32, kind: i32) -> Piece {
        Piece {
            piece: Some(text.into()),
            score: Some(score),
            kind: Some(kind),
        }
    }

    #[test]
    fn damaged_and_unsupported_models_are_refused_with_the_reason() {
        let origin = Path::new("spiece.model");
        let err = t5_tokenizer_json(b"\xff\xff\xff", origin, 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("spiece.model") && err.contains("not a SentencePiece"),
            "{err}"
        );
        let empty = ModelProto::default().encode_to_vec();
        let err = t5_tokenizer_json(&empty, origin, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no pieces"), "{err}");
        let pieces = vec![piece("<unk>", 0.0, UNKNOWN), piece("a", -1.0, 1)];
        let bpe = ModelProto {
            pieces: pieces.clone(),
            trainer_spec: Some(TrainerSpec {
                model_type: Some(2),
                ..Default::default()
            }),
            normalizer_spec: None,
        };
        let err = t5_tokenizer_json(&bpe.encode_to_vec(), origin, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("BPE"), "{err}");
        // SentencePiece's default eos id (2) is past the two pieces.
        let short = ModelProto {
            pieces,
            trainer_spec: None,
            normalizer_spec: None,
        };
        let err = t5_tokenizer_json(&short.encode_to_vec(), origin, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("end-of-sequence id 2"), "{err}");
    }
}
