//! Issue 17 §2: a bounded property run of the `config.json` reader on mutated published-layout
//! configs (the unbounded run is the `config_json` `cargo fuzz` target in `fuzz/`). A config is
//! either refused with an error, or it counts its parameters without overflow and, when small,
//! builds a model that runs a forward pass — never a panic later, inside the model.

use candle_core::{Device, Tensor};
use chemlm_models::{count_parameters, LanguageModel, Model, ModelConfig};
use proptest::prelude::*;
use serde_json::Value;

const SEEDS: [&str; 6] = [
    include_str!("golden/albert/config.json"),
    include_str!("golden/bert/config.json"),
    include_str!("golden/gpt_neo/config.json"),
    include_str!("golden/molformer/config.json"),
    include_str!("golden/roberta/config.json"),
    include_str!("golden/t5-tiny-v1_1/config.json"),
];

/// Values a hostile or broken config might hold.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0i64..9).prop_map(Value::from),
        prop::sample::select(vec![
            -1i64,
            63,
            64,
            4097,
            1 << 20,
            1 << 31,
            i64::MAX,
            i64::MIN
        ])
        .prop_map(Value::from),
        prop::sample::select(vec![0.0f64, 0.5, -0.1, 1e300, 2.5]).prop_map(Value::from),
        Just(Value::Null),
        Just(Value::Bool(true)),
        "[a-z_]{0,12}".prop_map(Value::from),
    ]
}

/// A seed config with some fields replaced or removed.
fn mutated() -> impl Strategy<Value = String> {
    (
        0..SEEDS.len(),
        prop::collection::vec((any::<usize>(), prop::option::of(value())), 1..4),
    )
        .prop_map(|(i, edits)| {
            let mut v: Value = serde_json::from_str(SEEDS[i]).unwrap();
            let obj = v.as_object_mut().unwrap();
            for (k, new) in edits {
                let keys: Vec<String> = obj.keys().cloned().collect();
                let key = &keys[k % keys.len()];
                match new {
                    Some(x) => obj.insert(key.clone(), x),
                    None => obj.remove(key),
                };
            }
            v.to_string()
        })
}

fn forward(cfg: &ModelConfig) -> Result<(), TestCaseError> {
    let Ok(model) = Model::new(cfg, &Device::Cpu, 0) else {
        return Ok(());
    };
    let len = cfg.max_positions().clamp(1, 6);
    let vocab = cfg.vocab_size().max(1) as u32;
    let ids: Vec<u32> = (0..2 * len as u32).map(|i| i % vocab).collect();
    let ids = Tensor::from_vec(ids, (2, len), &Device::Cpu).unwrap();
    let mask = Tensor::ones((2, len), candle_core::DType::U32, &Device::Cpu).unwrap();
    // An error is a refusal; only a panic (or a wrong shape) fails.
    if let Ok(logits) = model.forward_logits(&ids, &mask, false) {
        prop_assert_eq!(logits.dims()[..2].to_vec(), vec![2, len]);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1500,
        failure_persistence: None,
        // Fixed, so that CI runs the same cases every time.
        rng_seed: proptest::test_runner::RngSeed::Fixed(17),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_mutated_config_is_refused_or_works(text in mutated()) {
        if let Ok(cfg) = ModelConfig::from_json(&text, "config.json") {
            if let Ok(n) = count_parameters(&cfg) {
                if n.all <= 2_000_000 {
                    forward(&cfg)?;
                }
            }
        }
    }

    #[test]
    fn random_text_is_refused(text in "\\PC{0,200}") {
        let _ = ModelConfig::from_json(&text, "config.json");
    }
}
