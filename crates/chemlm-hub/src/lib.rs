//! Hugging Face Hub client for chemlm: `--model hf:ORG/NAME[@REVISION]`.
//!
//! Files are downloaded over the Hub's HTTP API into the cache layout of the Python
//! `huggingface_hub` library (`models--ORG--NAME/{blobs,refs,snapshots}`), honouring its
//! environment (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`, …), so
//! that a model a Python user already downloaded is reused, offline too, and the snapshot folder
//! this crate returns is an ordinary local model directory.
//!
//! # Why not the `hf-hub` crate
//!
//! `hf-hub` 0.4 was the obvious choice and was rejected because it:
//! - pulls a second HTTP stack (ureq 2) next to the workspace's ureq 3;
//! - does not honour `HF_HUB_OFFLINE` or `HF_TOKEN` from the environment, which the Python
//!   tooling users already rely on;
//! - does not verify the sha256 of LFS blobs, so a corrupt or truncated download is kept.
//!
//! The protocol is small (a HEAD for metadata, a GET with `Range` for bytes, one JSON listing),
//! so this crate implements it on ureq 3 in a few hundred lines, tested against a mock Hub.
//!
//! # Integrity
//!
//! A download goes to `blobs/ETAG.incomplete`; a cut-off transfer keeps it and the next attempt
//! resumes with `Range`. A finished download is checked against the Hub's etag (the sha256 of
//! LFS files) or size; on mismatch the bytes are deleted and the file is fetched once more from
//! scratch before an error is returned. A blob already in the cache is checked for size, and
//! for LFS files hashed the first time a [`Hub`] uses it ([`CacheVerify`]).
//!
//! # Concurrency
//!
//! There are no lock files: two processes fetching the same blob at the same moment may both
//! write its `.incomplete` file; the checksum then fails and the download is redone. Finished
//! entries (blobs, snapshot links, refs) appear atomically by rename.

mod cache;
mod config;
mod error;
mod http;
mod model;
mod progress;
mod repo;

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use cache::{is_sha256_etag, sha256_file, RepoCache};
pub use config::{CacheVerify, HubConfig, DEFAULT_ENDPOINT};
pub use error::HubError;
pub use http::RepoInfo;
pub use model::{Weights, AUX_FILES, CONFIG_FILE, WEIGHT_LAYOUTS};
pub use progress::{NoProgress, Progress};
pub use repo::{is_commit_hash, is_hub_source, RepoRef, DEFAULT_REVISION, HUB_PREFIX};

use http::{Download, FileMetadata, HeadFailure, HubHttp};
use model::{choose_weights, missing_in_snapshot, shards_of_index, Weights as W};
use repo::validate_filename;

/// Why the cache is used instead of the network when `HF_HUB_OFFLINE` is set.
const OFFLINE_WHY: &str = "the Hub is offline (HF_HUB_OFFLINE is set)";

/// A Hub client over one cache directory.
pub struct Hub {
    config: HubConfig,
    http: HubHttp,
    progress: Arc<dyn Progress>,
    /// LFS blobs whose sha256 was checked by this client (see [`CacheVerify::HashOnce`]).
    verified: Mutex<HashSet<PathBuf>>,
}

impl Hub {
    /// A client with `config` and no progress reporting.
    pub fn new(config: HubConfig) -> Self {
        Self {
            http: HubHttp::new(&config),
            config,
            progress: Arc::new(NoProgress),
            verified: Mutex::new(HashSet::new()),
        }
    }

    /// Reports download progress to `progress`.
    pub fn with_progress(mut self, progress: impl Progress + 'static) -> Self {
        self.progress = Arc::new(progress);
        self
    }

    /// The settings in use.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The cache folder of `repo`.
    pub fn repo_cache(&self, repo: &RepoRef) -> RepoCache {
        RepoCache::new(&self.config.cache_dir, repo)
    }

