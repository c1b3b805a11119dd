//! Output files and directories that never lose data, shared by every crate that writes one.
//!
//! Everything is written under a hidden temporary sibling of the destination,
//! `dir/.NAME.tmp-PID`, and renamed into place only when complete, so a destination holds either
//! its old content or the new one, never half of one. The sibling stays on the destination's file
//! system (the rename is atomic) and carries the writer's process id, which lets the three ways a
//! run can end without committing each leave nothing behind:
//! * an error: the guard ([`AtomicFile`], [`AtomicDir`]) is dropped and removes its temporary;
//! * SIGINT/SIGTERM: every live temporary is [`register`]ed, and the front end's signal handler
//!   calls [`remove_registered`] before exiting;
//! * SIGKILL or a power cut: nothing can run then, so the next writer of the same destination
//!   calls [`sweep_stale`], which removes siblings whose process no longer exists.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// An I/O failure on a named path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FsError {
    /// The file or directory the operation was on.
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: std::io::Error,
}

impl FsError {
    fn at(path: &Path) -> impl FnOnce(std::io::Error) -> FsError + '_ {
        move |source| FsError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result with [`FsError`].
pub type Result<T> = std::result::Result<T, FsError>;

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records a temporary path to remove if the process is interrupted (see [`remove_registered`]).
pub fn register(path: &Path) {
    live().push(path.to_path_buf());
}

/// Forgets a temporary path (it was renamed into place or removed).
pub fn unregister(path: &Path) {
    live().retain(|p| p != path);
}

/// Removes every registered temporary file or directory; for a signal handler, just before the
/// process exits. Returns how many existed.
pub fn remove_registered() -> usize {
    let mut n = 0;
    for p in live().drain(..) {
        let removed = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        n += usize::from(removed.is_ok());
    }
    n
}

/// The directory `path` lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The prefix of every temporary sibling of `path`: `.NAME.tmp-` (see [`parse_temp`]).
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    format!(".{name}.tmp-")
}

/// `dir/.NAME.tmp-PID`: where this process writes `path` before renaming it into place.
pub fn temp_path(path: &Path) -> PathBuf {
    parent_dir(path).join(format!("{}{}", temp_prefix(path), std::process::id()))
}

/// Whether process `pid` still exists (always `true` where that cannot be told, so nothing of a
/// live writer is ever removed).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

/// Removes the temporary siblings of `path` left by processes that no longer exist (a run killed
/// with SIGKILL); returns how many. Siblings of live processes — another run writing the same
/// destination right now — are left alone.
pub fn sweep_stale(path: &Path) -> usize {
    let Some(name) = path.file_name() else {
        return 0;
    };
    sweep(parent_dir(path), Some(&name.to_string_lossy()))
}

/// [`sweep_stale`] for every destination in `dir`: removes each `.NAME.tmp-PID` entry there whose
/// process no longer exists. For a run directory, whose files a killed run may have been writing
/// under names the next run never writes again.
pub fn sweep_stale_in(dir: &Path) -> usize {
    sweep(dir, None)
}

fn sweep(dir: &Path, only: Option<&str>) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some((name, pid, suffix)) = parse_temp(&file) else {
            continue;
        };
        if only.is_some_and(|o| o != name) || process_alive(pid) {
            continue;
        }
        let p = e.path();
        // A replaced directory whose successor never arrived is the only complete copy: restore it.
        let dst = dir.join(name);
        if suffix == "old" && !dst.exists() && std::fs::rename(&p, &dst).is_ok() {
            continue;
        }
        let removed = match e.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&p),
            _ => std::fs::remove_file(&p),
        };
        n += usize::from(removed.is_ok());
    }
    n
}

/// Splits a temporary's file name `.NAME.tmp-PID[.SUFFIX]` into `(NAME, PID, SUFFIX)`; the suffix
/// is a kept extension or `old` (a directory moved aside by [`AtomicDir::commit`]).
fn parse_temp(file: &str) -> Option<(&str, u32, &str)> {
    let rest = file.strip_prefix('.')?;
    let at = rest.rfind(".tmp-")?;
    let (name, tail) = (&rest[..at], &rest[at + ".tmp-".len()..]);
    let (pid, suffix) = tail.split_once('.').unwrap_or((tail, ""));
    Some((name, pid.parse().ok()?, suffix)).filter(|(n, _, _)| !n.is_empty())
}

