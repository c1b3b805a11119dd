//! Errors of the screening library.

use std::path::PathBuf;

/// Why a screen or benchmark could not run. Bad library lines are not errors: they are reported
/// through [`crate::BadLine`] and counted.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: read error after line {line}: {source}")]
    Read {
        source_name: String,
        line: u64,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Data(#[from] chemlm_data::DataError),
    #[error("{0}")]
    Csv(String),
    #[error("query molecule {index} ({smiles}): {reason}")]
    BadQuery {
        index: usize,
        smiles: String,
        reason: String,
    },
    #[error("no query molecules (actives) given")]
    NoQueries,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Metric(#[from] chemlm_train::eval::MetricError),
}
