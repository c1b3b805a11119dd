//! The MD state and the two integrators: velocity Verlet (NVE) and Langevin BAOAB (NVT,
//! Leimkuhler & Matthews, J. Chem. Phys. 138, 174102 (2013)).
//!
//! Both are written so that each step makes exactly one calculator call: the forces of the
//! end of a step are kept in the state and start the next one.

use super::calculator::{checked_compute, Calculator};
use super::rng::{GaussianRng, RngState, STREAM_THERMOSTAT};
use super::thermo::{kinetic_energy, temperature};
use crate::error::{AtomsError, Result};
use crate::structure::{Structure, Value};
use crate::units::{BOLTZMANN, FS};
use serde::{Deserialize, Serialize};

/// Which equations of motion to integrate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Ensemble {
    /// Constant energy: velocity Verlet (ASE's `VelocityVerlet`).
    Nve,
    /// Constant temperature: Langevin dynamics with the BAOAB splitting (ASE's
    /// `LangevinBAOAB` without a barostat, with `T_tau = 1/friction`).
    Langevin {
        /// Bath temperature in K.
        temperature_k: f64,
        /// Friction γ in 1/fs (ASE's `Langevin(friction=γ/units.fs)`); 0.01–0.02 is usual for
        /// molecules.
        friction_per_fs: f64,
    },
}

impl Ensemble {
    fn check(&self) -> Result<()> {
        match *self {
            Ensemble::Nve => Ok(()),
            Ensemble::Langevin {
                temperature_k,
                friction_per_fs,
            } => {
                if temperature_k >= 0.0
                    && temperature_k.is_finite()
                    && friction_per_fs >= 0.0
                    && friction_per_fs.is_finite()
                {
                    Ok(())
                } else {
                    Err(AtomsError::Invalid(format!(
                        "Langevin needs a finite temperature >= 0 K and friction >= 0 /fs, got \
                         {temperature_k} K and {friction_per_fs} /fs"
                    )))
                }
            }
        }
    }
}

/// Where a trajectory stands: positions and velocities (in `structure`), the forces and energy
/// at those positions, the step count and the thermostat's random state.
#[derive(Debug, Clone)]
pub struct MdState {
    /// Numbers, cell, positions (Å) and velocities (Å/fs, always `Some`). Its `energy` and
    /// `forces` fields are cleared: the current ones are [`MdState::energy`] and
    /// [`MdState::forces`].
    pub structure: Structure,
    /// Atomic masses in amu.
    pub masses: Vec<f64>,
    /// Potential energy at the current positions, eV.
    pub energy: f64,
    /// Forces at the current positions, eV/Å.
    pub forces: Vec<[f64; 3]>,
    /// Steps taken since the start of the trajectory.
    pub step: u64,
    /// Simulated time since the start of the trajectory, fs.
    pub time_fs: f64,
    rng: GaussianRng,
}

/// A saveable snapshot from which [`MdState::restore`] continues a trajectory exactly (same
/// positions, velocities and thermostat noise as if it had never stopped). Its floats
/// serialise as decimal strings so that a JSON round trip is bit-exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdCheckpoint {
    /// Steps taken.
    pub step: u64,
    /// Simulated time, fs.
    #[serde(with = "super::exact::scalar")]
    pub time_fs: f64,
    /// Positions, Å.
    #[serde(with = "super::exact::vec3s")]
    pub positions: Vec<[f64; 3]>,
    /// Velocities, Å/fs.
    #[serde(with = "super::exact::vec3s")]
    pub velocities: Vec<[f64; 3]>,
    /// Thermostat random state.
    pub rng: RngState,
}

impl MdState {
    /// Starts a trajectory from `structure` (velocities in Å/fs; none means all zero) with the
    /// given masses (amu); `seed` seeds the thermostat. Makes the first calculator call.
    pub fn new<C: Calculator + ?Sized>(
        structure: &Structure,
        masses: Vec<f64>,
        calc: &mut C,
        seed: u64,
    ) -> Result<Self> {
        Self::assemble(
            structure,
            masses,
            structure.positions.clone(),
            structure.velocities.clone(),
            0,
            0.0,
            GaussianRng::new(seed, STREAM_THERMOSTAT),
            calc,
        )
    }

