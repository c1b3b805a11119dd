//! One language-model pretraining run on token shards (masked LM for encoders, causal LM for
//! decoders; [`seq2seq`] for T5), moved out of the CLI in issue 18 so every front-end runs the
//! same code. [`PretrainFile`] is the whole run's settings (what `chemlm pretrain --config` reads
//! and `OUT/pretrain.toml` records); [`run`] trains and writes the run directory: checkpoints
//! under `OUT/checkpoints/step-N/` (each a loadable model directory), the best-validation weights
//! in `OUT/best/`, the final model in `OUT/model/`, `OUT/metrics.jsonl`, the loss plots and
//! `OUT/summary.json`.

pub mod seq2seq;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::Device;
use chemlm_data::{BatchConfig, Batching, ShardSet};
use chemlm_models::{LanguageModel, LmKind, Model, ModelConfig};
use serde::{Deserialize, Serialize};

use crate::dist::{self, Collective, Single};
use crate::objectives::{ClmObjective, Masker, MlmObjective, Objective, SpecialTokens};
use crate::{Result, ShardSource, TrainConfig, TrainError, Trainer};

pub(crate) fn run_err(msg: String) -> TrainError {
    TrainError::Run(msg)
}

/// `context: cause`, as the CLI's error chain reads.
pub(crate) fn ctx<E: std::fmt::Display>(context: String) -> impl FnOnce(E) -> TrainError {
    move |e| TrainError::Run(format!("{context}: {e}"))
}

/// `[batch]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchSettings {
    /// Token budget per batch, padding included.
    pub max_tokens: usize,
    /// Cap on sequences per batch.
    pub max_sequences: Option<usize>,
    /// Length-bucketing window (sequences sorted by length together).
    pub window: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            max_tokens: 4096,
            max_sequences: None,
            window: 50_000,
        }
    }
}

/// The whole run, as read from `--config` and written to `OUT/pretrain.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainFile {
    pub preset: Option<String>,
    pub model_config: Option<PathBuf>,
    pub init: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub train_split: String,
    pub valid_split: String,
    /// Seq2seq: set `train.lr_decay_every` to the number of updates in one epoch.
    pub lr_decay_each_epoch: bool,
    pub train: TrainConfig,
    pub batch: BatchSettings,
}

impl Default for PretrainFile {
    fn default() -> Self {
        PretrainFile {
            preset: None,
            model_config: None,
            init: None,
            data: None,
            out: None,
            train_split: "train".into(),
            valid_split: "valid".into(),
            lr_decay_each_epoch: false,
            train: TrainConfig {
                eval_every: 500,
                checkpoint_every: 1000,
                ..TrainConfig::default()
            },
            batch: BatchSettings::default(),
        }
    }
}

/// The model a run trains: the config of `--init DIR`, a preset, or a config file.
pub fn model_config(f: &PretrainFile) -> Result<ModelConfig> {
    if let Some(dir) = &f.init {
        let p = dir.join(chemlm_models::io::CONFIG_FILE);
        let text = std::fs::read_to_string(&p).map_err(ctx(format!("reading {}", p.display())))?;
        return Ok(ModelConfig::from_json(&text, &p.display().to_string())?);
    }
    match (&f.preset, &f.model_config) {
        (Some(name), None) => Ok(chemlm_models::presets::preset(name)?),
        (None, Some(p)) => crate::run_dir::read_model_config(p),
        (Some(_), Some(_)) => Err(run_err(
            "give either --preset or --model-config, not both".into(),
        )),
        (None, None) => Err(run_err(
            "no model: give --preset NAME, --model-config FILE or --init DIR".into(),
        )),
    }
}

/// The shard batching of a run: token-budget batches, shuffled in length-sorted windows for
/// training, in order for validation.
pub fn batch_config(b: &BatchSettings, seed: u64, shuffle: bool, max_len: usize) -> BatchConfig {
    BatchConfig {
        batching: Batching::Tokens {
            max_tokens: b.max_tokens,
            max_sequences: b.max_sequences,
        },
        window: if shuffle { b.window } else { 1 },
        shuffle,
        seed,
        max_len: Some(max_len),
        pad_to_multiple_of: 1,
    }
}

/// `summary.json` of a run.
#[derive(Serialize)]
struct Summary<'a> {
    architecture: &'a str,
    objective: &'a str,
    parameters: usize,
    non_embedding_parameters: usize,
    steps: u64,
    final_train_loss: Option<f64>,
    best_valid_loss: Option<f64>,
    last_valid_loss: Option<f64>,
    last_valid_accuracy: Option<f64>,
    tokens_seen: u64,
    flops: Option<f64>,
    wall_seconds: f64,
    stopped_early: bool,
    /// Processes of a data-parallel run (1: one process).
    world_size: usize,
    model_dir: &'a Path,
}

