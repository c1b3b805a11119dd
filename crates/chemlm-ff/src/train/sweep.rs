//! The force-field neural-scaling study (Frey et al. 2023, GNN half): a grid of architecture ×
//! width × depth × number of training structures, each cell a real [`train_potential`] run,
//! driven by the same resumable grid engine as the language-model sweep
//! ([`chemlm_train::scaling::run_grid`]) and written to the same `results.jsonl`, so
//! `chemlm scale fit` fits and plots both.
//!
//! The held-out set is fixed for the whole sweep (the first `valid_structures` frames of one
//! seeded permutation) and the training sets are nested prefixes of the rest, so a larger data
//! size only adds frames. The loss of a cell is its best validation loss: the recipe's
//! force-weighted MSE (0.05·MSE_E + 0.95·MSE_F on σ-scaled targets with the NFF preset), the
//! loss Frey et al. report.

use super::config::FfTrainConfig;
use super::data::{FfDataset, SplitIndices};
use super::trainer::{train_potential, TrainOptions};
use crate::error::{FfError, FfResult};
use crate::models::registry::{self, Arch, SizeOverrides};
use chemlm_atoms::Structure;
use chemlm_train::scaling::{run_grid, GridCell, RunResult, SweepRow};
use rand::seq::SliceRandom;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// `kind` of force-field sweeps in the sweep TOML and in `results.jsonl`.
pub const KIND: &str = "ff";

/// Random stream of the sweep's permutation (distinct from the training split's).
const SWEEP_STREAM: u64 = 0x5eef;

/// One model size of the grid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FfModelSize {
    /// Label in results and plots.
    pub name: String,
    /// Architecture.
    pub arch: Arch,
    /// TOML model config replacing the architecture's preset.
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// Feature width (see [`SizeOverrides`]).
    #[serde(default)]
    pub width: Option<usize>,
    /// Message-passing depth.
    #[serde(default)]
    pub depth: Option<usize>,
    /// Radial basis size.
    #[serde(default)]
    pub basis: Option<usize>,
    /// Cutoff in Å.
    #[serde(default)]
    pub cutoff: Option<f64>,
}

impl FfModelSize {
    /// The model's TOML config: preset (or `config`) with the size overrides; a preset also
    /// takes the settings derived from `structures` ([`Arch::fill_from_data`]).
    pub fn config_toml_for(&self, structures: &[Structure]) -> FfResult<String> {
        let text = self.config_toml()?;
        if self.config.is_some() || structures.is_empty() {
            return Ok(text);
        }
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| FfError::Config {
            origin: format!("model size {}", self.name),
            reason: e.to_string(),
        })?;
        self.arch.fill_from_data(&mut table, structures)?;
        toml::to_string(&table).map_err(|e| FfError::Invalid(e.to_string()))
    }

    /// The model's TOML config: preset (or `config`) with the size overrides.
    pub fn config_toml(&self) -> FfResult<String> {
        let text = match &self.config {
            Some(p) => std::fs::read_to_string(p).map_err(|e| FfError::Io {
                path: p.clone(),
                source: e,
            })?,
            None => self.arch.preset_toml().to_string(),
        };
        let origin = format!("model size {}", self.name);
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| FfError::Config {
            origin: origin.clone(),
            reason: e.to_string(),
        })?;
        self.arch.apply_sizes(
            &mut table,
            &SizeOverrides {
                width: self.width,
                depth: self.depth,
                basis: self.basis,
                cutoff: self.cutoff,
            },
        );
        if self.arch == Arch::Schnet && self.width.is_some() {
            // SchNet's filters follow the feature width (schnetpack's default).
            if let Some(w) = table.get("n_atom_basis").cloned() {
                table.insert("n_filters".into(), w);
            }
        }
        toml::to_string(&table).map_err(|e| FfError::Config {
            origin,
            reason: e.to_string(),
        })
    }
}

