//! T5's SentencePiece Unigram tokenizer, through the Hugging Face `tokenizers` crate.
//!
//! [`Seq2SeqTokenizer`] loads any `tokenizer.json` that Hugging Face writes for T5 (the stock
//! `t5-small` / `t5-base` files and the GT4SD `multitask-text-and-chemistry-t5-*` checkpoints:
//! `Precompiled` normaliser, `WhitespaceSplit` + `Metaspace` pre-tokenizer, a `TemplateProcessing`
//! post-processor that appends `</s>`) and encodes and decodes exactly as Python `tokenizers` does
//! (golden test: `tests/seq2seq_tokenizer.rs`). `<pad>`, `</s>` and `<unk>` ids are read from the file.
//!
//! [`train_unigram`] trains a new Unigram vocabulary for from-scratch models in T5's layout
//! (`<pad>`=0, `</s>`=1, `<unk>`=2, then the pieces, then `<extra_id_{n-1}> … <extra_id_0>` as T5
//! orders them), designed so that `decode(encode(x)) == x` for every text it was trained on:
//!
//! - no normaliser: NFKC (T5's `nmt_nfkc`) rewrites `µ`, `²`, ligatures and full-width forms, and T5
//!   collapses runs of spaces; we keep every character as it is;
//! - `Metaspace` with `prepend_scheme: never` for both the pre-tokenizer and the decoder: a space
//!   becomes `▁` and back, so leading, trailing and repeated spaces survive (T5's `always` adds a
//!   dummy `▁` that decoding strips, which loses a leading space);
//! - character coverage 1.0: every character of the corpus is a piece (the trainer's required
//!   characters), so nothing in the training data becomes `<unk>`.
//!
//! What still cannot survive is reported, not hidden: [`Seq2SeqTokenizer::round_trip_failures`] lists
//! the texts that do not come back, and [`CharEscape`](super::escape::CharEscape) repairs a loaded
//! vocabulary that lacks characters.

use std::path::Path;

use rayon::prelude::*;
use serde_json::{json, Value};
use tokenizers::models::unigram::{Unigram, UnigramTrainer};
use tokenizers::AddedToken;

use super::escape::CharEscape;
use crate::error::{DataError, TokenizeError};

/// T5's special tokens.
pub const PAD: &str = "<pad>";
/// End of sequence, appended to every encoded text.
pub const EOS: &str = "</s>";
/// Unknown piece.
pub const UNK: &str = "<unk>";
/// The Metaspace replacement character (U+2581).
pub const METASPACE: char = '\u{2581}';

/// Ids of T5's special tokens in a loaded vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct T5Specials {
    pub pad: u32,
    pub eos: u32,
    pub unk: u32,
}

/// A T5 (SentencePiece Unigram) tokenizer, optionally with a reversible character escape applied
/// on input and undone on output.
#[derive(Clone)]
pub struct Seq2SeqTokenizer {
    inner: tokenizers::Tokenizer,
    specials: T5Specials,
    escape: Option<CharEscape>,
}

impl std::fmt::Debug for Seq2SeqTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seq2SeqTokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("specials", &self.specials)
            .field("escape", &self.escape)
            .finish()
    }
}

fn ext(e: impl std::fmt::Display) -> TokenizeError {
    TokenizeError::External(e.to_string())
}

