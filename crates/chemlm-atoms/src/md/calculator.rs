//! The energy/force provider that the integrators call once per step.

use crate::error::{AtomsError, Result};
use crate::structure::Structure;

/// Potential energy and forces of a structure, in eV and eV/Å (ASE's calculator, reduced to
/// the one call an integrator needs).
///
/// The integrators call [`Calculator::compute`] exactly once per time step (plus once for the
/// starting structure) and cache the forces between steps, so an implementation that batches
/// or caches work per call (a neural network doing one forward and one backward pass) does
/// not need a cache of its own. `&mut self` lets an implementation keep scratch buffers or a
/// neighbour list to update.
pub trait Calculator {
    /// Returns `(energy, forces)` with one force vector per atom; forces are `-dE/dR`.
    fn compute(&mut self, structure: &Structure) -> Result<(f64, Vec<[f64; 3]>)>;
}

impl<C: Calculator + ?Sized> Calculator for &mut C {
    fn compute(&mut self, structure: &Structure) -> Result<(f64, Vec<[f64; 3]>)> {
        (**self).compute(structure)
    }
}

impl<C: Calculator + ?Sized> Calculator for Box<C> {
    fn compute(&mut self, structure: &Structure) -> Result<(f64, Vec<[f64; 3]>)> {
        (**self).compute(structure)
    }
}

/// Calls the calculator and checks what it returned: one finite force per atom and a finite
/// energy. A blown-up trajectory is reported at the step it happens, not as NaN frames later.
pub(crate) fn checked_compute<C: Calculator + ?Sized>(
    calc: &mut C,
    structure: &Structure,
    step: u64,
) -> Result<(f64, Vec<[f64; 3]>)> {
    let (energy, forces) = calc.compute(structure)?;
    if forces.len() != structure.len() {
        return Err(AtomsError::Invalid(format!(
            "md step {step}: calculator returned {} force vectors for {} atoms",
            forces.len(),
            structure.len()
        )));
    }
    if !energy.is_finite() || forces.iter().flatten().any(|f| !f.is_finite()) {
        return Err(AtomsError::Invalid(format!(
            "md step {step}: non-finite energy or forces (energy {energy}); the trajectory \
             has blown up (time step too large, or atoms too close)"
        )));
    }
    Ok((energy, forces))
}
