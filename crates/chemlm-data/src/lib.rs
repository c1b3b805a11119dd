//! Data for chemlm: tokenizers, readers, the dataset registry, splits and token shards.
//!
//! - [`tokenizer`]: MoLFormer's SMILES regex tokenizer and a SELFIES bracket tokenizer, vocabularies
//!   with `<bos> <eos> <pad> <mask> <unk>`, Hugging Face `tokenizer.json` import/export.
//! - [`reader`]: streaming CSV/TSV/SMI readers, gzip by magic bytes, line numbers kept.
//! - [`registry`] and [`dataset`]: MoleculeNet, DeLiCaTe and MOSES by name, resolved from
//!   `CHEMLM_DATA_DIR` or downloaded (SHA-256 checked) into a cache; labeled data in memory.
//! - [`split`]: random, scaffold (chemprop-exact), stratified and k-fold splits saved as JSON with a
//!   hash of the index lists.
//! - [`shards`]: memory-mapped token shards with a manifest, and the length-bucketed /
//!   token-budget batching the trainer reads them with.
//! - [`prepare`]: the corpus pipeline behind `chemlm data prepare`.
//! - [`sharding`]: which input lines shard `I/N` of a `--shard I/N` run works on.
//! - [`seq2seq`]: the multi-task text+chemistry pairs for T5 (`chemlm data seq2seq`), with the
//!   SentencePiece tokenizer of [`tokenizer::sentencepiece`] and paired token shards.

pub mod atomic;
pub mod convert;
pub mod dataset;
pub mod download;
pub mod embeddings;
pub mod error;
pub mod prepare;
pub mod reader;
pub mod registry;
pub mod seq2seq;
pub mod sharding;
pub mod shards;
pub mod split;
pub mod tokenizer;

/// Plain token splitting for the line-mapping `chemlm tokenize` command.
pub mod tokenize {
    pub use crate::tokenizer::pretokenize::{
        split_selfies as selfies_tokens, split_smiles as smiles_tokens,
    };
}

pub use dataset::{LabeledCsvOptions, LabeledDataset};
pub use error::{DataError, TokenizeError};
pub use prepare::{
    merge_parts, prepare, PartManifest, PrepareConfig, PrepareObserver, PrepareSummary, VocabSource,
};
pub use reader::{open_input, read_text_line, LineEnds, MoleculeReader, ReadOptions, TableFormat};
pub use registry::{find as find_dataset, registry, DatasetInfo, Metric, Resolver, TaskType};
pub use seq2seq::{Seq2SeqShards, Seq2SeqSplit, Task as Seq2SeqTask};
pub use sharding::{
    count_lines, open_input_shard, open_shard, ShardInput, ShardSpec, ShardSpecError,
};
pub use shards::{Batch, BatchConfig, BatchState, Batcher, Batching, ShardSet, TokenDataset};
pub use split::{make_split, Fold, SplitFile, SplitMethod, SplitRequest, SplitSizes};
pub use tokenizer::sentencepiece::{Seq2SeqTokenizer, UnigramConfig};
pub use tokenizer::{OovPolicy, OovTally, Tokenizer, TokenizerKind, Vocab, VocabConfig};
