//! Architecture behaviour: padding invariance, save → load, determinism, gradients reaching every
//! weight, KV-cache equivalence, per-layer outputs for distillation.

use candle_core::{Device, Tensor, D};
use chemlm_models::{presets, LanguageModel, Model, ModelConfig, OutputRequest};

/// Tiny configs of every architecture (and both MoLFormer attentions / feature maps).
fn tiny_configs() -> Vec<(&'static str, ModelConfig)> {
    let mut out = Vec::new();
    let mut bert = presets::preset("bert-small").unwrap();
    if let ModelConfig::Bert(c) = &mut bert {
        c.hidden_size = 32;
        c.num_hidden_layers = 2;
        c.intermediate_size = 64;
    }
    out.push(("bert", bert.clone()));
    // RoBERTa: the BERT network with positions that skip the pad id; the tests pad with 0.
    let mut roberta = serde_json::to_value(&bert).unwrap();
    roberta["model_type"] = "roberta".into();
    roberta["pad_token_id"] = 0.into();
    roberta["type_vocab_size"] = 1.into();
    out.push((
        "roberta",
        ModelConfig::from_json(&roberta.to_string(), "roberta").unwrap(),
    ));
    let mut albert = presets::preset("albert-small").unwrap();
    if let ModelConfig::Albert(c) = &mut albert {
        c.embedding_size = 16;
        c.hidden_size = 32;
        c.num_hidden_layers = 4;
        c.num_hidden_groups = 2;
        c.intermediate_size = 64;
    }
    out.push(("albert", albert));
    for (name, att, fm) in [
        ("molformer-random", "linear", "generalized_random"),
        ("molformer-elu", "linear", "elu"),
        ("molformer-full", "full", "elu"),
    ] {
        let mut m = presets::preset("molformer-small").unwrap();
        if let ModelConfig::Molformer(c) = &mut m {
            c.vocab_size = 42;
            c.hidden_size = 32;
            c.num_hidden_layers = 2;
            c.intermediate_size = 32;
            c.attention_type = serde_json::from_str(&format!("\"{att}\"")).unwrap();
            c.feature_map = serde_json::from_str(&format!("\"{fm}\"")).unwrap();
        }
        out.push((name, m));
    }
    let mut gpt = presets::preset("gpt-small").unwrap();
    if let ModelConfig::GptNeo(c) = &mut gpt {
        c.vocab_size = 42;
        c.hidden_size = 32;
        c.window_size = 3;
    }
    out.push(("gpt_neo", gpt));
    out
}

