//! `chemlm bench moleculenet`: the issue-4 benchmark. For each data set, fine-tune the encoder
//! (frozen or full regime) on chemprop-style balanced scaffold splits over the given seeds, run
//! the in-tree ECFP4 baselines on the very same splits (same split hash), and print our numbers
//! beside MoLFormer-XL's published ones. `--protocol delicate` runs DeLiCaTe's cross-validation
//! (k-fold, held-out fold halved into valid/test, R²) on their ESOL, FreeSolv, Lipophilicity and
//! EGFR files instead.
//!
//! Writes `OUT/<dataset>/` (a full `chemlm finetune` run directory, minus model weights unless
//! `--save-models`), `OUT/<dataset>-baselines/` and `OUT/results.{md,csv}`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chemlm_data::atomic::write_file;
use chemlm_data::{LabeledDataset, SplitMethod, SplitSizes};
use chemlm_train::baselines::{
    open_dataset, run_baselines, write_run, BaselineConfig, BaselineKind,
};
use chemlm_train::finetune::report::fmt_pm;
use chemlm_train::finetune::{results_csv, summarize, RunResult};
use clap::Args;

use super::finetune::FinetuneOpts;
use chemlm_train::finetune::{primary_key, run_dataset, write_run_files, RunOutputs, SplitPlan};

/// MoLFormer-XL fine-tuned test scores (Ross et al. 2022, Nat. Mach. Intell., Tables 1 and 2;
/// ROC-AUC as fractions, RMSE in the data sets' units), scaffold splits.
pub const MOLFORMER_XL: &[(&str, f64)] = &[
    ("bbbp", 0.937),
    ("clintox", 0.948),
    ("bace", 0.882),
    ("sider", 0.690),
    ("tox21", 0.847),
    ("hiv", 0.822),
    ("esol", 0.279),
    ("freesolv", 0.231),
    ("lipophilicity", 0.529),
];

const MOLECULENET: &str = "bbbp,bace,clintox,tox21,sider,hiv,esol,freesolv,lipo,qm9";
const DELICATE: &str = "delicate-esol,delicate-freesolv,delicate-lipop,delicate-egfr";

#[derive(Args, Debug, Clone)]
pub struct BenchMoleculenetArgs {
    /// Pretrained model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// moleculenet (scaffold splits, seeds) or delicate (DeLiCaTe's k-fold CV with R²).
    #[arg(long, default_value = "moleculenet")]
    pub protocol: String,
    /// Comma-separated data sets (default: the protocol's list).
    #[arg(long, value_delimiter = ',')]
    pub datasets: Option<Vec<String>>,
    /// Molecules of QM9 to use (a seeded random subset; QM9 has 134k).
    #[arg(long, default_value_t = 5000)]
    pub qm9_rows: usize,
    /// Skip the ECFP4 baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// Also save every fit's best model.
    #[arg(long)]
    pub save_models: bool,
    #[command(flatten)]
    pub opts: FinetuneOpts,
    /// Output directory.
    #[arg(long, default_value = "runs/bench-moleculenet")]
    pub out: PathBuf,
}

/// A seeded random subset of `n` rows (all rows when `n >= len`).
fn subset(ds: LabeledDataset, n: usize, seed: u64) -> LabeledDataset {
    if n >= ds.len() {
        return ds;
    }
    let t = ds.n_tasks();
    let mut rows: Vec<usize> = (0..ds.len()).collect();
    let mut p = chemlm_data::split::pyrandom::PyRandom::new(seed);
    p.shuffle(&mut rows);
    rows.truncate(n);
    rows.sort_unstable();
    LabeledDataset {
        name: format!("{}-{}", ds.name, n),
        path: ds.path.clone(),
        smiles: rows.iter().map(|&r| ds.smiles[r].clone()).collect(),
        lines: rows.iter().map(|&r| ds.lines[r]).collect(),
        task_names: ds.task_names.clone(),
        task_type: ds.task_type,
        metric: ds.metric,
        labels: rows
            .iter()
            .flat_map(|&r| ds.labels[r * t..(r + 1) * t].iter().copied())
            .collect(),
    }
}

