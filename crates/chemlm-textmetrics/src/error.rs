//! Errors of the metrics layer.

use std::path::PathBuf;
use thiserror::Error;

/// Why a metric could not be computed.
#[derive(Debug, Error)]
pub enum MetricsError {
    /// Predictions and references do not pair up.
    #[error("{what}: {left} predictions but {right} references")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// A corpus metric was asked for an empty corpus (nltk raises `ZeroDivisionError` there).
    #[error("{0}: empty corpus")]
    EmptyCorpus(&'static str),
    /// Bad arguments (no weights, k = 0, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The WordNet database could not be found or read.
    #[error("WordNet at {}: {reason} (install Debian's `wordnet-base`, or set CHEMLM_WORDNET_DIR to a directory holding data.noun, index.noun, noun.exc, ...)", path.display())]
    WordNet { path: PathBuf, reason: String },
}
