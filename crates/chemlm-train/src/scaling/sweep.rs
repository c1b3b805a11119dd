//! `chemlm scale sweep`: a grid of model size × data size (× compute budget), each cell one real
//! training run appended as a line of `results.jsonl`. Cells already in the file are skipped, so
//! a killed sweep continues where it stopped (a cell is the unit of work; a half-trained cell
//! restarts from scratch).

use super::run::{train_run, Corpus, RunResult, RunSpec};
use crate::config::TrainConfig;
use crate::data::BatchingConfig;
use crate::error::{Result, TrainError};
use chemlm_models::config::AttentionLayerType;
use chemlm_models::ModelConfig;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// One model size of the grid: a preset with width/depth overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSize {
    /// Label of the size in results and plots.
    pub name: String,
    /// A causal-LM preset (e.g. gpt-small, chemgpt-4.7m).
    pub preset: String,
    /// Width override.
    pub hidden_size: Option<usize>,
    /// Depth override (global/local attention alternate, as in ChemGPT).
    pub num_layers: Option<usize>,
    /// Heads override.
    pub num_heads: Option<usize>,
}

impl ModelSize {
    /// The model config of this size.
    pub fn config(&self) -> Result<ModelConfig> {
        let mut c = chemlm_models::presets::preset(&self.preset)
            .map_err(|e| TrainError::Config(format!("model size {}: {e}", self.name)))?;
        let ModelConfig::GptNeo(g) = &mut c else {
            return Err(TrainError::Config(format!(
                "model size {}: preset {} is not a causal LM",
                self.name, self.preset
            )));
        };
        if let Some(h) = self.hidden_size {
            g.hidden_size = h;
        }
        if let Some(h) = self.num_heads {
            g.num_heads = h;
        }
        if let Some(l) = self.num_layers {
            g.num_layers = l;
            g.attention_types = if l.is_multiple_of(2) {
                vec![(
                    vec![AttentionLayerType::Global, AttentionLayerType::Local],
                    l / 2,
                )]
            } else {
                vec![(vec![AttentionLayerType::Global], l)]
            };
        }
        c.validate(&format!("model size {}", self.name))
            .map_err(|e| TrainError::Config(e.to_string()))?;
        Ok(c)
    }
}

/// The sweep file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Token shard directory (`chemlm data prepare`), read by the CLI.
    pub data: PathBuf,
    /// Output directory: results.jsonl, runs/<cell>/, plots.
    pub out: PathBuf,
    /// Validation molecules (first N of the shards' valid split).
    #[serde(default = "default_valid")]
    pub valid_molecules: usize,
    /// Training-set sizes (molecules, prefixes of the train split).
    pub data_sizes: Vec<usize>,
    /// Optional compute budgets in training FLOPs: a cell stops at the first of `train.steps`
    /// and the step where its FLOPs reach the budget (estimated with full token batches).
    #[serde(default)]
    pub budgets: Vec<f64>,
    /// Model sizes.
    pub models: Vec<ModelSize>,
    /// Training settings shared by every cell.
    #[serde(default)]
    pub train: TrainConfig,
    /// Batching shared by every cell.
    #[serde(default)]
    pub batch: BatchingConfig,
}

fn default_valid() -> usize {
    2000
}

/// One cell of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// `model/n<molecules>[/f<budget>]`, unique in the sweep.
    pub id: String,
    /// Model size.
    pub model: ModelSize,
    /// Training molecules.
    pub molecules: usize,
    /// FLOPs budget.
    pub budget: Option<f64>,
}

/// A line of results.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// What was trained: `None` for language models (rows written before the field existed),
    /// `Some("ff")` for force fields. `scale fit` picks the paper's exponent to compare with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Cell id.
    pub cell: String,
    /// Model size label.
    pub model: String,
    /// FLOPs budget of the cell.
    pub budget: Option<f64>,
    /// Measurements.
    #[serde(flatten)]
    pub result: RunResult,
}

impl SweepConfig {
    /// Parses a sweep TOML file.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let c: SweepConfig = toml::from_str(text)
            .map_err(|e| TrainError::Config(format!("{}: {e}", origin.display())))?;
        if c.models.is_empty() || c.data_sizes.is_empty() {
            return Err(TrainError::Config(format!(
                "{}: a sweep needs at least one model and one data size",
                origin.display()
            )));
        }
        for m in &c.models {
            m.config()?;
        }
        c.train.validate()?;
        Ok(c)
    }

    /// The grid, model-major.
    pub fn cells(&self) -> Vec<Cell> {
        let budgets: Vec<Option<f64>> = if self.budgets.is_empty() {
            vec![None]
        } else {
            self.budgets.iter().copied().map(Some).collect()
        };
        let mut out = Vec::new();
        for m in &self.models {
            for &n in &self.data_sizes {
                for &b in &budgets {
                    let id = match b {
                        Some(f) => format!("{}/n{n}/f{f:.3e}", m.name),
                        None => format!("{}/n{n}", m.name),
                    };
                    out.push(Cell {
                        id,
                        model: m.clone(),
                        molecules: n,
                        budget: b,
                    });
                }
            }
        }
        out
    }
}

