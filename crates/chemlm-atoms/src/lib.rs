//! 3D side of chemlm: structures, their files, neighbour lists, graph batches and molecular
//! dynamics. Kept apart from the SMILES crates so that nothing 3D leaks into them, and free of
//! tensors so that readers, neighbour lists and integrators are usable without a model.
//!
//! Internal units are ASE's: Å for lengths, eV for energies, eV/Å for forces, fs for time,
//! amu for masses. Readers convert from the units a file declares (see [`units`]).

pub mod elements;
pub mod error;
pub mod graph;
pub mod io;
pub mod md;
pub mod neighbors;
pub mod structure;
pub mod units;

pub use error::{AtomsError, Result};
pub use graph::{Graph, GraphBatch};
pub use neighbors::neighbor_list;
pub use structure::{Cell, Structure};