/// A file being written under [`temp_path`]; [`AtomicFile::commit`] flushes it to disk and
/// renames it onto the destination. Dropped without a commit (an error), the temporary is removed
/// and the destination is untouched.
pub struct AtomicFile {
    dst: PathBuf,
    tmp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `dst`: creates its directory if needed and sweeps stale temporaries.
    pub fn create(dst: &Path) -> Result<Self> {
        let dir = parent_dir(dst);
        std::fs::create_dir_all(dir).map_err(FsError::at(dir))?;
        sweep_stale(dst);
        let tmp = temp_path(dst);
        let file = File::create(&tmp).map_err(FsError::at(&tmp))?;
        register(&tmp);
        Ok(AtomicFile {
            dst: dst.to_path_buf(),
            tmp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The destination.
    pub fn target(&self) -> &Path {
        &self.dst
    }

    /// The temporary path being written (for libraries that write a path themselves; the guard
    /// still removes or renames it).
    pub fn temp(&self) -> &Path {
        &self.tmp
    }

    /// Flushes, syncs to disk and renames onto the destination.
    pub fn commit(mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            let f = w
                .into_inner()
                .map_err(|e| FsError::at(&self.tmp)(e.into_error()))?;
            f.sync_all().map_err(FsError::at(&self.tmp))?;
        }
        std::fs::rename(&self.tmp, &self.dst).map_err(FsError::at(&self.dst))?;
        unregister(&self.tmp);
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.writer.as_mut() {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("write after commit")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.writer = None;
            let _ = std::fs::remove_file(&self.tmp);
            unregister(&self.tmp);
        }
    }
}

/// Writes `dst` atomically with `fill`, which gets a buffered writer.
pub fn write_with(
    dst: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let mut f = AtomicFile::create(dst)?;
    fill(&mut f).map_err(FsError::at(dst))?;
    f.commit()
}

/// Writes `bytes` to `dst` atomically.
pub fn write_bytes(dst: &Path, bytes: &[u8]) -> Result<()> {
    write_with(dst, |w| w.write_all(bytes))
}

/// Publishes a file that a library writes to a path of its own choosing (safetensors, plots):
/// `write` gets the temporary path; on success it is synced and renamed onto `dst`, on any error
/// it is removed. The temporary keeps `dst`'s extension when `keep_extension` is set, for writers
/// that pick the format by it.
pub fn write_via_path<E>(
    dst: &Path,
    keep_extension: bool,
    write: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> std::result::Result<(), E>
where
    E: From<FsError>,
{
    let dir = parent_dir(dst);
    std::fs::create_dir_all(dir).map_err(FsError::at(dir))?;
    sweep_stale(dst);
    let mut tmp = temp_path(dst);
    if keep_extension {
        if let Some(ext) = dst.extension() {
            let mut name = tmp.file_name().unwrap_or_default().to_os_string();
            name.push(".");
            name.push(ext);
            tmp.set_file_name(name);
        }
    }
    register(&tmp);
    let done = write(&tmp).and_then(|()| {
        let f = File::options()
            .write(true)
            .open(&tmp)
            .map_err(FsError::at(&tmp))?;
        f.sync_all().map_err(FsError::at(&tmp))?;
        std::fs::rename(&tmp, dst).map_err(FsError::at(dst))?;
        Ok(())
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    unregister(&tmp);
    done
}

/// A directory being filled under [`temp_path`]; [`AtomicDir::commit`] renames it onto the
/// destination, replacing an older directory of that name. Dropped without a commit, the
/// temporary directory is removed.
pub struct AtomicDir {
    dst: PathBuf,
    tmp: PathBuf,
}

impl AtomicDir {
    /// Starts a fresh temporary directory for `dst` (its parent is created if needed).
    pub fn create(dst: &Path) -> Result<Self> {
        let dir = parent_dir(dst);
        std::fs::create_dir_all(dir).map_err(FsError::at(dir))?;
        sweep_stale(dst);
        let tmp = temp_path(dst);
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(FsError::at(&tmp))?;
        }
        std::fs::create_dir(&tmp).map_err(FsError::at(&tmp))?;
        register(&tmp);
        Ok(AtomicDir {
            dst: dst.to_path_buf(),
            tmp,
        })
    }

    /// The temporary directory to fill.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the filled directory onto the destination. An existing destination is first moved
    /// aside and removed after the rename, so a crash in between leaves a complete directory
    /// under one of the two names, never none.
    pub fn commit(mut self) -> Result<()> {
        if self.dst.exists() {
            let old = parent_dir(&self.dst).join(format!(
                "{}{}.old",
                temp_prefix(&self.dst),
                std::process::id()
            ));
            std::fs::rename(&self.dst, &old).map_err(FsError::at(&self.dst))?;
            std::fs::rename(&self.tmp, &self.dst).map_err(FsError::at(&self.dst))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.tmp, &self.dst).map_err(FsError::at(&self.dst))?;
        }
        unregister(&self.tmp);
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Drop for AtomicDir {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.tmp);
            unregister(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests;
