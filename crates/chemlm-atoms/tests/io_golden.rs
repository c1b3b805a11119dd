//! Structure files against ASE: what ASE reads from extended/plain XYZ files (written by ASE or
//! by hand), what ASE reads from a file written by chemlm, and the element table. Golden files
//! come from `scripts/gen_atoms_io_golden.py` (see its docstring for the regeneration steps).

use chemlm_atoms::elements;
use chemlm_atoms::io::{
    format_extxyz_frame, read_extxyz, read_structures, write_extxyz, write_extxyz_to, ReadOptions,
};
use chemlm_atoms::structure::Value;
use chemlm_atoms::{Cell, Structure};
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

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/io")
}

fn load_json(name: &str) -> Json {
    let path = golden_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Json) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn vec3s(v: &Json) -> Vec<[f64; 3]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| [f(&r[0]), f(&r[1]), f(&r[2])])
        .collect()
}

/// Our info value in the golden's `{type, value}` form.
fn tag(v: &Value) -> Json {
    let (t, value) = match v {
        Value::Int(i) => ("int", Json::from(*i)),
        Value::Float(x) => ("float", Json::from(*x)),
        Value::Bool(b) => ("bool", Json::from(*b)),
        Value::Str(s) => ("str", Json::from(s.clone())),
        Value::Floats(x) => ("floats", Json::from(x.clone())),
        Value::Ints(x) => ("ints", Json::from(x.clone())),
        Value::Bools(x) => ("bools", Json::from(x.clone())),
    };
    serde_json::json!({"type": t, "value": value})
}

/// Checks one structure against what ASE read for the same frame: exact numbers (both sides
/// parse the same decimal text with correct rounding), velocities to rounding.
fn assert_same(ours: &Structure, ase: &Json, ctx: &str) {
    let numbers: Vec<u8> = ase["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(ours.numbers, numbers, "{ctx}: numbers");
    assert!(
        same3(&ours.positions, &vec3s(&ase["positions"])),
        "{ctx}: positions {:?} vs ASE {}",
        ours.positions,
        ase["positions"]
    );
    match (&ours.cell, &ase["cell"]) {
        (None, Json::Null) => {}
        (Some(c), cell) if !cell.is_null() => {
            let rows = vec3s(cell);
            assert!(
                same3(&c.vectors, &rows),
                "{ctx}: cell {c:?} vs ASE {rows:?}"
            );
        }
        (c, cell) => panic!("{ctx}: cell {c:?} vs ASE {cell}"),
    }
    let pbc: Vec<bool> = ase["pbc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    assert_eq!(
        ours.cell.map_or([false; 3], |c| c.pbc).to_vec(),
        pbc,
        "{ctx}: pbc"
    );
    match (ours.energy, ase["energy"].as_f64()) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(same(a, b), "{ctx}: energy {a} vs ASE {b}"),
        (a, b) => panic!("{ctx}: energy {a:?} vs ASE {b:?}"),
    }
    match (&ours.forces, &ase["forces"]) {
        (None, Json::Null) => {}
        (Some(fo), fa) if !fa.is_null() => assert!(same3(fo, &vec3s(fa)), "{ctx}: forces"),
        (fo, fa) => panic!("{ctx}: forces {fo:?} vs ASE {fa}"),
    }
    match (&ours.velocities, &ase["velocities"]) {
        (None, Json::Null) => {}
        (Some(vo), va) if !va.is_null() => {
            for (a, b) in vo.iter().zip(vec3s(va)) {
                for k in 0..3 {
                    assert!(
                        (a[k] - b[k]).abs() <= 1e-14 * b[k].abs().max(1e-3),
                        "{ctx}: velocity {a:?} vs ASE {b:?}"
                    );
                }
            }
        }
        (vo, va) => panic!("{ctx}: velocities {vo:?} vs ASE {va}"),
    }
    // Info: ASE's keys (plus `charge`, which we hold as a field) with ASE's types.
    let mut ours_info: serde_json::Map<String, Json> =
        ours.info.iter().map(|(k, v)| (k.clone(), tag(v))).collect();
    if let Some(q) = ours.charge {
        ours_info.insert("charge".into(), tag(&Value::Float(q)));
    }
    let ase_info = ase["info"].as_object().unwrap();
    assert_eq!(&ours_info, ase_info, "{ctx}: info");
}

