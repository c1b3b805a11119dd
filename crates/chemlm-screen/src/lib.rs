//! Ligand-based virtual screening.
//!
//! - [`scorer`]: the [`Scorer`] trait (one score per library SMILES, the query side prepared once) and
//!   the ECFP similarity scorer. Model-embedding scorers implement the same trait.
//! - [`topk`]: a bounded min-heap that keeps the best `k` hits, so memory does not grow with the library.
//! - [`stream`]: reads a library in chunks, scores each chunk in parallel (rayon), keeps the top `k`
//!   and reports invalid lines as it goes.
//! - [`hits`]: the hits CSV, written atomically.
//! - [`dude`]: the DUD-E retrospective benchmark (ROC-AUC, BEDROC, enrichment factors).

pub mod dude;
pub mod error;
pub mod hits;
pub mod scorer;
pub mod stream;
pub mod topk;

pub use error::ScreenError;
pub use scorer::{Aggregate, FingerprintKind, FingerprintScorer, Score, Scorer};
pub use stream::{
    read_molecule_list, screen, BadLine, Hit, ListEntry, ScreenOptions, ScreenSummary,
};
pub use topk::TopK;
