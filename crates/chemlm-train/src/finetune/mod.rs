//! Fine-tuning a pretrained chemical language model into a property predictor (issue 4 §1).
//!
//! A small MLP head sits on the pooled encoder output (mean pooling for MoLFormer / GPT-Neo, the
//! first (`<bos>`/CLS) position for BERT and ALBERT). Classification is single- or multi-task
//! with missing labels (masked BCE); regression standardises targets on the training set and
//! trains with L1 or MSE. Two regimes, as in MoLFormer: `frozen` embeds every molecule once and
//! trains only the head; `finetune` trains encoder and head together with separate learning
//! rates. Early stopping watches the validation metric and the test score is the one at the best
//! validation epoch. Everything random (init, dropout, shuffling) comes from seeded ChaCha
//! streams, so a run is reproducible on CPU.
//!
//! The best model is saved as a directory ([`artifact`]) that `chemlm predict` reloads. A whole
//! run (splits, seeds, fits, run directory) is [`run::run`].
//!
//! Task-stage distillation ([`teacher`]): a fine-tuned teacher run's predictions for the
//! training molecules are mixed into the loss as soft targets ([`fit_fold_distilled`]).

pub mod artifact;
pub mod batches;
pub mod head;
pub mod loss;
pub mod report;
pub mod run;
pub mod split;
pub mod standardize;
pub mod teacher;
pub mod train;

pub use artifact::{save_model_dir, save_with_tokenizer, FinetuneMeta, FinetunedModel};
pub use chemlm_models::encode::{
    encode_for_model, encode_for_model_tallied, pad_batch, pool, EncodeOptions, Pooling,
};
pub use head::{Head, HeadConfig};
pub use loss::{
    finetune_batch_loss, masked_bce_with_logits, masked_regression_loss, BatchLoss, RegressionLoss,
};
pub use report::{results_csv, summarize, summary_markdown, RunResult, Summary};
pub use run::{
    check_out_dir, make_seed_split, primary_key, run_dataset, write_run_files, DatasetRun,
    FinishedRun, RunOutputs, RunSpec, SplitOptions, SplitPlan,
};
pub use split::halve_test_folds;
pub use standardize::Standardizer;
pub use teacher::{StudentTask, TeacherEmbeddingCache, TeacherOutputs, TeacherRun};
pub use train::{
    embed_dataset, encode_all, encode_all_tallied, fit_fold, fit_fold_distilled, to_original_units,
    EpochRecord, FinetuneConfig, FoldData, FoldOutcome, Regime,
};

/// Why fine-tuning or prediction failed.
#[derive(Debug, thiserror::Error)]
pub enum FinetuneError {
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Model(#[from] chemlm_models::ModelError),
    #[error(transparent)]
    Data(#[from] chemlm_data::DataError),
    #[error(transparent)]
    Train(#[from] crate::error::TrainError),
    #[error(transparent)]
    Fs(#[from] chemlm_fs::FsError),
    #[error("{path}: {reason}")]
    File {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, FinetuneError>;
