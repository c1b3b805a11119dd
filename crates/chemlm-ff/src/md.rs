//! `chemlm ff md` as a library call: a trained model drives chemlm-atoms' integrators, frames
//! stream into an extended XYZ trajectory (ASE reads it), records into a JSON-lines log, and the
//! run ends with the total-energy drift (NVE stability) and a plot of it.

use crate::error::{FfError, FfResult};
use crate::potential::Potential;
use crate::train::ModelCalculator;
use candle_core::{DType, Device};
use chemlm_atoms::md::{
    drift_per_ps, masses_of, maxwell_boltzmann, run_md, EnergyDrift, MdConfig, MdRecord, Observer,
    VelocityInit,
};
use chemlm_atoms::{io::write_extxyz_to, AtomsError, Structure};
use plotters::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything `chemlm ff md` needs besides the model.
#[derive(Debug, Clone)]
pub struct MdJob {
    /// Starting structure (its velocities are used unless `init_temperature_k` is set).
    pub start: Structure,
    /// Steps, time step, ensemble, seed, log and trajectory strides.
    pub config: MdConfig,
    /// Draw Maxwell–Boltzmann velocities at this temperature (zero momentum and rotation, as
    /// ASE's `Stationary` + `ZeroRotation`) before the first step.
    pub init_temperature_k: Option<f64>,
    /// Trajectory file (extended XYZ, frames appended as they come, written to a temporary
    /// name and renamed at the end so a killed run leaves no half file under the final name).
    pub trajectory: Option<PathBuf>,
    /// JSON-lines log of [`MdRecord`]s.
    pub log: Option<PathBuf>,
    /// PNG plot of total-energy drift and temperature.
    pub plot: Option<PathBuf>,
    /// Precision of the force calls.
    pub dtype: DType,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct MdReport {
    /// Steps taken.
    pub steps: u64,
    /// Atoms simulated.
    pub n_atoms: usize,
    /// Simulated time, ps.
    pub duration_ps: f64,
    /// Wall time of the integration, s.
    pub wall_s: f64,
    /// Wall time per step, s.
    pub s_per_step: f64,
    /// Mean temperature over the logged records, K.
    pub mean_temperature_k: f64,
    /// Least-squares drift of the total energy (meaningful for NVE).
    pub drift: Option<EnergyDrift>,
    /// The logged records.
    #[serde(skip)]
    pub records: Vec<MdRecord>,
}

struct Sink {
    traj: Option<chemlm_fs::AtomicFile>,
    log: Option<chemlm_fs::AtomicFile>,
    progress: Box<dyn FnMut(u64) + Send>,
}

fn io_err(path: &Path, e: std::io::Error) -> AtomsError {
    AtomsError::io(path, e)
}

impl Observer for Sink {
    fn on_record(&mut self, r: &MdRecord) -> chemlm_atoms::Result<()> {
        if let Some(w) = &mut self.log {
            let line = serde_json::to_string(r)
                .map_err(|e| AtomsError::Invalid(format!("MD log record: {e}")))?;
            writeln!(w, "{line}").map_err(|e| io_err(w.temp(), e))?;
        }
        (self.progress)(r.step);
        Ok(())
    }

    fn on_frame(&mut self, s: &Structure) -> chemlm_atoms::Result<()> {
        if let Some(w) = &mut self.traj {
            write_extxyz_to(w, std::slice::from_ref(s))?;
        }
        Ok(())
    }
}

/// Runs `job` with `model`; `progress` is called with the step of every logged record.
pub fn run(
    model: Box<dyn Potential>,
    job: &MdJob,
    device: &Device,
    progress: Box<dyn FnMut(u64) + Send>,
) -> FfResult<MdReport> {
    let mut start = job.start.clone();
    if let Some(t) = job.init_temperature_k {
        let masses = masses_of(&start)?;
        let v = maxwell_boltzmann(
            &masses,
            &start.positions,
            &VelocityInit::molecule(t),
            job.config.seed,
        )?;
        start.velocities = Some(v);
    }
    let mut sink = Sink {
        traj: job
            .trajectory
            .as_deref()
            .map(chemlm_fs::AtomicFile::create)
            .transpose()?,
        log: job
            .log
            .as_deref()
            .map(chemlm_fs::AtomicFile::create)
            .transpose()?,
        progress,
    };
    let mut calc = ModelCalculator::new(model, job.dtype, device.clone());
    let t0 = std::time::Instant::now();
    let result = crate::pool::install(|| run_md(&start, &mut calc, &job.config, &mut sink))?;
    let wall_s = t0.elapsed().as_secs_f64();
    // On an error the unfinished files are dropped, which removes them.
    let run = result?;
    for file in [sink.traj.take(), sink.log.take()].into_iter().flatten() {
        file.commit()?;
    }
    let records = run.records;
    let drift = if records.len() >= 2 {
        Some(drift_per_ps(&records, start.len())?)
    } else {
        None
    };
    if let Some(png) = &job.plot {
        plot_md(&records, png)?;
    }
    let steps = job.config.steps;
    let mean_t = records.iter().map(|r| r.temperature_k).sum::<f64>() / records.len().max(1) as f64;
    Ok(MdReport {
        steps,
        n_atoms: start.len(),
        duration_ps: steps as f64 * job.config.dt_fs / 1000.0,
        wall_s,
        s_per_step: wall_s / steps.max(1) as f64,
        mean_temperature_k: mean_t,
        drift,
        records,
    })
}

/// Draws total-energy deviation (meV) and temperature (K) against time (ps) into `png`.
pub fn plot_md(records: &[MdRecord], png: &Path) -> FfResult<()> {
    draw(records, png).map_err(|e| FfError::Invalid(format!("plot {}: {e}", png.display())))
}

fn draw(records: &[MdRecord], png: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let Some(first) = records.first() else {
        return Err("no MD records to plot".into());
    };
    let e0 = first.etot;
    let de: Vec<(f64, f64)> = records
        .iter()
        .map(|r| (r.time_fs / 1000.0, (r.etot - e0) * 1000.0))
        .collect();
    let temp: Vec<(f64, f64)> = records
        .iter()
        .map(|r| (r.time_fs / 1000.0, r.temperature_k))
        .collect();
    let t_max = de.last().map(|p| p.0).unwrap_or(0.0).max(1e-6);
    let span = |v: &[(f64, f64)]| {
        let lo = v.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = v.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.05).max(1e-6);
        (lo - pad, hi + pad)
    };
    let root = BitMapBackend::new(png, (1000, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(420);
    let (lo, hi) = span(&de);
    let mut chart = ChartBuilder::on(&top)
        .caption("Total energy − E(0)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..t_max, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("time / ps")
        .y_desc("meV")
        .draw()?;
    chart.draw_series(LineSeries::new(de, BLUE.stroke_width(2)))?;
    let (lo, hi) = span(&temp);
    let mut chart = ChartBuilder::on(&bottom)
        .caption("Temperature", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..t_max, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("time / ps")
        .y_desc("K")
        .draw()?;
    chart.draw_series(LineSeries::new(temp, RED.stroke_width(2)))?;
    root.present()?;
    Ok(())
}
