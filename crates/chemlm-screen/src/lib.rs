//! Ligand-based virtual screening.
//!
//! - [`scorer`]: the [`Scorer`] trait (one score per library SMILES, the query side prepared once) and
//!   the ECFP similarity scorer.
//! - [`embedding`]: cosine similarity of language-model embeddings ([`EmbeddingScorer`] over an
//!   [`Embedder`], e.g. a distilled student loaded as [`ModelEmbedder`]).
//! - [`prediction`]: a fine-tuned model's predicted activity as the score.
//! - [`topk`]: a bounded min-heap that keeps the best `k` hits, so memory does not grow with the library.
//! - [`stream`]: reads a library in chunks, scores each chunk in parallel (rayon), keeps the top `k`
//!   and reports invalid lines as it goes.
//! - [`hits`]: the hits CSV, written atomically; a shard's hits (`--shard I/N`) and their exact
//!   merge.
//! - [`dude`]: the DUD-E retrospective benchmark (ROC-AUC, BEDROC, enrichment factors).

pub mod dude;
pub mod embedding;
pub mod error;
pub mod hits;
pub mod prediction;
pub mod scorer;
pub mod stream;
pub mod topk;

pub use embedding::{Embedder, EmbeddingScorer, ModelEmbedder};
pub use error::ScreenError;
pub use prediction::PredictionScorer;
pub use scorer::{Aggregate, FingerprintKind, FingerprintScorer, Score, Scorer};
pub use stream::{
    read_molecule_list, screen, shard_unit, BadLine, Hit, ListEntry, ScreenOptions, ScreenSummary,
};
pub use topk::TopK;
