//! The baseline protocol: featurise once, then for each seed make the split (the same
//! `chemlm_data::make_split` the fine-tuning runs use), fit each model on train, pick the MLP's
//! epoch on valid, score test with the data set's registry metric, and summarise as mean ± std
//! over seeds.

use std::time::Instant;

use chemlm_data::split::SplitSource;
use chemlm_data::{make_split, LabeledDataset, Metric, SplitFile, SplitMethod, SplitRequest};
use chemlm_data::{SplitSizes, TaskType};
use rayon::prelude::*;

use super::features::ecfp_bits;
use super::logistic::{fit_multi_logistic, LogisticConfig};
use super::mlp::{fit_mlp, Mlp, MlpConfig, MlpTask};
use super::ridge::fit_multi_ridge;
use super::{BaselineError, Result};
use crate::eval;

/// Which baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineKind {
    /// ECFP4 + L2 logistic regression (classification).
    Logreg,
    /// ECFP4 + ridge regression (regression).
    Ridge,
    /// ECFP4 + one-hidden-layer MLP (both).
    Mlp,
}

impl BaselineKind {
    /// Name as printed in tables.
    pub fn name(self) -> &'static str {
        match self {
            BaselineKind::Logreg => "ECFP4+LogReg",
            BaselineKind::Ridge => "ECFP4+Ridge",
            BaselineKind::Mlp => "ECFP4+MLP",
        }
    }

    /// Parses `logreg`, `ridge`, `mlp`, `linear` (logreg or ridge by task type) or `all`
    /// (linear + mlp), comma-separated.
    pub fn parse_list(s: &str, task: TaskType) -> Result<Vec<Self>> {
        let linear = match task {
            TaskType::Classification => BaselineKind::Logreg,
            _ => BaselineKind::Ridge,
        };
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let add: Vec<Self> = match part.to_ascii_lowercase().as_str() {
                "logreg" | "logistic" => vec![BaselineKind::Logreg],
                "ridge" => vec![BaselineKind::Ridge],
                "mlp" => vec![BaselineKind::Mlp],
                "linear" => vec![linear],
                "all" => vec![linear, BaselineKind::Mlp],
                other => {
                    return Err(BaselineError::Invalid(format!(
                        "unknown baseline model {other:?} (logreg, ridge, mlp, linear, all)"
                    )))
                }
            };
            for k in add {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        if out.is_empty() {
            return Err(BaselineError::Invalid("no baseline model given".into()));
        }
        Ok(out)
    }
}

/// Everything a baseline run depends on (written to the run directory).
#[derive(Clone, Debug, serde::Serialize)]
pub struct BaselineConfig {
    pub models: Vec<BaselineKind>,
    pub seeds: Vec<u64>,
    pub split: SplitMethod,
    pub sizes: SplitSizes,
    /// Morgan radius (2 = ECFP4).
    pub radius: u32,
    pub n_bits: usize,
    pub logistic: LogisticConfig,
    pub ridge_alpha: f64,
    pub mlp: MlpConfig,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            models: vec![BaselineKind::Logreg, BaselineKind::Mlp],
            seeds: vec![0, 1, 2],
            split: SplitMethod::Scaffold { balanced: true },
            sizes: SplitSizes {
                train: 0.8,
                valid: 0.1,
                test: 0.1,
            },
            radius: 2,
            n_bits: 2048,
            logistic: LogisticConfig::default(),
            ridge_alpha: 1.0,
            mlp: MlpConfig::default(),
        }
    }
}

/// Test scores of one model on one seed's split.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SeedResult {
    pub model: BaselineKind,
    pub seed: u64,
    /// `(metric name, value)`, the data set's primary metric first.
    pub metrics: Vec<(String, f64)>,
    pub split_sha256: String,
    pub seconds: f64,
    /// Extra facts (MLP best epoch, solver iterations).
    pub note: String,
}

