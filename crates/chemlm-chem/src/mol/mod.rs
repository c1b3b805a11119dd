//! The [`Molecule`] type: parsing, canonical SMILES, fragments, scaffolds, fingerprints, descriptors.
//!
//! Each job lives in its own module as an `impl Molecule` block; all of them call chematic's
//! RDKit-compatible ports, so results equal RDKit's (checked by `tests/mol_golden.rs`).

mod brics;
mod fingerprint;
mod fragment;
mod molecule;
mod morgan;
mod parse;
mod scaffold;
mod smiles_dfs;
mod syntax;

pub use fingerprint::Fingerprint;
pub use molecule::{canonicalize, Molecule};
pub use morgan::MACCS_BITS;
