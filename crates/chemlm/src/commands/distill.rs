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
//! `loss.png`/`loss.svg`, `distill.toml` (resolved settings) and `summary.json`. The run itself is
//! `chemlm_train::distill::general::run`.

use anyhow::Result;
use chemlm_models::ModelConfig;
use chemlm_train::distill::general::GeneralDistill;
use chemlm_train::distill::LayerMap;
use chemlm_train::optim::{OptimizerKind, ScheduleKind};
use chemlm_train::pretrain::BatchSettings;
use chemlm_train::run_dir as train_common;
use chemlm_train::TrainConfig;
use clap::Args;
use std::path::PathBuf;

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

fn student_config(a: &DistillArgs) -> Result<ModelConfig> {
    match &a.student_config {
        Some(p) => Ok(train_common::read_model_config(p)?),
        None => Ok(chemlm_models::presets::preset(&a.student_preset)?),
    }
}

pub fn run(a: &DistillArgs, quiet: bool) -> Result<()> {
    let spec = GeneralDistill {
        teacher: &a.teacher,
        student: student_config(a)?,
        student_name: a
            .student_config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| a.student_preset.clone()),
        data: &a.data,
        out: &a.out,
        train_split: &a.train_split,
        valid_split: &a.valid_split,
        temperature: a.temperature,
        alpha_kd: a.alpha_kd,
        alpha_mlm: a.alpha_mlm,
        alpha_hidden_mse: a.alpha_mse,
        alpha_mmd: a.alpha_mmd,
        alpha_attention: a.alpha_attention,
        layer_map: a.layer_map.clone(),
        train: TrainConfig {
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
        },
        batch: BatchSettings {
            max_tokens: a.batch_tokens,
            max_sequences: a.max_sequences,
            ..BatchSettings::default()
        },
        eval_batches: a.eval_batches,
        resume: a.resume,
    };
    let summary = chemlm_train::distill::general::run(&spec, &crate::runtime::device()?, quiet)?;
    println!("{summary}");
    Ok(())
}
