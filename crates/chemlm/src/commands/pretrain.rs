//! `chemlm pretrain`: masked-LM (encoders) or causal-LM (decoders) pretraining on token shards.
//!
//! Settings come from an optional `--config FILE.toml` (top-level `preset`/`model_config`/`init`/
//! `data`/`out`, a `[train]` table = `chemlm_train::TrainConfig`, a `[batch]` table) and every
//! command-line flag overrides the file. The resolved settings are written to
//! `OUT/pretrain.toml`; checkpoints go to `OUT/checkpoints/step-N/` (each one a loadable model
//! directory), the best-validation weights to `OUT/best/`, the final model to `OUT/model/`, and
//! `OUT/metrics.jsonl`, `OUT/loss.png`, `OUT/loss.svg`, `OUT/summary.json` beside them.

use super::train_common;
use anyhow::{bail, Context, Result};
use chemlm_data::{BatchConfig, Batching, ShardSet};
use chemlm_models::{LanguageModel, LmKind, Model, ModelConfig};
use chemlm_train::objectives::{ClmObjective, Masker, MlmObjective, Objective, SpecialTokens};
use chemlm_train::optim::{OptimizerKind, ScheduleKind};
use chemlm_train::{ShardSource, TrainConfig, Trainer};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug, Clone, Default)]
pub struct PretrainArgs {
    /// TOML file with the run's settings; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Model preset (see `chemlm model presets`), e.g. molformer-small, bert-small, gpt-small.
    #[arg(long)]
    pub preset: Option<String>,
    /// Model config file (TOML or config.json) instead of a preset.
    #[arg(long)]
    pub model_config: Option<PathBuf>,
    /// Start from the weights of a saved model directory instead of a fresh init.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Token shard directory (from `chemlm data prepare`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output directory of the run.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue from the newest checkpoint in --out.
    #[arg(long)]
    pub resume: bool,
    /// Optimizer updates.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Token budget per batch (padding included).
    #[arg(long)]
    pub batch_tokens: Option<usize>,
    /// Cap on sequences per batch.
    #[arg(long)]
    pub max_sequences: Option<usize>,
    /// Micro-batches per update.
    #[arg(long)]
    pub grad_accum: Option<u32>,
    /// Peak learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Warm-up updates.
    #[arg(long)]
    pub warmup: Option<u64>,
    /// constant | linear | cosine.
    #[arg(long)]
    pub schedule: Option<ScheduleKind>,
    /// adamw | lamb.
    #[arg(long)]
    pub optimizer: Option<OptimizerKind>,
    /// Decoupled weight decay.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Clip the global gradient norm (0 disables).
    #[arg(long)]
    pub max_grad_norm: Option<f64>,
    /// Seed of init, masking, shuffling and dropout.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Validate every N updates (0 = never).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Cap on validation batches per evaluation.
    #[arg(long)]
    pub eval_batches: Option<usize>,
    /// Early stopping after N evaluations without improvement.
    #[arg(long)]
    pub patience: Option<u32>,
    /// Checkpoint every N updates (0 = only at the end).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Checkpoints kept.
    #[arg(long)]
    pub keep_checkpoints: Option<usize>,
    /// Shard split to train on.
    #[arg(long)]
    pub train_split: Option<String>,
    /// Shard split to validate on (skipped when the shards lack it).
    #[arg(long)]
    pub valid_split: Option<String>,
    /// mlm | clm | seq2seq: checked against the model (encoders train by masked LM, decoders by
    /// causal LM, encoder-decoders (T5) by seq2seq on `chemlm data seq2seq` output).
    #[arg(long)]
    pub objective: Option<String>,
    /// Multiply the learning rate by this factor at every step decay (see --lr-decay-every,
    /// --lr-decay-each-epoch); GT4SD's T5 recipe uses 0.99 per epoch.
    #[arg(long)]
    pub lr_decay: Option<f64>,
    /// Updates between two learning-rate decays (0 = never).
    #[arg(long)]
    pub lr_decay_every: Option<u64>,
    /// Decay the learning rate once per epoch of the training data.
    #[arg(long)]
    pub lr_decay_each_epoch: bool,
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

/// File settings with every given flag applied on top.
pub fn resolve(a: &PretrainArgs) -> Result<PretrainFile> {
    let mut f = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str::<PretrainFile>(&text)
                .with_context(|| format!("{}: invalid pretraining config", p.display()))?
        }
        None => PretrainFile::default(),
    };
    macro_rules! set {
        ($flag:expr, $field:expr) => {
            if let Some(v) = $flag.clone() {
                $field = v;
            }
        };
    }
    if a.preset.is_some() || a.model_config.is_some() {
        f.preset = a.preset.clone();
        f.model_config = a.model_config.clone();
    }
    if a.init.is_some() {
        f.init = a.init.clone();
    }
    if a.data.is_some() {
        f.data = a.data.clone();
    }
    if a.out.is_some() {
        f.out = a.out.clone();
    }
    set!(a.train_split, f.train_split);
    set!(a.valid_split, f.valid_split);
    f.train.precision = crate::runtime::train_precision(f.train.precision);
    set!(a.steps, f.train.steps);
    set!(a.lr, f.train.lr);
    set!(a.warmup, f.train.warmup_steps);
    set!(a.schedule, f.train.schedule);
    set!(a.optimizer, f.train.optimizer);
    set!(a.weight_decay, f.train.weight_decay);
    set!(a.grad_accum, f.train.grad_accum);
    set!(a.seed, f.train.seed);
    set!(a.eval_every, f.train.eval_every);
    set!(a.checkpoint_every, f.train.checkpoint_every);
    set!(a.keep_checkpoints, f.train.keep_checkpoints);
    set!(a.batch_tokens, f.batch.max_tokens);
    set!(a.lr_decay, f.train.lr_decay_factor);
    set!(a.lr_decay_every, f.train.lr_decay_every);
    if a.lr_decay_each_epoch {
        f.lr_decay_each_epoch = true;
    }
    if let Some(n) = a.max_grad_norm {
        f.train.max_grad_norm = (n > 0.0).then_some(n);
    }
    if a.eval_batches.is_some() {
        f.train.eval_batches = a.eval_batches;
    }
    if a.patience.is_some() {
        f.train.patience = a.patience;
    }
    if a.max_sequences.is_some() {
        f.batch.max_sequences = a.max_sequences;
    }
    f.train.validate()?;
    Ok(f)
}

