//! Hyperparameters of a force-field training run (`configs/ff-train-nff.toml` is the
//! LitMatter/NFF recipe), loadable from TOML; every field has the recipe's value as default so a
//! TOML file only needs the fields it changes.

use crate::error::{FfError, FfResult};
use candle_core::DType;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The LitMatter/NFF recipe (`configs/ff-train-nff.toml`), compiled in.
pub const NFF_PRESET_TOML: &str = include_str!("../../../../configs/ff-train-nff.toml");

/// How σ of the [`crate::EnergyScale`] is fitted on the training set (see
/// [`super::fit::fit_energy_scale`]).
///
/// The default for force training is [`ScaleMode::ForceRms`]: on MD17 aspirin (one composition)
/// the per-atom energy spread is σ = 0.0135 eV while the force RMS is 1.35 eV/Å, so with the
/// per-atom energy std the initial forces are ~100× too small and a small SchNet barely moves
/// in the first epochs (measured: valid loss 1.633 → 1.635 over 3 epochs, against 29.9 → 3.9
/// with the force RMS). schnetpack 2.x's MD17 recipe uses σ = 1 ([`ScaleMode::None`]), which is
/// of the same order as the force RMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScaleMode {
    /// σ = standard deviation of the per-atom residual energy (E − Σ e_ref[Z]) / n over the
    /// training structures: schnetpack's `get_statistics(divide_by_atoms=True)`.
    PerAtomEnergyStd,
    /// σ = root mean square of the training force components (NequIP/MACE's choice; the
    /// networks' gradients are then of order one).
    ForceRms,
    /// σ = 1: the networks output eV directly.
    None,
}

/// Floating-point precision of training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainDtype {
    /// Single precision (the recipe; what MD runs in).
    F32,
    /// Double precision (tests, finite differences).
    F64,
}

impl TrainDtype {
    /// The candle dtype.
    pub fn dtype(self) -> DType {
        match self {
            TrainDtype::F32 => DType::F32,
            TrainDtype::F64 => DType::F64,
        }
    }
}

/// Hyperparameters of `chemlm ff train`.
///
/// Loss (NeuralForceField's `build_mse_loss`, which is also schnetpack's `ModelOutput` with
/// `MSELoss`): `energy_weight · mean_b (E_b − Ê_b)² + force_weight · mean_{a,c} (F_ac − F̂_ac)²`,
/// the first mean over the structures of a batch (total energies, not per atom), the second over
/// all 3·n_atoms force components of the batch; eV² and (eV/Å)². NFF trains in kcal/mol: the
/// loss is then (kcal/mol per eV)² ≈ 532 times ours, the same up to a constant factor (the
/// weights keep their relative meaning, Adam and the relative plateau threshold do not see it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FfTrainConfig {
    /// Weight of the energy MSE (NFF: 0.05).
    pub energy_weight: f64,
    /// Weight of the force-component MSE (NFF: 0.95).
    pub force_weight: f64,
    /// Adam learning rate (NFF: 3e-4).
    pub lr: f64,
    /// Structures per batch (NFF: 8).
    pub batch_size: usize,
    /// Epochs at most (NFF: 100).
    pub max_epochs: usize,
    /// ReduceLROnPlateau factor (NFF: 0.5).
    pub plateau_factor: f64,
    /// Epochs without improvement before the learning rate is reduced (NFF: 30).
    pub plateau_patience: usize,
    /// Relative improvement threshold (torch default 1e-4, mode "rel").
    pub plateau_threshold: f64,
    /// Lower bound of the learning rate (NFF: 1e-7).
    pub plateau_min_lr: f64,
    /// Stop after this many epochs without a better validation loss (`None`: never).
    pub early_stop_patience: Option<usize>,
    /// Stop when the plateau would reduce a learning rate that is already at `plateau_min_lr`.
    pub stop_at_min_lr: bool,
    /// Exponential moving average of the weights (e.g. 0.99 or 0.999); validation, `best/` and
    /// the final model use the averaged weights when set.
    pub ema_decay: Option<f64>,
    /// Clip the global gradient norm to this value (`None`: no clipping).
    pub grad_clip: Option<f64>,
    /// How the energy scale σ is fitted (default: force RMS, see [`ScaleMode`]).
    pub scale_mode: ScaleMode,
    /// Seed of the split and of the per-epoch shuffling.
    pub seed: u64,
    /// Split sizes: `[train, valid]` (the remaining frames form the test set) or
    /// `[train, valid, test]`.
    pub split: Vec<usize>,
    /// Precision of training.
    pub dtype: TrainDtype,
}

