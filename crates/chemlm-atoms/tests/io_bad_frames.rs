//! Malformed input is reported frame by frame, with file, frame number (from 0) and line (from
//! 1), and reading carries on; the strict variant stops at the first bad frame. Also: the npz
//! reader on a numpy-written compressed archive with a Fortran-ordered array and a NaN frame,
//! gzip input, and atomic writes.

use chemlm_atoms::io::{
    read_extxyz, read_npz, read_qm9, read_structures, read_structures_strict, write_extxyz,
    ExtxyzFrames, ReadOptions,
};
use chemlm_atoms::{AtomsError, Structure};
use std::io::Write;
use std::path::{Path, PathBuf};

const GOOD: &str = "2\nProperties=species:S:1:pos:R:3 energy=-1.5\nH 0 0 0\nH 0 0 0.74\n";

fn frame_of(e: &AtomsError) -> Bad {
    match e {
        AtomsError::BadFrame {
            frame,
            line,
            reason,
            ..
        } => (*frame, *line, reason.clone()),
        other => panic!("not a bad frame: {other}"),
    }
}

/// A bad frame as (frame, line, reason).
type Bad = (usize, Option<usize>, String);

/// Reads `text` from a temporary file named `name` and returns (good energies, bad frames).
fn read_text(name: &str, text: &str) -> (Vec<Option<f64>>, Vec<Bad>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let r = read_extxyz(&path, &ReadOptions::default()).unwrap();
    for e in &r.bad {
        // Every report names the file.
        assert!(e.to_string().contains(name), "{e}");
    }
    (
        r.structures.iter().map(|s| s.energy).collect(),
        r.bad.iter().map(frame_of).collect(),
    )
}

fn good_with_energy(e: f64) -> String {
    GOOD.replace("-1.5", &e.to_string())
}

#[test]
fn bad_number_is_reported_and_skipped() {
    let text = format!(
        "{}2\nProperties=species:S:1:pos:R:3 energy=-2\nH 0 0 0\nH 0 0 x.74\n{}",
        good_with_energy(-1.0),
        good_with_energy(-3.0)
    );
    let (good, bad) = read_text("num.extxyz", &text);
    assert_eq!(good, vec![Some(-1.0), Some(-3.0)]);
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0].0, bad[0].1), (1, Some(8)));
    assert!(bad[0].2.contains("x.74"), "{}", bad[0].2);
}

#[test]
fn short_frame_before_the_next_frame() {
    // Frame 1 claims 3 atoms but has 2; the next count line (line 9) shows up as its third atom.
    let text = format!(
        "{}3\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0 0 1\n{}",
        good_with_energy(-1.0),
        good_with_energy(-3.0)
    );
    let (good, bad) = read_text("short.extxyz", &text);
    assert_eq!(good, vec![Some(-1.0), Some(-3.0)]);
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0].0, bad[0].1), (1, Some(9)));
    assert!(
        bad[0].2.contains("2 atom lines, expected 3"),
        "{}",
        bad[0].2
    );
}

#[test]
fn truncated_last_frame() {
    let text = format!(
        "{}2\nProperties=species:S:1:pos:R:3\nH 0 0 0\n",
        good_with_energy(-1.0)
    );
    let (good, bad) = read_text("trunc.extxyz", &text);
    assert_eq!(good, vec![Some(-1.0)]);
    assert_eq!(bad.len(), 1);
    // Line 8 is where the missing atom should have been.
    assert_eq!((bad[0].0, bad[0].1), (1, Some(8)));
    assert!(bad[0].2.contains("ends after 1 of 2"), "{}", bad[0].2);
    // Truncated inside the comment line's frame: count line only.
    let (good, bad) = read_text("trunc2.extxyz", &format!("{}5\n", good_with_energy(-1.0)));
    assert_eq!(good.len(), 1);
    assert_eq!((bad[0].0, bad[0].1), (1, Some(5)));
}

