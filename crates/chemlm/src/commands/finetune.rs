//! `chemlm finetune`: a pretrained encoder + MLP head trained on a labelled data set (issue 4 §1),
//! over several split seeds (or k folds), writing a run directory:
//!
//! ```text
//! OUT/config.json            settings, data hash, split hashes, seeds, skipped molecules, speed
//! OUT/results.csv, results.md  test scores per fit and mean ± std
//! OUT/splits/seed-N.json     the exact splits
//! OUT/seed-N[-fold-K]/metrics.jsonl          one line per epoch
//! OUT/seed-N[-fold-K]/test_predictions.csv   line, smiles, labels, predictions at the best epoch
//! OUT/seed-N[-fold-K]/best/  the best model (encoder + head + tokenizer + finetune.json)
//! ```
//!
//! With `--teacher runs/T` (task-stage distillation, issue 5 §1) the student's loss mixes the
//! teacher's predictions for its training molecules with the labels; the teacher run must be on
//! the same data set, split and seeds, and the teacher model of each fit teaches that fit only
//! (see `chemlm_train::finetune::teacher`). `config.json` records the teacher and the mix.
//!
//! The run itself is the library's `chemlm_train::finetune::run` (shared with `chemlm bench
//! moleculenet` and any other front-end); this module parses flags and prints.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chemlm_data::OovPolicy;
use chemlm_train::distill::TaskDistillConfig;
use chemlm_train::finetune::{
    check_out_dir, EncodeOptions, FinetuneConfig, FinishedRun, Pooling, Regime, RegressionLoss,
    RunSpec, SplitOptions,
};
use clap::Args;

use super::dataset_args::DatasetArgs;

#[derive(Args, Debug, Clone)]
pub struct FinetuneArgs {
    /// Pretrained model directory (config.json, model.safetensors, tokenizer.json).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DatasetArgs,
    #[command(flatten)]
    pub opts: FinetuneOpts,
    /// Task-stage distillation: a `chemlm finetune` run directory (same data set, split, sizes
    /// and seeds) whose fine-tuned models teach this run, fit by fit.
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// Weight of the teacher term; 1 − alpha goes to the true labels.
    #[arg(long, default_value_t = 0.5, requires = "teacher")]
    pub kd_alpha: f64,
    /// Temperature of the teacher's soft targets (classification; regression ignores it).
    #[arg(long, default_value_t = 2.0, requires = "teacher")]
    pub kd_temperature: f64,
    /// Run directory to write (refused when it already holds a run, unless `--overwrite`).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the results of an earlier run in `--out`.
    #[arg(long)]
    pub overwrite: bool,
}

/// Split and training flags shared with `chemlm bench moleculenet`.
#[derive(Args, Debug, Clone)]
pub struct FinetuneOpts {
    /// scaffold (chemprop's balanced scaffold split), scaffold-plain, random, kfold (k folds,
    /// next fold = valid, chemprop `cv`) or delicate (5-fold, held-out fold halved into
    /// valid/test, as DeLiCaTe's data_preparation.py).
    #[arg(long, default_value = "scaffold")]
    pub split: String,
    /// Split seeds; results are mean ± std over every fit.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    pub seeds: Vec<u64>,
    /// Train/valid/test fractions (scaffold and random splits).
    #[arg(long, value_delimiter = ',', default_value = "0.8,0.1,0.1")]
    pub sizes: Vec<f64>,
    /// Folds of kfold / delicate splits.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// How many of the k folds to run (DeLiCaTe's script runs the first 3 of 5).
    #[arg(long)]
    pub folds: Option<usize>,
    /// frozen (embed once, train the head) or finetune (encoder + head).
    #[arg(long, default_value = "frozen")]
    pub regime: String,
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    /// Encoder learning rate (finetune regime).
    #[arg(long, default_value_t = 3e-5)]
    pub lr: f64,
    /// Head learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub head_lr: f64,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Head hidden width (0 = encoder hidden size).
    #[arg(long, default_value_t = 0)]
    pub hidden: usize,
    #[arg(long, default_value_t = 0.1)]
    pub dropout: f64,
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Regression loss: l1 or mse (on standardised targets).
    #[arg(long, default_value = "l1")]
    pub loss: String,
    /// mean or cls (default: cls for BERT/ALBERT, mean otherwise).
    #[arg(long)]
    pub pooling: Option<String>,
    /// Feed SMILES as written instead of canonicalising them.
    #[arg(long)]
    pub no_canonicalize: bool,
    /// Tokens outside the model's vocabulary: `unk`, or `nearest` (the same atom without stereo,
    /// isotope or charge, e.g. `[C@@H]` → `C`; `/` `\` dropped; `<unk>` if none). `unk` is the
    /// default because it measured better: with a MOSES vocabulary, `<unk>` marks stereocentres
    /// and charges, a signal `nearest` erases (docs/benchmarks.md).
    #[arg(long, default_value = "unk", value_parser = ["nearest", "unk"])]
    pub oov: String,
    /// Molecules per forward pass when embedding / evaluating.
    #[arg(long, default_value_t = 128)]
    pub eval_batch: usize,
}

