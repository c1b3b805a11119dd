//! The energy reference and scale fitted on the training set before training (schnetpack's
//! `estimate_atomrefs` + `get_statistics(divide_by_atoms=True)`).
//!
//! Per-element references e_ref[Z] solve the least-squares problem E_s ≈ Σ_Z c_sZ e_ref[Z] over
//! the training structures (c_sZ: number of atoms of element Z in s). A data set with a single
//! composition (MD17: every frame is the same molecule) makes the system rank-deficient — only
//! Σ_Z c_Z e_ref[Z] is determined. We take the **minimum-norm** least-squares solution
//! (pseudo-inverse of the normal matrix through its eigendecomposition, eigenvalues below
//! 1e-9 · λ_max treated as zero): for one composition c it is e_ref = c · Ē / |c|², which
//! reproduces the mean energy exactly, so the per-atom residuals (E_s − Σ c_sZ e_ref[Z]) / n_s
//! have mean μ ≈ 0 and their spread is the conformational one. With several compositions the
//! solution is the ordinary least-squares one wherever the data determine it.

use super::config::ScaleMode;
use crate::error::{FfError, FfResult};
use crate::scale::{EnergyScale, N_ELEMENTS};
use chemlm_atoms::Structure;
use serde::{Deserialize, Serialize};

/// Relative eigenvalue cut-off of the pseudo-inverse.
const RANK_TOL: f64 = 1e-9;

/// The fitted scale and what went into it (logged in the run directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyFit {
    /// Reference, mean and scale to set on the model.
    pub scale: EnergyScale,
    /// Elements present in the training set, ascending.
    pub elements: Vec<u8>,
    /// Rank of the element-count matrix (< `elements.len()` when rank-deficient).
    pub rank: usize,
    /// Structures the fit used.
    pub n_structures: usize,
    /// How σ was chosen.
    pub scale_mode: ScaleMode,
    /// Standard deviation of the per-atom residual energy (eV), whatever the mode.
    pub per_atom_residual_std: f64,
    /// RMS of the training force components (eV/Å), when forces are present.
    pub force_rms: Option<f64>,
}

/// Fits e_ref, μ and σ on `structures` (each must have an energy). σ follows `mode`; a
/// degenerate σ (one structure, or no spread) falls back to 1 so training can still start.
pub fn fit_energy_scale(structures: &[&Structure], mode: ScaleMode) -> FfResult<EnergyFit> {
    if structures.is_empty() {
        return Err(FfError::Invalid(
            "cannot fit an energy reference on no structures".into(),
        ));
    }
    let energies: Vec<f64> = structures
        .iter()
        .enumerate()
        .map(|(k, s)| {
            s.energy
                .ok_or_else(|| FfError::Invalid(format!("training structure {k} has no energy")))
        })
        .collect::<FfResult<_>>()?;
    let (atomref, elements, rank) = fit_atomref(structures, &energies)?;
    let residuals: Vec<f64> = structures
        .iter()
        .zip(&energies)
        .map(|(s, e)| {
            let reference: f64 = s.numbers.iter().map(|&z| atomref[z as usize]).sum();
            (e - reference) / s.len().max(1) as f64
        })
        .collect();
    let (mean, std) = mean_std(&residuals);
    let force_rms = force_rms(structures);
    let sigma = match mode {
        ScaleMode::PerAtomEnergyStd => std,
        ScaleMode::ForceRms => force_rms.unwrap_or(f64::NAN),
        ScaleMode::None => 1.0,
    };
    let sigma = if sigma.is_finite() && sigma > 1e-12 {
        sigma
    } else {
        1.0
    };
    Ok(EnergyFit {
        scale: EnergyScale {
            atomref,
            mean,
            std: sigma,
        },
        elements,
        rank,
        n_structures: structures.len(),
        scale_mode: mode,
        per_atom_residual_std: std,
        force_rms,
    })
}

