//! Errors of the analyses.

use std::path::PathBuf;

/// What can stop an analysis as a whole (a bad molecule is skipped and reported, not an error).
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Atoms(#[from] chemlm_atoms::AtomsError),
    #[error("{0}")]
    Unsupported(String),
    #[error("no molecule could be analysed: {0}")]
    NothingAnalysed(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

pub type Result<T> = std::result::Result<T, AnalysisError>;

impl From<chemlm_fs::FsError> for AnalysisError {
    fn from(e: chemlm_fs::FsError) -> Self {
        AnalysisError::Write {
            path: e.path,
            reason: e.source.to_string(),
        }
    }
}
