//! The process-wide `--device` and `--precision` choice.
//!
//! Parsed once in `main` and read by each command where it builds or loads a model; the libraries
//! never read it: they take the [`Device`] (and [`Precision`]) as arguments. The device is opened
//! on first use, so commands that run no model (`canon`, `data prepare`) never touch a GPU.

use candle_core::Device;
use chemlm_models::{DeviceSpec, Precision};
use std::sync::Mutex;

struct State {
    spec: DeviceSpec,
    precision: Option<Precision>,
    opened: Option<Device>,
}

static STATE: Mutex<State> = Mutex::new(State {
    spec: DeviceSpec::Auto,
    precision: None,
    opened: None,
});

fn state() -> std::sync::MutexGuard<'static, State> {
    // A panic while holding the lock cannot leave the state half-written (plain fields).
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Set the device and precision for the commands this process runs.
pub fn configure(spec: DeviceSpec, precision: Option<Precision>) {
    let mut s = state();
    if s.spec != spec {
        s.opened = None;
    }
    s.spec = spec;
    s.precision = precision;
}

/// The device models run on (opened on first call, then shared).
pub fn device() -> anyhow::Result<Device> {
    let mut s = state();
    if let Some(d) = &s.opened {
        return Ok(d.clone());
    }
    let d = s.spec.resolve()?;
    if !d.is_cpu() {
        tracing::info!(device = %chemlm_models::device_name(&d), "running on the GPU");
    }
    s.opened = Some(d.clone());
    Ok(d)
}

/// `--precision` when given.
pub fn precision_flag() -> Option<Precision> {
    state().precision
}

/// The precision of inference commands: `--precision`, else f32.
pub fn precision() -> Precision {
    precision_flag().unwrap_or_default()
}

/// A training config's precision with `--precision` applied over it.
pub fn train_precision(configured: Precision) -> Precision {
    precision_flag().unwrap_or(configured)
}