fn model_config(f: &PretrainFile) -> Result<ModelConfig> {
    if let Some(dir) = &f.init {
        let p = dir.join(chemlm_models::io::CONFIG_FILE);
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        return Ok(ModelConfig::from_json(&text, &p.display().to_string())?);
    }
    match (&f.preset, &f.model_config) {
        (Some(name), None) => Ok(chemlm_models::presets::preset(name)?),
        (None, Some(p)) => train_common::read_model_config(p),
        (Some(_), Some(_)) => bail!("give either --preset or --model-config, not both"),
        (None, None) => bail!("no model: give --preset NAME, --model-config FILE or --init DIR"),
    }
}

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
    model_dir: &'a Path,
}

/// Checks `--objective` against what the model is trained by.
fn check_objective(a: &PretrainArgs, kind: LmKind) -> Result<()> {
    let want = match kind {
        LmKind::Masked => "mlm",
        LmKind::Causal => "clm",
        LmKind::Seq2Seq => "seq2seq",
    };
    match a.objective.as_deref() {
        None => Ok(()),
        Some(o) if o.eq_ignore_ascii_case(want) => Ok(()),
        Some(o) if ["mlm", "clm", "seq2seq"].contains(&o.to_ascii_lowercase().as_str()) => {
            bail!("--objective {o}: this model trains by {want}")
        }
        Some(o) => bail!("unknown --objective {o:?} (mlm, clm, seq2seq)"),
    }
}

