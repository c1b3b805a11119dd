//! The one error type of the crate.
//!
//! Variants follow the Hub's own error classes (`X-Error-Code: RepoNotFound | RevisionNotFound |
//! EntryNotFound | GatedRepo`) so that a caller can tell "this optional file does not exist"
//! ([`HubError::EntryNotFound`]) from "you cannot reach the repository at all", and every message
//! names the repository, the file or the path it is about.

use std::io;
use std::path::{Path, PathBuf};

/// What can go wrong resolving or downloading from the Hub.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// `hf:ORG/NAME[@REVISION]` (or a plain repo id) that the Hub would not accept.
    #[error("invalid Hub model id {input:?}: {reason}")]
    InvalidRepoId { input: String, reason: String },

    /// A file name that is not a plain relative path inside the repository (absolute, `..`, …);
    /// refused before it can address anything outside the cache.
    #[error("invalid file name {filename:?} in {repo}: {reason}")]
    InvalidFilename {
        repo: String,
        filename: String,
        reason: String,
    },

    /// 401/403 and no token was sent.
    #[error(
        "repository {repo} needs authentication (gated or private): set HF_TOKEN \
         (the Hub gives the same answer for a repository that does not exist)"
    )]
    AuthRequired { repo: String },

    /// 401 although a token was sent: the token itself is invalid or expired.
    #[error("the token was rejected for {repo} (HTTP 401): check HF_TOKEN or the token file")]
    TokenRejected { repo: String },

    /// 403 although a valid token was sent: the token has no read access (a gated repository
    /// whose conditions were not accepted, or a fine-grained token without this repository).
    #[error(
        "the token has no access to {repo} (HTTP 403): accept the repository's conditions on \
         the Hub, or use a token with read access to it"
    )]
    AccessDenied { repo: String },

    /// 404 `RepoNotFound`.
    #[error("repository {repo} not found on {endpoint}")]
    RepoNotFound { repo: String, endpoint: String },

    /// 404 `RevisionNotFound`: the branch, tag or commit does not exist in the repository.
    #[error("revision {revision:?} not found in repository {repo}")]
    RevisionNotFound { repo: String, revision: String },

    /// 404 `EntryNotFound` (or a plain 404 on a file): the repository and revision exist but the
    /// file does not. A distinct variant so that callers can probe optional files.
    #[error("file {filename} not found in {repo} at revision {revision}")]
    EntryNotFound {
        repo: String,
        revision: String,
        filename: String,
    },

    /// Any other HTTP status (5xx, 429, unexpected 3xx, …).
    #[error("HTTP {status} from {url}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },

    /// The request never got an HTTP answer (DNS, refused, reset, TLS, timeout), or the body was
    /// cut off. A cut-off download keeps its `.incomplete` file and resumes on the next call.
    #[error("cannot reach {url}: {reason}")]
    Connection { url: String, reason: String },

    /// Offline (`HF_HUB_OFFLINE` or the Hub unreachable) and the file is not in the cache.
    #[error("{what} of {repo} at revision {revision} is not in the cache {cache} and {why}")]
    NotCached {
        repo: String,
        revision: String,
        /// `file NAME` or `the model snapshot (missing …)`.
        what: String,
        cache: PathBuf,
        /// `the Hub is offline (HF_HUB_OFFLINE is set)` or the network error that forced it.
        why: String,
    },

    /// A downloaded file did not match what the Hub announced, twice in a row.
    #[error("downloaded {filename} from {repo} does not match the Hub: expected {kind} {expected}, got {actual}")]
    Checksum {
        repo: String,
        filename: String,
        /// `sha256` or `size`.
        kind: &'static str,
        expected: String,
        actual: String,
    },

    /// A cached file is damaged and cannot be fetched again (offline).
    #[error("cached file {path} is corrupt ({reason}) and cannot be fetched again while offline")]
    CorruptCache { path: PathBuf, reason: String },

    /// The Hub answered, but not in the way the protocol says (missing `X-Repo-Commit`, bad JSON, …).
    #[error("unexpected answer from {url}: {reason}")]
    BadResponse { url: String, reason: String },

    /// The repository has no `config.json` or no weights in a layout this crate loads.
    #[error("{repo} at revision {revision} is not a loadable model: {reason}")]
    NotAModel {
        repo: String,
        revision: String,
        reason: String,
    },

    /// `--model PATH` that is not a directory.
    #[error("model directory {path} {reason}")]
    LocalModelDir { path: PathBuf, reason: String },

    /// A filesystem operation failed; the path says where.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl HubError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether huggingface_hub would, after this error from a metadata call, look in the local
    /// cache before giving up: connection problems, authentication failures and server errors
    /// do; a missing file or revision (the Hub's definite answer) and local errors do not.
    pub fn allows_cache_fallback(&self) -> bool {
        match self {
            Self::Connection { .. }
            | Self::AuthRequired { .. }
            | Self::TokenRejected { .. }
            | Self::AccessDenied { .. }
            | Self::RepoNotFound { .. } => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