impl FinetuneOpts {
    /// The training configuration these flags describe.
    pub fn config(&self) -> Result<FinetuneConfig> {
        let cfg = FinetuneConfig {
            regime: self.regime.parse::<Regime>().map_err(anyhow::Error::msg)?,
            epochs: self.epochs,
            patience: self.patience,
            lr: self.lr,
            head_lr: self.head_lr,
            batch_size: self.batch,
            hidden: self.hidden,
            dropout: self.dropout,
            weight_decay: self.weight_decay,
            max_grad_norm: 1.0,
            loss: match self.loss.as_str() {
                "l1" | "mae" => RegressionLoss::L1,
                "mse" | "l2" => RegressionLoss::Mse,
                other => bail!("--loss must be l1 or mse, not {other:?}"),
            },
            pooling: match self.pooling.as_deref() {
                None => None,
                Some(p) => Some(
                    Pooling::parse(p)
                        .with_context(|| format!("--pooling must be mean or cls, not {p:?}"))?,
                ),
            },
            encode: EncodeOptions {
                canonicalize: !self.no_canonicalize,
                truncate: true,
                oov: OovPolicy::parse(&self.oov)
                    .with_context(|| format!("--oov must be nearest or unk, not {:?}", self.oov))?,
            },
            eval_batch: self.eval_batch,
            distill: None,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The split settings these flags describe (checked when the run makes its splits).
    pub fn split_options(&self) -> SplitOptions {
        SplitOptions {
            split: self.split.clone(),
            seeds: self.seeds.clone(),
            sizes: self.sizes.clone(),
            k: self.k,
            folds: self.folds,
        }
    }
}

/// How folds are made.
pub fn run(a: &FinetuneArgs, quiet: bool) -> Result<()> {
    // Checked before any work, as `pretrain` does: a finished run is never replaced by accident.
    check_out_dir(&a.out, a.overwrite)?;
    let mut cfg = a.opts.config()?;
    if a.teacher.is_some() {
        cfg.distill = Some(TaskDistillConfig {
            alpha: a.kd_alpha,
            temperature: a.kd_temperature,
        });
        cfg.validate()?;
    }
    let (ds, source) = a.data.open()?;
    if !quiet {
        eprintln!(
            "{}: {} molecules, {} task(s), {:?}; {:?} regime",
            ds.name,
            ds.len(),
            ds.n_tasks(),
            ds.task_type,
            cfg.regime
        );
    }
    let spec = RunSpec {
        model: &a.model,
        dataset: &ds,
        source: &source,
        config: &cfg,
        split: &a.opts.split_options(),
        teacher: a.teacher.as_deref(),
        out: &a.out,
        overwrite: a.overwrite,
    };
    let FinishedRun { run, markdown } =
        chemlm_train::finetune::run::run(&spec, &crate::runtime::device()?, quiet)?;
    for (line, reason) in &run.skipped {
        eprintln!("warning: {}:{line}: skipped: {reason}", ds.path.display());
    }
    print!("{markdown}");
    if !quiet {
        eprintln!(
            "{} molecule(s) skipped, {} truncated; training {:.0} molecules/s; results in {}",
            run.skipped.len(),
            run.truncated,
            run.train_molecules as f64 / run.train_seconds.max(1e-9),
            a.out.display()
        );
    }
    Ok(())
}
