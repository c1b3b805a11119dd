//! MOSES metrics vs the RDKit/numpy/scipy re-implementation in
//! `scripts/gen_genmetrics_golden.py` (golden file `tests/golden/genmetrics.json`).

use chemlm_train::genmetrics::{describe, evaluate, formulas, ReferenceStats};
use serde_json::Value;
use std::collections::HashSet;

fn golden() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/genmetrics.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol, "{what}: {a} vs golden {b}");
}

#[test]
fn per_molecule_descriptors_match_rdkit() {
    let g = golden();
    let gen = strings(&g["generated"]);
    let mut valid = 0;
    for (s, want) in gen.iter().zip(g["molecules"].as_array().unwrap()) {
        let got = describe(s);
        if want.is_null() {
            assert!(got.is_none(), "{s:?} should be invalid");
            continue;
        }
        let got = got.unwrap_or_else(|| panic!("{s:?} should be valid"));
        valid += 1;
        assert_eq!(got.canonical, want["canonical"].as_str().unwrap(), "{s}");
        assert_eq!(got.scaffold.as_deref(), want["scaffold"].as_str(), "{s}");
        close(got.mw, want["mw"].as_f64().unwrap(), 1e-6, s);
        close(got.logp.unwrap(), want["logp"].as_f64().unwrap(), 1e-6, s);
        assert_eq!(got.rings as u64, want["rings"].as_u64().unwrap(), "{s}");
        // MOSES's Frag pieces, RDKit's strings with their `[n*]` labels.
        let mut f = got.fragments.clone();
        f.sort();
        assert_eq!(f, strings(&want["fragments"]), "BRICS pieces of {s}");
    }
    assert!(valid > 0);
}

#[test]
fn set_metrics_match_the_moses_formulas() {
    let g = golden();
    let gen = strings(&g["generated"]);
    let reference = ReferenceStats::from_smiles(&strings(&g["reference"]));
    let train: HashSet<String> = strings(&g["train"]).into_iter().collect();
    let ev = evaluate(&gen, &reference, Some(&train));
    let m = &ev.metrics;
    let f = |k: &str| g[k].as_f64().unwrap();
    close(m.valid, f("valid"), 1e-12, "valid");
    close(m.novelty.unwrap(), f("novelty"), 1e-12, "novelty");
    close(m.int_div1.unwrap(), f("int_div1"), 1e-9, "IntDiv1");
    close(m.int_div2.unwrap(), f("int_div2"), 1e-9, "IntDiv2");
    close(m.scaf.unwrap(), f("scaf"), 1e-9, "Scaf");
    close(m.w1_mw.unwrap(), f("w1_mw"), 1e-6, "W1 MW");
    close(m.w1_logp.unwrap(), f("w1_logp"), 1e-6, "W1 logP");
    close(m.w1_rings.unwrap(), f("w1_rings"), 1e-9, "W1 rings");
    close(m.frag.unwrap(), f("frag"), 1e-9, "Frag");
    // Too few molecules for @1k: not measurable rather than a misleading value.
    assert_eq!(m.unique_at_1k, None);
    let canon: Vec<String> = gen
        .iter()
        .filter_map(|s| describe(s))
        .map(|d| d.canonical)
        .collect();
    for (k, v) in g["unique_at"].as_object().unwrap() {
        let k: usize = k.parse().unwrap();
        close(
            formulas::fraction_unique(&canon, k).unwrap(),
            v.as_f64().unwrap(),
            1e-12,
            &format!("unique@{k}"),
        );
    }
}
