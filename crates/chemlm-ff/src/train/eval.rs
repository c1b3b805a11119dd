//! Accuracy of a force field against reference labels: energy and force MAE/RMSE in the units
//! papers quote, per atom and per element.
//!
//! Conventions (schnetpack's and NFF's): the energy error is per structure (total energy);
//! "per atom" divides each structure's error by its atom count; force errors run over Cartesian
//! components (MAE = mean |F_ac − F̂_ac| over all atoms a and components c), not over vector
//! norms. Structures without an energy label are left out of the energy metrics, those without
//! forces out of the force metrics.

use super::predict::{predict_structures, Prediction};
use crate::error::{FfError, FfResult};
use crate::potential::Potential;
use candle_core::{DType, Device};
use chemlm_atoms::units::KCAL_PER_MOL;
use chemlm_atoms::Structure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Energy errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyMetrics {
    /// Structures with an energy label.
    pub n_structures: usize,
    /// Mean absolute error, eV.
    pub mae_ev: f64,
    /// Root mean square error, eV.
    pub rmse_ev: f64,
    /// MAE in meV.
    pub mae_mev: f64,
    /// RMSE in meV.
    pub rmse_mev: f64,
    /// MAE in kcal/mol.
    pub mae_kcal_mol: f64,
    /// RMSE in kcal/mol.
    pub rmse_kcal_mol: f64,
    /// MAE of the energy per atom, meV/atom.
    pub mae_per_atom_mev: f64,
    /// RMSE of the energy per atom, meV/atom.
    pub rmse_per_atom_mev: f64,
}

/// Force errors of one element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementForceMetrics {
    /// Atomic number.
    pub z: u8,
    /// Element symbol.
    pub symbol: String,
    /// Atoms of this element with force labels.
    pub n_atoms: usize,
    /// MAE over components, meV/Å.
    pub mae_mev_a: f64,
    /// RMSE over components, meV/Å.
    pub rmse_mev_a: f64,
}

/// Force errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceMetrics {
    /// Atoms with force labels.
    pub n_atoms: usize,
    /// MAE over components, eV/Å.
    pub mae_ev_a: f64,
    /// RMSE over components, eV/Å.
    pub rmse_ev_a: f64,
    /// MAE, meV/Å.
    pub mae_mev_a: f64,
    /// RMSE, meV/Å.
    pub rmse_mev_a: f64,
    /// MAE, kcal/mol/Å.
    pub mae_kcal_mol_a: f64,
    /// RMSE, kcal/mol/Å.
    pub rmse_kcal_mol_a: f64,
    /// Per element, ascending atomic number.
    pub per_element: Vec<ElementForceMetrics>,
}

/// Everything `chemlm ff eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FfMetrics {
    /// Structures evaluated.
    pub n_structures: usize,
    /// Atoms evaluated.
    pub n_atoms: usize,
    /// Energy errors (`None` without any energy label).
    pub energy: Option<EnergyMetrics>,
    /// Force errors (`None` without any force label).
    pub forces: Option<ForceMetrics>,
}

/// Predicts `structures` with `model` and compares with their labels.
pub fn evaluate(
    model: &dyn Potential,
    structures: &[Structure],
    batch_size: usize,
    dtype: DType,
    device: &Device,
) -> FfResult<FfMetrics> {
    let refs: Vec<&Structure> = structures.iter().collect();
    let preds = predict_structures(model, &refs, batch_size, dtype, device)?;
    FfMetrics::from_predictions(&refs, &preds)
}

#[derive(Default)]
struct Acc {
    n: usize,
    abs: f64,
    sq: f64,
}

impl Acc {
    fn push(&mut self, d: f64) {
        self.n += 1;
        self.abs += d.abs();
        self.sq += d * d;
    }
    fn mae(&self) -> f64 {
        self.abs / self.n as f64
    }
    fn rmse(&self) -> f64 {
        (self.sq / self.n as f64).sqrt()
    }
}

