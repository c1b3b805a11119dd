//! Lennard-Jones pair potential, written to give exactly the numbers of ASE's
//! `ase.calculators.lj.LennardJones`, so that the integrators can be checked against ASE's
//! dynamics to round-off.

use super::calculator::Calculator;
use crate::error::{AtomsError, Result};
use crate::neighbors::neighbor_list;
use crate::structure::{Cell, Structure};

/// How the pair energy is brought to zero at the cutoff (ASE's `smooth` flag).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LjCutoff {
    /// ASE `smooth=False`: `u(r) - u(rc)` inside the cutoff. The energy is continuous, the
    /// forces jump to zero at `rc`, so energy is only conserved while no pair crosses `rc`.
    Shifted,
    /// ASE `smooth=True`: `u(r)·fc(r²)` with the C¹ switch of jax-md/HOOMD between `onset`
    /// and `rc` (both in Å; ASE's default onset is `0.66·rc`). Energy and forces continuous.
    Smooth {
        /// Onset radius `ro` in Å, below which the switch is 1.
        onset: f64,
    },
}

/// `u(r) = 4ε((σ/r)¹² − (σ/r)⁶)` summed over pairs closer than `cutoff`. Isolated structures
/// enumerate all pairs directly (O(N²), exact and independent of the neighbour list: this
/// calculator exists to test integrators); periodic ones go through [`neighbor_list`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LennardJones {
    /// Well depth ε in eV.
    pub epsilon: f64,
    /// Zero crossing σ in Å (the minimum is at 2^(1/6)·σ).
    pub sigma: f64,
    /// Cutoff radius `rc` in Å (ASE's default is `3σ`).
    pub cutoff: f64,
    /// Treatment of the cutoff.
    pub mode: LjCutoff,
}

impl LennardJones {
    /// ASE's defaults for given ε and σ: `rc = 3σ`, shifted energy (`smooth=False`).
    pub fn new(epsilon: f64, sigma: f64) -> Self {
        LennardJones {
            epsilon,
            sigma,
            cutoff: 3.0 * sigma,
            mode: LjCutoff::Shifted,
        }
    }

    /// ASE's smooth mode with its default onset `0.66·rc`.
    pub fn smooth(epsilon: f64, sigma: f64, cutoff: f64) -> Self {
        LennardJones {
            epsilon,
            sigma,
            cutoff,
            mode: LjCutoff::Smooth {
                onset: 0.66 * cutoff,
            },
        }
    }

    fn check(&self) -> Result<()> {
        let ok = self.epsilon.is_finite()
            && self.sigma > 0.0
            && self.cutoff > 0.0
            && self.cutoff.is_finite()
            && match self.mode {
                LjCutoff::Shifted => true,
                LjCutoff::Smooth { onset } => onset >= 0.0 && onset < self.cutoff,
            };
        if ok {
            Ok(())
        } else {
            Err(AtomsError::Invalid(format!(
                "Lennard-Jones parameters out of range: {self:?}"
            )))
        }
    }

    /// Pair energy and `g = (du/dr)/r` at squared distance `r2` (zero beyond the cutoff), so
    /// that the force on `i` from `j` is `g·(r_j − r_i)`.
    fn pair(&self, r2: f64) -> (f64, f64) {
        let rc2 = self.cutoff * self.cutoff;
        if r2 > rc2 {
            return (0.0, 0.0);
        }
        let eps = self.epsilon;
        let c6 = (self.sigma * self.sigma / r2).powi(3);
        let c12 = c6 * c6;
        let u = 4.0 * eps * (c12 - c6);
        let g = -24.0 * eps * (2.0 * c12 - c6) / r2;
        match self.mode {
            LjCutoff::Shifted => {
                let sr6 = (self.sigma / self.cutoff).powi(6);
                let u_rc = 4.0 * eps * (sr6 * sr6 - sr6);
                (u - u_rc, g)
            }
            LjCutoff::Smooth { onset } => {
                let ro2 = onset * onset;
                if r2 < ro2 {
                    (u, g)
                } else {
                    // Switch and its derivative with respect to r², as in ASE; the factor 2
                    // turns d/d(r²) into (d/dr)/r.
                    let denom = (rc2 - ro2).powi(3);
                    let fc = (rc2 - r2).powi(2) * (rc2 + 2.0 * r2 - 3.0 * ro2) / denom;
                    let dfc = 6.0 * (rc2 - r2) * (ro2 - r2) / denom;
                    (u * fc, g * fc + 2.0 * dfc * u)
                }
            }
        }
    }
}

