//! One entry point for every architecture: build from a TOML config, load a saved directory
//! (dispatching on `config.json`'s `model_type`), list presets. The CLI and the training code
//! only see `Box<dyn Potential>`.

use super::allegro::{Allegro, AllegroConfig};
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
    /// Allegro (Musaelian et al. 2023).
    Allegro,
    /// SpookyNet (Unke et al. 2021).
    Spookynet,
}

impl Arch {
    /// Every architecture, for help texts.
    pub const ALL: [Arch; 4] = [Arch::Schnet, Arch::Painn, Arch::Allegro, Arch::Spookynet];

    /// `model_type` of `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Schnet => "schnet",
            Arch::Painn => "painn",
            Arch::Allegro => "allegro",
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
            Arch::Allegro => super::allegro::PRESET_TOML,
            Arch::Spookynet => super::spookynet::PRESET_TOML,
        }
    }
}

/// Generic size settings (the CLI's `--n-atom-basis`, `--n-interactions`, `--n-rbf`,
/// `--cutoff` and the scaling sweep's width/depth axes), mapped onto each architecture's keys.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SizeOverrides {
    /// Feature width (SchNet/PaiNN `n_atom_basis`; Allegro `num_scalar_features` and the
    /// hidden widths of its latent and embedding MLPs; SpookyNet `num_features`).
    pub width: Option<usize>,
    /// Message-passing depth (`n_interactions`; Allegro `num_layers`; SpookyNet
    /// `num_modules`).
    pub depth: Option<usize>,
    /// Radial basis size (`n_rbf`; Allegro `num_bessels`; SpookyNet `num_basis_functions`).
    pub basis: Option<usize>,
    /// Cutoff in Å (`cutoff`; Allegro `r_max`).
    pub cutoff: Option<f64>,
}

impl Arch {
    /// Writes `sizes` into a TOML config table of this architecture.
    pub fn apply_sizes(self, table: &mut toml::Table, sizes: &SizeOverrides) {
        let int = |v: usize| toml::Value::Integer(v as i64);
        let (width, depth, basis, cutoff): (&[&str], &str, &str, &str) = match self {
            Arch::Schnet | Arch::Painn => (&["n_atom_basis"], "n_interactions", "n_rbf", "cutoff"),
            Arch::Allegro => (
                &[
                    "num_scalar_features",
                    "allegro_mlp_hidden_layers_width",
                    "scalar_embed_mlp_hidden_layers_width",
                ],
                "num_layers",
                "num_bessels",
                "r_max",
            ),
            // SpookyNet's config keeps the reference's argument names.
            Arch::Spookynet => (
                &["num_features"],
                "num_modules",
                "num_basis_functions",
                "cutoff",
            ),
        };
        if let Some(w) = sizes.width {
            for k in width {
                table.insert((*k).to_string(), int(w));
            }
        }
        if let Some(d) = sizes.depth {
            table.insert(depth.to_string(), int(d));
        }
        if let Some(b) = sizes.basis {
            table.insert(basis.to_string(), int(b));
        }
        if let Some(c) = sizes.cutoff {
            table.insert(cutoff.to_string(), toml::Value::Float(c));
        }
    }
}

impl Arch {
    /// Settings a preset takes from the training data, as nequip does at model creation:
    /// Allegro's `type_names` become the elements present (ordered by Z) and
    /// `avg_num_neighbors` the mean neighbour count within `r_max` (over at most the first
    /// 2,000 structures). Other architectures have none. Applied by `ff train` and the sweep
    /// when the config is a preset, never over a user's config file.
    pub fn fill_from_data(
        self,
        table: &mut toml::Table,
        structures: &[chemlm_atoms::Structure],
    ) -> FfResult<()> {
        if self != Arch::Allegro || structures.is_empty() {
            return Ok(());
        }
        let r_max = table
            .get("r_max")
            .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
            .ok_or_else(|| FfError::Invalid("Allegro config without r_max".into()))?;
        let (types, avg) = super::allegro::data_defaults(structures, r_max)?;
        table.insert(
            "type_names".into(),
            toml::Value::Array(types.into_iter().map(toml::Value::String).collect()),
        );
        table.insert("avg_num_neighbors".into(), toml::Value::Float(avg));
        Ok(())
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
        Arch::Allegro => {
            let cfg = AllegroConfig::from_toml_str(config_toml, origin)?;
            Box::new(Allegro::new(&cfg, &varmap, dtype, device, seed)?)
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
        Some(Arch::Allegro) => Ok(Box::new(Allegro::load(dir, dtype, device)?)),
        Some(Arch::Spookynet) => Ok(Box::new(SpookyNet::load(dir, dtype, device)?)),
        None => Err(FfError::Config {
            origin,
            reason: format!(
                "model_type `{model_type}` is not a force field chemlm knows ({})",
                Arch::ALL.map(|a| a.name()).join(", ")
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
            let preset: toml::Value = toml::from_str(arch.preset_toml()).expect("toml");
            let cutoff = preset
                .get("cutoff")
                .or_else(|| preset.get("r_max"))
                .and_then(|v| v.as_float())
                .expect("preset cutoff");
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
