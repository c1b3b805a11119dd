//! The hits CSV: `rank,score,smiles,id,line,nearest_active`, written to a temporary file next to the
//! target and renamed into place, so an interrupted run never leaves a truncated result.

use std::io::Write;
use std::path::Path;

use crate::error::ScreenError;
use crate::stream::Hit;

/// Column names of the hits CSV, in order.
pub const HEADER: [&str; 6] = ["rank", "score", "smiles", "id", "line", "nearest_active"];

/// Writes `path` atomically through [`chemlm_fs`] (temporary sibling + rename; a stale
/// temporary of a killed run is swept first).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ScreenError> {
    chemlm_fs::write_with(path, write).map_err(|e| ScreenError::Io {
        path: e.path,
        source: e.source,
    })
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
