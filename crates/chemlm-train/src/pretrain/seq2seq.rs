//! Pretraining an encoder-decoder (T5): teacher-forced seq2seq training on a directory written by
//! `chemlm data seq2seq` (paired token shards + tokenizer), with the same trainer, checkpoints,
//! resume, early stopping and outputs as masked/causal pretraining.
//!
//! `f.init` starts from any T5 directory (a released checkpoint, safetensors or
//! pytorch_model.bin): its vocabulary must cover the data's tokenizer. GT4SD's recipe is the
//! preset `configs/pretrain-t5-gt4sd.toml` (AdamW, lr 6e-4 decayed by 0.99 each epoch, batches of
//! 8 pairs x 4 accumulation steps).

use std::path::{Path, PathBuf};

use candle_core::Device;
use chemlm_data::seq2seq::Seq2SeqShards;
use chemlm_models::{Model, ModelConfig};
use serde::Serialize;

use super::{ctx, run_err, PretrainFile};
use crate::seq2seq::{PairSource, Seq2SeqObjective};
use crate::{BatchingConfig, Result, TrainError, Trainer};

#[derive(Serialize)]
struct Summary<'a> {
    architecture: &'a str,
    objective: &'a str,
    parameters: usize,
    train_pairs: usize,
    valid_pairs: usize,
    updates_per_epoch: u64,
    steps: u64,
    final_train_loss: Option<f64>,
    best_valid_loss: Option<f64>,
    last_valid_loss: Option<f64>,
    last_valid_accuracy: Option<f64>,
    tokens_seen: u64,
    wall_seconds: f64,
    stopped_early: bool,
    model_dir: &'a Path,
}

fn batching(f: &PretrainFile, shuffle: bool) -> BatchingConfig {
    BatchingConfig {
        max_tokens: f.batch.max_tokens,
        max_sequences: f.batch.max_sequences.unwrap_or(usize::MAX),
        bucket_window: if shuffle { f.batch.window.max(1) } else { 1 },
        shuffle,
        epochs: if shuffle { None } else { Some(1) },
        seed: f.train.seed,
    }
}

