//! Larger checks on the public data sets under `$CHEMLM_DATA_DIR` (skipped, with a message, when it
//! is not set). Read at test time, never copied into the repository.
//!
//! RDKit 2026.09.1 parses every SMILES of MoleculeNet BBBP (2039), ClinTox (1478) and BACE (1513) as
//! distributed by chemprop, so here every one must parse, canonicalize to a fixed point and give a
//! scaffold and a fingerprint; failures are listed with file, line and reason.

use chemlm_chem::{canonicalize, Molecule};
use flate2::read::GzDecoder;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("CHEMLM_DATA_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("CHEMLM_DATA_DIR is not set: skipping the data-set checks");
            None
        }
    }
}

/// `(line number, SMILES)` of column `column` of a plain or gzipped CSV without quoted fields.
fn smiles_column(path: &Path, column: &str) -> Vec<(usize, String)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        s
    } else {
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut lines = text.lines();
    let header = lines.next().expect("header line");
    let col = header
        .split(',')
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("{}: no column {column}", path.display()));
    lines
        .enumerate()
        .map(|(i, line)| {
            assert!(
                !line.contains('"'),
                "{}:{}: quoted CSV fields are not handled by this test",
                path.display(),
                i + 2
            );
            let field = line.split(',').nth(col).unwrap_or("").to_string();
            (i + 2, field)
        })
        .collect()
}

#[test]
fn moleculenet_bbbp_clintox_bace_all_parse_and_canonicalize() {
    let Some(dir) = data_dir() else { return };
    let mut failures = String::new();
    let mut n_bad = 0;
    let mut n = 0;
    for (file, column) in [
        ("molnet/bbbp.csv", "smiles"),
        ("molnet/clintox.csv", "smiles"),
        ("molnet/bace.csv", "mol"),
    ] {
        let path = dir.join(file);
        for (line, smiles) in smiles_column(&path, column) {
            n += 1;
            let outcome = (|| {
                let mol = Molecule::from_smiles(&smiles)?;
                let canon = mol.canonical_smiles()?;
                let again = canonicalize(&canon)?;
                if again != canon {
                    return Err(chemlm_chem::ChemError::Sanitize(format!(
                        "canonical form is not a fixed point: {canon} -> {again}"
                    )));
                }
                mol.murcko_scaffold(false)?;
                mol.murcko_scaffold(true)?;
                mol.morgan(2, 2048)?;
                Ok(())
            })();
            if let Err(e) = outcome {
                n_bad += 1;
                let _ = writeln!(failures, "  {file}:{line}: {smiles}: {e}");
            }
        }
    }
    assert!(n > 5000, "only {n} molecules read");
    assert_eq!(n_bad, 0, "{n_bad} of {n} molecules failed:\n{failures}");
}

#[test]
fn clintox_doubled_backslashes_read_as_single() {
    let Some(dir) = data_dir() else { return };
    let rows = smiles_column(&dir.join("molnet/clintox.csv"), "smiles");
    let doubled: Vec<_> = rows.iter().filter(|(_, s)| s.contains("\\\\")).collect();
    assert!(
        !doubled.is_empty(),
        "ClinTox should have doubled backslashes"
    );
    for (line, smiles) in doubled {
        let single = smiles.replace("\\\\", "\\");
        let ours = canonicalize(smiles).unwrap_or_else(|e| panic!("clintox.csv:{line}: {e}"));
        assert_eq!(ours, canonicalize(&single).unwrap(), "clintox.csv:{line}");
        assert!(!ours.contains("\\\\"), "clintox.csv:{line}: {ours}");
    }
}

#[test]
fn random_smiles_of_moses_and_bbbp_molecules_canonicalize_back() {
    let Some(dir) = data_dir() else { return };
    let moses = smiles_column(&dir.join("moses/test.csv.gz"), "SMILES");
    let bbbp = smiles_column(&dir.join("molnet/bbbp.csv"), "smiles");
    let sample = moses
        .iter()
        .step_by(moses.len() / 300)
        .chain(bbbp.iter().step_by(bbbp.len() / 100));
    let mut failures = String::new();
    let mut n = 0;
    for (i, (line, smiles)) in sample.enumerate() {
        let mol = Molecule::from_smiles(smiles).unwrap_or_else(|e| panic!("line {line}: {e}"));
        let canon = mol.canonical_smiles().unwrap();
        for r in mol.random_smiles(5, 1 + i as u32).unwrap() {
            n += 1;
            match canonicalize(&r) {
                Ok(c) if c == canon => {}
                other => {
                    let _ = writeln!(failures, "  {smiles} -> {r} -> {other:?} != {canon}");
                }
            }
        }
    }
    assert!(n >= 2000, "only {n} random SMILES checked");
    assert!(failures.is_empty(), "random SMILES mismatches:\n{failures}");
}