/// `--init DIR` must read tokens exactly as the shards were written: same token for every id.
/// (Equal sizes are not enough: a tokenizer with two ids swapped would train silently on
/// scrambled inputs.)
pub fn check_same_vocabulary(dir: &Path, shards: &chemlm_data::Tokenizer) -> Result<()> {
    let init = chemlm_data::Tokenizer::load_dir(dir).map_err(ctx({
        format!(
            "{}: no usable tokenizer (tokenizer.json, vocab.json): cannot check that its token ids \
             match the shards'",
            dir.display()
        )
    }))?;
    let (a, b) = (init.vocab().tokens(), shards.vocab().tokens());
    let differing: Vec<String> = a
        .iter()
        .zip(b)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| format!("id {i}: {x:?} vs {y:?}"))
        .collect();
    if a.len() != b.len() || !differing.is_empty() {
        return Err(run_err(format!(
            "{}: its tokenizer does not match the shards' ({} vs {} tokens; {} ids differ{}{}): \
             prepare the shards with this model's vocabulary (`data prepare --vocab DIR/tokenizer.json`)",
            dir.display(),
            a.len(),
            b.len(),
            differing.len(),
            if differing.is_empty() { "" } else { ", first: " },
            differing.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        )));
    }
    Ok(())
}

/// Trains the masked or causal LM of `config` as `f` says (on `device`; `resume` continues the
/// newest checkpoint of `f.out`) and writes the run directory. Returns `summary.json` as one
/// JSON line. Encoder-decoder models go to [`seq2seq::run`].
pub fn run(
    f: &PretrainFile,
    config: ModelConfig,
    resume: bool,
    device: &Device,
    quiet: bool,
) -> Result<String> {
    run_distributed(f, config, resume, device, quiet, Arc::new(Single))
}

