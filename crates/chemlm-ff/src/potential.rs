//! The interface every force field implements, and forces through autograd.

use crate::error::{FfError, FfResult};
use crate::input::AtomsInput;
use crate::scale::EnergyScale;
use candle_core::{Tensor, Var};
use candle_nn::VarMap;
use std::path::Path;

/// A machine-learned potential: energies of a batch of structures as a differentiable function
/// of positions and weights.
pub trait Potential: Send + Sync {
    /// Architecture name as in `config.json`'s `model_type` ("schnet", "painn", "spookynet").
    fn model_type(&self) -> &'static str;
    /// Interaction cutoff in Å; neighbour lists are built with it.
    fn cutoff(&self) -> f64;
    /// Per-structure energies `[n_structures]` in eV, f64 whatever the model dtype (see
    /// [`EnergyScale::energies`]). `train` switches dropout-like behaviour
    /// (none of the current models has any, but the signature matches the LM models').
    fn energies(&self, input: &AtomsInput, train: bool) -> FfResult<Tensor>;
    /// The trainable weights (names as in `model.safetensors`).
    fn varmap(&self) -> &VarMap;
    /// Energy reference and scale in use.
    fn energy_scale(&self) -> &EnergyScale;
    /// Replaces the energy reference and scale (fitted on a training set).
    fn set_energy_scale(&mut self, scale: EnergyScale);
    /// Writes `config.json` + `model.safetensors` to `dir` (atomically).
    fn save(&self, dir: &Path) -> FfResult<()>;
}

/// Energies and forces of one batch.
#[derive(Debug, Clone)]
pub struct EnergyForces {
    /// `[n_structures]` eV, f64.
    pub energies: Tensor,
    /// `[n_atoms, 3]` eV/Å, F = −∂E/∂R.
    pub forces: Tensor,
}

/// Energies and forces F = −∂(ΣE)/∂R. `input` must have been built with `track_positions`
/// and `positions` be that variable. With `create_graph` the forces stay differentiable with
/// respect to the weights (training on forces); that requires running inside
/// [`crate::second_order::run`], which is checked.
pub fn energy_and_forces(
    model: &dyn Potential,
    input: &AtomsInput,
    positions: &Var,
    train: bool,
    create_graph: bool,
) -> FfResult<EnergyForces> {
    if create_graph && !crate::second_order::available_here() {
        return Err(FfError::Invalid(
            "force training needs gradients of gradients: run it inside second_order::run".into(),
        ));
    }
    let energies = model.energies(input, train)?;
    // Only the positions' gradient is read: weight gradients of this pass are skipped.
    let total = energies.sum_all()?;
    let grads = crate::fused::positions_only(|| total.backward())?;
    let de_dr = grads.get(positions.as_tensor()).ok_or_else(|| {
        FfError::Invalid("the energy does not depend on the positions (no edges?)".into())
    })?;
    let forces = de_dr.neg()?;
    let (energies, forces) = if create_graph {
        (energies, forces)
    } else {
        (energies.detach(), forces.detach())
    };
    Ok(EnergyForces { energies, forces })
}
