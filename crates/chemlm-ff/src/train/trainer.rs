//! The training loop of `chemlm ff train`.
//!
//! Per epoch: the training frames in a fresh seeded order, batches of `batch_size` (the last one
//! may be smaller, as torch's DataLoader), for each batch energies and forces with the graph of
//! the force kept (`create_graph`), the loss of [`super::loss`], one Adam step (AdamW with weight
//! decay 0 = torch's Adam; β = (0.9, 0.999), ε = 1e-8), optional gradient clipping and EMA update.
//! Then validation on the whole validation set (EMA weights when on), `best/` when the validation
//! loss is the lowest so far, ReduceLROnPlateau and early stopping on it, one line of
//! `metrics.jsonl`, and an atomic checkpoint. Everything runs inside
//! [`crate::second_order::run`] (gradients of gradients), and a resumed run continues bit for
//! bit: weights, moments, EMA, scheduler, early-stopping and RNG state are all in the checkpoint.
//!
//! Run directory: `split.json`, `energy_fit.json`, `train_config.json`, `metrics.jsonl`,
//! `best/` (a model directory), `checkpoints/epoch-NNNNN/`, `loss.png`.

use super::checkpoint::{
    latest_checkpoint, load_checkpoint, save_checkpoint, FfTrainState, StopReason,
};
use super::config::FfTrainConfig;
use super::data::{FfDataset, SplitIndices, SPLIT_FILE};
use super::ema::Ema;
use super::eval::FfMetrics;
use super::fit::{fit_energy_scale, EnergyFit};
use super::loss::{energy_loss, ff_loss, BatchTargets, LossWeights};
use super::metrics::{append_record, read_records, truncate_after, EpochRecord, METRICS_FILE};
use super::plateau::{EarlyStopping, PlateauAction, ReduceLrOnPlateau};
use super::predict::{predict_batch, Prediction};
use crate::error::{FfError, FfResult};
use crate::input::AtomsInput;
use crate::potential::{energy_and_forces, Potential};
use candle_core::{DType, Device};
use chemlm_atoms::Structure;
use chemlm_train::optim::{clip_grad_norm, AdamW, AdamWConfig, DecayRule, Optimizer, ParamSet};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// File of the energy fit inside the run directory.
pub const ENERGY_FIT_FILE: &str = "energy_fit.json";
/// Directory of the best model.
pub const BEST_DIR: &str = "best";
/// Loss plot.
pub const PLOT_FILE: &str = "loss.png";
/// RNG stream of the epoch shuffling.
const SHUFFLE_STREAM: u64 = 0x5e1f;

/// Where and how to run (everything that is not a hyperparameter).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Run directory.
    pub out: PathBuf,
    /// Continue from the newest checkpoint in `out` (a fresh start when there is none).
    pub resume: bool,
    /// No `tracing` log lines (progress goes through the callback anyway).
    pub quiet: bool,
    /// Device of the model.
    pub device: Device,
    /// Checkpoints kept (newest first).
    pub keep_checkpoints: usize,
    /// Draw `loss.png` at the end.
    pub plot: bool,
}

impl TrainOptions {
    /// Defaults: CPU, no resume, 2 checkpoints kept, plot on.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        TrainOptions {
            out: out.into(),
            resume: false,
            quiet: false,
            device: Device::Cpu,
            keep_checkpoints: 2,
            plot: true,
        }
    }
}

/// Progress reported to the caller (the CLI draws a bar from it).
#[derive(Debug)]
pub enum TrainEvent<'a> {
    /// Training starts (or resumes) at `first_epoch`.
    Started {
        /// First epoch to run (1-based).
        first_epoch: usize,
        /// Last possible epoch.
        max_epochs: usize,
        /// Batches per epoch.
        batches_per_epoch: usize,
        /// The energy reference and scale in use.
        fit: &'a EnergyFit,
    },
    /// One optimizer step done.
    Batch {
        /// Epoch (1-based).
        epoch: usize,
        /// Batch within the epoch (1-based).
        batch: usize,
        /// Batches in the epoch.
        batches: usize,
        /// Loss of the batch.
        loss: f64,
    },
    /// One epoch done (validated, checkpointed).
    Epoch(&'a EpochRecord),
}

