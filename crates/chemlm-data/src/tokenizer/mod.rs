//! Tokenizers for SMILES (MoLFormer's atom-level regex) and SELFIES (bracket symbols), with a
//! word-level vocabulary and Hugging Face `tokenizer.json` import/export.
//!
//! ```
//! use chemlm_data::tokenizer::{Tokenizer, TokenizerKind, VocabConfig};
//! let tok = Tokenizer::build(TokenizerKind::Smiles, ["CCO", "c1ccccc1O"], &VocabConfig::default()).unwrap();
//! let ids = tok.encode("CCO", true).unwrap();           // <bos> C C O <eos>
//! assert_eq!(tok.decode(&ids, true).unwrap(), "CCO");
//! ```

pub mod escape;
pub mod foreign;
mod hf;
pub mod oov;
pub mod oov_tally;
pub mod pretokenize;
pub mod sentencepiece;
pub mod spiece;
pub mod vocab;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, TokenizeError};
pub use oov::{Fallback, OovPolicy};
pub use oov_tally::OovTally;
pub use pretokenize::{
    scan_selfies, scan_smiles, split_selfies, split_smiles, SELFIES_PATTERN, SMILES_PATTERN,
};
pub use vocab::{SpecialIds, SpecialNames, Vocab, VocabBuilder, VocabConfig, SPECIAL_TOKENS};

/// Which language a tokenizer splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    Smiles,
    Selfies,
}

impl TokenizerKind {
    /// The regex written into `tokenizer.json` (Hugging Face `Split` pre-tokenizer).
    pub fn pattern(self) -> &'static str {
        match self {
            TokenizerKind::Smiles => SMILES_PATTERN,
            TokenizerKind::Selfies => SELFIES_PATTERN,
        }
    }

    /// Calls `f` on each token of `text`; fails at the first uncovered character.
    #[inline]
    pub fn scan<'t>(self, text: &'t str, f: impl FnMut(&'t str)) -> Result<(), TokenizeError> {
        match self {
            TokenizerKind::Smiles => scan_smiles(text, f),
            TokenizerKind::Selfies => scan_selfies(text, f),
        }
    }

    /// The tokens of `text`; their concatenation is `text`.
    pub fn split(self, text: &str) -> Result<Vec<&str>, TokenizeError> {
        match self {
            TokenizerKind::Smiles => split_smiles(text),
            TokenizerKind::Selfies => split_selfies(text),
        }
    }
}

impl fmt::Display for TokenizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenizerKind::Smiles => "smiles",
            TokenizerKind::Selfies => "selfies",
        })
    }
}

impl FromStr for TokenizerKind {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "smiles" => Ok(TokenizerKind::Smiles),
            "selfies" => Ok(TokenizerKind::Selfies),
            _ => Err(DataError::Invalid(format!(
                "unknown tokenizer kind {s:?} (smiles or selfies)"
            ))),
        }
    }
}

/// Concatenates tokens back into the string they came from.
pub fn detokenize<S: AsRef<str>>(tokens: &[S]) -> String {
    let mut s = String::with_capacity(tokens.iter().map(|t| t.as_ref().len()).sum());
    for t in tokens {
        s.push_str(t.as_ref());
    }
    s
}

/// A word-level tokenizer: pre-tokenization by [`TokenizerKind`], then a [`Vocab`] lookup; or,
/// for a published checkpoint's tokenizer that is not of that kind (BPE, other patterns), the
/// Hugging Face `tokenizers` implementation of its `tokenizer.json` ([`foreign`]), with the same
/// vocabulary and special-token interface.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    kind: TokenizerKind,
    vocab: Vocab,
    foreign: Option<foreign::Foreign>,
}

impl PartialEq for Tokenizer {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.vocab == other.vocab
            && self.vocab.special_ids() == other.vocab.special_ids()
            && match (&self.foreign, &other.foreign) {
                (None, None) => true,
                (Some(a), Some(b)) => a.to_json().ok() == b.to_json().ok(),
                _ => false,
            }
    }
}

/// Files a model directory may hold its tokenizer in, in the order [`Tokenizer::load_dir`] tries
/// them.
pub const TOKENIZER_FILES: [&str; 3] = ["tokenizer.json", "vocab.json", "merges.txt"];

