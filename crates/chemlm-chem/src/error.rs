//! Errors of the chemistry layer.

use thiserror::Error;

/// Why a molecule could not be read or processed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChemError {
    /// The SMILES string is malformed. `position` is a 0-based byte offset into the input where known.
    #[error("invalid SMILES{}: {reason}", position.map(|p| format!(" at position {p}")).unwrap_or_default())]
    Parse {
        position: Option<usize>,
        reason: String,
    },
    /// The SMILES parsed but the molecule is chemically invalid (valence, kekulization, ...).
    #[error("invalid molecule: {0}")]
    Sanitize(String),
    /// The request is outside what the RDKit-exact backend computes (a Morgan radius above 3, a
    /// non-tetrahedral stereo centre, ...): refused rather than answered with a non-RDKit result.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A SELFIES string could not be encoded or decoded.
    #[error("SELFIES: {0}")]
    Selfies(String),
}