/// Summary of a `train_potential` call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// Records of the epochs run by this call.
    pub epochs: Vec<EpochRecord>,
    /// Epochs completed in total.
    pub last_epoch: usize,
    /// Epoch of the best validation loss.
    pub best_epoch: usize,
    /// Best validation loss.
    pub best_valid_loss: Option<f64>,
    /// Why training ended.
    pub stop: StopReason,
    /// Energy reference and scale.
    pub energy_fit: EnergyFit,
    /// The best model directory.
    pub best_dir: PathBuf,
    /// `loss.png` when drawn.
    pub plot: Option<PathBuf>,
    /// Training frames.
    pub n_train: usize,
    /// Validation frames.
    pub n_valid: usize,
}

/// Trains `model` on `data` with `split` (saved as `split.json` in `opts.out`). The model's
/// energy scale is fitted on the training frames first (on a fresh start) and set on it; its
/// weights must be in `cfg.dtype`. On return the model holds the live weights of the last
/// epoch; `best/` holds the best ones (EMA-averaged when EMA is on).
pub fn train_potential(
    model: &mut dyn Potential,
    data: &FfDataset,
    split: &SplitIndices,
    cfg: &FfTrainConfig,
    opts: &TrainOptions,
    on_event: &mut (dyn FnMut(&TrainEvent) + Send),
) -> FfResult<TrainReport> {
    cfg.validate("training config")?;
    crate::second_order::run(move || Run::new(model, data, split, cfg, opts)?.go(on_event))?
}

/// State of one run.
struct Run<'a> {
    model: &'a mut dyn Potential,
    data: &'a FfDataset,
    split: &'a SplitIndices,
    cfg: &'a FfTrainConfig,
    opts: &'a TrainOptions,
    dtype: DType,
    params: ParamSet,
    optimizer: AdamW,
    ema: Option<Ema>,
}

impl<'a> Run<'a> {
    fn new(
        model: &'a mut dyn Potential,
        data: &'a FfDataset,
        split: &'a SplitIndices,
        cfg: &'a FfTrainConfig,
        opts: &'a TrainOptions,
    ) -> FfResult<Self> {
        split.check(data.len())?;
        if split.valid.is_empty() {
            return Err(FfError::Invalid(
                "the validation split is empty (the plateau and best model need it)".into(),
            ));
        }
        // A zero force weight trains on energies alone (QM9): no forces needed, no second-order
        // gradients taken.
        let need_forces = cfg.force_weight > 0.0;
        data.require_labels(&split.train, need_forces)?;
        data.require_labels(&split.valid, need_forces)?;
        if (data.cutoff() - model.cutoff()).abs() > 1e-12 {
            return Err(FfError::Invalid(format!(
                "neighbour lists were built with cutoff {} Å, the model uses {} Å",
                data.cutoff(),
                model.cutoff()
            )));
        }
        let dtype = cfg.dtype.dtype();
        let params = ParamSet::from_varmap(model.varmap(), &DecayRule::default());
        if params.is_empty() {
            return Err(FfError::Invalid(
                "the model has no trainable weights".into(),
            ));
        }
        if let Some(p) = params.iter().find(|p| p.var.dtype() != dtype) {
            return Err(FfError::Invalid(format!(
                "weight {} is {:?}, training runs in {dtype:?}: build the model in that dtype",
                p.name,
                p.var.dtype()
            )));
        }
        let optimizer = AdamW::new(
            AdamWConfig {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
            },
            params.len(),
        );
        let ema = cfg.ema_decay.map(|d| Ema::new(&params, d)).transpose()?;
        Ok(Run {
            model,
            data,
            split,
            cfg,
            opts,
            dtype,
            params,
            optimizer,
            ema,
        })
    }

    fn log(&self, msg: &str) {
        if !self.opts.quiet {
            tracing::info!("{msg}");
        }
    }

