//! Training, evaluation and inference of force fields (`chemlm ff train | eval | predict`, and
//! the MD calculator), on top of any [`crate::Potential`].
//!
//! - [`data`]: frames from files, neighbour graphs computed once, seeded split (`split.json`).
//! - [`fit`]: per-element energy reference and scale fitted on the training set.
//! - [`loss`]: NFF/schnetpack's weighted energy + force MSE.
//! - [`trainer`]: Adam + ReduceLROnPlateau + early stopping, EMA, checkpoints, exact resume,
//!   `metrics.jsonl`, `best/`, `loss.png` ([`train_potential`]).
//! - [`eval`] / [`predict`]: metrics against labels and batched inference.
//! - [`calculator`]: [`ModelCalculator`], a model as `chemlm_atoms::md::Calculator`.
//! - [`sweep`]: the force-field scaling grid on the shared sweep engine (`chemlm scale sweep`).
//!
//! The LitMatter/NFF recipe is [`FfTrainConfig::nff_preset`] (`configs/ff-train-nff.toml`).

pub mod calculator;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod ema;
pub mod eval;
pub mod fit;
pub mod loss;
pub mod metrics;
pub mod plateau;
pub mod plot;
pub mod predict;
pub mod sweep;
pub mod trainer;

pub use calculator::ModelCalculator;
pub use checkpoint::{latest_checkpoint, StopReason};
pub use config::{parse_split, FfTrainConfig, ScaleMode, TrainDtype};
pub use data::{load_frames, split_indices, FfDataset, LoadedFrames, SplitIndices};
pub use eval::{evaluate, FfMetrics};
pub use fit::{fit_energy_scale, EnergyFit};
pub use metrics::EpochRecord;
pub use predict::{predict, predict_structures, Prediction};
pub use trainer::{train_potential, TrainEvent, TrainOptions, TrainReport};
