//! The [`Molecule`] type: parsing, canonical SMILES, fragments, scaffolds, fingerprints, descriptors.
//!
//! Each job lives in its own module as an `impl Molecule` block; all of them call chematic's
//! RDKit-compatible ports, so results equal RDKit's (checked by `tests/mol_golden.rs`).

mod brics;
mod fingerprint;
mod fragment;
mod labels;
mod molecule;
mod morgan;
mod parse;
mod scaffold;
mod smiles_dfs;
mod syntax;

pub use fingerprint::Fingerprint;
pub(crate) use syntax::MAX_LABEL;

/// The largest molecule (atoms, hydrogens written in brackets included) chemlm reads. RDKit-exact
/// canonical ranking grows quadratically on long chains (10,000 atoms: about 1 s to canonicalize);
/// drug-like molecules have under 200 and the largest MoleculeNet entries under 1,000, so a polymer
/// past this size is refused with this reason instead of stalling a batch job.
pub const MAX_ATOMS: usize = 10_000;
pub use molecule::{canonicalize, Molecule};
pub use morgan::MACCS_BITS;
