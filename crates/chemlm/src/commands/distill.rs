//! `chemlm distill`: general (pretraining-stage) knowledge distillation of a masked-LM teacher
//! into a smaller student on token shards (DeLiCaTe: molbert → delicate).
//!
//! The teacher is a saved model directory and stays frozen; the student is built from a preset or
//! a config file and trained with soft-target KL (temperature `T`, ×T²), hidden-state MSE and
//! Gram MMD on a layer map, optional attention MSE and the hard MLM loss (see
//! `chemlm_train::distill`), by the ordinary trainer. Layout of `--out` as `chemlm pretrain`:
//! `checkpoints/step-N/` (each a loadable student model directory that also holds the learned
//! projections, so `--resume` continues exactly), `best/`, the final student in `model/`,
//! `metrics.jsonl` (total loss), `distill_components.jsonl` (each term per micro-batch),
//! `loss.png`/`loss.svg`, `distill.toml` (resolved settings) and `summary.json`.

use super::pretrain::{batch_config, BatchSettings};
use super::train_common;
use anyhow::{bail, Context, Result};
use chemlm_data::{ShardSet, Tokenizer};
use chemlm_models::{Model, ModelConfig};
use chemlm_train::distill::{
    trainable_params, DistillConfig, DistillLosses, DistillObjective, LayerMap, Projections,
};
use chemlm_train::objectives::{Masker, SpecialTokens};
use chemlm_train::optim::{OptimizerKind, ScheduleKind};
use chemlm_train::{rng, ShardSource, TrainConfig, Trainer};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub struct DistillArgs {
    /// Teacher model directory (config.json, model.safetensors, tokenizer.json); kept frozen.
    #[arg(long)]
    pub teacher: PathBuf,
    /// Student preset (see `chemlm model presets`), e.g. delicate, albert-small, bert-small.
    #[arg(long, default_value = "delicate")]
    pub student_preset: String,
    /// Student config file (TOML or config.json) instead of a preset.
    #[arg(long)]
    pub student_config: Option<PathBuf>,
    /// Token shard directory (from `chemlm data prepare`), tokenized like the teacher's data.
    #[arg(long)]
    pub data: PathBuf,
    /// Output directory of the run.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue from the newest checkpoint in --out (pass the same settings again).
    #[arg(long)]
    pub resume: bool,
    /// Optimizer updates.
    #[arg(long, default_value_t = 10_000)]
    pub steps: u64,
    /// Token budget per batch (padding included).
    #[arg(long, default_value_t = 4096)]
    pub batch_tokens: usize,
    /// Cap on sequences per batch.
    #[arg(long)]
    pub max_sequences: Option<usize>,
    /// Micro-batches per update.
    #[arg(long, default_value_t = 1)]
    pub grad_accum: u32,
    /// Peak learning rate.
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    /// Warm-up updates.
    #[arg(long, default_value_t = 500)]
    pub warmup: u64,
    /// constant | linear | cosine.
    #[arg(long, default_value = "linear")]
    pub schedule: ScheduleKind,
    /// adamw | lamb.
    #[arg(long, default_value = "adamw")]
    pub optimizer: OptimizerKind,
    /// Decoupled weight decay.
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Clip the global gradient norm (0 disables).
    #[arg(long, default_value_t = 1.0)]
    pub max_grad_norm: f64,
    /// Seed of the student's init, masking, shuffling, dropout and projections.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Validate every N updates (0 = never).
    #[arg(long, default_value_t = 500)]
    pub eval_every: u64,
    /// Cap on validation batches per evaluation.
    #[arg(long, default_value_t = 50)]
    pub eval_batches: usize,
    /// Checkpoint every N updates (0 = only at the end).
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: u64,
    /// Checkpoints kept.
    #[arg(long, default_value_t = 3)]
    pub keep_checkpoints: usize,
    /// Soft-target temperature (DeLiCaTe: 8).
    #[arg(long, default_value_t = 8.0)]
    pub temperature: f64,
    /// Weight of the soft-target KL on the MLM logits.
    #[arg(long, default_value_t = 1.0)]
    pub alpha_kd: f64,
    /// Weight of the hard MLM loss.
    #[arg(long, default_value_t = 1.0)]
    pub alpha_mlm: f64,
    /// Weight of the hidden-state MSE.
    #[arg(long, default_value_t = 1.0)]
    pub alpha_mse: f64,
    /// Weight of the hidden-state Gram MMD.
    #[arg(long, default_value_t = 1.0)]
    pub alpha_mmd: f64,
    /// Weight of attention-map matching (0 = off).
    #[arg(long, default_value_t = 0.0)]
    pub alpha_attention: f64,
    /// Teacher:student hidden-state pairs, e.g. 0:0,4:1,8:2,12:3 (default: evenly spaced, which
    /// is exactly that for a 12-layer teacher and a 3-pass student).
    #[arg(long)]
    pub layer_map: Option<LayerMap>,
    /// Shard split to train on.
    #[arg(long, default_value = "train")]
    pub train_split: String,
    /// Shard split to validate on (skipped when the shards lack it).
    #[arg(long, default_value = "valid")]
    pub valid_split: String,
}

