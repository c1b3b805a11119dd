//! Running a trajectory: configuration, per-step log records, frames handed to an observer as
//! they are produced (so a CLI can stream extended XYZ and a log), and the energy-drift fit of
//! an NVE stability test.

use super::calculator::Calculator;
use super::integrators::{Ensemble, MdState};
use super::thermo::masses_of;
use crate::error::{AtomsError, Result};
use crate::structure::Structure;
use serde::{Deserialize, Serialize};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MdConfig {
    /// Number of steps to take (from the state's current step on).
    pub steps: u64,
    /// Time step in fs.
    pub dt_fs: f64,
    /// Integrator and bath.
    pub ensemble: Ensemble,
    /// Seed of the thermostat noise (ignored by NVE).
    pub seed: u64,
    /// Emit a [`MdRecord`] every this many steps (0: never).
    pub log_every: u64,
    /// Emit a trajectory frame every this many steps (0: never).
    pub traj_every: u64,
}

/// One line of the MD log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MdRecord {
    /// Step number.
    pub step: u64,
    /// Simulated time, fs.
    pub time_fs: f64,
    /// Potential energy, eV.
    pub epot: f64,
    /// Kinetic energy, eV.
    pub ekin: f64,
    /// Total energy `epot + ekin`, eV.
    pub etot: f64,
    /// Instantaneous temperature, K (3N degrees of freedom, as ASE).
    pub temperature_k: f64,
}

impl MdRecord {
    /// The record of a state.
    pub fn of(state: &MdState) -> Self {
        let ekin = state.kinetic_energy();
        MdRecord {
            step: state.step,
            time_fs: state.time_fs,
            epot: state.energy,
            ekin,
            etot: state.energy + ekin,
            temperature_k: state.temperature(),
        }
    }
}

/// Receives log records and frames while a trajectory runs; an error stops the run and is
/// returned by [`run_md`].
pub trait Observer {
    /// Called every `log_every` steps.
    fn on_record(&mut self, _record: &MdRecord) -> Result<()> {
        Ok(())
    }
    /// Called every `traj_every` steps with [`MdState::frame`].
    fn on_frame(&mut self, _frame: &Structure) -> Result<()> {
        Ok(())
    }
}

/// Observes nothing.
impl Observer for () {}

/// An observer made of two closures.
pub struct FnObserver<R, F> {
    /// Called with each record.
    pub on_record: R,
    /// Called with each frame.
    pub on_frame: F,
}

impl<R, F> Observer for FnObserver<R, F>
where
    R: FnMut(&MdRecord) -> Result<()>,
    F: FnMut(&Structure) -> Result<()>,
{
    fn on_record(&mut self, record: &MdRecord) -> Result<()> {
        (self.on_record)(record)
    }
    fn on_frame(&mut self, frame: &Structure) -> Result<()> {
        (self.on_frame)(frame)
    }
}

/// A finished run: its log records and the final state (for a checkpoint or a longer run).
#[derive(Debug, Clone)]
pub struct MdRun {
    /// Records at every `log_every`-th step, including step 0.
    pub records: Vec<MdRecord>,
    /// State after the last step.
    pub state: MdState,
}

/// Runs `config.steps` steps from `structure` (its velocities in Å/fs, none meaning at rest;
/// use [`super::maxwell_boltzmann`] first for a thermal start), with masses from ASE's table.
/// Step 0 is logged and written too, as ASE's observers do. `steps + 1` calculator calls.
pub fn run_md<C, O>(
    structure: &Structure,
    calc: &mut C,
    config: &MdConfig,
    observer: &mut O,
) -> Result<MdRun>
where
    C: Calculator + ?Sized,
    O: Observer + ?Sized,
{
    let masses = masses_of(structure)?;
    let mut state = MdState::new(structure, masses, calc, config.seed)?;
    let records = continue_md(&mut state, calc, config, observer)?;
    Ok(MdRun { records, state })
}