#[test]
fn elements_match_ase() {
    let g = load_json("elements.json");
    let symbols = g["symbols"].as_array().unwrap();
    let masses = g["masses"].as_array().unwrap();
    assert_eq!(symbols.len(), 118);
    for z in 1..=118u8 {
        let i = usize::from(z) - 1;
        assert_eq!(elements::symbol(z), symbols[i].as_str().unwrap());
        assert_eq!(elements::number(symbols[i].as_str().unwrap()), Some(z));
        assert_eq!(elements::mass(z), f(&masses[i]), "mass of Z={z}");
    }
}

#[test]
fn reads_what_ase_reads() {
    let golden = load_json("ase_read.json");
    for (name, frames) in golden.as_object().unwrap() {
        let path = golden_dir().join(name);
        let report = read_structures(&path, &ReadOptions::default()).unwrap();
        assert!(report.is_clean(), "{name}: {:?}", report.bad);
        let frames = frames.as_array().unwrap();
        assert_eq!(report.structures.len(), frames.len(), "{name}");
        for (i, (s, a)) in report.structures.iter().zip(frames).enumerate() {
            assert_same(s, a, &format!("{name} frame {i}"));
        }
    }
}

#[test]
fn custom_energy_and_forces_keys() {
    let golden = load_json("ase_read.json");
    let opts = ReadOptions::default()
        .with_energy_key("REF_energy")
        .with_forces_key("REF_forces");
    let r = read_extxyz(golden_dir().join("handwritten.extxyz"), &opts).unwrap();
    assert!(r.is_clean(), "{:?}", r.bad);
    let s = &r.structures[1];
    assert_eq!(s.energy, Some(-7.25));
    assert!(!s.info.contains_key("REF_energy"));
    // ASE keeps REF_forces as an array; compare with the file's columns.
    assert_eq!(
        s.forces.as_deref(),
        Some(&[[0.01, 0.02, 0.03], [-0.01, 0.0, 0.5], [0.0, -0.02, -0.53]][..])
    );
    assert_eq!(
        golden["handwritten.extxyz"][1]["arrays"],
        serde_json::json!(["REF_forces"])
    );
    // Units: an energy in kcal/mol and lengths in Bohr scale energy, forces and positions.
    let opts = opts
        .with_energy_unit(chemlm_atoms::units::EnergyUnit::KcalPerMol)
        .with_length_unit(chemlm_atoms::units::LengthUnit::Bohr);
    let r = read_extxyz(golden_dir().join("handwritten.extxyz"), &opts).unwrap();
    let t = &r.structures[1];
    let (kcal, bohr) = (chemlm_atoms::units::KCAL_PER_MOL, chemlm_atoms::units::BOHR);
    assert_eq!(t.energy, Some(-7.25 * kcal));
    assert_eq!(t.positions[1][0], 2.0 * bohr);
    assert_eq!(t.forces.as_ref().unwrap()[1][2], 0.5 * kcal / bohr);
    assert_eq!(t.cell.unwrap().vectors[1][0], 1.0 * bohr);
}

/// Structures that exercise the writer: full-precision floats, awkward strings, every info type,
/// a triclinic partly periodic cell, velocities, a total charge, an unlabelled molecule.
fn written_structures() -> Vec<Structure> {
    let mut water = Structure::new(
        vec![8, 1, 1],
        vec![
            [0.0, 0.0, 1.0 / 3.0],
            [0.1 + 0.2, 0.763239, -0.477047],
            [1e-7, -0.763239, -123456.789],
        ],
    )
    .unwrap();
    water.energy = Some(-76.123_456_789_012_34);
    water.forces = Some(vec![
        [0.5, -0.25, 1e-12],
        [-0.0, 2.0 / 3.0, -1.0],
        [3.0, 1e-300, -2.5],
    ]);
    water.charge = Some(-1.0);
    let info = &mut water.info;
    info.insert(
        "comment".into(),
        Value::Str("a \"quoted\" value with spaces".into()),
    );
    info.insert("path".into(), Value::Str(r"C:\data\run 1".into()));
    info.insert("equation".into(), Value::Str("a=b".into()));
    info.insert("brackets".into(), Value::Str("[x]{y}".into()));
    info.insert("tiny".into(), Value::Float(1e-7));
    info.insert("third".into(), Value::Float(0.1 + 0.2));
    info.insert("round".into(), Value::Float(-10.0));
    info.insert("big".into(), Value::Int(1 << 40));
    info.insert("converged".into(), Value::Bool(false));
    info.insert("spread".into(), Value::Floats(vec![1e20, -2.5, 3.0]));
    info.insert("ids".into(), Value::Ints(vec![-1, 0, 7]));
    info.insert("mask".into(), Value::Bools(vec![true, false]));

    let mut cell = Structure::new(
        vec![6, 7, 8, 14],
        vec![
            [0.2257, 0.5387, 0.6919],
            [1.0827, 1.3944, 2.0629],
            [1.7633, 0.3074, 1.0341],
            [-0.5, 2.0, 0.25],
        ],
    )
    .unwrap();
    cell.cell = Some(Cell {
        vectors: [[2.1, 0.0, 0.0], [0.8, 1.9, 0.0], [-0.6, 0.5, 2.3]],
        pbc: [true, false, true],
    });
    cell.velocities = Some(vec![
        [0.001, -0.002, 0.0005],
        [0.0, 0.0, 0.0],
        [-0.0123, 0.0042, 0.0001],
        [0.005, 0.005, -0.005],
    ]);
    cell.info.insert("step".into(), Value::Int(120));
    cell.info.insert("time".into(), Value::Float(60.0));

    let bare = Structure::new(vec![54], vec![[0.0, 0.0, 0.0]]).unwrap();
    vec![water, cell, bare]
}

