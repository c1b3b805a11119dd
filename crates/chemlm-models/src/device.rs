//! Choosing the device a command runs on: `--device cpu|cuda|cuda:N|auto`.
//!
//! Everything in chemlm takes a [`candle_core::Device`]; this module turns the user's choice into
//! one. `auto` (the default) means "the GPU when there is one": the first CUDA device when this
//! build has CUDA (`--features cuda`) and a driver answers, the CPU otherwise. Asking for `cuda`
//! explicitly on a build or machine without one is an error that says which of the two is missing,
//! never a silent CPU run.

use crate::error::{ModelError, ModelResult};
use candle_core::Device;
use std::fmt;
use std::str::FromStr;

/// A device as named on the command line or in a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// The first GPU if this build has CUDA and one is present, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// CUDA device by ordinal (`cuda` = `cuda:0`).
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = ModelError;

    fn from_str(s: &str) -> ModelResult<Self> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            _ => {
                let ord = t
                    .strip_prefix("cuda:")
                    .or_else(|| t.strip_prefix("gpu:"))
                    .and_then(|n| n.parse::<usize>().ok());
                match ord {
                    Some(n) => Ok(Self::Cuda(n)),
                    None => Err(ModelError::config(
                        "--device",
                        format!("`{s}` is not a device; use cpu, cuda, cuda:N or auto"),
                    )),
                }
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Whether this binary was built with CUDA support (`--features cuda`).
pub fn cuda_compiled() -> bool {
    cfg!(feature = "cuda")
}

impl DeviceSpec {
    /// The device to run on. `Auto` never fails (it falls back to the CPU); `Cuda` fails with a
    /// reason when the build has no CUDA or the device cannot be opened.
    pub fn resolve(self) -> ModelResult<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Auto => {
                if !cuda_compiled() {
                    return Ok(Device::Cpu);
                }
                match Device::new_cuda(0) {
                    Ok(d) => Ok(d),
                    Err(e) => {
                        tracing::info!("no usable CUDA device ({e}); running on the CPU");
                        Ok(Device::Cpu)
                    }
                }
            }
            Self::Cuda(n) => {
                if !cuda_compiled() {
                    return Err(ModelError::config(
                        "--device",
                        format!(
                            "`{self}` asked for, but this chemlm was built without CUDA; rebuild \
                             with `cargo build --release --features cuda`"
                        ),
                    ));
                }
                Device::new_cuda(n).map_err(|e| {
                    ModelError::config("--device", format!("cannot open CUDA device {n}: {e}"))
                })
            }
        }
    }
}

/// A short human name for a device (`cpu`, `cuda:0`), for logs and reports.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".to_string(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("AUTO".parse::<DeviceSpec>().unwrap(), DeviceSpec::Auto);
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(3));
        let e = "tpu".parse::<DeviceSpec>().unwrap_err().to_string();
        assert!(e.contains("`tpu` is not a device"), "{e}");
        assert!("cuda:x".parse::<DeviceSpec>().is_err());
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
    }

    #[test]
    fn cpu_and_auto_resolve_without_a_gpu() {
        assert!(DeviceSpec::Cpu.resolve().unwrap().is_cpu());
        if !cuda_compiled() {
            assert!(DeviceSpec::Auto.resolve().unwrap().is_cpu());
            let e = DeviceSpec::Cuda(0).resolve().unwrap_err().to_string();
            assert!(e.contains("built without CUDA"), "{e}");
        }
        assert_eq!(device_name(&Device::Cpu), "cpu");
    }
}
