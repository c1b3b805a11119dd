//! Vocabularies: token ↔ id, special tokens, and building one from token counts.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// Beginning of sequence (MoLFormer's `<bos>`, id 0 in vocabularies we build).
pub const BOS: &str = "<bos>";
/// End of sequence.
pub const EOS: &str = "<eos>";
/// Padding.
pub const PAD: &str = "<pad>";
/// Masked-LM mask.
pub const MASK: &str = "<mask>";
/// A token the vocabulary does not know.
pub const UNK: &str = "<unk>";

/// The special tokens in the order they take ids 0..5 in vocabularies we build (MoLFormer's
/// vocabulary starts with `<bos> <eos> <pad> <mask>` too).
pub const SPECIAL_TOKENS: [&str; 5] = [BOS, EOS, PAD, MASK, UNK];

/// Ids of the special tokens in one vocabulary. Vocabularies we build have them at 0..5, but a
/// loaded `tokenizer.json` may place them elsewhere, so callers should read them from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialIds {
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub mask: u32,
    pub unk: u32,
}

impl SpecialIds {
    /// Whether `id` is one of the five special tokens.
    pub fn contains(&self, id: u32) -> bool {
        id == self.bos || id == self.eos || id == self.pad || id == self.mask || id == self.unk
    }
}

/// The names of the five special roles in one vocabulary; two roles may name the same token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialNames {
    pub bos: String,
    pub eos: String,
    pub pad: String,
    pub mask: String,
    pub unk: String,
}

impl Default for SpecialNames {
    /// chemlm's own names, [`SPECIAL_TOKENS`].
    fn default() -> Self {
        Self {
            bos: BOS.into(),
            eos: EOS.into(),
            pad: PAD.into(),
            mask: MASK.into(),
            unk: UNK.into(),
        }
    }
}

const NO_ID: u32 = u32::MAX;

/// A fixed vocabulary: ids are positions in `tokens`.
#[derive(Clone, Debug)]
pub struct Vocab {
    tokens: Vec<String>,
    ids: FxHashMap<String, u32>,
    /// Ids of one-byte tokens, the large majority of SMILES tokens: an array index instead of a
    /// hash lookup on the hot path.
    byte_ids: Box<[u32; 256]>,
    special: SpecialIds,
}

impl Vocab {
    /// A vocabulary from tokens in id order. All five [`SPECIAL_TOKENS`] must be present and no
    /// token may repeat.
    pub fn from_tokens(tokens: Vec<String>) -> Result<Self, DataError> {
        Self::from_tokens_with(tokens, &SpecialNames::default())
    }

    /// A vocabulary whose special tokens have other names (`<s>`/`</s>` in RoBERTa, `[CLS]` in
    /// BERT vocabularies) or share a token (MoLFormer-XL's released vocabulary has no `<unk>`:
    /// its tokenizer uses `<pad>`). Every name in `names` must be in `tokens`.
    pub fn from_tokens_with(tokens: Vec<String>, names: &SpecialNames) -> Result<Self, DataError> {
        if tokens.len() > u32::MAX as usize - 1 {
            return Err(DataError::Invalid("vocabulary too large".into()));
        }
        let mut ids = FxHashMap::default();
        ids.reserve(tokens.len());
        let mut byte_ids = Box::new([NO_ID; 256]);
        for (i, t) in tokens.iter().enumerate() {
            if t.is_empty() {
                return Err(DataError::Invalid(format!("empty token at id {i}")));
            }
            if ids.insert(t.clone(), i as u32).is_some() {
                return Err(DataError::Invalid(format!("token {t:?} appears twice")));
            }
            if t.len() == 1 {
                byte_ids[t.as_bytes()[0] as usize] = i as u32;
            }
        }
        let get = |t: &str| {
            ids.get(t).copied().ok_or_else(|| {
                DataError::Invalid(format!("vocabulary lacks the special token {t}"))
            })
        };
        let special = SpecialIds {
            bos: get(&names.bos)?,
            eos: get(&names.eos)?,
            pad: get(&names.pad)?,
            mask: get(&names.mask)?,
            unk: get(&names.unk)?,
        };
        Ok(Self {
            tokens,
            ids,
            byte_ids,
            special,
        })
    }

    /// Number of tokens, special ones included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Always false for a valid vocabulary (it holds the special tokens); here for clippy.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of `token`, if known.
    #[inline]
    pub fn id(&self, token: &str) -> Option<u32> {
        if token.len() == 1 {
            let id = self.byte_ids[token.as_bytes()[0] as usize];
            return (id != NO_ID).then_some(id);
        }
        self.ids.get(token).copied()
    }

    /// The id of `token`, or `<unk>`'s.
    #[inline]
    pub fn id_or_unk(&self, token: &str) -> u32 {
        self.id(token).unwrap_or(self.special.unk)
    }

    /// The token with id `id`.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// All tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Ids of the special tokens.
    pub fn special_ids(&self) -> SpecialIds {
        self.special
    }
}

impl PartialEq for Vocab {
    fn eq(&self, other: &Self) -> bool {
        self.tokens == other.tokens
    }
}

