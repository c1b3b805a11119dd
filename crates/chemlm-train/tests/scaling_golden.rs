//! Power-law fits vs `scipy.optimize.curve_fit` on the same log-space objective
//! (`scripts/gen_scaling_golden.py` → `tests/golden/scaling.json`), recovery of known exponents,
//! and bootstrap intervals that cover the truth.

use chemlm_train::scaling::fit::{
    fit_power_law, fit_power_law_offset, fit_with_bootstrap, log_sse,
};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/scaling.json"
    ))
    .unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn points(c: &Value) -> Vec<(f64, f64)> {
    c["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

#[test]
fn fits_equal_scipy_curve_fit() {
    for c in cases() {
        let name = c["name"].as_str().unwrap();
        let pts = points(&c);
        let got = fit_power_law(&pts).unwrap();
        let want = &c["fit"];
        assert!(
            rel(got.b, want["b"].as_f64().unwrap()) < 1e-6,
            "{name}: b {got:?} vs {want}"
        );
        assert!(
            rel(got.a, want["a"].as_f64().unwrap()) < 1e-6,
            "{name}: a {got:?} vs {want}"
        );
        if let Some(want) = c["fit_offset"].as_object() {
            let got = fit_power_law_offset(&pts).unwrap();
            let (wa, wb, wc) = (
                want["a"].as_f64().unwrap(),
                want["b"].as_f64().unwrap(),
                want["c"].as_f64().unwrap(),
            );
            // Same optimum (or a better one) of the same objective.
            let scipy = chemlm_train::scaling::PowerLaw {
                a: wa,
                b: wb,
                c: wc,
            };
            assert!(
                log_sse(&got, &pts) <= log_sse(&scipy, &pts) * (1.0 + 1e-6) + 1e-15,
                "{name}: worse optimum {got:?} vs scipy {scipy:?}"
            );
            assert!(rel(got.b, wb) < 1e-3, "{name}: {got:?} vs scipy {scipy:?}");
            assert!(rel(got.c, wc) < 1e-3, "{name}: {got:?} vs scipy {scipy:?}");
        }
    }
}

#[test]
fn known_exponents_are_recovered_with_covering_intervals() {
    for c in cases() {
        let name = c["name"].as_str().unwrap();
        let pts = points(&c);
        let tb = c["true"]["b"].as_f64().unwrap();
        let offset = c["true"]["c"].as_f64().unwrap() > 0.0;
        if name == "compute_offset" {
            // a·R^-b is < 1 % of c at the top of that range: b is weakly determined by design.
            continue;
        }
        let f = fit_with_bootstrap(&pts, offset, 300, 1).unwrap();
        assert!(
            (f.law.b - tb).abs() < 0.02,
            "{name}: b {} vs true {tb}",
            f.law.b
        );
        assert!(
            f.b_ci.0 <= f.law.b && f.law.b <= f.b_ci.1,
            "{name}: estimate outside its interval {f:?}"
        );
        assert!(f.b_ci.1 - f.b_ci.0 < 0.1, "{name}: interval too wide {f:?}");
        assert!(f.resamples >= 250, "{name}: {f:?}");
    }
}