/// Reads results.jsonl (missing file = no rows), naming the line of a malformed row.
pub fn read_results(path: &Path) -> Result<Vec<SweepRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let f = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut rows = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| TrainError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        rows.push(
            serde_json::from_str(&line)
                .map_err(|e| TrainError::format(path, format!("line {}: {e}", i + 1)))?,
        );
    }
    Ok(rows)
}

fn append_row(path: &Path, row: &SweepRow) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| TrainError::io(path, e))?;
    let s = serde_json::to_string(row).map_err(|e| TrainError::format(path, e))?;
    writeln!(f, "{s}").map_err(|e| TrainError::io(path, e))?;
    f.flush().map_err(|e| TrainError::io(path, e))
}

/// One cell of any sweep, as the shared grid runner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    /// Unique id (also the run directory, with `/` → `_`).
    pub id: String,
    /// Model size label.
    pub model: String,
    /// Budget of the cell (FLOPs for language models, epochs for force fields), if any.
    pub budget: Option<f64>,
}

/// The shared sweep engine: runs every cell of `cells` not yet in `out/results.jsonl` with
/// `run_cell(cell, run_dir)`, appending one row per finished cell (tagged with `kind`), so a
/// killed sweep continues where it stopped; a cell killed mid-run restarts from scratch.
/// `on_cell(index, total, cell, row)` reports progress (`row` is `None` for skipped cells).
/// Returns all rows of the file.
pub fn run_grid(
    out: &Path,
    kind: Option<&str>,
    cells: &[GridCell],
    mut run_cell: impl FnMut(&GridCell, &Path) -> Result<RunResult>,
    mut on_cell: impl FnMut(usize, usize, &GridCell, Option<&SweepRow>),
) -> Result<Vec<SweepRow>> {
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    let results = out.join("results.jsonl");
    let done: HashSet<String> = read_results(&results)?
        .into_iter()
        .map(|r| r.cell)
        .collect();
    for (i, cell) in cells.iter().enumerate() {
        if done.contains(&cell.id) {
            on_cell(i, cells.len(), cell, None);
            continue;
        }
        let dir = out.join("runs").join(cell.id.replace('/', "_"));
        if dir.exists() {
            // A cell killed mid-run: start it again from scratch.
            std::fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        let mut result = run_cell(cell, &dir)?;
        result.curve.clear();
        let row = SweepRow {
            kind: kind.map(str::to_string),
            cell: cell.id.clone(),
            model: cell.model.clone(),
            budget: cell.budget,
            result,
        };
        append_row(&results, &row)?;
        on_cell(i, cells.len(), cell, Some(&row));
    }
    read_results(&results)
}

/// Runs every cell not yet in `out/results.jsonl`, appending one row per finished cell;
/// `on_cell(index, total, cell, skipped)` reports progress. Returns all rows.
pub fn run_sweep(
    cfg: &SweepConfig,
    corpus: &Corpus,
    device: &candle_core::Device,
    on_cell: impl FnMut(usize, usize, &GridCell, Option<&SweepRow>),
) -> Result<Vec<SweepRow>> {
    let cells = cfg.cells();
    let grid: Vec<GridCell> = cells
        .iter()
        .map(|c| GridCell {
            id: c.id.clone(),
            model: c.model.name.clone(),
            budget: c.budget,
        })
        .collect();
    let by_id: std::collections::HashMap<&str, &Cell> =
        cells.iter().map(|c| (c.id.as_str(), c)).collect();
    run_grid(
        &cfg.out,
        None,
        &grid,
        |g, dir| {
            let cell = by_id
                .get(g.id.as_str())
                .ok_or_else(|| TrainError::Config(format!("unknown cell {}", g.id)))?;
            let model = cell.model.config()?;
            let mut train = cfg.train.clone();
            if let Some(budget) = cell.budget {
                let mut m = model.clone();
                m.set_vocab_size(corpus.vocab_size);
                let fpt = chemlm_models::flops_per_token(&m)
                    .map_err(|e| TrainError::Config(e.to_string()))?
                    as f64;
                let steps = (budget / (fpt * cfg.batch.max_tokens as f64)).ceil() as u64;
                train.steps = train.steps.min(steps.max(1));
                train.warmup_steps = train.warmup_steps.min(train.steps / 10);
            }
            let spec = RunSpec {
                model,
                train,
                batch: cfg.batch.clone(),
                train_molecules: Some(cell.molecules),
            };
            train_run(&spec, corpus, dir, device)
        },
        on_cell,
    )
}
