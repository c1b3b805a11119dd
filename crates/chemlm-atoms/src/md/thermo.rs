//! Kinetic energy, temperature and momenta in chemlm's MD units.
//!
//! Velocities are in Å/fs (what a user reads and what extended XYZ files of chemlm carry),
//! masses in amu, energies in eV. ASE's internal time unit is Å·sqrt(amu/eV), in which
//! `E = ½mv²` holds without factors; one fs is [`FS`] of that unit, so with v in Å/fs the
//! kinetic energy is `½ m v² / FS²` and an acceleration `F/m` (eV/Å/amu) is `F/m · FS²` Å/fs².

use crate::error::{AtomsError, Result};
use crate::structure::Structure;
use crate::units::{BOLTZMANN, FS};

/// Converts `m·v²` with m in amu and v in Å/fs to eV.
pub const AMU_A2_PER_FS2_IN_EV: f64 = 1.0 / (FS * FS);

/// Atomic masses (amu, ASE's table) of a structure's atoms.
pub fn masses_of(s: &Structure) -> Result<Vec<f64>> {
    s.numbers
        .iter()
        .map(|&z| {
            let m = crate::elements::mass(z);
            if m > 0.0 && m.is_finite() {
                Ok(m)
            } else {
                Err(AtomsError::Invalid(format!(
                    "no atomic mass for atomic number {z}"
                )))
            }
        })
        .collect()
}

/// Kinetic energy in eV of velocities in Å/fs (ASE's `atoms.get_kinetic_energy()`).
pub fn kinetic_energy(masses: &[f64], velocities: &[[f64; 3]]) -> f64 {
    0.5 * AMU_A2_PER_FS2_IN_EV
        * masses
            .iter()
            .zip(velocities)
            .map(|(m, v)| m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))
            .sum::<f64>()
}

/// Instantaneous temperature in K from a kinetic energy in eV, as ASE's
/// `atoms.get_temperature()`: `2·Ekin / (3N·kB)`, counting all 3N degrees of freedom even
/// when the centre-of-mass momentum (or rotation) has been removed. That keeps chemlm's logs
/// comparable with ASE's; for an isolated molecule started with zero momentum and angular
/// momentum, the equipartition temperature of NVE is `T·3N/(3N−6)`.
pub fn temperature(ekin: f64, n_atoms: usize) -> f64 {
    if n_atoms == 0 {
        return 0.0;
    }
    2.0 * ekin / (3.0 * n_atoms as f64 * BOLTZMANN)
}

/// Total momentum `Σ m v` in amu·Å/fs.
pub fn total_momentum(masses: &[f64], velocities: &[[f64; 3]]) -> [f64; 3] {
    let mut p = [0.0; 3];
    for (m, v) in masses.iter().zip(velocities) {
        for k in 0..3 {
            p[k] += m * v[k];
        }
    }
    p
}

/// Centre of mass in Å.
pub fn center_of_mass(masses: &[f64], positions: &[[f64; 3]]) -> [f64; 3] {
    let mut c = [0.0; 3];
    let mut mtot = 0.0;
    for (m, r) in masses.iter().zip(positions) {
        mtot += m;
        for k in 0..3 {
            c[k] += m * r[k];
        }
    }
    if mtot > 0.0 {
        c.iter_mut().for_each(|x| *x /= mtot);
    }
    c
}

/// Angular momentum about the centre of mass, `Σ (r − R) × m v`, in amu·Å²/fs.
pub fn angular_momentum(
    masses: &[f64],
    positions: &[[f64; 3]],
    velocities: &[[f64; 3]],
) -> [f64; 3] {
    let com = center_of_mass(masses, positions);
    let mut l = [0.0; 3];
    for ((m, r), v) in masses.iter().zip(positions).zip(velocities) {
        let d = sub(*r, com);
        let c = cross(d, [m * v[0], m * v[1], m * v[2]]);
        for k in 0..3 {
            l[k] += c[k];
        }
    }
    l
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinetic_energy_in_ev() {
        // One argon atom (39.948 amu) at 0.01 Å/fs: ½·39.948·(0.01/FS)² eV, with FS converting
        // fs to ASE time; 1 Å/fs = 1e5 m/s, so this is 1000 m/s.
        let e = kinetic_energy(&[39.948], &[[0.01, 0.0, 0.0]]);
        let si = 0.5 * 39.948 * 1.660_539_040e-27 * 1000.0f64.powi(2) / 1.602_176_620_8e-19;
        assert!((e - si).abs() < 1e-9 * si, "{e} vs {si}");
        assert!((temperature(1.5 * BOLTZMANN * 300.0, 1) - 300.0).abs() < 1e-9);
    }
}