impl Default for FfTrainConfig {
    fn default() -> Self {
        FfTrainConfig {
            energy_weight: 0.05,
            force_weight: 0.95,
            lr: 3e-4,
            batch_size: 8,
            max_epochs: 100,
            plateau_factor: 0.5,
            plateau_patience: 30,
            plateau_threshold: 1e-4,
            plateau_min_lr: 1e-7,
            early_stop_patience: Some(60),
            stop_at_min_lr: true,
            ema_decay: None,
            grad_clip: None,
            scale_mode: ScaleMode::ForceRms,
            seed: 0,
            split: vec![950, 50],
            dtype: TrainDtype::F32,
        }
    }
}

impl FfTrainConfig {
    /// The LitMatter/NFF recipe (`configs/ff-train-nff.toml`).
    pub fn nff_preset() -> FfResult<Self> {
        Self::from_toml(NFF_PRESET_TOML, "configs/ff-train-nff.toml")
    }

    /// Parses and validates a TOML document; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> FfResult<Self> {
        let cfg: FfTrainConfig = toml::from_str(text).map_err(|e| FfError::Config {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Reads a TOML file.
    pub fn from_toml_file(path: &Path) -> FfResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| FfError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Checks ranges: positive learning rate and batch size, weights ≥ 0 and not both zero,
    /// plateau factor in (0, 1), EMA decay in (0, 1), two or three split sizes.
    pub fn validate(&self, origin: &str) -> FfResult<()> {
        let bad = |reason: String| {
            Err(FfError::Config {
                origin: origin.to_string(),
                reason,
            })
        };
        if !(self.energy_weight >= 0.0 && self.force_weight >= 0.0)
            || self.energy_weight + self.force_weight <= 0.0
        {
            return bad(format!(
                "loss weights must be ≥ 0 and not both 0 (energy {}, force {})",
                self.energy_weight, self.force_weight
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(format!("lr must be positive, got {}", self.lr));
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".into());
        }
        if !(self.plateau_factor > 0.0 && self.plateau_factor < 1.0) {
            return bad(format!(
                "plateau_factor must be in (0, 1), got {}",
                self.plateau_factor
            ));
        }
        if !(self.plateau_threshold >= 0.0 && self.plateau_min_lr >= 0.0) {
            return bad("plateau_threshold and plateau_min_lr must be ≥ 0".into());
        }
        if let Some(d) = self.ema_decay {
            if !(d > 0.0 && d < 1.0) {
                return bad(format!("ema_decay must be in (0, 1), got {d}"));
            }
        }
        if let Some(c) = self.grad_clip {
            if c.is_nan() || c <= 0.0 {
                return bad(format!("grad_clip must be positive, got {c}"));
            }
        }
        if !(2..=3).contains(&self.split.len()) {
            return bad(format!(
                "split needs 2 (train, valid) or 3 (train, valid, test) sizes, got {:?}",
                self.split
            ));
        }
        if self.split[0] == 0 {
            return bad("the training split is empty".into());
        }
        Ok(())
    }
}

/// Parses `--split` text: `950,50` or `800,100,100`.
pub fn parse_split(text: &str) -> FfResult<Vec<usize>> {
    let sizes: Vec<usize> = text
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|e| FfError::Invalid(format!("--split {text:?}: {e} (e.g. 950,50)")))?;
    if !(2..=3).contains(&sizes.len()) {
        return Err(FfError::Invalid(format!(
            "--split {text:?}: give train,valid or train,valid,test"
        )));
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_is_the_nff_recipe() {
        let c = FfTrainConfig::nff_preset().unwrap();
        assert_eq!((c.energy_weight, c.force_weight), (0.05, 0.95));
        assert_eq!((c.lr, c.batch_size), (3e-4, 8));
        assert_eq!((c.plateau_factor, c.plateau_patience), (0.5, 30));
        assert_eq!(c.plateau_min_lr, 1e-7);
        assert_eq!(c, FfTrainConfig::default());
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(FfTrainConfig::from_toml("lr = -1.0", "t").is_err());
        assert!(FfTrainConfig::from_toml("split = [1]", "t").is_err());
        assert!(FfTrainConfig::from_toml("unknown = 1", "t").is_err());
        assert!(FfTrainConfig::from_toml("ema_decay = 1.5", "t").is_err());
        assert_eq!(parse_split("800, 100,100").unwrap(), vec![800, 100, 100]);
        assert!(parse_split("800").is_err());
        assert!(parse_split("a,b").is_err());
    }
}
