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
//! `run_dataset` is shared with `chemlm bench moleculenet`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::Tensor;
use chemlm_data::atomic::{write_file, write_json};
use chemlm_data::split::SplitSource;
use chemlm_data::{make_split, LabeledDataset, SplitFile, SplitMethod, SplitRequest, SplitSizes};
use chemlm_data::{Metric, OovPolicy, TaskType, Tokenizer};
use chemlm_models::Model;
use chemlm_train::distill::TaskDistillConfig;
use chemlm_train::finetune::{
    embed_dataset, encode_all, encode_all_tallied, fit_fold_distilled, results_csv, save_model_dir,
    summarize, summary_markdown, EncodeOptions, EpochRecord, FinetuneConfig, FinetuneMeta,
    FoldData, Pooling, Regime, RegressionLoss, RunResult, StudentTask, TeacherEmbeddingCache,
    TeacherOutputs, TeacherRun,
};
use clap::Args;

use super::dataset_args::DatasetArgs;
use indicatif::{ProgressBar, ProgressStyle};

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

    /// The split method and sizes these flags describe.
    pub fn split(&self) -> Result<(SplitPlan, SplitSizes)> {
        let [train, valid, test] = self.sizes[..] else {
            bail!("--sizes needs three fractions, e.g. 0.8,0.1,0.1");
        };
        let sizes = SplitSizes::new(train, valid, test)?;
        let plan = match self.split.as_str() {
            "scaffold" | "scaffold_balanced" => {
                SplitPlan::Plain(SplitMethod::Scaffold { balanced: true })
            }
            "scaffold-plain" => SplitPlan::Plain(SplitMethod::Scaffold { balanced: false }),
            "random" => SplitPlan::Plain(SplitMethod::Random),
            "kfold" => SplitPlan::Plain(SplitMethod::KFold {
                k: self.k,
                valid: true,
            }),
            "delicate" => SplitPlan::Delicate { k: self.k },
            other => bail!(
                "--split must be scaffold, scaffold-plain, random, kfold or delicate, not {other:?}"
            ),
        };
        Ok((plan, sizes))
    }
}

/// How folds are made.
#[derive(Clone, Debug)]
pub enum SplitPlan {
    /// One of chemlm-data's split methods.
    Plain(SplitMethod),
    /// DeLiCaTe: k-fold without a validation fold; the held-out fold is halved (seeded) into
    /// valid and test.
    Delicate { k: usize },
}

/// Makes the split file of one seed.
pub fn make_seed_split(
    ds: &LabeledDataset,
    plan: &SplitPlan,
    sizes: SplitSizes,
    seed: u64,
    source: &SplitSource,
) -> Result<SplitFile> {
    let method = match plan {
        SplitPlan::Plain(m) => m.clone(),
        SplitPlan::Delicate { k } => SplitMethod::KFold {
            k: *k,
            valid: false,
        },
    };
    let req = SplitRequest {
        method,
        sizes,
        seed,
    };
    let mut split = make_split(&ds.smiles, None, &req, Some(source.clone()))?;
    if let SplitPlan::Delicate { .. } = plan {
        chemlm_train::finetune::halve_test_folds(&mut split, seed);
    }
    Ok(split)
}

/// Metric key of a data set's primary metric.
pub fn primary_key(ds: &LabeledDataset) -> &'static str {
    match ds.metric {
        Some(Metric::RocAuc) => "roc-auc",
        Some(Metric::PrcAuc) => "prc-auc",
        Some(Metric::Rmse) => "rmse",
        Some(Metric::Mae) => "mae",
        Some(Metric::R2) => "r2",
        None if ds.task_type == TaskType::Classification => "roc-auc",
        None => "rmse",
    }
}