/// Mean ± std (population, as chemprop and MoLFormer report) of one metric over seeds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MetricSummary {
    pub model: BaselineKind,
    pub metric: String,
    pub mean: f64,
    pub std: f64,
    pub seeds: usize,
}

/// The outcome of [`run_baselines`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct BaselineReport {
    pub dataset: String,
    pub task_type: TaskType,
    pub primary_metric: String,
    pub rows: usize,
    pub tasks: usize,
    /// `(file line, reason)` of every molecule skipped (unparsable, no fingerprint or scaffold).
    pub skipped: Vec<(u64, String)>,
    #[serde(skip)]
    pub splits: Vec<SplitFile>,
    pub results: Vec<SeedResult>,
}

fn metric_key(m: Metric) -> &'static str {
    match m {
        Metric::RocAuc => "roc-auc",
        Metric::PrcAuc => "prc-auc",
        Metric::Rmse => "rmse",
        Metric::Mae => "mae",
        Metric::R2 => "r2",
    }
}

fn higher_is_better(name: &str) -> bool {
    matches!(name, "roc-auc" | "prc-auc" | "r2")
}

/// Test metrics of row-major predictions `preds` (`labels.len()` entries) against `labels`:
/// classification → ROC-AUC and PRC-AUC averaged over tasks whose labelled test rows hold both
/// classes; regression → RMSE, MAE, R² averaged over tasks. Missing labels are ignored. A metric
/// with no eligible task is NaN.
pub fn evaluate(
    task: TaskType,
    preds: &[f64],
    labels: &[Option<f64>],
    n_tasks: usize,
) -> Vec<(String, f64)> {
    let mean = |v: Vec<f64>| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let per_task = |t: usize| -> (Vec<f64>, Vec<f64>) {
        labels
            .iter()
            .zip(preds)
            .skip(t)
            .step_by(n_tasks)
            .filter_map(|(y, p)| y.map(|y| (y, *p)))
            .unzip()
    };
    match task {
        TaskType::Classification => {
            let (mut roc, mut prc) = (Vec::new(), Vec::new());
            for t in 0..n_tasks {
                let (y, p) = per_task(t);
                let yb: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
                if let (Ok(r), Ok(q)) = (eval::roc_auc(&yb, &p), eval::prc_auc(&yb, &p)) {
                    roc.push(r);
                    prc.push(q);
                }
            }
            vec![("roc-auc".into(), mean(roc)), ("prc-auc".into(), mean(prc))]
        }
        _ => {
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            for t in 0..n_tasks {
                let (y, p) = per_task(t);
                if let (Ok(x), Ok(z), Ok(w)) =
                    (eval::rmse(&y, &p), eval::mae(&y, &p), eval::r2(&y, &p))
                {
                    a.push(x);
                    b.push(z);
                    c.push(w);
                }
            }
            vec![
                ("rmse".into(), mean(a)),
                ("mae".into(), mean(b)),
                ("r2".into(), mean(c)),
            ]
        }
    }
}

fn gather(ds: &LabeledDataset, rows: &[usize]) -> Vec<Option<f64>> {
    rows.iter()
        .flat_map(|&r| ds.row_labels(r).iter().copied())
        .collect()
}