/// Copies the tokenizer files (tokenizer.json and, when the data has one, escape.json) into a
/// model directory so it can translate on its own.
fn copy_tokenizer_files(files: &[(PathBuf, &'static str)], dir: &Path) -> Result<()> {
    for (src, name) in files {
        let bytes = std::fs::read(src).map_err(|e| TrainError::io(src, e))?;
        chemlm_models::io::write_atomic(&dir.join(name), &bytes)
            .map_err(|e| TrainError::checkpoint(dir, e.to_string()))?;
    }
    Ok(())
}

/// Trains the T5 of `config` on a `chemlm data seq2seq` directory as `f` says; returns
/// `summary.json` as one JSON line.
pub fn run(
    f: &PretrainFile,
    config: ModelConfig,
    resume: bool,
    device: &Device,
    quiet: bool,
) -> Result<String> {
    let data_dir = f.data.clone().ok_or_else(|| {
        run_err("no training data: give --data DIR (from `chemlm data seq2seq`)".into())
    })?;
    let out = f
        .out
        .clone()
        .ok_or_else(|| run_err("no output directory: give --out DIR".into()))?;
    let data = Seq2SeqShards::open(&data_dir).map_err(ctx({
        format!(
            "opening {} (a T5 model trains on `chemlm data seq2seq` output)",
            data_dir.display()
        )
    }))?;
    let tokenizer = data.tokenizer()?;
    let mut config = config;
    if f.init.is_none() {
        config.set_vocab_size(tokenizer.vocab_size());
        let sp = tokenizer.specials();
        config.set_special_token_ids(chemlm_models::config::SpecialTokenIds {
            bos: None,
            eos: Some(sp.eos),
            pad: Some(sp.pad),
        });
    } else if config.vocab_size() < tokenizer.vocab_size() {
        return Err(run_err(format!(
            "the model's vocabulary ({}) is smaller than the data's tokenizer ({})",
            config.vocab_size(),
            tokenizer.vocab_size()
        )));
    }
    let model = match &f.init {
        Some(dir) => Model::load(dir, device)
            .map_err(ctx(format!("cannot load --init {}", dir.display())))?,
        None => Model::new(&config, device, f.train.seed)?,
    };
    let t5 = model
        .as_t5()
        .ok_or_else(|| run_err("seq2seq training needs an encoder-decoder (T5) model".into()))?;
    let counts = model.parameter_count()?;

    let train_split = data.split(&f.train_split)?;
    let pairs = PairSource::new(train_split.pairs(), tokenizer.pad_id(), batching(f, true))?;
    let (train_batches_per_epoch, train_pairs) = (pairs.batches_per_epoch(), pairs.len());
    // Batches are prepared on a background thread while the model trains.
    let mut train = crate::Prefetch::new(pairs, 4);
    let mut valid = if data.split_names().contains(&f.valid_split) {
        let v = data.split(&f.valid_split)?;
        (!v.is_empty())
            .then(|| PairSource::new(v.pairs(), tokenizer.pad_id(), batching(f, false)))
            .transpose()?
    } else {
        None
    };
    if valid.is_none() {
        tracing::warn!(split = %f.valid_split, "no validation pairs: no validation, no early stopping");
    }
    let per_epoch = train_batches_per_epoch as u64;
    let updates_per_epoch = per_epoch.div_ceil(u64::from(f.train.grad_accum)).max(1);
    let mut tc = f.train.clone();
    if f.lr_decay_each_epoch {
        tc.lr_decay_every = updates_per_epoch;
    }

    let existing = crate::run_dir::open_run_dir(&out, resume)?;
    let mut resolved = f.clone();
    resolved.train = tc.clone();
    let text = toml::to_string_pretty(&resolved)
        .map_err(ctx("serialising the resolved config".to_string()))?;
    chemlm_models::io::write_atomic(&out.join("pretrain.toml"), text.as_bytes())?;

    // tokenizer.json goes through `Model::save`, which also writes tokenizer_config.json and
    // special_tokens_map.json; the escape table is ours alone.
    let tokenizer_path = data.tokenizer_path();
    let mut tok_files = Vec::new();
    if let Some(e) = &data.manifest().escape {
        tok_files.push((data_dir.join(e), crate::seq2seq::translate::ESCAPE_FILE));
    }
    let mut trainer = Trainer::new(tc, model.varmap(), Some(&out))?;
    trainer.set_quiet(quiet);
    trainer.set_flops_per_token(chemlm_models::flops_per_token(model.config())? as f64);
    {
        let m = model.clone();
        let files = tok_files.clone();
        let tok = tokenizer_path.clone();
        trainer.set_checkpoint_hook(Box::new(move |dir: &Path| {
            m.save(dir, Some(&tok))
                .map_err(|e| TrainError::checkpoint(dir, e.to_string()))?;
            copy_tokenizer_files(&files, dir)
        }));
    }
    if resume {
        crate::run_dir::resume(&mut trainer, existing, &out, &mut train, &model, device)?;
    }
    let objective = Seq2SeqObjective::new(t5, device.clone());
    let summary = trainer.fit(
        &objective,
        &mut train,
        valid.as_mut().map(|v| v as &mut dyn crate::BatchSource),
    )?;
    let model_dir = out.join("model");
    model.save(&model_dir, Some(&tokenizer_path))?;
    copy_tokenizer_files(&tok_files, &model_dir)?;
    let s = Summary {
        architecture: model.config().architecture(),
        objective: "seq2seq",
        parameters: counts.total,
        train_pairs,
        valid_pairs: valid.as_ref().map_or(0, |v| v.len()),
        updates_per_epoch,
        steps: summary.steps,
        final_train_loss: summary.losses.last().copied(),
        best_valid_loss: summary.best_valid,
        last_valid_loss: summary.last_valid.map(|v| v.loss),
        last_valid_accuracy: summary.last_valid.and_then(|v| v.accuracy),
        tokens_seen: summary.tokens_seen,
        wall_seconds: summary.elapsed,
        stopped_early: summary.stopped_early,
        model_dir: &model_dir,
    };
    crate::run_dir::write_summary(&out, &s)
}