    /// The listing of `repo` at its revision (commit hash and file names). Needs the network.
    pub fn repo_info(&self, repo: &RepoRef) -> Result<RepoInfo, HubError> {
        if self.config.offline {
            return Err(HubError::NotCached {
                repo: repo.repo_id().to_string(),
                revision: repo.revision().to_string(),
                what: "the file listing".into(),
                cache: self.config.cache_dir.clone(),
                why: OFFLINE_WHY.into(),
            });
        }
        self.http.repo_info(repo)
    }

    /// One file of `repo` at its revision, downloaded into the cache if needed (huggingface_hub's
    /// `hf_hub_download`). Returns its path in `snapshots/COMMIT/`.
    ///
    /// A missing file is [`HubError::EntryNotFound`], so optional files can be probed. Offline,
    /// or when the Hub cannot be reached, the cached copy for the revision is used.
    pub fn file(&self, repo: &RepoRef, filename: &str) -> Result<PathBuf, HubError> {
        validate_filename(repo, filename)?;
        let cache = self.repo_cache(repo);
        if self.config.offline {
            return self
                .cached_file(repo, &cache, filename)?
                .ok_or_else(|| self.not_cached(repo, &format!("file {filename}"), OFFLINE_WHY));
        }
        match self.http.head_file(repo, filename) {
            Ok(meta) => self.fetch(repo, &cache, filename, &meta),
            Err(HeadFailure { error, commit }) => {
                let error = *error;
                if let (HubError::EntryNotFound { .. }, Some(c)) = (&error, commit.as_deref()) {
                    if cache::is_safe_component(c) {
                        cache.mark_missing(c, filename);
                        let _ = cache.write_ref(repo.revision(), c);
                    }
                }
                if !error.allows_cache_fallback() {
                    return Err(error);
                }
                match self.cached_file(repo, &cache, filename)? {
                    Some(path) => {
                        tracing::warn!("{error}; using the cached {filename} of {repo}");
                        Ok(path)
                    }
                    None => Err(self.fallback_error(repo, &format!("file {filename}"), error)),
                }
            }
        }
    }

    /// A model of `repo` at its revision in the cache: `config.json`, the weights
    /// (`model.safetensors`, else `model.safetensors.index.json` and its shards, else
    /// `pytorch_model.bin`, else `pytorch_model.bin.index.json` and its shards, never two
    /// layouts), and whichever of [`AUX_FILES`] the repository has. Returns the snapshot folder,
    /// usable as a local model directory.
    ///
    /// Offline, or when the Hub cannot be reached, the cached snapshot of the revision is used
    /// if it is complete.
    pub fn model_snapshot(&self, repo: &RepoRef) -> Result<PathBuf, HubError> {
        let cache = self.repo_cache(repo);
        if self.config.offline {
            return self.cached_snapshot(repo, &cache, OFFLINE_WHY);
        }
        let info = match self.http.repo_info(repo) {
            Ok(info) => info,
            Err(e) if e.allows_cache_fallback() => {
                let why = e.to_string();
                return match self.cached_snapshot(repo, &cache, &why) {
                    Ok(dir) => {
                        tracing::warn!("{e}; using the cached snapshot {}", dir.display());
                        Ok(dir)
                    }
                    Err(HubError::NotCached { .. }) => {
                        Err(self.fallback_error(repo, "the model snapshot", e))
                    }
                    Err(other) => Err(other),
                };
            }
            Err(e) => return Err(e),
        };
        if !cache::is_safe_component(&info.sha) {
            return Err(HubError::BadResponse {
                url: format!("{}/api/models/{}", self.config.endpoint, repo.repo_id()),
                reason: format!("sha {:?} is not a commit hash", info.sha),
            });
        }
        cache.write_ref(repo.revision(), &info.sha)?;
        // Every file from the commit the listing names, even if the branch moves meanwhile.
        let pinned = repo.at(&info.sha)?;
        let files: HashSet<&str> = info.files.iter().map(String::as_str).collect();
        let has = |f: &str| files.contains(f);
        let not_model = |reason: String| HubError::NotAModel {
            repo: repo.repo_id().to_string(),
            revision: repo.revision().to_string(),
            reason,
        };

        if !has(CONFIG_FILE) {
            return Err(not_model(format!("no {CONFIG_FILE} in the repository")));
        }
        self.file(&pinned, CONFIG_FILE)?;
        match choose_weights(repo, repo.revision(), has)? {
            W::Single(f) => {
                self.file(&pinned, f)?;
            }
            W::Sharded(index) => {
                let index_path = self.file(&pinned, index)?;
                for shard in shards_of_index(repo, repo.revision(), &index_path)? {
                    if !has(&shard) {
                        return Err(not_model(format!(
                            "{index} names shard {shard}, which is not in the repository"
                        )));
                    }
                    self.file(&pinned, &shard)?;
                }
            }
        }
        for aux in AUX_FILES.iter().filter(|f| has(f)) {
            self.file(&pinned, aux)?;
        }
        Ok(cache.snapshot_dir(&info.sha))
    }