/// Advances an existing state by `config.steps` steps (`config.seed` is not used: the state
/// carries its random stream). Records and frames are emitted at steps that are multiples of
/// `log_every` / `traj_every`; the starting step only if it is step 0, since a resumed run's
/// starting step was already emitted by the run that saved it.
pub fn continue_md<C, O>(
    state: &mut MdState,
    calc: &mut C,
    config: &MdConfig,
    observer: &mut O,
) -> Result<Vec<MdRecord>>
where
    C: Calculator + ?Sized,
    O: Observer + ?Sized,
{
    let due = |every: u64, step: u64| every > 0 && step.is_multiple_of(every);
    let mut records = Vec::new();
    let emit = |state: &MdState, observer: &mut O, records: &mut Vec<MdRecord>| {
        if due(config.log_every, state.step) {
            let r = MdRecord::of(state);
            observer.on_record(&r)?;
            records.push(r);
        }
        if due(config.traj_every, state.step) {
            observer.on_frame(&state.frame())?;
        }
        Result::Ok(())
    };
    if state.step == 0 {
        emit(state, observer, &mut records)?;
    }
    for _ in 0..config.steps {
        state.step(calc, config.dt_fs, &config.ensemble)?;
        emit(state, observer, &mut records)?;
    }
    Ok(records)
}

/// Least-squares drift of the total energy of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnergyDrift {
    /// Slope of `etot` against time, eV/ps.
    pub ev_per_ps: f64,
    /// The same per atom, eV/ps/atom.
    pub ev_per_ps_per_atom: f64,
    /// Root-mean-square residual of `etot` around the fitted line, eV (the fluctuation that
    /// the slope is measured against).
    pub rms_residual_ev: f64,
    /// Largest `|etot − etot(first record)|`, eV.
    pub max_deviation_ev: f64,
    /// Time covered by the records, ps.
    pub duration_ps: f64,
}

/// Fits `etot = a + b·t` to the records by least squares and reports `b` in eV/ps (and per
/// atom, for the `n_atoms` of the system). Needs at least two records at different times.
pub fn drift_per_ps(records: &[MdRecord], n_atoms: usize) -> Result<EnergyDrift> {
    let n = records.len() as f64;
    let first = records
        .first()
        .ok_or_else(|| AtomsError::Invalid("energy drift needs at least two log records".into()))?;
    // Times in ps, centred for a well-conditioned fit.
    let t: Vec<f64> = records.iter().map(|r| r.time_fs * 1e-3).collect();
    let tm = t.iter().sum::<f64>() / n;
    let em = records.iter().map(|r| r.etot).sum::<f64>() / n;
    let stt: f64 = t.iter().map(|t| (t - tm).powi(2)).sum();
    if stt.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || n_atoms == 0 {
        return Err(AtomsError::Invalid(
            "energy drift needs records at two or more distinct times and at least one atom".into(),
        ));
    }
    let ste: f64 = t
        .iter()
        .zip(records)
        .map(|(t, r)| (t - tm) * (r.etot - em))
        .sum();
    let slope = ste / stt;
    let rss: f64 = t
        .iter()
        .zip(records)
        .map(|(t, r)| (r.etot - em - slope * (t - tm)).powi(2))
        .sum();
    let (tmin, tmax) = t
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    Ok(EnergyDrift {
        ev_per_ps: slope,
        ev_per_ps_per_atom: slope / n_atoms as f64,
        rms_residual_ev: (rss / n).sqrt(),
        max_deviation_ev: records
            .iter()
            .map(|r| (r.etot - first.etot).abs())
            .fold(0.0, f64::max),
        duration_ps: tmax - tmin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_fits_a_line() {
        let records: Vec<MdRecord> = (0..11)
            .map(|i| {
                let t = i as f64 * 100.0; // fs
                let etot = -3.0 + 0.02 * t * 1e-3 + if i % 2 == 0 { 1e-4 } else { -1e-4 };
                MdRecord {
                    step: i,
                    time_fs: t,
                    epot: etot,
                    ekin: 0.0,
                    etot,
                    temperature_k: 0.0,
                }
            })
            .collect();
        let d = drift_per_ps(&records, 4).unwrap();
        assert!((d.ev_per_ps - 0.02).abs() < 1e-4, "{d:?}");
        assert!((d.ev_per_ps_per_atom - 0.005).abs() < 1e-4);
        assert!((d.duration_ps - 1.0).abs() < 1e-12);
        assert!(d.rms_residual_ev > 0.5e-4 && d.rms_residual_ev < 1.5e-4);
        assert!(drift_per_ps(&records[..1], 4).is_err());
        assert!(drift_per_ps(&[], 4).is_err());
    }
}
