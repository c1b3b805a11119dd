//! One training run of a causal LM on an in-memory token corpus, measured the way scaling and
//! TPE studies need: final validation loss, non-embedding parameters, tokens, FLOPs, wall time,
//! and the per-step (epoch, loss) curve for the training-speed estimators.

use crate::config::TrainConfig;
use crate::data::{BatchingConfig, InMemorySource};
use crate::error::{Result, TrainError};
use crate::metrics::{read_metrics, MetricLine};
use crate::objectives::ClmObjective;
use crate::trainer::Trainer;
use candle_core::Device;
use chemlm_models::{LanguageModel, LmKind, Model, ModelConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Token sequences (with `<bos>`/`<eos>`) of a corpus, held in memory.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Training sequences; a run on `n` molecules uses the first `n`.
    pub train: Vec<Vec<u32>>,
    /// Validation sequences (the same for every run).
    pub valid: Vec<Vec<u32>>,
    /// Padding id.
    pub pad_id: u32,
    /// Vocabulary size (the model's `vocab_size` is set to it).
    pub vocab_size: usize,
}

/// What one run should do.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Model architecture (a causal LM; `vocab_size` is overwritten by the corpus's).
    pub model: ModelConfig,
    /// Optimizer, schedule, steps, seed.
    pub train: TrainConfig,
    /// Batching of the training sequences (`epochs: Some(n)` ends the run after n epochs).
    pub batch: BatchingConfig,
    /// Training molecules (prefix of the corpus; `None` = all).
    pub train_molecules: Option<usize>,
}

/// The measurements of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Mean validation loss (nats per predicted token) of the final weights.
    pub valid_loss: f64,
    /// All parameters.
    pub parameters: usize,
    /// Parameters outside the embeddings (Kaplan's N).
    pub non_embedding_parameters: usize,
    /// Training molecules available.
    pub train_molecules: usize,
    /// Real training tokens consumed.
    pub tokens_seen: u64,
    /// Training FLOPs (≈ 3 × forward FLOPs per token × tokens).
    pub flops: f64,
    /// Optimizer updates.
    pub steps: u64,
    /// Training wall-clock seconds (excluding the final evaluation).
    pub wall_seconds: f64,
    /// Last training loss.
    pub final_train_loss: Option<f64>,
    /// Per-step (epoch, loss), for TSE estimators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<(u64, f64)>,
}

/// Trains `spec` on `corpus` from a fresh seeded init; `out` receives metrics.jsonl, the loss
/// plot and the checkpoint (a loadable model directory is not written: runs are measurements).
/// Runs on `device`.
pub fn train_run(
    spec: &RunSpec,
    corpus: &Corpus,
    out: &Path,
    device: &Device,
) -> Result<RunResult> {
    let mut cfg = spec.model.clone();
    cfg.set_vocab_size(corpus.vocab_size);
    let model = Model::new(&cfg, device, spec.train.seed)
        .map_err(|e| TrainError::Config(format!("model: {e}")))?;
    if model.kind() != LmKind::Causal {
        return Err(TrainError::Config(
            "scaling and TPE runs train causal LMs (gpt_neo)".into(),
        ));
    }
    let counts = model
        .parameter_count()
        .map_err(|e| TrainError::Config(format!("model: {e}")))?;
    let fpt = chemlm_models::flops_per_token(&cfg)
        .map_err(|e| TrainError::Config(format!("model: {e}")))? as f64;
    let n = spec
        .train_molecules
        .unwrap_or(corpus.train.len())
        .min(corpus.train.len());
    if n == 0 {
        return Err(TrainError::Data("no training molecules".into()));
    }
    let mut train = InMemorySource::new(
        corpus.train[..n].to_vec(),
        corpus.pad_id,
        BatchingConfig {
            seed: spec.train.seed,
            ..spec.batch.clone()
        },
    )?;
    let mut valid = InMemorySource::new(
        corpus.valid.clone(),
        corpus.pad_id,
        BatchingConfig {
            shuffle: false,
            epochs: Some(1),
            bucket_window: 1,
            ..spec.batch.clone()
        },
    )?;
    let objective = ClmObjective::new(&model, device.clone());
    let mut tc = spec.train.clone();
    tc.eval_every = 0;
    tc.checkpoint_every = 0;
    tc.keep_checkpoints = 1;
    let mut trainer = Trainer::new(tc, model.varmap(), Some(out))?;
    trainer.set_flops_per_token(fpt);
    let summary = trainer.fit(&objective, &mut train, None)?;
    let eval = trainer.evaluate(&objective, &mut valid)?;
    let curve = read_metrics(&out.join("metrics.jsonl"))?
        .into_iter()
        .filter_map(|l| match l {
            MetricLine::Train(r) => Some((r.epoch, r.loss)),
            _ => None,
        })
        .collect();
    Ok(RunResult {
        valid_loss: eval.loss,
        parameters: counts.total,
        non_embedding_parameters: counts.non_embedding,
        train_molecules: n,
        tokens_seen: summary.tokens_seen,
        flops: summary.flops.unwrap_or(fpt * summary.tokens_seen as f64),
        steps: summary.steps,
        wall_seconds: summary.elapsed,
        final_train_loss: summary.losses.last().copied(),
        curve,
    })
}
