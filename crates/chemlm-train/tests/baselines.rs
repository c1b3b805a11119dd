//! ECFP baselines: solvers against scikit-learn (golden made by scripts/gen_baseline_golden.py),
//! masking, determinism and a tiny end-to-end run on a handmade CSV.

use chemlm_data::split::SplitSource;
use chemlm_data::{LabeledCsvOptions, LabeledDataset, SplitMethod, TaskType};
use chemlm_train::baselines::{
    fit_mlp, fit_multi_logistic, fit_ridge, masked_loss, run_baselines, write_run, BaselineConfig,
    BaselineKind, LogisticConfig, MlpConfig, MlpTask,
};
use serde_json::Value;

fn golden() -> Value {
    let text = std::fs::read_to_string("tests/golden/baselines.json").expect("golden file");
    serde_json::from_str(&text).expect("golden json")
}

fn bits(g: &Value) -> Vec<Vec<u32>> {
    g["bits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u32)
                .collect()
        })
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Largest absolute difference relative to the largest reference magnitude.
fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

#[test]
fn logistic_matches_sklearn_with_masked_task() {
    let g = golden();
    let x = bits(&g);
    let rows: Vec<&[u32]> = x.iter().map(|r| r.as_slice()).collect();
    let tasks = g["logistic"].as_array().unwrap();
    let n_tasks = tasks.len();
    // Row-major labels; the "halogen" task has every 5th label missing, which sklearn's reference
    // simply left out of its fit: matching it shows the masking.
    let mut labels = vec![None; rows.len() * n_tasks];
    for (t, task) in tasks.iter().enumerate() {
        for (i, y) in task["labels"].as_array().unwrap().iter().enumerate() {
            labels[i * n_tasks + t] = y.as_f64();
        }
    }
    assert!(labels.iter().any(|l| l.is_none()));
    let m = fit_multi_logistic(&rows, &labels, n_tasks, 2048, &LogisticConfig::default()).unwrap();
    for (t, task) in tasks.iter().enumerate() {
        let model = m.tasks[t].as_ref().expect("two classes");
        assert!(model.converged, "task {t} did not converge");
        let coef = floats(&task["coef"]);
        let e = rel_err(&model.coef, &coef);
        assert!(e < 1e-4, "task {t}: coefficient error {e}");
        let b = task["intercept"].as_f64().unwrap();
        assert!(
            (model.intercept - b).abs() < 1e-4 * (1.0 + b.abs()),
            "intercept"
        );
        let proba = floats(&task["proba"]);
        let ours: Vec<f64> = rows.iter().map(|r| model.predict_proba(r)).collect();
        let e = rel_err(&ours, &proba);
        assert!(e < 1e-5, "task {t}: probability error {e}");
    }
}

#[test]
fn ridge_matches_sklearn() {
    let g = golden();
    let x = bits(&g);
    let rows: Vec<&[u32]> = x.iter().map(|r| r.as_slice()).collect();
    let r = &g["ridge"];
    let y = floats(&r["y"]);
    let m = fit_ridge(&rows, &y, 2048, r["alpha"].as_f64().unwrap()).unwrap();
    let e = rel_err(&m.coef, &floats(&r["coef"]));
    assert!(e < 1e-6, "coefficient error {e}");
    let b = r["intercept"].as_f64().unwrap();
    assert!((m.intercept - b).abs() < 1e-6 * (1.0 + b.abs()));
    let pred: Vec<f64> = rows.iter().map(|x| m.predict(x)).collect();
    let e = rel_err(&pred, &floats(&r["pred"]));
    assert!(e < 1e-6, "prediction error {e}");
}