fn batch(seqs: &[Vec<u32>], pad: u32) -> (Tensor, Tensor) {
    let len = seqs.iter().map(|s| s.len()).max().unwrap();
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for s in seqs {
        for i in 0..len {
            ids.push(*s.get(i).unwrap_or(&pad));
            mask.push(u32::from(i < s.len()));
        }
    }
    let dev = Device::Cpu;
    (
        Tensor::from_vec(ids, (seqs.len(), len), &dev).unwrap(),
        Tensor::from_vec(mask, (seqs.len(), len), &dev).unwrap(),
    )
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

fn seqs() -> Vec<Vec<u32>> {
    vec![
        vec![1, 5, 7, 9, 11, 3],
        vec![1, 6, 3],
        vec![1, 8, 10, 12, 14, 16, 18, 20, 3],
    ]
}

#[test]
fn padding_invariance_every_architecture() {
    for (name, cfg) in tiny_configs() {
        let model = Model::new(&cfg, &Device::Cpu, 7).unwrap();
        let (ids, mask) = batch(&seqs(), 0);
        let logits = model.forward_logits(&ids, &mask, false).unwrap();
        let emb = model.embed(&ids, &mask).unwrap();
        for (i, s) in seqs().iter().enumerate() {
            let (one, one_mask) = batch(std::slice::from_ref(s), 0);
            let l1 = model.forward_logits(&one, &one_mask, false).unwrap();
            let lb = logits.get(i).unwrap().narrow(0, 0, s.len()).unwrap();
            let d = max_diff(&l1.get(0).unwrap(), &lb);
            assert!(
                d < 1e-4,
                "{name}: molecule {i} logits change with padding by {d}"
            );
            let e1 = model.embed(&one, &one_mask).unwrap();
            let d = max_diff(&e1.get(0).unwrap(), &emb.get(i).unwrap());
            assert!(
                d < 1e-4,
                "{name}: molecule {i} embedding changes with padding by {d}"
            );
        }
    }
}

#[test]
fn save_load_gives_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("tok.json");
    std::fs::write(&tok, "{\"model\": {}}").unwrap();
    for (name, cfg) in tiny_configs() {
        let model = Model::new(&cfg, &Device::Cpu, 11).unwrap();
        let (ids, mask) = batch(&seqs(), 0);
        // A training forward redraws MoLFormer's random features; the saved model must keep them.
        model.forward_logits(&ids, &mask, true).unwrap();
        let before = model.forward_logits(&ids, &mask, false).unwrap();
        let out = dir.path().join(name);
        model.save(&out, Some(&tok)).unwrap();
        assert!(out.join("tokenizer.json").exists());
        let loaded = Model::load(&out, &Device::Cpu).unwrap();
        assert_eq!(loaded.config(), model.config(), "{name}: config round trip");
        let after = loaded.forward_logits(&ids, &mask, false).unwrap();
        assert_eq!(
            max_diff(&before, &after),
            0.0,
            "{name}: outputs differ after save/load"
        );
    }
}

#[test]
fn load_reports_missing_and_misshapen_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cfg) = tiny_configs().remove(0);
    let model = Model::new(&cfg, &Device::Cpu, 1).unwrap();
    model.save(dir.path(), None).unwrap();
    let path = dir.path().join("model.safetensors");
    let mut t = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    t.remove("bert.encoder.layer.1.output.dense.weight");
    candle_core::safetensors::save(&t, &path).unwrap();
    let err = Model::load(dir.path(), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bert.encoder.layer.1.output.dense.weight") && err.contains("missing"),
        "{err}"
    );
    t.insert(
        "bert.encoder.layer.1.output.dense.weight".into(),
        Tensor::zeros((3, 3), candle_core::DType::F32, &Device::Cpu).unwrap(),
    );
    candle_core::safetensors::save(&t, &path).unwrap();
    let err = Model::load(dir.path(), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("shape"), "{err}");
}

#[test]
fn same_seed_same_weights_different_seed_different() {
    let (_, cfg) = tiny_configs().remove(4);
    let (ids, mask) = batch(&seqs(), 0);
    let a = Model::new(&cfg, &Device::Cpu, 5)
        .unwrap()
        .forward_logits(&ids, &mask, false)
        .unwrap();
    let b = Model::new(&cfg, &Device::Cpu, 5)
        .unwrap()
        .forward_logits(&ids, &mask, false)
        .unwrap();
    let c = Model::new(&cfg, &Device::Cpu, 6)
        .unwrap()
        .forward_logits(&ids, &mask, false)
        .unwrap();
    assert_eq!(max_diff(&a, &b), 0.0);
    assert!(max_diff(&a, &c) > 1e-3);
}

#[test]
fn training_forward_gives_every_weight_a_gradient_and_is_seeded() {
    // Guards against candle ops that silently drop gradients.
    for (name, cfg) in tiny_configs() {
        let model = Model::new(&cfg, &Device::Cpu, 3).unwrap();
        let (ids, mask) = batch(&seqs(), 0);
        model.set_seed(99);
        let l1 = model.forward_logits(&ids, &mask, true).unwrap();
        model.set_seed(99);
        let l2 = model.forward_logits(&ids, &mask, true).unwrap();
        assert_eq!(
            max_diff(&l1, &l2),
            0.0,
            "{name}: seeded training forward not reproducible"
        );
        let eval = model.forward_logits(&ids, &mask, false).unwrap();
        assert!(
            max_diff(&l1, &eval) > 0.0,
            "{name}: dropout had no effect in training"
        );
        let loss =
            candle_nn::loss::cross_entropy(&l1.flatten_to(1).unwrap(), &ids.flatten_all().unwrap())
                .unwrap();
        let grads = loss.backward().unwrap();
        let data = model.varmap().data().lock().unwrap();
        for (n, v) in data.iter() {
            if n.contains("pooler") || n.contains("token_type") {
                continue; // not on the LM path (token type has a gradient only for row 0)
            }
            let g = grads
                .get(v.as_tensor())
                .unwrap_or_else(|| panic!("{name}: no gradient for {n}"));
            let norm: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
            assert!(norm > 0.0, "{name}: zero gradient for {n}");
        }
    }
}

