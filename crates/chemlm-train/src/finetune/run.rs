//! One fine-tuning run, end to end (issue 4 §1, issue 5 §1; moved out of the CLI in issue 18 so
//! every front-end runs the same code): splits per seed (or k folds), an optional teacher run for
//! task-stage distillation, the data set embedded once (frozen regime) or the encoder trained
//! (full regime), each fit trained with early stopping, and the run directory written:
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
//! [`run`] is the front door (`chemlm finetune`); [`run_dataset`] and [`write_run_files`] are its
//! parts, shared with `chemlm bench moleculenet`. Progress bars are hidden when `quiet`; per-fit
//! results and warnings go to stderr as the CLI prints them.

use std::path::Path;

use candle_core::{Device, Tensor};
use chemlm_data::atomic::{write_file, write_json};
use chemlm_data::split::SplitSource;
use chemlm_data::{make_split, LabeledDataset, SplitFile, SplitMethod, SplitRequest, SplitSizes};
use chemlm_data::{Metric, TaskType, Tokenizer};
use chemlm_models::encode::Pooling;
use chemlm_models::Model;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::{
    embed_dataset, encode_all, encode_all_tallied, fit_fold_distilled, halve_test_folds,
    results_csv, save_model_dir, summarize, summary_markdown, EpochRecord, FinetuneConfig,
    FinetuneError, FinetuneMeta, FoldData, Regime, Result, RunResult, StudentTask,
    TeacherEmbeddingCache, TeacherOutputs, TeacherRun,
};

/// A failure with the message the CLI prints.
fn invalid(msg: String) -> FinetuneError {
    FinetuneError::Invalid(msg)
}

/// `context: cause`, as the CLI's error chain reads.
fn ctx<E: std::fmt::Display>(context: String) -> impl FnOnce(E) -> FinetuneError {
    move |e| FinetuneError::Invalid(format!("{context}: {e}"))
}

/// How a run splits its data: the method, its sizes, the seeds and how many folds are fitted
/// (`--split`, `--sizes`, `--k`, `--folds`, `--seeds`). Recorded as such in `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitOptions {
    /// scaffold (chemprop's balanced scaffold split), scaffold-plain, random, kfold or delicate.
    pub split: String,
    /// Split seeds; results are mean ± std over every fit.
    pub seeds: Vec<u64>,
    /// Train/valid/test fractions (scaffold and random splits).
    pub sizes: Vec<f64>,
    /// Folds of kfold / delicate splits.
    pub k: usize,
    /// How many of the k folds to run (DeLiCaTe's script runs the first 3 of 5).
    pub folds: Option<usize>,
}

impl Default for SplitOptions {
    fn default() -> Self {
        Self {
            split: "scaffold".into(),
            seeds: vec![0, 1, 2],
            sizes: vec![0.8, 0.1, 0.1],
            k: 5,
            folds: None,
        }
    }
}