/// What [`run_dataset`] produces.
pub struct DatasetRun {
    pub results: Vec<RunResult>,
    pub splits: Vec<SplitFile>,
    /// `(file line, reason)` of molecules left out (unparsable, no scaffold).
    pub skipped: Vec<(u64, String)>,
    /// Training throughput: molecules through training steps / seconds in them.
    pub train_molecules: u64,
    pub train_seconds: f64,
    /// Seconds spent embedding the data set once (frozen regime).
    pub embed_seconds: f64,
    pub truncated: usize,
    /// The teacher run directory (task-stage distillation), if any.
    pub teacher: Option<String>,
    /// Seconds spent computing the teacher's predictions.
    pub teacher_seconds: f64,
}

/// How many folds of `split` are fitted (`--folds` caps k-fold runs).
fn fits_of(split: &SplitFile, folds: Option<usize>) -> usize {
    split.folds.len().min(folds.unwrap_or(usize::MAX)).max(1)
}

/// The directory name of fit `fold` of `split`: `seed-S`, or `seed-S-fold-K` for k-fold splits.
fn fit_name(split: &SplitFile, fold: usize) -> String {
    if split.folds.len() > 1 {
        format!("seed-{}-fold-{fold}", split.seed)
    } else {
        format!("seed-{}", split.seed)
    }
}

/// Where [`run_dataset`] writes per-fit outputs; `None` = nothing written.
pub struct RunOutputs<'a> {
    pub dir: &'a Path,
    /// Also save each fit's best model (encoder + head).
    pub save_models: bool,
}

fn bar(quiet: bool, len: u64, msg: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} [{elapsed_precise}, {per_sec}, ETA {eta}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b.set_message(msg.to_string());
    b
}

/// Fine-tunes `model_dir` on `ds` for every seed (and fold), writing per-fit outputs under
/// `out` when given. `label` names the model in result tables.
#[allow(clippy::too_many_arguments)]
pub fn run_dataset(
    ds: &LabeledDataset,
    source: &SplitSource,
    model_dir: &Path,
    cfg: &FinetuneConfig,
    opts: &FinetuneOpts,
    label: &str,
    out: Option<RunOutputs>,
    quiet: bool,
) -> Result<DatasetRun> {
    run_dataset_taught(ds, source, model_dir, cfg, opts, label, out, quiet, None)
}

