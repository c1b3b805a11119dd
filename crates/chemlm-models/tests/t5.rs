//! T5 against transformers (golden files of `scripts/gen_t5_golden.py`): logits of tiny random
//! v1.0 / v1.1 models on a right-padded batch, the `pytorch_model.bin` path, relative position
//! buckets, parameter counts; and our own invariants: cached decoding equals full recomputation
//! (also with a padded source and reordered rows), save → load round trip, config round trip.

use candle_core::{DType, Device, Tensor};
use chemlm_models::config::T5Config;
use chemlm_models::t5::relative_position_bucket;
use chemlm_models::{count_parameters, presets, LanguageModel, LmKind, Model, ModelConfig, T5};
use std::collections::HashMap;
use std::path::PathBuf;

mod common;
use common::{ids, max_abs};

fn tiny(gated: bool) -> Model {
    common::tiny_t5(gated, 7)
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn io(name: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(golden(name).join("io.safetensors"), &Device::Cpu).unwrap()
}

/// Largest |a - b| over the real (unpadded) decoder positions of each row.
fn masked_diff(a: &Tensor, b: &Tensor, dmask: &Tensor) -> f32 {
    let lengths: Vec<u32> = dmask
        .to_dtype(DType::U32)
        .unwrap()
        .sum(1)
        .unwrap()
        .to_vec1()
        .unwrap();
    let mut worst = 0f32;
    for (i, &n) in lengths.iter().enumerate() {
        let x = a.get(i).unwrap().narrow(0, 0, n as usize).unwrap();
        let y = b.get(i).unwrap().narrow(0, 0, n as usize).unwrap();
        worst = worst.max(max_abs(&(x - y).unwrap()));
    }
    worst
}

fn golden_logits(model: &Model, name: &str) -> f32 {
    let io = io(name);
    let t5 = model.as_t5().expect("a T5 model");
    let got = t5
        .forward(
            &io["input_ids"],
            &io["attention_mask"],
            &io["decoder_input_ids"],
            Some(&io["decoder_attention_mask"]),
            false,
        )
        .unwrap();
    assert_eq!(got.dims(), io["logits"].dims());
    assert!(max_abs(&io["logits"]) > 0.5, "{name}: degenerate golden");
    masked_diff(&got, &io["logits"], &io["decoder_attention_mask"])
}

fn load(name: &str) -> Model {
    Model::load(&golden(name), &Device::Cpu).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn logits_match_transformers_v1_0_and_v1_1() {
    // With the fused CPU kernels and with the composed reference ops. Other tests in this binary
    // compare two passes with a tolerance, so flipping the global switch cannot break them.
    for fused in [true, false] {
        chemlm_models::ops::set_fused(fused);
        for name in ["t5-tiny-v1_0", "t5-tiny-v1_1"] {
            let model = load(name);
            let d = golden_logits(&model, name);
            assert!(
                d < 1e-4,
                "{name} (fused={fused}): logits differ from transformers by {d}"
            );
        }
    }
    chemlm_models::ops::set_fused(true);
    // v1.1 has its own head (transformers 5 writes tie_word_embeddings=true with
    // scale_decoder_outputs=false for it), v1.0 reuses `shared`.
    let v11 = load("t5-tiny-v1_1");
    let ModelConfig::T5(c) = v11.config() else {
        panic!("not t5")
    };
    assert!(c.has_lm_head() && !c.scale_output());
    assert_eq!(c.decoder_layers(), 3);
    assert!(v11
        .varmap()
        .data()
        .lock()
        .unwrap()
        .contains_key("lm_head.weight"));
    let v10 = load("t5-tiny-v1_0");
    assert!(!v10
        .varmap()
        .data()
        .lock()
        .unwrap()
        .contains_key("lm_head.weight"));
}

#[test]
fn pytorch_bin_checkpoint_loads_the_same() {
    let dir = golden("t5-tiny-v1_0-bin");
    assert!(!dir.join("model.safetensors").exists());
    let model = load("t5-tiny-v1_0-bin");
    let d = golden_logits(&model, "t5-tiny-v1_0-bin");
    assert!(d < 1e-4, "pytorch_model.bin: logits differ by {d}");
}

#[test]
fn half_precision_checkpoints_load_as_f32() {
    let src = golden("t5-tiny-v1_1");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("config.json"), tmp.path().join("config.json")).unwrap();
    let tensors = candle_core::safetensors::load(src.join("model.safetensors"), &Device::Cpu)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.to_dtype(DType::BF16).unwrap()))
        .collect::<HashMap<_, _>>();
    candle_core::safetensors::save(&tensors, tmp.path().join("model.safetensors")).unwrap();
    let model = Model::load(tmp.path(), &Device::Cpu).unwrap();
    let io = io("t5-tiny-v1_1");
    let got = model
        .as_t5()
        .unwrap()
        .forward(
            &io["input_ids"],
            &io["attention_mask"],
            &io["decoder_input_ids"],
            None,
            false,
        )
        .unwrap();
    assert_eq!(got.dtype(), DType::F32);
    // bf16 weights: close to, not equal to, the f32 logits.
    let d = masked_diff(&got, &io["logits"], &io["decoder_attention_mask"]);
    assert!(d < 0.5 && d > 0.0, "{d}");
}