/// Resolved settings, written to `OUT/distill.toml`.
#[derive(Debug, Clone, Serialize)]
struct DistillFile<'a> {
    teacher: &'a Path,
    student: String,
    data: &'a Path,
    train_split: &'a str,
    valid_split: &'a str,
    distill: &'a DistillConfig,
    train: &'a TrainConfig,
    batch: &'a BatchSettings,
}

#[derive(Serialize)]
struct Summary<'a> {
    teacher: &'a Path,
    teacher_parameters: usize,
    student_architecture: &'a str,
    student_parameters: usize,
    compression: f64,
    projection_parameters: usize,
    steps: u64,
    final_train_loss: Option<f64>,
    best_valid_loss: Option<f64>,
    /// Each loss term on the validation split at the end (None without a validation split).
    final_valid_components: Option<DistillLosses>,
    tokens_seen: u64,
    wall_seconds: f64,
    model_dir: &'a Path,
}

fn student_config(a: &DistillArgs) -> Result<ModelConfig> {
    match &a.student_config {
        Some(p) => train_common::read_model_config(p),
        None => Ok(chemlm_models::presets::preset(&a.student_preset)?),
    }
}

/// The teacher must read the shards' tokens: same vocabulary, token for token.
fn check_teacher_tokenizer(teacher_dir: &Path, shards_tok: &Tokenizer) -> Result<()> {
    let p = teacher_dir.join(chemlm_models::io::TOKENIZER_FILE);
    if !p.exists() {
        tracing::warn!(
            "{}: no tokenizer.json; assuming the teacher uses the shards' vocabulary",
            teacher_dir.display()
        );
        return Ok(());
    }
    let t = Tokenizer::load(&p)?;
    if t.vocab().tokens() != shards_tok.vocab().tokens() {
        bail!(
            "{} has a different vocabulary ({} tokens) from the shards' tokenizer ({} tokens): \
             distill on shards prepared with the teacher's tokenizer",
            p.display(),
            t.vocab_size(),
            shards_tok.vocab_size()
        );
    }
    Ok(())
}