/// Runs every configured model on every seed. `log` receives one line per fit.
pub fn run_baselines(
    ds: &LabeledDataset,
    cfg: &BaselineConfig,
    source: Option<SplitSource>,
    log: &mut dyn FnMut(&str),
) -> Result<BaselineReport> {
    let n_tasks = ds.n_tasks();
    if n_tasks == 0 || ds.is_empty() {
        return Err(BaselineError::Invalid(format!(
            "{}: no labelled molecules or no tasks",
            ds.name
        )));
    }
    let task = ds.task_type;
    if task == TaskType::Unlabeled {
        return Err(BaselineError::Invalid(format!(
            "{}: unlabeled data set",
            ds.name
        )));
    }
    if task == TaskType::Classification {
        if let Some((i, y)) = ds
            .labels
            .iter()
            .enumerate()
            .find_map(|(i, l)| l.filter(|&y| y != 0.0 && y != 1.0).map(|y| (i, y)))
        {
            return Err(BaselineError::Invalid(format!(
                "{} line {}: classification label {y} is not 0 or 1",
                ds.path.display(),
                ds.lines[i / n_tasks]
            )));
        }
    }
    for m in &cfg.models {
        let ok = match m {
            BaselineKind::Logreg => task == TaskType::Classification,
            BaselineKind::Ridge => task == TaskType::Regression,
            BaselineKind::Mlp => true,
        };
        if !ok {
            return Err(BaselineError::Invalid(format!(
                "{} does not apply to a {task:?} data set",
                m.name()
            )));
        }
    }
    let primary = ds
        .metric
        .map(metric_key)
        .unwrap_or(if task == TaskType::Classification {
            "roc-auc"
        } else {
            "rmse"
        })
        .to_string();

    let feats = ecfp_bits(&ds.smiles, cfg.radius, cfg.n_bits);
    let mut skipped: Vec<(usize, String)> = feats.failed.clone();
    let mut report = BaselineReport {
        dataset: ds.name.clone(),
        task_type: task,
        primary_metric: primary.clone(),
        rows: ds.len(),
        tasks: n_tasks,
        skipped: Vec::new(),
        splits: Vec::new(),
        results: Vec::new(),
    };
    for &seed in &cfg.seeds {
        let req = SplitRequest {
            method: cfg.split.clone(),
            sizes: cfg.sizes,
            seed,
        };
        let split = make_split(&ds.smiles, None, &req, source.clone())?;
        for e in &split.excluded {
            if !skipped.iter().any(|(i, _)| *i == e.index) {
                skipped.push((e.index, e.reason.clone()));
            }
        }
        let fold = split
            .folds
            .first()
            .ok_or_else(|| BaselineError::Invalid("split produced no fold".into()))?;
        let usable = |rows: &[usize]| -> Vec<usize> {
            rows.iter()
                .copied()
                .filter(|&r| feats.bits[r].is_some())
                .collect()
        };
        let (train, valid, test) = (usable(&fold.train), usable(&fold.valid), usable(&fold.test));
        if train.is_empty() || test.is_empty() {
            let reasons = ds.describe_rows(skipped.iter().map(|(i, r)| (*i, r.as_str())), 3);
            return Err(BaselineError::Invalid(format!(
                "{}: the {} split (seed {seed}) leaves {} training and {} test molecules of {}; \
                 {} molecule(s) excluded{}{}",
                ds.path.display(),
                cfg.split.name(),
                train.len(),
                test.len(),
                ds.len(),
                skipped.len(),
                if reasons.is_empty() { "" } else { ", e.g. " },
                reasons
            )));
        }
        let bits = |rows: &[usize]| -> Vec<&[u32]> {
            rows.iter()
                .map(|&r| feats.bits[r].as_deref().unwrap_or(&[]))
                .collect()
        };
        let (xtr, xva, xte) = (bits(&train), bits(&valid), bits(&test));
        let (ytr, yva, yte) = (gather(ds, &train), gather(ds, &valid), gather(ds, &test));
        let order = |mut m: Vec<(String, f64)>| {
            if let Some(p) = m.iter().position(|(k, _)| *k == primary) {
                let e = m.remove(p);
                m.insert(0, e);
            }
            m
        };
        for &model in &cfg.models {
            let start = Instant::now();
            let (preds, note): (Vec<f64>, String) = match model {
                BaselineKind::Logreg => {
                    let m = fit_multi_logistic(&xtr, &ytr, n_tasks, cfg.n_bits, &cfg.logistic)?;
                    let iters: Vec<String> = m
                        .tasks
                        .iter()
                        .map(|t| match t {
                            Ok(t) if t.converged => t.iterations.to_string(),
                            Ok(t) => format!("{}(not converged)", t.iterations),
                            Err(_) => "one-class".into(),
                        })
                        .collect();
                    let p = xte.par_iter().flat_map_iter(|b| m.predict(b)).collect();
                    (p, format!("lbfgs iterations per task: {}", iters.join(" ")))
                }
                BaselineKind::Ridge => {
                    let m = fit_multi_ridge(&xtr, &ytr, n_tasks, cfg.n_bits, cfg.ridge_alpha)?;
                    let p = xte.par_iter().flat_map_iter(|b| m.predict(b)).collect();
                    (p, String::new())
                }
                BaselineKind::Mlp => run_mlp(
                    task, &xtr, &ytr, &xva, &yva, &xte, n_tasks, cfg, seed, &primary,
                )?,
            };
            let metrics = order(evaluate(task, &preds, &yte, n_tasks));
            let secs = start.elapsed().as_secs_f64();
            log(&format!(
                "{} seed {seed} {}: {} = {:.4} ({} train / {} valid / {} test, {secs:.1}s) {note}",
                ds.name,
                model.name(),
                metrics[0].0,
                metrics[0].1,
                train.len(),
                valid.len(),
                test.len()
            ));
            report.results.push(SeedResult {
                model,
                seed,
                metrics,
                split_sha256: split.folds_sha256.clone(),
                seconds: secs,
                note,
            });
        }
        report.splits.push(split);
    }
    skipped.sort();
    report.skipped = skipped
        .into_iter()
        .map(|(i, r)| (ds.line_of(i), r))
        .collect();
    Ok(report)
}

