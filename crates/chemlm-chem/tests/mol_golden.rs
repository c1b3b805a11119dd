//! chemlm's molecule layer against RDKit 2026.09.1, through the golden file that
//! `scripts/gen_chem_golden.py` writes (hand-written molecules plus a sample of MOSES test and QM9).
//!
//! Every field must match exactly. A failing test lists every mismatching molecule and field, so
//! a backend update that drifts from RDKit shows what moved.

use chemlm_chem::{ChemError, Molecule};
use serde_json::Value;
use std::fmt::Write as _;

const GOLDEN: &str = include_str!("golden/chem/molecules.jsonl");

fn records() -> Vec<Value> {
    GOLDEN
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("golden line {}: invalid JSON: {e}", i + 1))
        })
        .collect()
}

fn str_field<'a>(rec: &'a Value, key: &str) -> &'a str {
    rec[key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: field {key} missing", rec["id"]))
}

fn usize_list(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

fn pair_list(v: &Value) -> Vec<(u32, u32)> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let p = p.as_array().expect("pair");
            (
                p[0].as_u64().expect("bit") as u32,
                p[1].as_u64().expect("count") as u32,
            )
        })
        .collect()
}

/// Runs `check` on every valid golden molecule; collects failures and panics with all of them.
fn for_each_valid(what: &str, mut check: impl FnMut(&Value, &Molecule) -> Result<(), String>) {
    let mut failures = String::new();
    let mut n = 0usize;
    let mut bad = 0usize;
    for rec in records() {
        if rec["valid"] != Value::Bool(true) {
            continue;
        }
        n += 1;
        let input = str_field(&rec, "input");
        let outcome = Molecule::from_smiles(input)
            .map_err(|e| format!("parse failed: {e}"))
            .and_then(|mol| check(&rec, &mol));
        if let Err(msg) = outcome {
            bad += 1;
            let _ = writeln!(failures, "  {} {input}: {msg}", rec["id"]);
        }
    }
    assert!(n > 300, "golden file has only {n} valid molecules");
    assert!(
        bad == 0,
        "{what}: {bad} of {n} molecules differ from RDKit:\n{failures}"
    );
}

fn same<T: PartialEq + std::fmt::Debug>(ours: T, rdkit: T) -> Result<(), String> {
    if ours == rdkit {
        Ok(())
    } else {
        Err(format!("chemlm {ours:?} != RDKit {rdkit:?}"))
    }
}

#[test]
fn canonical_smiles_match_rdkit() {
    for_each_valid("canonical SMILES", |rec, mol| {
        same(
            mol.canonical_smiles().map_err(|e| e.to_string())?,
            str_field(rec, "canonical").to_string(),
        )
    });
}

#[test]
fn canonical_smiles_is_a_fixed_point() {
    for_each_valid("canonical(canonical(s))", |rec, _| {
        let canon = str_field(rec, "canonical");
        same(
            chemlm_chem::canonicalize(canon).map_err(|e| e.to_string())?,
            canon.to_string(),
        )
    });
}

#[test]
fn rdkit_random_smiles_all_map_to_the_canonical_string() {
    for_each_valid("randomized SMILES -> canonical", |rec, _| {
        let canon = str_field(rec, "canonical");
        for r in rec["random"].as_array().expect("random") {
            let r = r.as_str().expect("string");
            let ours = chemlm_chem::canonicalize(r).map_err(|e| format!("{r}: {e}"))?;
            if ours != canon {
                return Err(format!("random {r} -> {ours}, expected {canon}"));
            }
        }
        Ok(())
    });
}

#[test]
fn our_random_smiles_all_map_to_the_canonical_string() {
    for_each_valid("random_smiles -> canonical", |rec, mol| {
        let canon = str_field(rec, "canonical");
        for seed in [1, 77, 4242] {
            for r in mol.random_smiles(4, seed).map_err(|e| e.to_string())? {
                let ours = chemlm_chem::canonicalize(&r).map_err(|e| format!("{r}: {e}"))?;
                if ours != canon {
                    return Err(format!("seed {seed}: {r} -> {ours}, expected {canon}"));
                }
            }
        }
        Ok(())
    });
}

#[test]
fn random_smiles_match_rdkit_string_for_string() {
    for_each_valid("MolToRandomSmilesVect", |rec, mol| {
        let seed = rec["random_seed"].as_u64().expect("seed") as u32;
        let rdkit: Vec<String> = rec["random"]
            .as_array()
            .expect("random")
            .iter()
            .map(|s| s.as_str().expect("string").to_string())
            .collect();
        same(
            mol.random_smiles(rdkit.len(), seed)
                .map_err(|e| e.to_string())?,
            rdkit,
        )
    });
}

#[test]
fn kekule_smiles_match_rdkit() {
    for_each_valid("kekuleSmiles", |rec, mol| {
        same(
            mol.kekulized_smiles().map_err(|e| e.to_string())?,
            str_field(rec, "kekule").to_string(),
        )
    });
}

