//! Analyses of trained chemical language models.
//!
//! [`attention`] answers MoLFormer's structure question (Ross et al. 2022, "Large-scale chemical
//! language representations capture molecular structure and properties"): do attention maps of a
//! model trained on SMILES alone follow the bond topology and 3-D geometry of the molecules? For
//! every QM9 molecule the atom tokens of its SMILES are matched to the atoms of its DFT geometry
//! ([`topology`]), each layer's and head's attention among atom tokens is compared with the
//! topological distance classes (cosine similarity, the paper's measure) and with the interatomic
//! distances (Spearman rank correlation) ([`stats`]), and the averages go to a JSON report and
//! heat maps ([`plot`]).

pub mod attention;
pub mod error;
pub mod plot;
pub mod stats;
pub mod tokens;
pub mod topology;

pub use attention::{analyze_attention, AttentionOptions, AttentionReport};
pub use error::{AnalysisError, Result};
