//! Task-stage distillation in fine-tuning (issue 5 §1): the batch loss equals `distill::task` on
//! a hand batch, a teacher run directory is checked (data set, data hash, split hash per seed,
//! tasks, task type), and a student taught with alpha = 1 ends closer to its teacher than the
//! same student with alpha = 0, in the frozen and the full regime. alpha = 0 trains exactly as
//! no teacher. Tiny MoLFormers on fixtures/moses-mini.smi with labels computed from the
//! molecules, so every run takes seconds.

mod support;

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor, Var};
use chemlm_data::{TaskType, Tokenizer};
use chemlm_models::Model;
use chemlm_train::distill::{task_distill_loss, TaskDistillConfig, TaskTargets};
use chemlm_train::finetune::teacher::RUN_FORMAT;
use chemlm_train::finetune::{
    embed_dataset, encode_all, finetune_batch_loss, fit_fold, fit_fold_distilled, save_model_dir,
    EncodeOptions, FinetuneConfig, FinetuneMeta, FinetunedModel, FoldData, FoldOutcome, Pooling,
    Regime, RegressionLoss, Standardizer, StudentTask, TeacherEmbeddingCache, TeacherOutputs,
    TeacherRun,
};

fn t2(v: &[[f32; 2]]) -> Tensor {
    Tensor::from_vec(v.concat(), (v.len(), 2), &Device::Cpu).unwrap()
}

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f32>().unwrap() as f64
}