/// How to cut a vocabulary out of token counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VocabConfig {
    /// Tokens seen fewer times are left out (they encode as `<unk>`).
    pub min_freq: u64,
    /// Largest vocabulary size, special tokens included; the most frequent tokens are kept.
    pub max_size: Option<usize>,
}

impl Default for VocabConfig {
    fn default() -> Self {
        Self {
            min_freq: 1,
            max_size: None,
        }
    }
}

/// Counts tokens over a corpus. Counting can be split over threads and the builders merged.
#[derive(Clone, Debug, Default)]
pub struct VocabBuilder {
    counts: FxHashMap<String, u64>,
}

impl VocabBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one occurrence of `token`.
    pub fn add(&mut self, token: &str) {
        self.add_count(token, 1);
    }

    /// Counts `n` occurrences of `token`.
    pub fn add_count(&mut self, token: &str, n: u64) {
        if let Some(c) = self.counts.get_mut(token) {
            *c += n;
        } else {
            self.counts.insert(token.to_owned(), n);
        }
    }

    /// Adds another builder's counts.
    pub fn merge(&mut self, other: VocabBuilder) {
        for (t, n) in other.counts {
            *self.counts.entry(t).or_insert(0) += n;
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> &FxHashMap<String, u64> {
        &self.counts
    }

    /// The vocabulary: the five special tokens (ids 0..5, in [`SPECIAL_TOKENS`] order), then the
    /// corpus tokens seen at least `min_freq` times, most frequent first, ties broken by the
    /// token's bytes, so the result depends only on the counts (not on hash or thread order).
    pub fn build(&self, config: &VocabConfig) -> Result<Vocab, DataError> {
        if let Some(max) = config.max_size {
            if max < SPECIAL_TOKENS.len() {
                return Err(DataError::Invalid(format!(
                    "max vocabulary size {max} is smaller than the {} special tokens",
                    SPECIAL_TOKENS.len()
                )));
            }
        }
        let mut ranked: Vec<(&str, u64)> = self
            .counts
            .iter()
            .filter(|(t, &n)| n >= config.min_freq.max(1) && !SPECIAL_TOKENS.contains(&t.as_str()))
            .map(|(t, &n)| (t.as_str(), n))
            .collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let room = config
            .max_size
            .map_or(usize::MAX, |m| m - SPECIAL_TOKENS.len());
        ranked.truncate(room);
        let tokens = SPECIAL_TOKENS
            .iter()
            .map(|s| s.to_string())
            .chain(ranked.into_iter().map(|(t, _)| t.to_owned()))
            .collect();
        Vocab::from_tokens(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(pairs: &[(&str, u64)]) -> VocabBuilder {
        let mut b = VocabBuilder::new();
        for (t, n) in pairs {
            b.add_count(t, *n);
        }
        b
    }

    #[test]
    fn order_is_frequency_then_bytes() {
        let b = builder(&[("c", 10), ("C", 10), ("[nH]", 3), ("Br", 1), ("O", 7)]);
        let v = b.build(&VocabConfig::default()).unwrap();
        assert_eq!(
            v.tokens(),
            ["<bos>", "<eos>", "<pad>", "<mask>", "<unk>", "C", "c", "O", "[nH]", "Br"]
        );
        assert_eq!(v.id("c"), Some(6));
        assert_eq!(v.id("[nH]"), Some(8));
        assert_eq!(v.id("Cl"), None);
        assert_eq!(v.id_or_unk("Cl"), 4);
        let sp = v.special_ids();
        assert_eq!((sp.bos, sp.eos, sp.pad, sp.mask, sp.unk), (0, 1, 2, 3, 4));
    }

    #[test]
    fn min_freq_and_max_size() {
        let b = builder(&[("c", 10), ("C", 9), ("[nH]", 3), ("Br", 1)]);
        let v = b
            .build(&VocabConfig {
                min_freq: 3,
                max_size: None,
            })
            .unwrap();
        assert_eq!(v.len(), 8);
        let v = b
            .build(&VocabConfig {
                min_freq: 1,
                max_size: Some(7),
            })
            .unwrap();
        assert_eq!(&v.tokens()[5..], ["c", "C"]);
        assert!(b
            .build(&VocabConfig {
                min_freq: 1,
                max_size: Some(4)
            })
            .is_err());
    }

    #[test]
    fn merge_is_order_independent() {
        let mut a = builder(&[("c", 2), ("N", 1)]);
        a.merge(builder(&[("N", 5), ("O", 1)]));
        let mut b = builder(&[("N", 5), ("O", 1)]);
        b.merge(builder(&[("c", 2), ("N", 1)]));
        let cfg = VocabConfig::default();
        assert_eq!(a.build(&cfg).unwrap(), b.build(&cfg).unwrap());
    }

    #[test]
    fn from_tokens_validates() {
        assert!(Vocab::from_tokens(vec!["<bos>".into(), "C".into()]).is_err());
        let mut t: Vec<String> = SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
        t.push("C".into());
        t.push("C".into());
        assert!(Vocab::from_tokens(t).is_err());
    }
}
