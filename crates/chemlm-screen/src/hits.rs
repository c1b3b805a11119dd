//! The hits CSV: `rank,score,smiles,id,line,nearest_active`, written to a temporary file next to the
//! target and renamed into place, so an interrupted run never leaves a truncated result.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::ScreenError;
use crate::stream::Hit;

/// Column names of the hits CSV, in order.
pub const HEADER: [&str; 6] = ["rank", "score", "smiles", "id", "line", "nearest_active"];

/// `dir/.name.tmp-PID` next to `path`, so the rename stays on one file system.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `bytes` to `path` atomically (temporary file + rename).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ScreenError> {
    let tmp = temp_path(path);
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ScreenError::Io { path: p, source }
    };
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut w = BufWriter::new(file);
    let result = write(&mut w).and_then(|()| w.flush());
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(&tmp)(e));
    }
    drop(w);
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Writes the hits; `nearest_active` is the nearest query's name from `query_names` (its id, or
/// its SMILES when it has none), empty when the scorer gave none.
pub fn write_hits_csv(
    path: &Path,
    hits: &[Hit],
    query_names: &[String],
) -> Result<(), ScreenError> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(HEADER)?;
        for h in hits {
            let nearest = h
                .nearest
                .and_then(|i| query_names.get(i))
                .map(String::as_str)
                .unwrap_or("");
            csv.write_record([
                h.rank.to_string().as_str(),
                format!("{:.6}", h.score).as_str(),
                h.smiles.as_str(),
                h.id.as_deref().unwrap_or(""),
                h.line.to_string().as_str(),
                nearest,
            ])?;
        }
        csv.flush()
    })
}
