//! The fine-tuned model directory that `chemlm predict` reloads:
//!
//! ```text
//! best/
//!   config.json, model.safetensors, tokenizer.json   the encoder (Model::save)
//!   head.safetensors                                  the head
//!   finetune.json                                     FinetuneMeta: tasks, head shape, pooling,
//!                                                     encoding, target standardisation
//! ```
//!
//! Everything prediction needs is in the directory, so a prediction is reproducible without the
//! run's data or flags.

use std::path::{Path, PathBuf};

use candle_core::Device;
use chemlm_data::{TaskType, Tokenizer};
use chemlm_models::Model;

use super::head::{Head, HeadConfig};
use super::standardize::Standardizer;
use super::train::to_original_units;
use super::{FinetuneError, Result};
use chemlm_models::encode::{embed_pooled, encode_for_model_tallied, EncodeOptions, Pooling};

/// File names inside a fine-tuned model directory.
pub const META_FILE: &str = "finetune.json";
pub const HEAD_FILE: &str = "head.safetensors";
/// Format tag of [`META_FILE`].
pub const META_FORMAT: &str = "chemlm-finetuned/1";

/// What prediction needs besides the weights.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FinetuneMeta {
    pub format: String,
    pub dataset: String,
    /// Classification (outputs are probabilities) or regression (original units).
    pub classification: bool,
    pub task_names: Vec<String>,
    pub head: HeadConfig,
    pub pooling: Pooling,
    pub encode: EncodeOptions,
    /// Identity for classification (outputs are probabilities).
    pub standardizer: Standardizer,
    pub seed: u64,
    pub best_epoch: usize,
    /// The pretrained encoder the run started from.
    pub base_model: String,
}

/// Writes `dir` (created if needed): encoder + tokenizer, head, meta. Each file is atomic.
/// Saves `model` with `tokenizer` written from the loaded object (not copied from a file: a Hub
/// model's may have come from `vocab.json` + `merges.txt`, with no `tokenizer.json` to copy),
/// plus the `tokenizer_config.json` / `special_tokens_map.json` transformers reads, naming the
/// tokenizer's own special roles.
pub fn save_with_tokenizer(dir: &Path, model: &Model, tokenizer: &Tokenizer) -> Result<()> {
    use chemlm_models::io::{write_tokenizer_files, SpecialToken, TokenizerSpecials};
    let (sp, v) = (tokenizer.special_ids(), tokenizer.vocab());
    let role = |id: u32| {
        v.token(id).map(|t| SpecialToken {
            content: t.to_owned(),
            id,
        })
    };
    let specials = TokenizerSpecials {
        bos: role(sp.bos),
        eos: role(sp.eos),
        pad: role(sp.pad),
        mask: role(sp.mask),
        unk: role(sp.unk),
    };
    model.save(dir, None)?;
    write_tokenizer_files(
        dir,
        tokenizer.to_hf_json().as_bytes(),
        &specials,
        model.config().max_positions(),
    )?;
    Ok(())
}

pub fn save_model_dir(
    dir: &Path,
    model: &Model,
    tokenizer: &Tokenizer,
    head: &Head,
    meta: &FinetuneMeta,
) -> Result<()> {
    save_with_tokenizer(dir, model, tokenizer)?;
    head.save(&dir.join(HEAD_FILE))?;
    let text = serde_json::to_string_pretty(meta).map_err(|e| FinetuneError::File {
        path: dir.join(META_FILE),
        reason: e.to_string(),
    })?;
    chemlm_models::io::write_atomic(&dir.join(META_FILE), text.as_bytes())?;
    Ok(())
}

impl FinetuneMeta {
    /// The task type the head was trained for.
    pub fn task_type(&self) -> TaskType {
        if self.classification {
            TaskType::Classification
        } else {
            TaskType::Regression
        }
    }
}

/// The fine-tuned model directory `path` names: `path` itself when it holds [`META_FILE`], else
/// the first fit's best model of a `chemlm finetune` run directory (`seed-S[-fold-F]/best`, the
/// smallest seed and fold). One rule for `chemlm predict`, screening and Python's `Model.load`.
pub fn resolve_run_dir(path: &Path) -> Result<PathBuf> {
    if path.join(META_FILE).is_file() {
        return Ok(path.to_path_buf());
    }
    let mut best: Option<(u64, usize, PathBuf)> = None;
    let entries = std::fs::read_dir(path).map_err(|e| FinetuneError::File {
        path: path.to_path_buf(),
        reason: format!("cannot read: {e}"),
    })?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("seed-") else {
            continue;
        };
        let (seed, fold) = match rest.split_once("-fold-") {
            Some((s, f)) => (s.parse::<u64>().ok(), f.parse::<usize>().ok()),
            None => (rest.parse::<u64>().ok(), Some(0)),
        };
        let (Some(seed), Some(fold)) = (seed, fold) else {
            continue;
        };
        let dir = e.path().join("best");
        if dir.join(META_FILE).is_file()
            && best
                .as_ref()
                .map(|b| (seed, fold) < (b.0, b.1))
                .unwrap_or(true)
        {
            best = Some((seed, fold, dir));
        }
    }
    best.map(|(_, _, d)| d).ok_or_else(|| FinetuneError::File {
        path: path.to_path_buf(),
        reason: format!(
            "neither a fine-tuned model ({META_FILE}) nor a finetune run with seed-*/best"
        ),
    })
}

