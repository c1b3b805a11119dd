//! Paired token shards of a seq2seq data directory, and their reader.
//!
//! Layout of the output directory `DIR` of [`super::build`]:
//!
//! ```text
//! DIR/train.jsonl, valid.jsonl, test.jsonl   {"task","source","target"} per line (source = prompt + input)
//! DIR/tokenizer.json                         the T5 tokenizer the shards were written with
//! DIR/escape.json                            only when a given tokenizer needed repair (CharEscape)
//! DIR/summary.json                           counts per task and split, bad records, leaks, round trip
//! DIR/manifest.json                          Seq2SeqManifest (format "chemlm-seq2seq/1"), written last
//! DIR/shards/{split}.source-00000.tokens     source ids (u16 LE when the vocabulary fits, else u32)
//! DIR/shards/{split}.source-00000.offsets    n + 1 u64 LE offsets
//! DIR/shards/{split}.target-00000.tokens     target ids
//! DIR/shards/{split}.target-00000.offsets
//! DIR/shards/{split}.tasks                   one byte per pair: index in Task::ALL
//! ```
//!
//! The token and offset files are those of [`crate::shards`] (written by its `ShardWriter`, read by
//! its `TokenDataset`), one "split" per side: sequence `i` of `train.source` and sequence `i` of
//! `train.target` are one pair. Every sequence ends with `</s>` (as Hugging Face's T5 tokenizer
//! encodes); there is no `<bos>`. For teacher forcing, T5 feeds the decoder `[pad] + target[..n-1]`
//! and scores `target` (the decoder start id is the pad id, given in the manifest). The manifest is a
//! separate format (not `chemlm-shards/1`) because a SentencePiece tokenizer has neither a
//! [`crate::tokenizer::TokenizerKind`] nor `<bos>`/`<mask>` ids.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Task;
use crate::download::sha256_file;
use crate::error::DataError;
use crate::shards::{ShardFiles, TokenDataset, TokenDtype, MANIFEST_FILE};
use crate::tokenizer::escape::CharEscape;
use crate::tokenizer::sentencepiece::Seq2SeqTokenizer;

/// Format tag of [`Seq2SeqManifest`].
pub const SEQ2SEQ_FORMAT: &str = "chemlm-seq2seq/1";
/// Subdirectory of the shard files.
pub const SHARD_DIR: &str = "shards";
/// File of the escape, when there is one.
pub const ESCAPE_FILE: &str = "escape.json";

/// One split's pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedSplit {
    pub pairs: u64,
    pub source: Vec<ShardFiles>,
    pub target: Vec<ShardFiles>,
    /// File (under `shards/`) of one task byte per pair.
    pub tasks: String,
    pub tasks_sha256: String,
}

/// `DIR/manifest.json` of a seq2seq data directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2SeqManifest {
    /// [`SEQ2SEQ_FORMAT`].
    pub format: String,
    pub dtype: TokenDtype,
    /// Always `"little"`.
    pub byte_order: String,
    pub vocab_size: usize,
    pub pad_id: u32,
    pub eos_id: u32,
    pub unk_id: u32,
    /// T5 starts decoding from the pad id.
    pub decoder_start_id: u32,
    /// Every stored sequence ends with `</s>`.
    pub with_eos: bool,
    /// Tokenizer file name, relative to the directory.
    pub tokenizer: String,
    pub tokenizer_sha256: String,
    /// Escape file name when the tokenizer is used with a [`CharEscape`].
    pub escape: Option<String>,
    /// Directory of the shard files, relative to the manifest.
    pub shard_dir: String,
    /// Task names by index (the bytes of the `.tasks` files).
    pub tasks: Vec<String>,
    /// `train`, `valid`, `test` → its pairs.
    pub splits: BTreeMap<String, PairedSplit>,
    /// `chemlm-data <version>`.
    pub created_by: String,
}

/// A seq2seq data directory opened for reading.
#[derive(Clone, Debug)]
pub struct Seq2SeqShards {
    dir: PathBuf,
    manifest: Seq2SeqManifest,
}

/// One split: pairs of (source ids, target ids), memory-mapped.
#[derive(Debug)]
pub struct Seq2SeqSplit {
    source: TokenDataset,
    target: TokenDataset,
    tasks: Vec<u8>,
}

