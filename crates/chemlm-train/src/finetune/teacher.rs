//! Task-stage knowledge distillation (issue 5 §1): a fine-tuned teacher's predictions as soft
//! targets for a student fine-tuned on the same data (`chemlm finetune … --teacher runs/T`).
//!
//! What is done:
//! - The teacher is a `chemlm finetune` run directory. Its `config.json` must name the same data
//!   set (and, when recorded, the same data-file SHA-256), and each fit's `best/finetune.json`
//!   the same tasks and task type, else [`TeacherRun::open`] / [`TeacherRun::load_fit`] fail.
//! - For every fit the student trains (seed, fold), the teacher's model of THAT fit
//!   (`seed-S[-fold-K]/best`) is used, and the split hash recorded for that seed in the
//!   teacher's `config.json` must equal the student's. A teacher trained on another split has
//!   seen (and fitted the labels of) molecules in the student's test set; its soft targets would
//!   leak them, so such a teacher is refused rather than used.
//! - The teacher's outputs for the student's training molecules are computed once per fit
//!   ([`TeacherOutputs::compute`], inference mode, batched by length), with the teacher's own
//!   tokenizer, encoding and pooling, so a teacher with another vocabulary or architecture works.
//!   Classification keeps raw logits; regression keeps original units and is mapped into the
//!   student's standardised space ([`TeacherOutputs::targets`]).
//! - The loss is [`super::loss::finetune_batch_loss`]: `alpha · soft + (1 − alpha) · hard`, soft
//!   from [`crate::distill::task::task_soft_loss`] on every (molecule, task) entry — the teacher
//!   predicts where a label is missing — and hard the run's ordinary true-label loss. Early
//!   stopping, metrics and the saved model are as without a teacher (validation and test are
//!   always scored against the true labels).
//!
//! DeLiCaTe (YiYuDL/DeLiCaTe) distils only at the pretraining stage (TextBrewer
//! `GeneralDistiller`, T = 8, hidden MSE + MMD); its fine-tuning of the student
//! (`finetune/finetune_KD.py`, MolBERT's `FinetuneTask`) uses the labels alone: cross-entropy
//! over two logits for classification, MSE on raw values for regression. This stage is therefore
//! an addition in the TinyBERT / Hinton style, and `alpha = 0` reproduces DeLiCaTe's procedure.
//! Differences that matter: one sigmoid logit per task instead of a two-logit softmax (the same
//! Bernoulli distribution, so the same KL), and regression in standardised units with L1 or MSE.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use super::artifact::FinetunedModel;
use super::standardize::Standardizer;
use super::{FinetuneError, Result};

/// The run manifest `chemlm finetune` writes at the top of a run directory.
pub const RUN_CONFIG_FILE: &str = "config.json";
/// Format tag of [`RUN_CONFIG_FILE`].
pub const RUN_FORMAT: &str = "chemlm-finetune-run/1";

/// The parts of a run's `config.json` a student checks (other keys are ignored).
#[derive(Clone, Debug, serde::Deserialize)]
struct RunManifest {
    format: String,
    dataset: String,
    #[serde(default)]
    source: Option<chemlm_data::split::SplitSource>,
    splits: Vec<RunSplit>,
}

#[derive(Clone, Debug, serde::Deserialize)]
struct RunSplit {
    seed: u64,
    folds_sha256: String,
}

/// What the student trains on, to check a teacher against.
#[derive(Clone, Copy, Debug)]
pub struct StudentTask<'a> {
    /// Data-set name (`LabeledDataset::name`).
    pub dataset: &'a str,
    /// SHA-256 of the data file, when known.
    pub data_sha256: Option<&'a str>,
    pub task_names: &'a [String],
    pub classification: bool,
}

/// A teacher run directory, opened and checked against the student's data set.
#[derive(Clone, Debug)]
pub struct TeacherRun {
    pub dir: PathBuf,
    manifest: RunManifest,
}

