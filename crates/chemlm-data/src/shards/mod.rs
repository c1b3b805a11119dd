//! Token shards: flat little-endian token arrays plus `u64` offsets, memory-mapped for training,
//! described by a `manifest.json`; and the batching the trainer reads them with.
//!
//! See [`format`] for the layout.

pub mod batch;
pub mod format;
pub mod reader;
pub mod writer;

pub use batch::{Batch, BatchConfig, BatchState, Batcher, Batching};
pub use format::{
    ShardFiles, ShardManifest, TokenDtype, MANIFEST_FILE, SHARD_FORMAT, TOKENIZER_FILE,
};
pub use reader::{ShardSet, TokenDataset};
pub use writer::{write_manifest, ShardWriter};