/// Fits the MLP (regression targets standardised on train), early-stopped on the valid score,
/// and returns test predictions in the original units.
#[allow(clippy::too_many_arguments)]
fn run_mlp(
    task: TaskType,
    xtr: &[&[u32]],
    ytr: &[Option<f64>],
    xva: &[&[u32]],
    yva: &[Option<f64>],
    xte: &[&[u32]],
    n_tasks: usize,
    cfg: &BaselineConfig,
    seed: u64,
    primary: &str,
) -> Result<(Vec<f64>, String)> {
    let classification = task == TaskType::Classification;
    // Per-task mean and std of the training labels (identity for classification).
    let mut stats = vec![(0.0, 1.0); n_tasks];
    if !classification {
        for (t, s) in stats.iter_mut().enumerate() {
            let v: Vec<f64> = ytr
                .iter()
                .skip(t)
                .step_by(n_tasks)
                .flatten()
                .copied()
                .collect();
            if !v.is_empty() {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let sd = (v.iter().map(|y| (y - m) * (y - m)).sum::<f64>() / v.len() as f64).sqrt();
                *s = (m, if sd > 0.0 { sd } else { 1.0 });
            }
        }
    }
    let ystd: Vec<Option<f64>> = ytr
        .iter()
        .enumerate()
        .map(|(i, y)| y.map(|y| (y - stats[i % n_tasks].0) / stats[i % n_tasks].1))
        .collect();
    let predict = |net: &Mlp, x: &[&[u32]]| -> Vec<f64> {
        x.par_iter()
            .flat_map_iter(|b| {
                net.forward(b)
                    .into_iter()
                    .enumerate()
                    .map(|(t, z)| {
                        if classification {
                            1.0 / (1.0 + (-z).exp())
                        } else {
                            z * stats[t].1 + stats[t].0
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let kind = if classification {
        MlpTask::Classification
    } else {
        MlpTask::Regression
    };
    let fit = fit_mlp(
        xtr,
        &ystd,
        n_tasks,
        cfg.n_bits,
        kind,
        &cfg.mlp,
        seed,
        |net| {
            if xva.is_empty() {
                return f64::NAN;
            }
            let m = evaluate(task, &predict(net, xva), yva, n_tasks);
            let v = m
                .iter()
                .find(|(k, _)| k == primary)
                .map(|(_, v)| *v)
                .unwrap_or(m[0].1);
            if higher_is_better(primary) {
                v
            } else {
                -v
            }
        },
    )?;
    let note = format!(
        "best epoch {} of {} (valid {primary} {:.4})",
        fit.best_epoch,
        fit.epochs_run,
        fit.best_score.abs()
    );
    Ok((predict(&fit.model, xte), note))
}

fn fmt_pm(mean: f64, std: f64) -> String {
    if mean.is_nan() {
        "n/a".into()
    } else {
        format!("{mean:.3} ± {std:.3}")
    }
}

impl BaselineReport {
    /// Mean ± std over seeds of every metric of every model (NaN seeds left out).
    pub fn summary(&self) -> Vec<MetricSummary> {
        let mut out = Vec::new();
        let mut models: Vec<BaselineKind> = Vec::new();
        for r in &self.results {
            if !models.contains(&r.model) {
                models.push(r.model);
            }
        }
        for m in models {
            let rs: Vec<&SeedResult> = self.results.iter().filter(|r| r.model == m).collect();
            let names: Vec<String> = rs
                .first()
                .map(|r| r.metrics.iter().map(|(k, _)| k.clone()).collect())
                .unwrap_or_default();
            for name in names {
                let v: Vec<f64> = rs
                    .iter()
                    .filter_map(|r| r.metrics.iter().find(|(k, _)| *k == name).map(|x| x.1))
                    .filter(|x| !x.is_nan())
                    .collect();
                let (mean, std) = if v.is_empty() {
                    (f64::NAN, f64::NAN)
                } else {
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    let var =
                        v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64;
                    (mean, var.sqrt())
                };
                out.push(MetricSummary {
                    model: m,
                    metric: name,
                    mean,
                    std,
                    seeds: v.len(),
                });
            }
        }
        out
    }

    /// One line per (model, seed, metric): `dataset,model,seed,split_sha256,metric,value`.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("dataset,model,seed,split_sha256,metric,value\n");
        for r in &self.results {
            for (k, v) in &r.metrics {
                s.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    self.dataset,
                    r.model.name(),
                    r.seed,
                    r.split_sha256,
                    k,
                    v
                ));
            }
        }
        s
    }

    /// Markdown table of mean ± std per model, primary metric first, plus skipped molecules.
    pub fn to_markdown(&self) -> String {
        let summary = self.summary();
        let mut metrics: Vec<String> = Vec::new();
        for m in &summary {
            if !metrics.contains(&m.metric) {
                metrics.push(m.metric.clone());
            }
        }
        let seeds: Vec<String> = self.splits.iter().map(|s| s.seed.to_string()).collect();
        let mut s = format!(
            "### {} ({} molecules, {} task(s), {} split, seeds {})\n\n| model |",
            self.dataset,
            self.rows,
            self.tasks,
            self.splits.first().map(|s| s.method.name()).unwrap_or("?"),
            seeds.join(",")
        );
        for m in &metrics {
            let arrow = if higher_is_better(m) { "↑" } else { "↓" };
            s.push_str(&format!(" {m} {arrow} |"));
        }
        s.push_str("\n|---|");
        s.push_str(&"---|".repeat(metrics.len()));
        s.push('\n');
        let mut models: Vec<BaselineKind> = Vec::new();
        for m in &summary {
            if !models.contains(&m.model) {
                models.push(m.model);
            }
        }
        for model in models {
            s.push_str(&format!("| {} |", model.name()));
            for m in &metrics {
                let cell = summary
                    .iter()
                    .find(|x| x.model == model && x.metric == *m)
                    .map(|x| fmt_pm(x.mean, x.std))
                    .unwrap_or_else(|| "n/a".into());
                s.push_str(&format!(" {cell} |"));
            }
            s.push('\n');
        }
        s.push_str(&format!(
            "\nSkipped molecules (invalid SMILES / no scaffold): {}\n",
            self.skipped.len()
        ));
        s
    }
}
