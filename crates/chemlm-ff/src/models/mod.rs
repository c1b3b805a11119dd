//! Force-field architectures, one file each.

pub mod allegro;
pub mod painn;
pub mod registry;
pub mod schnet;
pub mod spookynet;

pub use registry::{build, load, n_params, Arch};
