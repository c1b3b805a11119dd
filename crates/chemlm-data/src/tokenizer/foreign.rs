//! Tokenizers of published checkpoints that are not chemlm's own word-level kind: ChemBERTa's
//! byte-level BPE, ChemGPT's SELFIES vocabulary, MoLFormer-XL's `vocab.json`, any
//! `tokenizer.json` that Hugging Face `tokenizers` reads. They run through the `tokenizers` crate
//! itself, so ids equal Python's fast tokenizer by construction, and the five special roles
//! (`bos eos pad mask unk`) are read from the checkpoint's `tokenizer_config.json` /
//! `special_tokens_map.json` the way transformers reads them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::vocab::{SpecialNames, Vocab};
use super::TokenizerKind;
use crate::error::{DataError, TokenizeError};

/// A `tokenizers` tokenizer with chemlm's decoding rule for chemistry (see [`Foreign::decode`]).
#[derive(Clone, Debug)]
pub struct Foreign {
    inner: Arc<tokenizers::Tokenizer>,
    /// No decoder in the file: decode by joining tokens without spaces (a SMILES or SELFIES
    /// string has no spaces; HF's default would put one between every token).
    concat_decode: bool,
}

impl Foreign {
    /// Wraps `inner`, switching off any padding or truncation stored in the file: chemlm pads
    /// batches itself and rejects (never silently cuts) a molecule that is too long.
    pub fn new(mut inner: tokenizers::Tokenizer) -> Result<Self, DataError> {
        inner
            .with_truncation(None)
            .map_err(|e| DataError::Invalid(format!("tokenizer: {e}")))?;
        inner.with_padding(None);
        let concat_decode = inner.get_decoder().is_none();
        Ok(Self {
            inner: Arc::new(inner),
            concat_decode,
        })
    }

    /// The wrapped tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// Ids of `text`, with the file's post-processor specials when `add_special_tokens`.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, TokenizeError> {
        let enc = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| TokenizeError::External(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// The pieces of `text` as slices of it (from the encoding's byte offsets).
    pub fn tokenize<'t>(&self, text: &'t str) -> Result<Vec<&'t str>, TokenizeError> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| TokenizeError::External(e.to_string()))?;
        Ok(enc
            .get_offsets()
            .iter()
            .filter_map(|&(a, b)| text.get(a..b))
            .collect())
    }

    /// The text of `ids`: the file's decoder when it has one, else the tokens joined.
    pub fn decode(
        &self,
        ids: &[u32],
        vocab: &Vocab,
        skip_special_tokens: bool,
    ) -> Result<String, TokenizeError> {
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= vocab.len()) {
            return Err(TokenizeError::UnknownId {
                id,
                vocab_size: vocab.len(),
            });
        }
        if !self.concat_decode {
            return self
                .inner
                .decode(ids, skip_special_tokens)
                .map_err(|e| TokenizeError::External(e.to_string()));
        }
        let sp = vocab.special_ids();
        let mut s = String::new();
        for &id in ids {
            if skip_special_tokens && sp.contains(id) {
                continue;
            }
            s.push_str(vocab.token(id).unwrap_or_default());
        }
        Ok(s)
    }

    /// `tokenizer.json` text.
    pub fn to_json(&self) -> Result<String, DataError> {
        self.inner
            .to_string(true)
            .map_err(|e| DataError::Invalid(format!("tokenizer: {e}")))
    }
}

/// The vocabulary of `tok` in id order (added tokens included). A gap in the ids is an error:
/// every id a model can emit must decode.
pub fn vocab_tokens(tok: &tokenizers::Tokenizer, origin: &Path) -> Result<Vec<String>, DataError> {
    tokens_by_id(&tok.get_vocab(true), origin)
}