    /// A fresh start: fit the energy scale, write the run files.
    fn start_fresh(&mut self) -> FfResult<(FfTrainState, EnergyFit)> {
        let out = &self.opts.out;
        if latest_checkpoint(out)?.is_some() {
            return Err(FfError::Invalid(format!(
                "{} already holds checkpoints: resume, or choose a new output directory",
                out.display()
            )));
        }
        std::fs::create_dir_all(out).map_err(|e| FfError::Io {
            path: out.clone(),
            source: e,
        })?;
        self.split.save(&out.join(SPLIT_FILE))?;
        let train: Vec<&Structure> = self
            .split
            .train
            .iter()
            .map(|&i| self.data.structure(i))
            .collect();
        let fit = fit_energy_scale(&train, self.cfg.scale_mode)?;
        self.model.set_energy_scale(fit.scale.clone());
        write_json(&out.join(ENERGY_FIT_FILE), &fit)?;
        write_json(&out.join("train_config.json"), self.cfg)?;
        let metrics = out.join(METRICS_FILE);
        if metrics.exists() {
            truncate_after(&metrics, 0)?;
        }
        let c = self.cfg;
        let state = FfTrainState {
            epoch: 0,
            step: 0,
            elapsed_s: 0.0,
            rng: chemlm_train::rng::rng_state(&chemlm_train::rng::derived_rng(
                c.seed,
                SHUFFLE_STREAM,
            )),
            plateau: ReduceLrOnPlateau::new(
                c.lr,
                c.plateau_factor,
                c.plateau_patience,
                c.plateau_threshold,
                c.plateau_min_lr,
            ),
            early: EarlyStopping::new(c.early_stop_patience),
            energy_scale: fit.scale.clone(),
            stopped: None,
            model_type: self.model.model_type().to_string(),
            config: c.clone(),
        };
        self.log(&format!(
            "energy reference on {} training frames: elements {:?}, rank {}, μ = {:.6} eV, σ = {:.6} eV",
            fit.n_structures, fit.elements, fit.rank, fit.scale.mean, fit.scale.std
        ));
        Ok((state, fit))
    }

    /// Continues from the newest checkpoint.
    fn resume_from(&mut self, dir: &Path) -> FfResult<(FfTrainState, EnergyFit)> {
        let out = &self.opts.out;
        let saved = SplitIndices::load(&out.join(SPLIT_FILE))?;
        if &saved != self.split {
            return Err(FfError::Invalid(format!(
                "the split differs from {} of the run being resumed",
                out.join(SPLIT_FILE).display()
            )));
        }
        let mut state = load_checkpoint(dir, &self.params, &mut self.optimizer, self.ema.as_mut())?;
        if state.model_type != self.model.model_type() {
            return Err(FfError::Invalid(format!(
                "the checkpoint is of a {} model, this one is {}",
                state.model_type,
                self.model.model_type()
            )));
        }
        self.model.set_energy_scale(state.energy_scale.clone());
        let fit: EnergyFit = read_json(&out.join(ENERGY_FIT_FILE))?;
        truncate_after(&out.join(METRICS_FILE), state.epoch)?;
        // Settings that may change on resume (more epochs, other patience) come from `cfg`;
        // the learning rate and scheduler position stay those of the checkpoint.
        state.early.patience = self.cfg.early_stop_patience;
        state.plateau.patience = self.cfg.plateau_patience;
        state.plateau.min_lr = self.cfg.plateau_min_lr;
        self.log(&format!(
            "resuming from {} (epoch {}, step {})",
            dir.display(),
            state.epoch,
            state.step
        ));
        Ok((state, fit))
    }