pub fn run(a: &BenchMoleculenetArgs, quiet: bool) -> Result<()> {
    let delicate = match a.protocol.as_str() {
        "moleculenet" => false,
        "delicate" => true,
        other => bail!("--protocol must be moleculenet or delicate, not {other:?}"),
    };
    let mut opts = a.opts.clone();
    if delicate {
        // DeLiCaTe's run_finetuning.py: KFold(5, shuffle, random_state=0), first 3 folds, one run.
        opts.split = "delicate".into();
        opts.folds = Some(opts.folds.unwrap_or(3));
        opts.seeds.truncate(1);
    }
    let cfg = opts.config()?;
    let split_opts = opts.split_options();
    let dev = crate::runtime::device()?;
    let names: Vec<String> = match &a.datasets {
        Some(d) => d.clone(),
        None => (if delicate { DELICATE } else { MOLECULENET })
            .split(',')
            .map(String::from)
            .collect(),
    };
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let label = format!("chemlm {:?}", cfg.regime).to_lowercase();
    let mut all: Vec<RunResult> = Vec::new();
    let mut primaries: Vec<(String, String)> = Vec::new();
    let mut speed = (0u64, 0.0f64);
    for name in &names {
        let (ds, source) =
            open_dataset(name, None, None, None).with_context(|| format!("loading {name}"))?;
        let ds = if ds.name == "qm9" {
            subset(ds, a.qm9_rows, 0)
        } else {
            ds
        };
        let primary = if delicate { "r2" } else { primary_key(&ds) };
        primaries.push((ds.name.clone(), primary.to_string()));
        if !quiet {
            eprintln!(
                "== {}: {} molecules, {} task(s), {:?}",
                ds.name,
                ds.len(),
                ds.n_tasks(),
                ds.task_type
            );
        }
        let dir = a.out.join(&ds.name);
        std::fs::create_dir_all(&dir)?;
        let mut ds_for_run = ds.clone();
        if delicate {
            ds_for_run.metric = Some(chemlm_data::Metric::R2);
        }
        let run = run_dataset(
            &ds_for_run,
            &source,
            &a.model,
            &cfg,
            &split_opts,
            &label,
            Some(RunOutputs {
                dir: &dir,
                save_models: a.save_models,
            }),
            quiet,
            None,
            &dev,
        )?;
        write_run_files(
            &dir,
            &ds_for_run,
            &source,
            &cfg,
            &split_opts,
            &a.model,
            &run,
        )?;
        speed.0 += run.train_molecules;
        speed.1 += run.train_seconds;
        all.extend(run.results.iter().cloned());
        if !a.no_baselines && !delicate {
            let (plan, sizes) = split_opts.plan()?;
            let split = match plan {
                SplitPlan::Plain(m) => m,
                SplitPlan::Delicate { .. } => unreachable!("checked above"),
            };
            if matches!(split, SplitMethod::KFold { .. }) {
                eprintln!("note: baselines run on the first fold only for k-fold splits");
            }
            let bcfg = BaselineConfig {
                models: BaselineKind::parse_list("all", ds.task_type)?,
                seeds: opts.seeds.clone(),
                split,
                sizes: SplitSizes::new(sizes.train, sizes.valid, sizes.test)?,
                ..Default::default()
            };
            let report = run_baselines(&ds, &bcfg, Some(source.clone()), &mut |l| {
                if !quiet {
                    eprintln!("{l}");
                }
            })?;
            write_run(
                &a.out.join(format!("{}-baselines", ds.name)),
                &report,
                &bcfg,
                &source,
            )?;
            for r in &report.results {
                all.push(RunResult {
                    dataset: ds.name.clone(),
                    model: r.model.name().to_string(),
                    seed: r.seed,
                    fold: 0,
                    split_sha256: r.split_sha256.clone(),
                    best_epoch: 0,
                    metrics: r.metrics.clone(),
                });
            }
        }
        // Rewrite the combined table after every data set, so a long run shows progress.
        let md = table(&all, &primaries, &label, delicate);
        write_file(&a.out.join("results.md"), md.as_bytes())?;
        write_file(&a.out.join("results.csv"), results_csv(&all).as_bytes())?;
    }
    let md = table(&all, &primaries, &label, delicate);
    print!("{md}");
    if !quiet {
        eprintln!(
            "training throughput {:.0} molecules/s over {} molecule-epochs; results in {}",
            speed.0 as f64 / speed.1.max(1e-9),
            speed.0,
            a.out.display()
        );
    }
    Ok(())
}

/// One row per data set: primary metric, published MoLFormer-XL, ours, the baselines.
fn table(all: &[RunResult], primaries: &[(String, String)], label: &str, delicate: bool) -> String {
    let summary = summarize(all);
    let mut models: Vec<String> = vec![label.to_string()];
    for s in &summary {
        if !models.contains(&s.model) {
            models.push(s.model.clone());
        }
    }
    let mut out = String::from("| dataset | metric |");
    if !delicate {
        out.push_str(" MoLFormer-XL (published) |");
    }
    for m in &models {
        out.push_str(&format!(" {m} |"));
    }
    out.push_str("\n|---|---|");
    if !delicate {
        out.push_str("---|");
    }
    out.push_str(&"---|".repeat(models.len()));
    out.push('\n');
    for (d, metric) in primaries {
        let arrow = if matches!(metric.as_str(), "roc-auc" | "prc-auc" | "r2") {
            "↑"
        } else {
            "↓"
        };
        out.push_str(&format!("| {d} | {metric} {arrow} |"));
        if !delicate {
            let p = MOLFORMER_XL
                .iter()
                .find(|(k, _)| k == d)
                .map(|(_, v)| format!("{v:.3}"))
                .unwrap_or_else(|| "–".into());
            out.push_str(&format!(" {p} |"));
        }
        for m in &models {
            let cell = summary
                .iter()
                .find(|s| s.dataset == *d && s.model == *m && s.metric == *metric)
                .map(|s| fmt_pm(s.mean, s.std))
                .unwrap_or_else(|| "–".into());
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}