/// [`run_dataset`] with an optional teacher run (task-stage distillation; `cfg.distill` holds
/// the mix). Each fit is taught by the teacher's model of the same seed and fold, after the
/// teacher's split hash for that seed is checked against the student's.
#[allow(clippy::too_many_arguments)]
pub fn run_dataset_taught(
    ds: &LabeledDataset,
    source: &SplitSource,
    model_dir: &Path,
    cfg: &FinetuneConfig,
    opts: &FinetuneOpts,
    label: &str,
    out: Option<RunOutputs>,
    quiet: bool,
    teacher_dir: Option<&Path>,
) -> Result<DatasetRun> {
    let n_tasks = ds.n_tasks();
    if n_tasks == 0 || ds.is_empty() || ds.task_type == TaskType::Unlabeled {
        bail!("{}: no labelled molecules", ds.name);
    }
    if ds.task_type == TaskType::Classification {
        if let Some((i, y)) = ds
            .labels
            .iter()
            .enumerate()
            .find_map(|(i, l)| l.filter(|&y| y != 0.0 && y != 1.0).map(|y| (i, y)))
        {
            bail!(
                "{} line {}: classification label {y} is not 0 or 1",
                ds.path.display(),
                ds.lines[i / n_tasks]
            );
        }
    }
    let student = StudentTask {
        dataset: &ds.name,
        data_sha256: Some(&source.sha256),
        task_names: &ds.task_names,
        classification: ds.task_type == TaskType::Classification,
    };
    // Checked before any work, so a wrong teacher fails in a second, not after embedding.
    let teacher = match teacher_dir {
        Some(dir) => {
            if cfg.distill.is_none() {
                bail!("a teacher needs distillation settings (alpha, temperature)");
            }
            let t = TeacherRun::open(dir, &student)
                .and_then(|t| t.check_seeds(&opts.seeds).map(|_| t))
                .with_context(|| format!("teacher {} does not fit {}", dir.display(), ds.name))?;
            Some(t)
        }
        None => None,
    };
    // Pooled teacher embeddings shared by fits whose teacher encoders are identical.
    let mut teacher_cache = TeacherEmbeddingCache::default();
    let dev = crate::runtime::device()?;
    let tok_path = model_dir.join(chemlm_models::io::TOKENIZER_FILE);
    let tok = Tokenizer::load_dir(model_dir)
        .with_context(|| format!("loading the tokenizer of {}", model_dir.display()))?;
    let base = Model::load(model_dir, &dev)
        .with_context(|| format!("loading model {}", model_dir.display()))?;
    if tok.vocab_size() > base.config().vocab_size() {
        bail!(
            "{}: tokenizer has {} tokens but the model only {}",
            tok_path.display(),
            tok.vocab_size(),
            base.config().vocab_size()
        );
    }
    let pad = tok.special_ids().pad;
    let max_len = base.config().max_positions();
    let pooling = cfg.pooling.unwrap_or_else(|| Pooling::for_model(&base));
    let mut untruncated = cfg.encode;
    untruncated.truncate = false;
    let tally = chemlm_data::OovTally::new();
    let encoded = encode_all_tallied(&tok, &ds.smiles, cfg.encode, max_len, Some(&tally));
    if let Some(s) = tally.summary(10) {
        eprintln!("warning: {}: {s}", ds.name);
    }
    let truncated = encode_all(&tok, &ds.smiles, untruncated, max_len)
        .iter()
        .zip(&encoded)
        .filter(|(a, b)| a.is_err() && b.is_ok())
        .count();
    let mut skipped: Vec<(usize, String)> = encoded
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.as_ref().err().map(|r| (i, r.clone())))
        .collect();
    if !ds.smiles.is_empty() && skipped.len() == ds.smiles.len() {
        let first = ds.describe_rows(skipped.iter().map(|(i, r)| (*i, r.as_str())), 5);
        bail!(
            "{}: none of the {} molecules can be encoded for this model (first reasons: {})",
            ds.path.display(),
            ds.smiles.len(),
            first
        );
    }
    let seqs: Vec<Option<Vec<u32>>> = encoded.into_iter().map(|e| e.ok()).collect();

    // Splits first (cheap), so a teacher trained on other splits, seeds or folds is refused
    // before any embedding or training.
    let (plan, sizes) = opts.split()?;
    let seed_splits: Vec<SplitFile> = opts
        .seeds
        .iter()
        .map(|&seed| make_seed_split(ds, &plan, sizes, seed, source))
        .collect::<Result<_>>()?;
    // A split with no training or test molecule cannot give a result: say why before any work.
    for split in &seed_splits {
        for (fold_i, fold) in split.folds.iter().enumerate() {
            let usable = |rows: &[usize]| rows.iter().filter(|&&r| seqs[r].is_some()).count();
            let (train, test) = (usable(&fold.train), usable(&fold.test));
            if train == 0 || test == 0 {
                let excluded = ds.describe_rows(
                    split
                        .excluded
                        .iter()
                        .map(|e| (e.index, e.reason.as_str()))
                        .chain(skipped.iter().map(|(i, r)| (*i, r.as_str()))),
                    3,
                );
                bail!(
                    "{}: the {} split (seed {}, fold {fold_i}) leaves {train} training and {test} \
                     test molecules of {}; {} excluded by the split, {} unencodable{}{}",
                    ds.path.display(),
                    split.method.name(),
                    split.seed,
                    ds.smiles.len(),
                    split.excluded.len(),
                    skipped.len(),
                    if excluded.is_empty() { "" } else { ", e.g. " },
                    excluded
                );
            }
        }
    }
    if let Some(t) = &teacher {
        for split in &seed_splits {
            t.check_split(split.seed, &split.folds_sha256)
                .and_then(|_| {
                    (0..fits_of(split, opts.folds))
                        .try_for_each(|f| t.check_fit(&fit_name(split, f)).map(|_| ()))
                })
                .with_context(|| format!("teacher {} does not fit {}", t.dir.display(), ds.name))?;
        }
    }

    let mut embed_seconds = 0.0;
    let embeddings: Option<Tensor> = if cfg.regime == Regime::Frozen {
        let t0 = std::time::Instant::now();
        let b = bar(quiet, ds.len() as u64, &format!("{}: embedding", ds.name));
        let e = embed_dataset(&base, &seqs, pad, pooling, cfg.eval_batch, &mut |n| {
            b.inc(n as u64)
        })?;
        b.finish_and_clear();
        embed_seconds = t0.elapsed().as_secs_f64();
        Some(e)
    } else {
        None
    };

    let primary = primary_key(ds);
    let mut run = DatasetRun {
        results: Vec::new(),
        splits: Vec::new(),
        skipped: Vec::new(),
        train_molecules: 0,
        train_seconds: 0.0,
        embed_seconds,
        truncated,
        teacher: teacher_dir.map(|d| d.display().to_string()),
        teacher_seconds: 0.0,
    };
    for split in seed_splits {
        let seed = split.seed;
        for e in &split.excluded {
            if !skipped.iter().any(|(i, _)| *i == e.index) {
                skipped.push((e.index, e.reason.clone()));
            }
        }
        let n_folds = fits_of(&split, opts.folds);
        for (fold_i, fold) in split.folds.iter().take(n_folds).enumerate() {
            let usable = |rows: &[usize]| -> Vec<usize> {
                rows.iter()
                    .copied()
                    .filter(|&r| seqs[r].is_some())
                    .collect()
            };
            let (train, valid, test) =
                (usable(&fold.train), usable(&fold.valid), usable(&fold.test));
            // The full regime trains the encoder, so every fit starts from a fresh copy.
            let reloaded;
            let model = if cfg.regime == Regime::Finetune {
                reloaded = Model::load(model_dir, &dev)?;
                &reloaded
            } else {
                &base
            };
            let data = FoldData {
                task: ds.task_type,
                n_tasks,
                primary,
                seqs: &seqs,
                labels: &ds.labels,
                train: &train,
                valid: &valid,
                test: &test,
                embeddings: embeddings.as_ref(),
            };
            let name = fit_name(&split, fold_i);
            let taught = match &teacher {
                Some(t) => {
                    let t0 = std::time::Instant::now();
                    let fm = t
                        .load_fit(&name, seed, &split.folds_sha256, &student, &dev)
                        .with_context(|| format!("teacher for {} {name}", ds.name))?;
                    let b = bar(
                        quiet,
                        train.len() as u64,
                        &format!("{} {name}: teacher", ds.name),
                    );
                    let (outs, failed) = TeacherOutputs::compute_cached(
                        &fm,
                        &mut teacher_cache,
                        &ds.smiles,
                        &train,
                        cfg.eval_batch,
                        &mut |n| b.inc(n as u64),
                    )?;
                    b.finish_and_clear();
                    for (r, reason) in &failed {
                        eprintln!(
                            "error: {}:{}: the teacher cannot encode this training molecule: {reason}",
                            ds.path.display(),
                            ds.line_of(*r)
                        );
                    }
                    if !failed.is_empty() {
                        bail!(
                            "{} training molecule(s) of {} {name} have no teacher prediction (see above)",
                            failed.len(),
                            ds.name
                        );
                    }
                    run.teacher_seconds += t0.elapsed().as_secs_f64();
                    Some(outs)
                }
                None => None,
            };
            let b = bar(quiet, cfg.epochs as u64, &format!("{} {name}", ds.name));
            let mut lines = String::new();
            let mut log_epoch = |r: &EpochRecord| {
                if let Ok(l) = serde_json::to_string(r) {
                    lines.push_str(&l);
                    lines.push('\n');
                }
                b.inc(1);
            };
            let outcome = fit_fold_distilled(
                model,
                pad,
                &data,
                taught.as_ref(),
                cfg,
                seed,
                &mut log_epoch,
            )?;
            b.finish_and_clear();
            let mut metrics = outcome.test_metrics.clone();
            if let Some(p) = metrics.iter().position(|(k, _)| k == primary) {
                let e = metrics.remove(p);
                metrics.insert(0, e);
            }
            if !quiet {
                eprintln!(
                    "{} {name} {label}: test {} = {:.4} at epoch {} of {} ({} train / {} valid / {} test, {:.1}s training)",
                    ds.name,
                    metrics[0].0,
                    metrics[0].1,
                    outcome.best_epoch,
                    outcome.epochs_run,
                    train.len(),
                    valid.len(),
                    test.len(),
                    outcome.train_seconds
                );
            }
            run.train_molecules += outcome.train_molecules;
            run.train_seconds += outcome.train_seconds;
            if let Some(o) = &out {
                let dir = o.dir.join(&name);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                write_file(&dir.join("metrics.jsonl"), lines.as_bytes())?;
                let mut csv = String::from("line,smiles");
                for t in &ds.task_names {
                    csv.push_str(&format!(",label_{t}"));
                }
                for t in &ds.task_names {
                    csv.push_str(&format!(",pred_{t}"));
                }
                csv.push('\n');
                for (k, &r) in test.iter().enumerate() {
                    csv.push_str(&format!("{},{}", ds.lines[r], ds.smiles[r]));
                    for y in ds.row_labels(r) {
                        csv.push(',');
                        if let Some(y) = y {
                            csv.push_str(&y.to_string());
                        }
                    }
                    for p in &outcome.test_preds[k * n_tasks..(k + 1) * n_tasks] {
                        csv.push_str(&format!(",{p}"));
                    }
                    csv.push('\n');
                }
                write_file(&dir.join("test_predictions.csv"), csv.as_bytes())?;
                if o.save_models {
                    let meta = FinetuneMeta {
                        format: chemlm_train::finetune::artifact::META_FORMAT.into(),
                        dataset: ds.name.clone(),
                        classification: ds.task_type == TaskType::Classification,
                        task_names: ds.task_names.clone(),
                        head: outcome.head.config,
                        pooling: outcome.pooling,
                        encode: cfg.encode,
                        standardizer: outcome.standardizer.clone(),
                        seed,
                        best_epoch: outcome.best_epoch,
                        base_model: model_dir.display().to_string(),
                    };
                    save_model_dir(&dir.join("best"), model, &tok, &outcome.head, &meta)?;
                }
            }
            run.results.push(RunResult {
                dataset: ds.name.clone(),
                model: label.to_string(),
                seed,
                fold: fold_i,
                split_sha256: split.folds_sha256.clone(),
                best_epoch: outcome.best_epoch,
                metrics,
            });
        }
        run.splits.push(split);
    }
    skipped.sort();
    run.skipped = skipped
        .into_iter()
        .map(|(i, r)| (ds.line_of(i), r))
        .collect();
    Ok(run)
}