#[test]
fn relative_position_buckets_match_transformers() {
    let text = std::fs::read_to_string(golden("t5-buckets.json")).unwrap();
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let bidi = c["bidirectional"].as_bool().unwrap();
        let nb = c["num_buckets"].as_u64().unwrap() as usize;
        let md = c["max_distance"].as_u64().unwrap() as usize;
        let start = c["rel_start"].as_i64().unwrap();
        for (i, want) in c["buckets"].as_array().unwrap().iter().enumerate() {
            let rel = start + i as i64;
            assert_eq!(
                relative_position_bucket(rel, bidi, nb, md) as u64,
                want.as_u64().unwrap(),
                "rel {rel}, bidirectional {bidi}, {nb} buckets, max distance {md}"
            );
        }
    }
}

#[test]
fn parameter_counts_equal_transformers() {
    let text = std::fs::read_to_string(golden("t5-params.json")).unwrap();
    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
    for name in ["t5-small", "t5-base"] {
        let c = count_parameters(&presets::preset(name).unwrap()).unwrap();
        assert_eq!(c.total as u64, want[name].as_u64().unwrap(), "{name}");
        assert_eq!(c.all, c.total);
    }
    assert_eq!(
        count_parameters(&presets::preset("t5-small").unwrap())
            .unwrap()
            .total,
        60_506_624
    );
    assert_eq!(
        count_parameters(&presets::preset("t5-base").unwrap())
            .unwrap()
            .total,
        222_903_552
    );
    // A v1.1 shape: gated FFN and separate head.
    let v = &want["t5-v1_1-small-shape"];
    let mut cfg = v["config"].clone();
    cfg["model_type"] = "t5".into();
    let cfg = ModelConfig::from_json(&cfg.to_string(), "v1.1").unwrap();
    let c = count_parameters(&cfg).unwrap();
    assert_eq!(c.total as u64, v["num_parameters"].as_u64().unwrap());
    // Non-embedding leaves out `shared` and the separate head.
    assert_eq!(c.total - c.non_embedding, 2 * 32128 * 512);
}

