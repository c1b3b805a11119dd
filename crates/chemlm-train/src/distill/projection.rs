//! Learned linear maps from the student's hidden width to the teacher's (TinyBERT's `W_h`), one
//! per layer-map pair, so hidden-state MSE works between models of different widths.
//!
//! They live in their own `VarMap` under the prefix [`PREFIX`]: trained with the student, saved
//! in the same checkpoints (so a resumed run continues them), and ignored by `Model::load`, which
//! skips tensors the architecture does not know — a distillation checkpoint is still a plain
//! model directory.

use super::config::LayerMap;
use candle_core::{DType, Device, Result, Tensor, Var};
use candle_nn::VarMap;
use chemlm_models::blocks::Linear;
use chemlm_models::init::SeededBackend;

/// Name prefix of projection tensors.
pub const PREFIX: &str = "distill_projection";

/// One optional projection per layer-map pair.
pub struct Projections {
    varmap: VarMap,
    layers: Vec<Option<Linear>>,
}

impl Projections {
    /// Projections for every pair of `map` when `student_width != teacher_width` (identity
    /// otherwise: no parameters). Weights are N(0, 1/student_width), which keeps the projected
    /// states at the student's scale; biases 0; seeded, so runs repeat.
    pub fn new(
        map: &LayerMap,
        student_width: usize,
        teacher_width: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = SeededBackend::var_builder(&varmap, seed, DType::F32, device);
        let std = 1.0 / (student_width.max(1) as f64).sqrt();
        let layers = (0..map.0.len())
            .map(|k| {
                if student_width == teacher_width {
                    Ok(None)
                } else {
                    Linear::new(
                        student_width,
                        teacher_width,
                        true,
                        std,
                        vb.pp(format!("{PREFIX}.{k}")),
                    )
                    .map(Some)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Projections { varmap, layers })
    }

    /// The student state of pair `k`, mapped to the teacher's width.
    pub fn apply(&self, k: usize, student_hidden: &Tensor) -> Result<Tensor> {
        match self.layers.get(k) {
            Some(Some(p)) => p.forward(student_hidden),
            _ => Ok(student_hidden.clone()),
        }
    }

    /// The projection weights (empty when the widths agree).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// `(name, var)` of every projection tensor.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        named(&self.varmap)
    }

    /// `(name, tensor)` of every projection tensor, for checkpoints.
    pub fn tensors(&self) -> Vec<(String, Tensor)> {
        self.named_vars()
            .into_iter()
            .map(|(n, v)| (n, v.as_tensor().clone()))
            .collect()
    }
}

/// Every `(name, var)` of a `VarMap` (a poisoned lock still holds valid variables).
pub(crate) fn named(varmap: &VarMap) -> Vec<(String, Var)> {
    let lock = varmap.data().lock();
    let map = match &lock {
        Ok(m) => &**m,
        Err(p) => &**p.get_ref(),
    };
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