/// Writes config.json, results.csv/md and the split files of a finished run.
pub fn write_run_files(
    out: &Path,
    ds: &LabeledDataset,
    source: &SplitSource,
    cfg: &FinetuneConfig,
    opts: &FinetuneOpts,
    model_dir: &Path,
    run: &DatasetRun,
) -> Result<String> {
    std::fs::create_dir_all(out.join("splits"))
        .with_context(|| format!("cannot create {}", out.display()))?;
    let summary = summarize(&run.results);
    let md = format!(
        "### {} ({} molecules, {} task(s), {} split, seeds {})\n\n{}\nSkipped molecules: {}; truncated to the model's positions: {}\n",
        ds.name,
        ds.len(),
        ds.n_tasks(),
        // The method actually run (as `baseline` names it), not the flag's alias: `--split
        // scaffold` is chemprop's balanced scaffold split, and both tables must say so alike.
        run.splits
            .first()
            .map_or(opts.split.as_str(), |s| s.method.name()),
        opts.seeds
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(","),
        summary_markdown(&summary),
        run.skipped.len(),
        run.truncated
    );
    write_file(&out.join("results.md"), md.as_bytes())?;
    write_file(
        &out.join("results.csv"),
        results_csv(&run.results).as_bytes(),
    )?;
    for s in &run.splits {
        s.save(&out.join("splits").join(format!("seed-{}.json", s.seed)))?;
    }
    let config = serde_json::json!({
        "format": chemlm_train::finetune::teacher::RUN_FORMAT,
        "model": model_dir.display().to_string(),
        "teacher": run.teacher,
        "dataset": ds.name,
        "source": source,
        "config": cfg,
        "split": opts.split,
        "sizes": opts.sizes,
        "k": opts.k,
        "folds": opts.folds,
        "seeds": opts.seeds,
        "splits": run.splits.iter().map(|s| serde_json::json!({"seed": s.seed, "folds_sha256": s.folds_sha256})).collect::<Vec<_>>(),
        "skipped": run.skipped,
        "truncated": run.truncated,
        "results": run.results,
        "summary": summary,
        "speed": {
            "train_molecules": run.train_molecules,
            "train_seconds": run.train_seconds,
            "train_molecules_per_second": run.train_molecules as f64 / run.train_seconds.max(1e-9),
            "embed_seconds": run.embed_seconds,
            "teacher_seconds": run.teacher_seconds,
        },
    });
    write_json(&out.join("config.json"), &config)?;
    Ok(md)
}