#[test]
fn cached_decoding_equals_full_recomputation() {
    for gated in [false, true] {
        let model = tiny(gated);
        let t5: &T5 = model.as_t5().unwrap();
        // Padded sources: row 1 is 4 tokens in a batch of 16 (longer than max_distance).
        let (src, src_mask) = ids(&[
            &[5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1],
            &[20, 21, 22, 1],
        ]);
        let (dec, _) = ids(&[
            &[0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            &[0, 9, 8, 7, 6, 5, 4, 3, 2, 30, 31, 32, 33, 34, 35],
        ]);
        let enc = t5.encode(&src, &src_mask, false).unwrap();
        let full = t5.decode(&dec, None, &enc, &src_mask, false).unwrap();
        let mut cache = t5.new_cache(&enc, &src_mask).unwrap();
        assert!(cache.is_empty());
        // Two tokens at once, then one at a time.
        let mut parts = vec![t5
            .decode_cached(&dec.narrow(1, 0, 2).unwrap(), &mut cache)
            .unwrap()];
        for j in 2..dec.dim(1).unwrap() {
            parts.push(
                t5.decode_cached(&dec.narrow(1, j, 1).unwrap(), &mut cache)
                    .unwrap(),
            );
        }
        assert_eq!(cache.len(), dec.dim(1).unwrap());
        let cached = Tensor::cat(&parts, 1).unwrap();
        // Relative to the logit scale (the untied v1.1 head gives logits of ~20, where 1e-5 is a
        // few f32 ulps of a differently ordered matmul).
        let scale = max_abs(&full).max(1.0);
        let d = max_abs(&(cached - &full).unwrap()) / scale;
        assert!(
            d < 1e-5,
            "gated={gated}: cached decoding differs by {d} (relative)"
        );
        eprintln!("gated={gated}: logit scale {scale}, cached vs full {d:e} relative");

        // A padded source decodes as it would alone (the encoder mask is in the cache).
        let (alone, alone_mask) = ids(&[&[20, 21, 22, 1]]);
        let enc1 = t5.encode(&alone, &alone_mask, false).unwrap();
        let one = t5
            .decode(
                &dec.narrow(0, 1, 1).unwrap(),
                None,
                &enc1,
                &alone_mask,
                false,
            )
            .unwrap();
        let d = max_abs(&(full.narrow(0, 1, 1).unwrap() - one).unwrap()) / scale;
        assert!(d < 1e-5, "padding leaks into the decoder: {d}");

        // Reorder / expand rows mid-way: [1, 0, 1] then continue.
        let mut cache = t5.new_cache(&enc, &src_mask).unwrap();
        t5.decode_cached(&dec.narrow(1, 0, 5).unwrap(), &mut cache)
            .unwrap();
        let idx = Tensor::new(&[1u32, 0, 1], &Device::Cpu).unwrap();
        cache.select_rows(&idx).unwrap();
        assert_eq!(cache.rows().unwrap(), 3);
        let next = dec.index_select(&idx, 0).unwrap().narrow(1, 5, 1).unwrap();
        let got = t5.decode_cached(&next, &mut cache).unwrap();
        let want = full.index_select(&idx, 0).unwrap().narrow(1, 5, 1).unwrap();
        let d = max_abs(&(got - want).unwrap()) / scale;
        assert!(d < 1e-5, "select_rows: {d}");
    }
}

#[test]
fn decoder_padding_does_not_change_real_positions() {
    let model = tiny(true);
    let t5 = model.as_t5().unwrap();
    let (src, src_mask) = ids(&[&[5, 6, 7, 1], &[8, 9, 1]]);
    let (dec, dmask) = ids(&[&[0, 3, 4, 5, 6], &[0, 7, 8]]);
    let enc = t5.encode(&src, &src_mask, false).unwrap();
    let padded = t5
        .decode(&dec, Some(&dmask), &enc, &src_mask, false)
        .unwrap();
    let (short, _) = ids(&[&[0, 7, 8]]);
    let alone = t5
        .decode(
            &short,
            None,
            &enc.narrow(0, 1, 1).unwrap(),
            &src_mask.narrow(0, 1, 1).unwrap(),
            false,
        )
        .unwrap();
    let d = max_abs(&(padded.narrow(0, 1, 1).unwrap().narrow(1, 0, 3).unwrap() - alone).unwrap());
    assert!(d < 1e-5, "{d}");
}

#[test]
fn shift_right_follows_hf() {
    let model = tiny(false);
    let t5 = model.as_t5().unwrap();
    let labels = Tensor::new(&[[7i64, 8, 9, 1], [4, 1, -100, -100]], &Device::Cpu).unwrap();
    let got: Vec<Vec<u32>> = t5.shift_right(&labels).unwrap().to_vec2().unwrap();
    assert_eq!(got, vec![vec![0, 7, 8, 9], vec![0, 4, 1, 0]]);
    let ignore = chemlm_models::ops::cross_entropy::IGNORE_INDEX;
    let labels = Tensor::new(&[[5u32, ignore, 3]], &Device::Cpu).unwrap();
    let got: Vec<Vec<u32>> = t5.shift_right(&labels).unwrap().to_vec2().unwrap();
    assert_eq!(got, vec![vec![0, 5, 0]]);
}

#[test]
fn save_load_roundtrip_and_config() {
    for gated in [false, true] {
        let model = tiny(gated);
        let dir = tempfile::tempdir().unwrap();
        model.save(dir.path(), None).unwrap();
        let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["model_type"], "t5");
        assert_eq!(json["architectures"][0], "T5ForConditionalGeneration");
        assert_eq!(json["tie_word_embeddings"], !gated);
        let names: Vec<String> =
            candle_core::safetensors::load(dir.path().join("model.safetensors"), &Device::Cpu)
                .unwrap()
                .into_keys()
                .collect();
        assert!(names.contains(&"shared.weight".to_string()));
        assert!(!names.iter().any(|n| n.contains("embed_tokens")));
        assert_eq!(names.contains(&"lm_head.weight".to_string()), gated);
        let back = Model::load(dir.path(), &Device::Cpu).unwrap();
        assert_eq!(back.config(), model.config());
        let (src, m) = ids(&[&[5, 6, 7, 1], &[8, 1]]);
        let (dec, dm) = ids(&[&[0, 3, 4], &[0, 9]]);
        let a = model
            .as_t5()
            .unwrap()
            .forward(&src, &m, &dec, Some(&dm), false)
            .unwrap();
        let b = back
            .as_t5()
            .unwrap()
            .forward(&src, &m, &dec, Some(&dm), false)
            .unwrap();
        assert!(max_abs(&(a - b).unwrap()) < 1e-5);
    }
}