impl LennardJones {
    /// Isolated structure: every pair once.
    fn compute_isolated(&self, s: &Structure) -> Result<(f64, Vec<[f64; 3]>)> {
        let pos = &s.positions;
        let mut energy = 0.0;
        let mut forces = vec![[0.0; 3]; pos.len()];
        for i in 0..pos.len() {
            for j in i + 1..pos.len() {
                let d = [
                    pos[j][0] - pos[i][0],
                    pos[j][1] - pos[i][1],
                    pos[j][2] - pos[i][2],
                ];
                let (u, g) = self.pair_checked(d, i, j)?;
                energy += u;
                for k in 0..3 {
                    forces[i][k] += g * d[k];
                    forces[j][k] -= g * d[k];
                }
            }
        }
        Ok((energy, forces))
    }

    /// Periodic structure: ASE's scheme on the directed neighbour list (both directions of a
    /// pair present, half the pair energy to each, the force on the centre atom only).
    fn compute_periodic(&self, s: &Structure, cell: &Cell) -> Result<(f64, Vec<[f64; 3]>)> {
        let graph = neighbor_list(s, self.cutoff)?;
        let pos = &s.positions;
        let mut energy = 0.0;
        let mut forces = vec![[0.0; 3]; pos.len()];
        for ((&i, &j), shift) in graph.idx_i.iter().zip(&graph.idx_j).zip(&graph.shifts) {
            let (i, j) = (i as usize, j as usize);
            let mut d = [
                pos[j][0] - pos[i][0],
                pos[j][1] - pos[i][1],
                pos[j][2] - pos[i][2],
            ];
            for (&n, lattice) in shift.iter().zip(&cell.vectors) {
                for (dk, lk) in d.iter_mut().zip(lattice) {
                    *dk += f64::from(n) * lk;
                }
            }
            let (u, g) = self.pair_checked(d, i, j)?;
            energy += 0.5 * u;
            for k in 0..3 {
                forces[i][k] += g * d[k];
            }
        }
        Ok((energy, forces))
    }

    fn pair_checked(&self, d: [f64; 3], i: usize, j: usize) -> Result<(f64, f64)> {
        let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if r2 == 0.0 {
            return Err(AtomsError::Invalid(format!(
                "atoms {i} and {j} sit on the same position"
            )));
        }
        Ok(self.pair(r2))
    }
}

