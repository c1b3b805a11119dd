//! The cell list against ASE's `neighbor_list("ijSd", ...)` (cross-checked with vesin when the
//! golden files were written by scripts/gen_neighbors_golden.py): identical (i, j, S) lists in
//! the same sorted order, and distances equal to 1e-10 Å.

use chemlm_atoms::neighbors::{neighbor_list, neighbor_list_brute_force};
use chemlm_atoms::{Cell, Structure};
use serde_json::Value;
use std::path::PathBuf;

const CASES: [&str; 6] = [
    "molecule",
    "si_bulk",
    "si_primitive",
    "triclinic",
    "slab",
    "hex_mixed",
];

fn golden(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/neighbors")
        .join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).expect("golden file (run scripts/gen_neighbors_golden.py)");
    serde_json::from_str(&text).expect("golden JSON")
}

fn vec3(v: &Value) -> [f64; 3] {
    let a = v.as_array().expect("3-vector");
    [0, 1, 2].map(|k| a[k].as_f64().expect("number"))
}

fn structure(doc: &Value) -> Structure {
    let numbers = doc["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .map(|z| z.as_u64().expect("atomic number") as u8)
        .collect();
    let positions = doc["positions"]
        .as_array()
        .expect("positions")
        .iter()
        .map(vec3)
        .collect();
    let mut s = Structure::new(numbers, positions).expect("valid structure");
    if !doc["cell"].is_null() {
        let rows = doc["cell"].as_array().expect("cell");
        let pbc = doc["pbc"].as_array().expect("pbc");
        s.cell = Some(Cell {
            vectors: [vec3(&rows[0]), vec3(&rows[1]), vec3(&rows[2])],
            pbc: [0, 1, 2].map(|k| pbc[k].as_bool().expect("bool")),
        });
    }
    s
}

fn ints(doc: &Value, key: &str) -> Vec<u32> {
    doc[key]
        .as_array()
        .expect("index list")
        .iter()
        .map(|x| x.as_u64().expect("index") as u32)
        .collect()
}

#[test]
fn cell_list_matches_ase_exactly() {
    for name in CASES {
        let doc = golden(name);
        let s = structure(&doc);
        let cutoff = doc["cutoff"].as_f64().expect("cutoff");
        let g = neighbor_list(&s, cutoff).expect("neighbour list");
        let want_i = ints(&doc, "i");
        let want_j = ints(&doc, "j");
        let want_s: Vec<[i32; 3]> = doc["S"]
            .as_array()
            .expect("S")
            .iter()
            .map(|v| vec3(v).map(|x| x as i32))
            .collect();
        assert!(!want_i.is_empty(), "{name}: empty golden");
        assert_eq!(g.idx_i, want_i, "{name}: i");
        assert_eq!(g.idx_j, want_j, "{name}: j");
        assert_eq!(g.shifts, want_s, "{name}: S");
        let want_d: Vec<f64> = doc["d"]
            .as_array()
            .expect("d")
            .iter()
            .map(|x| x.as_f64().expect("distance"))
            .collect();
        for (k, (a, b)) in g.distances(&s).iter().zip(&want_d).enumerate() {
            assert!((a - b).abs() < 1e-10, "{name}: edge {k}: d {a} vs ASE {b}");
        }
        assert_eq!(
            neighbor_list_brute_force(&s, cutoff).expect("brute force"),
            g,
            "{name}: brute force"
        );
    }
}

#[test]
fn golden_cases_cover_images_and_mixed_pbc() {
    // Guards the golden set itself: the triclinic case must contain an atom's own images and
    // several images of one neighbour, the slab no shift along its vacuum axis.
    let tri = golden("triclinic");
    let (i, j) = (ints(&tri, "i"), ints(&tri, "j"));
    assert!(i.iter().zip(&j).any(|(a, b)| a == b), "self images");
    let pairs_01 = i
        .iter()
        .zip(&j)
        .filter(|&(&a, &b)| a == 0 && b == 1)
        .count();
    assert!(pairs_01 > 2, "multiple images of one neighbour");
    let slab = golden("slab");
    assert!(slab["S"]
        .as_array()
        .expect("S")
        .iter()
        .all(|s| s[2].as_i64() == Some(0)));
    assert!(slab["S"]
        .as_array()
        .expect("S")
        .iter()
        .any(|s| s[0].as_i64() != Some(0)));
}