    /// After the metadata call: use the cached blob if it is sound, else download it; then link
    /// the snapshot entry.
    fn fetch(
        &self,
        repo: &RepoRef,
        cache: &RepoCache,
        filename: &str,
        meta: &FileMetadata,
    ) -> Result<PathBuf, HubError> {
        cache.write_ref(repo.revision(), &meta.commit)?;
        let blob = cache.blob_path(&meta.etag);
        if blob.is_file() {
            match self.check_blob(&blob, &meta.etag, meta.size)? {
                None => return cache.link_pointer(&meta.commit, filename, &meta.etag),
                Some(reason) => {
                    tracing::warn!(
                        "cached {} is damaged ({reason}); downloading it again",
                        blob.display()
                    );
                    fs::remove_file(&blob).map_err(|e| HubError::io(&blob, e))?;
                }
            }
        }
        // A snapshot entry that is a plain file: a copy-mode cache (huggingface_hub on Windows
        // without symlinks moves the blob there).
        let pointer = cache.pointer_path(&meta.commit, filename);
        if fs::symlink_metadata(&pointer).is_ok_and(|m| m.is_file()) {
            match self.check_blob(&pointer, &meta.etag, meta.size)? {
                None => return Ok(pointer),
                Some(reason) => {
                    tracing::warn!(
                        "cached {} is damaged ({reason}); downloading it again",
                        pointer.display()
                    );
                    fs::remove_file(&pointer).map_err(|e| HubError::io(&pointer, e))?;
                }
            }
        }
        self.download_blob(repo, cache, filename, meta)?;
        cache.link_pointer(&meta.commit, filename, &meta.etag)
    }

    /// Downloads `blobs/ETAG` through `blobs/ETAG.incomplete` and verifies it; a mismatch
    /// deletes the bytes and downloads once more from scratch before failing.
    fn download_blob(
        &self,
        repo: &RepoRef,
        cache: &RepoCache,
        filename: &str,
        meta: &FileMetadata,
    ) -> Result<(), HubError> {
        let incomplete = cache.incomplete_path(&meta.etag);
        let blob = cache.blob_path(&meta.etag);
        let d = Download {
            repo,
            filename,
            url: &meta.location,
            incomplete: &incomplete,
            expected_size: meta.size,
            progress: self.progress.as_ref(),
        };
        let mut retried = false;
        loop {
            let sha = self.http.download(&d)?;
            let len = fs::metadata(&incomplete)
                .map_err(|e| HubError::io(&incomplete, e))?
                .len();
            let mismatch = if meta.size.is_some_and(|s| s != len) {
                Some((
                    "size",
                    meta.size.unwrap_or_default().to_string(),
                    len.to_string(),
                ))
            } else if is_sha256_etag(&meta.etag) && !sha.eq_ignore_ascii_case(&meta.etag) {
                Some(("sha256", meta.etag.to_ascii_lowercase(), sha))
            } else {
                None
            };
            match mismatch {
                None => {
                    fs::rename(&incomplete, &blob).map_err(|e| HubError::io(&blob, e))?;
                    self.mark_verified(&blob);
                    return Ok(());
                }
                Some((kind, expected, actual)) => {
                    fs::remove_file(&incomplete).map_err(|e| HubError::io(&incomplete, e))?;
                    if retried {
                        return Err(HubError::Checksum {
                            repo: repo.repo_id().to_string(),
                            filename: filename.to_string(),
                            kind,
                            expected,
                            actual,
                        });
                    }
                    tracing::warn!(
                        "downloaded {filename} of {repo} has {kind} {actual}, expected \
                         {expected}; downloading it again"
                    );
                    retried = true;
                }
            }
        }
    }

