//! Atomic file output: write to a temporary file next to the target, flush to disk, rename.
//!
//! A killed run then leaves either the old file or the new one, never half of one; the temporary
//! name starts with `.` and ends in `.tmp` so leftovers are easy to spot.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::DataError;

/// The temporary path used while `path` is being written.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// A file being written under a temporary name; [`AtomicFile::commit`] renames it into place.
/// Dropped without commit, the temporary file is removed.
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `target` (creating its parent directory if needed).
    pub fn create(target: &Path) -> Result<Self, DataError> {
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        }
        let temp = temp_path(target);
        let f = File::create(&temp).map_err(|e| DataError::io(&temp, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            writer: Some(BufWriter::with_capacity(1 << 20, f)),
        })
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), DataError> {
        match self.writer.as_mut() {
            Some(w) => w.write_all(bytes).map_err(|e| DataError::io(&self.temp, e)),
            None => Err(DataError::Invalid("write after commit".into())),
        }
    }

    /// Flushes, syncs to disk and renames onto the target.
    pub fn commit(mut self) -> Result<(), DataError> {
        let w = self
            .writer
            .take()
            .ok_or_else(|| DataError::Invalid("double commit".into()))?;
        let f = w
            .into_inner()
            .map_err(|e| DataError::io(&self.temp, e.into_error()))?;
        f.sync_all().map_err(|e| DataError::io(&self.temp, e))?;
        drop(f);
        fs::rename(&self.temp, &self.target).map_err(|e| DataError::io(&self.target, e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
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

/// Writes `bytes` to `path` atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Writes `value` as pretty JSON (with a final newline) to `path` atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), DataError> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| DataError::format(path, format!("cannot serialize: {e}")))?;
    s.push('\n');
    write_file(path, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_and_abort() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/a.txt");
        write_file(&p, b"one").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"two").unwrap();
            // dropped: aborted
        }
        assert_eq!(fs::read(&p).unwrap(), b"one");
        let leftovers: Vec<_> = fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
