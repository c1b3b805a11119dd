//! Starting velocities: Maxwell–Boltzmann sampling and ASE's `Stationary`, `ZeroRotation` and
//! `force_temperature`, with ASE's conventions (temperatures over 3N degrees of freedom,
//! removal of momentum or rotation followed by a rescale back to the previous temperature).

use super::rng::{GaussianRng, STREAM_VELOCITIES};
use super::thermo::{
    angular_momentum, center_of_mass, cross, kinetic_energy, sub, temperature, total_momentum,
};
use crate::error::{AtomsError, Result};
use crate::units::{BOLTZMANN, FS};
use serde::{Deserialize, Serialize};

/// How to draw starting velocities (ASE: `MaxwellBoltzmannDistribution` / `thermalize_momenta`
/// followed by `Stationary` and `ZeroRotation`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VelocityInit {
    /// Target temperature in K.
    pub temperature_k: f64,
    /// Remove the centre-of-mass momentum, then rescale to the sampled temperature (ASE's
    /// `Stationary(atoms)` with `preserve_temperature=True`).
    pub stationary: bool,
    /// Remove the rigid rotation about the centre of mass, then rescale (ASE's
    /// `ZeroRotation(atoms)`); meant for isolated molecules.
    pub zero_rotation: bool,
    /// Rescale the sample so that its temperature is exactly `temperature_k` (ASE's
    /// `force_temp=True` / `exact_temperature=True`).
    pub exact_temperature: bool,
}

impl VelocityInit {
    /// The usual start of a molecular run: sample at `temperature_k`, no drift, no spin, not
    /// rescaled.
    pub fn molecule(temperature_k: f64) -> Self {
        VelocityInit {
            temperature_k,
            stationary: true,
            zero_rotation: true,
            exact_temperature: false,
        }
    }
}

/// Velocities (Å/fs) drawn from the Maxwell–Boltzmann distribution at `init.temperature_k`
/// for atoms of the given masses (amu), seeded, then adjusted as `init` asks.
///
/// `positions` are needed only for `zero_rotation`. Each component is `ξ·sqrt(kT/m)`, with ξ
/// standard normal, as in ASE.
pub fn maxwell_boltzmann(
    masses: &[f64],
    positions: &[[f64; 3]],
    init: &VelocityInit,
    seed: u64,
) -> Result<Vec<[f64; 3]>> {
    if !(init.temperature_k >= 0.0 && init.temperature_k.is_finite()) {
        return Err(AtomsError::Invalid(format!(
            "temperature must be finite and >= 0 K, got {}",
            init.temperature_k
        )));
    }
    if masses.len() != positions.len() {
        return Err(AtomsError::Invalid(format!(
            "{} masses but {} positions",
            masses.len(),
            positions.len()
        )));
    }
    let kt = BOLTZMANN * init.temperature_k;
    let mut rng = GaussianRng::new(seed, STREAM_VELOCITIES);
    let mut v: Vec<[f64; 3]> = masses
        .iter()
        .map(|&m| {
            // sqrt(kT/m) is in Å per ASE time unit; FS converts to Å/fs.
            let s = (kt / m).sqrt() * FS;
            [s * rng.normal(), s * rng.normal(), s * rng.normal()]
        })
        .collect();
    if init.exact_temperature {
        force_temperature(masses, &mut v, init.temperature_k);
    }
    if init.stationary {
        stationary(masses, &mut v, true);
    }
    if init.zero_rotation {
        zero_rotation(masses, positions, &mut v, true);
    }
    Ok(v)
}

/// Rescales velocities so that their temperature (3N degrees of freedom) is `temperature_k`.
/// A zero target zeroes them; velocities that are all zero stay zero (there is no direction
/// to scale; ASE would produce NaN here).
pub fn force_temperature(masses: &[f64], velocities: &mut [[f64; 3]], temperature_k: f64) {
    let current = temperature(kinetic_energy(masses, velocities), velocities.len());
    let scale = if temperature_k > 1e-12 && current > 0.0 {
        (temperature_k / current).sqrt()
    } else {
        0.0
    };
    velocities.iter_mut().flatten().for_each(|x| *x *= scale);
}