impl Tokenizer {
    /// A tokenizer from a kind and a vocabulary.
    pub fn new(kind: TokenizerKind, vocab: Vocab) -> Self {
        Self {
            kind,
            vocab,
            foreign: None,
        }
    }

    /// Wraps a Hugging Face tokenizer (see [`foreign`]); `dir` holds its `tokenizer_config.json`
    /// / `special_tokens_map.json`, which name the special tokens. The language (SMILES or
    /// SELFIES) is guessed from the vocabulary unless `kind` is given.
    pub fn from_hf_tokenizer(
        inner: tokenizers::Tokenizer,
        dir: &Path,
        kind: Option<TokenizerKind>,
        origin: &Path,
    ) -> Result<Self, DataError> {
        let tokens = foreign::vocab_tokens(&inner, origin)?;
        let declared = foreign::declared_specials(dir)?;
        let names = foreign::assign_roles(&tokens, &declared, origin)?;
        let kind = kind.unwrap_or_else(|| foreign::guess_kind(&tokens));
        let vocab = Vocab::from_tokens_with(tokens, &names)
            .map_err(|e| DataError::format(origin, e.to_string()))?;
        Ok(Self {
            kind,
            vocab,
            foreign: Some(foreign::Foreign::new(inner)?),
        })
    }

    /// Whether this is a wrapped Hugging Face tokenizer rather than chemlm's own word-level one.
    pub fn is_foreign(&self) -> bool {
        self.foreign.is_some()
    }

