//! The models a server holds: each loaded once, with a batching queue for embeddings and (for a
//! fine-tuned run) predictions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::Device;
use chemlm_data::Tokenizer;
use chemlm_models::embedder::{EmbedOptions, Embedder};
use chemlm_models::generate::{sample_molecules, SamplingConfig};
use chemlm_models::Model;
use chemlm_train::finetune::artifact::{resolve_run_dir, META_FILE};
use chemlm_train::finetune::FinetunedModel;
use chemlm_train::seq2seq::translate::{Candidate, Prompt, TranslateConfig, Translator};

use crate::batcher::{BatchPolicy, Batcher};
use crate::metrics::Metrics;
use crate::server::ServeError;

/// What a model can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Embeddings only.
    Encoder,
    /// Embeddings and sampling (GPT-Neo).
    CausalLm,
    /// Embeddings (of the encoder) and predictions.
    Finetuned,
    /// T5: embeddings of the encoder.
    Seq2seq,
}

/// One loaded model.
pub struct ServedModel {
    pub name: String,
    pub dir: PathBuf,
    pub kind: ModelKind,
    /// `config.json` summary (architecture, sizes, parameters).
    pub info: serde_json::Value,
    /// Embeddings; None for a T5 whose SentencePiece tokenizer has no token-vocabulary form
    /// (e.g. one shipped only as `spiece.model`).
    pub embed: Option<Batcher<Vec<f32>>>,
    pub predict: Option<Batcher<Vec<f64>>>,
    /// T5's tokenizer, for `/seq2seq`.
    seq2seq_tokenizer: Option<chemlm_data::Seq2SeqTokenizer>,
    model: Model,
    tokenizer: Option<Tokenizer>,
}

impl ServedModel {
    /// Loads `dir` (a model directory or a `chemlm finetune` run) as `name` on `device`.
    pub fn load(
        name: &str,
        dir: &Path,
        device: &Device,
        policy: BatchPolicy,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ServeError> {
        let load_err = |e: String| ServeError::Model {
            name: name.to_string(),
            reason: e,
        };
        let dir = resolve_run_dir(dir).unwrap_or_else(|_| dir.to_path_buf());
        let finetuned = if dir.join(META_FILE).is_file() {
            Some(FinetunedModel::load(&dir, device).map_err(|e| load_err(e.to_string()))?)
        } else {
            None
        };
        let (model, tokenizer) = match &finetuned {
            Some(fm) => (fm.model.clone(), Some(fm.tokenizer.clone())),
            None => {
                let model = Model::load(&dir, device).map_err(|e| load_err(e.to_string()))?;
                let tok = Tokenizer::load_dir(&dir);
                // A T5 may ship only spiece.model: no embeddings then, translation still works.
                let tok = if model.as_t5().is_some() {
                    tok.ok()
                } else {
                    Some(tok.map_err(|e| load_err(e.to_string()))?)
                };
                (model, tok)
            }
        };
        let seq2seq_tokenizer = match model.as_t5() {
            Some(_) => Some(
                chemlm_train::seq2seq::translate::load_tokenizer(&dir)
                    .map_err(|e| load_err(e.to_string()))?,
            ),
            None => None,
        };
        let kind = if finetuned.is_some() {
            ModelKind::Finetuned
        } else if model.as_gpt_neo().is_some() {
            ModelKind::CausalLm
        } else if model.config().architecture() == "t5" {
            ModelKind::Seq2seq
        } else {
            ModelKind::Encoder
        };
        let mut info =
            chemlm_models::params::describe(model.config()).map_err(|e| load_err(e.to_string()))?;
        if let (Some(o), Some(fm)) = (info.as_object_mut(), &finetuned) {
            o.insert("tasks".into(), fm.meta.task_names.clone().into());
            o.insert("classification".into(), fm.meta.classification.into());
        }
        // Batches are cut by the batcher; the embedder runs each merged pass whole.
        let opts = EmbedOptions {
            batch_size: policy.max_molecules.max(1),
            ..EmbedOptions::default()
        };
        let embed = match &tokenizer {
            Some(tok) => {
                let embedder = Embedder::new(model.clone(), tok.clone(), opts).map_err(load_err)?;
                Some(
                    Batcher::spawn(
                        &format!("{name}/embed"),
                        policy,
                        metrics.clone(),
                        Box::new(move |smiles| embedder.embed(smiles).map_err(|e| e.to_string())),
                    )
                    .map_err(|e| load_err(e.to_string()))?,
                )
            }
            None => None,
        };
        let predict = match finetuned {
            Some(fm) => {
                let batch = policy.max_molecules.max(1);
                Some(
                    Batcher::spawn(
                        &format!("{name}/predict"),
                        policy,
                        metrics,
                        Box::new(move |smiles| {
                            fm.predict(smiles, batch).map_err(|e| e.to_string())
                        }),
                    )
                    .map_err(|e| load_err(e.to_string()))?,
                )
            }
            None => None,
        };
        Ok(Self {
            name: name.to_string(),
            dir,
            kind,
            info,
            embed,
            predict,
            seq2seq_tokenizer,
            model,
            tokenizer,
        })
    }

    /// Translates each text with the task's prompt (a T5 only); each text gets its candidates
    /// or its own error.
    pub fn translate(
        &self,
        texts: &[String],
        prompt: Prompt,
        cfg: TranslateConfig,
    ) -> Result<Vec<Result<Vec<Candidate>, String>>, String> {
        let (Some(t5), Some(tok)) = (self.model.as_t5(), &self.seq2seq_tokenizer) else {
            return Err(format!(
                "model {} is a {:?} model; /seq2seq needs an encoder-decoder (T5)",
                self.name, self.kind
            ));
        };
        // Empty inputs are errors of their own (as empty lines for `chemlm seq2seq`).
        let prompted: Vec<String> = texts
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| prompt.apply(t))
            .collect();
        let mut done = Translator::new(t5, tok, cfg)
            .and_then(|t| t.translate(&prompted, |_| {}))
            .map_err(|e| e.to_string())?
            .into_iter();
        Ok(texts
            .iter()
            .map(|t| {
                if t.trim().is_empty() {
                    Err("empty input".to_string())
                } else {
                    done.next().unwrap_or_else(|| Err("no output".into()))
                }
            })
            .collect())
    }

    /// Samples `n` molecules (a causal LM only); None where a sample is not decodable.
    pub fn generate(&self, n: usize, cfg: &SamplingConfig) -> Result<Vec<Option<String>>, String> {
        if self.kind != ModelKind::CausalLm {
            return Err(format!(
                "model {} is a {:?} model; generation needs a causal LM",
                self.name, self.kind
            ));
        }
        let Some(tokenizer) = &self.tokenizer else {
            return Err(format!("model {} has no token vocabulary", self.name));
        };
        let batch = n.clamp(1, 256);
        let gen = sample_molecules(&self.model, tokenizer, n, batch, cfg, &mut |_| {})
            .map_err(|e| e.to_string())?;
        Ok(gen
            .into_iter()
            .map(|g| (!g.smiles.is_empty()).then_some(g.smiles))
            .collect())
    }
}