    /// `None` when the cached file at `path` matches the etag/size, else why not.
    fn check_blob(
        &self,
        path: &Path,
        etag: &str,
        size: Option<u64>,
    ) -> Result<Option<String>, HubError> {
        let len = fs::metadata(path).map_err(|e| HubError::io(path, e))?.len();
        if let Some(s) = size.filter(|s| *s != len) {
            return Ok(Some(format!("{len} bytes, expected {s}")));
        }
        self.check_hash(path, etag)
    }

    /// Hashes an LFS blob when the [`CacheVerify`] policy asks for it.
    fn check_hash(&self, path: &Path, etag: &str) -> Result<Option<String>, HubError> {
        if !is_sha256_etag(etag) {
            return Ok(None);
        }
        let hash = match self.config.verify_cached {
            CacheVerify::SizeOnly => false,
            CacheVerify::HashAlways => true,
            CacheVerify::HashOnce => !self.is_verified(path),
        };
        if !hash {
            return Ok(None);
        }
        let sha = sha256_file(path)?;
        if sha.eq_ignore_ascii_case(etag) {
            self.mark_verified(path);
            Ok(None)
        } else {
            Ok(Some(format!(
                "sha256 {sha}, expected {}",
                etag.to_ascii_lowercase()
            )))
        }
    }

    /// Blobs are remembered by their real path, so that a check through a snapshot symlink
    /// and one of the blob itself count as the same.
    fn verified_key(path: &Path) -> PathBuf {
        fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }

    fn is_verified(&self, path: &Path) -> bool {
        let key = Self::verified_key(path);
        self.verified
            .lock()
            .map(|v| v.contains(&key))
            .unwrap_or(false)
    }

    fn mark_verified(&self, path: &Path) {
        let key = Self::verified_key(path);
        if let Ok(mut v) = self.verified.lock() {
            v.insert(key);
        }
    }

    /// The cached `snapshots/COMMIT/filename` for the revision, checked against the sha256 its
    /// blob is named by; `Err(EntryNotFound)` when the Hub said earlier that it does not exist.
    fn cached_file(
        &self,
        repo: &RepoRef,
        cache: &RepoCache,
        filename: &str,
    ) -> Result<Option<PathBuf>, HubError> {
        let Some(commit) = cache.resolve_commit(repo.revision()) else {
            return Ok(None);
        };
        let pointer = cache.pointer_path(&commit, filename);
        if pointer.is_file() {
            self.check_offline(&pointer)?;
            return Ok(Some(pointer));
        }
        if cache.no_exist_path(&commit, filename).is_file() {
            return Err(HubError::EntryNotFound {
                repo: repo.repo_id().to_string(),
                revision: repo.revision().to_string(),
                filename: filename.to_string(),
            });
        }
        Ok(None)
    }

    /// Offline check of a snapshot entry: the size is unknown, but a symlink names its blob by
    /// etag, and an LFS etag is the content's sha256.
    fn check_offline(&self, pointer: &Path) -> Result<(), HubError> {
        let Ok(target) = fs::read_link(pointer) else {
            return Ok(());
        };
        let etag = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match self.check_hash(pointer, etag)? {
            None => Ok(()),
            Some(reason) => Err(HubError::CorruptCache {
                path: pointer.to_path_buf(),
                reason,
            }),
        }
    }

