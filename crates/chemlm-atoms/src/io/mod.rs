//! Structure files: extended XYZ (ASE's dialect), MD17/sGDML `.npz` and the QM9 geometry CSV.
//!
//! Every reader converts to chemlm's internal units (Å, eV, eV/Å) on read, from the units the
//! caller names in [`ReadOptions`] or, failing that, the units the format declares or implies.
//! Batch readers do not stop at the first malformed frame: they return a [`ReadReport`] with the
//! good structures and one [`AtomsError::BadFrame`] (file, frame, line) per bad frame, so that a
//! job over a large file can report what it skipped; [`ReadReport::into_strict`] turns the first
//! bad frame into an error for callers that want all or nothing.

pub mod extxyz;
mod extxyz_kv;
mod extxyz_write;
pub mod npz;
pub mod qm9;

pub use extxyz::{
    format_extxyz_frame, open_extxyz, read_extxyz, write_extxyz, write_extxyz_to, ExtxyzFrames,
};
pub use npz::read_npz;
pub use qm9::read_qm9;

use crate::error::{AtomsError, Result};
use crate::structure::Structure;
use crate::units::{EnergyUnit, LengthUnit};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// How to read a structure file. `None` fields take the format's own default, documented on
/// each field, so that `ReadOptions::default()` reads ASE-written extended XYZ, sGDML `.npz` and
/// the QM9 CSV correctly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// Unit of the energies (and of the energy part of forces) in the file. Default: extended
    /// XYZ — the frame's `energy_unit=` key if present, else eV (ASE's convention); `.npz` —
    /// kcal/mol (sGDML); QM9 — Hartree.
    pub energy_unit: Option<EnergyUnit>,
    /// Unit of positions and cells in the file (forces are energy/length). Default: Å.
    pub length_unit: Option<LengthUnit>,
    /// Where the energy is: the comment-line key (extended XYZ, default `energy`), the array name
    /// (`.npz`, default `E`) or the column name (QM9, default `u0`).
    pub energy_key: Option<String>,
    /// Where the forces are: the per-atom property (extended XYZ, default `forces`) or the array
    /// name (`.npz`, default `F`). Unused for QM9, which has no forces.
    pub forces_key: Option<String>,
    /// Read at most this many frames (good or bad) from the start of the file.
    pub limit: Option<usize>,
}

impl ReadOptions {
    /// Options with the given energy unit for the file.
    pub fn with_energy_unit(mut self, unit: EnergyUnit) -> Self {
        self.energy_unit = Some(unit);
        self
    }

    /// Options with the given length unit for the file.
    pub fn with_length_unit(mut self, unit: LengthUnit) -> Self {
        self.length_unit = Some(unit);
        self
    }

    /// Options reading the energy from `key`.
    pub fn with_energy_key(mut self, key: impl Into<String>) -> Self {
        self.energy_key = Some(key.into());
        self
    }

    /// Options reading the forces from `key`.
    pub fn with_forces_key(mut self, key: impl Into<String>) -> Self {
        self.forces_key = Some(key.into());
        self
    }

    /// Options reading at most `n` frames.
    pub fn with_limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    pub(crate) fn energy_key_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.energy_key.as_deref().unwrap_or(default)
    }

    pub(crate) fn forces_key_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.forces_key.as_deref().unwrap_or(default)
    }

    pub(crate) fn length_factor(&self) -> f64 {
        self.length_unit
            .unwrap_or(LengthUnit::Angstrom)
            .to_angstrom()
    }
}

/// What a batch read produced: the good structures in file order and the bad frames.
#[derive(Debug, Default)]
pub struct ReadReport {
    /// The file that was read.
    pub path: PathBuf,
    /// Structures of the good frames, in file order, in eV / Å.
    pub structures: Vec<Structure>,
    /// One [`AtomsError::BadFrame`] per skipped frame, in file order.
    pub bad: Vec<AtomsError>,
    /// Frames looked at (good + bad).
    pub frames_seen: usize,
}

impl ReadReport {
    /// Whether every frame was good.
    pub fn is_clean(&self) -> bool {
        self.bad.is_empty()
    }

    /// The structures, or the first bad frame as an error.
    pub fn into_strict(self) -> Result<Vec<Structure>> {
        match self.bad.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(self.structures),
        }
    }
}

