//! The training loss: NeuralForceField's `build_mse_loss` with `{energy: w_E, energy_grad: w_F}`
//! (equivalently schnetpack's `ModelOutput`s with `MSELoss` and `loss_weight`s):
//!
//! `L = w_E · mean_b (E_b − Ê_b)² + w_F · mean_{a,c} (F_ac − F̂_ac)²`
//!
//! mean over the batch's structures (total energies in eV) and over all 3·n_atoms force
//! components (eV/Å). Energies are not divided by the atom count.

use crate::error::FfResult;
use crate::potential::EnergyForces;
use candle_core::{DType, Device, Tensor};

/// Loss weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// w_E.
    pub energy: f64,
    /// w_F.
    pub force: f64,
}

/// Reference labels of one batch as tensors.
#[derive(Debug, Clone)]
pub struct BatchTargets {
    /// `[n_structures]` eV.
    pub energies: Tensor,
    /// `[n_atoms, 3]` eV/Å.
    pub forces: Tensor,
}

impl BatchTargets {
    /// Uploads host labels in `dtype`.
    pub fn new(
        energies: &[f64],
        forces: &[[f64; 3]],
        dtype: DType,
        device: &Device,
    ) -> FfResult<Self> {
        let flat: Vec<f64> = forces.iter().flatten().copied().collect();
        Ok(BatchTargets {
            // Energies stay f64: models return f64 totals (see `EnergyScale::energies`).
            energies: Tensor::from_vec(energies.to_vec(), energies.len(), device)?,
            forces: Tensor::from_vec(flat, (forces.len(), 3), device)?.to_dtype(dtype)?,
        })
    }
}

/// The loss of one batch and its two parts.
#[derive(Debug, Clone)]
pub struct LossParts {
    /// The weighted loss (differentiable, scalar).
    pub total: Tensor,
    /// mean (E − Ê)², eV².
    pub energy_mse: f64,
    /// mean (F − F̂)² over components, (eV/Å)².
    pub force_mse: f64,
}

/// The loss of `pred` against `targets`.
pub fn ff_loss(pred: &EnergyForces, targets: &BatchTargets, w: LossWeights) -> FfResult<LossParts> {
    // Energy residuals in f64 (totals of 10^4 eV), cast to the force dtype once they are small.
    let pe = pred.energies.to_dtype(DType::F64)?;
    let e_mse = (&pe - &targets.energies.to_dtype(DType::F64)?)?
        .sqr()?
        .mean_all()?;
    let f_mse = (&pred.forces - &targets.forces)?.sqr()?.mean_all()?;
    let total = ((&e_mse * w.energy)?.to_dtype(f_mse.dtype())? + (&f_mse * w.force)?)?;
    let scalar = |t: &Tensor| -> FfResult<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
    Ok(LossParts {
        energy_mse: scalar(&e_mse)?,
        force_mse: scalar(&f_mse)?,
        total,
    })
}

/// The energy-only loss w_E · mean_b (E_b − Ê_b)² (force weight 0: QM9-style data without
/// forces), computed in f64 like [`ff_loss`]'s energy term and returned in the model dtype.
pub fn energy_loss(
    pred: &Tensor,
    energies: &[f64],
    w_energy: f64,
    dtype: DType,
) -> FfResult<LossParts> {
    let target = Tensor::from_vec(energies.to_vec(), energies.len(), pred.device())?;
    let e_mse = (pred.to_dtype(DType::F64)? - target)?.sqr()?.mean_all()?;
    let total = (&e_mse * w_energy)?.to_dtype(dtype)?;
    Ok(LossParts {
        energy_mse: e_mse.to_scalar::<f64>()?,
        force_mse: 0.0,
        total,
    })
}
