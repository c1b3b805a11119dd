//! Splits against chemprop 1.x (transcribed into `scripts/gen_data_golden.py` and run with RDKit
//! scaffolds on MOSES + QM9 molecules), CPython's `random`, and determinism/partition properties.

use std::path::Path;

use chemlm_data::split::{
    group_by_key, kfold, kfold_assignment, make_split, random_split, scaffold_key, scaffold_split,
    stratified_split, Fold, PyRandom, SplitFile, SplitMethod, SplitRequest, SplitSizes,
};
use serde_json::Value;

fn golden() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/splits.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn sizes(v: &Value) -> SplitSizes {
    let s: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    SplitSizes::new(s[0], s[1], s[2]).unwrap()
}

fn fold_of(v: &Value) -> Fold {
    Fold {
        train: usizes(&v["train"]),
        valid: usizes(&v["valid"]),
        test: usizes(&v["test"]),
    }
}

#[test]
fn python_random_draws() {
    let g = golden();
    for (seed, d) in g["pyrandom"].as_object().unwrap() {
        let mut r = PyRandom::new(seed.parse().unwrap());
        let bits: Vec<u64> = (0..5).map(|_| r.getrandbits(32) as u64).collect();
        let want: Vec<u64> = d["getrandbits32"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(bits, want, "seed {seed}");
        let mut l: Vec<usize> = (0..20).collect();
        r.shuffle(&mut l);
        assert_eq!(l, usizes(&d["shuffle20"]), "seed {seed}");
    }
}

/// The algorithms on RDKit's scaffold strings give chemprop's sets exactly.
#[test]
fn chemprop_parity_on_rdkit_scaffolds() {
    let g = golden();
    let mols = g["molecules"].as_array().unwrap();
    let scaffolds: Vec<&str> = mols.iter().map(|m| m[1].as_str().unwrap()).collect();
    let mut checked = 0;
    for s in g["splits"].as_array().unwrap() {
        let (sz, seed) = (sizes(&s["sizes"]), s["seed"].as_u64().unwrap());
        let ours = match s["method"].as_str().unwrap() {
            "scaffold" => scaffold_split(&scaffolds, sz, false, seed),
            "scaffold_balanced" => scaffold_split(&scaffolds, sz, true, seed),
            "random" => random_split(scaffolds.len(), sz, seed),
            m => panic!("{m}"),
        };
        assert_eq!(
            ours,
            fold_of(s),
            "{} {:?} seed {seed}",
            s["method"],
            s["sizes"]
        );
        checked += 1;
    }
    assert_eq!(checked, 14);
    assert_eq!(
        kfold_assignment(scaffolds.len(), 5, 0),
        usizes(&g["cv5_assignment"])
    );
}

/// Our scaffold keys (chematic) group the molecules exactly as RDKit's, so the end-to-end
/// `make_split` reproduces chemprop's scaffold splits from SMILES alone.
#[test]
fn scaffold_keys_group_like_rdkit_and_end_to_end_matches() {
    let g = golden();
    let mols = g["molecules"].as_array().unwrap();
    let smiles: Vec<String> = mols
        .iter()
        .map(|m| m[0].as_str().unwrap().to_string())
        .collect();
    let rdkit: Vec<&str> = mols.iter().map(|m| m[1].as_str().unwrap()).collect();
    let ours: Vec<String> = smiles.iter().map(|s| scaffold_key(s).unwrap()).collect();
    assert_eq!(group_by_key(&ours), group_by_key(&rdkit));
    for s in g["splits"].as_array().unwrap() {
        let balanced = match s["method"].as_str().unwrap() {
            "scaffold" => false,
            "scaffold_balanced" => true,
            _ => continue,
        };
        let req = SplitRequest {
            method: SplitMethod::Scaffold { balanced },
            sizes: sizes(&s["sizes"]),
            seed: s["seed"].as_u64().unwrap(),
        };
        let f = make_split(&smiles, None, &req, None).unwrap();
        assert!(f.excluded.is_empty());
        assert_eq!(f.folds, vec![fold_of(s)]);
    }
}

#[test]
fn kfold_is_a_partition_and_matches_chemprop_cv() {
    let g = golden();
    let a = usizes(&g["cv5_assignment"]);
    let folds = kfold(a.len(), 5, 0, true).unwrap();
    let mut tested = vec![0; a.len()];
    for (i, f) in folds.iter().enumerate() {
        assert_eq!(f.len(), a.len());
        // chemprop `cv` with seed i: test = assignment i, validation = assignment (i+1) % 5.
        assert!(f.test.iter().all(|&j| a[j] == i));
        assert!(f.valid.iter().all(|&j| a[j] == (i + 1) % 5));
        f.test.iter().for_each(|&j| tested[j] += 1);
    }
    assert!(tested.iter().all(|&c| c == 1));
    let nv = kfold(10, 5, 3, false).unwrap();
    assert!(nv
        .iter()
        .all(|f| f.valid.is_empty() && f.test.len() == 2 && f.train.len() == 8));
    assert!(kfold(3, 5, 0, true).is_err());
}

#[test]
fn stratified_keeps_class_balance() {
    let labels: Vec<Option<i64>> = (0..1000)
        .map(|i| {
            if i % 10 == 0 {
                None
            } else {
                Some((i % 4 == 0) as i64)
            }
        })
        .collect();
    let f = stratified_split(&labels, SplitSizes::default(), 3);
    assert_eq!(f.len(), 1000);
    let frac = |idx: &[usize], c: Option<i64>| {
        idx.iter().filter(|&&i| labels[i] == c).count() as f64 / idx.len() as f64
    };
    for c in [Some(0), Some(1), None] {
        let whole = labels.iter().filter(|&&l| l == c).count() as f64 / 1000.0;
        for part in [&f.train, &f.valid, &f.test] {
            assert!((frac(part, c) - whole).abs() < 0.02, "{c:?}");
        }
    }
    assert_eq!(f, stratified_split(&labels, SplitSizes::default(), 3));
    assert_ne!(f, stratified_split(&labels, SplitSizes::default(), 4));
}

#[test]
fn split_file_round_trip_hash_and_exclusions() {
    let smiles: Vec<String> = [
        "CCO",
        "c1ccccc1",
        "C1CC",
        "CCN",
        "c1ccncc1",
        "C1CCCCC1O",
        "CC(=O)O",
        "xyz",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let req = SplitRequest {
        method: SplitMethod::Scaffold { balanced: false },
        sizes: SplitSizes::new(0.5, 0.25, 0.25).unwrap(),
        seed: 0,
    };
    let s = make_split(&smiles, None, &req, None).unwrap();
    let bad: Vec<usize> = s.excluded.iter().map(|e| e.index).collect();
    assert_eq!(bad, [2, 7]);
    assert_eq!(s.rows, 8);
    assert_eq!(s.folds[0].len(), 6);
    // Deterministic: the same request gives the same hash.
    assert_eq!(
        make_split(&smiles, None, &req, None).unwrap().folds_sha256,
        s.folds_sha256
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    s.save(&p).unwrap();
    assert_eq!(SplitFile::load(&p).unwrap(), s);
    // Tampering with an index list is caught by the hash.
    let text = std::fs::read_to_string(&p).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["folds"][0]["train"][0] = Value::from(99);
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    let err = SplitFile::load(&p).unwrap_err().to_string();
    assert!(err.contains("index lists were changed"), "{err}");
    // Stratified needs labels.
    let strat = SplitRequest {
        method: SplitMethod::Stratified { task: "y".into() },
        ..req
    };
    assert!(make_split(&smiles, None, &strat, None).is_err());
}

#[test]
fn random_split_sizes_and_seeds() {
    let f = random_split(1000, SplitSizes::default(), 0);
    assert_eq!(
        (f.train.len(), f.valid.len(), f.test.len()),
        (800, 100, 100)
    );
    assert_eq!(f, random_split(1000, SplitSizes::default(), 0));
    assert_ne!(f, random_split(1000, SplitSizes::default(), 1));
    assert!(SplitSizes::new(0.8, 0.3, 0.1).is_err());
    assert!(SplitSizes::new(1.2, -0.2, 0.0).is_err());
}
