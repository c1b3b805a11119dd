//! The shared data files under `$CHEMLM_DATA_DIR` (skipped, with a message, when it is not set):
//! MD17 aspirin as `.npz` and as extended XYZ (gzip, kcal/mol declared in the comment line) give
//! the same 1000 frames after unit conversion; spot values agree with what numpy / ASE / csv read
//! (`tests/golden/io/data_summary.json`, from `scripts/gen_atoms_io_golden.py`); QM9 rows.

use chemlm_atoms::io::{read_extxyz, read_npz, read_qm9, read_structures, ReadOptions};
use chemlm_atoms::structure::Value;
use chemlm_atoms::units::{EnergyUnit, HARTREE, KCAL_PER_MOL};
use chemlm_atoms::{elements, Structure};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// Float equality up to a few ulps: serde_json's default float parser (no `float_roundtrip`)
/// may round the golden's decimal text one ulp off, and unit factors add one more rounding.
fn same(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs())
}

fn same3(a: &[[f64; 3]], b: &[[f64; 3]]) -> bool {
    a.len() == b.len()
        && a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .all(|(x, y)| same(*x, *y))
}

fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("CHEMLM_DATA_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("CHEMLM_DATA_DIR is not set: skipping the data-file checks");
            None
        }
    }
}

fn summary() -> Json {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/io/data_summary.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vec3s(v: &Json) -> Vec<[f64; 3]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            [
                r[0].as_f64().unwrap(),
                r[1].as_f64().unwrap(),
                r[2].as_f64().unwrap(),
            ]
        })
        .collect()
}

/// `ours` equals the raw golden frame converted with `ef` (energy) and `ef` (force, per Å).
fn assert_frame(ours: &Structure, raw: &Json, ef: f64, ctx: &str) {
    assert!(
        same3(&ours.positions, &vec3s(&raw["R"])),
        "{ctx}: positions"
    );
    let e = raw["E"].as_f64().unwrap() * ef;
    assert!(
        same(ours.energy.unwrap(), e),
        "{ctx}: energy {:?} vs {e}",
        ours.energy
    );
    let forces: Vec<[f64; 3]> = vec3s(&raw["F"])
        .into_iter()
        .map(|v| v.map(|x| x * ef))
        .collect();
    assert!(
        same3(ours.forces.as_ref().unwrap(), &forces),
        "{ctx}: forces"
    );
}

