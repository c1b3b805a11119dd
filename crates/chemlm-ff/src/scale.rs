//! Per-element energy reference and per-atom scaling of a model's atomic outputs.
//!
//! A model emits one number y_a per atom; the energy of a structure is
//! E = Σ_a (σ · y_a + μ + e_ref[Z_a]), as schnetpack's `Atomwise` + `AddOffsets`/`ScaleShift`:
//! e_ref is fitted on the training set (least squares of energies on element counts), μ and σ
//! are the mean and standard deviation of the per-atom residual energy. Networks then learn
//! numbers of order one whatever the units and the size of the molecules.

use crate::error::FfResult;
use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// Number of per-element slots (Z = 0..=118).
pub const N_ELEMENTS: usize = 119;

/// Energy reference and scale, stored with the model (`config.json` holds them too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyScale {
    /// Per-element reference energy in eV, indexed by atomic number (length [`N_ELEMENTS`]).
    pub atomref: Vec<f64>,
    /// Mean per-atom residual energy μ (eV).
    pub mean: f64,
    /// Scale σ of the atomic outputs (eV).
    pub std: f64,
}

impl Default for EnergyScale {
    fn default() -> Self {
        EnergyScale {
            atomref: vec![0.0; N_ELEMENTS],
            mean: 0.0,
            std: 1.0,
        }
    }
}

impl EnergyScale {
    /// Per-structure energies `[n_structures]` from atomic outputs `[n_atoms]`.
    pub fn energies(&self, atomic: &Tensor, input: &crate::AtomsInput) -> FfResult<Tensor> {
        let dtype = atomic.dtype();
        let refs: Vec<f64> = input
            .numbers_host
            .iter()
            .map(|&z| self.atomref.get(z as usize).copied().unwrap_or(0.0) + self.mean)
            .collect();
        let offset = Tensor::from_vec(refs, input.n_atoms(), atomic.device())?.to_dtype(dtype)?;
        let per_atom = ((atomic * self.std)? + offset)?;
        input.sum_per_structure(&per_atom)
    }

    /// The reference as a tensor (for `model.safetensors`).
    pub fn atomref_tensor(&self, device: &candle_core::Device) -> FfResult<Tensor> {
        Ok(Tensor::from_vec(self.atomref.clone(), N_ELEMENTS, device)?.to_dtype(DType::F64)?)
    }
}