/// A loaded fine-tuned model.
pub struct FinetunedModel {
    pub dir: PathBuf,
    pub model: Model,
    pub head: Head,
    pub tokenizer: Tokenizer,
    pub meta: FinetuneMeta,
    /// Out-of-vocabulary tokens of every molecule encoded so far (see [`FinetunedModel::encode`]).
    pub oov: chemlm_data::OovTally,
}

impl FinetunedModel {
    /// Loads a directory written by [`save_model_dir`].
    pub fn load(dir: &Path, dev: &Device) -> Result<Self> {
        let meta_path = dir.join(META_FILE);
        let text = std::fs::read_to_string(&meta_path).map_err(|e| FinetuneError::File {
            path: meta_path.clone(),
            reason: e.to_string(),
        })?;
        let meta: FinetuneMeta = serde_json::from_str(&text).map_err(|e| FinetuneError::File {
            path: meta_path.clone(),
            reason: e.to_string(),
        })?;
        if meta.format != META_FORMAT {
            return Err(FinetuneError::File {
                path: meta_path,
                reason: format!("format {:?}, expected {META_FORMAT:?}", meta.format),
            });
        }
        let model = Model::load(dir, dev)?;
        if meta.head.n_in != model.config().hidden_size() {
            return Err(FinetuneError::File {
                path: meta_path,
                reason: format!(
                    "head expects {} inputs, the encoder gives {}",
                    meta.head.n_in,
                    model.config().hidden_size()
                ),
            });
        }
        let head = Head::load(meta.head, &dir.join(HEAD_FILE), dev)?;
        let tokenizer = Tokenizer::load_dir(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            model,
            head,
            tokenizer,
            meta,
            oov: chemlm_data::OovTally::new(),
        })
    }

    /// Token ids of one molecule, exactly as in training; its out-of-vocabulary tokens are
    /// counted in [`FinetunedModel::oov`].
    pub fn encode(&self, smiles: &str) -> std::result::Result<Vec<u32>, String> {
        encode_for_model_tallied(
            &self.tokenizer,
            smiles,
            self.meta.encode,
            self.model.config().max_positions(),
            Some(&self.oov),
        )
    }

    /// The head's raw outputs `[molecules, n_tasks]` (logits for classification, standardised
    /// values for regression) for molecules already encoded, in inference mode. Task-stage
    /// distillation needs these rather than probabilities: a logit recovered from a saturated
    /// probability (`σ(z)` rounds to 1 for z ≳ 37) would be infinite.
    pub fn raw_outputs(&self, seqs: &[&[u32]]) -> Result<candle_core::Tensor> {
        self.head.forward(&self.pooled(seqs)?, None)
    }

    /// The encoder's pooled embeddings `[molecules, hidden]` (what the head reads), inference
    /// mode, for molecules already encoded.
    pub fn pooled(&self, seqs: &[&[u32]]) -> Result<candle_core::Tensor> {
        let pad = self.tokenizer.special_ids().pad;
        Ok(embed_pooled(&self.model, seqs, pad, self.meta.pooling)?)
    }

    /// Predictions (probabilities or original units), `n_tasks` per molecule, for molecules
    /// already encoded.
    pub fn predict_encoded(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f64>>> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let out = self.raw_outputs(seqs)?;
        let flat = to_original_units(&out, self.meta.task_type(), &self.meta.standardizer)?;
        Ok(flat
            .chunks(self.meta.head.n_out)
            .map(|c| c.to_vec())
            .collect())
    }

    /// Predictions for SMILES: `Err(reason)` for a molecule that cannot be encoded. Batched by
    /// `batch`, sorted by length inside so padding stays small; results in input order.
    pub fn predict(
        &self,
        smiles: &[&str],
        batch: usize,
    ) -> Result<Vec<std::result::Result<Vec<f64>, String>>> {
        let enc: Vec<std::result::Result<Vec<u32>, String>> = {
            use rayon::prelude::*;
            smiles.par_iter().map(|s| self.encode(s)).collect()
        };
        let mut order: Vec<usize> = (0..enc.len()).filter(|&i| enc[i].is_ok()).collect();
        order.sort_by_key(|&i| enc[i].as_ref().map(|v| v.len()).unwrap_or(0));
        let mut out: Vec<std::result::Result<Vec<f64>, String>> = enc
            .iter()
            .map(|e| match e {
                Ok(_) => Err(String::new()),
                Err(r) => Err(r.clone()),
            })
            .collect();
        for chunk in order.chunks(batch.max(1)) {
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .filter_map(|&i| enc[i].as_deref().ok())
                .collect();
            for (&i, p) in chunk.iter().zip(self.predict_encoded(&seqs)?) {
                out[i] = Ok(p);
            }
        }
        Ok(out)
    }
}