/// A force-field sweep file (`configs/sweep-ff-*.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FfSweepConfig {
    /// Always "ff".
    pub kind: String,
    /// Structure files (extxyz, npz, QM9), concatenated.
    pub data: Vec<PathBuf>,
    /// Output directory: results.jsonl, runs/<cell>/.
    pub out: PathBuf,
    /// Size of the fixed held-out set.
    pub valid_structures: usize,
    /// Training-set sizes (nested prefixes of one permutation).
    pub data_sizes: Vec<usize>,
    /// Seed of the permutation.
    #[serde(default)]
    pub seed: u64,
    /// Optimizer-step budget of every cell: a cell with n structures trains for
    /// ⌈steps · batch_size / n⌉ epochs, capped by `train.max_epochs` (which bounds the
    /// per-epoch validation cost of small cells), so small data sizes are not starved of
    /// updates. Without it every cell runs `train.max_epochs`.
    #[serde(default)]
    pub steps: Option<u64>,
    /// Model sizes.
    pub models: Vec<FfModelSize>,
    /// Training settings shared by every cell, over the NFF preset (`max_epochs` is the
    /// budget of a cell; early stopping and the plateau schedule apply as in `ff train`).
    #[serde(default)]
    pub train: toml::Table,
}

impl FfSweepConfig {
    /// Parses and checks a sweep TOML (`origin` names it in errors).
    pub fn from_toml(text: &str, origin: &str) -> FfResult<Self> {
        let bad = |reason: String| FfError::Config {
            origin: origin.to_string(),
            reason,
        };
        let c: FfSweepConfig = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if c.kind != KIND {
            return Err(bad(format!("kind is {:?}, expected {KIND:?}", c.kind)));
        }
        if c.models.is_empty() || c.data_sizes.is_empty() || c.data.is_empty() {
            return Err(bad(
                "a sweep needs data files, at least one model and one data size".into(),
            ));
        }
        if c.valid_structures == 0 || c.data_sizes.contains(&0) {
            return Err(bad(
                "valid_structures and data sizes must be positive".into()
            ));
        }
        let mut names = std::collections::HashSet::new();
        for m in &c.models {
            if !names.insert(m.name.as_str()) {
                return Err(bad(format!("model name {:?} used twice", m.name)));
            }
            let text = m.config_toml()?;
            registry::build(
                m.arch,
                &text,
                &format!("model size {}", m.name),
                candle_core::DType::F32,
                &candle_core::Device::Cpu,
                0,
            )?;
        }
        c.train_config()?;
        Ok(c)
    }

    /// The training config of every cell.
    pub fn train_config(&self) -> FfResult<FfTrainConfig> {
        let mut base: toml::Table =
            toml::from_str(super::config::NFF_PRESET_TOML).map_err(|e| FfError::Config {
                origin: "configs/ff-train-nff.toml".into(),
                reason: e.to_string(),
            })?;
        for (k, v) in &self.train {
            base.insert(k.clone(), v.clone());
        }
        let text = toml::to_string(&base).map_err(|e| FfError::Invalid(e.to_string()))?;
        FfTrainConfig::from_toml(&text, "[train] of the sweep")
    }

    /// The grid, model-major, and the size of each cell.
    pub fn cells(&self) -> Vec<(GridCell, &FfModelSize, usize)> {
        let mut out = Vec::new();
        for m in &self.models {
            for &n in &self.data_sizes {
                out.push((
                    GridCell {
                        id: format!("{}/n{n}", m.name),
                        model: m.name.clone(),
                        budget: self.steps.map(|s| s as f64),
                    },
                    m,
                    n,
                ));
            }
        }
        out
    }
}

/// The training config of a cell with `n` structures: with a step budget, ⌈steps·batch/n⌉
/// epochs capped by `max_epochs`.
pub fn cell_train_config(base: &FfTrainConfig, steps: Option<u64>, n: usize) -> FfTrainConfig {
    let mut c = base.clone();
    if let Some(steps) = steps {
        let samples = steps.saturating_mul(c.batch_size as u64);
        let epochs = samples.div_ceil(n.max(1) as u64).max(1) as usize;
        c.max_epochs = epochs.min(base.max_epochs);
    }
    c
}