impl Seq2SeqTokenizer {
    /// Reads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        Self::from_json_str(&text, path)
    }

    /// Builds the tokenizer from a SentencePiece model file with `extra_ids` T5 sentinels
    /// appended, as transformers' `T5Converter` does (see [`super::spiece`]).
    pub fn from_spiece_file(path: &Path, extra_ids: usize) -> Result<Self, DataError> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        let text = super::spiece::t5_tokenizer_json(&bytes, path, extra_ids)?;
        Self::from_json_str(&text, path)
    }

    /// A T5 model directory's tokenizer: `tokenizer.json`, or else `spiece.model` (what a
    /// checkpoint saved with the slow `T5Tokenizer` ships) with the sentinel count of its
    /// `tokenizer_config.json` (`extra_ids`, default 100).
    pub fn from_dir(dir: &Path) -> Result<Self, DataError> {
        let json = dir.join("tokenizer.json");
        if json.exists() {
            return Self::from_file(&json);
        }
        let spm = dir.join("spiece.model");
        if !spm.exists() {
            return Err(DataError::format(
                dir,
                "no tokenizer: expected tokenizer.json or spiece.model".to_string(),
            ));
        }
        let cfg_path = dir.join("tokenizer_config.json");
        let extra_ids = if cfg_path.exists() {
            let text =
                std::fs::read_to_string(&cfg_path).map_err(|e| DataError::io(&cfg_path, e))?;
            let cfg: Value = serde_json::from_str(&text)
                .map_err(|e| DataError::format(&cfg_path, format!("invalid JSON: {e}")))?;
            match &cfg["extra_ids"] {
                Value::Null => super::spiece::T5_EXTRA_IDS,
                v => v.as_u64().map(|n| n as usize).ok_or_else(|| {
                    DataError::format(&cfg_path, format!("extra_ids is not a count: {v}"))
                })?,
            }
        } else {
            super::spiece::T5_EXTRA_IDS
        };
        Self::from_spiece_file(&spm, extra_ids)
    }

    /// Parses `tokenizer.json` text; `origin` names it in errors. The vocabulary must hold `<pad>`
    /// and `</s>`; the unknown id is the model's `unk_id` (or `<unk>`).
    pub fn from_json_str(text: &str, origin: &Path) -> Result<Self, DataError> {
        let inner: tokenizers::Tokenizer = text
            .parse()
            .map_err(|e| DataError::format(origin, format!("not a tokenizer.json: {e}")))?;
        let value: Value = serde_json::from_str(text)
            .map_err(|e| DataError::format(origin, format!("invalid JSON: {e}")))?;
        let need = |t: &str| {
            inner
                .token_to_id(t)
                .ok_or_else(|| DataError::format(origin, format!("the vocabulary has no {t}")))
        };
        let unk = match value["model"]["unk_id"].as_u64() {
            Some(id) => id as u32,
            None => need(UNK)?,
        };
        let specials = T5Specials {
            pad: need(PAD)?,
            eos: need(EOS)?,
            unk,
        };
        Ok(Self {
            inner,
            specials,
            escape: None,
        })
    }

    /// The same tokenizer with `escape` applied to every text before encoding and undone after
    /// decoding (see [`CharEscape`]).
    pub fn with_escape(mut self, escape: Option<CharEscape>) -> Self {
        self.escape = escape;
        self
    }

    /// The escape in use, if any.
    pub fn escape(&self) -> Option<&CharEscape> {
        self.escape.as_ref()
    }

    /// The `tokenizer.json` text (pretty-printed, as Hugging Face saves it).
    pub fn to_json(&self) -> Result<String, DataError> {
        self.inner
            .to_string(true)
            .map_err(|e| DataError::Invalid(format!("cannot serialize the tokenizer: {e}")))
    }

    /// Writes `tokenizer.json` atomically.
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        crate::atomic::write_file(path, self.to_json()?.as_bytes())
    }

    /// The Hugging Face tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// `<pad>`, `</s>`, `<unk>` ids.
    pub fn specials(&self) -> T5Specials {
        self.specials
    }

    /// `<pad>` id (also T5's decoder start id).
    pub fn pad_id(&self) -> u32 {
        self.specials.pad
    }

    /// `</s>` id.
    pub fn eos_id(&self) -> u32 {
        self.specials.eos
    }

    /// `<unk>` id.
    pub fn unk_id(&self) -> u32 {
        self.specials.unk
    }

    /// Number of ids, added tokens included (what the model's embedding must cover).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Id of a token, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Token of an id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Ids of `text` with `</s>` appended (as `tokenizer(text).input_ids` in transformers).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizeError> {
        self.encode_with(text, true)
    }

    /// Ids of `text`; with `add_special_tokens` the post-processor appends `</s>`.
    pub fn encode_with(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Vec<u32>, TokenizeError> {
        let escaped;
        let text = match &self.escape {
            Some(e) => {
                escaped = e.escape(text);
                escaped.as_str()
            }
            None => text,
        };
        let enc = self
            .inner
            .encode_fast(text, add_special_tokens)
            .map_err(ext)?;
        Ok(enc.get_ids().to_vec())
    }

    /// [`Seq2SeqTokenizer::encode`] of many texts in parallel (rayon), in order.
    pub fn encode_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Result<Vec<Vec<u32>>, TokenizeError> {
        texts.par_iter().map(|t| self.encode(t.as_ref())).collect()
    }

    /// The text of `ids`. With `skip_special_tokens`, `<pad>`, `</s>`, `<unk>` and the extra ids
    /// are left out (as Hugging Face does).
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, TokenizeError> {
        let size = self.vocab_size();
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= size) {
            return Err(TokenizeError::UnknownId {
                id,
                vocab_size: size,
            });
        }
        let s = self.inner.decode(ids, skip_special_tokens).map_err(ext)?;
        Ok(match &self.escape {
            Some(e) => e.unescape(&s),
            None => s,
        })
    }

    /// Decodes ids as GT4SD's demo does for released checkpoints whose vocabulary lacks `\`:
    /// every `<unk>` becomes `unk_as` (e.g. `"\\"`), other special tokens are skipped.
    pub fn decode_unk_as(&self, ids: &[u32], unk_as: &str) -> Result<String, TokenizeError> {
        let mut out = String::new();
        for part in ids.split(|&id| id == self.specials.unk).enumerate() {
            if part.0 > 0 {
                out.push_str(unk_as);
            }
            out.push_str(&self.decode(part.1, true)?);
        }
        Ok(out)
    }

    /// Whether `decode(encode(text), skip_special_tokens) == text`.
    pub fn round_trips(&self, text: &str) -> Result<bool, TokenizeError> {
        let ids = self.encode(text)?;
        Ok(self.decode(&ids, true)? == text)
    }

    /// Indices of the texts that do not come back unchanged from encode → decode (in parallel).
    pub fn round_trip_failures<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Result<Vec<usize>, TokenizeError> {
        let flags: Vec<bool> = texts
            .par_iter()
            .map(|t| self.round_trips(t.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(flags
            .iter()
            .enumerate()
            .filter(|(_, ok)| !**ok)
            .map(|(i, _)| i)
            .collect())
    }
}

/// Parameters of [`train_unigram`].
#[derive(Clone, Debug, PartialEq)]
pub struct UnigramConfig {
    /// Pieces, special tokens included, extra ids excluded.
    pub vocab_size: usize,
    /// T5's sentinel tokens `<extra_id_0>` … appended after the pieces (T5 has 100).
    pub extra_ids: usize,
    /// Longest piece in characters (SentencePiece's default is 16).
    pub max_piece_length: usize,
    /// EM sub-iterations per pruning round.
    pub n_sub_iterations: u32,
    /// Fraction of pieces kept per pruning round.
    pub shrinking_factor: f64,
    /// Characters made pieces even when the training texts lack them (e.g. those of the valid and
    /// test texts, so they do not become `<unk>` without their pieces being learnt from them).
    pub alphabet: std::collections::BTreeSet<char>,
}

impl Default for UnigramConfig {
    fn default() -> Self {
        Self {
            vocab_size: 8000,
            extra_ids: 100,
            max_piece_length: 16,
            n_sub_iterations: 2,
            shrinking_factor: 0.75,
            alphabet: Default::default(),
        }
    }
}

/// The words Metaspace (`prepend_scheme: never`, `split: true`) cuts `text` into: spaces become
/// `▁` and each `▁` starts a new word.
fn metaspace_words(text: &str, mut f: impl FnMut(&str)) {
    let replaced: String = text
        .chars()
        .map(|c| if c == ' ' { METASPACE } else { c })
        .collect();
    let mut start = 0;
    for (i, c) in replaced.char_indices() {
        if c == METASPACE && i > start {
            f(&replaced[start..i]);
            start = i;
        }
    }
    if start < replaced.len() {
        f(&replaced[start..]);
    }
}

/// Trains a T5-layout Unigram tokenizer on `texts` (see the module docs for why it round-trips).
/// Deterministic: words are counted and handed to the trainer in sorted order.
pub fn train_unigram<S: AsRef<str>>(
    texts: &[S],
    config: &UnigramConfig,
) -> Result<Seq2SeqTokenizer, DataError> {
    let mut counts: rustc_hash::FxHashMap<String, u32> = rustc_hash::FxHashMap::default();
    for t in texts {
        metaspace_words(t.as_ref(), |w| {
            let c = counts.entry(w.to_owned()).or_insert(0);
            *c = c.saturating_add(1);
        });
    }
    let mut sentences: Vec<(String, u32)> = counts.into_iter().collect();
    sentences.sort_unstable();
    let specials = [PAD, EOS, UNK];
    let trainer = UnigramTrainer::builder()
        .show_progress(false)
        .vocab_size(config.vocab_size as u32)
        .n_sub_iterations(config.n_sub_iterations)
        .shrinking_factor(config.shrinking_factor)
        .max_piece_length(config.max_piece_length)
        .special_tokens(
            specials
                .iter()
                .map(|s| AddedToken::from(*s, true))
                .collect(),
        )
        .unk_token(Some(UNK.to_string()))
        .build()
        .map_err(|e| DataError::Invalid(format!("unigram trainer: {e}")))?;
    let mut model = Unigram::default();
    // The trainer's E-step reduces float sums over rayon chunks, whose combination order depends on
    // work stealing; sequential training gives the same vocabulary on every run. (Our own batch
    // encoding parallelises with rayon directly and does not use this switch.)
    tokenizers::parallelism::set_parallelism(false);
    trainer
        .do_train(sentences, &mut model)
        .map_err(|e| DataError::Invalid(format!("unigram training failed: {e}")))?;
    let mut vocab: Vec<(String, f64)> = model.iter().map(|(t, s)| (t.clone(), *s)).collect();
    for (i, s) in specials.iter().enumerate() {
        if vocab.get(i).map(|v| v.0.as_str()) != Some(*s) {
            return Err(DataError::Invalid(format!(
                "unigram training put {s} at an unexpected id"
            )));
        }
    }
    canonical_penalty_order(&mut vocab[specials.len()..]);
    // Characters the texts lack but `alphabet` asks for, below every learnt piece, in code point
    // order (the trainer's own `initial_alphabet` scores them in hash-set order).
    let have: std::collections::HashSet<String> = vocab.iter().map(|v| v.0.clone()).collect();
    let floor = vocab[specials.len()..]
        .iter()
        .map(|v| v.1)
        .fold(0.0f64, f64::min);
    let mut k = 0.0;
    for c in &config.alphabet {
        let piece = c.to_string();
        if !have.contains(&piece) {
            k += 1.0;
            vocab.push((piece, floor - 1e-4 * k));
        }
    }
    // The trainer orders pieces of equal score by hash-set iteration; sort them by (score, piece)
    // so the same corpus always gives the same ids.
    vocab[specials.len()..].sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for i in (0..config.extra_ids).rev() {
        vocab.push((format!("<extra_id_{i}>"), 0.0));
    }
    let text = t5_layout_json(&vocab, 2).to_string();
    Seq2SeqTokenizer::from_json_str(&text, Path::new("<trained>"))
}

/// The trainer re-adds characters that pruning dropped with scores `min, min + 1e-4, …` handed out
/// in hash-set order, so their ids change from run to run. Each such run of single-character pieces
/// (consecutive scores 1e-4 apart) gets the same scores back in code point order.
fn canonical_penalty_order(pieces: &mut [(String, f64)]) {
    let mut singles: Vec<usize> = (0..pieces.len())
        .filter(|&i| pieces[i].0.chars().count() == 1)
        .collect();
    singles.sort_by(|&a, &b| pieces[b].1.total_cmp(&pieces[a].1));
    let mut start = 0;
    while start < singles.len() {
        let mut end = start + 1;
        while end < singles.len()
            && ((pieces[singles[end - 1]].1 - pieces[singles[end]].1) - 1e-4).abs() < 1e-7
        {
            end += 1;
        }
        if end - start > 1 {
            let run = &singles[start..end];
            let scores: Vec<f64> = run.iter().map(|&i| pieces[i].1).collect();
            let mut chars: Vec<String> = run.iter().map(|&i| pieces[i].0.clone()).collect();
            chars.sort();
            for (k, &i) in run.iter().enumerate() {
                pieces[i] = (chars[k].clone(), scores[k]);
            }
        }
        start = end;
    }
}

/// A `tokenizer.json` in T5's layout for a Unigram vocabulary, with no normaliser and a lossless
/// Metaspace (see the module docs).
fn t5_layout_json(vocab: &[(String, f64)], unk_id: u32) -> Value {
    let added: Vec<Value> = vocab
        .iter()
        .enumerate()
        .filter(|(_, (t, _))| t == PAD || t == EOS || t == UNK || t.starts_with("<extra_id_"))
        .map(|(i, (t, _))| {
            json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let eos_id = vocab.iter().position(|(t, _)| t == EOS).unwrap_or(1);
    let metaspace = json!({"type": "Metaspace", "replacement": METASPACE.to_string(),
                           "prepend_scheme": "never", "split": true});
    let seq = |id: &str| json!({"Sequence": {"id": id, "type_id": 0}});
    let eos = json!({"SpecialToken": {"id": EOS, "type_id": 0}});
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": metaspace,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [seq("A"), eos.clone()],
            "pair": [seq("A"), eos.clone(), seq("B"), eos],
            "special_tokens": {EOS: {"id": EOS, "ids": [eos_id], "tokens": [EOS]}}
        },
        "decoder": metaspace,
        "model": {
            "type": "Unigram",
            "unk_id": unk_id,
            "vocab": vocab.iter().map(|(t, s)| json!([t, s])).collect::<Vec<_>>(),
            "byte_fallback": false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metaspace_words_keep_every_space() {
        let mut w = Vec::new();
        metaspace_words(" a  bc ", |s| w.push(s.to_string()));
        assert_eq!(w, ["▁a", "▁", "▁bc", "▁"]);
        let mut w = Vec::new();
        metaspace_words("CCO", |s| w.push(s.to_string()));
        assert_eq!(w, ["CCO"]);
    }

    #[test]
    fn trained_vocabulary_round_trips_and_has_t5_specials() {
        let texts: Vec<String> = [
            "Predict the product of the following reaction: CCO.CC(=O)O",
            "  two leading spaces and two  inside ",
            "C/C=C\\C{R}~[Na+]<x>",
            "µL, ², ﬁ and 中文\tTab\nnewline",
        ]
        .iter()
        .map(|s| s.to_string())
        .cycle()
        .take(40)
        .collect();
        let cfg = UnigramConfig {
            vocab_size: 120,
            extra_ids: 3,
            ..Default::default()
        };
        let tok = train_unigram(&texts, &cfg).unwrap();
        assert_eq!(
            tok.specials(),
            T5Specials {
                pad: 0,
                eos: 1,
                unk: 2
            }
        );
        let n = tok.vocab_size() as u32;
        assert_eq!(tok.token_to_id("<extra_id_0>"), Some(n - 1));
        assert_eq!(tok.token_to_id("<extra_id_2>"), Some(n - 3));
        assert!(tok.round_trip_failures(&texts).unwrap().is_empty());
        let ids = tok.encode(&texts[0]).unwrap();
        assert_eq!(ids.last(), Some(&1));
        assert!(!ids.contains(&2));
        // Same corpus, same vocabulary.
        let again = train_unigram(&texts, &cfg).unwrap();
        assert_eq!(again.to_json().unwrap(), tok.to_json().unwrap());
        // Reloads from its own JSON.
        let back =
            Seq2SeqTokenizer::from_json_str(&tok.to_json().unwrap(), Path::new("x")).unwrap();
        assert_eq!(
            back.encode(&texts[2]).unwrap(),
            tok.encode(&texts[2]).unwrap()
        );
    }

    #[test]
    fn decode_rejects_out_of_range_ids() {
        let texts = ["abc abc"; 4];
        let tok = train_unigram(
            &texts,
            &UnigramConfig {
                vocab_size: 20,
                extra_ids: 0,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(tok.decode(&[100_000], true).is_err());
        let with = train_unigram(
            &texts,
            &UnigramConfig {
                vocab_size: 20,
                extra_ids: 0,
                alphabet: ['Ω', '\\'].into_iter().collect(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(with.round_trips("Ω\\abc").unwrap());
        assert!(!tok.round_trips("Ω").unwrap());
    }
}
