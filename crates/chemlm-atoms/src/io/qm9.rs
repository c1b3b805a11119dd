//! The QM9 geometry table (`qm9/qm9_xyz.csv.gz` of the shared data): one molecule per row with
//! columns `gdb_idx, smiles, n_atoms, elements` (space-separated symbols), `xyz_angstrom` (flat
//! `x1 y1 z1 x2 …`, Å) and the twelve QM9 targets. The energy target defaults to `u0` (Hartree,
//! converted to eV); any other column can be chosen with [`ReadOptions::energy_key`] (its unit
//! with [`ReadOptions::energy_unit`], Hartree by default). `gdb_idx` and `smiles` are kept in
//! `info`.

use super::{open_text, ReadOptions, ReadReport};
use crate::elements;
use crate::error::{AtomsError, Result};
use crate::structure::{Structure, Value};
use crate::units::EnergyUnit;
use std::path::Path;

/// Reads a QM9 CSV (plain or gzipped). A missing column is a file error; a malformed row is
/// reported with its line number (the header is line 1) and skipped.
pub fn read_qm9(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<ReadReport> {
    let path = path.as_ref();
    let bad_file = |reason: String| AtomsError::BadFile {
        path: path.to_path_buf(),
        reason,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(open_text(path)?);
    let headers = csv
        .headers()
        .map_err(|e| bad_file(format!("cannot read the header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| bad_file(format!("no column {name:?}")))
    };
    let energy_key = opts.energy_key_or("u0");
    let (c_idx, c_smiles, c_n, c_el, c_xyz, c_e) = (
        col("gdb_idx")?,
        col("smiles")?,
        col("n_atoms")?,
        col("elements")?,
        col("xyz_angstrom")?,
        col(energy_key)?,
    );
    let ef = opts.energy_unit.unwrap_or(EnergyUnit::Hartree).to_ev();
    let lf = opts.length_factor();
    let mut report = ReadReport {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let mut record = csv::StringRecord::new();
    let mut frame = 0;
    loop {
        if opts.limit.is_some_and(|l| frame >= l) {
            break;
        }
        let more = match csv.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(bad_file(format!("read error: {e}")));
                }
                report.frames_seen += 1;
                report.bad.push(AtomsError::BadFrame {
                    path: path.to_path_buf(),
                    frame,
                    line,
                    reason: e.to_string(),
                });
                frame += 1;
                continue;
            }
        };
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line() as usize);
        report.frames_seen += 1;
        let get = |c: usize| record.get(c).unwrap_or("").trim();
        match row_structure(
            get(c_idx),
            get(c_smiles),
            get(c_n),
            get(c_el),
            get(c_xyz),
            (energy_key, get(c_e)),
            ef,
            lf,
        ) {
            Ok(s) => report.structures.push(s),
            Err(reason) => report.bad.push(AtomsError::BadFrame {
                path: path.to_path_buf(),
                frame,
                line,
                reason,
            }),
        }
        frame += 1;
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn row_structure(
    idx: &str,
    smiles: &str,
    n_atoms: &str,
    elements_field: &str,
    xyz: &str,
    (energy_key, energy): (&str, &str),
    ef: f64,
    lf: f64,
) -> std::result::Result<Structure, String> {
    let gdb_idx: i64 = idx.parse().map_err(|_| format!("bad gdb_idx {idx:?}"))?;
    let n: usize = n_atoms
        .parse()
        .map_err(|_| format!("bad n_atoms {n_atoms:?}"))?;
    let numbers = elements_field
        .split_whitespace()
        .map(|s| elements::number(s).ok_or_else(|| format!("unknown element {s:?}")))
        .collect::<std::result::Result<Vec<u8>, String>>()?;
    if numbers.len() != n {
        return Err(format!(
            "n_atoms is {n} but elements lists {}",
            numbers.len()
        ));
    }
    let coords = xyz
        .split_whitespace()
        .map(|t| {
            t.parse::<f64>()
                .map_err(|_| format!("bad coordinate {t:?}"))
        })
        .collect::<std::result::Result<Vec<f64>, String>>()?;
    if coords.len() != 3 * n {
        return Err(format!(
            "{} coordinates for {n} atoms (expected {})",
            coords.len(),
            3 * n
        ));
    }
    let e: f64 = energy
        .parse()
        .map_err(|_| format!("bad {energy_key} {energy:?}"))?;
    let mut s = Structure {
        numbers,
        positions: coords
            .chunks_exact(3)
            .map(|c| [c[0] * lf, c[1] * lf, c[2] * lf])
            .collect(),
        energy: Some(e * ef),
        ..Default::default()
    };
    s.info.insert("gdb_idx".into(), Value::Int(gdb_idx));
    s.info
        .insert("smiles".into(), Value::Str(smiles.to_string()));
    s.validate().map_err(|e| e.to_string())?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::HARTREE;

    #[test]
    fn methane_row() {
        let s = row_structure(
            "1",
            "C",
            "5",
            "C H H H H",
            "0 0 0 0.6 0.6 0.6 -0.6 -0.6 0.6 -0.6 0.6 -0.6 0.6 -0.6 -0.6",
            ("u0", "-40.47893"),
            HARTREE,
            1.0,
        )
        .unwrap();
        assert_eq!(s.numbers, vec![6, 1, 1, 1, 1]);
        assert_eq!(s.energy, Some(-40.47893 * HARTREE));
        assert_eq!(s.info["smiles"], Value::Str("C".into()));
        let err = row_structure("1", "C", "5", "C H H H", "", ("u0", "0"), 1.0, 1.0);
        assert!(err.unwrap_err().contains("n_atoms is 5"));
    }
}