#[test]
fn too_many_atom_lines() {
    // Frame 0 says 1 atom but has 2: frame 0 is bad (line 4), reading resumes at frame 1.
    let text = format!(
        "1\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0 0 1\n{}",
        good_with_energy(-3.0)
    );
    let (good, bad) = read_text("long.xyz", &text);
    assert_eq!(good, vec![Some(-3.0)]);
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0].0, bad[0].1), (0, Some(4)));
}

#[test]
fn bad_count_comment_and_element() {
    let text = format!(
        "two\ncomment\nH 0 0 0\n{}2\nLattice=\"1 2 3\" Properties=species:S:1:pos:R:3\nH 0 0 0\nH 0 0 1\n\
         2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nQq 0 0 1\n{}",
        good_with_energy(-1.0),
        good_with_energy(-3.0)
    );
    let (good, bad) = read_text("mixed.extxyz", &text);
    assert_eq!(good, vec![Some(-1.0), Some(-3.0)]);
    let got: Vec<(usize, Option<usize>)> = bad.iter().map(|b| (b.0, b.1)).collect();
    // frame 0: count line 1; frame 2: Lattice on line 9; frame 3: unknown element on line 15.
    assert_eq!(got, vec![(0, Some(1)), (2, Some(9)), (3, Some(15))]);
    assert!(bad[1].2.contains("Lattice"));
    assert!(bad[2].2.contains("Qq"));
}

#[test]
fn structural_problems_are_bad_frames() {
    // Non-finite coordinate, pbc without Lattice, forces with the wrong width.
    let text = "1\nProperties=species:S:1:pos:R:3\nH 0 nan 0\n\
                1\npbc=\"T T T\"\nH 0 0 0\n\
                1\nProperties=species:S:1:pos:R:3:forces:R:2\nH 0 0 0 1 1\n";
    let (good, bad) = read_text("struct.extxyz", text);
    assert!(good.is_empty());
    let got: Vec<(usize, Option<usize>)> = bad.iter().map(|b| (b.0, b.1)).collect();
    assert_eq!(got, vec![(0, Some(2)), (1, Some(5)), (2, Some(8))]);
    assert!(bad[0].2.contains("non-finite"), "{}", bad[0].2);
    assert!(bad[1].2.contains("no Lattice"), "{}", bad[1].2);
    assert!(bad[2].2.contains("forces"), "{}", bad[2].2);
}

#[test]
fn strict_read_fails_on_first_bad_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strict.extxyz");
    let text = format!("{}2\nx\nH 0 0 0\nH 0 0 y\n", good_with_energy(-1.0));
    std::fs::write(&path, text).unwrap();
    let err = read_structures_strict(&path, &ReadOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("strict.extxyz: frame 1, line 8"), "{msg}");
    std::fs::write(&path, GOOD).unwrap();
    assert_eq!(
        read_structures_strict(&path, &ReadOptions::default())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn streaming_iterator_and_limit() {
    let text = format!(
        "{}{}\n\n{}",
        good_with_energy(-1.0),
        good_with_energy(-2.0),
        good_with_energy(-3.0)
    );
    let frames: Vec<_> =
        ExtxyzFrames::new(text.as_bytes(), "mem", ReadOptions::default().with_limit(2))
            .collect::<Result<Vec<Structure>, _>>()
            .unwrap();
    assert_eq!(frames.len(), 2);
    let all = ExtxyzFrames::new(text.as_bytes(), "mem", ReadOptions::default()).count();
    assert_eq!(all, 3, "blank lines between frames are skipped");
}

#[test]
fn gzip_is_transparent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frames.extxyz.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(format!("{}{}", GOOD, good_with_energy(-2.0)).as_bytes())
        .unwrap();
    enc.finish().unwrap();
    let r = read_structures(&path, &ReadOptions::default()).unwrap();
    assert!(r.is_clean());
    assert_eq!(r.structures.len(), 2);
    assert_eq!(r.structures[1].energy, Some(-2.0));
}