    fn go(mut self, on_event: &mut (dyn FnMut(&TrainEvent) + Send)) -> FfResult<TrainReport> {
        let started = Instant::now();
        let out = self.opts.out.clone();
        let (mut state, fit) = match (self.opts.resume, latest_checkpoint(&out)?) {
            (true, Some(dir)) => self.resume_from(&dir)?,
            _ => self.start_fresh()?,
        };
        let elapsed_before = state.elapsed_s;
        let bs = self.cfg.batch_size;
        let batches_per_epoch = self.split.train.len().div_ceil(bs);
        on_event(&TrainEvent::Started {
            first_epoch: state.epoch + 1,
            max_epochs: self.cfg.max_epochs,
            batches_per_epoch,
            fit: &fit,
        });
        let mut rng = chemlm_train::rng::rng_from_state(&state.rng).map_err(FfError::Invalid)?;
        let mut records = Vec::new();
        let weights = LossWeights {
            energy: self.cfg.energy_weight,
            force: self.cfg.force_weight,
        };
        let mut stop = state.stopped.unwrap_or(StopReason::MaxEpochs);
        let blocked = matches!(
            state.stopped,
            Some(StopReason::EarlyStopping | StopReason::MinLr)
        );
        while !blocked && state.epoch < self.cfg.max_epochs {
            let epoch = state.epoch + 1;
            let t0 = Instant::now();
            let mut order = self.split.train.clone();
            order.shuffle(&mut rng);
            let lr = state.plateau.lr;
            let (mut n, mut loss_sum, mut e_sum, mut f_sum) = (0usize, 0.0, 0.0, 0.0);
            for (b, chunk) in order.chunks(bs).enumerate() {
                let (loss, e_mse, f_mse) = self.train_step(chunk, weights, lr)?;
                if !loss.is_finite() {
                    return Err(FfError::Invalid(format!(
                        "non-finite training loss {loss} at epoch {epoch}, batch {}",
                        b + 1
                    )));
                }
                state.step += 1;
                let k = chunk.len();
                n += k;
                loss_sum += loss * k as f64;
                e_sum += e_mse * k as f64;
                f_sum += f_mse * k as f64;
                on_event(&TrainEvent::Batch {
                    epoch,
                    batch: b + 1,
                    batches: batches_per_epoch,
                    loss,
                });
            }
            let train_time_s = t0.elapsed().as_secs_f64();
            // Validation and `best/` with the averaged weights.
            self.swap_ema()?;
            let v = self.validate(weights);
            let improved = match &v {
                Ok(v) => state.early.update(epoch, v.loss),
                Err(_) => false,
            };
            let saved = match (&v, improved) {
                (Ok(_), true) => self.save_best(),
                _ => Ok(()),
            };
            self.swap_ema()?;
            let v = v?;
            saved?;
            match state.plateau.step(v.loss) {
                PlateauAction::Reduced => self.log(&format!(
                    "epoch {epoch}: learning rate reduced to {:e}",
                    state.plateau.lr
                )),
                PlateauAction::AtMinimum if self.cfg.stop_at_min_lr => {
                    state.stopped = Some(StopReason::MinLr)
                }
                _ => {}
            }
            if state.stopped.is_none() && state.early.should_stop() {
                state.stopped = Some(StopReason::EarlyStopping);
            }
            state.epoch = epoch;
            state.elapsed_s = elapsed_before + started.elapsed().as_secs_f64();
            state.rng = chemlm_train::rng::rng_state(&rng);
            let record = EpochRecord {
                epoch,
                step: state.step,
                lr,
                train_loss: loss_sum / n as f64,
                train_energy_mse: e_sum / n as f64,
                train_force_mse: f_sum / n as f64,
                valid_loss: v.loss,
                valid_energy_mse: v.energy_mse,
                valid_force_mse: v.force_mse,
                valid_energy_mae_ev: v.energy_mae,
                valid_energy_mae_mev: 1e3 * v.energy_mae,
                valid_force_mae_ev_a: v.force_mae,
                valid_force_mae_mev_a: 1e3 * v.force_mae,
                best: improved,
                epoch_time_s: t0.elapsed().as_secs_f64(),
                train_time_s,
                elapsed_s: state.elapsed_s,
            };
            append_record(&out.join(METRICS_FILE), &record)?;
            save_checkpoint(
                &out,
                &*self.model,
                &self.params,
                &self.optimizer,
                self.ema.as_ref(),
                &state,
                self.opts.keep_checkpoints,
            )?;
            on_event(&TrainEvent::Epoch(&record));
            self.log(&format!(
                "epoch {epoch}: train {:.5} valid {:.5} | E MAE {:.2} meV | F MAE {:.2} meV/Å",
                record.train_loss,
                record.valid_loss,
                record.valid_energy_mae_mev,
                record.valid_force_mae_mev_a
            ));
            records.push(record);
            if let Some(s) = state.stopped {
                stop = s;
                break;
            }
            stop = StopReason::MaxEpochs;
        }
        let plot = if self.opts.plot {
            let png = out.join(PLOT_FILE);
            match super::plot::plot_training(&read_records(&out.join(METRICS_FILE))?, &png) {
                Ok(()) => Some(png),
                Err(e) => {
                    tracing::warn!("{e}");
                    None
                }
            }
        } else {
            None
        };
        Ok(TrainReport {
            epochs: records,
            last_epoch: state.epoch,
            best_epoch: state.early.best_epoch,
            best_valid_loss: state.early.best,
            stop,
            energy_fit: fit,
            best_dir: out.join(BEST_DIR),
            plot,
            n_train: self.split.train.len(),
            n_valid: self.split.valid.len(),
        })
    }