/// Minimum-norm least-squares per-element energies (length [`N_ELEMENTS`], zero for absent
/// elements), the elements present and the rank of the count matrix.
pub fn fit_atomref(
    structures: &[&Structure],
    energies: &[f64],
) -> FfResult<(Vec<f64>, Vec<u8>, usize)> {
    let mut present = [false; N_ELEMENTS];
    for s in structures {
        for &z in &s.numbers {
            *present
                .get_mut(z as usize)
                .ok_or_else(|| FfError::Invalid(format!("atomic number {z} out of range")))? = true;
        }
    }
    let elements: Vec<u8> = (0..N_ELEMENTS as u8)
        .filter(|&z| present[z as usize])
        .collect();
    let k = elements.len();
    let mut col = [usize::MAX; N_ELEMENTS];
    for (c, &z) in elements.iter().enumerate() {
        col[z as usize] = c;
    }
    // Normal equations M x = r with M = AᵀA, r = Aᵀb; k is the number of elements (small).
    let mut m = vec![vec![0.0f64; k]; k];
    let mut r = vec![0.0f64; k];
    let mut counts = vec![0.0f64; k];
    for (s, &e) in structures.iter().zip(energies) {
        counts.iter_mut().for_each(|c| *c = 0.0);
        for &z in &s.numbers {
            counts[col[z as usize]] += 1.0;
        }
        for a in 0..k {
            r[a] += counts[a] * e;
            for b in 0..k {
                m[a][b] += counts[a] * counts[b];
            }
        }
    }
    let (eigvals, eigvecs) = symmetric_eigen(m);
    let lmax = eigvals.iter().cloned().fold(0.0, f64::max);
    let mut x = vec![0.0f64; k];
    let mut rank = 0;
    for (i, &l) in eigvals.iter().enumerate() {
        if l > RANK_TOL * lmax && l > 0.0 {
            rank += 1;
            let proj: f64 = (0..k).map(|a| eigvecs[a][i] * r[a]).sum::<f64>() / l;
            for (a, xa) in x.iter_mut().enumerate() {
                *xa += proj * eigvecs[a][i];
            }
        }
    }
    let mut atomref = vec![0.0; N_ELEMENTS];
    for (c, &z) in elements.iter().enumerate() {
        atomref[z as usize] = x[c];
    }
    Ok((atomref, elements, rank))
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations:
/// exact to rounding for the few-by-few normal matrices here, no linear-algebra dependency.
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v = vec![vec![0.0; n]; n];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (0..n).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[p][q] * a[p][q])
            .sum();
        let diag: f64 = (0..n).map(|p| a[p][p] * a[p][p]).sum();
        if off <= 1e-30 * diag.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                let (row_p, row_q) = (a[p].clone(), a[q].clone());
                a[p] = row_p
                    .iter()
                    .zip(&row_q)
                    .map(|(x, y)| c * x - s * y)
                    .collect();
                a[q] = row_p
                    .iter()
                    .zip(&row_q)
                    .map(|(x, y)| s * x + c * y)
                    .collect();
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

fn mean_std(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn force_rms(structures: &[&Structure]) -> Option<f64> {
    let mut sum = 0.0;
    let mut n = 0usize;
    for s in structures {
        let f = s.forces.as_ref()?;
        sum += f.iter().flatten().map(|v| v * v).sum::<f64>();
        n += 3 * f.len();
    }
    (n > 0).then(|| (sum / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mol(numbers: &[u8], energy: f64) -> Structure {
        let positions = (0..numbers.len()).map(|i| [i as f64, 0.0, 0.0]).collect();
        let mut s = Structure::new(numbers.to_vec(), positions).unwrap();
        s.energy = Some(energy);
        s
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        let (vals, vecs) = symmetric_eigen(vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
        let mut sorted = vals.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - 1.0).abs() < 1e-12 && (sorted[1] - 3.0).abs() < 1e-12);
        for i in 0..2 {
            let av0 = 2.0 * vecs[0][i] + vecs[1][i];
            assert!((av0 - vals[i] * vecs[0][i]).abs() < 1e-12);
        }
    }

    /// One composition: the minimum-norm reference reproduces the mean energy, μ ≈ 0 and σ is
    /// the per-atom spread.
    #[test]
    fn single_composition_is_min_norm() {
        let s: Vec<Structure> = [-10.0, -12.0, -11.0]
            .iter()
            .map(|&e| mol(&[1, 1, 8], e))
            .collect();
        let refs: Vec<&Structure> = s.iter().collect();
        let fit = fit_energy_scale(&refs, ScaleMode::PerAtomEnergyStd).unwrap();
        assert_eq!(fit.rank, 1);
        assert_eq!(fit.elements, vec![1, 8]);
        // c = (2, 1), Ē = −11: e_ref = c Ē / 5.
        assert!((fit.scale.atomref[1] + 4.4).abs() < 1e-9);
        assert!((fit.scale.atomref[8] + 2.2).abs() < 1e-9);
        assert!(fit.scale.mean.abs() < 1e-9);
        let expected_std = (2.0f64 / 3.0).sqrt() / 3.0;
        assert!(
            (fit.scale.std - expected_std).abs() < 1e-9,
            "{}",
            fit.scale.std
        );
    }
}
