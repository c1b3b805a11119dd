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
    /// Per-structure energies `[n_structures]`, always f64, from atomic outputs `[n_atoms]`.
    ///
    /// Only σ·y goes through the model's dtype; the per-structure constant Σ (e_ref[Z] + μ) is
    /// added in f64. Total energies of molecules are large (aspirin: −17,592 eV) and f32 resolves
    /// them to ~1 meV only, which showed as noise on NVE total energies and in energy losses;
    /// schnetpack avoids the same loss by removing offsets in f64 before casting.
    pub fn energies(&self, atomic: &Tensor, input: &crate::AtomsInput) -> FfResult<Tensor> {
        let scaled = (atomic * self.std)?;
        let sums = input.sum_per_structure(&scaled)?.to_dtype(DType::F64)?;
        let offsets = self.offsets(input);
        let offsets = Tensor::from_vec(offsets, input.n_structures, atomic.device())?;
        Ok((sums + offsets)?)
    }

    /// Σ over each structure's atoms of e_ref[Z] + μ, in f64.
    pub fn offsets(&self, input: &crate::AtomsInput) -> Vec<f64> {
        let mut out = Vec::with_capacity(input.n_structures);
        let mut start = 0usize;
        for &n in &input.atoms_per_structure {
            let end = start + n as usize;
            let sum = input.numbers_host[start..end]
                .iter()
                .map(|&z| self.atomref.get(z as usize).copied().unwrap_or(0.0) + self.mean)
                .sum();
            out.push(sum);
            start = end;
        }
        out
    }

    /// The reference as a tensor (for `model.safetensors`).
    pub fn atomref_tensor(&self, device: &candle_core::Device) -> FfResult<Tensor> {
        Ok(Tensor::from_vec(self.atomref.clone(), N_ELEMENTS, device)?.to_dtype(DType::F64)?)
    }
}