pub fn run(a: &FinetuneArgs, quiet: bool) -> Result<()> {
    // Checked before any work, as `pretrain` does: a finished run is never replaced by accident.
    let holds_run = ["config.json", "results.md", "results.csv"]
        .iter()
        .any(|f| a.out.join(f).exists());
    if holds_run && !a.overwrite {
        bail!(
            "{} already holds a fine-tuning run: pass --overwrite to replace it, or choose another --out",
            a.out.display()
        );
    }
    // The run is built in a hidden sibling and swapped in whole at the end, so an old run
    // survives any failure or kill; a directory of other files is never swept away with it.
    let foreign = !holds_run && std::fs::read_dir(&a.out).is_ok_and(|mut d| d.next().is_some());
    if foreign {
        bail!(
            "{} is not empty and holds no fine-tuning run: give a new or empty --out directory",
            a.out.display()
        );
    }
    let mut cfg = a.opts.config()?;
    if let Some(t) = &a.teacher {
        cfg.distill = Some(TaskDistillConfig {
            alpha: a.kd_alpha,
            temperature: a.kd_temperature,
        });
        cfg.validate()?;
        let same = |p: &Path| std::fs::canonicalize(p).ok();
        if same(t).is_some() && same(t) == same(&a.out) {
            bail!(
                "--teacher and --out are the same directory ({}); the student would overwrite its teacher",
                t.display()
            );
        }
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
    let staged = chemlm_fs::AtomicDir::create(&a.out)?;
    let kd = if a.teacher.is_some() { "+kd" } else { "" };
    let run = run_dataset_taught(
        &ds,
        &source,
        &a.model,
        &cfg,
        &a.opts,
        &format!("chemlm {:?}{kd}", cfg.regime).to_lowercase(),
        Some(RunOutputs {
            dir: staged.path(),
            save_models: true,
        }),
        quiet,
        a.teacher.as_deref(),
    )?;
    for (line, reason) in &run.skipped {
        eprintln!("warning: {}:{line}: skipped: {reason}", ds.path.display());
    }
    let md = write_run_files(staged.path(), &ds, &source, &cfg, &a.opts, &a.model, &run)?;
    staged.commit()?;
    print!("{md}");
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