#[test]
fn ase_reads_what_we_write() {
    let structures = written_structures();
    let mut text = Vec::new();
    write_extxyz_to(&mut text, &structures).unwrap();
    let path = golden_dir().join("chemlm_written.extxyz");
    if std::env::var_os("CHEMLM_BLESS_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        eprintln!(
            "wrote {}; now rerun scripts/gen_atoms_io_golden.py",
            path.display()
        );
    }
    let committed = std::fs::read(&path).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&text),
        String::from_utf8_lossy(&committed),
        "writer output changed: re-bless and regenerate the ASE golden"
    );
    let ase = load_json("chemlm_written.ase.json");
    let ase = ase.as_array().unwrap();
    assert_eq!(ase.len(), structures.len());
    for (i, (s, a)) in structures.iter().zip(ase).enumerate() {
        assert_same(s, a, &format!("ASE reading our frame {i}"));
    }
    // And we read our own file back to the same structures.
    let back = read_extxyz(&path, &ReadOptions::default()).unwrap();
    assert!(back.is_clean());
    for (s, b) in structures.iter().zip(&back.structures) {
        let mut b = b.clone();
        // Velocities go through ASE's momenta: equal to rounding only.
        if let (Some(vs), Some(vb)) = (&s.velocities, &b.velocities) {
            for (x, y) in vs.iter().flatten().zip(vb.iter().flatten()) {
                assert!((x - y).abs() <= 1e-15 + 1e-14 * x.abs());
            }
            b.velocities.clone_from(&s.velocities);
        }
        assert_eq!(s, &b);
    }
}

#[test]
fn round_trip_of_ase_files_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "ase_molecule.extxyz",
        "ase_periodic.extxyz",
        "handwritten.extxyz",
        "plain.xyz",
    ] {
        let first = read_extxyz(golden_dir().join(name), &ReadOptions::default())
            .unwrap()
            .into_strict()
            .unwrap();
        let out = dir.path().join(format!("{name}.gz"));
        write_extxyz(&out, &first).unwrap();
        assert_eq!(&std::fs::read(&out).unwrap()[..2], &[0x1f, 0x8b], "gzip");
        let second = read_extxyz(&out, &ReadOptions::default())
            .unwrap()
            .into_strict()
            .unwrap();
        assert_eq!(first.len(), second.len());
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.numbers, b.numbers);
            assert_eq!(a.positions, b.positions);
            assert_eq!(a.forces, b.forces);
            assert_eq!(a.energy, b.energy);
            assert_eq!(a.cell, b.cell);
            assert_eq!(a.info, b.info, "{name}");
        }
    }
}

#[test]
fn frame_text_has_ase_layout() {
    let s = &written_structures()[1];
    let text = format_extxyz_frame(s).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("4"));
    let comment = lines.next().unwrap();
    assert!(comment.starts_with("Lattice=\"2.1 0.0 0.0 0.8 1.9 0.0 -0.6 0.5 2.3\" "));
    assert!(comment.contains("Properties=species:S:1:pos:R:3:momenta:R:3 "));
    assert!(comment.ends_with("pbc=\"T F T\""));
    assert!(lines.next().unwrap().starts_with("C "));
    assert_eq!(text.lines().count(), 6);
}
