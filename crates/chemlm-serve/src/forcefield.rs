//! Force fields behind `/energy-forces`: a model directory whose `config.json` names a chemlm
//! force field (`model_type` schnet, painn, allegro or spookynet) is served for energies and
//! forces of the structures a request sends, each structure answered on its own.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use chemlm_atoms::{Cell, Structure};
use chemlm_ff::models::{self, Arch};
use chemlm_ff::train::predict::Prediction;
use chemlm_ff::Potential;
use serde::Deserialize;

use crate::server::ServeError;

/// Structures per forward pass: requests are split into batches of this many.
const BATCH: usize = 16;

/// Whether `dir` holds a force field (its `config.json` has a force-field `model_type`).
pub fn is_force_field(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|c| c["model_type"].as_str().and_then(Arch::parse))
        .is_some()
}

/// One structure of a request, in ASE's terms: atomic numbers, Cartesian positions in Å and,
/// for a periodic system, the cell (rows a, b, c in Å) with its periodic directions.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct StructureIn {
    pub numbers: Vec<i64>,
    pub positions: Vec<[f64; 3]>,
    pub cell: Option<[[f64; 3]; 3]>,
    pub pbc: Option<[bool; 3]>,
}

impl StructureIn {
    /// The structure, or why it is not one.
    pub fn to_structure(&self) -> Result<Structure, String> {
        if self.numbers.len() != self.positions.len() {
            return Err(format!(
                "{} atomic numbers but {} positions",
                self.numbers.len(),
                self.positions.len()
            ));
        }
        let numbers = self
            .numbers
            .iter()
            .map(|&z| {
                u8::try_from(z)
                    .ok()
                    .filter(|z| (1..=118).contains(z))
                    .ok_or_else(|| format!("atomic number {z} is not an element"))
            })
            .collect::<Result<Vec<u8>, String>>()?;
        if self.positions.iter().flatten().any(|x| !x.is_finite()) {
            return Err("a position is not a finite number".into());
        }
        let mut s = Structure::new(numbers, self.positions.clone()).map_err(|e| e.to_string())?;
        match (self.cell, self.pbc) {
            (Some(vectors), pbc) => {
                s.cell = Some(Cell {
                    vectors,
                    pbc: pbc.unwrap_or([true; 3]),
                })
            }
            (None, Some(p)) if p.iter().any(|&b| b) => {
                return Err("pbc without a cell".into());
            }
            (None, _) => {}
        }
        s.validate().map_err(|e| e.to_string())?;
        Ok(s)
    }
}

/// One loaded force field.
pub struct ServedForceField {
    pub name: String,
    pub dir: PathBuf,
    /// `config.json` as read, for `/info`.
    pub info: serde_json::Value,
    model: Box<dyn Potential>,
    device: Device,
}

impl ServedForceField {
    /// Loads the force field in `dir` (f64: energies and forces as `chemlm ff predict` gives
    /// them by default).
    pub fn load(name: &str, dir: &Path, device: &Device) -> Result<Self, ServeError> {
        let err = |reason: String| ServeError::Model {
            name: name.to_string(),
            reason,
        };
        let model = models::load(dir, DType::F64, device).map_err(|e| err(e.to_string()))?;
        let info = std::fs::read_to_string(dir.join("config.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        Ok(Self {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            info,
            model,
            device: device.clone(),
        })
    }

    /// Energy (eV) and forces (eV/Å) of each structure; a structure that cannot be evaluated
    /// gets its own error and the others are answered.
    pub fn energy_forces(
        &self,
        structures: &[Result<Structure, String>],
    ) -> Vec<Result<Prediction, String>> {
        let mut out: Vec<Result<Prediction, String>> = structures
            .iter()
            .map(|s| {
                s.as_ref()
                    .map(|_| Err(String::new()))
                    .unwrap_or_else(|e| Err(e.clone()))
            })
            .collect();
        let ok: Vec<(usize, &Structure)> = structures
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().ok().map(|s| (i, s)))
            .collect();
        for chunk in ok.chunks(BATCH) {
            let refs: Vec<&Structure> = chunk.iter().map(|(_, s)| *s).collect();
            match self.predict(&refs) {
                Ok(preds) => {
                    for ((i, _), p) in chunk.iter().zip(preds) {
                        out[*i] = Ok(p);
                    }
                }
                // One bad structure fails its batch: find it by evaluating each alone.
                Err(_) => {
                    for (i, s) in chunk {
                        out[*i] = self
                            .predict(&[*s])
                            .and_then(|mut p| p.pop().ok_or_else(|| "no prediction".to_string()));
                    }
                }
            }
        }
        out
    }

    fn predict(&self, structures: &[&Structure]) -> Result<Vec<Prediction>, String> {
        chemlm_ff::train::predict::predict_structures(
            self.model.as_ref(),
            structures,
            BATCH,
            DType::F64,
            &self.device,
        )
        .map_err(|e| e.to_string())
    }
}