/// Float equality up to a few ulps: serde_json's default float parser (no `float_roundtrip`)
/// may round the golden's decimal text one ulp off, and unit factors add one more rounding.
fn same(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs())
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/io")
        .join(name)
}

#[test]
fn npz_compressed_fortran_and_nan_frame() {
    let expect: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden("small.json")).unwrap()).unwrap();
    let r = read_npz(
        golden("small.npz"),
        &ReadOptions::default().with_energy_unit(chemlm_atoms::units::EnergyUnit::Ev),
    )
    .unwrap();
    assert_eq!(r.frames_seen, 4);
    assert_eq!(r.bad.len(), 1);
    let (frame, line, reason) = frame_of(&r.bad[0]);
    assert_eq!((frame, line), (2, None));
    assert!(reason.contains("non-finite force"), "{reason}");
    let good_frames = [0usize, 1, 3];
    for (s, &i) in r.structures.iter().zip(&good_frames) {
        assert_eq!(s.numbers, vec![8, 1, 1]);
        let rows = expect["R"][i].as_array().unwrap();
        for (p, row) in s.positions.iter().zip(rows) {
            for k in 0..3 {
                assert!(same(p[k], row[k].as_f64().unwrap()), "R[{i}] (C order)");
            }
        }
        assert!(same(s.energy.unwrap(), expect["E"][i].as_f64().unwrap()));
        let fx = expect["F"][i][1][0].as_f64().unwrap();
        assert!(same(s.forces.as_ref().unwrap()[1][0], fx));
    }
    // E and F are optional (named by the options); R and z are not.
    let unlabelled = read_npz(
        golden("small.npz"),
        &ReadOptions::default()
            .with_energy_key("no_E")
            .with_forces_key("no_F"),
    )
    .unwrap();
    assert_eq!(
        unlabelled.structures.len(),
        4,
        "no NaN forces read, no bad frame"
    );
    assert!(unlabelled
        .structures
        .iter()
        .all(|s| s.energy.is_none() && s.forces.is_none()));
    let dir = tempfile::tempdir().unwrap();
    let not_zip = dir.path().join("x.npz");
    std::fs::write(&not_zip, b"not a zip").unwrap();
    assert!(matches!(
        read_npz(&not_zip, &ReadOptions::default()),
        Err(AtomsError::BadFile { .. })
    ));
}

#[test]
fn qm9_bad_rows_have_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qm9.csv");
    let text = "gdb_idx,smiles,n_atoms,elements,xyz_angstrom,u0\n\
                1,C,1,C,0 0 0,-40.0\n\
                2,N,2,N H,0 0 0 1 1,-56.0\n\
                3,O,1,O,0 0 0,abc\n\
                4,\"O\",1,O,0 0 0.5,-76.0\n";
    std::fs::write(&path, text).unwrap();
    let r = read_qm9(&path, &ReadOptions::default()).unwrap();
    assert_eq!(r.structures.len(), 2);
    let bad: Vec<(usize, Option<usize>)> = r
        .bad
        .iter()
        .map(|e| {
            let (f, l, _) = frame_of(e);
            (f, l)
        })
        .collect();
    assert_eq!(bad, vec![(1, Some(3)), (2, Some(4))]);
    assert!(r.bad[0].to_string().contains("coordinates"));
}

#[test]
fn atomic_write_keeps_old_file_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.extxyz");
    let good = read_extxyz(golden("ase_molecule.extxyz"), &ReadOptions::default())
        .unwrap()
        .into_strict()
        .unwrap();
    write_extxyz(&path, &good).unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut broken = good.clone();
    broken[1].positions.pop();
    let err = write_extxyz(&path, &broken).unwrap_err();
    assert!(err.to_string().contains("frame 1"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "temporary file left: {names:?}");
    // A directory that does not exist: an error, nothing created.
    assert!(write_extxyz(dir.path().join("no/such/dir.extxyz"), &good).is_err());
}