impl Seq2SeqShards {
    /// Reads `dir/manifest.json`.
    pub fn open(dir: &Path) -> Result<Self, DataError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
        let manifest: Seq2SeqManifest = serde_json::from_str(&text)
            .map_err(|e| DataError::format(&path, format!("invalid seq2seq manifest: {e}")))?;
        if manifest.format != SEQ2SEQ_FORMAT {
            return Err(DataError::format(
                &path,
                format!("format {:?}, expected {SEQ2SEQ_FORMAT:?}", manifest.format),
            ));
        }
        if manifest.byte_order != "little" {
            return Err(DataError::format(
                &path,
                "only little-endian shards are supported",
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Seq2SeqManifest {
        &self.manifest
    }

    /// Path of `tokenizer.json`.
    pub fn tokenizer_path(&self) -> PathBuf {
        self.dir.join(&self.manifest.tokenizer)
    }

    /// The tokenizer (SHA-256 checked), with its escape when the directory has one.
    pub fn tokenizer(&self) -> Result<Seq2SeqTokenizer, DataError> {
        let p = self.tokenizer_path();
        let actual = sha256_file(&p)?;
        if actual != self.manifest.tokenizer_sha256 {
            return Err(DataError::Checksum {
                what: p.display().to_string(),
                expected: self.manifest.tokenizer_sha256.clone(),
                actual,
            });
        }
        let tok = Seq2SeqTokenizer::from_file(&p)?;
        let escape = match &self.manifest.escape {
            Some(name) => {
                let ep = self.dir.join(name);
                let text = std::fs::read_to_string(&ep).map_err(|e| DataError::io(&ep, e))?;
                Some(
                    serde_json::from_str::<CharEscape>(&text)
                        .map_err(|e| DataError::format(&ep, format!("invalid escape: {e}")))?,
                )
            }
            None => None,
        };
        Ok(tok.with_escape(escape))
    }

    /// Split names present (`test`, `train`, `valid`).
    pub fn split_names(&self) -> Vec<String> {
        self.manifest.splits.keys().cloned().collect()
    }

    /// Memory-maps a split.
    pub fn split(&self, name: &str) -> Result<Seq2SeqSplit, DataError> {
        let s = self.manifest.splits.get(name).ok_or_else(|| {
            DataError::format(
                self.dir.join(MANIFEST_FILE),
                format!(
                    "no split {name:?}; splits are: {}",
                    self.split_names().join(", ")
                ),
            )
        })?;
        let sd = self.dir.join(&self.manifest.shard_dir);
        let source = TokenDataset::open(&sd, &s.source, self.manifest.dtype)?;
        let target = TokenDataset::open(&sd, &s.target, self.manifest.dtype)?;
        let tp = sd.join(&s.tasks);
        let tasks = std::fs::read(&tp).map_err(|e| DataError::io(&tp, e))?;
        if source.len() as u64 != s.pairs
            || target.len() as u64 != s.pairs
            || tasks.len() as u64 != s.pairs
        {
            return Err(DataError::format(
                &tp,
                format!(
                    "split {name}: {} sources, {} targets, {} task bytes, manifest says {} pairs",
                    source.len(),
                    target.len(),
                    tasks.len(),
                    s.pairs
                ),
            ));
        }
        if let Some(&b) = tasks.iter().find(|&&b| Task::from_index(b).is_none()) {
            return Err(DataError::format(
                &tp,
                format!("task byte {b} is not a task"),
            ));
        }
        Ok(Seq2SeqSplit {
            source,
            target,
            tasks,
        })
    }
}

impl Seq2SeqSplit {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pair `i`: (source ids, target ids), both ending in `</s>`. Panics if `i >= len()`.
    pub fn pair(&self, i: usize) -> (Vec<u32>, Vec<u32>) {
        (self.source.get(i), self.target.get(i))
    }

    /// Task of pair `i`. Panics if `i >= len()`.
    pub fn task(&self, i: usize) -> Task {
        Task::from_index(self.tasks[i]).unwrap_or(Task::Forward)
    }

    /// Every pair, in order (what an in-memory trainer takes).
    pub fn pairs(&self) -> Vec<(Vec<u32>, Vec<u32>)> {
        (0..self.len()).map(|i| self.pair(i)).collect()
    }

    /// Source lengths in tokens.
    pub fn source_lengths(&self) -> Vec<u32> {
        self.source.lengths()
    }

    /// Target lengths in tokens.
    pub fn target_lengths(&self) -> Vec<u32> {
        self.target.lengths()
    }

    /// The source side as a token dataset.
    pub fn sources(&self) -> &TokenDataset {
        &self.source
    }

    /// The target side as a token dataset.
    pub fn targets(&self) -> &TokenDataset {
        &self.target
    }

    /// Task of every pair.
    pub fn tasks(&self) -> Vec<Task> {
        (0..self.len()).map(|i| self.task(i)).collect()
    }
}
