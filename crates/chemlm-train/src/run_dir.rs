//! Run-directory wiring shared by everything that trains a language model on token shards
//! (pretraining, seq2seq pretraining, general distillation; moved out of the CLI in issue 18): a
//! run directory is never overwritten by accident, every checkpoint is a complete model
//! directory, and a resumed run continues from the newest usable checkpoint with the model's
//! non-trainable buffers restored too.

use std::path::{Path, PathBuf};

use candle_core::{Device, Var};
use chemlm_models::config::SpecialTokenIds;
use chemlm_models::{Model, ModelConfig};

use crate::{checkpoint, BatchSource, Result, TrainError, Trainer};

fn run_err(msg: String) -> TrainError {
    TrainError::Run(msg)
}

/// Reads a model config file: JSON (a saved model's `config.json`) when it ends in `.json`,
/// chemlm's TOML otherwise.
pub fn read_model_config(p: &Path) -> Result<ModelConfig> {
    let text =
        std::fs::read_to_string(p).map_err(|e| run_err(format!("reading {}: {e}", p.display())))?;
    let origin = p.display().to_string();
    if p.extension().is_some_and(|e| e == "json") {
        Ok(ModelConfig::from_json(&text, &origin)?)
    } else {
        Ok(ModelConfig::from_toml(&text, &origin)?)
    }
}

/// The `<bos>`/`<eos>`/`<pad>` ids of `tok`, for [`ModelConfig::set_special_token_ids`]: a
/// model made for a tokenizer records its ids, so `config.json` and `tokenizer.json` agree
/// (our `<pad>` is 2, not the 0 that BERT's config defaults to) and RoBERTa numbers positions
/// from the pad id it will really see.
pub fn tokenizer_ids(tok: &chemlm_data::Tokenizer) -> SpecialTokenIds {
    let sp = tok.special_ids();
    SpecialTokenIds {
        bos: Some(sp.bos),
        eos: Some(sp.eos),
        pad: Some(sp.pad),
    }
}

/// Creates the run directory `out` and returns its newest checkpoint. A directory that already
/// holds checkpoints is refused unless `resume` is set, so a finished run is not trained over.
pub fn open_run_dir(out: &Path, resume: bool) -> Result<Option<PathBuf>> {
    let existing = checkpoint::latest_checkpoint(out)?;
    if existing.is_some() && !resume {
        return Err(run_err(format!(
            "{} already holds checkpoints: pass --resume to continue that run, or choose another --out",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    Ok(existing)
}

/// Makes every checkpoint (and `best/`) of `trainer` a model directory of `model` with the
/// tokenizer at `tokenizer`, so any of them can be loaded, evaluated or fine-tuned directly.
/// `extra` variables (distillation's projections) are added to its weights file: `Model::load`
/// ignores them, resuming needs them.
pub fn save_model_checkpoints(
    trainer: &mut Trainer,
    model: &Model,
    tokenizer: &Path,
    extra: Vec<(String, Var)>,
) {
    let m = model.clone();
    let tok = tokenizer.to_path_buf();
    trainer.set_checkpoint_hook(Box::new(move |dir: &Path| {
        let err = |e: String| TrainError::checkpoint(dir, e);
        let extra = extra
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect();
        m.save_with_extra(dir, Some(&tok), extra)
            .map_err(|e| err(e.to_string()))
    }));
}

/// Resuming: restores the trainer and `train`'s position from `existing` (the newest
/// checkpoint of `out`, an error when there is none), then `model`'s non-trainable buffers
/// (MoLFormer's random features), which live outside the trainer's variables, from the
/// checkpoint's weights file. A checkpoint cut short (a full disk, a crash mid-copy) is named on
/// stderr and skipped for the one before it.
pub fn resume(
    trainer: &mut Trainer,
    existing: Option<PathBuf>,
    out: &Path,
    train: &mut dyn BatchSource,
    model: &Model,
    device: &Device,
) -> Result<()> {
    if existing.is_none() {
        return Err(run_err(format!(
            "--resume: no checkpoint in {}",
            out.display()
        )));
    }
    let mut candidates = checkpoint::list_checkpoints(out)?;
    candidates.reverse();
    let mut failures = Vec::new();
    for (_, dir) in candidates {
        let attempt = (|| -> Result<()> {
            // The model directory around the weights must be whole too.
            let cfg_path = dir.join("config.json");
            if cfg_path.exists() {
                let text = std::fs::read_to_string(&cfg_path)
                    .map_err(|e| run_err(format!("reading {}: {e}", cfg_path.display())))?;
                ModelConfig::from_json(&text, &cfg_path.display().to_string())?;
                if !dir.join("tokenizer.json").exists() {
                    return Err(run_err(format!(
                        "{}: tokenizer.json is missing",
                        dir.display()
                    )));
                }
            }
            trainer.resume_from(&dir, train)?;
            let w = dir.join(chemlm_models::io::WEIGHTS_FILE);
            let saved = candle_core::safetensors::load(&w, device)
                .map_err(|e| run_err(format!("{}: unreadable weights: {e}", w.display())))?;
            for (name, _) in model.buffers()? {
                if let Some(t) = saved.get(&name) {
                    model.set_buffer(&name, t)?;
                }
            }
            Ok(())
        })();
        match attempt {
            Ok(()) => {
                eprintln!("resumed from {} (step {})", dir.display(), trainer.step());
                return Ok(());
            }
            Err(e) => {
                eprintln!(
                    "warning: checkpoint {} is unusable ({e}); trying the one before it",
                    dir.display()
                );
                failures.push(format!("{}: {e}", dir.display()));
            }
        }
    }
    Err(run_err(format!(
        "--resume: no usable checkpoint in {}:\n  {}",
        out.display(),
        failures.join("\n  ")
    )))
}

/// Writes a run's `summary.json` atomically; returns the summary as one JSON line (the CLI
/// prints it).
pub fn write_summary<S: serde::Serialize>(out: &Path, summary: &S) -> Result<String> {
    let path = out.join("summary.json");
    let json = serde_json::to_string_pretty(summary).map_err(|e| TrainError::format(&path, e))?;
    chemlm_models::io::write_atomic(&path, json.as_bytes())?;
    serde_json::to_string(summary).map_err(|e| TrainError::format(&path, e))
}
