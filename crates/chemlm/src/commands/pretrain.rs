//! `chemlm pretrain`: masked-LM (encoders) or causal-LM (decoders) pretraining on token shards,
//! and seq2seq training of T5 models; the run itself is `chemlm_train::pretrain::run`.
//!
//! Settings come from an optional `--config FILE.toml` (top-level `preset`/`model_config`/`init`/
//! `data`/`out`, a `[train]` table = `chemlm_train::TrainConfig`, a `[batch]` table) and every
//! command-line flag overrides the file. The resolved settings are written to
//! `OUT/pretrain.toml`; checkpoints go to `OUT/checkpoints/step-N/` (each one a loadable model
//! directory), the best-validation weights to `OUT/best/`, the final model to `OUT/model/`, and
//! `OUT/metrics.jsonl`, `OUT/loss.png`, `OUT/loss.svg`, `OUT/summary.json` beside them.

use anyhow::{bail, Context, Result};
use chemlm_models::LmKind;
use chemlm_train::optim::{OptimizerKind, ScheduleKind};
use chemlm_train::pretrain::{model_config, PretrainFile};
use clap::Args;
use std::path::PathBuf;

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

pub fn run(a: &PretrainArgs, quiet: bool) -> Result<()> {
    // One process, or one rank of `mpirun -np N chemlm pretrain …` (the launcher's environment
    // says which; see chemlm_train::dist).
    let device = chemlm_train::dist::rank_device(crate::runtime::device()?)?;
    let dist: std::sync::Arc<dyn chemlm_train::dist::Collective> =
        chemlm_train::dist::from_env_on(&device)?.into();
    let result = (|| -> Result<String> {
        let f = resolve(a)?;
        let config = model_config(&f)?;
        check_objective(a, config.kind())?;
        Ok(chemlm_train::pretrain::run_distributed(
            &f,
            config,
            a.resume,
            &device,
            quiet,
            dist.clone(),
        )?)
    })();
    match result {
        Ok(summary) => {
            if dist.rank() == 0 {
                println!("{summary}");
            }
            Ok(())
        }
        Err(e) if dist.world_size() > 1 => {
            // The other ranks wait in their next sum: end the whole job, not just this rank.
            eprintln!(
                "error (rank {} of {}): {e:#}",
                dist.rank(),
                dist.world_size()
            );
            dist.abort(1);
            Err(e)
        }
        Err(e) => Err(e),
    }
}
