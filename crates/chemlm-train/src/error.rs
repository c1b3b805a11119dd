//! Errors of the training library.

use std::path::PathBuf;

/// Everything that can go wrong while training, checkpointing or plotting.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A tensor operation failed (shape mismatch, backend error).
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON/TOML document could not be read or written.
    #[error("{path}: {reason}")]
    Format {
        /// The file involved.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid training configuration: {0}")]
    Config(String),
    /// A checkpoint is missing pieces or does not match the model/optimizer.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint directory.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The batch source failed.
    #[error("data: {0}")]
    Data(String),
    /// Drawing the loss curve failed.
    #[error("plot {path}: {reason}")]
    Plot {
        /// The image file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A model could not be built, loaded or saved.
    #[error(transparent)]
    Model(#[from] chemlm_models::ModelError),
    /// Token shards or a tokenizer could not be read.
    #[error(transparent)]
    Dataset(#[from] chemlm_data::DataError),
    /// A run cannot start or go on (the message names the file or setting and why).
    #[error("{0}")]
    Run(String),
    /// Data-parallel training across processes failed (launcher, MPI, ranks out of step).
    #[error("data-parallel training: {0}")]
    Distributed(String),
    /// Training produced a non-finite loss.
    #[error("non-finite loss {loss} at step {step}")]
    NonFinite {
        /// The optimizer step.
        step: u64,
        /// The loss value.
        loss: f64,
    },
}

impl TrainError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            source,
        }
    }

    /// A malformed file.
    pub fn format(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        TrainError::Format {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    /// A bad checkpoint.
    pub fn checkpoint(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        TrainError::Checkpoint {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, TrainError>;

impl From<chemlm_fs::FsError> for TrainError {
    fn from(e: chemlm_fs::FsError) -> Self {
        TrainError::io(e.path, e.source)
    }
}
