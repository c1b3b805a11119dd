//! Checkpoints: model weights + optimizer state + trainer state (step, RNG, data position,
//! schedule position, early-stopping state), written atomically.
//!
//! Layout: `<out>/checkpoints/step-00001000/{model.safetensors, optimizer.safetensors,
//! trainer_state.json}` plus whatever the caller's hook adds (model config, vocabulary). A
//! checkpoint is first written to a hidden temporary directory next to its final place and then
//! renamed, so a run killed mid-write never leaves a half checkpoint that `--resume` would pick.

use crate::config::TrainConfig;
use crate::error::{Result, TrainError};
use crate::metrics::TpeTracker;
use crate::optim::{Optimizer, ParamSet};
use crate::rng::RngState;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File names inside a checkpoint directory.
pub const MODEL_FILE: &str = "model.safetensors";
/// Optimizer moments.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// [`TrainerState`] as JSON.
pub const STATE_FILE: &str = "trainer_state.json";

/// Adds files to a checkpoint directory before it is published.
pub type ExtraFiles = dyn Fn(&Path) -> Result<()>;

/// Everything besides tensors that resuming needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer updates completed (also the scheduler position).
    pub step: u64,
    /// Real training tokens consumed.
    pub tokens_seen: u64,
    /// Wall-clock training seconds so far.
    pub elapsed: f64,
    /// Masking/trainer RNG position.
    pub rng: RngState,
    /// Training data position ([`crate::BatchSource::state`]).
    pub data: serde_json::Value,
    /// Best validation loss so far.
    pub best_valid: Option<f64>,
    /// Evaluations since the best one.
    pub evals_without_improvement: u32,
    /// Running TSE statistics.
    pub tpe: TpeTracker,
    /// Optimizer name, checked on resume.
    pub optimizer: String,
    /// The configuration of the run (informative).
    pub config: TrainConfig,
}

/// The directory of the checkpoint at `step` under `out`.
pub fn checkpoint_dir(out: &Path, step: u64) -> PathBuf {
    out.join("checkpoints").join(format!("step-{step:08}"))
}

/// Writes `params`' weights as safetensors (names = parameter names).
pub fn save_weights(params: &ParamSet, path: &Path) -> Result<()> {
    let map: HashMap<String, Tensor> = params
        .iter()
        .map(|p| (p.name.clone(), p.var.as_tensor().clone()))
        .collect();
    candle_core::safetensors::save(&map, path)?;
    Ok(())
}

/// Sets every parameter from a safetensors file; every parameter must be present.
pub fn load_weights(params: &ParamSet, path: &Path) -> Result<()> {
    let map = candle_core::safetensors::load(path, &Device::Cpu)
        .map_err(|e| TrainError::checkpoint(path, format!("unreadable weights ({e})")))?;
    for p in params.iter() {
        let t = map
            .get(&p.name)
            .ok_or_else(|| TrainError::checkpoint(path, format!("no tensor {}", p.name)))?;
        if t.shape() != p.var.shape() {
            return Err(TrainError::checkpoint(
                path,
                format!(
                    "{} has shape {:?}, model has {:?}",
                    p.name,
                    t.shape(),
                    p.var.shape()
                ),
            ));
        }
        p.var.set(&t.to_device(p.var.device())?)?;
    }
    Ok(())
}

/// Writes a checkpoint for `state.step` under `out` atomically; `extra` may add files to the
/// directory before it is published. Returns the final directory.
pub fn save_checkpoint(
    out: &Path,
    params: &ParamSet,
    optimizer: &dyn Optimizer,
    state: &TrainerState,
    extra: Option<&ExtraFiles>,
) -> Result<PathBuf> {
    let final_dir = checkpoint_dir(out, state.step);
    write_dir_atomically(&final_dir, |tmp| {
        save_weights(params, &tmp.join(MODEL_FILE))?;
        let opt: HashMap<String, Tensor> = optimizer.state_tensors(params)?.into_iter().collect();
        candle_core::safetensors::save(&opt, tmp.join(OPTIMIZER_FILE))?;
        let json = serde_json::to_string_pretty(state)
            .map_err(|e| TrainError::format(tmp.join(STATE_FILE), e))?;
        let p = tmp.join(STATE_FILE);
        std::fs::write(&p, json).map_err(|e| TrainError::io(&p, e))?;
        if let Some(f) = extra {
            f(tmp)?;
        }
        Ok(())
    })?;
    Ok(final_dir)
}

/// Fills a hidden sibling directory with `fill`, then renames it to `dir` (replacing an older
/// one of the same name).
pub fn write_dir_atomically(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = chemlm_fs::AtomicDir::create(dir)?;
    fill(tmp.path())?;
    Ok(tmp.commit()?)
}

/// Loads the trainer state, weights and optimizer state of checkpoint `dir`.
pub fn load_checkpoint(
    dir: &Path,
    params: &ParamSet,
    optimizer: &mut dyn Optimizer,
) -> Result<TrainerState> {
    let sp = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&sp).map_err(|e| TrainError::io(&sp, e))?;
    let state: TrainerState =
        serde_json::from_str(&text).map_err(|e| TrainError::format(&sp, e))?;
    if state.optimizer != optimizer.name() {
        return Err(TrainError::checkpoint(
            dir,
            format!(
                "was written by optimizer {}, this run uses {}",
                state.optimizer,
                optimizer.name()
            ),
        ));
    }
    load_weights(params, &dir.join(MODEL_FILE))?;
    let op = dir.join(OPTIMIZER_FILE);
    let opt = candle_core::safetensors::load(&op, &Device::Cpu)
        .map_err(|e| TrainError::checkpoint(&op, format!("unreadable optimizer state ({e})")))?;
    optimizer
        .load_state(params, &opt)
        .map_err(|e| TrainError::checkpoint(&op, e))?;
    Ok(state)
}

/// Checkpoint directories under `out`, oldest first.
pub fn list_checkpoints(out: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let root = out.join("checkpoints");
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&root).map_err(|e| TrainError::io(&root, e))? {
        let entry = entry.map_err(|e| TrainError::io(&root, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(step) = name
            .strip_prefix("step-")
            .and_then(|s| s.parse::<u64>().ok())
        {
            if entry.path().join(STATE_FILE).exists() {
                found.push((step, entry.path()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The newest complete checkpoint under `out`.
pub fn latest_checkpoint(out: &Path) -> Result<Option<PathBuf>> {
    Ok(list_checkpoints(out)?.pop().map(|(_, p)| p))
}

/// Deletes all but the newest `keep` checkpoints.
pub fn prune_checkpoints(out: &Path, keep: usize) -> Result<()> {
    let all = list_checkpoints(out)?;
    let n = all.len().saturating_sub(keep);
    for (_, p) in all.into_iter().take(n) {
        std::fs::remove_dir_all(&p).map_err(|e| TrainError::io(&p, e))?;
    }
    Ok(())
}