pub fn run(a: &DistillArgs, quiet: bool) -> Result<()> {
    let shards =
        ShardSet::open(&a.data).with_context(|| format!("opening shards {}", a.data.display()))?;
    let tokenizer = shards.tokenizer()?;
    let tokenizer_path = a.data.join(&shards.manifest().tokenizer);
    let device = crate::runtime::device()?;

    let teacher = Model::load(&a.teacher, &device)
        .with_context(|| format!("loading teacher {}", a.teacher.display()))?;
    check_teacher_tokenizer(&a.teacher, &tokenizer)?;
    if a.alpha_kd > 0.0 && !teacher.lm_head_loaded() {
        bail!(
            "teacher {} has no masked-LM head (an encoder-only checkpoint), so it has no \
             logits to distil: pass --alpha-kd 0 and distil hidden states or attention only, \
             or pretrain the teacher first",
            a.teacher.display()
        );
    }
    let mut scfg = student_config(a)?;
    scfg.set_vocab_size(tokenizer.vocab_size());
    scfg.set_special_token_ids(train_common::tokenizer_ids(&tokenizer));
    let tcfg = teacher.config().clone();
    if tcfg.vocab_size() != tokenizer.vocab_size() {
        bail!(
            "teacher {} has a vocabulary of {} tokens, the shards' tokenizer {}",
            a.teacher.display(),
            tcfg.vocab_size(),
            tokenizer.vocab_size()
        );
    }
    let train_cfg = TrainConfig {
        steps: a.steps,
        lr: a.lr,
        warmup_steps: a.warmup,
        schedule: a.schedule,
        optimizer: a.optimizer,
        weight_decay: a.weight_decay,
        max_grad_norm: (a.max_grad_norm > 0.0).then_some(a.max_grad_norm),
        grad_accum: a.grad_accum,
        seed: a.seed,
        eval_every: a.eval_every,
        eval_batches: Some(a.eval_batches),
        checkpoint_every: a.checkpoint_every,
        keep_checkpoints: a.keep_checkpoints,
        precision: crate::runtime::precision(),
        ..TrainConfig::default()
    };
    train_cfg.validate()?;
    let dcfg = DistillConfig {
        temperature: a.temperature,
        alpha_kd: a.alpha_kd,
        alpha_mlm: a.alpha_mlm,
        alpha_hidden_mse: a.alpha_mse,
        alpha_mmd: a.alpha_mmd,
        alpha_attention: a.alpha_attention,
        layer_map: a
            .layer_map
            .clone()
            .unwrap_or_else(|| LayerMap::evenly(tcfg.num_layers(), scfg.num_layers())),
    };
    dcfg.validate().map_err(anyhow::Error::msg)?;
    let batch = BatchSettings {
        max_tokens: a.batch_tokens,
        max_sequences: a.max_sequences,
        ..BatchSettings::default()
    };

    let student = Model::new(&scfg, &device, a.seed)?;
    let projections = Projections::new(
        &dcfg.layer_map,
        scfg.hidden_size(),
        tcfg.hidden_size(),
        a.seed ^ 0x5EED_D157,
        &device,
    )?;
    let sp = tokenizer.special_ids();
    let specials = SpecialTokens {
        vocab_size: tokenizer.vocab_size() as u32,
        mask_id: sp.mask,
        pad_id: sp.pad,
        special_ids: vec![sp.bos, sp.eos, sp.pad, sp.mask, sp.unk],
    };
    let objective = DistillObjective::new(
        &teacher,
        &student,
        &projections,
        Masker::new(train_cfg.masking, &specials)?,
        dcfg.clone(),
        device.clone(),
    )?;

    let max_len = tcfg.max_positions().min(scfg.max_positions());
    let train_data = Arc::new(shards.split(&a.train_split)?);
    // Batches are prepared on a background thread while the model trains (same batches, same
    // checkpoint positions; see `chemlm_train::Prefetch`).
    let mut train = chemlm_train::Prefetch::new(
        ShardSource::new(
            train_data,
            batch_config(&batch, a.seed, true, max_len),
            sp.pad,
            None,
        )?,
        4,
    );
    let mut valid = if shards.manifest().sequences(&a.valid_split) > 0 {
        let d = Arc::new(shards.split(&a.valid_split)?);
        Some(ShardSource::new(
            d,
            batch_config(&batch, a.seed, false, max_len),
            sp.pad,
            Some(1),
        )?)
    } else {
        tracing::warn!(split = %a.valid_split, "the shards have no validation split: no validation");
        None
    };

    let existing = train_common::open_run_dir(&a.out, a.resume)?;
    let resolved = DistillFile {
        teacher: &a.teacher,
        student: a
            .student_config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| a.student_preset.clone()),
        data: &a.data,
        train_split: &a.train_split,
        valid_split: &a.valid_split,
        distill: &dcfg,
        train: &train_cfg,
        batch: &batch,
    };
    let text = toml::to_string_pretty(&resolved).context("serialising the settings")?;
    chemlm_models::io::write_atomic(&a.out.join("distill.toml"), text.as_bytes())?;

    let params = trainable_params(&student, &projections, &train_cfg.decay);
    let projection_parameters: usize = projections
        .named_vars()
        .iter()
        .map(|(_, v)| v.elem_count())
        .sum();
    let mut trainer = Trainer::with_params(train_cfg.clone(), params, Some(&a.out))?;
    trainer.set_quiet(quiet);
    // Training FLOPs per token: student forward + backward (3×) plus the teacher's forward.
    trainer.set_flops_per_token(
        (3 * chemlm_models::flops_per_token(&scfg)? + chemlm_models::flops_per_token(&tcfg)?)
            as f64,
    );
    // Every checkpoint and best/ is a student model directory; its weights file also holds the
    // projections.
    train_common::save_model_checkpoints(
        &mut trainer,
        &student,
        &tokenizer_path,
        projections.named_vars(),
    );
    let components = a.out.join("distill_components.jsonl");
    if a.resume {
        train_common::resume(
            &mut trainer,
            existing,
            &a.out,
            &mut train,
            &student,
            &device,
        )?;
    }
    objective.set_component_log(&components, a.resume)?;

    let summary = trainer.fit(
        &objective,
        &mut train,
        valid
            .as_mut()
            .map(|v| v as &mut dyn chemlm_train::BatchSource),
    )?;
    let model_dir = a.out.join("model");
    student.save(&model_dir, Some(&tokenizer_path))?;
    let final_valid_components = match valid.as_mut() {
        Some(v) => {
            let mut r = rng::derived_rng(a.seed, 2);
            Some(objective.evaluate_components(v, &mut r, Some(a.eval_batches))?)
        }
        None => None,
    };
    let (tp, stp) = (
        teacher.parameter_count()?.total,
        student.parameter_count()?.total,
    );
    let s = Summary {
        teacher: &a.teacher,
        teacher_parameters: tp,
        student_architecture: scfg.architecture(),
        student_parameters: stp,
        compression: tp as f64 / stp.max(1) as f64,
        projection_parameters,
        steps: summary.steps,
        final_train_loss: summary.losses.last().copied(),
        best_valid_loss: summary.best_valid,
        final_valid_components,
        tokens_seen: summary.tokens_seen,
        wall_seconds: summary.elapsed,
        model_dir: &model_dir,
    };
    let json = serde_json::to_string_pretty(&s)?;
    chemlm_models::io::write_atomic(&a.out.join("summary.json"), json.as_bytes())?;
    println!("{}", serde_json::to_string(&s)?);
    Ok(())
}