#[test]
fn batch_loss_wiring_equals_distill_task_on_a_hand_batch() {
    let out = [[0.7f32, -1.2], [2.5, 0.1], [-0.4, 3.0]];
    let teacher = t2(&[[1.5, -0.2], [-0.5, 0.8], [0.0, 2.0]]);
    let labels = t2(&[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]);
    // The (2, 1) label is missing: it counts in the soft term only.
    let mask = t2(&[[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]]);
    let cfg = TaskDistillConfig {
        alpha: 0.3,
        temperature: 2.0,
    };
    for classification in [true, false] {
        let s1 = Var::from_tensor(&t2(&out)).unwrap();
        let s2 = Var::from_tensor(&t2(&out)).unwrap();
        let got = finetune_batch_loss(
            s1.as_tensor(),
            &labels,
            &mask,
            classification,
            RegressionLoss::Mse,
            Some((&teacher, &cfg)),
        )
        .unwrap();
        let which = if classification {
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
        let want = task_distill_loss(s2.as_tensor(), &teacher, which, &cfg).unwrap();
        let soft = got.soft.as_ref().unwrap();
        for (a, b) in [
            (&got.total, &want.total),
            (soft, &want.soft),
            (&got.hard, &want.hard),
        ] {
            assert!(
                (scalar(a) - scalar(b)).abs() < 1e-6,
                "{classification}: {} vs {}",
                scalar(a),
                scalar(b)
            );
        }
        assert!(scalar(soft) > 0.01 && scalar(&got.hard) > 0.01);
        // Same gradient w.r.t. the student outputs; none flows into the teacher.
        let grad = |l: &Tensor, v: &Var| -> Vec<Vec<f32>> {
            let g = l.backward().unwrap();
            g.get(v.as_tensor()).unwrap().to_vec2().unwrap()
        };
        let (g1, g2) = (grad(&got.total, &s1), grad(&want.total, &s2));
        for (a, b) in g1.iter().flatten().zip(g2.iter().flatten()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
    // L1 keeps L1 on the labels: alpha·(MSE to the teacher) + (1 − alpha)·masked L1, by hand.
    let s = t2(&out);
    let got = finetune_batch_loss(
        &s,
        &labels,
        &mask,
        false,
        RegressionLoss::L1,
        Some((&teacher, &cfg)),
    )
    .unwrap();
    let tv: Vec<Vec<f32>> = teacher.to_vec2().unwrap();
    let (yv, mv): (Vec<Vec<f32>>, Vec<Vec<f32>>) =
        (labels.to_vec2().unwrap(), mask.to_vec2().unwrap());
    let (mut soft, mut l1, mut n) = (0f64, 0f64, 0f64);
    for i in 0..3 {
        for j in 0..2 {
            soft += ((out[i][j] - tv[i][j]) as f64).powi(2) / 6.0;
            if mv[i][j] > 0.0 {
                l1 += ((out[i][j] - yv[i][j]) as f64).abs();
                n += 1.0;
            }
        }
    }
    let want = 0.3 * soft + 0.7 * l1 / n;
    assert!((scalar(&got.total) - want).abs() < 1e-6);
    // alpha = 0 is the loss without a teacher.
    let zero = TaskDistillConfig {
        alpha: 0.0,
        temperature: 2.0,
    };
    for classification in [true, false] {
        let with = finetune_batch_loss(
            &s,
            &labels,
            &mask,
            classification,
            RegressionLoss::L1,
            Some((&teacher, &zero)),
        )
        .unwrap();
        let without =
            finetune_batch_loss(&s, &labels, &mask, classification, RegressionLoss::L1, None)
                .unwrap();
        assert!(without.soft.is_none());
        assert_eq!(scalar(&with.total), scalar(&without.total));
    }
}

#[test]
fn teacher_regression_outputs_are_mapped_into_the_students_standardised_space() {
    let t = TeacherOutputs::from_values(false, 2, &[4, 9], vec![vec![3.0, -1.0], vec![5.0, 2.0]])
        .unwrap();
    let std = Standardizer {
        mean: vec![4.0, 0.0],
        std: vec![2.0, 0.5],
    };
    let z: Vec<Vec<f32>> = t
        .targets(&[9, 4], &std, &Device::Cpu)
        .unwrap()
        .to_vec2()
        .unwrap();
    assert_eq!(z, vec![vec![0.5, 4.0], vec![-0.5, -2.0]]);
    // Logits pass through untouched; a row without a prediction is an error.
    let c = TeacherOutputs::from_values(true, 2, &[4], vec![vec![3.0, -1.0]]).unwrap();
    let z: Vec<Vec<f32>> = c
        .targets(&[4], &std, &Device::Cpu)
        .unwrap()
        .to_vec2()
        .unwrap();
    assert_eq!(z, vec![vec![3.0, -1.0]]);
    assert!(c.targets(&[5], &std, &Device::Cpu).is_err());
    assert!(TeacherOutputs::from_values(true, 2, &[4], vec![vec![1.0]]).is_err());
}

// ---- tiny models and a teacher run directory --------------------------------------------

const DATASET: &str = "fixture";
const DATA_SHA: &str = "5ca1ab1e";
const SPLIT_SHA: &str = "0f0f0f";

struct Setup {
    dir: tempfile::TempDir,
    tok: Tokenizer,
    smiles: Vec<String>,
    task_names: Vec<String>,
}

fn setup() -> Setup {
    let smiles = support::fixture_smiles(120);
    let dir = tempfile::tempdir().unwrap();
    let tok = support::fixture_tokenizer(&smiles, dir.path());
    support::save_tiny_molformer(dir.path(), "enc-teacher", &tok, 1, 16);
    // The student is narrower than its teacher, as in compression.
    support::save_tiny_molformer(dir.path(), "enc-student", &tok, 2, 8);
    Setup {
        dir,
        tok,
        smiles,
        task_names: vec!["a".into(), "b".into()],
    }
}

impl Setup {
    fn labels(&self, task: TaskType) -> Vec<Option<f64>> {
        support::computed_labels(&self.smiles, task, Some(4))
    }

    fn student_task(&self, classification: bool) -> StudentTask<'_> {
        StudentTask {
            dataset: DATASET,
            data_sha256: Some(DATA_SHA),
            task_names: &self.task_names,
            classification,
        }
    }

    fn train(&self) -> Vec<usize> {
        (0..self.smiles.len() * 8 / 10).collect()
    }

    fn test(&self) -> Vec<usize> {
        (self.smiles.len() * 8 / 10..self.smiles.len()).collect()
    }
}

/// One fit of `enc` (valid empty, so the last epoch's weights are kept and what is compared is
/// the effect of the loss, not of early stopping).
fn fit(
    s: &Setup,
    enc: &str,
    task: TaskType,
    regime: Regime,
    epochs: usize,
    teacher: Option<(&TeacherOutputs, f64)>,
) -> (Model, FoldOutcome) {
    let model = Model::load(&s.dir.path().join(enc), &Device::Cpu).unwrap();
    let enc_all = encode_all(&s.tok, &s.smiles, EncodeOptions::default(), 80);
    let seqs: Vec<Option<Vec<u32>>> = enc_all.into_iter().map(|e| e.ok()).collect();
    assert!(seqs.iter().all(Option::is_some));
    let pad = s.tok.special_ids().pad;
    let emb = (regime == Regime::Frozen)
        .then(|| embed_dataset(&model, &seqs, pad, Pooling::Mean, 32, &mut |_| {}).unwrap());
    let labels = s.labels(task);
    let (train, test) = (s.train(), s.test());
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
        valid: &[],
        test: &test,
        embeddings: emb.as_ref(),
    };
    let cfg = FinetuneConfig {
        regime,
        epochs,
        patience: epochs,
        lr: 1e-3,
        head_lr: 5e-3,
        batch_size: 16,
        dropout: 0.0,
        loss: RegressionLoss::Mse,
        distill: teacher.map(|(_, alpha)| TaskDistillConfig {
            alpha,
            temperature: 2.0,
        }),
        ..Default::default()
    };
    let outcome = fit_fold_distilled(
        &model,
        pad,
        &data,
        teacher.map(|(t, _)| t),
        &cfg,
        7,
        &mut |_| {},
    )
    .unwrap();
    (model, outcome)
}

fn meta(s: &Setup, o: &FoldOutcome, task: TaskType, enc: &str) -> FinetuneMeta {
    FinetuneMeta {
        format: chemlm_train::finetune::artifact::META_FORMAT.into(),
        dataset: DATASET.into(),
        classification: task == TaskType::Classification,
        task_names: s.task_names.clone(),
        head: o.head.config,
        pooling: o.pooling,
        encode: EncodeOptions::default(),
        standardizer: o.standardizer.clone(),
        seed: 0,
        best_epoch: o.best_epoch,
        base_model: s.dir.path().join(enc).display().to_string(),
    }
}

/// A `chemlm finetune`-shaped run directory `name` with one fit `seed-0/best`, trained for
/// `epochs` epochs, and its manifest (`config.json`).
fn teacher_run(s: &Setup, name: &str, task: TaskType, epochs: usize) -> PathBuf {
    let (model, o) = fit(s, "enc-teacher", task, Regime::Frozen, epochs, None);
    let run = s.dir.path().join(name);
    save_model_dir(
        &run.join("seed-0").join("best"),
        &model,
        &Tokenizer::load(&s.dir.path().join("tok.json")).unwrap(),
        &o.head,
        &meta(s, &o, task, "enc-teacher"),
    )
    .unwrap();
    let manifest = serde_json::json!({
        "format": RUN_FORMAT,
        "model": "enc-teacher",
        "dataset": DATASET,
        "source": {"dataset": null, "path": "fixture.csv", "sha256": DATA_SHA},
        "splits": [{"seed": 0, "folds_sha256": SPLIT_SHA}],
        "results": [],
    });
    std::fs::write(run.join("config.json"), manifest.to_string()).unwrap();
    run
}

/// The teacher's outputs for the student's training rows, through the run directory.
fn teacher_outputs(s: &Setup, run: &Path, task: TaskType) -> (FinetunedModel, TeacherOutputs) {
    let st = s.student_task(task == TaskType::Classification);
    let tr = TeacherRun::open(run, &st).unwrap();
    let fm = tr
        .load_fit("seed-0", 0, SPLIT_SHA, &st, &Device::Cpu)
        .unwrap();
    let mut done = 0;
    let (outs, failed) =
        TeacherOutputs::compute(&fm, &s.smiles, &s.train(), 7, &mut |n| done += n).unwrap();
    assert!(failed.is_empty());
    assert_eq!((outs.len(), done), (s.train().len(), s.train().len()));
    (fm, outs)
}

/// Mean |student − teacher| over the training molecules, in output units (probabilities or
/// original units), through the saved student model.
fn distance_to_teacher(
    s: &Setup,
    teacher: &FinetunedModel,
    student: &(Model, FoldOutcome),
    task: TaskType,
    name: &str,
) -> f64 {
    let dir = s.dir.path().join(name);
    save_model_dir(
        &dir,
        &student.0,
        &Tokenizer::load(&s.dir.path().join("tok.json")).unwrap(),
        &student.1.head,
        &meta(s, &student.1, task, "enc-student"),
    )
    .unwrap();
    let fm = FinetunedModel::load(&dir, &Device::Cpu).unwrap();
    let smiles: Vec<&str> = s.train().iter().map(|&i| s.smiles[i].as_str()).collect();
    let flat = |m: &FinetunedModel| -> Vec<f64> {
        m.predict(&smiles, 16)
            .unwrap()
            .into_iter()
            .flat_map(|p| p.unwrap())
            .collect()
    };
    let (a, b) = (flat(&fm), flat(teacher));
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

#[test]
fn frozen_student_taught_with_alpha_one_ends_closer_to_its_teacher() {
    let s = setup();
    let task = TaskType::Regression;
    // A barely trained teacher: its predictions are far from the labels, so "close to the
    // teacher" and "close to the labels" are different places.
    let run = teacher_run(&s, "teacher", task, 1);
    let (fm, outs) = teacher_outputs(&s, &run, task);
    let taught = fit(
        &s,
        "enc-student",
        task,
        Regime::Frozen,
        40,
        Some((&outs, 1.0)),
    );
    let plain = fit(
        &s,
        "enc-student",
        task,
        Regime::Frozen,
        40,
        Some((&outs, 0.0)),
    );
    let d1 = distance_to_teacher(&s, &fm, &taught, task, "s1");
    let d0 = distance_to_teacher(&s, &fm, &plain, task, "s0");
    assert!(d1 < 0.5 * d0, "alpha 1: {d1}, alpha 0: {d0}");
    // The soft term is recorded and falls; alpha = 1 gives the labels no weight.
    let h = &taught.1.history;
    let (first, last) = (h[0].train_soft.unwrap(), h[h.len() - 1].train_soft.unwrap());
    assert!(last < 0.5 * first, "soft {first} -> {last}");
    assert_eq!(h[0].train_loss, h[0].train_soft.unwrap());
    // alpha = 0 trains exactly as no teacher: same records, same test predictions.
    let none = fit(&s, "enc-student", task, Regime::Frozen, 40, None);
    assert_eq!(none.1.test_preds, plain.1.test_preds);
    assert!(none.1.history[0].train_soft.is_none());
    assert_eq!(
        none.1.history.last().unwrap().train_loss,
        plain.1.history.last().unwrap().train_loss
    );
}

#[test]
fn full_regime_student_taught_with_alpha_one_ends_closer_to_its_teacher() {
    let s = setup();
    let task = TaskType::Classification;
    let run = teacher_run(&s, "teacher-c", task, 1);
    let (fm, outs) = teacher_outputs(&s, &run, task);
    let before = Model::load(&s.dir.path().join("enc-student"), &Device::Cpu).unwrap();
    let taught = fit(
        &s,
        "enc-student",
        task,
        Regime::Finetune,
        6,
        Some((&outs, 1.0)),
    );
    let plain = fit(
        &s,
        "enc-student",
        task,
        Regime::Finetune,
        6,
        Some((&outs, 0.0)),
    );
    let d1 = distance_to_teacher(&s, &fm, &taught, task, "c1");
    let d0 = distance_to_teacher(&s, &fm, &plain, task, "c0");
    assert!(d1 < 0.5 * d0, "alpha 1: {d1}, alpha 0: {d0}");
    // The encoder itself was trained (full regime), not only the head.
    let w = |m: &Model| -> Vec<f32> {
        let data = m.varmap().data().lock().unwrap();
        let mut keys: Vec<&String> = data.keys().collect();
        keys.sort();
        keys.iter()
            .flat_map(|k| {
                data[*k]
                    .as_tensor()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            })
            .collect()
    };
    assert_ne!(w(&before), w(&taught.0));
}

#[test]
fn a_teacher_that_does_not_fit_the_student_is_refused_with_the_reason() {
    let s = setup();
    let run = teacher_run(&s, "teacher-r", TaskType::Regression, 1);
    let reg = s.student_task(false);
    let err = |r: Result<TeacherRun, chemlm_train::finetune::FinetuneError>| {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    };
    // Not a run directory at all.
    let e = err(TeacherRun::open(&s.dir.path().join("enc-teacher"), &reg));
    assert!(
        e.contains("config.json") && e.contains("chemlm finetune"),
        "{e}"
    );
    // Another data set, or the same name on another file.
    let other = StudentTask {
        dataset: "bbbp",
        ..reg
    };
    let e = err(TeacherRun::open(&run, &other));
    assert!(e.contains("\"fixture\"") && e.contains("\"bbbp\""), "{e}");
    let edited = StudentTask {
        data_sha256: Some("beef"),
        ..reg
    };
    let e = err(TeacherRun::open(&run, &edited));
    assert!(e.contains("5ca1ab1e") && e.contains("beef"), "{e}");

    // A single fine-tuned model (no run manifest, no splits to check) is refused too.
    let e = err(TeacherRun::open(&run.join("seed-0").join("best"), &reg));
    assert!(e.contains("single fine-tuned model"), "{e}");

    let tr = TeacherRun::open(&run, &reg).unwrap();
    tr.check_seeds(&[0]).unwrap();
    let e = tr.check_seeds(&[0, 1, 2]).unwrap_err().to_string();
    assert!(e.contains("seed(s) [1, 2]"), "{e}");
    let dev = Device::Cpu;
    let fit_err = |fit: &str, seed: u64, sha: &str, st: &StudentTask| {
        tr.load_fit(fit, seed, sha, st, &dev)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    // Another split (its training set held the student's test molecules), another seed, a
    // missing fold.
    let e = fit_err("seed-0", 0, "123abc", &reg);
    assert!(e.contains("leak") && e.contains("123abc"), "{e}");
    let e = fit_err("seed-1", 1, SPLIT_SHA, &reg);
    assert!(e.contains("no fit for seed(s) [1]"), "{e}");
    let e = fit_err("seed-0-fold-3", 0, SPLIT_SHA, &reg);
    assert!(e.contains("no saved model for seed-0-fold-3"), "{e}");
    // Another task type or other targets.
    let e = fit_err("seed-0", 0, SPLIT_SHA, &s.student_task(true));
    assert!(
        e.contains("regression model") && e.contains("classification one"),
        "{e}"
    );
    let names = vec!["a".to_string(), "c".to_string()];
    let renamed = StudentTask {
        task_names: &names,
        ..reg
    };
    let e = fit_err("seed-0", 0, SPLIT_SHA, &renamed);
    assert!(e.contains("predicts") && e.contains("\"c\""), "{e}");
    assert!(tr.load_fit("seed-0", 0, SPLIT_SHA, &reg, &dev).is_ok());

    // Outputs of the wrong kind, or a teacher without settings, are refused by the fit.
    let (_, outs) = teacher_outputs(&s, &run, TaskType::Regression);
    let model = Model::load(&s.dir.path().join("enc-student"), &dev).unwrap();
    let seqs: Vec<Option<Vec<u32>>> = encode_all(&s.tok, &s.smiles, EncodeOptions::default(), 80)
        .into_iter()
        .map(|e| e.ok())
        .collect();
    let pad = s.tok.special_ids().pad;
    let emb = embed_dataset(&model, &seqs, pad, Pooling::Mean, 32, &mut |_| {}).unwrap();
    let labels = s.labels(TaskType::Classification);
    let (train, test) = (s.train(), s.test());
    let data = FoldData {
        task: TaskType::Classification,
        n_tasks: 2,
        primary: "roc-auc",
        seqs: &seqs,
        labels: &labels,
        train: &train,
        valid: &[],
        test: &test,
        embeddings: Some(&emb),
    };
    let mut cfg = FinetuneConfig {
        epochs: 1,
        ..Default::default()
    };
    let run_err = |cfg: &FinetuneConfig, t: Option<&TeacherOutputs>| {
        fit_fold_distilled(&model, pad, &data, t, cfg, 0, &mut |_| {})
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(run_err(&cfg, Some(&outs)).contains("no distillation settings"));
    cfg.distill = Some(TaskDistillConfig::default());
    assert!(run_err(&cfg, None).contains("no teacher outputs"));
    let e = run_err(&cfg, Some(&outs));
    assert!(
        e.contains("regression") && e.contains("classification"),
        "{e}"
    );
    cfg.distill = Some(TaskDistillConfig {
        alpha: 1.5,
        temperature: 2.0,
    });
    assert!(run_err(&cfg, Some(&outs)).contains("alpha"));
    // The plain entry point is unchanged.
    cfg.distill = None;
    assert!(fit_fold(&model, pad, &data, &cfg, 0, &mut |_| {}).is_ok());
}

#[test]
fn teacher_embeddings_are_computed_once_per_encoder() {
    let s = setup();
    let task = TaskType::Regression;
    let run = teacher_run(&s, "teacher-k", task, 1);
    let st = s.student_task(false);
    let fm = TeacherRun::open(&run, &st)
        .unwrap()
        .load_fit("seed-0", 0, SPLIT_SHA, &st, &Device::Cpu)
        .unwrap();
    let close = |a: &TeacherOutputs, b: &TeacherOutputs, rows: &[usize]| {
        for &r in rows {
            for (x, y) in a.get(r).unwrap().iter().zip(b.get(r).unwrap()) {
                assert!(
                    (x - y).abs() < 1e-5 * (1.0 + y.abs()),
                    "row {r}: {x} vs {y}"
                );
            }
        }
    };
    let first: Vec<usize> = (0..60).collect();
    let second: Vec<usize> = (40..100).collect();
    let mut cache = TeacherEmbeddingCache::default();
    let mut seen = 0;
    let (a, _) =
        TeacherOutputs::compute_cached(&fm, &mut cache, &s.smiles, &first, 16, &mut |n| seen += n)
            .unwrap();
    assert_eq!((cache.len(), seen), (60, 60));
    // Only the 40 new molecules go through the encoder; the outputs are those of a fresh run.
    let (b, _) =
        TeacherOutputs::compute_cached(&fm, &mut cache, &s.smiles, &second, 16, &mut |_| {})
            .unwrap();
    assert_eq!((cache.len(), b.len()), (100, 60));
    let (fresh, _) = TeacherOutputs::compute(&fm, &s.smiles, &second, 5, &mut |_| {}).unwrap();
    close(&b, &fresh, &second);
    close(&a, &b, &(40..60).collect::<Vec<_>>());
    // Another encoder (here the student's) starts the cache afresh.
    let (model, o) = fit(&s, "enc-student", task, Regime::Frozen, 1, None);
    let other = s.dir.path().join("other-teacher");
    save_model_dir(
        &other,
        &model,
        &Tokenizer::load(&s.dir.path().join("tok.json")).unwrap(),
        &o.head,
        &meta(&s, &o, task, "enc-student"),
    )
    .unwrap();
    let other = FinetunedModel::load(&other, &Device::Cpu).unwrap();
    let few: Vec<usize> = (0..10).collect();
    let (c, _) =
        TeacherOutputs::compute_cached(&other, &mut cache, &s.smiles, &few, 16, &mut |_| {})
            .unwrap();
    assert_eq!(cache.len(), 10);
    let (fresh, _) = TeacherOutputs::compute(&other, &s.smiles, &few, 16, &mut |_| {}).unwrap();
    close(&c, &fresh, &few);
    assert_ne!(c.get(0), a.get(0));
}
