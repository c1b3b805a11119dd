//! The eval metrics against scikit-learn and RDKit (golden file from scripts/gen_metrics_golden.py).

use chemlm_train::eval;
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() < 1e-9, "{what}: got {got}, want {want}");
}

#[test]
fn metrics_match_sklearn_and_rdkit() {
    let text = include_str!("golden/metrics.json");
    let cases: Vec<Value> = serde_json::from_str(text).unwrap();
    assert_eq!(cases.len(), 5);
    for (k, c) in cases.iter().enumerate() {
        let labels: Vec<bool> = c["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_bool().unwrap())
            .collect();
        let scores = floats(&c["scores"]);
        let (y, pred) = (floats(&c["y"]), floats(&c["pred"]));
        let tag = |m: &str| format!("case {k} {m}");
        close(
            &tag("roc"),
            eval::roc_auc(&labels, &scores).unwrap(),
            c["roc_auc"].as_f64().unwrap(),
        );
        close(
            &tag("prc"),
            eval::prc_auc(&labels, &scores).unwrap(),
            c["prc_auc"].as_f64().unwrap(),
        );
        close(
            &tag("rmse"),
            eval::rmse(&y, &pred).unwrap(),
            c["rmse"].as_f64().unwrap(),
        );
        close(
            &tag("mae"),
            eval::mae(&y, &pred).unwrap(),
            c["mae"].as_f64().unwrap(),
        );
        close(
            &tag("r2"),
            eval::r2(&y, &pred).unwrap(),
            c["r2"].as_f64().unwrap(),
        );
        close(
            &tag("bedroc"),
            eval::bedroc(&labels, &scores, 20.0).unwrap(),
            c["bedroc20"].as_f64().unwrap(),
        );
        for (f, want) in c["ef"].as_object().unwrap() {
            let f: f64 = f.parse().unwrap();
            close(
                &tag(&format!("ef{f}")),
                eval::enrichment_factor(&labels, &scores, f).unwrap(),
                want.as_f64().unwrap(),
            );
        }
    }
}

#[test]
fn one_class_and_length_errors() {
    assert!(eval::roc_auc(&[true, true], &[0.1, 0.2]).is_err());
    assert!(eval::rmse(&[1.0], &[1.0, 2.0]).is_err());
    assert!(eval::bedroc(&[false, false], &[0.1, 0.2], 20.0).is_err());
}

#[test]
fn perfect_and_inverted_rankings() {
    let labels = [true, true, false, false, false];
    let good = [0.9, 0.8, 0.3, 0.2, 0.1];
    let bad = [0.1, 0.2, 0.7, 0.8, 0.9];
    close("roc perfect", eval::roc_auc(&labels, &good).unwrap(), 1.0);
    close("roc inverted", eval::roc_auc(&labels, &bad).unwrap(), 0.0);
    assert!(
        eval::bedroc(&labels, &good, 20.0).unwrap() > eval::bedroc(&labels, &bad, 20.0).unwrap()
    );
}
