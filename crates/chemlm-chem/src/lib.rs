//! Molecules for chemlm.
//!
//! - [`mol`]: SMILES parsing, canonical form, fragments, scaffolds and fingerprints. The heavy lifting
//!   is done by `chematic` through its RDKit-compatible functions, wrapped behind our own small
//!   [`Molecule`] API so the backend can be replaced without touching the rest of chemlm.
//! - [`selfies`]: a SELFIES 2.x encoder and decoder written for parity with the Python `selfies` package.

pub mod error;
pub mod mol;
pub mod selfies;

pub use error::ChemError;
pub use mol::{canonicalize, Fingerprint, Molecule, MAX_ATOMS};
