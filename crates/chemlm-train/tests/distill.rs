//! Distillation: every loss against PyTorch (golden file from `scripts/gen_distill_golden.py`),
//! gradients reaching only the student, a resumed distillation run repeating the uninterrupted one,
//! and a tiny teacher → student run on the MOSES fixture lowering the distillation loss.

mod common;
mod support;

use candle_core::{Device, Tensor, Var};
use chemlm_models::{Model, ModelConfig};
use chemlm_train::data::{BatchSource, BatchingConfig, InMemorySource};
use chemlm_train::distill::losses::{attention_mse, gram_mmd, hidden_mse, soft_target_kl_sum};
use chemlm_train::distill::{
    task_distill_loss, trainable_params, DistillConfig, DistillObjective, LayerMap, Projections,
    TaskDistillConfig, TaskTargets,
};
use chemlm_train::objectives::{Masker, MaskingConfig, MlmObjective, Objective, SpecialTokens};
use chemlm_train::optim::{DecayRule, ScheduleKind};
use chemlm_train::{rng, TrainConfig, Trainer};
use common::CharTok;
use rand::SeedableRng;
use serde_json::Value;
use support::{f32s, shape};

fn golden() -> Value {
    support::golden("distill.json")
}

fn tensor(v: &Value, shape: &[usize]) -> Tensor {
    Tensor::from_vec(f32s(v), shape, &Device::Cpu).unwrap()
}

fn var(v: &Value, shape: &[usize]) -> Var {
    Var::from_tensor(&tensor(v, shape)).unwrap()
}

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f32>().unwrap() as f64
}

fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
    let tol = rel * want.abs().max(1e-3);
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

fn assert_all_close(got: &Tensor, want: &Value, rel: f64, what: &str) {
    let g: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
    let w = f32s(want);
    assert_eq!(g.len(), w.len(), "{what}: length");
    let scale = w.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-3) as f64;
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert!(
            ((a - b).abs() as f64) <= rel * scale,
            "{what}[{i}]: got {a}, want {b}"
        );
    }
}

#[test]
fn soft_target_kl_matches_torch_value_and_gradient() {
    let g = golden();
    let kl = &g["kl"];
    let sh = shape(&kl["shape"]);
    let teacher = tensor(&kl["teacher"], &sh);
    for case in kl["cases"].as_array().unwrap() {
        let t = case["temperature"].as_f64().unwrap();
        let s = var(&kl["student"], &sh);
        let loss = soft_target_kl_sum(s.as_tensor(), &teacher, t).unwrap();
        assert_close(scalar(&loss), case["loss"].as_f64().unwrap(), 1e-4, "KL");
        let grads = loss.backward().unwrap();
        let gs = grads.get(s.as_tensor()).unwrap();
        assert_all_close(gs, &case["grad"], 1e-4, &format!("dKL/ds at T={t}"));
    }
}

#[test]
fn hidden_mse_and_mmd_match_torch() {
    let g = golden();
    let h = &g["hidden_mse"];
    let sh = shape(&h["shape"]);
    let mask = tensor(&h["mask"], &sh[..2]);
    let s = var(&h["student"], &sh);
    let loss = hidden_mse(s.as_tensor(), &tensor(&h["teacher"], &sh), &mask).unwrap();
    assert_close(scalar(&loss), h["loss"].as_f64().unwrap(), 1e-5, "MSE");
    let grads = loss.backward().unwrap();
    assert_all_close(grads.get(s.as_tensor()).unwrap(), &h["grad"], 1e-5, "dMSE");

    let m = &g["mmd"];
    let ss = shape(&m["student_shape"]);
    let ts = shape(&m["teacher_shape"]);
    let s = var(&m["student"], &ss);
    // u32 mask: the loss accepts the trainer's mask dtype as well as f32.
    let mask_u32 = mask.to_dtype(candle_core::DType::U32).unwrap();
    let loss = gram_mmd(s.as_tensor(), &tensor(&m["teacher"], &ts), &mask_u32).unwrap();
    assert_close(scalar(&loss), m["loss"].as_f64().unwrap(), 1e-4, "MMD");
    let grads = loss.backward().unwrap();
    assert_all_close(grads.get(s.as_tensor()).unwrap(), &m["grad"], 1e-4, "dMMD");
}

