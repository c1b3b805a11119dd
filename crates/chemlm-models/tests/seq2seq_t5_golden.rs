//! Greedy and beam search on tiny random T5 models (v1.0 and v1.1 layouts) against transformers'
//! `generate`: every returned token id must be equal, scores within 1e-4.
//!
//! Golden files: scripts/gen_t5_generate_golden.py → tests/golden/t5-generate/ (the models' eos
//! output row is tuned there so that many hypotheses end with eos before max_length).

use candle_core::{Device, Tensor};
use chemlm_models::seq2seq::{generate, BeamConfig, DecodeConfig, EarlyStopping, Strategy};
use chemlm_models::Model;
use serde_json::Value;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/t5-generate")
}

fn matrix(v: &Value) -> Tensor {
    let rows: Vec<Vec<u32>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        })
        .collect();
    let (b, s) = (rows.len(), rows[0].len());
    Tensor::from_vec(rows.concat(), (b, s), &Device::Cpu).unwrap()
}

fn early_stopping(v: &Value) -> EarlyStopping {
    match v {
        Value::Bool(true) => EarlyStopping::Enabled,
        Value::Bool(false) => EarlyStopping::Heuristic,
        Value::String(s) => s.parse().unwrap(),
        other => panic!("early_stopping {other}"),
    }
}

fn config(case: &Value) -> DecodeConfig {
    let beams = case["num_beams"].as_u64().unwrap() as usize;
    let strategy = if beams == 1 {
        Strategy::Greedy
    } else {
        Strategy::Beam(BeamConfig {
            beams,
            num_return: case["num_return_sequences"].as_u64().unwrap() as usize,
            length_penalty: case["length_penalty"].as_f64().unwrap(),
            early_stopping: early_stopping(&case["early_stopping"]),
        })
    };
    DecodeConfig {
        strategy,
        max_length: case["max_length"].as_u64().unwrap_or(20) as usize,
        max_new_tokens: case["max_new_tokens"].as_u64().map(|n| n as usize),
        min_length: case["min_length"].as_u64().unwrap() as usize,
    }
}

fn check(tag: &str) {
    let text = std::fs::read_to_string(golden_dir().join(format!("{tag}.json"))).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let model = Model::load(
        &golden_dir().join(doc["model"].as_str().unwrap()),
        &Device::Cpu,
    )
    .unwrap();
    let t5 = model.as_t5().expect("a T5 model");
    let ids = matrix(&doc["input_ids"]);
    let mask = matrix(&doc["attention_mask"]);
    let mut finished = 0;
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let cfg = config(case);
        let got = generate(t5, &ids, &mask, &cfg).unwrap();
        let want_seqs = case["sequences"].as_array().unwrap();
        let want_fin = case["finished"].as_array().unwrap();
        let want_scores = case["scores"].as_array().unwrap();
        let flat: Vec<_> = got.iter().flatten().collect();
        assert_eq!(flat.len(), want_seqs.len(), "{tag} {name}");
        for (i, h) in flat.iter().enumerate() {
            let want: Vec<u32> = want_seqs[i]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect();
            assert_eq!(h.ids, want, "{tag} {name}: sequence {i}");
            assert_eq!(
                h.finished,
                want_fin[i].as_bool().unwrap(),
                "{tag} {name} {i}"
            );
            let ws = want_scores[i].as_f64().unwrap();
            assert!(
                (h.score as f64 - ws).abs() < 1e-4,
                "{tag} {name}: score {i} {} vs {ws}",
                h.score
            );
            finished += usize::from(h.finished);
        }
    }
    // The golden files are only a real test if hypotheses end with eos.
    assert!(finished >= 20, "{tag}: only {finished} finished hypotheses");
}

#[test]
fn t5_v1_0_decoding_equals_transformers() {
    check("v1_0");
}

#[test]
fn t5_v1_1_decoding_equals_transformers() {
    check("v1_1");
}