#[test]
fn aspirin_npz_and_extxyz_agree() {
    let Some(data) = data_dir() else { return };
    let g = summary();
    let ff = data.join("forcefield");
    let npz = read_npz(ff.join("aspirin_ccsd-train.npz"), &ReadOptions::default()).unwrap();
    let xyz = read_structures(
        ff.join("aspirin_ccsd-train.extxyz.gz"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(
        npz.is_clean() && xyz.is_clean(),
        "{:?} {:?}",
        npz.bad,
        xyz.bad
    );
    assert_eq!(npz.structures.len(), 1000);
    assert_eq!(xyz.structures.len(), 1000);
    let z: Vec<u8> = g["aspirin_npz"]["z"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(z.len(), 21);
    // Spot frames against numpy (npz) and ASE (extxyz, raw kcal/mol numbers).
    for (key, frames) in [
        ("aspirin_npz", &npz.structures),
        ("aspirin_extxyz", &xyz.structures),
    ] {
        for (i, raw) in g[key]["frames"].as_object().unwrap() {
            let s = &frames[i.parse::<usize>().unwrap()];
            assert_eq!(s.numbers, z);
            assert_frame(s, raw, KCAL_PER_MOL, &format!("{key} frame {i}"));
        }
    }
    // The unit keys of the comment line were used, not kept.
    assert!(!xyz.structures[0].info.contains_key("energy_unit"));
    assert_eq!(xyz.structures[3].info.get("frame"), Some(&Value::Int(3)));
    // Whole files: the extended XYZ holds 10 decimals of the npz values.
    let (mut de, mut dr, mut df) = (0.0f64, 0.0f64, 0.0f64);
    for (a, b) in npz.structures.iter().zip(&xyz.structures) {
        assert_eq!(a.numbers, b.numbers);
        de = de.max((a.energy.unwrap() - b.energy.unwrap()).abs());
        for (p, q) in a.positions.iter().zip(&b.positions) {
            for k in 0..3 {
                dr = dr.max((p[k] - q[k]).abs());
            }
        }
        for (p, q) in a
            .forces
            .as_ref()
            .unwrap()
            .iter()
            .zip(b.forces.as_ref().unwrap())
        {
            for k in 0..3 {
                df = df.max((p[k] - q[k]).abs());
            }
        }
    }
    eprintln!("aspirin npz vs extxyz: max |dE| {de:.2e} eV, |dR| {dr:.2e} Å, |dF| {df:.2e} eV/Å");
    assert!(de < 1e-9 && dr < 1e-9 && df < 1e-9, "{de} {dr} {df}");
    // A caller's explicit unit wins over the file's declaration.
    let ev = read_extxyz(
        ff.join("aspirin_ccsd-train.extxyz.gz"),
        &ReadOptions::default()
            .with_energy_unit(EnergyUnit::Ev)
            .with_limit(2),
    )
    .unwrap();
    assert_eq!(ev.structures.len(), 2);
    let raw = g["aspirin_extxyz"]["frames"]["1"]["E"].as_f64().unwrap();
    assert!(same(ev.structures[1].energy.unwrap(), raw));
}

#[test]
fn glucose_npz() {
    let Some(data) = data_dir() else { return };
    let g = &summary()["glucose_npz"];
    let r = read_npz(
        data.join("forcefield/glucose_alpha.npz"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(r.is_clean(), "{:?}", r.bad);
    assert_eq!(r.structures.len(), 3000);
    assert_eq!(r.structures[0].len(), 24);
    for (i, raw) in g["frames"].as_object().unwrap() {
        let s = &r.structures[i.parse::<usize>().unwrap()];
        assert_frame(s, raw, KCAL_PER_MOL, &format!("glucose frame {i}"));
    }
    let limited = read_npz(
        data.join("forcefield/glucose_alpha.npz"),
        &ReadOptions::default().with_limit(10),
    )
    .unwrap();
    assert_eq!(limited.structures.len(), 10);
}

#[test]
fn qm9_rows() {
    let Some(data) = data_dir() else { return };
    let g = &summary()["qm9"];
    let path = data.join("qm9/qm9_xyz.csv.gz");
    let r = read_qm9(&path, &ReadOptions::default().with_limit(1000)).unwrap();
    assert!(r.is_clean(), "{:?}", r.bad);
    assert_eq!(r.structures.len(), 1000);
    for (i, row) in g.as_object().unwrap() {
        let s = &r.structures[i.parse::<usize>().unwrap()];
        let numbers: Vec<u8> = row["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| elements::number(v.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(s.numbers, numbers);
        assert!(same3(&s.positions, &vec3s(&row["positions"])));
        assert!(same(
            s.energy.unwrap(),
            row["u0"].as_f64().unwrap() * HARTREE
        ));
        assert_eq!(
            s.info["gdb_idx"],
            Value::Int(row["gdb_idx"].as_i64().unwrap())
        );
        assert_eq!(
            s.info["smiles"],
            Value::Str(row["smiles"].as_str().unwrap().into())
        );
    }
    // Another target column by name; dispatch by extension gives the same reader.
    let gap = read_structures(
        &path,
        &ReadOptions::default().with_energy_key("gap").with_limit(3),
    )
    .unwrap();
    assert!(same(
        gap.structures[2].energy.unwrap(),
        g["2"]["gap"].as_f64().unwrap() * HARTREE
    ));
    assert!(read_qm9(&path, &ReadOptions::default().with_energy_key("nope")).is_err());
}
