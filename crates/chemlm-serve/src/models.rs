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
    pub embed: Batcher<Vec<f32>>,
    pub predict: Option<Batcher<Vec<f64>>>,
    model: Model,
    tokenizer: Tokenizer,
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
            Some(fm) => (fm.model.clone(), fm.tokenizer.clone()),
            None => (
                Model::load(&dir, device).map_err(|e| load_err(e.to_string()))?,
                Tokenizer::load_dir(&dir).map_err(|e| load_err(e.to_string()))?,
            ),
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
        let embedder = Embedder::new(model.clone(), tokenizer.clone(), opts).map_err(load_err)?;
        let embed = Batcher::spawn(
            &format!("{name}/embed"),
            policy,
            metrics.clone(),
            Box::new(move |smiles| embedder.embed(smiles).map_err(|e| e.to_string())),
        )
        .map_err(|e| load_err(e.to_string()))?;
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
            model,
            tokenizer,
        })
    }

    /// Samples `n` molecules (a causal LM only); None where a sample is not decodable.
    pub fn generate(&self, n: usize, cfg: &SamplingConfig) -> Result<Vec<Option<String>>, String> {
        if self.kind != ModelKind::CausalLm {
            return Err(format!(
                "model {} is a {:?} model; generation needs a causal LM",
                self.name, self.kind
            ));
        }
        let batch = n.clamp(1, 256);
        let gen = sample_molecules(&self.model, &self.tokenizer, n, batch, cfg, &mut |_| {})
            .map_err(|e| e.to_string())?;
        Ok(gen
            .into_iter()
            .map(|g| (!g.smiles.is_empty()).then_some(g.smiles))
            .collect())
    }
}
