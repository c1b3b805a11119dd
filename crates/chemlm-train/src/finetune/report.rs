//! Results over seeds / folds: one [`RunResult`] per fit, summarised as mean ± std (population,
//! as chemprop and MoLFormer report) per metric, written as CSV and markdown.

/// Test scores of one fit (one seed, one fold).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunResult {
    pub dataset: String,
    /// Model label in tables (`chemlm frozen`, `ECFP4+MLP`, …).
    pub model: String,
    pub seed: u64,
    pub fold: usize,
    pub split_sha256: String,
    pub best_epoch: usize,
    /// `(metric, value)`, primary metric first.
    pub metrics: Vec<(String, f64)>,
}

/// Mean ± std of one metric of one model on one data set.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub dataset: String,
    pub model: String,
    pub metric: String,
    pub mean: f64,
    pub std: f64,
    /// Fits with a finite value.
    pub n: usize,
}

/// Mean ± std per (dataset, model, metric), NaN values left out, in first-seen order.
pub fn summarize(results: &[RunResult]) -> Vec<Summary> {
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for r in results {
        for (m, _) in &r.metrics {
            let k = (r.dataset.clone(), r.model.clone(), m.clone());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys.into_iter()
        .map(|(dataset, model, metric)| {
            let v: Vec<f64> = results
                .iter()
                .filter(|r| r.dataset == dataset && r.model == model)
                .filter_map(|r| r.metrics.iter().find(|(k, _)| *k == metric).map(|x| x.1))
                .filter(|x| x.is_finite())
                .collect();
            let (mean, std) = if v.is_empty() {
                (f64::NAN, f64::NAN)
            } else {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
                (m, var.sqrt())
            };
            Summary {
                dataset,
                model,
                metric,
                mean,
                std,
                n: v.len(),
            }
        })
        .collect()
}

/// `dataset,model,seed,fold,split_sha256,best_epoch,metric,value` lines.
pub fn results_csv(results: &[RunResult]) -> String {
    let mut s = String::from("dataset,model,seed,fold,split_sha256,best_epoch,metric,value\n");
    for r in results {
        for (k, v) in &r.metrics {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                r.dataset, r.model, r.seed, r.fold, r.split_sha256, r.best_epoch, k, v
            ));
        }
    }
    s
}

/// `mean ± std` with 3 decimals, `n/a` for NaN.
pub fn fmt_pm(mean: f64, std: f64) -> String {
    if mean.is_finite() {
        format!("{mean:.3} ± {std:.3}")
    } else {
        "n/a".into()
    }
}

/// A markdown table: one row per (dataset, model), one column per metric.
pub fn summary_markdown(summary: &[Summary]) -> String {
    let mut metrics: Vec<&str> = Vec::new();
    for s in summary {
        if !metrics.contains(&s.metric.as_str()) {
            metrics.push(&s.metric);
        }
    }
    let mut out = String::from("| dataset | model |");
    for m in &metrics {
        let arrow = if matches!(*m, "roc-auc" | "prc-auc" | "r2") {
            "↑"
        } else {
            "↓"
        };
        out.push_str(&format!(" {m} {arrow} |"));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(metrics.len()));
    out.push('\n');
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for s in summary {
        if !rows.contains(&(s.dataset.as_str(), s.model.as_str())) {
            rows.push((&s.dataset, &s.model));
        }
    }
    for (d, m) in rows {
        out.push_str(&format!("| {d} | {m} |"));
        for metric in &metrics {
            let cell = summary
                .iter()
                .find(|s| s.dataset == d && s.model == m && s.metric == *metric)
                .map(|s| fmt_pm(s.mean, s.std))
                .unwrap_or_else(|| "–".into());
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}