/// [`run`] as one rank of a data-parallel job over `dist` (every rank calls it with the same
/// arguments): `f.batch` is the global batch, each rank computes its rows of it and the
/// gradients are summed over ranks (see [`crate::dist`]). Rank 0 alone writes the run directory;
/// every rank reads it to resume, so on several machines it must be on a shared file system.
/// A checkpoint resumes on any number of ranks.
pub fn run_distributed(
    f: &PretrainFile,
    config: ModelConfig,
    resume: bool,
    device: &Device,
    quiet: bool,
    dist: Arc<dyn Collective>,
) -> Result<String> {
    let (rank, world) = (dist.rank(), dist.world_size());
    let lead = rank == 0;
    if config.kind() == LmKind::Seq2Seq {
        if world > 1 {
            return Err(run_err(format!(
                "seq2seq pretraining runs in one process (this job has {world}): launch it \
                 without mpirun/srun"
            )));
        }
        return seq2seq::run(f, config, resume, device, quiet);
    }
    let data_dir = f
        .data
        .clone()
        .ok_or_else(|| run_err("no training data: give --data SHARDS".into()))?;
    let out = f
        .out
        .clone()
        .ok_or_else(|| run_err("no output directory: give --out DIR".into()))?;
    let shards =
        ShardSet::open(&data_dir).map_err(ctx(format!("opening shards {}", data_dir.display())))?;
    let tokenizer = shards.tokenizer()?;
    let tokenizer_path = data_dir.join(&shards.manifest().tokenizer);

    let mut config = config;
    if f.init.is_none() {
        config.set_vocab_size(tokenizer.vocab_size());
    } else if config.vocab_size() != tokenizer.vocab_size() {
        return Err(run_err(format!(
            "model {} has a vocabulary of {} tokens, the shards' tokenizer has {}",
            f.init
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            config.vocab_size(),
            tokenizer.vocab_size()
        )));
    }
    if let Some(dir) = &f.init {
        check_same_vocabulary(dir, &tokenizer)?;
    }
    config.set_special_token_ids(crate::run_dir::tokenizer_ids(&tokenizer));
    let model = Model::new(&config, device, f.train.seed)?;
    if let Some(dir) = &f.init {
        // model.safetensors, pytorch_model.bin or their shards, whichever the directory has.
        let (tensors, w) = chemlm_models::io::read_weights(dir, device)
            .map_err(ctx(format!("reading the weights of {}", dir.display())))?;
        model.assign(&tensors, &w)?;
        if !model.lm_head_loaded() {
            // An encoder-only checkpoint (e.g. ChemBERTa-MTR): pretraining trains the fresh
            // head, so from here on its logits mean something and checkpoints save it.
            tracing::warn!(
                "{}: no LM head in the checkpoint; pretraining starts it from random weights",
                dir.display()
            );
            model.set_lm_head_loaded(true);
        }
    }
    let counts = model.parameter_count()?;

    let sp = tokenizer.special_ids();
    let objective: Box<dyn Objective + '_> = match model.kind() {
        LmKind::Masked => {
            let specials = SpecialTokens {
                vocab_size: tokenizer.vocab_size() as u32,
                mask_id: sp.mask,
                pad_id: sp.pad,
                special_ids: vec![sp.bos, sp.eos, sp.pad, sp.mask, sp.unk],
            };
            Box::new(MlmObjective::new(
                &model,
                Masker::new(f.train.masking, &specials)?,
                device.clone(),
            ))
        }
        LmKind::Causal => Box::new(ClmObjective::new(&model, device.clone())),
        LmKind::Seq2Seq => {
            return Err(run_err(
                "encoder-decoder models train on seq2seq data".into(),
            ))
        }
    };

    let max_len = config.max_positions();
    let train_data = Arc::new(shards.split(&f.train_split)?);
    // Batches are prepared on a background thread while the model trains (same batches, same
    // checkpoint positions; see `crate::Prefetch`).
    let mut train = crate::Prefetch::new(
        ShardSource::new(
            train_data,
            batch_config(&f.batch, f.train.seed, true, max_len),
            sp.pad,
            None,
        )?,
        4,
    );
    let mut valid = if shards.manifest().sequences(&f.valid_split) > 0 {
        let d = Arc::new(shards.split(&f.valid_split)?);
        Some(ShardSource::new(
            d,
            batch_config(&f.batch, f.train.seed, false, max_len),
            sp.pad,
            Some(1),
        )?)
    } else {
        tracing::warn!(split = %f.valid_split, "the shards have no validation split: no validation, no early stopping");
        None
    };

    let existing = crate::run_dir::open_run_dir(&out, resume)?;
    if lead {
        let resolved = toml::to_string_pretty(&f)
            .map_err(ctx("serialising the resolved config".to_string()))?;
        chemlm_models::io::write_atomic(&out.join("pretrain.toml"), resolved.as_bytes())?;
    }

    let mut trainer = Trainer::new(
        f.train.clone(),
        model.varmap(),
        lead.then_some(out.as_path()),
    )?;
    trainer.set_quiet(quiet || !lead);
    trainer.set_collective(dist.clone());
    trainer.set_flops_per_token(chemlm_models::flops_per_token(&config)? as f64);
    crate::run_dir::save_model_checkpoints(&mut trainer, &model, &tokenizer_path, Vec::new());
    if resume {
        crate::run_dir::resume(&mut trainer, existing, &out, &mut train, &model, device)?;
    }
    if world > 1 {
        // Same model, same starting point on every rank, or nothing trains.
        dist::check_same(dist.as_ref(), "parameter count", counts.total as f64)?;
        dist::check_same(dist.as_ref(), "step to start from", trainer.step() as f64)?;
        dist::check_same(
            dist.as_ref(),
            "weights (sum of |w|)",
            dist::abs_sum(trainer.params())?,
        )?;
        tracing::info!(
            world_size = world,
            backend = dist.backend(),
            "data-parallel: the global batch is split over the ranks"
        );
    }

    let summary = trainer.fit(
        objective.as_ref(),
        &mut train,
        valid.as_mut().map(|v| v as &mut dyn crate::BatchSource),
    )?;
    let model_dir = out.join("model");
    if lead {
        model.save(&model_dir, Some(&tokenizer_path))?;
    }
    let s = Summary {
        architecture: config.architecture(),
        objective: objective.name(),
        parameters: counts.total,
        non_embedding_parameters: counts.non_embedding,
        steps: summary.steps,
        final_train_loss: summary.losses.last().copied(),
        best_valid_loss: summary.best_valid,
        last_valid_loss: summary.last_valid.map(|v| v.loss),
        last_valid_accuracy: summary.last_valid.and_then(|v| v.accuracy),
        tokens_seen: summary.tokens_seen,
        flops: summary.flops,
        wall_seconds: summary.elapsed,
        stopped_early: summary.stopped_early,
        world_size: world,
        model_dir: &model_dir,
    };
    if lead {
        crate::run_dir::write_summary(&out, &s)
    } else {
        serde_json::to_string(&s).map_err(ctx("serialising the summary".to_string()))
    }
}
