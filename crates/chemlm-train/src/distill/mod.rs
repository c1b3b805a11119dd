//! Knowledge distillation (DeLiCaTe): a large teacher encoder teaches a small student.
//!
//! - General (pretraining-stage) distillation, [`DistillObjective`]: on unlabelled SMILES, the
//!   student is trained on the same masked batches as a frozen teacher with soft-target KL on the
//!   MLM logits (temperature `T`, scaled by `T²`), hidden-state MSE and Gram-matrix MMD on a
//!   teacher→student [`LayerMap`] (through learned [`Projections`] when the widths differ),
//!   optional attention-map MSE, and the hard MLM loss. It is an ordinary
//!   [`crate::Objective`], so [`crate::Trainer`] runs it with the usual optimizer, schedule,
//!   checkpoints and resume; [`trainable_params`] gives the trainer the student's and projections'
//!   variables only.
//! - Task-specific (fine-tuning-stage) distillation, [`task_distill_loss`]: soft targets from a
//!   fine-tuned teacher's predictions mixed with the true labels, for classification and
//!   regression heads.

pub mod config;
pub mod general;
pub mod losses;
pub mod objective;
pub mod projection;
pub mod task;

pub use config::{DistillConfig, LayerMap};
pub use objective::{trainable_params, DistillLosses, DistillObjective};
pub use projection::Projections;
pub use task::{task_distill_loss, TaskDistillConfig, TaskDistillLoss, TaskTargets};