/// The tokens of a `token → id` map in id order; a gap or a repeated id is an error naming
/// `origin`.
fn tokens_by_id(map: &HashMap<String, u32>, origin: &Path) -> Result<Vec<String>, DataError> {
    let mut tokens: Vec<Option<String>> = vec![None; map.len()];
    for (t, &id) in map {
        let slot = tokens.get_mut(id as usize).ok_or_else(|| {
            DataError::format(
                origin,
                format!("token {t:?} has id {id}, beyond the {} tokens", map.len()),
            )
        })?;
        if slot.replace(t.clone()).is_some() {
            return Err(DataError::format(origin, format!("id {id} is used twice")));
        }
    }
    tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| DataError::format(origin, format!("no token has id {i}"))))
        .collect()
}

/// A special token entry of `tokenizer_config.json`: a string or `{"content": …}`.
fn token_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Special-token names declared by the files next to a tokenizer (`tokenizer_config.json`, then
/// `special_tokens_map.json` for what the first leaves out), keyed by transformers' attribute
/// names (`bos_token`, `cls_token`, …).
pub fn declared_specials(dir: &Path) -> Result<HashMap<String, String>, DataError> {
    let mut out = HashMap::new();
    for file in ["tokenizer_config.json", "special_tokens_map.json"] {
        let p = dir.join(file);
        if !p.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&p).map_err(|e| DataError::io(&p, e))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| DataError::format(&p, format!("not JSON: {e}")))?;
        for key in [
            "bos_token",
            "eos_token",
            "pad_token",
            "mask_token",
            "unk_token",
            "cls_token",
            "sep_token",
        ] {
            if let Some(name) = doc.get(key).and_then(token_string) {
                out.entry(key.to_owned()).or_insert(name);
            }
        }
    }
    Ok(out)
}

/// Assigns the five roles for `tokens`: the declared names first (BERT-style `cls`/`sep` stand in
/// for `bos`/`eos`), then the usual spellings, then stand-ins (a causal model without `<pad>`
/// pads with its end token, as GPT-2 users do; a vocabulary without `<unk>` uses `<pad>`, as
/// MoLFormer-XL's tokenizer does; without `<mask>`, masked-LM training is the only thing that
/// cannot work). Each stand-in is logged.
pub fn assign_roles(
    tokens: &[String],
    declared: &HashMap<String, String>,
    origin: &Path,
) -> Result<SpecialNames, DataError> {
    let has = |t: &str| tokens.iter().any(|x| x == t);
    let pick = |keys: &[&str], usual: &[&str]| -> Option<String> {
        keys.iter()
            .filter_map(|k| declared.get(*k))
            .find(|n| has(n))
            .cloned()
            .or_else(|| usual.iter().find(|u| has(u)).map(|u| u.to_string()))
    };
    let bos = pick(
        &["bos_token", "cls_token"],
        &["<bos>", "<s>", "[CLS]", "<|endoftext|>"],
    );
    let eos = pick(
        &["eos_token", "sep_token"],
        &["<eos>", "</s>", "[SEP]", "<|endoftext|>"],
    );
    let pad = pick(&["pad_token"], &["<pad>", "[PAD]"]);
    let unk = pick(&["unk_token"], &["<unk>", "[UNK]"]);
    let mask = pick(&["mask_token"], &["<mask>", "[MASK]"]);
    let stand_in = |role: &str, value: Option<String>, others: &[&Option<String>]| {
        value.or_else(|| {
            let s = others.iter().find_map(|o| (*o).clone());
            if let Some(s) = &s {
                tracing::warn!(
                    "{}: no {role} token; using {s:?} in its place",
                    origin.display()
                );
            }
            s
        })
    };
    let eos = stand_in("end", eos, &[&bos]);
    let bos = stand_in("start", bos, &[&eos]);
    let pad = stand_in("padding", pad, &[&eos, &unk]);
    let unk = stand_in("unknown", unk, &[&pad]);
    let mask = stand_in("mask", mask, &[&unk]);
    match (bos, eos, pad, mask, unk) {
        (Some(bos), Some(eos), Some(pad), Some(mask), Some(unk)) => Ok(SpecialNames {
            bos,
            eos,
            pad,
            mask,
            unk,
        }),
        _ => Err(DataError::format(
            origin,
            "cannot tell the special tokens (no start/end or padding token among the vocabulary, \
             tokenizer_config.json or special_tokens_map.json)",
        )),
    }
}