    /// One optimizer step on frames `chunk`; returns (loss, energy MSE, force MSE).
    fn train_step(
        &mut self,
        chunk: &[usize],
        weights: LossWeights,
        lr: f64,
    ) -> FfResult<(f64, f64, f64)> {
        let device = &self.opts.device;
        let batch = self.data.batch(chunk)?;
        let parts = if weights.force > 0.0 {
            let (input, pos) = AtomsInput::new(&batch, self.dtype, device, true)?;
            let pos = pos.ok_or_else(|| FfError::Invalid("positions are not tracked".into()))?;
            let ef = energy_and_forces(&*self.model, &input, &pos, true, true)?;
            let (e, f) = self.data.targets(chunk)?;
            let targets = BatchTargets::new(&e, &f, self.dtype, device)?;
            ff_loss(&ef, &targets, weights)?
        } else {
            let (input, _) = AtomsInput::new(&batch, self.dtype, device, false)?;
            let pred = self.model.energies(&input, true)?;
            let e = self.data.energies(chunk)?;
            energy_loss(&pred, &e, weights.energy, self.dtype)?
        };
        let loss = parts.total.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let mut grads = {
            // Only the force pass needs a gradient graph; the weights' gradients are final, so
            // detaching them lets each intermediate gradient go as soon as it is used instead
            // of living in the graph until the step ends.
            let store = candle_core::backprop::with_grad_graph(false, || parts.total.backward())?;
            self.params.grads(&store)
        };
        if let Some(c) = self.cfg.grad_clip {
            clip_grad_norm(&mut grads, c)?;
        }
        self.optimizer.step(&self.params, &grads, lr)?;
        if let Some(ema) = self.ema.as_mut() {
            ema.update(&self.params)?;
        }
        Ok((loss, parts.energy_mse, parts.force_mse))
    }

    fn swap_ema(&mut self) -> FfResult<()> {
        match self.ema.as_mut() {
            Some(ema) => ema.swap(&self.params),
            None => Ok(()),
        }
    }

    /// Loss and MAEs on the validation frames (cached graphs, batches of `batch_size`).
    fn validate(&self, w: LossWeights) -> FfResult<Validation> {
        let mut preds: Vec<Prediction> = Vec::with_capacity(self.split.valid.len());
        for chunk in self.split.valid.chunks(self.cfg.batch_size) {
            let batch = self.data.batch(chunk)?;
            preds.extend(predict_batch(
                &*self.model,
                &batch,
                self.dtype,
                &self.opts.device,
            )?);
        }
        let refs: Vec<&Structure> = self
            .split
            .valid
            .iter()
            .map(|&i| self.data.structure(i))
            .collect();
        let m = FfMetrics::from_predictions(&refs, &preds)?;
        let e = m
            .energy
            .as_ref()
            .ok_or_else(|| FfError::Invalid("validation frames lack energies".into()))?;
        // Energy-only training (force weight 0) may have no force labels: their terms are 0.
        let (force_mse, force_mae) = match (&m.forces, w.force > 0.0) {
            (Some(f), _) => (f.rmse_ev_a * f.rmse_ev_a, f.mae_ev_a),
            (None, false) => (0.0, 0.0),
            (None, true) => return Err(FfError::Invalid("validation frames lack forces".into())),
        };
        let energy_mse = e.rmse_ev * e.rmse_ev;
        Ok(Validation {
            loss: w.energy * energy_mse + w.force * force_mse,
            energy_mse,
            force_mse,
            energy_mae: e.mae_ev,
            force_mae,
        })
    }

    fn save_best(&self) -> FfResult<()> {
        let dir = self.opts.out.join(BEST_DIR);
        chemlm_train::checkpoint::write_dir_atomically(&dir, |tmp| {
            self.model
                .save(tmp)
                .map_err(|e| chemlm_train::TrainError::checkpoint(tmp, e))
        })?;
        Ok(())
    }
}

struct Validation {
    loss: f64,
    energy_mse: f64,
    force_mse: f64,
    energy_mae: f64,
    force_mae: f64,
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> FfResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| FfError::Invalid(format!("{}: {e}", path.display())))?;
    Ok(chemlm_fs::write_bytes(
        path,
        format!("{text}\n").as_bytes(),
    )?)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> FfResult<T> {
    let text = std::fs::read_to_string(path).map_err(|e| FfError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| FfError::Config {
        origin: path.display().to_string(),
        reason: e.to_string(),
    })
}