impl SplitOptions {
    /// The split method and sizes these options describe.
    pub fn plan(&self) -> Result<(SplitPlan, SplitSizes)> {
        let [train, valid, test] = self.sizes[..] else {
            return Err(invalid(
                "--sizes needs three fractions, e.g. 0.8,0.1,0.1".into(),
            ));
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
            other => {
                return Err(invalid(format!(
                    "--split must be scaffold, scaffold-plain, random, kfold or delicate, not {other:?}"
                )))
            }
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
        halve_test_folds(&mut split, seed);
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

/// Fine-tunes `model_dir` on `ds` on `dev` for every seed (and fold), writing per-fit outputs
/// under `out` when given. `label` names the model in result tables. With `teacher_dir` (a
/// finished run; `cfg.distill` holds the mix) each fit is taught by the teacher's model of the
/// same seed and fold, after the teacher's split hash for that seed is checked against the
/// student's.
#[allow(clippy::too_many_arguments)]
pub fn run_dataset(
    ds: &LabeledDataset,
    source: &SplitSource,
    model_dir: &Path,
    cfg: &FinetuneConfig,
    split_opts: &SplitOptions,
    label: &str,
    out: Option<RunOutputs>,
    quiet: bool,
    teacher_dir: Option<&Path>,
    dev: &Device,
) -> Result<DatasetRun> {
    let n_tasks = ds.n_tasks();
    if n_tasks == 0 || ds.is_empty() || ds.task_type == TaskType::Unlabeled {
        return Err(invalid(format!("{}: no labelled molecules", ds.name)));
    }
    if ds.task_type == TaskType::Classification {
        if let Some((i, y)) = ds
            .labels
            .iter()
            .enumerate()
            .find_map(|(i, l)| l.filter(|&y| y != 0.0 && y != 1.0).map(|y| (i, y)))
        {
            return Err(invalid(format!(
                "{} line {}: classification label {y} is not 0 or 1",
                ds.path.display(),
                ds.lines[i / n_tasks]
            )));
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
                return Err(invalid(
                    "a teacher needs distillation settings (alpha, temperature)".into(),
                ));
            }
            let t = TeacherRun::open(dir, &student)
                .and_then(|t| t.check_seeds(&split_opts.seeds).map(|_| t))
                .map_err(ctx(format!(
                    "teacher {} does not fit {}",
                    dir.display(),
                    ds.name
                )))?;
            Some(t)
        }
        None => None,
    };
    // Pooled teacher embeddings shared by fits whose teacher encoders are identical.
    let mut teacher_cache = TeacherEmbeddingCache::default();
    let tok_path = model_dir.join(chemlm_models::io::TOKENIZER_FILE);
    let tok = Tokenizer::load_dir(model_dir).map_err(ctx(format!(
        "loading the tokenizer of {}",
        model_dir.display()
    )))?;
    let base = Model::load(model_dir, dev)
        .map_err(ctx(format!("loading model {}", model_dir.display())))?;
    if tok.vocab_size() > base.config().vocab_size() {
        return Err(invalid(format!(
            "{}: tokenizer has {} tokens but the model only {}",
            tok_path.display(),
            tok.vocab_size(),
            base.config().vocab_size()
        )));
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
        return Err(invalid(format!(
            "{}: none of the {} molecules can be encoded for this model (first reasons: {})",
            ds.path.display(),
            ds.smiles.len(),
            first
        )));
    }
    let seqs: Vec<Option<Vec<u32>>> = encoded.into_iter().map(|e| e.ok()).collect();

    // Splits first (cheap), so a teacher trained on other splits, seeds or folds is refused
    // before any embedding or training.
    let (plan, sizes) = split_opts.plan()?;
    let seed_splits: Vec<SplitFile> = split_opts
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
                return Err(invalid(format!(
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
                )));
            }
        }
    }
    if let Some(t) = &teacher {
        for split in &seed_splits {
            t.check_split(split.seed, &split.folds_sha256)
                .and_then(|_| {
                    (0..fits_of(split, split_opts.folds))
                        .try_for_each(|f| t.check_fit(&fit_name(split, f)).map(|_| ()))
                })
                .map_err(ctx(format!(
                    "teacher {} does not fit {}",
                    t.dir.display(),
                    ds.name
                )))?;
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
        let n_folds = fits_of(&split, split_opts.folds);
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
                reloaded = Model::load(model_dir, dev)?;
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
                        .load_fit(&name, seed, &split.folds_sha256, &student, dev)
                        .map_err(ctx(format!("teacher for {} {name}", ds.name)))?;
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
                        return Err(invalid(format!(
                            "{} training molecule(s) of {} {name} have no teacher prediction (see above)",
                            failed.len(),
                            ds.name
                        )));
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
                    .map_err(ctx(format!("cannot create {}", dir.display())))?;
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
                        format: super::artifact::META_FORMAT.into(),
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
    split_opts: &SplitOptions,
    model_dir: &Path,
    run: &DatasetRun,
) -> Result<String> {
    std::fs::create_dir_all(out.join("splits"))
        .map_err(ctx(format!("cannot create {}", out.display())))?;
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
            .map_or(split_opts.split.as_str(), |s| s.method.name()),
        split_opts.seeds
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
        "format": super::teacher::RUN_FORMAT,
        "model": model_dir.display().to_string(),
        "teacher": run.teacher,
        "dataset": ds.name,
        "source": source,
        "config": cfg,
        "split": split_opts.split,
        "sizes": split_opts.sizes,
        "k": split_opts.k,
        "folds": split_opts.folds,
        "seeds": split_opts.seeds,
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

/// Refuses an `out` that already holds a run (unless `overwrite`) or holds other files: checked
/// before any work, so a finished run is never replaced by accident and a directory of other files
/// is never swept away with the swap.
pub fn check_out_dir(out: &Path, overwrite: bool) -> Result<()> {
    let holds_run = ["config.json", "results.md", "results.csv"]
        .iter()
        .any(|f| out.join(f).exists());
    if holds_run && !overwrite {
        return Err(invalid(format!(
            "{} already holds a fine-tuning run: pass --overwrite to replace it, or choose another --out",
            out.display()
        )));
    }
    let foreign = !holds_run && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some());
    if foreign {
        return Err(invalid(format!(
            "{} is not empty and holds no fine-tuning run: give a new or empty --out directory",
            out.display()
        )));
    }
    Ok(())
}

/// One fine-tuning run: what `chemlm finetune` does after parsing its flags.
pub struct RunSpec<'a> {
    /// Pretrained model directory (config.json, model.safetensors, tokenizer.json).
    pub model: &'a Path,
    pub dataset: &'a LabeledDataset,
    /// Where the data came from (recorded with its hash in `config.json` and the splits).
    pub source: &'a SplitSource,
    /// Training settings; `distill` must be set when `teacher` is.
    pub config: &'a FinetuneConfig,
    pub split: &'a SplitOptions,
    /// Task-stage distillation: a finished run on the same data, split and seeds.
    pub teacher: Option<&'a Path>,
    /// Run directory to write.
    pub out: &'a Path,
    /// Replace a run already in `out`.
    pub overwrite: bool,
}

