//! The huggingface_hub cache layout, so that files a Python user already downloaded are found
//! (and ours are found by Python):
//!
//! ```text
//! {cache}/models--ORG--NAME/
//!     blobs/{etag}                     file contents, named by etag (sha256 for LFS files)
//!     blobs/{etag}.incomplete          a download in progress, resumed with `Range`
//!     refs/{revision}                  the commit hash a branch or tag pointed to
//!     snapshots/{commit}/{filename}    relative symlink to ../../blobs/{etag}
//!     .no_exist/{commit}/{filename}    empty marker: the Hub said this file does not exist
//! ```
//!
//! Every write that others may read is atomic (a temporary name next to the target, then a
//! rename), so a killed process leaves either the old entry or the new one. The one exception is
//! `*.incomplete`, which is kept on purpose so that the next attempt can resume.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::HubError;
use crate::repo::{is_commit_hash, RepoRef};

/// One repository's folder in the cache.
#[derive(Debug, Clone)]
pub struct RepoCache {
    root: PathBuf,
}

impl RepoCache {
    /// The folder of `repo` under the hub cache directory `cache_dir`.
    pub fn new(cache_dir: &Path, repo: &RepoRef) -> Self {
        Self {
            root: cache_dir.join(repo.cache_folder_name()),
        }
    }

    /// `{cache}/models--ORG--NAME`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `blobs/{etag}`.
    pub fn blob_path(&self, etag: &str) -> PathBuf {
        self.root.join("blobs").join(etag)
    }

    /// `blobs/{etag}.incomplete`.
    pub fn incomplete_path(&self, etag: &str) -> PathBuf {
        self.root.join("blobs").join(format!("{etag}.incomplete"))
    }

    /// `snapshots/{commit}`.
    pub fn snapshot_dir(&self, commit: &str) -> PathBuf {
        self.root.join("snapshots").join(commit)
    }

    /// `snapshots/{commit}/{filename}`.
    pub fn pointer_path(&self, commit: &str, filename: &str) -> PathBuf {
        join_rel(&self.snapshot_dir(commit), filename)
    }

    /// `refs/{revision}` (a revision like `refs/pr/1` nests folders, as in huggingface_hub).
    pub fn ref_path(&self, revision: &str) -> PathBuf {
        join_rel(&self.root.join("refs"), revision)
    }

    /// `.no_exist/{commit}/{filename}`.
    pub fn no_exist_path(&self, commit: &str, filename: &str) -> PathBuf {
        join_rel(&self.root.join(".no_exist").join(commit), filename)
    }

    /// The commit a revision stands for in the cache: the revision itself when it is a commit
    /// hash, else the content of `refs/{revision}`. `None` when the cache does not know it.
    pub fn resolve_commit(&self, revision: &str) -> Option<String> {
        if is_commit_hash(revision) {
            return Some(revision.to_string());
        }
        let s = fs::read_to_string(self.ref_path(revision)).ok()?;
        let c = s.trim();
        is_safe_component(c).then(|| c.to_string())
    }

    /// Records that `revision` points at `commit` (huggingface_hub's
    /// `_cache_commit_hash_for_specific_revision`): only when the revision is not the commit
    /// itself and the file does not already say so.
    pub fn write_ref(&self, revision: &str, commit: &str) -> Result<(), HubError> {
        if revision == commit {
            return Ok(());
        }
        let path = self.ref_path(revision);
        if fs::read_to_string(&path).is_ok_and(|s| s.trim() == commit) {
            return Ok(());
        }
        write_atomic(&path, commit.as_bytes())
    }

    /// Marks `filename` as absent at `commit` (what huggingface_hub does on `EntryNotFound`), so
    /// that offline lookups answer "not found" rather than "not cached". Best effort.
    pub fn mark_missing(&self, commit: &str, filename: &str) {
        let path = self.no_exist_path(commit, filename);
        let res = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|_| File::create(&path).map(drop));
        if let Err(e) = res {
            tracing::debug!("cannot write {}: {e}", path.display());
        }
    }

    /// Points `snapshots/{commit}/{filename}` at `blobs/{etag}`: a relative symlink
    /// (`../../blobs/ETAG`, one more `../` per sub-folder of `filename`), or a copy of the blob
    /// where symlinks cannot be made (as huggingface_hub does on Windows without developer
    /// mode). Atomic: the link or copy is made under a temporary name and renamed over the
    /// pointer. Nothing is done when a correct symlink is already there.
    pub fn link_pointer(
        &self,
        commit: &str,
        filename: &str,
        etag: &str,
    ) -> Result<PathBuf, HubError> {
        let pointer = self.pointer_path(commit, filename);
        let blob = self.blob_path(etag);
        let depth = filename.split('/').count() + 1; // snapshots/{commit}/{sub/…}
        let target = PathBuf::from(format!("{}blobs/{etag}", "../".repeat(depth)));
        if fs::read_link(&pointer).is_ok_and(|t| t == target) {
            return Ok(pointer);
        }
        let dir = parent_of(&pointer);
        fs::create_dir_all(dir).map_err(|e| HubError::io(dir, e))?;
        let tmp = temp_sibling(&pointer);
        match make_symlink(&target, &tmp) {
            Ok(()) => {}
            Err(e) => {
                tracing::debug!(
                    "symlink {} failed ({e}); copying the blob instead",
                    tmp.display()
                );
                if let Err(e) = fs::copy(&blob, &tmp) {
                    let _ = fs::remove_file(&tmp);
                    return Err(HubError::io(&blob, e));
                }
            }
        }
        if let Err(e) = fs::rename(&tmp, &pointer) {
            let _ = fs::remove_file(&tmp);
            return Err(HubError::io(&pointer, e));
        }
        Ok(pointer)
    }
}

