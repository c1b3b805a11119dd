//! Scoring by a fine-tuned model's predicted activity (`chemlm finetune` output): the score of a
//! molecule is the model's prediction for one task (a probability for classification, the value
//! in original units for regression). No query molecules are involved.

use std::path::Path;

use candle_core::Device;
use chemlm_train::finetune::artifact::FinetunedModel;

use crate::error::ScreenError;
use crate::scorer::{Score, Scorer};

/// Predicted activity of a fine-tuned model for task `task`.
pub struct PredictionScorer {
    model: FinetunedModel,
    task: usize,
    micro_batch: usize,
}

impl PredictionScorer {
    /// Loads a fine-tuned model directory onto `device`; `task` must be one of its outputs.
    pub fn load(dir: &Path, task: usize, device: &Device) -> Result<Self, ScreenError> {
        let model = FinetunedModel::load(dir, device).map_err(|e| {
            ScreenError::Invalid(format!("fine-tuned model {}: {e}", dir.display()))
        })?;
        let n = model.meta.head.n_out;
        if task >= n {
            return Err(ScreenError::Invalid(format!(
                "{}: task {task} requested, the model predicts {n} task(s)",
                dir.display()
            )));
        }
        Ok(Self {
            model,
            task,
            micro_batch: 32,
        })
    }
}

impl Scorer for PredictionScorer {
    fn score_batch(&self, smiles: &[&str]) -> Vec<Result<Score, String>> {
        match self.model.predict(smiles, self.micro_batch) {
            Ok(rows) => rows
                .into_iter()
                .map(|r| {
                    r.map(|v| Score {
                        value: v[self.task],
                        nearest: None,
                    })
                })
                .collect(),
            Err(e) => smiles
                .iter()
                .map(|_| Err(format!("prediction failed: {e}")))
                .collect(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{}/prediction/task{}",
            self.model.model.config().architecture(),
            self.task
        )
    }
}