impl FfMetrics {
    /// Metrics of predictions `preds[k]` for the labelled `structures[k]`.
    pub fn from_predictions(structures: &[&Structure], preds: &[Prediction]) -> FfResult<Self> {
        if structures.len() != preds.len() {
            return Err(FfError::Invalid(format!(
                "{} structures but {} predictions",
                structures.len(),
                preds.len()
            )));
        }
        let (mut e, mut e_atom, mut f) = (Acc::default(), Acc::default(), Acc::default());
        let mut per_z: BTreeMap<u8, Acc> = BTreeMap::new();
        let mut n_atoms = 0;
        for (k, (s, p)) in structures.iter().zip(preds).enumerate() {
            n_atoms += s.len();
            if let Some(ref_e) = s.energy {
                let d = p.energy - ref_e;
                e.push(d);
                e_atom.push(d / s.len().max(1) as f64);
            }
            if let Some(ref_f) = &s.forces {
                if ref_f.len() != p.forces.len() {
                    return Err(FfError::Invalid(format!(
                        "structure {k}: {} reference and {} predicted forces",
                        ref_f.len(),
                        p.forces.len()
                    )));
                }
                for ((r, q), &z) in ref_f.iter().zip(&p.forces).zip(&s.numbers) {
                    let acc = per_z.entry(z).or_default();
                    for c in 0..3 {
                        f.push(q[c] - r[c]);
                        acc.push(q[c] - r[c]);
                    }
                }
            }
        }
        let energy = (e.n > 0).then(|| EnergyMetrics {
            n_structures: e.n,
            mae_ev: e.mae(),
            rmse_ev: e.rmse(),
            mae_mev: 1e3 * e.mae(),
            rmse_mev: 1e3 * e.rmse(),
            mae_kcal_mol: e.mae() / KCAL_PER_MOL,
            rmse_kcal_mol: e.rmse() / KCAL_PER_MOL,
            mae_per_atom_mev: 1e3 * e_atom.mae(),
            rmse_per_atom_mev: 1e3 * e_atom.rmse(),
        });
        let forces = (f.n > 0).then(|| ForceMetrics {
            n_atoms: f.n / 3,
            mae_ev_a: f.mae(),
            rmse_ev_a: f.rmse(),
            mae_mev_a: 1e3 * f.mae(),
            rmse_mev_a: 1e3 * f.rmse(),
            mae_kcal_mol_a: f.mae() / KCAL_PER_MOL,
            rmse_kcal_mol_a: f.rmse() / KCAL_PER_MOL,
            per_element: per_z
                .iter()
                .map(|(&z, a)| ElementForceMetrics {
                    z,
                    symbol: chemlm_atoms::elements::symbol(z).to_string(),
                    n_atoms: a.n / 3,
                    mae_mev_a: 1e3 * a.mae(),
                    rmse_mev_a: 1e3 * a.rmse(),
                })
                .collect(),
        });
        Ok(FfMetrics {
            n_structures: structures.len(),
            n_atoms,
            energy,
            forces,
        })
    }

    /// A Markdown table of the metrics (what `chemlm ff eval` prints).
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "{} structures, {} atoms\n\n| quantity | MAE | RMSE | unit |\n|---|---:|---:|---|\n",
            self.n_structures, self.n_atoms
        );
        if let Some(e) = &self.energy {
            s += &format!("| energy | {:.3} | {:.3} | meV |\n", e.mae_mev, e.rmse_mev);
            s += &format!(
                "| energy | {:.4} | {:.4} | kcal/mol |\n",
                e.mae_kcal_mol, e.rmse_kcal_mol
            );
            s += &format!(
                "| energy per atom | {:.3} | {:.3} | meV/atom |\n",
                e.mae_per_atom_mev, e.rmse_per_atom_mev
            );
        }
        if let Some(f) = &self.forces {
            s += &format!(
                "| forces | {:.3} | {:.3} | meV/Å |\n",
                f.mae_mev_a, f.rmse_mev_a
            );
            s += &format!(
                "| forces | {:.4} | {:.4} | kcal/mol/Å |\n",
                f.mae_kcal_mol_a, f.rmse_kcal_mol_a
            );
            for el in &f.per_element {
                s += &format!(
                    "| forces on {} ({} atoms) | {:.3} | {:.3} | meV/Å |\n",
                    el.symbol, el.n_atoms, el.mae_mev_a, el.rmse_mev_a
                );
            }
        }
        if self.energy.is_none() && self.forces.is_none() {
            s += "| (no labels) | | | |\n";
        }
        s
    }
}