/// `base/rel` for a `/`-separated relative path (already validated).
fn join_rel(base: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(base.to_path_buf(), |p, s| p.join(s))
}

fn parent_of(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

/// A name that can be used as one path component (etag, commit hash from a header).
pub(crate) fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.contains(['/', '\\', '\0'])
        && !s.ends_with(".incomplete")
}

/// Whether an etag is the sha256 of the file (LFS files), so the content can be checked.
pub fn is_sha256_etag(etag: &str) -> bool {
    etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(unix)]
fn make_symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn make_symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}

#[cfg(not(any(unix, windows)))]
fn make_symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no symlinks"))
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A hidden temporary name next to `path`, unique within and across processes.
pub(crate) fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), HubError> {
    let dir = parent_of(path);
    fs::create_dir_all(dir).map_err(|e| HubError::io(dir, e))?;
    let tmp = temp_sibling(path);
    let res = fs::write(&tmp, bytes)
        .map_err(|e| HubError::io(&tmp, e))
        .and_then(|_| fs::rename(&tmp, path).map_err(|e| HubError::io(path, e)));
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, HubError> {
    let mut f = File::open(path).map_err(|e| HubError::io(path, e))?;
    let mut h = Sha256::new();
    hash_reader(&mut f, &mut h).map_err(|e| HubError::io(path, e))?;
    Ok(hex::encode(h.finalize()))
}

/// Feeds everything `r` yields into `h`.
pub(crate) fn hash_reader(r: &mut impl Read, h: &mut Sha256) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut n_total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(n_total),
            Ok(n) => {
                h.update(&buf[..n]);
                n_total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_paths() {
        let repo = RepoRef::parse("hf:org/name@refs/pr/1").unwrap();
        let c = RepoCache::new(Path::new("/c"), &repo);
        assert_eq!(c.root(), Path::new("/c/models--org--name"));
        assert_eq!(c.blob_path("e"), Path::new("/c/models--org--name/blobs/e"));
        assert_eq!(
            c.incomplete_path("e"),
            Path::new("/c/models--org--name/blobs/e.incomplete")
        );
        assert_eq!(
            c.pointer_path("abc", "sub/x.json"),
            Path::new("/c/models--org--name/snapshots/abc/sub/x.json")
        );
        assert_eq!(
            c.ref_path(repo.revision()),
            Path::new("/c/models--org--name/refs/refs/pr/1")
        );
    }

    #[test]
    fn relative_symlinks_and_refs() {
        let dir = tempfile::tempdir().unwrap();
        let repo = RepoRef::parse("hf:org/name").unwrap();
        let c = RepoCache::new(dir.path(), &repo);
        fs::create_dir_all(c.blob_path("x").parent().unwrap()).unwrap();
        fs::write(c.blob_path("etag1"), b"hello").unwrap();
        let p = c.link_pointer("c0", "a/b/f.txt", "etag1").unwrap();
        #[cfg(unix)]
        assert_eq!(
            fs::read_link(&p).unwrap(),
            Path::new("../../../../blobs/etag1")
        );
        assert_eq!(fs::read(&p).unwrap(), b"hello");
        let p = c.link_pointer("c0", "f.txt", "etag1").unwrap();
        #[cfg(unix)]
        assert_eq!(fs::read_link(&p).unwrap(), Path::new("../../blobs/etag1"));

        c.write_ref("main", "c0").unwrap();
        assert_eq!(fs::read_to_string(c.ref_path("main")).unwrap(), "c0");
        assert_eq!(c.resolve_commit("main").as_deref(), Some("c0"));
        assert_eq!(c.resolve_commit("dev"), None);
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(c.snapshot_dir("c0"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn sha_etags() {
        assert!(is_sha256_etag(&"a".repeat(64)));
        assert!(!is_sha256_etag(&"a".repeat(40)));
        assert!(is_safe_component("abc"));
        assert!(!is_safe_component("../x"));
        assert!(!is_safe_component(""));
    }
}
