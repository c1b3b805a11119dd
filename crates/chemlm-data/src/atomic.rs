//! Atomic file output for the data crate: [`chemlm_fs`]'s temporary-sibling-and-rename writers
//! with [`DataError`]s. A killed run leaves either the old file or the new one, never half of one,
//! and its temporary (`.NAME.tmp-PID`) is swept by the next run that writes the same file.

use std::io::Write;
use std::path::Path;

use crate::error::DataError;

pub use chemlm_fs::temp_path;

impl From<chemlm_fs::FsError> for DataError {
    fn from(e: chemlm_fs::FsError) -> Self {
        DataError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// A file being written under a temporary name; [`AtomicFile::commit`] renames it into place.
/// Dropped without commit, the temporary file is removed.
pub struct AtomicFile(chemlm_fs::AtomicFile);

impl AtomicFile {
    /// Starts writing `target` (creating its parent directory if needed).
    pub fn create(target: &Path) -> Result<Self, DataError> {
        Ok(AtomicFile(chemlm_fs::AtomicFile::create(target)?))
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        self.0.target()
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), DataError> {
        Write::write_all(&mut self.0, bytes).map_err(|e| DataError::io(self.0.temp(), e))
    }

    /// Flushes, syncs to disk and renames onto the target.
    pub fn commit(self) -> Result<(), DataError> {
        Ok(self.0.commit()?)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    Ok(chemlm_fs::write_bytes(path, bytes)?)
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
    use std::fs;

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
