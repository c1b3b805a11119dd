//! Training for chemlm: objectives (masked and causal LM), optimizers (AdamW, LAMB), schedules,
//! the trainer with exact checkpoint/resume, metrics and loss-curve plots.
//!
//! The trainer sees models only through [`chemlm_models::LanguageModel`] (via an [`Objective`])
//! and their weights through a `candle_nn::VarMap`, and data only through [`BatchSource`], so new
//! architectures, data feeders and losses (distillation) plug in without touching it.

pub mod baselines;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod dist;
pub mod distill;
pub mod error;
pub mod eval;
pub mod finetune;
pub mod genmetrics;
pub mod jsonl;
pub mod metrics;
pub mod objectives;
pub mod optim;
pub mod plot;
pub mod prefetch;
pub mod pretrain;
pub mod progress;
pub mod rng;
pub mod run_dir;
pub mod scaling;
pub mod seq2seq;
pub mod shards;
pub mod tpe;
pub mod trainer;

pub use config::TrainConfig;
pub use data::{Batch, BatchSource, BatchingConfig, InMemorySource};
pub use error::{Result, TrainError};
pub use metrics::{StepRecord, TpeTracker, ValidRecord};
pub use objectives::{ClmObjective, LossOutput, MlmObjective, Objective};
pub use prefetch::Prefetch;
pub use shards::ShardSource;
pub use trainer::{EvalResult, TrainSummary, Trainer};