/// The file formats [`read_structures`] knows, found from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.xyz`, `.extxyz` (optionally `.gz`).
    Extxyz,
    /// `.npz` (MD17 / sGDML arrays).
    Npz,
    /// `.csv` / `.csv.gz` with QM9's columns.
    Qm9Csv,
}

impl Format {
    /// The format implied by the file name, ignoring a trailing `.gz`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".xyz") || name.ends_with(".extxyz") {
            Some(Format::Extxyz)
        } else if name.ends_with(".npz") {
            Some(Format::Npz)
        } else if name.ends_with(".csv") {
            Some(Format::Qm9Csv)
        } else {
            None
        }
    }
}

/// Reads every frame of `path`, choosing the reader from the file name (see [`Format`]).
/// Errors are file-level (missing file, unknown format, missing arrays or columns); bad frames
/// are in the report.
pub fn read_structures(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<ReadReport> {
    let path = path.as_ref();
    match Format::from_path(path) {
        Some(Format::Extxyz) => read_extxyz(path, opts),
        Some(Format::Npz) => read_npz(path, opts),
        Some(Format::Qm9Csv) => read_qm9(path, opts),
        None => Err(AtomsError::BadFile {
            path: path.to_path_buf(),
            reason: "unknown structure format (expected .xyz, .extxyz, .npz or a QM9 .csv, \
                     optionally .gz)"
                .into(),
        }),
    }
}

/// [`read_structures`], failing on the first bad frame.
pub fn read_structures_strict(
    path: impl AsRef<Path>,
    opts: &ReadOptions,
) -> Result<Vec<Structure>> {
    read_structures(path, opts)?.into_strict()
}

/// Opens a text file for buffered reading, decompressing gzip when the file starts with the
/// gzip magic bytes (whatever its name says).
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| AtomsError::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf().map_err(|e| AtomsError::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Reads a whole (possibly gzipped) file into memory.
#[cfg(test)]
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    open_text(path)?
        .read_to_end(&mut out)
        .map_err(|e| AtomsError::io(path, e))?;
    Ok(out)
}

/// Writes a file atomically: the bytes go to a temporary file in the same directory, which is
/// renamed over `path` only once everything was written and synced; on any error the temporary
/// file is removed and `path` is untouched. `fill` writes the content; when `path` ends in `.gz`
/// the content is gzip-compressed.
pub(crate) fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| AtomsError::BadFile {
            path: path.to_path_buf(),
            reason: "not a file name".into(),
        })?;
    // As ASE: a missing directory is an error (a typo), not something to create.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(AtomsError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
            ));
        }
    }
    let mut file = chemlm_fs::AtomicFile::create(path)?;
    if name.to_ascii_lowercase().ends_with(".gz") {
        let mut enc = flate2::write::GzEncoder::new(&mut file, flate2::Compression::default());
        fill(&mut enc)?;
        enc.finish().map_err(|e| AtomsError::io(path, e))?;
    } else {
        fill(&mut file)?;
    }
    Ok(file.commit()?)
}

impl From<chemlm_fs::FsError> for AtomsError {
    fn from(e: chemlm_fs::FsError) -> Self {
        AtomsError::io(&e.path, e.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_name() {
        let f = |s: &str| Format::from_path(Path::new(s));
        assert_eq!(f("a/b.extxyz.gz"), Some(Format::Extxyz));
        assert_eq!(f("b.XYZ"), Some(Format::Extxyz));
        assert_eq!(f("aspirin.npz"), Some(Format::Npz));
        assert_eq!(f("qm9_xyz.csv.gz"), Some(Format::Qm9Csv));
        assert_eq!(f("model.safetensors"), None);
    }

    #[test]
    fn atomic_write_leaves_nothing_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, b"old").unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial")
                .map_err(|e| AtomsError::io("x", e))?;
            Err(AtomsError::Invalid("boom".into()))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary file left behind");
        write_atomic(&path, |w| {
            w.write_all(b"new").map_err(|e| AtomsError::io("x", e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn gzip_written_and_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt.gz");
        write_atomic(&path, |w| {
            w.write_all(b"hello\n").map_err(|e| AtomsError::io("x", e))
        })
        .unwrap();
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(&raw[..2], &[0x1f, 0x8b]);
        assert_eq!(read_all(&path).unwrap(), b"hello\n");
    }
}