/// Removes the centre-of-mass velocity (ASE's `Stationary`); with `preserve_temperature` the
/// result is rescaled to the temperature it had before.
pub fn stationary(masses: &[f64], velocities: &mut [[f64; 3]], preserve_temperature: bool) {
    let t0 = temperature(kinetic_energy(masses, velocities), velocities.len());
    let p = total_momentum(masses, velocities);
    let mtot: f64 = masses.iter().sum();
    if mtot > 0.0 {
        let v0 = [p[0] / mtot, p[1] / mtot, p[2] / mtot];
        for v in velocities.iter_mut() {
            *v = sub(*v, v0);
        }
    }
    if preserve_temperature {
        force_temperature(masses, velocities, t0);
    }
}

/// Removes the rigid rotation about the centre of mass (ASE's `ZeroRotation`): the angular
/// velocity `ω = I⁻¹L` is found in the principal axes of the inertia tensor (axes with zero
/// moment, as for a linear molecule, get no rotation), and `ω × (r − R)` is subtracted.
pub fn zero_rotation(
    masses: &[f64],
    positions: &[[f64; 3]],
    velocities: &mut [[f64; 3]],
    preserve_temperature: bool,
) {
    let t0 = temperature(kinetic_energy(masses, velocities), velocities.len());
    let com = center_of_mass(masses, positions);
    let mut inertia = [[0.0; 3]; 3];
    for (m, r) in masses.iter().zip(positions) {
        let [x, y, z] = sub(*r, com);
        inertia[0][0] += m * (y * y + z * z);
        inertia[1][1] += m * (x * x + z * z);
        inertia[2][2] += m * (x * x + y * y);
        inertia[0][1] -= m * x * y;
        inertia[0][2] -= m * x * z;
        inertia[1][2] -= m * y * z;
    }
    inertia[1][0] = inertia[0][1];
    inertia[2][0] = inertia[0][2];
    inertia[2][1] = inertia[1][2];
    let l = angular_momentum(masses, positions, velocities);
    let (moments, axes) = symmetric_eigen3(inertia);
    let largest = moments.iter().cloned().fold(0.0, f64::max);
    let mut omega = [0.0; 3];
    for (ip, axis) in moments.iter().zip(axes.iter()) {
        if *ip > 1e-10 * largest {
            let lp = axis[0] * l[0] + axis[1] * l[1] + axis[2] * l[2];
            for k in 0..3 {
                omega[k] += lp / ip * axis[k];
            }
        }
    }
    for (v, r) in velocities.iter_mut().zip(positions) {
        *v = sub(*v, cross(omega, sub(*r, com)));
    }
    if preserve_temperature {
        force_temperature(masses, velocities, t0);
    }
}

/// Eigenvalues and unit eigenvectors (rows) of a symmetric 3×3 matrix by cyclic Jacobi
/// rotations; exact to round-off for the well-conditioned inertia tensors met here.
fn symmetric_eigen3(mut a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    // v accumulates the rotations; its columns are the eigenvectors.
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _sweep in 0..50 {
        let off = a[0][1].powi(2) + a[0][2].powi(2) + a[1][2].powi(2);
        let diag = a[0][0].powi(2) + a[1][1].powi(2) + a[2][2].powi(2);
        if off <= 1e-30 * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            // a ← Jᵀ a J with the Givens rotation J in the (p, q) plane.
            for row in a.iter_mut() {
                let (x, y) = (row[p], row[q]);
                row[p] = c * x - s * y;
                row[q] = s * x + c * y;
            }
            let (rp, rq) = (a[p], a[q]);
            a[p] = std::array::from_fn(|k| c * rp[k] - s * rq[k]);
            a[q] = std::array::from_fn(|k| s * rp[k] + c * rq[k]);
            for row in v.iter_mut() {
                let vkp = row[p];
                let vkq = row[q];
                row[p] = c * vkp - s * vkq;
                row[q] = s * vkp + c * vkq;
            }
        }
    }
    let values = [a[0][0], a[1][1], a[2][2]];
    let vectors = [
        [v[0][0], v[1][0], v[2][0]],
        [v[0][1], v[1][1], v[2][1]],
        [v[0][2], v[1][2], v[2][2]],
    ];
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises() {
        let m = [[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [-2.0, 0.5, 6.0]];
        let (vals, vecs) = symmetric_eigen3(m);
        for (lam, x) in vals.iter().zip(vecs.iter()) {
            let norm = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt();
            assert!((norm - 1.0).abs() < 1e-12);
            for i in 0..3 {
                let mx = m[i][0] * x[0] + m[i][1] * x[1] + m[i][2] * x[2];
                assert!((mx - lam * x[i]).abs() < 1e-10, "{mx} vs {}", lam * x[i]);
            }
        }
        let trace: f64 = vals.iter().sum();
        assert!((trace - 13.0).abs() < 1e-12);
    }
}