/// Inside inference mode the cache keeps in-place buffers and single-token steps run the decode
/// kernel: the logits still equal a full forward pass, through buffer growth (16 positions, then
/// doubling) and GPT-Neo's local layers (window 3), and with the buffers sized up front.
#[test]
fn buffered_kv_cache_decoding_matches_full_forward() {
    use rand::{Rng, SeedableRng};
    let (_, cfg) = tiny_configs().pop().unwrap();
    let model = Model::new(&cfg, &Device::Cpu, 8).unwrap();
    let gpt = model.as_gpt_neo().unwrap();
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (b, n) = (3, 40);
    let ids: Vec<u32> = (0..b * n).map(|_| r.gen_range(0..42)).collect();
    let ids = Tensor::from_vec(ids, (b, n), &Device::Cpu).unwrap();
    let full = model
        .forward_logits(&ids, &ids.ones_like().unwrap(), false)
        .unwrap();
    for mut cache in [
        chemlm_models::KvCache::new(),
        chemlm_models::KvCache::with_capacity(n),
    ] {
        let inc = chemlm_models::grad_mode::inference(|| {
            let mut parts = vec![gpt
                .forward_cached(&ids.narrow(1, 0, 3).unwrap(), &mut cache)
                .unwrap()];
            for t in 3..n {
                parts.push(
                    gpt.forward_cached(&ids.narrow(1, t, 1).unwrap(), &mut cache)
                        .unwrap(),
                );
            }
            Tensor::cat(&parts, 1).unwrap()
        });
        assert!(cache.is_buffered());
        assert!(!cache.holds_graph());
        assert_eq!(cache.len(), n);
        let d = max_diff(&full, &inc);
        assert!(d < 1e-4, "buffered cache decoding differs: {d}");
        // A clone is a deep copy: decoding on with it leaves the original's buffers alone.
        let mut other = cache.clone();
        let next = Tensor::zeros((b, 1), candle_core::DType::U32, &Device::Cpu).unwrap();
        chemlm_models::grad_mode::inference(|| {
            let a = gpt.forward_cached(&next, &mut other).unwrap();
            let c = gpt.forward_cached(&next, &mut cache).unwrap();
            assert_eq!(max_diff(&a, &c), 0.0);
        });
    }
}

#[test]
fn kv_cache_decoding_matches_full_forward() {
    let (_, cfg) = tiny_configs().pop().unwrap();
    let model = Model::new(&cfg, &Device::Cpu, 8).unwrap();
    let gpt = model.as_gpt_neo().unwrap();
    let ids = Tensor::new(
        &[[1u32, 5, 9, 2, 7, 7, 4, 11], [1, 6, 6, 3, 8, 2, 2, 9]],
        &Device::Cpu,
    )
    .unwrap();
    let mask = ids.ones_like().unwrap();
    let full = model.forward_logits(&ids, &mask, false).unwrap();
    let mut cache = chemlm_models::KvCache::new();
    let mut parts = vec![gpt
        .forward_cached(&ids.narrow(1, 0, 3).unwrap(), &mut cache)
        .unwrap()];
    for t in 3..8 {
        parts.push(
            gpt.forward_cached(&ids.narrow(1, t, 1).unwrap(), &mut cache)
                .unwrap(),
        );
    }
    assert_eq!(cache.len(), 8);
    let inc = Tensor::cat(&parts, 1).unwrap();
    assert!(
        max_diff(&full, &inc) < 1e-4,
        "cache decoding differs: {}",
        max_diff(&full, &inc)
    );
    // Causality: changing a later token leaves earlier logits unchanged.
    let ids2 = Tensor::new(
        &[[1u32, 5, 9, 2, 7, 7, 4, 30], [1, 6, 6, 3, 8, 2, 2, 9]],
        &Device::Cpu,
    )
    .unwrap();
    let full2 = model.forward_logits(&ids2, &mask, false).unwrap();
    assert_eq!(
        max_diff(
            &full.narrow(1, 0, 7).unwrap(),
            &full2.narrow(1, 0, 7).unwrap()
        ),
        0.0
    );
}

