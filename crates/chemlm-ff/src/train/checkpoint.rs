//! Per-epoch checkpoints of a force-field run, each written atomically (filled in a hidden
//! directory, then renamed) so a run killed mid-write never leaves one `--resume` would take.
//!
//! Layout: `<out>/checkpoints/epoch-00012/` with `config.json` + `model.safetensors` (the
//! model's own `save`, so the CLI can rebuild the architecture from it), `weights.safetensors`
//! (the live weights in the training dtype, bit-exact), `optimizer.safetensors`,
//! `ema.safetensors` (when EMA is on) and `state.json` ([`FfTrainState`]).

use super::config::FfTrainConfig;
use super::ema::Ema;
use super::plateau::{EarlyStopping, ReduceLrOnPlateau};
use crate::error::{FfError, FfResult};
use crate::potential::Potential;
use crate::scale::EnergyScale;
use candle_core::Device;
use chemlm_train::optim::{AdamW, Optimizer, ParamSet};
use chemlm_train::rng::RngState;
use chemlm_train::TrainError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Live weights in the training dtype.
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// Adam moments.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// EMA shadow weights.
pub const EMA_FILE: &str = "ema.safetensors";
/// [`FfTrainState`] as JSON.
pub const STATE_FILE: &str = "state.json";

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// `max_epochs` reached (a resume with more epochs continues).
    MaxEpochs,
    /// No better validation loss for `early_stop_patience` epochs.
    EarlyStopping,
    /// The plateau fired again with the learning rate at `plateau_min_lr`.
    MinLr,
}

/// Everything besides tensors that resuming needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FfTrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps completed.
    pub step: u64,
    /// Wall-clock seconds of training so far.
    #[serde(with = "super::plateau::exact")]
    pub elapsed_s: f64,
    /// Position of the shuffling RNG.
    pub rng: RngState,
    /// Learning-rate scheduler.
    pub plateau: ReduceLrOnPlateau,
    /// Early-stopping tracker (also decides `best/`).
    pub early: EarlyStopping,
    /// The energy reference and scale the model was trained with.
    pub energy_scale: EnergyScale,
    /// Set when the run ended for a reason a resume must respect.
    pub stopped: Option<StopReason>,
    /// Architecture (checked on resume).
    pub model_type: String,
    /// Configuration of the run (informative).
    pub config: FfTrainConfig,
}

/// The directory of epoch `epoch`'s checkpoint under `out`.
pub fn checkpoint_dir(out: &Path, epoch: usize) -> PathBuf {
    out.join("checkpoints").join(format!("epoch-{epoch:05}"))
}

/// Complete checkpoints under `out`, oldest first.
pub fn list_checkpoints(out: &Path) -> FfResult<Vec<(usize, PathBuf)>> {
    let root = out.join("checkpoints");
    if !root.exists() {
        return Ok(Vec::new());
    }
    let io = |e| FfError::Io {
        path: root.clone(),
        source: e,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&root).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(epoch) = name
            .strip_prefix("epoch-")
            .and_then(|s| s.parse::<usize>().ok())
        {
            if entry.path().join(STATE_FILE).exists() {
                found.push((epoch, entry.path()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The newest complete checkpoint under `out` (the CLI rebuilds the model from its
/// `config.json` before resuming).
pub fn latest_checkpoint(out: &Path) -> FfResult<Option<PathBuf>> {
    Ok(list_checkpoints(out)?.pop().map(|(_, p)| p))
}

fn train_err(dir: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::checkpoint(dir, e)
}

/// Writes the checkpoint of `state.epoch` and keeps the newest `keep` checkpoints.
pub fn save_checkpoint(
    out: &Path,
    model: &dyn Potential,
    params: &ParamSet,
    optimizer: &AdamW,
    ema: Option<&Ema>,
    state: &FfTrainState,
    keep: usize,
) -> FfResult<PathBuf> {
    let dir = checkpoint_dir(out, state.epoch);
    chemlm_train::checkpoint::write_dir_atomically(&dir, |tmp| {
        model.save(tmp).map_err(|e| train_err(tmp, e))?;
        chemlm_train::checkpoint::save_weights(params, &tmp.join(WEIGHTS_FILE))?;
        let opt: HashMap<String, candle_core::Tensor> =
            optimizer.state_tensors(params)?.into_iter().collect();
        candle_core::safetensors::save(&opt, tmp.join(OPTIMIZER_FILE))?;
        if let Some(ema) = ema {
            let map = ema.state_tensors(params).map_err(|e| train_err(tmp, e))?;
            candle_core::safetensors::save(&map, tmp.join(EMA_FILE))?;
        }
        let json = serde_json::to_string_pretty(state).map_err(|e| train_err(tmp, e))?;
        let p = tmp.join(STATE_FILE);
        std::fs::write(&p, json).map_err(|e| TrainError::io(&p, e))
    })?;
    let all = list_checkpoints(out)?;
    let n_old = all.len().saturating_sub(keep.max(1));
    for (_, p) in all.into_iter().take(n_old) {
        std::fs::remove_dir_all(&p).map_err(|e| FfError::Io { path: p, source: e })?;
    }
    Ok(dir)
}

/// Reads a checkpoint's state and restores weights, optimizer moments and EMA into the given
/// objects (which must belong to the same architecture and sizes).
pub fn load_checkpoint(
    dir: &Path,
    params: &ParamSet,
    optimizer: &mut AdamW,
    ema: Option<&mut Ema>,
) -> FfResult<FfTrainState> {
    let sp = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&sp).map_err(|e| FfError::Io {
        path: sp.clone(),
        source: e,
    })?;
    let state: FfTrainState = serde_json::from_str(&text).map_err(|e| FfError::Config {
        origin: sp.display().to_string(),
        reason: e.to_string(),
    })?;
    chemlm_train::checkpoint::load_weights(params, &dir.join(WEIGHTS_FILE))?;
    let opt = candle_core::safetensors::load(dir.join(OPTIMIZER_FILE), &Device::Cpu)?;
    optimizer.load_state(params, &opt)?;
    if let Some(ema) = ema {
        let path = dir.join(EMA_FILE);
        if path.exists() {
            let map = candle_core::safetensors::load(&path, &Device::Cpu)?;
            ema.load_state(params, &map)?;
        } else {
            // The run had no EMA until now: the average starts at the resumed weights.
            *ema = Ema::new(params, ema.decay())?;
        }
    }
    Ok(state)
}
