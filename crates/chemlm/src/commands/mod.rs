//! One module per command family. Each exposes clap argument types and `run` functions.

pub mod chem;
pub mod data;
pub mod embed;
pub mod model;
pub mod pretrain;
