//! A trained force field as the MD integrators' energy/force provider.

use super::predict::predict_batch;
use crate::potential::Potential;
use candle_core::{DType, Device};
use chemlm_atoms::md::Calculator;
use chemlm_atoms::{neighbor_list, AtomsError, GraphBatch, Structure};

/// Wraps a model for [`chemlm_atoms::md`]: one neighbour list (model cutoff), one forward and
/// one backward pass per call, no graph kept between steps.
pub struct ModelCalculator {
    /// The force field.
    pub model: Box<dyn Potential>,
    /// Precision of the forward pass (f32 for production MD, f64 for conservation tests).
    pub dtype: DType,
    /// Where the model runs.
    pub device: Device,
}

impl ModelCalculator {
    /// A calculator for `model`.
    pub fn new(model: Box<dyn Potential>, dtype: DType, device: Device) -> Self {
        ModelCalculator {
            model,
            dtype,
            device,
        }
    }
}

impl Calculator for ModelCalculator {
    fn compute(&mut self, structure: &Structure) -> chemlm_atoms::Result<(f64, Vec<[f64; 3]>)> {
        let graph = neighbor_list(structure, self.model.cutoff())?;
        let batch = GraphBatch::collate(&[(structure, &graph)])?;
        let mut preds = predict_batch(self.model.as_ref(), &batch, self.dtype, &self.device)
            .map_err(|e| AtomsError::Invalid(format!("force field: {e}")))?;
        let p = preds
            .pop()
            .ok_or_else(|| AtomsError::Invalid("force field returned no structure".into()))?;
        Ok((p.energy, p.forces))
    }
}
