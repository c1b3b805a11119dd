//! One entry point for every architecture: build from a TOML config, load a saved directory
//! (dispatching on `config.json`'s `model_type`), list presets. The CLI and the training code
//! only see `Box<dyn Potential>`.

use super::painn::{PaiNN, PaiNNConfig};
use super::schnet::{SchNet, SchNetConfig};
use super::spookynet::{SpookyNet, SpookyNetConfig};
use crate::error::{FfError, FfResult};
use crate::io::read_config;
use crate::potential::Potential;
use candle_core::{DType, Device};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Force-field architectures chemlm builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// SchNet (Schütt et al. 2018).
    Schnet,
    /// PaiNN (Schütt et al. 2021).
    Painn,
    /// SpookyNet (Unke et al. 2021), local model.
    Spookynet,
}

impl Arch {
    /// Every architecture, for help texts.
    pub const ALL: [Arch; 3] = [Arch::Schnet, Arch::Painn, Arch::Spookynet];

    /// `model_type` of `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Schnet => "schnet",
            Arch::Painn => "painn",
            Arch::Spookynet => "spookynet",
        }
    }

    /// Parses a `model_type`.
    pub fn parse(s: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == s)
    }

    /// The preset with the published default sizes (`configs/ff-<arch>.toml`), compiled in.
    pub fn preset_toml(self) -> &'static str {
        match self {
            Arch::Schnet => super::schnet::PRESET_TOML,
            Arch::Painn => include_str!("../../../../configs/ff-painn.toml"),
            Arch::Spookynet => super::spookynet::PRESET_TOML,
        }
    }
}

/// Builds an untrained model of `arch` from a TOML config (`origin` names it in errors), its
/// weights drawn from `seed`.
pub fn build(
    arch: Arch,
    config_toml: &str,
    origin: &str,
    dtype: DType,
    device: &Device,
    seed: u64,
) -> FfResult<Box<dyn Potential>> {
    let varmap = VarMap::new();
    Ok(match arch {
        Arch::Schnet => {
            let cfg = SchNetConfig::from_toml(config_toml, origin)?;
            Box::new(SchNet::new(cfg, &varmap, dtype, device, seed)?)
        }
        Arch::Painn => {
            let cfg = PaiNNConfig::from_toml_str(config_toml, origin)?;
            Box::new(PaiNN::new(&cfg, &varmap, dtype, device, seed)?)
        }
        Arch::Spookynet => {
            let cfg = SpookyNetConfig::from_toml_str(config_toml, origin)?;
            Box::new(SpookyNet::new(&cfg, &varmap, dtype, device, seed)?)
        }
    })
}

/// Loads a model directory written by [`Potential::save`] (or a schnetpack state dict saved as
/// `model.safetensors` beside a matching `config.json`).
pub fn load(dir: &Path, dtype: DType, device: &Device) -> FfResult<Box<dyn Potential>> {
    let config = read_config(dir)?;
    let origin = dir.join(crate::io::CONFIG_FILE).display().to_string();
    let model_type = config
        .get("model_type")
        .and_then(|v| v.as_str())
        .ok_or_else(|| FfError::Config {
            origin: origin.clone(),
            reason: "no `model_type`".into(),
        })?;
    match Arch::parse(model_type) {
        Some(Arch::Schnet) => Ok(Box::new(SchNet::load(dir, dtype, device)?)),
        Some(Arch::Painn) => Ok(Box::new(PaiNN::load(dir, dtype, device)?)),
        Some(Arch::Spookynet) => Ok(Box::new(SpookyNet::load(dir, dtype, device)?)),
        None => Err(FfError::Config {
            origin,
            reason: format!(
                "model_type `{model_type}` is not a force field chemlm knows (schnet, painn, spookynet)"
            ),
        }),
    }
}

/// Number of trainable scalars of a model.
pub fn n_params(model: &dyn Potential) -> usize {
    model
        .varmap()
        .all_vars()
        .iter()
        .map(|v| v.as_tensor().elem_count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_build_and_round_trip_through_a_directory() {
        for arch in Arch::ALL {
            let m = build(
                arch,
                arch.preset_toml(),
                "preset",
                DType::F32,
                &Device::Cpu,
                3,
            )
            .expect("build");
            assert_eq!(m.model_type(), arch.name());
            let preset: toml::Table = toml::from_str(arch.preset_toml()).expect("preset");
            let cutoff = preset["cutoff"].as_float().expect("cutoff");
            assert!((m.cutoff() - cutoff).abs() < 1e-12);
            let dir = tempfile::tempdir().expect("tmp");
            m.save(dir.path()).expect("save");
            let back = load(dir.path(), DType::F32, &Device::Cpu).expect("load");
            assert_eq!(back.model_type(), arch.name());
            assert_eq!(n_params(back.as_ref()), n_params(m.as_ref()));
        }
    }

    #[test]
    fn unknown_model_type_is_named() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("config.json"), r#"{"model_type": "mace"}"#).expect("w");
        let e = load(dir.path(), DType::F32, &Device::Cpu)
            .err()
            .expect("must fail")
            .to_string();
        assert!(e.contains("mace"), "{e}");
    }
}
