//! Errors of the force-field crate.

use std::path::PathBuf;

/// Everything that can go wrong building, running, loading or training a force field.
#[derive(Debug, thiserror::Error)]
pub enum FfError {
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Structures could not be read or batched.
    #[error(transparent)]
    Atoms(#[from] chemlm_atoms::AtomsError),
    /// Training infrastructure (checkpoints, metrics, optimizer) failed.
    #[error(transparent)]
    Train(#[from] chemlm_train::TrainError),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A model config is invalid or inconsistent with its weights.
    #[error("{origin}: invalid force-field config: {reason}")]
    Config { origin: String, reason: String },
    /// A weight file lacks a tensor or has one of the wrong shape.
    #[error("{}: {reason}", path.display())]
    Weights { path: PathBuf, reason: String },
    /// Invalid arguments or data (empty training set, atom type out of range, ...).
    #[error("{0}")]
    Invalid(String),
}

/// Result type of the force-field crate.
pub type FfResult<T> = std::result::Result<T, FfError>;

impl From<chemlm_fs::FsError> for FfError {
    fn from(e: chemlm_fs::FsError) -> Self {
        FfError::Io {
            path: e.path,
            source: e.source,
        }
    }
}
