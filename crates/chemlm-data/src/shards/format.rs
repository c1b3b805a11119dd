//! The on-disk layout of token shards and their `manifest.json`.
//!
//! A shard directory holds, per split (`train`, `valid`, ...), one or more shard pairs:
//!
//! - `{split}-{nnnnn}.tokens`: every sequence's token ids back to back, little-endian, `u16` when
//!   the vocabulary has at most 65,536 ids (half the bytes to read and cache), else `u32`;
//! - `{split}-{nnnnn}.offsets`: `n + 1` little-endian `u64` token offsets; sequence `i` is
//!   `tokens[offsets[i]..offsets[i + 1]]`, `offsets[0] = 0`.
//!
//! Both are plain arrays with no header, so they can be memory-mapped and read from any language
//! (`numpy.memmap(path, dtype="<u2")`). `manifest.json` names the files, their counts and
//! SHA-256, the tokenizer (`tokenizer.json`, with its SHA-256) and how the data were prepared.
//! It is written last, so a directory without one is incomplete.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::tokenizer::{SpecialIds, TokenizerKind};

/// Format tag in `manifest.json`.
pub const SHARD_FORMAT: &str = "chemlm-shards/1";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The tokenizer's file name.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Width of a stored token id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenDtype {
    U16,
    U32,
}

impl TokenDtype {
    /// `u16` when every id of a vocabulary of `vocab_size` fits, else `u32`.
    pub fn for_vocab(vocab_size: usize) -> Self {
        if vocab_size <= 1 << 16 {
            TokenDtype::U16
        } else {
            TokenDtype::U32
        }
    }

    /// Bytes per id.
    pub fn size(self) -> usize {
        match self {
            TokenDtype::U16 => 2,
            TokenDtype::U32 => 4,
        }
    }

    /// Largest storable id.
    pub fn max_id(self) -> u32 {
        match self {
            TokenDtype::U16 => u16::MAX as u32,
            TokenDtype::U32 => u32::MAX,
        }
    }
}

/// One shard pair of a split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFiles {
    /// File name of the token array, relative to the directory.
    pub tokens: String,
    /// File name of the offsets array.
    pub offsets: String,
    /// Number of sequences.
    pub sequences: u64,
    /// Number of token ids.
    pub tokens_count: u64,
    /// Shortest and longest sequence (0 when empty).
    pub min_len: u32,
    pub max_len: u32,
    pub tokens_sha256: String,
    pub offsets_sha256: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// [`SHARD_FORMAT`].
    pub format: String,
    /// What the tokens are.
    pub kind: TokenizerKind,
    pub dtype: TokenDtype,
    /// Always `"little"`.
    pub byte_order: String,
    pub vocab_size: usize,
    pub special_ids: SpecialIds,
    /// Whether each stored sequence starts with `<bos>` and ends with `<eos>`.
    pub with_bos_eos: bool,
    /// Tokenizer file name (`tokenizer.json`).
    pub tokenizer: String,
    pub tokenizer_sha256: String,
    /// Split name → its shards, in order.
    pub splits: BTreeMap<String, Vec<ShardFiles>>,
    /// Parameters and counts of the run that wrote the shards.
    #[serde(default)]
    pub prepare: serde_json::Value,
    /// `chemlm-data <version>`.
    pub created_by: String,
}

impl ShardManifest {
    /// Sequences in a split (0 when absent).
    pub fn sequences(&self, split: &str) -> u64 {
        self.splits
            .get(split)
            .map_or(0, |s| s.iter().map(|f| f.sequences).sum())
    }

    /// Tokens in a split (0 when absent).
    pub fn tokens(&self, split: &str) -> u64 {
        self.splits
            .get(split)
            .map_or(0, |s| s.iter().map(|f| f.tokens_count).sum())
    }
}
