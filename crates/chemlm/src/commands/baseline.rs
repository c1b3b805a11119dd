//! `chemlm baseline`: the in-tree ECFP4 baselines of issue 4 §3 (logistic / ridge regression and
//! an MLP on 2048-bit Morgan fingerprints) on the same splits as `chemlm finetune`, writing
//! `results.csv`, `results.md`, `config.json` (settings, data hash, split hashes, skipped
//! molecules) and `splits/seed-N.json` into `--out`, and printing the markdown table.
//!
//! Self-contained (no `crate::` paths) so the chemlm-train example `baselines` can compile this
//! very file: the numbers in docs/benchmarks.md come from this code.

use anyhow::{bail, Context, Result};
use chemlm_data::{SplitMethod, SplitSizes};
use chemlm_train::baselines::{run_baselines, write_run, BaselineConfig, BaselineKind};
use clap::Args;

use super::dataset_args::DatasetArgs;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub data: DatasetArgs,
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
    let (ds, source) = a.data.open()?;
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