fn file_err(path: &Path, reason: impl Into<String>) -> FinetuneError {
    FinetuneError::File {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl TeacherRun {
    /// Reads `dir/config.json` and checks it is a finished fine-tuning run on the student's data.
    pub fn open(dir: &Path, student: &StudentTask) -> Result<Self> {
        let path = dir.join(RUN_CONFIG_FILE);
        if dir.join(super::artifact::META_FILE).is_file() {
            return Err(file_err(
                dir,
                "a single fine-tuned model, not a `chemlm finetune` run directory: the teacher must be \
                 the run (its config.json records the splits), so that each fit is taught by the \
                 teacher model of the same split",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            file_err(
                &path,
                format!("{e} (the teacher must be a `chemlm finetune` run directory)"),
            )
        })?;
        let manifest: RunManifest = serde_json::from_str(&text).map_err(|e| {
            file_err(
                &path,
                format!(
                    "not a `chemlm finetune` run manifest ({e}); is {} a model directory?",
                    dir.display()
                ),
            )
        })?;
        if manifest.format != RUN_FORMAT {
            return Err(file_err(
                &path,
                format!("format {:?}, expected {RUN_FORMAT:?}", manifest.format),
            ));
        }
        if manifest.dataset != student.dataset {
            return Err(file_err(
                &path,
                format!(
                    "the teacher was fine-tuned on {:?}, the student trains on {:?}",
                    manifest.dataset, student.dataset
                ),
            ));
        }
        if let (Some(want), Some(src)) = (student.data_sha256, manifest.source.as_ref()) {
            if src.sha256 != want {
                return Err(file_err(
                    &path,
                    format!(
                        "the teacher's data file {} (sha256 {}) differs from the student's (sha256 {want})",
                        src.path, src.sha256
                    ),
                ));
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// The seeds the teacher run was fitted on.
    pub fn seeds(&self) -> Vec<u64> {
        self.manifest.splits.iter().map(|s| s.seed).collect()
    }

    /// Fails unless the teacher was fitted on every seed in `seeds` (checked before any
    /// training, so a missing seed does not surface after hours of work).
    pub fn check_seeds(&self, seeds: &[u64]) -> Result<()> {
        let have = self.seeds();
        let missing: Vec<u64> = seeds
            .iter()
            .copied()
            .filter(|s| !have.contains(s))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(file_err(
            &self.dir.join(RUN_CONFIG_FILE),
            format!(
                "the teacher has no fit for seed(s) {missing:?} (its seeds: {have:?}); fine-tune the teacher on the student's seeds"
            ),
        ))
    }

    /// Fails unless the teacher's split of `seed` is the student's (`split_sha256`, the hash of
    /// the folds): a teacher trained on other molecules has fitted labels of the student's test
    /// set.
    pub fn check_split(&self, seed: u64, split_sha256: &str) -> Result<()> {
        self.check_seeds(&[seed])?;
        let manifest = self.dir.join(RUN_CONFIG_FILE);
        match self.manifest.splits.iter().find(|s| s.seed == seed) {
            Some(s) if s.folds_sha256 == split_sha256 => Ok(()),
            Some(s) => Err(file_err(
                &manifest,
                format!(
                    "the teacher's split for seed {seed} (sha256 {}) is not the student's ({split_sha256}): \
                     a teacher trained on other molecules would leak test labels; use the same --split, --sizes, --k and seeds",
                    s.folds_sha256
                ),
            )),
            None => Err(file_err(&manifest, format!("no split for seed {seed}"))),
        }
    }

    /// The directory of fit `fit`'s saved model, which must exist.
    pub fn check_fit(&self, fit: &str) -> Result<PathBuf> {
        let best = self.dir.join(fit).join("best");
        if !best.join(super::artifact::META_FILE).is_file() {
            return Err(file_err(
                &best,
                format!(
                    "the teacher run has no saved model for {fit} (expected {}/{})",
                    best.display(),
                    super::artifact::META_FILE
                ),
            ));
        }
        Ok(best)
    }

    /// Loads the teacher's model of fit `fit` (`seed-S` or `seed-S-fold-K`) after checking that
    /// the teacher's split of `seed` is the student's (`split_sha256`) and that the model
    /// predicts the student's tasks.
    pub fn load_fit(
        &self,
        fit: &str,
        seed: u64,
        split_sha256: &str,
        student: &StudentTask,
        dev: &Device,
    ) -> Result<FinetunedModel> {
        self.check_split(seed, split_sha256)?;
        let best = self.check_fit(fit)?;
        let fm = FinetunedModel::load(&best, dev)?;
        let meta = best.join(super::artifact::META_FILE);
        if fm.meta.classification != student.classification {
            return Err(file_err(
                &meta,
                format!(
                    "the teacher is a {} model, the student a {} one",
                    kind_name(fm.meta.classification),
                    kind_name(student.classification)
                ),
            ));
        }
        if fm.meta.task_names != student.task_names {
            return Err(file_err(
                &meta,
                format!(
                    "the teacher predicts {:?}, the student trains on {:?}",
                    fm.meta.task_names, student.task_names
                ),
            ));
        }
        Ok(fm)
    }
}

/// Pooled teacher embeddings by data-set row, valid for one teacher encoder (see
/// [`TeacherOutputs::compute_cached`]).
#[derive(Default)]
pub struct TeacherEmbeddingCache {
    /// Identity of the encoder the embeddings came from ([`encoder_key`]).
    key: Option<String>,
    pooled: HashMap<usize, Vec<f32>>,
}

impl TeacherEmbeddingCache {
    /// Molecules held.
    pub fn len(&self) -> usize {
        self.pooled.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.pooled.is_empty()
    }
}

/// What makes two teachers' pooled embeddings equal: the bytes of the encoder's weights, config
/// and tokenizer, and the pooling and encoding settings.
fn encoder_key(teacher: &FinetunedModel) -> Result<String> {
    let mut parts = Vec::new();
    for f in [
        chemlm_models::io::WEIGHTS_FILE,
        chemlm_models::io::CONFIG_FILE,
        chemlm_models::io::TOKENIZER_FILE,
    ] {
        parts.push(chemlm_data::download::sha256_file(&teacher.dir.join(f))?);
    }
    parts.push(format!(
        "{:?}/{:?}",
        teacher.meta.pooling, teacher.meta.encode
    ));
    Ok(parts.join(","))
}

fn kind_name(classification: bool) -> &'static str {
    if classification {
        "classification"
    } else {
        "regression"
    }
}

/// The teacher's outputs for some data-set rows: logits (classification) or original units
/// (regression), `n_tasks` per row.
#[derive(Clone, Debug)]
pub struct TeacherOutputs {
    pub classification: bool,
    pub n_tasks: usize,
    rows: HashMap<usize, Vec<f64>>,
}

impl TeacherOutputs {
    /// From values already computed: `values[k]` belongs to data-set row `rows[k]`.
    pub fn from_values(
        classification: bool,
        n_tasks: usize,
        rows: &[usize],
        values: Vec<Vec<f64>>,
    ) -> Result<Self> {
        if rows.len() != values.len() || values.iter().any(|v| v.len() != n_tasks) {
            return Err(FinetuneError::Invalid(format!(
                "teacher outputs: {} rows, {} value rows, {n_tasks} tasks expected per row",
                rows.len(),
                values.len()
            )));
        }
        Ok(Self {
            classification,
            n_tasks,
            rows: rows.iter().copied().zip(values).collect(),
        })
    }

    /// Runs `teacher` over `smiles[r]` for every `r` in `rows` (inference mode, `batch` molecules
    /// per pass, sorted by length). Returns the outputs and the `(row, reason)` of molecules the
    /// teacher could not encode; `progress` gets the molecules done after each pass.
    pub fn compute(
        teacher: &FinetunedModel,
        smiles: &[String],
        rows: &[usize],
        batch: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Self, Vec<(usize, String)>)> {
        let mut cache = TeacherEmbeddingCache::default();
        Self::compute_cached(teacher, &mut cache, smiles, rows, batch, progress)
    }

    /// [`TeacherOutputs::compute`] through `cache`: molecules whose pooled embedding the cache
    /// holds for this teacher's encoder are not run through it again. A teacher fine-tuned in
    /// the frozen regime saves the same encoder in every fit, so across seeds and folds each
    /// molecule is embedded once; a different encoder (full-regime teacher) resets the cache.
    pub fn compute_cached(
        teacher: &FinetunedModel,
        cache: &mut TeacherEmbeddingCache,
        smiles: &[String],
        rows: &[usize],
        batch: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Self, Vec<(usize, String)>)> {
        use rayon::prelude::*;
        let key = encoder_key(teacher)?;
        if cache.key.as_deref() != Some(key.as_str()) {
            cache.key = Some(key);
            cache.pooled.clear();
        }
        let missing: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|r| !cache.pooled.contains_key(r))
            .collect();
        progress(rows.len() - missing.len());
        let encoded: Vec<std::result::Result<Vec<u32>, String>> = missing
            .par_iter()
            .map(|&r| match smiles.get(r) {
                Some(s) => teacher.encode(s),
                None => Err(format!("row {r} is not in the data set")),
            })
            .collect();
        let mut failed = Vec::new();
        let mut ok: Vec<usize> = Vec::with_capacity(missing.len());
        for (k, e) in encoded.iter().enumerate() {
            match e {
                Ok(_) => ok.push(k),
                Err(reason) => failed.push((missing[k], reason.clone())),
            }
        }
        ok.sort_by_key(|&k| encoded[k].as_ref().map(Vec::len).unwrap_or(0));
        for chunk in ok.chunks(batch.max(1)) {
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .filter_map(|&k| encoded[k].as_deref().ok())
                .collect();
            let pooled: Vec<Vec<f32>> = teacher.pooled(&seqs)?.to_vec2()?;
            for (&k, e) in chunk.iter().zip(pooled) {
                cache.pooled.insert(missing[k], e);
            }
            progress(chunk.len());
        }

        // The head on the cached embeddings, `batch` rows at a time.
        let n_tasks = teacher.meta.head.n_out;
        let classification = teacher.meta.classification;
        let std = &teacher.meta.standardizer;
        let dim = teacher.meta.head.n_in;
        let have: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|r| cache.pooled.contains_key(r))
            .collect();
        let mut out = HashMap::with_capacity(have.len());
        for chunk in have.chunks(batch.max(1)) {
            let flat: Vec<f32> = chunk
                .iter()
                .flat_map(|r| cache.pooled[r].iter().copied())
                .collect();
            let x = Tensor::from_vec(flat, (chunk.len(), dim), teacher.model.device())?;
            let raw: Vec<Vec<f32>> = teacher.head.forward(&x, None)?.to_vec2()?;
            for (&r, z) in chunk.iter().zip(raw) {
                let v: Vec<f64> = z
                    .into_iter()
                    .enumerate()
                    .map(|(t, z)| {
                        if classification {
                            z as f64
                        } else {
                            std.inverse(t, z as f64)
                        }
                    })
                    .collect();
                out.insert(r, v);
            }
        }
        Ok((
            Self {
                classification,
                n_tasks,
                rows: out,
            },
            failed,
        ))
    }

    /// The outputs of data-set row `row`, if computed.
    pub fn get(&self, row: usize) -> Option<&[f64]> {
        self.rows.get(&row).map(Vec::as_slice)
    }

    /// Number of rows with outputs.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no row has outputs.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Soft targets `[rows, n_tasks]` for the student's head outputs: logits as they are, or
    /// regression values in the student's standardised space (`student_std`, fitted on the
    /// student's training labels). Every row must have outputs.
    pub fn targets(
        &self,
        rows: &[usize],
        student_std: &Standardizer,
        dev: &Device,
    ) -> Result<Tensor> {
        let mut flat = Vec::with_capacity(rows.len() * self.n_tasks);
        for &r in rows {
            let v = self.get(r).ok_or_else(|| {
                FinetuneError::Invalid(format!("the teacher has no prediction for row {r}"))
            })?;
            for (t, &y) in v.iter().enumerate() {
                flat.push(if self.classification {
                    y as f32
                } else {
                    student_std.forward(t, y) as f32
                });
            }
        }
        Ok(Tensor::from_vec(flat, (rows.len(), self.n_tasks), dev)?.to_dtype(DType::F32)?)
    }
}