#[test]
fn murcko_scaffolds_match_rdkit() {
    for_each_valid("Murcko scaffold", |rec, mol| {
        same(
            mol.murcko_scaffold(false).map_err(|e| e.to_string())?,
            str_field(rec, "scaffold").to_string(),
        )
    });
}

#[test]
fn generic_scaffolds_match_rdkit() {
    for_each_valid("generic Murcko scaffold", |rec, mol| {
        match (mol.murcko_scaffold(true), rec["generic_scaffold"].as_str()) {
            (Ok(ours), Some(rdkit)) => same(ours.as_str(), rdkit),
            (Err(_), None) => Ok(()),
            (Ok(ours), None) => Err(format!("chemlm {ours:?}, RDKit refused")),
            (Err(e), Some(rdkit)) => Err(format!("chemlm failed ({e}), RDKit {rdkit:?}")),
        }
    });
}

#[test]
fn morgan_bits_match_rdkit() {
    for_each_valid("Morgan bits", |rec, mol| {
        for (key, radius, n_bits) in [
            ("morgan2_2048", 2, 2048),
            ("morgan3_1024", 3, 1024),
            ("morgan2_4096", 2, 4096),
        ] {
            if rec.get(key).is_none() {
                continue;
            }
            let fp = mol.morgan(radius, n_bits).map_err(|e| e.to_string())?;
            assert_eq!(fp.len(), n_bits);
            same(fp.on_bits(), usize_list(&rec[key])).map_err(|e| format!("{key}: {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn morgan_counts_match_rdkit() {
    for_each_valid("Morgan counts", |rec, mol| {
        for (key, radius, n_bits) in [
            ("morgan2_2048_counts", 2, 2048),
            ("morgan1_512_counts", 1, 512),
        ] {
            if rec.get(key).is_none() {
                continue;
            }
            let counts = mol
                .morgan_counts(radius, n_bits)
                .map_err(|e| e.to_string())?;
            same(counts, pair_list(&rec[key])).map_err(|e| format!("{key}: {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn maccs_keys_match_rdkit() {
    for_each_valid("MACCS keys", |rec, mol| {
        let fp = mol.maccs();
        assert_eq!(fp.len(), 167);
        same(fp.on_bits(), usize_list(&rec["maccs"]))
    });
}

#[test]
fn largest_fragment_matches_rdkit() {
    for_each_valid("LargestFragmentChooser", |rec, mol| {
        let frag = mol.largest_fragment().map_err(|e| e.to_string())?;
        same(
            frag.canonical_smiles().map_err(|e| e.to_string())?,
            str_field(rec, "largest_fragment").to_string(),
        )
    });
}

#[test]
fn descriptors_match_rdkit() {
    for_each_valid("descriptors", |rec, mol| {
        let float = |key: &str| -> f64 {
            str_field(rec, key)
                .parse()
                .unwrap_or_else(|e| panic!("{key}: {e}"))
        };
        same(
            mol.num_heavy_atoms(),
            rec["heavy_atoms"].as_u64().expect("heavy_atoms") as usize,
        )
        .map_err(|e| format!("heavy atoms: {e}"))?;
        same(
            mol.num_rings(),
            rec["rings"].as_u64().expect("rings") as usize,
        )
        .map_err(|e| format!("rings: {e}"))?;
        same(mol.molecular_weight(), float("mol_wt")).map_err(|e| format!("MolWt: {e}"))?;
        same(mol.logp().map_err(|e| e.to_string())?, float("logp"))
            .map_err(|e| format!("MolLogP: {e}"))
    });
}

/// SMILES RDKit refuses are refused here too: syntax errors when parsing, with a position;
/// chemistry errors (valence, kekulization) at the latest when the canonical form is asked for.
#[test]
fn invalid_smiles_fail_as_in_rdkit() {
    let mut n = 0;
    for rec in records() {
        if rec["valid"] != Value::Bool(false) {
            continue;
        }
        n += 1;
        let input = str_field(&rec, "input");
        let stage = str_field(&rec, "stage");
        match Molecule::from_smiles(input) {
            Err(ChemError::Parse { position, reason }) => {
                // chematic rejects impossible O/F valences while parsing, RDKit while sanitizing.
                if stage == "parse" {
                    assert!(
                        position.is_some(),
                        "{input}: parse error without a position: {reason}"
                    );
                }
            }
            Err(e) => panic!("{input}: unexpected error kind {e:?}"),
            Ok(mol) => {
                assert_eq!(
                    stage, "sanitize",
                    "{input}: RDKit fails to parse it, chemlm parsed it"
                );
                let err = mol
                    .canonical_smiles()
                    .expect_err("RDKit refuses this molecule");
                assert!(
                    matches!(err, ChemError::Sanitize(_)),
                    "{input}: expected a sanitize error, got {err:?}"
                );
            }
        }
    }
    assert!(n >= 8, "golden file has only {n} invalid SMILES");
}