    /// Counts the tokens of `corpus` and builds the vocabulary. Fails on the first string with a
    /// character the pattern does not cover (use [`VocabBuilder`] directly to skip bad strings).
    pub fn build<'a>(
        kind: TokenizerKind,
        corpus: impl IntoIterator<Item = &'a str>,
        config: &VocabConfig,
    ) -> Result<Self, DataError> {
        let mut b = VocabBuilder::new();
        for s in corpus {
            kind.scan(s, |t| b.add(t))?;
        }
        Ok(Self::new(kind, b.build(config)?))
    }

    /// SMILES or SELFIES.
    pub fn kind(&self) -> TokenizerKind {
        self.kind
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Number of ids, special tokens included.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// Ids of `<bos> <eos> <pad> <mask> <unk>`.
    pub fn special_ids(&self) -> SpecialIds {
        self.vocab.special_ids()
    }

    /// The tokens of `text` (no special tokens).
    pub fn tokenize<'t>(&self, text: &'t str) -> Result<Vec<&'t str>, TokenizeError> {
        match &self.foreign {
            Some(f) => f.tokenize(text),
            None => self.kind.split(text),
        }
    }

    /// Token ids of `text`, wrapped in `<bos> … <eos>` when `add_special_tokens` (as the
    /// `tokenizer.json` post-processor does). Tokens outside the vocabulary become `<unk>`.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, TokenizeError> {
        let mut out = Vec::with_capacity(text.len() + 2);
        self.encode_into(text, add_special_tokens, &mut out)?;
        Ok(out)
    }

    /// Like [`Tokenizer::encode`] but appends to `out` (no allocation on the hot path) and returns
    /// how many ids were appended. On error `out` is left as it was.
    #[inline]
    pub fn encode_into(
        &self,
        text: &str,
        add_special_tokens: bool,
        out: &mut Vec<u32>,
    ) -> Result<usize, TokenizeError> {
        if let Some(f) = &self.foreign {
            let ids = f.encode(text, add_special_tokens)?;
            out.extend_from_slice(&ids);
            return Ok(ids.len());
        }
        let vocab = &self.vocab;
        self.encode_mapped(text, add_special_tokens, out, |t| Some(vocab.id_or_unk(t)))
    }

    /// The one encoding loop: `<bos>`, each token through `map` (`None` leaves it out), `<eos>`.
    /// On error `out` is left as it was; returns how many ids were appended.
    #[inline]
    fn encode_mapped(
        &self,
        text: &str,
        add_special_tokens: bool,
        out: &mut Vec<u32>,
        mut map: impl FnMut(&str) -> Option<u32>,
    ) -> Result<usize, TokenizeError> {
        let start = out.len();
        let sp = self.vocab.special_ids();
        if add_special_tokens {
            out.push(sp.bos);
        }
        if let Err(e) = self.kind.scan(text, |t| out.extend(map(t))) {
            out.truncate(start);
            return Err(e);
        }
        if add_special_tokens {
            out.push(sp.eos);
        }
        Ok(out.len() - start)
    }

    /// Token ids of `text` with out-of-vocabulary tokens handled by `policy` (see [`oov`]):
    /// [`OovPolicy::Unk`] is [`Tokenizer::encode`]; [`OovPolicy::Nearest`] maps a SMILES bracket
    /// atom to the nearest in-vocabulary form of the same atom and drops `/` `\\`.
    pub fn encode_with(
        &self,
        text: &str,
        add_special_tokens: bool,
        policy: OovPolicy,
    ) -> Result<Vec<u32>, TokenizeError> {
        if policy == OovPolicy::Unk || self.kind != TokenizerKind::Smiles || self.is_foreign() {
            return self.encode(text, add_special_tokens);
        }
        let unk = self.vocab.special_ids().unk;
        let vocab = &self.vocab;
        let mut out = Vec::with_capacity(text.len() + 2);
        self.encode_mapped(text, add_special_tokens, &mut out, |t| match vocab.id(t) {
            Some(id) => Some(id),
            None => match oov::nearest_smiles(t, vocab) {
                Fallback::Id(id) => Some(id),
                Fallback::Drop => None,
                Fallback::Unk => Some(unk),
            },
        })?;
        Ok(out)
    }

    /// The text of `ids`. With `skip_special_tokens`, the five special tokens (`<unk>` included,
    /// as Hugging Face does) are left out; otherwise they are written as their names.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, TokenizeError> {
        if let Some(f) = &self.foreign {
            return f.decode(ids, &self.vocab, skip_special_tokens);
        }
        let sp = self.vocab.special_ids();
        let mut s = String::with_capacity(ids.len() * 2);
        for &id in ids {
            let t = self.vocab.token(id).ok_or(TokenizeError::UnknownId {
                id,
                vocab_size: self.vocab.len(),
            })?;
            if skip_special_tokens && sp.contains(id) {
                continue;
            }
            s.push_str(t);
        }
        Ok(s)
    }

    /// The Hugging Face `tokenizer.json` text: WordLevel model, `Split` pre-tokenizer with the
    /// kind's regex (`Isolated`), the special tokens as added tokens, a `TemplateProcessing`
    /// post-processor adding `<bos>`/`<eos>`, and a `Fuse` decoder (tokens joined without spaces).
    pub fn to_hf_json(&self) -> String {
        match &self.foreign {
            // Serialising a tokenizer that was just read from JSON cannot fail in practice; an
            // empty string would be rejected on the next load rather than pass silently.
            Some(f) => f.to_json().unwrap_or_default(),
            None => hf::to_json(self),
        }
    }

    /// Reads a `tokenizer.json` written by [`Tokenizer::to_hf_json`] (or any WordLevel tokenizer
    /// whose `Split` pattern is one of ours and whose vocabulary holds the five special tokens).
    pub fn from_hf_json(text: &str, origin: &Path) -> Result<Self, DataError> {
        hf::from_json(text, origin)
    }

    /// Writes `tokenizer.json` atomically.
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        crate::atomic::write_file(path, self.to_hf_json().as_bytes())
    }

    /// Reads a `tokenizer.json`: chemlm's own layout natively, any other file that Hugging Face
    /// `tokenizers` reads through that library (special tokens from the files beside it).
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        match Self::from_hf_json(&text, path) {
            Ok(t) => Ok(t),
            Err(native) => {
                let inner: tokenizers::Tokenizer = text.parse().map_err(|e| {
                    DataError::format(
                        path,
                        format!("not a tokenizer ({native}; Hugging Face tokenizers: {e})"),
                    )
                })?;
                let dir = path.parent().unwrap_or_else(|| Path::new("."));
                Self::from_hf_tokenizer(inner, dir, None, path)
            }
        }
    }

    /// The tokenizer of a model directory, as transformers' `AutoTokenizer` finds it:
    /// `tokenizer.json`; else `vocab.json` + `merges.txt` (a byte-level BPE as RoBERTa's slow
    /// tokenizer, e.g. ChemBERTa); else `vocab.json` alone (a word-level vocabulary split by
    /// MoLFormer's SMILES regex, as MoLFormer-XL's own tokenizer does).
    pub fn load_dir(dir: &Path) -> Result<Self, DataError> {
        let json = dir.join(TOKENIZER_FILES[0]);
        if json.exists() {
            return Self::load(&json);
        }
        let vocab = dir.join(TOKENIZER_FILES[1]);
        let merges = dir.join(TOKENIZER_FILES[2]);
        if vocab.exists() && merges.exists() {
            return Self::from_hf_tokenizer(
                foreign::byte_level_bpe(&vocab, &merges)?,
                dir,
                None,
                &vocab,
            );
        }
        if vocab.exists() {
            return foreign::regex_word_level(&vocab, dir);
        }
        Err(DataError::io(
            &json,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "no tokenizer in {} (looked for tokenizer.json, vocab.json + merges.txt, vocab.json)",
                    dir.display()
                ),
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Tokenizer {
        Tokenizer::build(
            TokenizerKind::Smiles,
            ["CCO", "c1ccccc1Br", "C[C@@H](N)C(=O)O"],
            &VocabConfig::default(),
        )
        .unwrap()
    }

    #[test]
    fn encode_decode_round_trip() {
        let t = tok();
        for s in ["CCO", "c1ccccc1Br", "C[C@@H](N)C(=O)O", ""] {
            let ids = t.encode(s, true).unwrap();
            assert_eq!(ids.first(), Some(&t.special_ids().bos));
            assert_eq!(ids.last(), Some(&t.special_ids().eos));
            assert_eq!(t.decode(&ids, true).unwrap(), s);
            assert_eq!(detokenize(&t.tokenize(s).unwrap()), s);
        }
        let ids = t.encode("CCS", false).unwrap();
        assert_eq!(ids[2], t.special_ids().unk);
        assert_eq!(t.decode(&ids, false).unwrap(), "CC<unk>");
        assert_eq!(t.decode(&ids, true).unwrap(), "CC");
        assert!(t.decode(&[999], true).is_err());
    }

    #[test]
    fn encode_into_restores_on_error() {
        let t = tok();
        let mut out = vec![7];
        assert!(t.encode_into("CC X", true, &mut out).is_err());
        assert_eq!(out, [7]);
        assert_eq!(t.encode_into("CO", true, &mut out).unwrap(), 4);
    }

    #[test]
    fn kind_parse() {
        assert_eq!(
            "SMILES".parse::<TokenizerKind>().unwrap(),
            TokenizerKind::Smiles
        );
        assert!("bpe".parse::<TokenizerKind>().is_err());
    }

    #[test]
    fn encode_with_nearest_maps_unknown_atoms_to_known_ones() {
        let t = Tokenizer::build(
            TokenizerKind::Smiles,
            ["CC(N)C(=O)O", "c1cc[nH]c1"],
            &VocabConfig::default(),
        )
        .unwrap();
        let unk = t.special_ids().unk;
        // Alanine as zwitterion with stereo, and E-but-2-ene: under `Unk` the stereo atom,
        // the charged atoms and the direction marks are <unk>.
        let text = "C[C@@H]([NH3+])C(=O)[O-]";
        let plain = t.encode_with(text, true, OovPolicy::Unk).unwrap();
        assert_eq!(plain.iter().filter(|&&i| i == unk).count(), 3);
        assert_eq!(plain, t.encode(text, true).unwrap());
        // Under `Nearest` it reads as neutral alanine without stereo.
        let near = t.encode_with(text, true, OovPolicy::Nearest).unwrap();
        assert_eq!(near, t.encode("CC(N)C(=O)O", true).unwrap());
        let ene = t.encode_with("C/C=C/C", false, OovPolicy::Nearest).unwrap();
        assert_eq!(ene, t.encode("CC=CC", false).unwrap());
        // Aromatic [nH+] keeps its hydrogen, an unknown element stays <unk>.
        let pyr = t
            .encode_with("c1cc[nH+]c1", false, OovPolicy::Nearest)
            .unwrap();
        assert_eq!(pyr, t.encode("c1cc[nH]c1", false).unwrap());
        let na = t.encode_with("[Na+].O", false, OovPolicy::Nearest).unwrap();
        assert_eq!(na[0], unk);
    }
}