#[test]
fn hf_config_with_extra_fields_parses() {
    // t5-small's config.json as published (abridged task_specific_params).
    let text = r#"{
      "architectures": ["T5ForConditionalGeneration"], "d_ff": 2048, "d_kv": 64, "d_model": 512,
      "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1,
      "initializer_factor": 1.0, "is_encoder_decoder": true, "layer_norm_epsilon": 1e-06,
      "model_type": "t5", "n_positions": 512, "num_heads": 8, "num_layers": 6,
      "output_past": true, "pad_token_id": 0, "relative_attention_num_buckets": 32,
      "task_specific_params": {"summarization": {"early_stopping": true, "max_length": 200,
        "prefix": "summarize: "}}, "transformers_version": "4.26.0", "vocab_size": 32128
    }"#;
    let cfg = ModelConfig::from_json(text, "t5-small config.json").unwrap();
    let mut preset = presets::preset("t5-small").unwrap();
    if let ModelConfig::T5(t) = &mut preset {
        t.num_decoder_layers = None;
    }
    assert_eq!(cfg, preset);
    assert_eq!(cfg.kind(), LmKind::Seq2Seq);
    assert_eq!(cfg.max_positions(), 512);
    assert_eq!(cfg.hidden_size(), 512);
}

#[test]
fn language_model_interface() {
    let model = tiny(false);
    assert_eq!(model.kind(), LmKind::Seq2Seq);
    let (src, m) = ids(&[&[5, 6, 7, 1], &[8, 1]]);
    let e = model.embed(&src, &m).unwrap();
    assert_eq!(e.dims(), &[2, 32]);
    let err = model.forward_logits(&src, &m, false).unwrap_err();
    assert!(err.to_string().contains("decoder inputs"), "{err}");
    // Dropout only in train mode: eval is deterministic, train is not.
    let t5 = model.as_t5().unwrap();
    let a = t5.encode(&src, &m, false).unwrap();
    let b = t5.encode(&src, &m, false).unwrap();
    assert!(max_abs(&(&a - &b).unwrap()) < 1e-5);
    let c = t5.encode(&src, &m, true).unwrap();
    assert!(max_abs(&(&a - &c).unwrap()) > 0.1);
}

#[test]
fn fresh_init_follows_hf_scheme() {
    let mut cfg = presets::preset("t5-tiny").unwrap();
    if let ModelConfig::T5(c) = &mut cfg {
        c.d_model = 64;
        c.d_kv = 16;
        c.initializer_factor = 2.0;
    }
    let model = Model::new(&cfg, &Device::Cpu, 3).unwrap();
    let data = model.varmap().data().lock().unwrap();
    let std = |name: &str| -> f64 {
        let t = data[name].as_tensor().flatten_all().unwrap();
        let v: Vec<f32> = t.to_vec1().unwrap();
        let n = v.len() as f64;
        (v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / n).sqrt()
    };
    let close = |a: f64, b: f64| (a / b - 1.0).abs() < 0.15;
    assert!(close(std("shared.weight"), 2.0));
    let q = "encoder.block.0.layer.0.SelfAttention.q.weight";
    assert!(close(std(q), 2.0 / (64.0f64 * 16.0).sqrt()), "{}", std(q));
    let k = "decoder.block.1.layer.1.EncDecAttention.k.weight";
    assert!(close(std(k), 2.0 / 8.0));
    let wo = "encoder.block.1.layer.1.DenseReluDense.wo.weight";
    assert!(close(std(wo), 2.0 / 8.0));
    let ln = data["decoder.final_layer_norm.weight"].as_tensor();
    let v: Vec<f32> = ln.to_vec1().unwrap();
    assert!(v.iter().all(|x| *x == 2.0));
    assert!(
        data.contains_key("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight")
    );
    assert!(
        !data.contains_key("decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight")
    );
    assert!(!data
        .contains_key("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"));
    // Same seed, same weights.
    let again = Model::new(&cfg, &Device::Cpu, 3).unwrap();
    let a = again.varmap().data().lock().unwrap()[q].as_tensor().clone();
    assert_eq!(max_abs(&(a - data[q].as_tensor()).unwrap()), 0.0);
}

