//! Output files that never lose data: [`Output`] writes to a temporary file next to the
//! destination and renames it into place on [`Output::commit`]. Until then the old file is
//! untouched; on an error (the guard is dropped) or Ctrl-C / SIGTERM (a handler removes every
//! registered temporary file) nothing is left behind, and temporary files of runs killed with
//! SIGKILL are removed by the next run that writes the same destination.
//!
//! Destinations are checked before any work: a directory is refused; a symlink is followed (its
//! target is replaced, the link kept); a device, FIFO or socket is written straight through,
//! never replaced by a regular file. A `.gz` destination is written gzip-compressed (the readers
//! accept gzip by its magic bytes).

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

static HANDLER: Once = Once::new();

/// Removes every temporary file or directory registered with [`chemlm_fs`] (this module's outputs
/// and the libraries' run directories, checkpoints and models) on SIGINT/SIGTERM, then exits
/// (130, as a shell does).
pub fn install_handler() {
    HANDLER.call_once(|| {
        let r = ctrlc::set_handler(|| {
            chemlm_fs::remove_registered();
            eprintln!("interrupted: partial outputs removed, existing files left as they were");
            std::process::exit(130);
        });
        if let Err(e) = r {
            tracing::debug!("no signal handler for output cleanup: {e}");
        }
    });
}

/// Where an output goes once its path is checked.
enum Target {
    /// A regular file (or a path to create): write `tmp`, rename onto `dst`.
    Atomic { tmp: PathBuf, dst: PathBuf },
    /// A device, FIFO or socket: written in place.
    Direct,
}

pub use chemlm_fs::temp_path;

/// Checks `path` as an output destination and says how to write it.
fn target(path: &Path) -> Result<Target> {
    // Follow symlinks: the target is what gets replaced.
    let dst = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => path.to_path_buf(),
    };
    if let Ok(meta) = std::fs::metadata(&dst) {
        if meta.is_dir() {
            bail!("{}: is a directory, not an output file", path.display());
        }
        if !meta.is_file() {
            return Ok(Target::Direct);
        }
    }
    if let Some(parent) = dst.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            bail!(
                "{}: directory {} does not exist",
                path.display(),
                parent.display()
            );
        }
    }
    chemlm_fs::sweep_stale(&dst);
    Ok(Target::Atomic {
        tmp: temp_path(&dst),
        dst,
    })
}

/// An output file in progress (see the module docs).
pub struct Output {
    file: Option<File>,
    target: Target,
    path: PathBuf,
}

impl Output {
    /// Checks `path` and opens the file to write (a temporary one for regular files).
    pub fn create(path: &Path) -> Result<Self> {
        install_handler();
        let target = target(path)?;
        let file = match &target {
            Target::Atomic { tmp, .. } => {
                chemlm_fs::register(tmp);
                File::create(tmp).with_context(|| format!("cannot create {}", tmp.display()))?
            }
            Target::Direct => std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?,
        };
        Ok(Output {
            file: Some(file),
            target,
            path: path.to_path_buf(),
        })
    }

    /// Whether the destination gets gzip (`.gz`).
    pub fn gzip(&self) -> bool {
        self.path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    }

    /// The open file (the caller buffers and, for `.gz`, compresses).
    pub fn file(&mut self) -> Result<File> {
        let f = self
            .file
            .as_ref()
            .context("output file already handed out")?;
        Ok(f.try_clone()?)
    }

    /// Moves the finished file into place (the caller has flushed everything it wrote).
    pub fn commit(mut self) -> Result<()> {
        if let Some(f) = self.file.take() {
            if let Target::Atomic { .. } = self.target {
                f.sync_all().ok();
            }
        }
        if let Target::Atomic { tmp, dst } = &self.target {
            std::fs::rename(tmp, dst)
                .with_context(|| format!("cannot move {} to {}", tmp.display(), dst.display()))?;
            chemlm_fs::unregister(tmp);
        }
        self.target = Target::Direct;
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Target::Atomic { tmp, .. } = &self.target {
            self.file = None;
            let _ = std::fs::remove_file(tmp);
            chemlm_fs::unregister(tmp);
        }
    }
}

/// A buffered writer over an [`Output`], gzip-compressing for `.gz` destinations.
pub fn writer(out: &mut Output) -> Result<Box<dyn Write + Send>> {
    let f = std::io::BufWriter::with_capacity(1 << 20, out.file()?);
    Ok(if out.gzip() {
        Box::new(flate2::write::GzEncoder::new(
            f,
            flate2::Compression::default(),
        ))
    } else {
        Box::new(f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temps(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn commit_replaces_and_drop_leaves_the_old_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.txt");
        std::fs::write(&p, "old\n").unwrap();
        {
            let mut o = Output::create(&p).unwrap();
            writeln!(o.file().unwrap(), "half").unwrap();
            // Dropped without commit: an error path.
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
        assert!(temps(d.path()).is_empty());
        let mut o = Output::create(&p).unwrap();
        writeln!(o.file().unwrap(), "new").unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new\n");
        assert!(temps(d.path()).is_empty());
    }

    #[test]
    fn directories_symlinks_devices_and_stale_temps() {
        let d = tempfile::tempdir().unwrap();
        let e = Output::create(d.path()).err().unwrap().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = Output::create(&d.path().join("no/such/out.txt"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        // A symlink keeps pointing at its (replaced) target.
        let real = d.path().join("real.txt");
        std::fs::write(&real, "old").unwrap();
        let link = d.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut o = Output::create(&link).unwrap();
        write!(o.file().unwrap(), "new").unwrap();
        o.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        // A device is written through, not replaced.
        let mut o = Output::create(Path::new("/dev/null")).unwrap();
        write!(o.file().unwrap(), "x").unwrap();
        o.commit().unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
        // The temporary file of a dead process is removed by the next run.
        let stale = d.path().join(".out.txt.tmp-999999999");
        std::fs::write(&stale, "partial").unwrap();
        let o = Output::create(&d.path().join("out.txt")).unwrap();
        assert!(!stale.exists());
        drop(o);
    }
}
