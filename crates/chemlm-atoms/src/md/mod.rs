//! Molecular dynamics with ASE's conventions: velocity Verlet (NVE) and Langevin BAOAB (NVT)
//! integrators, Maxwell–Boltzmann starts, a Lennard-Jones test potential, and a driver that
//! streams log records and frames to an observer.
//!
//! Units: positions Å, velocities Å/fs (ASE's internal velocity divided by
//! [`crate::units::FS`]), time fs, masses amu, energies eV, forces eV/Å, temperatures K
//! counted over 3N degrees of freedom (as `atoms.get_temperature()`). Any energy/force model
//! plugs in through [`Calculator`], called once per step.

mod calculator;
mod driver;
mod exact;
mod integrators;
mod lj;
mod rng;
mod thermo;
mod velocities;

pub use calculator::Calculator;
pub use driver::{
    continue_md, drift_per_ps, run_md, EnergyDrift, FnObserver, MdConfig, MdRecord, MdRun, Observer,
};
pub use integrators::{Ensemble, MdCheckpoint, MdState};
pub use lj::{LennardJones, LjCutoff};
pub use rng::{GaussianRng, RngState};
pub use thermo::{
    angular_momentum, center_of_mass, kinetic_energy, masses_of, temperature, total_momentum,
    AMU_A2_PER_FS2_IN_EV,
};
pub use velocities::{
    force_temperature, maxwell_boltzmann, stationary, zero_rotation, VelocityInit,
};