#[test]
fn attention_mse_matches_torch_for_equal_and_different_head_counts() {
    let g = golden();
    let a = &g["attention"];
    let mask = tensor(&a["mask"], &[2, 4]);
    let s = tensor(&a["student"], &shape(&a["student_shape"]));
    let t3 = tensor(&a["teacher3"], &shape(&a["teacher3_shape"]));
    let t2 = tensor(&a["teacher2"], &shape(&a["teacher2_shape"]));
    let differ = scalar(&attention_mse(&s, &t3, &mask).unwrap());
    let equal = scalar(&attention_mse(&s, &t2, &mask).unwrap());
    assert_close(
        differ,
        a["loss_heads_differ"].as_f64().unwrap(),
        1e-4,
        "att 2v3",
    );
    assert_close(
        equal,
        a["loss_heads_equal"].as_f64().unwrap(),
        1e-4,
        "att 2v2",
    );
}

#[test]
fn task_stage_losses_match_torch() {
    let g = golden();
    let task = &g["task"];
    let cfg = TaskDistillConfig {
        alpha: task["alpha"].as_f64().unwrap(),
        temperature: task["temperature"].as_f64().unwrap(),
    };
    let check = |name: &str, got: chemlm_train::distill::TaskDistillLoss| {
        let w = &task[name];
        assert_close(scalar(&got.soft), w["soft"].as_f64().unwrap(), 1e-4, name);
        assert_close(scalar(&got.hard), w["hard"].as_f64().unwrap(), 1e-4, name);
        assert_close(scalar(&got.total), w["total"].as_f64().unwrap(), 1e-4, name);
    };
    let c = &task["classes"];
    let labels: Vec<u32> = c["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect();
    let labels = Tensor::new(labels.as_slice(), &Device::Cpu).unwrap();
    let s = tensor(&c["student"], &[6, 3]);
    let t = tensor(&c["teacher"], &[6, 3]);
    check(
        "classes",
        task_distill_loss(&s, &t, TaskTargets::Classes(&labels), &cfg).unwrap(),
    );
    for name in ["binary", "regression"] {
        let b = &task[name];
        let (s, t) = (
            tensor(&b["student"], &[6, 2]),
            tensor(&b["teacher"], &[6, 2]),
        );
        let (labels, mask) = (tensor(&b["labels"], &[6, 2]), tensor(&b["mask"], &[6, 2]));
        let targets = if name == "binary" {
            TaskTargets::Binary {
                labels: &labels,
                mask: &mask,
            }
        } else {
            TaskTargets::Regression {
                labels: &labels,
                mask: &mask,
            }
        };
        let got = task_distill_loss(&s, &t, targets, &cfg).unwrap();
        assert!(scalar(&got.total).is_finite(), "{name}: NaN labels leaked");
        check(name, got);
    }
    let bad = TaskDistillConfig { alpha: 1.5, ..cfg };
    assert!(task_distill_loss(&s, &t, TaskTargets::Classes(&labels), &bad).is_err());
}

// ---------------------------------------------------------------- real models on the fixture

fn teacher_config(vocab: usize) -> ModelConfig {
    ModelConfig::from_toml(
        &format!(
            r#"
model_type = "bert"
vocab_size = {vocab}
hidden_size = 32
num_hidden_layers = 4
num_attention_heads = 4
intermediate_size = 64
hidden_act = "gelu"
max_position_embeddings = 128
"#
        ),
        "teacher",
    )
    .unwrap()
}

fn student_config(vocab: usize) -> ModelConfig {
    ModelConfig::from_toml(
        &format!(
            r#"
model_type = "albert"
vocab_size = {vocab}
embedding_size = 16
hidden_size = 16
num_hidden_layers = 2
num_hidden_groups = 1
num_attention_heads = 2
intermediate_size = 32
hidden_act = "gelu"
max_position_embeddings = 128
"#
        ),
        "student",
    )
    .unwrap()
}

struct Fixture {
    tok: CharTok,
    train: Vec<Vec<u32>>,
    valid: Vec<Vec<u32>>,
}

fn fixture() -> Fixture {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/moses-mini.smi");
    let smiles: Vec<String> = std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .filter(|s| !s.is_empty() && s.len() <= 100)
        .collect();
    let tok = CharTok::fit(&smiles);
    let seqs: Vec<Vec<u32>> = smiles.iter().map(|s| tok.encode(s)).collect();
    let (train, valid) = seqs.split_at(seqs.len() - 40);
    Fixture {
        train: train.to_vec(),
        valid: valid.to_vec(),
        tok,
    }
}

fn source(seqs: &[Vec<u32>], train: bool) -> InMemorySource {
    InMemorySource::new(
        seqs.to_vec(),
        common::PAD,
        BatchingConfig {
            max_tokens: 1024,
            max_sequences: 32,
            bucket_window: 256,
            shuffle: train,
            epochs: if train { None } else { Some(1) },
            seed: 5,
        },
    )
    .unwrap()
}

fn masker(vocab: usize) -> Masker {
    let specials = SpecialTokens {
        vocab_size: vocab as u32,
        mask_id: common::MASK,
        pad_id: common::PAD,
        special_ids: vec![common::PAD, common::MASK, common::BOS, common::EOS],
    };
    Masker::new(MaskingConfig::default(), &specials).unwrap()
}

fn train_config(steps: u64, lr: f64) -> TrainConfig {
    TrainConfig {
        steps,
        lr,
        warmup_steps: 2,
        schedule: ScheduleKind::Constant,
        eval_every: 0,
        checkpoint_every: 0,
        seed: 11,
        ..TrainConfig::default()
    }
}

fn all_vars(m: &Model) -> Vec<(String, Var)> {
    let data = m.varmap().data().lock().unwrap();
    data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[test]
fn gradients_reach_student_and_projections_never_the_teacher() {
    let fx = fixture();
    let v = fx.tok.vocab_size();
    let dev = Device::Cpu;
    let teacher = Model::new(&teacher_config(v), &dev, 1).unwrap();
    let student = Model::new(&student_config(v), &dev, 2).unwrap();
    let cfg = DistillConfig {
        layer_map: LayerMap::evenly(4, 2),
        alpha_attention: 1.0,
        ..DistillConfig::default()
    };
    let proj = Projections::new(&cfg.layer_map, 16, 32, 3, &dev).unwrap();
    assert_eq!(proj.named_vars().len(), 6, "weight + bias per pair");
    let obj = DistillObjective::new(&teacher, &student, &proj, masker(v), cfg, dev).unwrap();
    let mut src = source(&fx.train, true);
    let batch = src.next_batch().unwrap().unwrap();
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let out = obj.compute(&batch, &mut r, true).unwrap();
    assert!(out.weight > 0.0);
    let grads = out.loss_sum.backward().unwrap();
    for (name, var) in all_vars(&teacher) {
        assert!(
            grads.get(var.as_tensor()).is_none(),
            "teacher {name} got a gradient"
        );
    }
    let params = trainable_params(&student, &proj, &DecayRule::default());
    assert_eq!(params.len(), all_vars(&student).len() + 6);
    let mut missing = Vec::new();
    for p in params.iter() {
        match grads.get(p.var.as_tensor()) {
            Some(g) => assert!(
                g.sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap()
                    > 0.0
                    || p.name.contains("token_type")
            ),
            None => missing.push(p.name.clone()),
        }
    }
    // The pooler is not on the MLM path; everything else (projections included) must learn.
    assert!(
        missing.iter().all(|n| n.contains("pooler")),
        "no gradient for {missing:?}"
    );
}

#[test]
fn mismatched_models_are_rejected() {
    let dev = Device::Cpu;
    let teacher = Model::new(&teacher_config(30), &dev, 1).unwrap();
    let student = Model::new(&student_config(31), &dev, 2).unwrap();
    let cfg = DistillConfig {
        layer_map: LayerMap::evenly(4, 2),
        ..DistillConfig::default()
    };
    let proj = Projections::new(&cfg.layer_map, 16, 32, 3, &dev).unwrap();
    let e = DistillObjective::new(&teacher, &student, &proj, masker(30), cfg, dev.clone())
        .err()
        .unwrap();
    assert!(e.to_string().contains("vocabulary"), "{e}");
    let student = Model::new(&student_config(30), &dev, 2).unwrap();
    let cfg = DistillConfig::default(); // 0:0,4:1,8:2,12:3 does not fit 4 → 2
    let e = DistillObjective::new(&teacher, &student, &proj, masker(30), cfg, dev)
        .err()
        .unwrap();
    assert!(e.to_string().contains("teacher has 4 layers"), "{e}");
}

/// A briefly MLM-trained teacher, then distillation: every matched term falls.
#[test]
fn tiny_distillation_run_lowers_the_distillation_loss() {
    let fx = fixture();
    let v = fx.tok.vocab_size();
    let dev = Device::Cpu;
    let teacher = Model::new(&teacher_config(v), &dev, 1).unwrap();
    {
        let obj = MlmObjective::new(&teacher, masker(v), dev.clone());
        let mut t = Trainer::new(train_config(40, 3e-3), teacher.varmap(), None).unwrap();
        t.fit(&obj, &mut source(&fx.train, true), None).unwrap();
    }
    let student = Model::new(&student_config(v), &dev, 2).unwrap();
    let cfg = DistillConfig {
        layer_map: LayerMap::evenly(4, 2),
        ..DistillConfig::default()
    };
    let proj = Projections::new(&cfg.layer_map, 16, 32, 3, &dev).unwrap();
    let obj = DistillObjective::new(&teacher, &student, &proj, masker(v), cfg, dev).unwrap();
    let mut valid = source(&fx.valid, false);
    let eval = |obj: &DistillObjective, valid: &mut InMemorySource| {
        let mut r = rng::derived_rng(7, 2);
        obj.evaluate_components(valid, &mut r, None).unwrap()
    };
    let before = eval(&obj, &mut valid);
    let params = trainable_params(&student, &proj, &DecayRule::default());
    let mut trainer = Trainer::with_params(train_config(40, 3e-3), params, None).unwrap();
    let summary = trainer
        .fit(&obj, &mut source(&fx.train, true), None)
        .unwrap();
    assert_eq!(summary.steps, 40);
    let after = eval(&obj, &mut valid);
    eprintln!("before {before:?}\nafter  {after:?}");
    assert!(after.total < 0.7 * before.total, "{before:?} -> {after:?}");
    assert!(after.kd < before.kd);
    assert!(after.hidden_mse < before.hidden_mse);
    assert!(after.mlm < before.mlm);
}

/// Projections are checkpointed with the student: a run stopped and resumed repeats the
/// uninterrupted run's losses exactly.
#[test]
fn resumed_distillation_repeats_the_uninterrupted_run() {
    let fx = fixture();
    let v = fx.tok.vocab_size();
    let dev = Device::Cpu;
    let teacher = Model::new(&teacher_config(v), &dev, 1).unwrap();
    let cfg = DistillConfig {
        layer_map: LayerMap::evenly(4, 2),
        ..DistillConfig::default()
    };
    let run = |dir: &std::path::Path, steps: u64, resume: bool| -> Vec<f64> {
        let student = Model::new(&student_config(v), &dev, 2).unwrap();
        let proj = Projections::new(&cfg.layer_map, 16, 32, 3, &dev).unwrap();
        let obj = DistillObjective::new(
            &teacher,
            &student,
            &proj,
            masker(v),
            cfg.clone(),
            dev.clone(),
        )
        .unwrap();
        let params = trainable_params(&student, &proj, &DecayRule::default());
        let mut tc = train_config(steps, 2e-3);
        tc.checkpoint_every = 3;
        let mut trainer = Trainer::with_params(tc, params, Some(dir)).unwrap();
        let mut src = source(&fx.train, true);
        if resume {
            assert!(trainer.resume_latest(&mut src).unwrap().is_some());
        }
        trainer.fit(&obj, &mut src, None).unwrap().losses
    };
    let a = tempfile::tempdir().unwrap();
    let full = run(a.path(), 6, false);
    let b = tempfile::tempdir().unwrap();
    let first = run(b.path(), 3, false);
    let rest = run(b.path(), 6, true);
    assert_eq!(first, full[..3].to_vec());
    assert_eq!(rest, full[3..].to_vec());
}
