//! Neural-scaling experiments (ChemGPT, Frey et al. 2023): a resumable grid of real training runs
//! ([`sweep`]), power-law fits with bootstrap intervals ([`fit`]) and log-log plots ([`plot`]).

pub mod fit;
pub mod plot;
pub mod run;
pub mod sweep;

pub use fit::{fit_power_law, fit_power_law_offset, fit_with_bootstrap, FitWithCi, PowerLaw};
pub use run::{train_run, Corpus, RunResult, RunSpec};
pub use sweep::{
    read_results, run_grid, run_sweep, Cell, GridCell, ModelSize, SweepConfig, SweepRow,
};
