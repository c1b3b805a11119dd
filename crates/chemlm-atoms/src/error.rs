//! Errors of the atoms layer.

use std::path::PathBuf;
use thiserror::Error;

/// Why a structure could not be read, written or processed.
#[derive(Debug, Error)]
pub enum AtomsError {
    /// A frame of a file is malformed; `frame` counts from 0, `line` from 1 where known.
    #[error("{}: frame {frame}{}: {reason}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    BadFrame {
        path: PathBuf,
        frame: usize,
        line: Option<usize>,
        reason: String,
    },
    /// The file as a whole cannot be used (missing key, wrong shape, unknown unit, ...).
    #[error("{}: {reason}", path.display())]
    BadFile { path: PathBuf, reason: String },
    /// A structure is inconsistent (lengths differ, non-finite coordinates, ...).
    #[error("invalid structure: {0}")]
    Invalid(String),
    /// Input/output failure.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Result type of the atoms layer.
pub type Result<T> = std::result::Result<T, AtomsError>;

impl AtomsError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AtomsError::Io {
            path: path.into(),
            source,
        }
    }
}
