//! The training loop: accumulation, clipping, schedule, evaluation, early stopping, checkpoints,
//! metrics, progress and the final loss curve.
//!
//! Determinism: every random choice the trainer makes comes from one ChaCha8 stream whose position
//! is checkpointed together with the data position, the optimizer moments and the step, so a run
//! resumed from a checkpoint repeats the uninterrupted run's losses bit for bit on CPU (the model
//! must draw its own randomness, e.g. dropout, from seeded state too). Validation uses a fresh
//! stream derived from the seed at every evaluation, so evaluations are comparable.

use crate::checkpoint::{self, TrainerState};
use crate::config::TrainConfig;
use crate::data::BatchSource;
use crate::dist::{self, Collective};
use crate::error::{Result, TrainError};
use crate::metrics::{MetricLine, MetricsWriter, StepRecord, TpeTracker, ValidRecord};
use crate::objectives::Objective;
use crate::optim::{self, Optimizer, ParamSet};
use crate::progress::Progress;
use crate::rng;
use candle_core::{DType, Tensor};
use candle_nn::VarMap;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// RNG stream of training-time randomness (masking).
const TRAIN_STREAM: u64 = 1;
/// RNG stream of validation masking (re-created at each evaluation).
const VALID_STREAM: u64 = 2;

/// Seed of the model's own randomness for micro-batch `micro` of update `step` (SplitMix64 of
/// the three, so neighbouring steps get unrelated streams).
fn model_seed(seed: u64, step: u64, micro: u32) -> u64 {
    let mut z = seed
        .wrapping_add(step.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add((micro as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hook that adds files (model config, vocabulary) to a checkpoint or best-model directory
/// before it is published.
pub type CheckpointHook = Box<dyn Fn(&Path) -> Result<()>>;

/// Result of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalResult {
    /// Mean loss per predicted token.
    pub loss: f64,
    /// `exp(loss)`.
    pub perplexity: f64,
    /// Arg-max accuracy on predicted tokens.
    pub accuracy: Option<f64>,
    /// Predicted tokens evaluated.
    pub predicted_tokens: u64,
}

/// What a call to [`Trainer::fit`] did.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// Optimizer updates completed in total (including before a resume).
    pub steps: u64,
    /// Per-step training losses of this call.
    pub losses: Vec<f64>,
    /// Last evaluation.
    pub last_valid: Option<EvalResult>,
    /// Best validation loss of the run.
    pub best_valid: Option<f64>,
    /// True when early stopping ended the run.
    pub stopped_early: bool,
    /// True when a finite training source ran out before `steps`.
    pub data_exhausted: bool,
    /// Real training tokens consumed in total.
    pub tokens_seen: u64,
    /// Training wall-clock seconds in total.
    pub elapsed: f64,
    /// Training FLOPs in total, when known.
    pub flops: Option<f64>,
    /// The last checkpoint written.
    pub checkpoint: Option<PathBuf>,
}

/// Trains the parameters of one model.
pub struct Trainer {
    cfg: TrainConfig,
    params: ParamSet,
    optimizer: Box<dyn Optimizer>,
    out_dir: Option<PathBuf>,
    rng: ChaCha8Rng,
    step: u64,
    tokens_seen: u64,
    elapsed_before: f64,
    best_valid: Option<f64>,
    evals_without_improvement: u32,
    tpe: TpeTracker,
    resumed_at: Option<u64>,
    quiet: bool,
    flops_per_token: Option<f64>,
    hook: Option<CheckpointHook>,
    /// f16 only: the dynamic loss scale (see [`optim::LossScaler`]).
    scaler: Option<optim::LossScaler>,
    /// The processes of a data-parallel run ([`dist::Single`] by default).
    dist: Arc<dyn Collective>,
}

impl Trainer {
    /// Trains every variable of `varmap`. With `out_dir`, writes `metrics.jsonl`, checkpoints,
    /// `best/` (best validation weights) and `loss.png`/`loss.svg` there.
    pub fn new(cfg: TrainConfig, varmap: &VarMap, out_dir: Option<&Path>) -> Result<Self> {
        let params = ParamSet::from_varmap(varmap, &cfg.decay);
        Self::with_params(cfg, params, out_dir)
    }

    /// Trains the given parameters only.
    pub fn with_params(cfg: TrainConfig, params: ParamSet, out_dir: Option<&Path>) -> Result<Self> {
        cfg.validate()?;
        if params.is_empty() {
            return Err(TrainError::Config("no trainable parameters".into()));
        }
        if let Some(d) = out_dir {
            std::fs::create_dir_all(d).map_err(|e| TrainError::io(d, e))?;
        }
        let optimizer = optim::build_optimizer(cfg.optimizer, cfg.adam_hyper(), &params);
        let cfg_scaler = cfg
            .precision
            .needs_loss_scaling()
            .then(optim::LossScaler::default);
        Ok(Trainer {
            rng: rng::derived_rng(cfg.seed, TRAIN_STREAM),
            tpe: TpeTracker::new(cfg.tse_gamma),
            cfg,
            params,
            optimizer,
            out_dir: out_dir.map(Path::to_path_buf),
            step: 0,
            tokens_seen: 0,
            elapsed_before: 0.0,
            best_valid: None,
            evals_without_improvement: 0,
            resumed_at: None,
            quiet: true,
            flops_per_token: None,
            hook: None,
            scaler: cfg_scaler,
            dist: Arc::new(dist::Single),
        })
    }

    /// Trains data-parallel over the processes of `c`: each computes its rows of every batch
    /// (see [`dist::rank_rows`]) and the step's losses, counts and gradients are summed over
    /// them before the update, so every rank takes the same step. Only the rank that was given
    /// an output directory writes (pass one to rank 0 only).
    pub fn set_collective(&mut self, c: Arc<dyn Collective>) {
        self.dist = c;
    }

    /// Shows a progress bar unless `quiet` (the default is quiet, for library use).
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }

    /// Training FLOPs per real token (≈ 3 × forward FLOPs per token), to log cumulative FLOPs.
    pub fn set_flops_per_token(&mut self, flops: f64) {
        self.flops_per_token = Some(flops);
    }

    /// Adds files to every checkpoint and to `best/` (e.g. the model's config and vocabulary, so
    /// a checkpoint directory is a loadable model directory).
    pub fn set_checkpoint_hook(&mut self, hook: CheckpointHook) {
        self.hook = Some(hook);
    }

    /// The parameters being trained.
    pub fn params(&self) -> &ParamSet {
        &self.params
    }

    /// Optimizer updates completed.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Restores weights, optimizer, RNG, step and the data position of `train` from checkpoint
    /// directory `dir`.
    pub fn resume_from(&mut self, dir: &Path, train: &mut dyn BatchSource) -> Result<()> {
        let st = checkpoint::load_checkpoint(dir, &self.params, self.optimizer.as_mut())?;
        self.rng = rng::rng_from_state(&st.rng).map_err(|e| TrainError::checkpoint(dir, e))?;
        train
            .restore(&st.data)
            .map_err(|e| TrainError::checkpoint(dir, e))?;
        self.step = st.step;
        self.tokens_seen = st.tokens_seen;
        self.elapsed_before = st.elapsed;
        self.best_valid = st.best_valid;
        self.evals_without_improvement = st.evals_without_improvement;
        self.tpe = st.tpe;
        self.resumed_at = Some(st.step);
        tracing::info!(checkpoint = %dir.display(), step = st.step, "resumed");
        Ok(())
    }

    /// Resumes from the newest checkpoint under the output directory, if any; returns it.
    pub fn resume_latest(&mut self, train: &mut dyn BatchSource) -> Result<Option<PathBuf>> {
        let Some(out) = self.out_dir.clone() else {
            return Ok(None);
        };
        match checkpoint::latest_checkpoint(&out)? {
            Some(dir) => {
                self.resume_from(&dir, train)?;
                Ok(Some(dir))
            }
            None => Ok(None),
        }
    }

    fn state(&self, train: &dyn BatchSource, elapsed: f64) -> TrainerState {
        TrainerState {
            step: self.step,
            tokens_seen: self.tokens_seen,
            elapsed,
            rng: rng::rng_state(&self.rng),
            data: train.state(),
            best_valid: self.best_valid,
            evals_without_improvement: self.evals_without_improvement,
            tpe: self.tpe,
            optimizer: self.optimizer.name().to_string(),
            config: self.cfg.clone(),
        }
    }

    /// Writes a checkpoint of the current state now (also done by [`fit`](Trainer::fit) on
    /// schedule and at the end). Returns its directory, or `None` without an output directory.
    pub fn save_checkpoint(
        &self,
        train: &dyn BatchSource,
        elapsed: f64,
    ) -> Result<Option<PathBuf>> {
        let Some(out) = &self.out_dir else {
            return Ok(None);
        };
        let st = self.state(train, elapsed);
        let dir = checkpoint::save_checkpoint(
            out,
            &self.params,
            self.optimizer.as_ref(),
            &st,
            self.hook.as_deref(),
        )?;
        checkpoint::prune_checkpoints(out, self.cfg.keep_checkpoints)?;
        Ok(Some(dir))
    }

    /// Mean loss, perplexity and accuracy of `objective` over `valid` (reset first).
    pub fn evaluate(
        &self,
        objective: &dyn Objective,
        valid: &mut dyn BatchSource,
    ) -> Result<EvalResult> {
        valid.reset();
        let _autocast = chemlm_models::autocast(self.cfg.precision);
        let mut rng = rng::derived_rng(self.cfg.seed, VALID_STREAM);
        let (mut loss, mut weight, mut correct, mut any_acc) = (0f64, 0f64, 0usize, false);
        let mut n = 0usize;
        let (rank, world) = (self.dist.rank(), self.dist.world_size());
        while let Some(batch) = valid.next_batch()? {
            let out = if world > 1 {
                let rows = dist::rank_rows(batch.batch_size, rank, world);
                objective.compute_rows(&batch, &rows, &mut rng, false)?
            } else {
                objective.compute(&batch, &mut rng, false)?
            };
            loss += out
                .loss_sum
                .detach()
                .to_dtype(DType::F32)?
                .to_scalar::<f32>()? as f64;
            weight += out.weight;
            if let Some(c) = out.correct {
                correct += c;
                any_acc = true;
            }
            n += 1;
            if self.cfg.eval_batches.is_some_and(|cap| n >= cap) {
                break;
            }
        }
        if world > 1 {
            let mut sums = [loss, weight, correct as f64, f64::from(u8::from(any_acc))];
            self.dist.all_reduce_f64(&mut sums)?;
            (loss, weight, correct, any_acc) = (sums[0], sums[1], sums[2] as usize, sums[3] > 0.0);
        }
        if weight == 0.0 {
            return Err(TrainError::Data(
                "validation data has no tokens to predict".into(),
            ));
        }
        let mean = loss / weight;
        Ok(EvalResult {
            loss: mean,
            perplexity: mean.exp(),
            accuracy: any_acc.then(|| correct as f64 / weight),
            predicted_tokens: weight as u64,
        })
    }

    /// Runs until `steps` updates are done, early stopping triggers, or a finite `train` source
    /// runs out.
    pub fn fit(
        &mut self,
        objective: &dyn Objective,
        train: &mut dyn BatchSource,
        mut valid: Option<&mut dyn BatchSource>,
    ) -> Result<TrainSummary> {
        let mut metrics = match &self.out_dir {
            Some(d) => {
                let p = d.join("metrics.jsonl");
                Some(match self.resumed_at {
                    Some(step) => MetricsWriter::resume(&p, step)?,
                    None => MetricsWriter::create(&p)?,
                })
            }
            None => None,
        };
        let progress = Progress::new(self.cfg.steps, self.step, self.quiet);
        let session = Instant::now();
        let elapsed = |s: &Instant, before: f64| before + s.elapsed().as_secs_f64();
        let mut summary = TrainSummary {
            steps: self.step,
            losses: Vec::new(),
            last_valid: None,
            best_valid: self.best_valid,
            stopped_early: false,
            data_exhausted: false,
            tokens_seen: self.tokens_seen,
            elapsed: self.elapsed_before,
            flops: None,
            checkpoint: None,
        };
        let mut last_checkpoint_step = self.resumed_at;
        tracing::info!(
            objective = objective.name(),
            optimizer = self.optimizer.name(),
            parameters = self.params.numel(),
            from_step = self.step,
            to_step = self.cfg.steps,
            "training"
        );
        // Forward passes on this thread run in the configured precision (f32 master weights).
        let _autocast = chemlm_models::autocast(self.cfg.precision);
        let (rank, world) = (self.dist.rank(), self.dist.world_size());
        while self.step < self.cfg.steps {
            let t0 = Instant::now();
            let loss_scale = self.scaler.as_ref().map(|s| s.scale());
            let mut acc: Vec<Option<Tensor>> = vec![None; self.params.len()];
            let (mut loss_sum, mut weight, mut tokens, mut epoch, mut micro) =
                (0f64, 0f64, 0u64, 0u64, 0u32);
            while micro < self.cfg.grad_accum {
                let Some(batch) = train.next_batch()? else {
                    summary.data_exhausted = true;
                    break;
                };
                // The same stream on every rank: MoLFormer redraws its random features from
                // it at each training forward, and one update must see one projection (as
                // Lightning's seed_everything gives the reference). Dropout masks then repeat
                // across ranks by position.
                objective.set_seed(model_seed(self.cfg.seed, self.step, micro));
                let out = if world > 1 {
                    let rows = dist::rank_rows(batch.batch_size, rank, world);
                    objective.compute_rows(&batch, &rows, &mut self.rng, true)?
                } else {
                    objective.compute(&batch, &mut self.rng, true)?
                };
                // Objectives return f32 losses; one computed from half-precision activations is
                // brought to f32 here so the sums and the backward seed stay exact.
                let objective_loss = out.loss_sum.to_dtype(DType::F32)?;
                loss_sum += objective_loss.to_scalar::<f32>()? as f64;
                weight += out.weight;
                tokens += out.tokens as u64;
                epoch = batch.epoch;
                if out.weight > 0.0 {
                    let grads = match loss_scale {
                        Some(s) => (&objective_loss * s)?.backward()?,
                        None => objective_loss.backward()?,
                    };
                    ParamSet::accumulate(&mut acc, self.params.grads(&grads))?;
                }
                micro += 1;
            }
            if micro == 0 {
                break;
            }
            let allreduce_seconds = if world > 1 {
                let tc = Instant::now();
                (loss_sum, weight, tokens) =
                    self.sum_over_ranks(&mut acc, loss_sum, weight, tokens)?;
                Some(tc.elapsed().as_secs_f64())
            } else {
                None
            };
            let loss = if weight > 0.0 { loss_sum / weight } else { 0.0 };
            if !loss.is_finite() {
                return Err(TrainError::NonFinite {
                    step: self.step + 1,
                    loss,
                });
            }
            if weight > 0.0 {
                let inv = 1.0 / (weight * loss_scale.unwrap_or(1.0));
                for g in acc.iter_mut().flatten() {
                    *g = (&*g * inv)?;
                }
            }
            if let Some(scaler) = self.scaler.as_mut() {
                let norm = optim::global_grad_norm(&acc)?;
                match scaler.update(norm) {
                    Some(true) => {}
                    Some(false) => {
                        tracing::info!(
                            step = self.step + 1,
                            loss_scale = scaler.scale(),
                            "f16 gradients overflowed; step skipped, loss scale halved"
                        );
                        continue;
                    }
                    None => {
                        return Err(TrainError::NonFinite {
                            step: self.step + 1,
                            loss: norm,
                        })
                    }
                }
            }
            let grad_norm = match self.cfg.max_grad_norm {
                Some(max) => optim::clip_grad_norm(&mut acc, max)?,
                None => optim::global_grad_norm(&acc)?,
            };
            let lr = self.cfg.lr_at(self.step);
            self.optimizer.step(&self.params, &acc, lr)?;
            drop(acc);
            self.step += 1;
            self.tokens_seen += tokens;
            self.tpe.push(loss);
            let dt = t0.elapsed().as_secs_f64();
            let tps = tokens as f64 / dt.max(1e-9);
            let now = elapsed(&session, self.elapsed_before);
            let flops = self.flops_per_token.map(|f| f * self.tokens_seen as f64);
            let rec = StepRecord {
                step: self.step,
                epoch,
                loss,
                lr,
                tokens,
                tokens_seen: self.tokens_seen,
                tokens_per_sec: tps,
                grad_norm,
                elapsed: now,
                flops,
                tse: self.tpe.tse,
                tse_ema: self.tpe.tse_ema,
                world_size: (world > 1).then_some(world),
                allreduce_seconds,
            };
            if let Some(m) = metrics.as_mut() {
                m.write(&MetricLine::Train(rec))?;
            }
            summary.losses.push(loss);
            let session_tps = (self.tokens_seen - summary.tokens_seen) as f64
                / session.elapsed().as_secs_f64().max(1e-9);
            progress.update(self.step, loss, session_tps);
            if self.cfg.log_every > 0 && self.step.is_multiple_of(self.cfg.log_every) {
                tracing::info!(
                    step = self.step,
                    loss,
                    lr,
                    grad_norm,
                    tokens_per_sec = session_tps,
                    "train"
                );
            }

            let mut stop = false;
            if let Some(v) = valid.as_deref_mut() {
                if self.cfg.eval_every > 0
                    && (self.step.is_multiple_of(self.cfg.eval_every)
                        || self.step == self.cfg.steps)
                {
                    let ev = self.evaluate(objective, v)?;
                    let now = elapsed(&session, self.elapsed_before);
                    let vr = ValidRecord {
                        step: self.step,
                        loss: ev.loss,
                        perplexity: ev.perplexity,
                        accuracy: ev.accuracy,
                        predicted_tokens: ev.predicted_tokens,
                        tokens_seen: self.tokens_seen,
                        elapsed: now,
                        flops,
                    };
                    if let Some(m) = metrics.as_mut() {
                        m.write(&MetricLine::Valid(vr))?;
                    }
                    let acc_txt = ev
                        .accuracy
                        .map(|a| format!(", accuracy {:.3}", a))
                        .unwrap_or_default();
                    progress.println(&format!(
                        "step {}: valid loss {:.4}, perplexity {:.3}{acc_txt}",
                        self.step, ev.loss, ev.perplexity
                    ));
                    tracing::info!(step = self.step, loss = ev.loss, perplexity = ev.perplexity, accuracy = ?ev.accuracy, "valid");
                    summary.last_valid = Some(ev);
                    let improved = self
                        .best_valid
                        .is_none_or(|b| ev.loss < b - self.cfg.min_delta);
                    if improved {
                        self.best_valid = Some(ev.loss);
                        self.evals_without_improvement = 0;
                        self.save_best()?;
                    } else {
                        self.evals_without_improvement += 1;
                        if self
                            .cfg
                            .patience
                            .is_some_and(|p| self.evals_without_improvement >= p)
                        {
                            tracing::info!(step = self.step, best = ?self.best_valid, "early stopping");
                            summary.stopped_early = true;
                            stop = true;
                        }
                    }
                }
            }
            if self.cfg.checkpoint_every > 0 && self.step.is_multiple_of(self.cfg.checkpoint_every)
            {
                summary.checkpoint =
                    self.save_checkpoint(&*train, elapsed(&session, self.elapsed_before))?;
                last_checkpoint_step = Some(self.step);
            }
            if stop || summary.data_exhausted {
                break;
            }
        }
        progress.finish();
        let total_elapsed = elapsed(&session, self.elapsed_before);
        if last_checkpoint_step != Some(self.step) {
            summary.checkpoint = self.save_checkpoint(&*train, total_elapsed)?;
        }
        drop(metrics);
        if let Some(out) = &self.out_dir {
            let lines = crate::metrics::read_metrics(&out.join("metrics.jsonl"))?;
            if let Err(e) =
                crate::plot::plot_loss_curves(&lines, &out.join("loss.png"), &out.join("loss.svg"))
            {
                tracing::warn!("loss curve not drawn: {e}");
            }
        }
        summary.steps = self.step;
        summary.best_valid = self.best_valid;
        summary.tokens_seen = self.tokens_seen;
        summary.elapsed = total_elapsed;
        summary.flops = self.flops_per_token.map(|f| f * self.tokens_seen as f64);
        Ok(summary)
    }

    /// Sums the step's loss, prediction count, tokens and gradients over the ranks (one small
    /// f64 all-reduce, then the gradients in flat buckets). A parameter that no rank has a
    /// gradient for stays without one, as on one process; one that some rank lacks counts zero
    /// there.
    fn sum_over_ranks(
        &self,
        acc: &mut [Option<Tensor>],
        loss_sum: f64,
        weight: f64,
        tokens: u64,
    ) -> Result<(f64, f64, u64)> {
        let mut head = Vec::with_capacity(3 + acc.len());
        head.extend([loss_sum, weight, tokens as f64]);
        head.extend(acc.iter().map(|g| f64::from(u8::from(g.is_some()))));
        self.dist.all_reduce_f64(&mut head)?;
        let present: Vec<usize> = (0..acc.len()).filter(|&i| head[3 + i] > 0.0).collect();
        let params: Vec<_> = self.params.iter().collect();
        let mut grads = Vec::with_capacity(present.len());
        for &i in &present {
            grads.push(match &acc[i] {
                Some(g) => g.clone(),
                None => params[i].var.as_tensor().zeros_like()?,
            });
        }
        self.dist.all_reduce_tensors(&mut grads)?;
        for (&i, g) in present.iter().zip(grads) {
            acc[i] = Some(g);
        }
        Ok((head[0], head[1], head[2].round() as u64))
    }

    /// Writes the current weights (plus hook files) to `<out>/best` atomically.
    fn save_best(&self) -> Result<()> {
        let Some(out) = &self.out_dir else {
            return Ok(());
        };
        let params = &self.params;
        let hook = self.hook.as_deref();
        checkpoint::write_dir_atomically(&out.join("best"), |tmp| {
            checkpoint::save_weights(params, &tmp.join(checkpoint::MODEL_FILE))?;
            if let Some(h) = hook {
                h(tmp)?;
            }
            Ok(())
        })
    }
}
