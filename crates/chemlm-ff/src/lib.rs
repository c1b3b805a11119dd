//! Neural force fields on candle: models map a batch of atomic structures to energies, forces
//! are minus the gradient of the energy with respect to positions (autograd), and training on
//! forces differentiates those gradients again (see [`second_order`]).
//!
//! Units are `chemlm-atoms`'s: eV, Å, eV/Å.

pub mod bench;
pub mod blocks;
pub mod error;
pub mod fused;
pub mod input;
pub mod io;
pub mod md;
pub mod message;
pub mod models;
pub mod o3;
pub mod pool;
pub mod potential;
pub mod scale;
pub mod second_order;
pub mod train;

pub use error::{FfError, FfResult};
pub use input::AtomsInput;
pub use potential::{energy_and_forces, EnergyForces, Potential};
pub use scale::EnergyScale;
