//! In-tree ECFP baselines (issue 4 §3): ECFP4 (2048 bits) + L2 logistic regression, ridge
//! regression, and a one-hidden-layer MLP, run on exactly the splits the language models use, so
//! every number chemlm reports sits beside what a chemist would try first.
//!
//! Everything is plain Rust in f64 and deterministic for a given seed. Features stay sparse (lists
//! of on bits), which makes the linear models and the MLP's first layer cost O(on bits) per
//! molecule rather than O(2048). Multi-task data with missing labels is handled by masking: a
//! missing label contributes nothing to a loss, a fit or a metric.

pub mod features;
pub mod lbfgs;
pub mod logistic;
pub mod mlp;
pub mod output;
pub mod ridge;
pub mod run;

pub use features::{ecfp_bits, Featurized};
pub use logistic::{
    fit_logistic, fit_multi_logistic, LogisticConfig, LogisticModel, MultiLogistic,
};
pub use mlp::{fit_mlp, masked_loss, Mlp, MlpConfig, MlpFit, MlpTask};
pub use output::{open_dataset, write_run};
pub use ridge::{fit_multi_ridge, fit_ridge, MultiRidge, RidgeModel};
pub use run::{
    evaluate, run_baselines, BaselineConfig, BaselineKind, BaselineReport, MetricSummary,
    SeedResult,
};

/// Why a baseline could not be fitted or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error(transparent)]
    Data(#[from] chemlm_data::DataError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Numeric(String),
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, BaselineError>;