    /// The complete cached snapshot for the revision, or [`HubError::NotCached`] naming what is
    /// missing.
    fn cached_snapshot(
        &self,
        repo: &RepoRef,
        cache: &RepoCache,
        why: &str,
    ) -> Result<PathBuf, HubError> {
        let Some(commit) = cache.resolve_commit(repo.revision()) else {
            return Err(self.not_cached(repo, "the model snapshot", why));
        };
        let dir = cache.snapshot_dir(&commit);
        if !dir.is_dir() {
            return Err(self.not_cached(repo, "the model snapshot", why));
        }
        let missing = missing_in_snapshot(repo, repo.revision(), &dir)?;
        if !missing.is_empty() {
            let what = format!("the model snapshot (missing {})", missing.join(", "));
            return Err(self.not_cached(repo, &what, why));
        }
        // Check every file present (weights included) against its blob's sha256.
        let mut queue = VecDeque::from([dir.clone()]);
        while let Some(d) = queue.pop_front() {
            let entries = fs::read_dir(&d).map_err(|e| HubError::io(&d, e))?;
            for entry in entries {
                let path = entry.map_err(|e| HubError::io(&d, e))?.path();
                if path.is_dir() {
                    queue.push_back(path);
                } else {
                    self.check_offline(&path)?;
                }
            }
        }
        Ok(dir)
    }

    fn not_cached(&self, repo: &RepoRef, what: &str, why: &str) -> HubError {
        HubError::NotCached {
            repo: repo.repo_id().to_string(),
            revision: repo.revision().to_string(),
            what: what.to_string(),
            cache: self.config.cache_dir.clone(),
            why: why.to_string(),
        }
    }

    /// What to report when the network failed and the cache could not stand in: a connection
    /// problem becomes "not cached and the Hub cannot be reached" (huggingface_hub's
    /// `LocalEntryNotFoundError`); an authentication or repository error is reported as is.
    fn fallback_error(&self, repo: &RepoRef, what: &str, error: HubError) -> HubError {
        match error {
            HubError::Connection { url, reason } => self.not_cached(
                repo,
                what,
                &format!("the Hub cannot be reached ({url}: {reason})"),
            ),
            other => other,
        }
    }
}

/// The model directory a `--model` value stands for: `hf:ORG/NAME[@REVISION]` is downloaded
/// (or found in the cache) with the settings of [`HubConfig::from_env`]; anything else is a
/// local directory, which must exist.
pub fn resolve_model_dir(source: &str) -> Result<PathBuf, HubError> {
    if is_hub_source(source) {
        resolve_model_dir_with(&Hub::new(HubConfig::from_env()), source)
    } else {
        local_model_dir(source)
    }
}

/// [`resolve_model_dir`] with a given client (progress reporting, explicit settings).
pub fn resolve_model_dir_with(hub: &Hub, source: &str) -> Result<PathBuf, HubError> {
    if is_hub_source(source) {
        hub.model_snapshot(&RepoRef::parse(source)?)
    } else {
        local_model_dir(source)
    }
}

fn local_model_dir(source: &str) -> Result<PathBuf, HubError> {
    let path = PathBuf::from(source);
    let err = |reason: String| HubError::LocalModelDir {
        path: path.clone(),
        reason,
    };
    match fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err(err("is not a directory".into())),
        Err(e) => Err(err(format!(
            "does not exist or cannot be read ({e}); a Hub model is written hf:ORG/NAME"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        assert_eq!(resolve_model_dir(d).unwrap(), dir.path());
        let f = dir.path().join("f");
        fs::write(&f, b"x").unwrap();
        let e = resolve_model_dir(f.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a directory") && e.contains("/f"), "{e}");
        let missing = dir.path().join("nope");
        let e = resolve_model_dir(missing.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope") && e.contains("does not exist"), "{e}");
        assert!(matches!(
            resolve_model_dir("hf:bad--id"),
            Err(HubError::InvalidRepoId { .. })
        ));
    }
}
