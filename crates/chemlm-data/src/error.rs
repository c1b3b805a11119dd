//! Errors of the data layer.
//!
//! Every error that comes from user data names where it happened (file and 1-based line, or a
//! character position) and why, so a batch job can print it and carry on.

use std::path::PathBuf;
use thiserror::Error;

use crate::tokenizer::TokenizerKind;

/// Why a string could not be split into tokens, or ids could not be turned back into text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenizeError {
    /// A character that no alternative of the tokenizer's pattern matches. MoLFormer's Python
    /// tokenizer (`re.findall`) silently drops such characters; we refuse instead, so that
    /// `detokenize(tokenize(s)) == s` always holds for what we accept.
    #[error("{kind} tokenizer: character {ch:?} at position {position} is not covered by the token pattern")]
    Uncovered {
        kind: TokenizerKind,
        /// 0-based byte offset into the input.
        position: usize,
        ch: char,
    },
    /// An id outside the vocabulary was given to `decode`.
    #[error("token id {id} is outside the vocabulary (size {vocab_size})")]
    UnknownId { id: u32, vocab_size: usize },
    /// The Hugging Face `tokenizers` library (T5 SentencePiece tokenizers) failed.
    #[error("tokenizers: {0}")]
    External(String),
}

/// Errors of the data layer.
#[derive(Debug, Error)]
pub enum DataError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record in an input file is malformed. `line` is 1-based.
    #[error("{source_name}:{line}: {reason}")]
    Record {
        source_name: String,
        line: u64,
        reason: String,
    },
    /// A requested column is not in the file's header.
    #[error("{source_name}: no column {column:?}; columns are: {available}")]
    MissingColumn {
        source_name: String,
        column: String,
        available: String,
    },
    /// A file we write ourselves (tokenizer.json, manifest.json, split JSON) is malformed or
    /// inconsistent.
    #[error("{}: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    /// Text could not be tokenized.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// A download or a cached file does not have the expected SHA-256.
    #[error("checksum mismatch for {what}: expected sha256 {expected}, got {actual}")]
    Checksum {
        what: String,
        expected: String,
        actual: String,
    },
    /// A download failed.
    #[error("download of {url} failed: {reason}")]
    Download { url: String, reason: String },
    /// A data set name that is not in the registry.
    #[error("unknown data set {name:?}; known: {known}")]
    UnknownDataset { name: String, known: String },
    /// A data set file is neither under `CHEMLM_DATA_DIR` nor in the cache, and cannot be fetched.
    #[error("data set {name}: {reason}")]
    Unavailable { name: String, reason: String },
    /// Arguments that cannot work together (sizes that do not sum to 1, k < 2, ...).
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// A format error about a file.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        DataError::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