    /// Continues from a checkpoint; `structure` supplies the atomic numbers and cell (its
    /// positions and velocities are replaced by the checkpoint's).
    pub fn restore<C: Calculator + ?Sized>(
        structure: &Structure,
        masses: Vec<f64>,
        checkpoint: &MdCheckpoint,
        calc: &mut C,
    ) -> Result<Self> {
        Self::assemble(
            structure,
            masses,
            checkpoint.positions.clone(),
            Some(checkpoint.velocities.clone()),
            checkpoint.step,
            checkpoint.time_fs,
            GaussianRng::from_state(&checkpoint.rng),
            calc,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble<C: Calculator + ?Sized>(
        template: &Structure,
        masses: Vec<f64>,
        positions: Vec<[f64; 3]>,
        velocities: Option<Vec<[f64; 3]>>,
        step: u64,
        time_fs: f64,
        rng: GaussianRng,
        calc: &mut C,
    ) -> Result<Self> {
        let n = template.len();
        let velocities = velocities.unwrap_or_else(|| vec![[0.0; 3]; n]);
        let mut structure = template.clone();
        structure.positions = positions;
        structure.velocities = Some(velocities);
        structure.energy = None;
        structure.forces = None;
        structure.validate()?;
        if masses.len() != n || masses.iter().any(|m| !(*m > 0.0 && m.is_finite())) {
            return Err(AtomsError::Invalid(format!(
                "md needs one positive mass per atom ({} atoms, {} masses)",
                n,
                masses.len()
            )));
        }
        if structure
            .velocities
            .iter()
            .flatten()
            .flatten()
            .any(|v| !v.is_finite())
        {
            return Err(AtomsError::Invalid("non-finite velocity".into()));
        }
        let (energy, forces) = checked_compute(calc, &structure, step)?;
        Ok(MdState {
            structure,
            masses,
            energy,
            forces,
            step,
            time_fs,
            rng,
        })
    }

    /// Velocities in Å/fs.
    pub fn velocities(&self) -> &[[f64; 3]] {
        self.structure.velocities.as_deref().unwrap_or(&[])
    }

    /// Kinetic energy in eV.
    pub fn kinetic_energy(&self) -> f64 {
        kinetic_energy(&self.masses, self.velocities())
    }

    /// Instantaneous temperature in K (3N degrees of freedom, as ASE).
    pub fn temperature(&self) -> f64 {
        temperature(self.kinetic_energy(), self.structure.len())
    }

    /// A snapshot to save for resuming.
    pub fn checkpoint(&self) -> MdCheckpoint {
        MdCheckpoint {
            step: self.step,
            time_fs: self.time_fs,
            positions: self.structure.positions.clone(),
            velocities: self.velocities().to_vec(),
            rng: self.rng.state(),
        }
    }

    /// The current frame as a labelled structure: positions, velocities, `energy` (potential,
    /// eV), `forces`, and `step`/`time` (fs) in `info`, ready for an extended XYZ writer.
    pub fn frame(&self) -> Structure {
        let mut s = self.structure.clone();
        s.energy = Some(self.energy);
        s.forces = Some(self.forces.clone());
        s.info.insert("step".into(), Value::Int(self.step as i64));
        s.info.insert("time".into(), Value::Float(self.time_fs));
        s
    }

    /// Advances one step of `dt_fs` femtoseconds with the given ensemble's integrator; one
    /// calculator call.
    pub fn step<C: Calculator + ?Sized>(
        &mut self,
        calc: &mut C,
        dt_fs: f64,
        ensemble: &Ensemble,
    ) -> Result<()> {
        if !(dt_fs > 0.0 && dt_fs.is_finite()) {
            return Err(AtomsError::Invalid(format!(
                "time step must be > 0 fs, got {dt_fs}"
            )));
        }
        ensemble.check()?;
        match *ensemble {
            Ensemble::Nve => {
                self.kick(0.5 * dt_fs);
                self.drift(dt_fs);
            }
            Ensemble::Langevin {
                temperature_k,
                friction_per_fs,
            } => {
                self.kick(0.5 * dt_fs);
                self.drift(0.5 * dt_fs);
                self.thermostat(dt_fs, temperature_k, friction_per_fs);
                self.drift(0.5 * dt_fs);
            }
        }
        let (energy, forces) = checked_compute(calc, &self.structure, self.step + 1)?;
        self.energy = energy;
        self.forces = forces;
        self.kick(0.5 * dt_fs);
        self.step += 1;
        self.time_fs += dt_fs;
        Ok(())
    }

    /// B: `v += h·F/m`, with `FS²` turning eV/(Å·amu) into Å/fs².
    fn kick(&mut self, h: f64) {
        let v = self.structure.velocities.get_or_insert_with(Vec::new);
        for ((v, f), m) in v.iter_mut().zip(&self.forces).zip(&self.masses) {
            let c = h * FS * FS / m;
            for k in 0..3 {
                v[k] += c * f[k];
            }
        }
    }

    /// A: `x += h·v`.
    fn drift(&mut self, h: f64) {
        let v = self.structure.velocities.as_deref().unwrap_or(&[]);
        for (x, v) in self.structure.positions.iter_mut().zip(v) {
            for k in 0..3 {
                x[k] += h * v[k];
            }
        }
    }

    /// O: exact Ornstein–Uhlenbeck update over `dt`, `v ← c₁v + sqrt((1−c₁²)kT/m)·ξ` with
    /// `c₁ = exp(−γ·dt)`; noise drawn atom by atom, x, y, z (ASE's order).
    fn thermostat(&mut self, dt: f64, temperature_k: f64, friction: f64) {
        let c1 = (-friction * dt).exp();
        let kt = BOLTZMANN * temperature_k;
        let v = self.structure.velocities.get_or_insert_with(Vec::new);
        for (v, m) in v.iter_mut().zip(&self.masses) {
            // sqrt(kT/m) is in Å per ASE time unit; FS converts to Å/fs.
            let sigma = ((1.0 - c1 * c1) * kt / m).sqrt() * FS;
            for x in v.iter_mut() {
                *x = c1 * *x + sigma * self.rng.normal();
            }
        }
    }
}