impl Calculator for LennardJones {
    fn compute(&mut self, s: &Structure) -> Result<(f64, Vec<[f64; 3]>)> {
        self.check()?;
        match &s.cell {
            Some(cell) if cell.any_periodic() => self.compute_periodic(s, cell),
            _ => self.compute_isolated(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Structure {
        // Seven atoms at irregular positions around 1.1σ apart (σ = 3.4 Å), some pairs inside
        // the smooth switch region [0.66 rc, rc].
        let p = vec![
            [0.0, 0.0, 0.0],
            [3.7, 0.2, -0.1],
            [1.9, 3.3, 0.3],
            [1.8, 1.1, 3.2],
            [-3.5, 0.8, 0.6],
            [7.2, 1.0, 0.4],
            [0.4, -3.9, 1.1],
        ];
        Structure::new(vec![18; p.len()], p).unwrap()
    }

    #[allow(clippy::needless_range_loop)]
    fn check_forces(mut lj: LennardJones) {
        let s = cluster();
        let (_, forces) = lj.compute(&s).unwrap();
        let h = 1e-5;
        for i in 0..s.len() {
            for k in 0..3 {
                let mut plus = s.clone();
                plus.positions[i][k] += h;
                let mut minus = s.clone();
                minus.positions[i][k] -= h;
                let fd =
                    -(lj.compute(&plus).unwrap().0 - lj.compute(&minus).unwrap().0) / (2.0 * h);
                assert!(
                    (fd - forces[i][k]).abs() < 1e-8,
                    "{:?} atom {i} dim {k}: analytic {} vs finite difference {fd}",
                    lj.mode,
                    forces[i][k]
                );
            }
        }
    }

    #[test]
    fn forces_are_minus_energy_gradient() {
        check_forces(LennardJones::new(0.0104, 3.4));
        check_forces(LennardJones::smooth(0.0104, 3.4, 8.0));
    }

    #[test]
    fn pair_minimum_and_cutoff() {
        let lj = LennardJones {
            cutoff: 1e6,
            ..LennardJones::new(0.5, 2.0)
        };
        let rmin: f64 = 2f64.powf(1.0 / 6.0) * 2.0;
        let (u, g) = lj.pair(rmin * rmin);
        assert!((u + 0.5).abs() < 1e-12 && g.abs() < 1e-12);
        let shifted = LennardJones::new(0.5, 2.0);
        let (u, g) = shifted.pair(36.0 - 1e-12);
        assert!(u.abs() < 1e-12 && g != 0.0);
        assert_eq!(shifted.pair(36.0 + 1e-9), (0.0, 0.0));
        let smooth = LennardJones::smooth(0.5, 2.0, 6.0);
        let (u, g) = smooth.pair(36.0 - 1e-9);
        assert!(u.abs() < 1e-12 && g.abs() < 1e-9);
    }

    #[test]
    fn rejects_overlapping_atoms() {
        let mut lj = LennardJones::new(0.01, 3.4);
        let mut s = cluster();
        s.positions[1] = s.positions[0];
        assert!(lj.compute(&s).is_err());
    }

    #[test]
    fn periodic_equals_isolated_in_a_big_box() {
        // A box much larger than the cluster plus the cutoff: the periodic path (neighbour
        // list, half energies) must give the isolated result.
        for lj in [
            LennardJones::new(0.0104, 3.4),
            LennardJones::smooth(0.0104, 3.4, 8.0),
        ] {
            let mut lj = lj;
            let s = cluster();
            let (e0, f0) = lj.compute(&s).unwrap();
            let mut p = s.clone();
            p.cell = Some(Cell::periodic([
                [60.0, 0.0, 0.0],
                [0.0, 60.0, 0.0],
                [0.0, 0.0, 60.0],
            ]));
            let (e1, f1) = lj.compute(&p).unwrap();
            assert!((e0 - e1).abs() < 1e-12);
            for (a, b) in f0.iter().zip(&f1) {
                for k in 0..3 {
                    assert!((a[k] - b[k]).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn fcc_crystal_has_zero_forces_and_known_energy() {
        // Primitive fcc cell with one atom, nearest-neighbour distance 2^(1/6)σ: by symmetry
        // no force; with a 2.5σ cutoff the shifted energy per atom is a finite shell sum.
        let (eps, sigma) = (0.0104, 3.4);
        let a = 2f64.powf(1.0 / 6.0) * sigma * 2f64.sqrt();
        let h = a / 2.0;
        let mut s = Structure::new(vec![18], vec![[0.0; 3]]).unwrap();
        s.cell = Some(Cell::periodic([[0.0, h, h], [h, 0.0, h], [h, h, 0.0]]));
        let mut lj = LennardJones {
            cutoff: 2.5 * sigma,
            ..LennardJones::new(eps, sigma)
        };
        let (e, f) = lj.compute(&s).unwrap();
        assert!(f[0].iter().all(|x| x.abs() < 1e-12), "{f:?}");
        // Shells of fcc within 2.5σ = 2.227 r_nn: r/r_nn = 1, √2, √3, 2 with 12, 6, 24, 12 atoms.
        let rnn = 2f64.powf(1.0 / 6.0) * sigma;
        let mut expect = 0.0;
        for (mult, count) in [(1.0, 12.0), (2.0, 6.0), (3.0, 24.0), (4.0, 12.0)] {
            expect += 0.5 * count * lj.pair(mult * rnn * rnn).0;
        }
        assert!((e - expect).abs() < 1e-12, "{e} vs {expect}");
    }
}
