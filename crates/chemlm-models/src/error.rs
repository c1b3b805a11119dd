//! Errors of the model crate. Library code returns these; the CLI wraps them in `anyhow`.

use std::path::PathBuf;

/// Everything that can go wrong building, loading or saving a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A tensor operation failed (shape mismatch, unsupported op, ...).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A config file (JSON or TOML) could not be parsed or is inconsistent.
    #[error("{origin}: invalid model config: {reason}")]
    Config { origin: String, reason: String },
    /// `--preset NAME` that we do not ship.
    #[error("unknown preset `{name}`; known presets: {known}")]
    UnknownPreset { name: String, known: String },
    /// A file chemlm reads alongside the weights (a shard index, a `tokenizer.json`) is not
    /// what it should be.
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    /// A weight file lacks a tensor the model needs.
    #[error("{path}: tensor `{name}` is missing")]
    MissingTensor { path: PathBuf, name: String },
    /// A weight file has a tensor of the wrong shape.
    #[error("{path}: tensor `{name}` has shape {found:?}, the config implies {expected:?}")]
    ShapeMismatch {
        path: PathBuf,
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
}

/// Shorthand used across the crate.
pub type ModelResult<T> = std::result::Result<T, ModelError>;

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        ModelError::Format {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn config(origin: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        ModelError::Config {
            origin: origin.into(),
            reason: reason.to_string(),
        }
    }
}
