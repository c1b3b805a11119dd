//! The [`Molecule`] type: parsing, canonical SMILES, scaffolds, fingerprints.

mod fingerprint;
mod molecule;

pub use fingerprint::Fingerprint;
pub use molecule::{canonicalize, Molecule};
