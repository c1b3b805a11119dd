//! Fine-tuning (issue 4): losses and head against torch goldens (scripts/gen_finetune_golden.py),
//! target standardisation, the frozen/full regimes, early stopping, reproducibility and the
//! saved model reproducing the run's test predictions. Tiny MoLFormer + fixtures/moses-mini.smi
//! with labels computed from the molecules themselves (ring count, size), so runs take seconds.

mod support;

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor, Var};
use chemlm_data::{TaskType, Tokenizer};
use chemlm_models::Model;
use chemlm_train::finetune::{
    embed_dataset, encode_all, fit_fold, masked_bce_with_logits, masked_regression_loss,
    save_model_dir, EncodeOptions, FinetuneConfig, FinetuneMeta, FinetunedModel, FoldData,
    FoldOutcome, Head, HeadConfig, Pooling, Regime, RegressionLoss, Standardizer,
};
use serde_json::Value;

fn golden() -> Value {
    support::golden("finetune.json")
}

fn mat(v: &Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

fn tensor(v: &Value) -> Tensor {
    let m = mat(v);
    let (r, c) = (m.len(), m[0].len());
    Tensor::from_vec(m.concat(), (r, c), &Device::Cpu).unwrap()
}

fn assert_close(a: &[Vec<f32>], b: &[Vec<f32>], tol: f32) {
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn masked_losses_match_torch_and_ignore_missing_labels() {
    let g = golden();
    let z = Var::from_tensor(&tensor(&g["logits"])).unwrap();
    let y = tensor(&g["targets_with_garbage"]);
    let m = tensor(&g["mask"]);
    let loss = masked_bce_with_logits(z.as_tensor(), &y, &m).unwrap();
    let v = loss.to_scalar::<f32>().unwrap() as f64;
    let want = g["bce"].as_f64().unwrap();
    assert!((v - want).abs() < 1e-5, "{v} vs {want}");
    let grads = loss.backward().unwrap();
    let gz: Vec<Vec<f32>> = grads.get(z.as_tensor()).unwrap().to_vec2().unwrap();
    assert_close(&gz, &mat(&g["bce_grad"]), 1e-5);
    // Hand check: masked entries contribute nothing — the loss equals the mean over labelled
    // entries of the per-entry BCE, whatever the targets of missing entries say.
    let (zl, yl, ml) = (
        mat(&g["logits"]),
        mat(&g["targets_with_garbage"]),
        mat(&g["mask"]),
    );
    let (mut s, mut n) = (0f64, 0f64);
    for i in 0..zl.len() {
        for j in 0..zl[0].len() {
            if ml[i][j] > 0.0 {
                let (z, y) = (zl[i][j] as f64, yl[i][j] as f64);
                s += z.max(0.0) - z * y + (-z.abs()).exp().ln_1p();
                n += 1.0;
            }
        }
    }
    assert!((v - s / n).abs() < 1e-5);

    for (name, kind) in [("l1", RegressionLoss::L1), ("mse", RegressionLoss::Mse)] {
        let p = Var::from_tensor(&tensor(&g["pred"])).unwrap();
        let l = masked_regression_loss(p.as_tensor(), &tensor(&g["y"]), &m, kind).unwrap();
        let lv = l.to_scalar::<f32>().unwrap() as f64;
        let want = g[name]["loss"].as_f64().unwrap();
        assert!((lv - want).abs() < 1e-5, "{name}: {lv} vs {want}");
        let gp: Vec<Vec<f32>> = l
            .backward()
            .unwrap()
            .get(p.as_tensor())
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_close(&gp, &mat(&g[name]["grad"]), 1e-5);
    }
}

#[test]
fn head_forward_matches_torch() {
    let g = &golden()["head"];
    let (w1, w2) = (tensor(&g["w1"]), tensor(&g["w2"]));
    let cfg = HeadConfig {
        n_in: w1.dims()[1],
        hidden: w1.dims()[0],
        n_out: w2.dims()[0],
        dropout: 0.5,
    };
    let head = Head::new(cfg, 0, &Device::Cpu).unwrap();
    head.w1.set(&w1).unwrap();
    head.b1.set(&tensor(&g["b1"])).unwrap();
    head.w2.set(&w2).unwrap();
    head.b2.set(&tensor(&g["b2"])).unwrap();
    // Inference: no dropout, whatever the configured probability.
    let out: Vec<Vec<f32>> = head
        .forward(&tensor(&g["x"]), None)
        .unwrap()
        .to_vec2()
        .unwrap();
    assert_close(&out, &mat(&g["out"]), 1e-5);
    // Training: dropout changes the output, deterministically for a seed.
    let mut r1 = chemlm_train::finetune::head::dropout_rng(3, 7);
    let mut r2 = chemlm_train::finetune::head::dropout_rng(3, 7);
    let a: Vec<Vec<f32>> = head
        .forward(&tensor(&g["x"]), Some(&mut r1))
        .unwrap()
        .to_vec2()
        .unwrap();
    let b: Vec<Vec<f32>> = head
        .forward(&tensor(&g["x"]), Some(&mut r2))
        .unwrap()
        .to_vec2()
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, out);
}

#[test]
fn standardisation_round_trips_and_uses_train_statistics() {
    let labels = vec![
        Some(1.0),
        None,
        Some(3.0),
        Some(10.0),
        Some(5.0),
        Some(10.0),
        None,
        Some(10.0),
    ];
    let s = Standardizer::fit(&labels, 2);
    // Task 0: 1, 3, 5 → mean 3, population std sqrt(8/3). Task 1: constant 10 → std 1.
    assert!((s.mean[0] - 3.0).abs() < 1e-12);
    assert!((s.std[0] - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
    assert_eq!((s.mean[1], s.std[1]), (10.0, 1.0));
    for (t, y) in [(0, -7.25), (0, 3.0), (1, 12.5), (1, 10.0)] {
        let z = s.forward(t, y);
        assert!((s.inverse(t, z) - y).abs() < 1e-12);
    }
    let z: Vec<f64> = [1.0, 3.0, 5.0].iter().map(|&y| s.forward(0, y)).collect();
    assert!(z.iter().sum::<f64>().abs() < 1e-12);
    assert!((z.iter().map(|v| v * v).sum::<f64>() / 3.0 - 1.0).abs() < 1e-12);
}

/// A tiny MoLFormer + SMILES tokenizer saved as a model directory, and the fixture molecules
/// labelled by (rings ≥ 3, classification; missing every 5th for task 2) or (atoms / 10, rings).
struct Setup {
    dir: tempfile::TempDir,
    tok: Tokenizer,
    smiles: Vec<String>,
}

fn setup() -> Setup {
    let smiles = support::fixture_smiles(160);
    let dir = tempfile::tempdir().unwrap();
    let tok = support::fixture_tokenizer(&smiles, dir.path());
    support::save_tiny_molformer(dir.path(), "enc", &tok, 1, 16);
    Setup { dir, tok, smiles }
}

impl Setup {
    fn enc_dir(&self) -> PathBuf {
        self.dir.path().join("enc")
    }

    fn labels(&self, task: TaskType) -> Vec<Option<f64>> {
        support::computed_labels(&self.smiles, task, None)
    }
}

fn weights(model: &Model) -> Vec<(String, Vec<f32>)> {
    let mut v: Vec<(String, Vec<f32>)> = model
        .varmap()
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_tensor().flatten_all().unwrap().to_vec1().unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

struct Run {
    model: Model,
    outcome: FoldOutcome,
    test: Vec<usize>,
}

fn run(s: &Setup, task: TaskType, regime: Regime, epochs: usize, seed: u64) -> Run {
    let model = Model::load(&s.enc_dir(), &Device::Cpu).unwrap();
    let opts = EncodeOptions::default();
    let enc = encode_all(&s.tok, &s.smiles, opts, 80);
    if let Some(e) = enc.iter().find_map(|e| e.as_ref().err()) {
        panic!("{e}");
    }
    let seqs: Vec<Option<Vec<u32>>> = enc.into_iter().map(|e| e.ok()).collect();
    let pad = s.tok.special_ids().pad;
    let emb = (regime == Regime::Frozen)
        .then(|| embed_dataset(&model, &seqs, pad, Pooling::Mean, 32, &mut |_| {}).unwrap());
    let labels = s.labels(task);
    let n = s.smiles.len();
    let train: Vec<usize> = (0..n * 6 / 10).collect();
    let valid: Vec<usize> = (n * 6 / 10..n * 8 / 10).collect();
    let test: Vec<usize> = (n * 8 / 10..n).collect();
    let data = FoldData {
        task,
        n_tasks: 2,
        primary: if task == TaskType::Classification {
            "roc-auc"
        } else {
            "rmse"
        },
        seqs: &seqs,
        labels: &labels,
        train: &train,
        valid: &valid,
        test: &test,
        embeddings: emb.as_ref(),
    };
    let cfg = FinetuneConfig {
        regime,
        epochs,
        patience: 3,
        lr: 1e-3,
        head_lr: 3e-3,
        batch_size: 16,
        ..Default::default()
    };
    let mut seen = 0;
    let outcome = fit_fold(&model, pad, &data, &cfg, seed, &mut |_| seen += 1).unwrap();
    assert_eq!(seen, outcome.epochs_run);
    Run {
        model,
        outcome,
        test,
    }
}

#[test]
fn frozen_regime_leaves_encoder_unchanged_full_regime_changes_it() {
    let s = setup();
    let before = weights(&Model::load(&s.enc_dir(), &Device::Cpu).unwrap());
    let frozen = run(&s, TaskType::Regression, Regime::Frozen, 3, 0);
    assert_eq!(weights(&frozen.model), before);
    let full = run(&s, TaskType::Regression, Regime::Finetune, 3, 0);
    let after = weights(&full.model);
    let changed = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.1 != b.1)
        .count();
    // Every encoder tensor that feeds the pooled output moves (the unused LM head does not).
    assert!(
        changed * 2 > before.len(),
        "{changed} of {} changed",
        before.len()
    );
}

#[test]
fn early_stopping_keeps_the_best_validation_epoch() {
    let s = setup();
    let r = run(&s, TaskType::Regression, Regime::Frozen, 60, 1);
    let o = &r.outcome;
    let rmse = |rec: &chemlm_train::finetune::EpochRecord| {
        rec.valid.iter().find(|(k, _)| k == "rmse").unwrap().1
    };
    let best = o
        .history
        .iter()
        .min_by(|a, b| rmse(a).partial_cmp(&rmse(b)).unwrap())
        .unwrap();
    assert_eq!(o.best_epoch, best.epoch);
    assert!(o.history[o.best_epoch - 1].best);
    assert_eq!(o.valid_metrics, best.valid);
    // Stopped by patience (3 epochs without improvement) unless the last epoch was the best.
    assert!(o.epochs_run == 60 || o.epochs_run == o.best_epoch + 3);
    // The kept head is the best epoch's: valid RMSE recomputed from it equals the recorded one.
    let meta_dir = s.dir.path().join("es");
    save(&s, &r, TaskType::Regression, &meta_dir);
    let fm = FinetunedModel::load(&meta_dir, &Device::Cpu).unwrap();
    let labels = s.labels(TaskType::Regression);
    let valid: Vec<usize> = (s.smiles.len() * 6 / 10..s.smiles.len() * 8 / 10).collect();
    let smiles: Vec<&str> = valid.iter().map(|&i| s.smiles[i].as_str()).collect();
    let preds: Vec<f64> = fm
        .predict(&smiles, 7)
        .unwrap()
        .into_iter()
        .flat_map(|p| p.unwrap())
        .collect();
    let y: Vec<Option<f64>> = valid
        .iter()
        .flat_map(|&i| labels[2 * i..2 * i + 2].to_vec())
        .collect();
    let m = chemlm_train::baselines::evaluate(TaskType::Regression, &preds, &y, 2);
    assert!(
        (m[0].1 - rmse(best)).abs() < 1e-4,
        "{} vs {}",
        m[0].1,
        rmse(best)
    );
}

fn save(s: &Setup, r: &Run, task: TaskType, dir: &Path) {
    let meta = FinetuneMeta {
        format: chemlm_train::finetune::artifact::META_FORMAT.into(),
        dataset: "fixture".into(),
        classification: task == TaskType::Classification,
        task_names: vec!["a".into(), "b".into()],
        head: r.outcome.head.config,
        pooling: r.outcome.pooling,
        encode: EncodeOptions::default(),
        standardizer: r.outcome.standardizer.clone(),
        seed: 0,
        best_epoch: r.outcome.best_epoch,
        base_model: s.enc_dir().display().to_string(),
    };
    save_model_dir(
        dir,
        &r.model,
        &Tokenizer::load(&s.dir.path().join("tok.json")).unwrap(),
        &r.outcome.head,
        &meta,
    )
    .unwrap();
}

#[test]
fn saved_model_reproduces_the_runs_test_predictions() {
    let s = setup();
    for (task, regime) in [
        (TaskType::Classification, Regime::Finetune),
        (TaskType::Regression, Regime::Frozen),
    ] {
        let r = run(&s, task, regime, 4, 2);
        let dir = s.dir.path().join(format!("best-{regime:?}"));
        save(&s, &r, task, &dir);
        let fm = FinetunedModel::load(&dir, &Device::Cpu).unwrap();
        let smiles: Vec<&str> = r.test.iter().map(|&i| s.smiles[i].as_str()).collect();
        let got: Vec<f64> = fm
            .predict(&smiles, 5)
            .unwrap()
            .into_iter()
            .flat_map(|p| p.unwrap())
            .collect();
        assert_eq!(got.len(), r.outcome.test_preds.len());
        for (a, b) in got.iter().zip(&r.outcome.test_preds) {
            assert!(
                (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                "{regime:?}: {a} vs {b}"
            );
        }
        if task == TaskType::Classification {
            assert!(got.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
}

#[test]
fn runs_are_deterministic_for_a_seed() {
    let s = setup();
    let a = run(&s, TaskType::Classification, Regime::Finetune, 2, 5);
    let b = run(&s, TaskType::Classification, Regime::Finetune, 2, 5);
    assert_eq!(a.outcome.test_preds, b.outcome.test_preds);
    let c = run(&s, TaskType::Classification, Regime::Finetune, 2, 6);
    assert_ne!(a.outcome.test_preds, c.outcome.test_preds);
}