#[test]
fn masked_loss_ignores_missing_labels() {
    for task in [MlpTask::Classification, MlpTask::Regression] {
        let z = [0.3, -1.2, 2.0, 0.7];
        let full = [Some(1.0), None, Some(0.0), None];
        let mut g = [9.0; 4];
        let (loss, n) = masked_loss(task, &z, &full, &mut g);
        assert_eq!(n, 2);
        assert_eq!(g[1], 0.0);
        assert_eq!(g[3], 0.0);
        // Same loss as the two labelled entries alone, whatever the missing outputs are.
        let mut g2 = [0.0; 2];
        let (loss2, _) = masked_loss(task, &[0.3, 2.0], &[Some(1.0), Some(0.0)], &mut g2);
        assert!((loss - loss2).abs() < 1e-15);
        assert_eq!([g[0], g[2]], g2);
        let (loss3, _) = masked_loss(task, &[0.3, 55.0, 2.0, -40.0], &full, &mut g);
        assert!((loss - loss3).abs() < 1e-15);
    }
    // BCE with logits value check: -ln σ(0.3) - ln(1-σ(2)).
    let mut g = [0.0; 2];
    let (l, _) = masked_loss(
        MlpTask::Classification,
        &[0.3, 2.0],
        &[Some(1.0), Some(0.0)],
        &mut g,
    );
    let s = |z: f64| 1.0 / (1.0 + (-z).exp());
    assert!((l - (-(s(0.3)).ln() - (1.0 - s(2.0)).ln())).abs() < 1e-12);
}

fn small_mlp() -> MlpConfig {
    MlpConfig {
        hidden: 32,
        max_epochs: 8,
        patience: 3,
        batch_size: 16,
        ..Default::default()
    }
}

#[test]
fn mlp_is_deterministic_and_learns() {
    let g = golden();
    let x = bits(&g);
    let rows: Vec<&[u32]> = x.iter().map(|r| r.as_slice()).collect();
    let labels: Vec<Option<f64>> = g["logistic"][0]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64())
        .collect();
    let ys: Vec<bool> = labels.iter().map(|y| y == &Some(1.0)).collect();
    let score = |net: &chemlm_train::baselines::Mlp| {
        let p: Vec<f64> = rows.iter().map(|r| net.forward(r)[0]).collect();
        chemlm_train::eval::roc_auc(&ys, &p).unwrap()
    };
    let cfg = small_mlp();
    let fit = |seed| {
        fit_mlp(
            &rows,
            &labels,
            1,
            2048,
            MlpTask::Classification,
            &cfg,
            seed,
            score,
        )
        .unwrap()
    };
    let a = fit(7);
    let b = fit(7);
    let c = fit(8);
    assert_eq!(a.model.w1, b.model.w1);
    assert_eq!(a.model.w2, b.model.w2);
    assert_eq!(a.best_epoch, b.best_epoch);
    assert_ne!(a.model.w1, c.model.w1);
    // Training-set ROC-AUC of a task that is a substructure test: must be learnt.
    assert!(a.best_score > 0.95, "train ROC-AUC {}", a.best_score);
}

