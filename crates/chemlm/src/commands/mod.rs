//! One module per command family. Each exposes clap argument types and `run` functions.

pub mod baseline;
pub mod bench;
pub mod bench_screen;
pub mod chem;
pub mod data;
pub mod embed;
pub mod model;
pub mod pretrain;
pub mod screen;