/// `--init DIR` must read tokens exactly as the shards were written: same token for every id.
/// (Equal sizes are not enough: a tokenizer with two ids swapped would train silently on
/// scrambled inputs.)
fn check_same_vocabulary(dir: &Path, shards: &chemlm_data::Tokenizer) -> Result<()> {
    let init = chemlm_data::Tokenizer::load_dir(dir).with_context(|| {
        format!(
            "{}: no usable tokenizer (tokenizer.json, vocab.json): cannot check that its token ids \
             match the shards'",
            dir.display()
        )
    })?;
    let (a, b) = (init.vocab().tokens(), shards.vocab().tokens());
    let differing: Vec<String> = a
        .iter()
        .zip(b)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| format!("id {i}: {x:?} vs {y:?}"))
        .collect();
    if a.len() != b.len() || !differing.is_empty() {
        bail!(
            "{}: its tokenizer does not match the shards' ({} vs {} tokens; {} ids differ{}{}): \
             prepare the shards with this model's vocabulary (`data prepare --vocab DIR/tokenizer.json`)",
            dir.display(),
            a.len(),
            b.len(),
            differing.len(),
            if differing.is_empty() { "" } else { ", first: " },
            differing.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        );
    }
    Ok(())
}

pub fn run(a: &PretrainArgs, quiet: bool) -> Result<()> {
    let f = resolve(a)?;
    let config = model_config(&f)?;
    check_objective(a, config.kind())?;
    if config.kind() == LmKind::Seq2Seq {
        return super::pretrain_seq2seq::run(&f, config, a.resume, quiet);
    }
    let data_dir = f
        .data
        .clone()
        .context("no training data: give --data SHARDS")?;
    let out = f
        .out
        .clone()
        .context("no output directory: give --out DIR")?;
    let shards = ShardSet::open(&data_dir)
        .with_context(|| format!("opening shards {}", data_dir.display()))?;
    let tokenizer = shards.tokenizer()?;
    let tokenizer_path = data_dir.join(&shards.manifest().tokenizer);

    let mut config = config;
    if f.init.is_none() {
        config.set_vocab_size(tokenizer.vocab_size());
    } else if config.vocab_size() != tokenizer.vocab_size() {
        bail!(
            "model {} has a vocabulary of {} tokens, the shards' tokenizer has {}",
            f.init
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            config.vocab_size(),
            tokenizer.vocab_size()
        );
    }
    if let Some(dir) = &f.init {
        check_same_vocabulary(dir, &tokenizer)?;
    }
    config.set_special_token_ids(train_common::tokenizer_ids(&tokenizer));
    let device = crate::runtime::device()?;
    let model = Model::new(&config, &device, f.train.seed)?;
    if let Some(dir) = &f.init {
        // model.safetensors, pytorch_model.bin or their shards, whichever the directory has.
        let (tensors, w) = chemlm_models::io::read_weights(dir, &device)
            .with_context(|| format!("reading the weights of {}", dir.display()))?;
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
        LmKind::Seq2Seq => bail!("encoder-decoder models train on seq2seq data"),
    };

    let max_len = config.max_positions();
    let train_data = Arc::new(shards.split(&f.train_split)?);
    // Batches are prepared on a background thread while the model trains (same batches, same
    // checkpoint positions; see `chemlm_train::Prefetch`).
    let mut train = chemlm_train::Prefetch::new(
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

    let existing = train_common::open_run_dir(&out, a.resume)?;
    let resolved = toml::to_string_pretty(&f).context("serialising the resolved config")?;
    chemlm_models::io::write_atomic(&out.join("pretrain.toml"), resolved.as_bytes())?;

    let mut trainer = Trainer::new(f.train.clone(), model.varmap(), Some(&out))?;
    trainer.set_quiet(quiet);
    trainer.set_flops_per_token(chemlm_models::flops_per_token(&config)? as f64);
    train_common::save_model_checkpoints(&mut trainer, &model, &tokenizer_path, Vec::new());
    if a.resume {
        train_common::resume(&mut trainer, existing, &out, &mut train, &model, &device)?;
    }

    let summary = trainer.fit(
        objective.as_ref(),
        &mut train,
        valid
            .as_mut()
            .map(|v| v as &mut dyn chemlm_train::BatchSource),
    )?;
    let model_dir = out.join("model");
    model.save(&model_dir, Some(&tokenizer_path))?;
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
        model_dir: &model_dir,
    };
    train_common::write_summary(&out, &s)
}