/// What [`run`] produced (the run directory is written).
pub struct FinishedRun {
    pub run: DatasetRun,
    /// `results.md`: the summary table.
    pub markdown: String,
}

/// Runs a fine-tuning job on `dev` and writes its run directory. The directory is built in a
/// hidden sibling and swapped in whole at the end, so an old run survives any failure or kill.
pub fn run(spec: &RunSpec, dev: &Device, quiet: bool) -> Result<FinishedRun> {
    check_out_dir(spec.out, spec.overwrite)?;
    if let Some(t) = spec.teacher {
        let same = |p: &Path| std::fs::canonicalize(p).ok();
        if same(t).is_some() && same(t) == same(spec.out) {
            return Err(invalid(format!(
                "--teacher and --out are the same directory ({}); the student would overwrite its teacher",
                t.display()
            )));
        }
    }
    let staged = chemlm_fs::AtomicDir::create(spec.out)?;
    let kd = if spec.teacher.is_some() { "+kd" } else { "" };
    let label = format!("chemlm {:?}{kd}", spec.config.regime).to_lowercase();
    let run = run_dataset(
        spec.dataset,
        spec.source,
        spec.model,
        spec.config,
        spec.split,
        &label,
        Some(RunOutputs {
            dir: staged.path(),
            save_models: true,
        }),
        quiet,
        spec.teacher,
        dev,
    )?;
    let markdown = write_run_files(
        staged.path(),
        spec.dataset,
        spec.source,
        spec.config,
        spec.split,
        spec.model,
        &run,
    )?;
    staged.commit()?;
    Ok(FinishedRun { run, markdown })
}