/// The fixed held-out frames and the nested training pool of a sweep over `n_frames` frames.
pub fn sweep_partition(
    n_frames: usize,
    valid: usize,
    largest: usize,
    seed: u64,
) -> FfResult<(Vec<usize>, Vec<usize>)> {
    if valid + largest > n_frames {
        return Err(FfError::Invalid(format!(
            "the sweep needs {valid} held-out + {largest} training frames, the data have {n_frames}"
        )));
    }
    let mut perm: Vec<usize> = (0..n_frames).collect();
    perm.shuffle(&mut chemlm_train::rng::derived_rng(seed, SWEEP_STREAM));
    let mut held: Vec<usize> = perm[..valid].to_vec();
    held.sort_unstable();
    Ok((held, perm[valid..valid + largest].to_vec()))
}

/// Runs the cells not yet in `out/results.jsonl` on `structures`; `on_cell` as in
/// [`run_grid`]. Returns every row of the file.
pub fn run_ff_sweep(
    cfg: &FfSweepConfig,
    structures: Vec<Structure>,
    device: &candle_core::Device,
    quiet: bool,
    on_cell: impl FnMut(usize, usize, &GridCell, Option<&SweepRow>),
) -> FfResult<Vec<SweepRow>> {
    let train_cfg = cfg.train_config()?;
    let largest = cfg.data_sizes.iter().copied().max().unwrap_or(0);
    let (held, pool) = sweep_partition(structures.len(), cfg.valid_structures, largest, cfg.seed)?;
    let cells = cfg.cells();
    let grid: Vec<GridCell> = cells.iter().map(|(g, _, _)| g.clone()).collect();
    let by_id: HashMap<&str, (&FfModelSize, usize)> = cells
        .iter()
        .map(|(g, m, n)| (g.id.as_str(), (*m, *n)))
        .collect();
    let texts: HashMap<&str, String> = cfg
        .models
        .iter()
        .map(|m| Ok((m.name.as_str(), m.config_toml_for(&structures)?)))
        .collect::<FfResult<_>>()?;
    let mut datasets: HashMap<u64, FfDataset> = HashMap::new();
    let n_frames = structures.len();
    let mut structures = Some(structures);
    let rows = run_grid(
        &cfg.out,
        Some(KIND),
        &grid,
        |g, dir| {
            let mut run = || -> FfResult<RunResult> {
                let (size, n) = by_id
                    .get(g.id.as_str())
                    .copied()
                    .ok_or_else(|| FfError::Invalid(format!("unknown cell {}", g.id)))?;
                let text = texts
                    .get(size.name.as_str())
                    .ok_or_else(|| FfError::Invalid(format!("no config for {}", size.name)))?;
                let mut model = registry::build(
                    size.arch,
                    text,
                    &format!("model size {}", size.name),
                    train_cfg.dtype.dtype(),
                    device,
                    train_cfg.seed,
                )?;
                let key = model.cutoff().to_bits();
                if !datasets.contains_key(&key) {
                    let all = match structures.take() {
                        Some(s) => s,
                        None => datasets
                            .values()
                            .next()
                            .map(|d| d.structures().to_vec())
                            .unwrap_or_default(),
                    };
                    datasets.insert(key, FfDataset::new(all, model.cutoff())?);
                }
                let data = &datasets[&key];
                let mut train: Vec<usize> = pool[..n].to_vec();
                train.sort_unstable();
                let split = SplitIndices {
                    seed: cfg.seed,
                    n_frames,
                    train,
                    valid: held.clone(),
                    test: Vec::new(),
                };
                let cell_cfg = cell_train_config(&train_cfg, cfg.steps, n);
                let opts = TrainOptions {
                    quiet,
                    plot: false,
                    keep_checkpoints: 1,
                    device: device.clone(),
                    ..TrainOptions::new(dir)
                };
                let report =
                    train_potential(model.as_mut(), data, &split, &cell_cfg, &opts, &mut |_| {})?;
                let params = registry::n_params(model.as_ref());
                let last = report.epochs.last();
                let epochs = report.last_epoch as u64;
                let samples = epochs * n as u64;
                let mean_atoms = split
                    .train
                    .iter()
                    .map(|&i| data.structure(i).len() as f64)
                    .sum::<f64>()
                    / n as f64;
                Ok(RunResult {
                    valid_loss: report.best_valid_loss.unwrap_or(f64::NAN),
                    parameters: params,
                    non_embedding_parameters: params,
                    train_molecules: n,
                    tokens_seen: samples,
                    // A proxy, not a count: 6 FLOPs per weight per atom per structure seen (forward
                    // + backward as for dense layers); force training's double backward and
                    // per-edge work make the true figure larger by a model-dependent factor.
                    flops: 6.0 * params as f64 * mean_atoms * samples as f64,
                    steps: last.map(|r| r.step).unwrap_or(0),
                    wall_seconds: report.epochs.iter().map(|r| r.train_time_s).sum(),
                    final_train_loss: last.map(|r| r.train_loss),
                    curve: report
                        .epochs
                        .iter()
                        .map(|r| (r.epoch as u64, r.valid_loss))
                        .collect(),
                })
            };
            run().map_err(|e| chemlm_train::TrainError::Config(format!("cell {}: {e}", g.id)))
        },
        on_cell,
    )
    .map_err(|e| FfError::Invalid(e.to_string()))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_is_nested_disjoint_and_seeded() {
        let (held, pool) = sweep_partition(100, 10, 50, 3).unwrap();
        assert_eq!(held.len(), 10);
        assert_eq!(pool.len(), 50);
        assert!(pool.iter().all(|i| !held.contains(i)));
        let (held2, pool2) = sweep_partition(100, 10, 80, 3).unwrap();
        assert_eq!(held, held2);
        assert_eq!(pool[..], pool2[..50]);
        assert!(sweep_partition(10, 5, 6, 0).is_err());
    }

    #[test]
    fn step_budget_sets_epochs() {
        let base = FfTrainConfig {
            batch_size: 8,
            max_epochs: 50,
            ..FfTrainConfig::default()
        };
        assert_eq!(cell_train_config(&base, Some(100), 80).max_epochs, 10);
        assert_eq!(cell_train_config(&base, Some(100), 81).max_epochs, 10);
        assert_eq!(cell_train_config(&base, Some(100), 8).max_epochs, 50);
        assert_eq!(cell_train_config(&base, Some(1), 800).max_epochs, 1);
        assert_eq!(cell_train_config(&base, None, 8).max_epochs, 50);
    }

    #[test]
    fn config_is_checked() {
        let ok = r#"
kind = "ff"
data = ["x.npz"]
out = "o"
valid_structures = 5
data_sizes = [10, 20]
[[models]]
name = "s"
arch = "schnet"
width = 16
depth = 1
[train]
max_epochs = 2
"#;
        let c = FfSweepConfig::from_toml(ok, "t").unwrap();
        assert_eq!(c.cells().len(), 2);
        assert_eq!(c.train_config().unwrap().max_epochs, 2);
        let text = c.models[0].config_toml().unwrap();
        assert!(text.contains("n_filters = 16"), "{text}");
        let bad = ok.replace("kind = \"ff\"", "kind = \"lm\"");
        assert!(FfSweepConfig::from_toml(&bad, "t").is_err());
        let bad = ok.replace("max_epochs = 2", "max_epochs = 2\nlr = -1.0");
        assert!(FfSweepConfig::from_toml(&bad, "t").is_err());
    }
}