/// 41 handmade molecules (one invalid): label = has a pyridine-type nitrogen.
fn handmade_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let mut s = String::from("smiles,active,logp_like\n");
    let cores = ["c1ccccc1", "c1ccncc1", "C1CCCCC1", "c1ccoc1", "c1cncnc1"];
    let mut k = 0;
    for core in cores {
        for n in 0..8 {
            let smi = format!("{core}{}", "C".repeat(n + 1));
            let active = u8::from(core.contains('n'));
            s.push_str(&format!(
                "{smi},{active},{}\n",
                n as f64 * 0.5 + k as f64 * 0.1
            ));
            k += 1;
        }
    }
    s.push_str("C1CC(,1,0.0\n");
    let p = dir.join("tiny.csv");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn end_to_end_on_handmade_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = handmade_csv(dir.path());
    let ds = LabeledDataset::from_csv(
        &path,
        &LabeledCsvOptions {
            smiles_column: Some("smiles".into()),
            target_columns: Some(vec!["active".into()]),
            task_type: Some(TaskType::Classification),
            name: Some("tiny".into()),
        },
    )
    .unwrap();
    let cfg = BaselineConfig {
        models: BaselineKind::parse_list("all", ds.task_type).unwrap(),
        seeds: vec![0, 1],
        split: SplitMethod::Random,
        mlp: small_mlp(),
        ..Default::default()
    };
    let source = SplitSource {
        dataset: None,
        path: path.display().to_string(),
        sha256: "test".into(),
    };
    let mut lines = Vec::new();
    let report = run_baselines(&ds, &cfg, Some(source.clone()), &mut |l| {
        lines.push(l.to_string())
    })
    .unwrap();
    assert_eq!(report.skipped.len(), 1, "the invalid line is reported");
    assert_eq!(report.skipped[0].0, 42, "with its file line");
    assert_eq!(report.results.len(), 4);
    assert_eq!(lines.len(), 4);
    for r in &report.results {
        assert_eq!(r.metrics[0].0, "roc-auc");
        let v = r.metrics[0].1;
        assert!(v.is_nan() || (0.0..=1.0).contains(&v));
    }
    // The linear model separates a substructure label perfectly on test.
    let lr: Vec<f64> = report
        .results
        .iter()
        .filter(|r| r.model == BaselineKind::Logreg)
        .map(|r| r.metrics[0].1)
        .collect();
    // A tiny random test set can hold one class only (ROC-AUC undefined = NaN).
    assert!(lr.iter().any(|v| !v.is_nan()), "{lr:?}");
    assert!(lr.iter().all(|v| v.is_nan() || *v > 0.99), "{lr:?}");
    let out = dir.path().join("run");
    write_run(&out, &report, &cfg, &source).unwrap();
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4 * 2);
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("ECFP4+LogReg") && md.contains("ECFP4+MLP"));
    assert!(md.contains("Skipped molecules (invalid SMILES / no scaffold): 1"));
    let conf: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(conf["splits"].as_array().unwrap().len(), 2);
    assert!(out.join("splits/seed-1.json").is_file());

    // Regression on the same file: ridge + MLP, RMSE first.
    let ds = LabeledDataset::from_csv(
        &path,
        &LabeledCsvOptions {
            smiles_column: Some("smiles".into()),
            target_columns: Some(vec!["logp_like".into()]),
            task_type: Some(TaskType::Regression),
            name: Some("tiny-reg".into()),
        },
    )
    .unwrap();
    let cfg = BaselineConfig {
        models: BaselineKind::parse_list("all", ds.task_type).unwrap(),
        seeds: vec![0],
        split: SplitMethod::Random,
        mlp: small_mlp(),
        ..Default::default()
    };
    let report = run_baselines(&ds, &cfg, None, &mut |_| {}).unwrap();
    assert_eq!(report.results[0].model, BaselineKind::Ridge);
    for r in &report.results {
        assert_eq!(r.metrics[0].0, "rmse");
        assert!(r.metrics[0].1.is_finite() && r.metrics[0].1 >= 0.0);
    }
    assert!(BaselineKind::parse_list("logreg", TaskType::Regression).is_ok());
    assert!(run_baselines(
        &ds,
        &BaselineConfig {
            models: vec![BaselineKind::Logreg],
            ..cfg
        },
        None,
        &mut |_| {}
    )
    .is_err());
}

/// Issue 17 §1.11: a split that leaves no training (or test) molecules says so, with the counts
/// and the first excluded lines, instead of failing inside a model fit.
#[test]
fn an_empty_training_split_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    // Acyclic molecules share one (empty) scaffold: the balanced scaffold split sends the whole
    // set to test, as chemprop does.
    let mut s = String::from("smiles,y\n");
    for k in 1..=20 {
        s.push_str(&format!("{}O,{k}\n", "C".repeat(k)));
    }
    s.push_str("C1CC,0\n");
    let path = dir.path().join("chains.csv");
    std::fs::write(&path, s).unwrap();
    let ds = LabeledDataset::from_csv(
        &path,
        &LabeledCsvOptions {
            smiles_column: Some("smiles".into()),
            target_columns: Some(vec!["y".into()]),
            task_type: Some(TaskType::Regression),
            name: Some("chains".into()),
        },
    )
    .unwrap();
    let cfg = BaselineConfig {
        models: BaselineKind::parse_list("ridge", ds.task_type).unwrap(),
        seeds: vec![0],
        split: SplitMethod::Scaffold { balanced: true },
        ..Default::default()
    };
    let err = run_baselines(&ds, &cfg, None, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("split (seed 0) leaves 0 training and 20 test molecules of 21")
            && err.contains("1 molecule(s) excluded, e.g. line 22: "),
        "{err}"
    );
}