/// SELFIES when the vocabulary has SELFIES' branch or ring symbols (`[Branch1]`, `[=Ring2]`,
/// `[Branch1_1]` in SELFIES 1.0) and no SMILES branch `(`, else SMILES. Counting bracketed tokens
/// would not do: MoLFormer-XL's SMILES vocabulary is mostly bracket atoms. The language decides
/// how generated text becomes molecules and whether input is canonicalised.
pub fn guess_kind(tokens: &[String]) -> TokenizerKind {
    let selfies_symbol = |t: &str| {
        t.starts_with('[') && t.ends_with(']') && (t.contains("Branch") || t.contains("Ring"))
    };
    let smiles_branch = tokens.iter().any(|t| t == "(" || t == "Ġ(");
    if !smiles_branch && tokens.iter().any(|t| selfies_symbol(t)) {
        TokenizerKind::Selfies
    } else {
        TokenizerKind::Smiles
    }
}

fn path_str(p: &Path) -> Result<&str, DataError> {
    p.to_str()
        .ok_or_else(|| DataError::format(p, "path is not valid UTF-8"))
}

/// The fast tokenizer transformers converts RoBERTa's slow one (`vocab.json` + `merges.txt`)
/// into: byte-level BPE without a prefix space, a byte-level decoder, `<s> … </s>` added by
/// `RobertaProcessing`, and the special tokens matched whole in the input.
pub fn byte_level_bpe(vocab: &Path, merges: &Path) -> Result<tokenizers::Tokenizer, DataError> {
    use tokenizers::models::bpe::BPE;
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::processors::roberta::RobertaProcessing;
    let bpe = BPE::from_file(path_str(vocab)?, path_str(merges)?)
        .build()
        .map_err(|e| DataError::format(vocab, format!("BPE vocabulary: {e}")))?;
    let mut tok = tokenizers::Tokenizer::new(bpe);
    let dir = vocab.parent().unwrap_or_else(|| Path::new("."));
    let tokens = vocab_tokens(&tok, vocab)?;
    let names = assign_roles(&tokens, &declared_specials(dir)?, vocab)?;
    let id = |t: &str| tok.token_to_id(t).unwrap_or_default();
    let processor = RobertaProcessing::new(
        (names.eos.clone(), id(&names.eos)),
        (names.bos.clone(), id(&names.bos)),
    )
    .trim_offsets(true)
    .add_prefix_space(false);
    tok.with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)));
    tok.with_decoder(Some(ByteLevel::default()));
    tok.with_post_processor(Some(processor));
    let mut specials: Vec<&String> =
        vec![&names.bos, &names.eos, &names.pad, &names.mask, &names.unk];
    specials.dedup();
    let added: Vec<tokenizers::AddedToken> = specials
        .into_iter()
        .map(|t| tokenizers::AddedToken::from(t.clone(), true))
        .collect();
    tok.add_special_tokens(added)
        .map_err(|e| DataError::format(vocab, format!("special tokens: {e}")))?;
    Ok(tok)
}

/// MoLFormer-XL's own tokenizer: a `vocab.json` (token → id) split by MoLFormer's SMILES regex,
/// `<bos> … <eos>` around each molecule. Built as a native chemlm tokenizer, whose SMILES pattern
/// is MoLFormer's.
pub fn regex_word_level(vocab: &Path, dir: &Path) -> Result<super::Tokenizer, DataError> {
    let text = std::fs::read_to_string(vocab).map_err(|e| DataError::io(vocab, e))?;
    let map: HashMap<String, u32> = serde_json::from_str(&text)
        .map_err(|e| DataError::format(vocab, format!("not a token → id JSON object: {e}")))?;
    let tokens = tokens_by_id(&map, vocab)?;
    let names = assign_roles(&tokens, &declared_specials(dir)?, vocab)?;
    let kind = guess_kind(&tokens);
    let v = Vocab::from_tokens_with(tokens, &names)
        .map_err(|e| DataError::format(vocab, e.to_string()))?;
    Ok(super::Tokenizer::new(kind, v))
}