#[test]
fn detailed_outputs_for_distillation() {
    for (name, cfg) in tiny_configs() {
        let model = Model::new(&cfg, &Device::Cpu, 2).unwrap();
        let (ids, mask) = batch(&seqs(), 0);
        let req = OutputRequest {
            logits: true,
            hidden_states: true,
            attentions: true,
        };
        let out = model.forward_detailed(&ids, &mask, false, req).unwrap();
        let layers = cfg.num_layers();
        assert_eq!(out.hidden_states.len(), layers + 1, "{name}");
        assert_eq!(out.attentions.len(), layers, "{name}");
        let logits = model.forward_logits(&ids, &mask, false).unwrap();
        assert!(
            max_diff(out.logits.as_ref().unwrap(), &logits) < 1e-5,
            "{name}"
        );
        let a = &out.attentions[0];
        assert_eq!(a.dims(), &[3, cfg.num_heads(), 9, 9]);
        // Rows of real queries sum to 1 and put no weight on padding keys.
        let sums: Vec<f32> = a
            .get(1)
            .unwrap()
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .sum(D::Minus1)
            .unwrap()
            .to_vec0::<f32>()
            .map(|x| vec![x])
            .unwrap();
        // Linear attention adds eps = 1e-6 to its denominator, so its rows sum to slightly < 1
        // when the untrained features are tiny.
        assert!(
            sums[0] <= 1.0 + 1e-5 && sums[0] > 0.99,
            "{name}: attention row sums to {}",
            sums[0]
        );
        let pad: f32 = a
            .get(1)
            .unwrap()
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .narrow(0, 3, 6)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(pad.abs() < 1e-6, "{name}: attention on padding {pad}");
    }
}

/// Inference mode (per-layer detach, bounded memory) gives the same numbers and no gradient path.
#[test]
fn inference_mode_matches_and_detaches() {
    for (name, cfg) in tiny_configs() {
        let model = Model::new(&cfg, &Device::Cpu, 7).unwrap();
        let (ids, mask) = batch(&seqs(), 0);
        let emb = model.embed(&ids, &mask).unwrap();
        let logits = model.forward_logits(&ids, &mask, false).unwrap();
        let (emb_i, logits_i) = chemlm_models::grad_mode::inference(|| {
            (
                model.embed(&ids, &mask).unwrap(),
                model.forward_logits(&ids, &mask, false).unwrap(),
            )
        });
        assert_eq!(max_diff(&emb, &emb_i), 0.0, "{name}: embedding differs");
        assert_eq!(max_diff(&logits, &logits_i), 0.0, "{name}: logits differ");
        let vars = model.varmap().all_vars();
        let g = emb.sum_all().unwrap().backward().unwrap();
        assert!(
            vars.iter().any(|v| g.get(v).is_some()),
            "{name}: no gradient in normal mode"
        );
        let gi = emb_i.sum_all().unwrap().backward().unwrap();
        let encoder_grads = vars.iter().filter(|v| gi.get(v).is_some()).count();
        // Only the final LayerNorm / pooler-side weights may still see the output.
        assert!(
            encoder_grads * 4 < vars.len(),
            "{name}: {encoder_grads} of {} weights still reached in inference mode",
            vars.len()
        );
    }
}
