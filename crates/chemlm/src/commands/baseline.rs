//! `chemlm baseline`: the in-tree ECFP4 baselines of issue 4 §3 (logistic / ridge regression and
//! an MLP on 2048-bit Morgan fingerprints) on the same splits as `chemlm finetune`, writing
//! `results.csv`, `results.md`, `config.json` (settings, data hash, split hashes, skipped
//! molecules) and `splits/seed-N.json` into `--out`, and printing the markdown table.
//!
//! Self-contained (no `crate::` paths) so the chemlm-train example `baselines` can compile this
//! very file: the numbers in docs/benchmarks.md come from this code.

use anyhow::{bail, Context, Result};
use chemlm_data::{SplitMethod, SplitSizes, TaskType};
use chemlm_train::baselines::{
    open_dataset, run_baselines, write_run, BaselineConfig, BaselineKind,
};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct BaselineArgs {
    /// Registered data set (bbbp, bace, clintox, tox21, sider, hiv, esol, freesolv, lipo, …) or a
    /// CSV/TSV file with a header.
    #[arg(long)]
    pub dataset: String,
    /// SMILES column of a CSV file (default: auto-detected).
    #[arg(long)]
    pub smiles_col: Option<String>,
    /// Comma-separated label columns of a CSV file (default: all other columns).
    #[arg(long, value_delimiter = ',')]
    pub target_cols: Option<Vec<String>>,
    /// Task type of a CSV file: classification or regression (default: classification when
    /// every label is 0/1).
    #[arg(long)]
    pub task: Option<String>,
    /// logreg, ridge, mlp, linear (logreg or ridge by task type) or all (linear + mlp);
    /// comma-separated.
    #[arg(long, default_value = "all")]
    pub model: String,
    /// scaffold (chemprop's balanced scaffold split), scaffold-plain (deterministic, largest
    /// scaffold sets first) or random.
    #[arg(long, default_value = "scaffold")]
    pub split: String,
    /// Split seeds; results are mean ± std over them.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    pub seeds: Vec<u64>,
    /// Train/valid/test fractions.
    #[arg(long, value_delimiter = ',', default_value = "0.8,0.1,0.1")]
    pub sizes: Vec<f64>,
    /// Inverse L2 strength of the logistic regression (sklearn's C).
    #[arg(long, default_value_t = 1.0)]
    pub c: f64,
    /// L2 strength of the ridge regression (sklearn's alpha).
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// MLP: maximum epochs (early stopping on the valid metric, patience --patience).
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    /// Run directory to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the baselines and writes the run directory.
pub fn run(a: &BaselineArgs, quiet: bool) -> Result<()> {
    let task_type = match a.task.as_deref() {
        None => None,
        Some("classification") => Some(TaskType::Classification),
        Some("regression") => Some(TaskType::Regression),
        Some(other) => bail!("--task must be classification or regression, not {other:?}"),
    };
    let (ds, source) = open_dataset(
        &a.dataset,
        a.smiles_col.as_deref(),
        a.target_cols.clone(),
        task_type,
    )
    .with_context(|| format!("loading {}", a.dataset))?;
    let split = match a.split.as_str() {
        "scaffold" | "scaffold_balanced" => SplitMethod::Scaffold { balanced: true },
        "scaffold-plain" => SplitMethod::Scaffold { balanced: false },
        "random" => SplitMethod::Random,
        other => bail!("--split must be scaffold, scaffold-plain or random, not {other:?}"),
    };
    let [train, valid, test] = a.sizes[..] else {
        bail!("--sizes needs three fractions, e.g. 0.8,0.1,0.1");
    };
    let mut cfg = BaselineConfig {
        models: BaselineKind::parse_list(&a.model, ds.task_type)?,
        seeds: a.seeds.clone(),
        split,
        sizes: SplitSizes::new(train, valid, test)?,
        ridge_alpha: a.alpha,
        ..Default::default()
    };
    cfg.logistic.c = a.c;
    cfg.mlp.max_epochs = a.epochs;
    cfg.mlp.patience = a.patience;
    if !quiet {
        eprintln!(
            "{}: {} molecules, {} task(s), {:?}",
            ds.name,
            ds.len(),
            ds.n_tasks(),
            ds.task_type
        );
    }
    let report = run_baselines(&ds, &cfg, Some(source.clone()), &mut |line| {
        if !quiet {
            eprintln!("{line}");
        }
    })?;
    for (line, reason) in &report.skipped {
        eprintln!(
            "warning: {} line {line}: skipped: {reason}",
            ds.path.display()
        );
    }
    write_run(&a.out, &report, &cfg, &source)
        .with_context(|| format!("writing {}", a.out.display()))?;
    print!("{}", report.to_markdown());
    if !quiet {
        eprintln!(
            "{} molecule(s) skipped; results in {}",
            report.skipped.len(),
            a.out.display()
        );
    }
    Ok(())
}
