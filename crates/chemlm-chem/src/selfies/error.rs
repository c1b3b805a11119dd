//! Why a SMILES could not be encoded or a SELFIES string could not be decoded.
//!
//! Each variant names the offending piece of input (byte position in a SMILES, symbol and its
//! position in a SELFIES string) so that a batch job can report a bad line precisely. The public
//! functions return [`ChemError::Selfies`] carrying this message.

use crate::error::ChemError;
use thiserror::Error;

/// An error of the SELFIES encoder, decoder or symbol utilities.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SelfiesError {
    /// The SMILES could not be read by the encoder's SMILES parser (a port of the one in
    /// `selfies`, which is stricter than RDKit in places, e.g. no `*`, `$` or `@TH1`).
    #[error("cannot encode {smiles:?}: invalid SMILES at position {position}: {reason}")]
    Smiles {
        smiles: String,
        position: usize,
        reason: String,
    },
    /// The aromatic part of the molecule has no Kekulé structure under the `selfies` rules.
    #[error("cannot encode {smiles:?}: kekulization failed{detail}")]
    Kekulization { smiles: String, detail: String },
    /// Some atoms have more bonds than the semantic constraints allow (strict encoding).
    #[error(
        "cannot encode {smiles:?}: input violates the semantic constraints: {}",
        violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; ")
    )]
    Constraints {
        smiles: String,
        violations: Vec<Violation>,
    },
    /// A SELFIES symbol that the decoder does not know, at 0-based symbol `index` within
    /// `.`-separated fragment `fragment` of the input.
    #[error("cannot decode {selfies:?}: invalid symbol {symbol:?} (symbol {index} of fragment {fragment}): {reason}")]
    Symbol {
        selfies: String,
        symbol: String,
        fragment: usize,
        index: usize,
        reason: &'static str,
    },
    /// A `[` without its closing `]`.
    #[error("malformed SELFIES {selfies:?}: hanging '[' bracket at byte {position}")]
    HangingBracket { selfies: String, position: usize },
    /// A symbol with no SELFIES 1.0 (ChemGPT) or 2.x equivalent in the legacy translation.
    #[error("cannot translate symbol {symbol:?} at position {index}: {reason}")]
    Legacy {
        symbol: String,
        index: usize,
        reason: &'static str,
    },
    /// Bad semantic constraints (unknown preset, malformed key).
    #[error("invalid semantic constraints: {0}")]
    Constraint(String),
}

/// One atom with more bonds than its capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The atom as SMILES, e.g. `C` or `[N+1]`.
    pub atom: String,
    /// 0-based index of the atom in SMILES order.
    pub atom_index: usize,
    /// Total bond order of the atom.
    pub bonds: u32,
    /// The bonding capacity the constraints allow.
    pub capacity: i64,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "atom {} ({}) has {} bond(s), a max. of {} is allowed",
            self.atom_index, self.atom, self.bonds, self.capacity
        )
    }
}

impl From<SelfiesError> for ChemError {
    fn from(e: SelfiesError) -> Self {
        ChemError::Selfies(e.to_string())
    }
}