/// Writes our saves of the golden models for `scripts/gen_t5_golden.py --verify` (transformers
/// must load them). Run by hand: `cargo test -p chemlm-models --test t5 export_for_transformers
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn export_for_transformers() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("t5-export");
    for name in ["t5-tiny-v1_0", "t5-tiny-v1_0-bin", "t5-tiny-v1_1"] {
        let out = root.join(name);
        load(name).save(&out, None).unwrap();
        println!(
            "python3 scripts/gen_t5_golden.py --verify {} {name}",
            out.display()
        );
    }
}

/// `T5Config` is reachable by its module path for code that builds configs directly.
#[test]
fn t5_config_defaults() {
    let c: T5Config = serde_json::from_str(
        r#"{"vocab_size": 10, "d_model": 8, "d_kv": 4, "d_ff": 16, "num_layers": 1, "num_heads": 2}"#,
    )
    .unwrap();
    assert_eq!(c.relative_attention_num_buckets, 32);
    assert_eq!(c.relative_attention_max_distance, 128);
    assert_eq!(c.dropout_rate, 0.1);
    assert_eq!(c.layer_norm_epsilon, 1e-6);
    assert_eq!(c.feed_forward_proj, "relu");
    assert!(c.tie_word_embeddings && c.scale_output() && !c.has_lm_head());
    assert_eq!(
        (c.pad_token_id, c.eos_token_id, c.decoder_start_token_id),
        (0, 1, 0)
    );
    assert_eq!(c.decoder_layers(), 1);
}

#[test]
fn every_weight_gets_a_gradient_in_training() {
    for gated in [false, true] {
        let model = tiny(gated);
        let t5 = model.as_t5().unwrap();
        let (src, m) = ids(&[&[5, 6, 7, 8, 1], &[8, 9, 1]]);
        let (labels, lm) = ids(&[&[3, 4, 5, 1], &[6, 1]]);
        let dec = t5.shift_right(&labels).unwrap();
        let logits = t5.forward(&src, &m, &dec, Some(&lm), true).unwrap();
        let weights = Tensor::randn(0f32, 1.0, logits.dims(), &Device::Cpu).unwrap();
        let loss = (logits * weights).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        for (name, var) in model.varmap().data().lock().unwrap().iter() {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("gated={gated}: no gradient for {name}"));
            let n = max_abs(g);
            assert!(
                n.is_finite() && n > 0.0,
                "gated={gated}: {name} gradient {n}"
            );
        }
    }
}

/// Rough CPU timings of t5-small (training step, cached decoding of 10 rows with a reorder per
/// step), for comparison with transformers on the same threads. Run by hand:
/// `cargo test --release -p chemlm-models --test t5 t5_small_timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn t5_small_timing() {
    let model = Model::from_preset("t5-small", &Device::Cpu, 0).unwrap();
    let t5 = model.as_t5().unwrap();
    let src = Tensor::arange(0u32, 8 * 48, &Device::Cpu)
        .unwrap()
        .reshape((8, 48))
        .unwrap()
        .affine(1.0, 5.0)
        .unwrap();
    let src_mask = src.ones_like().unwrap();
    let labels = src.narrow(1, 0, 32).unwrap();
    let dec = t5.shift_right(&labels).unwrap();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t0 = std::time::Instant::now();
        let logits = t5.forward(&src, &src_mask, &dec, None, true).unwrap();
        let loss = logits.sqr().unwrap().mean_all().unwrap();
        let _grads = loss.backward().unwrap();
        best = best.min(t0.elapsed().as_secs_f64());
    }
    println!("t5-small train step (fwd+bwd, 8 x 48 -> 32): {:.3} s", best);
    let src1 = src.narrow(0, 0, 1).unwrap();
    let m1 = src_mask.narrow(0, 0, 1).unwrap();
    let t0 = std::time::Instant::now();
    chemlm_models::grad_mode::inference(|| {
        let enc = t5.encode(&src1, &m1, false).unwrap();
        let mut cache = t5.new_cache(&enc, &m1).unwrap();
        let expand = Tensor::zeros(10, DType::U32, &Device::Cpu).unwrap();
        cache.select_rows(&expand).unwrap();
        let mut last = Tensor::zeros((10, 1), DType::U32, &Device::Cpu).unwrap();
        let order = Tensor::new(&[1u32, 0, 2, 3, 4, 5, 6, 7, 8, 9], &Device::Cpu).unwrap();
        for _ in 0..64 {
            let logits = t5.decode_cached(&last, &mut cache).unwrap();
            last = logits.argmax_keepdim(2).unwrap().squeeze(2).unwrap();
            cache.select_rows(&order).unwrap();
        }
    });
    println!(
        "t5-small cached decoding, 10 rows x 64 steps with a reorder per step: {:.3} s",
        t0.elapsed().as_secs_f64()
    );
}
