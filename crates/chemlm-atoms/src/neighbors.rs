//! Neighbour lists within a cutoff, with ASE's `neighbor_list("ijS", atoms, cutoff)` semantics:
//! every directed pair `(i, j, S)` with `|pos[j] - pos[i] + S · cell| < cutoff` (strictly, as
//! ASE), `S` zero along non-periodic axes, both directions present, and an atom's own periodic
//! images included (`i == j`, `S != 0`) but never the `S == 0` self pair.
//!
//! The search is a cell list (binning), O(N) for a fixed density: atoms are wrapped into the
//! cell along periodic axes, sorted into bins at least one cutoff thick (thickness measured
//! perpendicular to the cell faces, so triclinic cells are handled), and each atom only looks
//! at the bins around its own. When the cell is thinner than the cutoff, the search reaches
//! several bins (and so several images) away. Isolated molecules are binned in their bounding
//! box. Output is sorted by `i`, then `j`, then `S`, so results are reproducible and tests can
//! compare them exactly.

use crate::error::{AtomsError, Result};
use crate::graph::Graph;
use crate::structure::Structure;
use rayon::prelude::*;
use std::ops::Range;

type V3 = [f64; 3];

fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// Below this many atoms a structure is searched on one thread: the rayon hand-off would cost
/// more than the search.
const PARALLEL_MIN_ATOMS: usize = 2048;
/// Atoms per parallel work item.
const CHUNK: usize = 512;
/// Relative margin that keeps bins strictly thicker than the cutoff, so that rounding in the
/// fractional coordinates can never hide a pair one bin further away.
const BIN_MARGIN: f64 = 1e-6;

/// The geometry both searches need: which axes are periodic, the real lattice vectors (for
/// `S · cell`) and a full-rank basis used to compute fractional coordinates. Along
/// non-periodic axes the basis vector is replaced by a unit vector orthogonal to the periodic
/// ones, so a zero or degenerate vacuum axis (common in slab files) is not a problem: shifts
/// along it are always zero, so its length never matters.
struct Frame {
    periodic: [bool; 3],
    cell: [V3; 3],
    /// Reciprocal vectors of the basis (no 2π): fractional coordinate `c` is `p · recip[c]`.
    recip: [V3; 3],
    /// Distance between opposite faces of the basis cell along each axis, `1 / |recip[c]|`.
    heights: V3,
}

impl Frame {
    fn new(structure: &Structure) -> Result<Frame> {
        let (cell, periodic) = match &structure.cell {
            Some(c) if c.any_periodic() => (c.vectors, c.pbc),
            _ => {
                // No periodicity: the cell cannot influence the result; bin in Cartesian space.
                let eye = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
                return Ok(Frame {
                    periodic: [false; 3],
                    cell: [[0.0; 3]; 3],
                    recip: eye,
                    heights: [1.0; 3],
                });
            }
        };
        if cell.iter().flatten().any(|x| !x.is_finite()) {
            return Err(AtomsError::Invalid("non-finite cell vector".into()));
        }
        for (c, v) in cell.iter().enumerate() {
            if periodic[c] && norm(*v) == 0.0 {
                return Err(AtomsError::Invalid(format!(
                    "cell vector {c} is zero but periodic"
                )));
            }
        }
        let basis = complete_basis(cell, periodic);
        let det = dot(basis[0], cross(basis[1], basis[2]));
        let scale_ref = norm(basis[0]) * norm(basis[1]) * norm(basis[2]);
        if det.abs() <= 1e-10 * scale_ref {
            return Err(AtomsError::Invalid(
                "periodic cell vectors are linearly dependent".into(),
            ));
        }
        let recip = [
            scale(cross(basis[1], basis[2]), 1.0 / det),
            scale(cross(basis[2], basis[0]), 1.0 / det),
            scale(cross(basis[0], basis[1]), 1.0 / det),
        ];
        let heights = [
            1.0 / norm(recip[0]),
            1.0 / norm(recip[1]),
            1.0 / norm(recip[2]),
        ];
        Ok(Frame {
            periodic,
            cell,
            recip,
            heights,
        })
    }

    fn fractional(&self, p: V3) -> V3 {
        [
            dot(p, self.recip[0]),
            dot(p, self.recip[1]),
            dot(p, self.recip[2]),
        ]
    }

    /// `S · cell`, summed in ASE's order.
    fn offset(&self, s: [i32; 3]) -> V3 {
        let mut o = [0.0; 3];
        for (c, o) in o.iter_mut().enumerate() {
            *o = s[0] as f64 * self.cell[0][c]
                + s[1] as f64 * self.cell[1][c]
                + s[2] as f64 * self.cell[2][c];
        }
        o
    }

    /// Edge vector `pos[j] - pos[i] + S · cell` and its length, computed as ASE does.
    fn edge(&self, pi: V3, pj: V3, s: [i32; 3]) -> (V3, f64) {
        let o = self.offset(s);
        let d = [
            pj[0] - pi[0] + o[0],
            pj[1] - pi[1] + o[1],
            pj[2] - pi[2] + o[2],
        ];
        (d, (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt())
    }
}

/// Replaces the non-periodic lattice vectors by unit vectors orthogonal to the periodic ones.
fn complete_basis(cell: [V3; 3], periodic: [bool; 3]) -> [V3; 3] {
    let mut basis = cell;
    let per: Vec<usize> = (0..3).filter(|&c| periodic[c]).collect();
    let non: Vec<usize> = (0..3).filter(|&c| !periodic[c]).collect();
    match (per.as_slice(), non.as_slice()) {
        (&[a, b], &[c]) => {
            let n = cross(cell[a], cell[b]);
            let l = norm(n);
            if l > 0.0 {
                basis[c] = scale(n, 1.0 / l);
            }
        }
        (&[a], &[b, c]) => {
            let u = scale(cell[a], 1.0 / norm(cell[a]));
            // The Cartesian axis least aligned with the periodic vector.
            let mut e = [0.0; 3];
            let k = (0..3)
                .min_by(|&x, &y| u[x].abs().total_cmp(&u[y].abs()))
                .unwrap_or(0);
            e[k] = 1.0;
            let v = cross(u, e);
            let v = scale(v, 1.0 / norm(v));
            let w = cross(u, v);
            basis[b] = v;
            basis[c] = w;
        }
        _ => {}
    }
    basis
}

fn check_cutoff(cutoff: f64) -> Result<()> {
    if !(cutoff.is_finite() && cutoff > 0.0) {
        return Err(AtomsError::Invalid(format!(
            "neighbour cutoff must be positive and finite, got {cutoff}"
        )));
    }
    Ok(())
}

fn check_size(structure: &Structure) -> Result<()> {
    if structure.positions.len() != structure.numbers.len() {
        return Err(AtomsError::Invalid(format!(
            "{} atomic numbers but {} positions",
            structure.numbers.len(),
            structure.positions.len()
        )));
    }
    if structure.len() >= u32::MAX as usize {
        return Err(AtomsError::Invalid(format!(
            "{} atoms do not fit 32-bit edge indices",
            structure.len()
        )));
    }
    if structure.positions.iter().flatten().any(|x| !x.is_finite()) {
        return Err(AtomsError::Invalid("non-finite position".into()));
    }
    Ok(())
}

/// The bins of one structure, stored as a compressed list (atoms sorted by bin).
struct Bins {
    n: [i64; 3],
    /// How many bins away the search must look along each axis.
    reach: [i64; 3],
    /// Bin of each atom.
    of_atom: Vec<[i64; 3]>,
    /// `start[b]..start[b + 1]` indexes `atoms` for linear bin `b`.
    start: Vec<usize>,
    atoms: Vec<u32>,
    /// Whole cells each atom was moved by to bring it into the cell (periodic axes only).
    wrap: Vec<[i32; 3]>,
    /// Wrapped Cartesian positions, `pos - wrap · cell`, in `atoms` (bin) order so that the
    /// inner loop reads memory contiguously.
    binned_pos: Vec<V3>,
}

impl Bins {
    fn build(frame: &Frame, positions: &[V3], cutoff: f64) -> Result<Bins> {
        let n_atoms = positions.len();
        let mut frac: Vec<V3> = positions.iter().map(|&p| frame.fractional(p)).collect();
        let mut wrap = vec![[0i32; 3]; n_atoms];
        for (f, w) in frac.iter_mut().zip(wrap.iter_mut()) {
            for c in 0..3 {
                if frame.periodic[c] {
                    let k = f[c].floor();
                    if k.abs() > i32::MAX as f64 / 2.0 {
                        return Err(AtomsError::Invalid(
                            "atom lies too many cells away from the unit cell".into(),
                        ));
                    }
                    f[c] -= k;
                    w[c] = k as i32;
                }
            }
        }
        // Extent of the binned region, in fractional units, along each axis.
        let mut lo = [0.0; 3];
        let mut extent = [1.0; 3];
        for c in 0..3 {
            if !frame.periodic[c] {
                let (mn, mx) = frac
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, f| {
                        (acc.0.min(f[c]), acc.1.max(f[c]))
                    });
                lo[c] = if mn.is_finite() { mn } else { 0.0 };
                extent[c] = if mx >= mn { mx - mn } else { 0.0 };
            }
        }
        // Bins at least one cutoff thick, capped so that sparse boxes do not allocate millions
        // of empty bins.
        let mut n = [1i64; 3];
        for c in 0..3 {
            let thickness = extent[c] * frame.heights[c];
            let nb = (thickness / (cutoff * (1.0 + BIN_MARGIN))).floor();
            n[c] = nb.clamp(1.0, 1e6) as i64;
        }
        let max_bins = (2 * n_atoms).max(1) as i64;
        while n[0] * n[1] * n[2] > max_bins {
            let c = (0..3).max_by_key(|&c| n[c]).unwrap_or(0);
            n[c] = (n[c] / 2).max(1);
        }
        let mut reach = [0i64; 3];
        for c in 0..3 {
            if !frame.periodic[c] && n[c] == 1 {
                continue;
            }
            // Fractional span of a cutoff along c, in bins.
            let span = cutoff / frame.heights[c] * n[c] as f64 / extent[c];
            let r = (span + 1e-9).ceil();
            if !r.is_finite() || r > 1e6 {
                return Err(AtomsError::Invalid(format!(
                    "cutoff {cutoff} spans too many periodic images of the cell"
                )));
            }
            reach[c] = r as i64;
            if !frame.periodic[c] {
                reach[c] = reach[c].min(n[c] - 1);
            }
        }
        let of_atom: Vec<[i64; 3]> = frac
            .iter()
            .map(|f| {
                let mut b = [0i64; 3];
                for c in 0..3 {
                    if n[c] > 1 {
                        let x = ((f[c] - lo[c]) / extent[c] * n[c] as f64).floor();
                        b[c] = (x.max(0.0) as i64).min(n[c] - 1);
                    }
                }
                b
            })
            .collect();
        let n_bins = (n[0] * n[1] * n[2]) as usize;
        let mut start = vec![0usize; n_bins + 1];
        let linear = |b: [i64; 3]| (b[0] + n[0] * (b[1] + n[1] * b[2])) as usize;
        for b in &of_atom {
            start[linear(*b) + 1] += 1;
        }
        for k in 0..n_bins {
            start[k + 1] += start[k];
        }
        let mut fill = start.clone();
        let mut atoms = vec![0u32; n_atoms];
        for (i, b) in of_atom.iter().enumerate() {
            let l = linear(*b);
            atoms[fill[l]] = i as u32;
            fill[l] += 1;
        }
        let binned_pos = atoms
            .iter()
            .map(|&i| {
                let (p, o) = (positions[i as usize], frame.offset(wrap[i as usize]));
                [p[0] - o[0], p[1] - o[1], p[2] - o[2]]
            })
            .collect();
        Ok(Bins {
            n,
            reach,
            of_atom,
            start,
            atoms,
            wrap,
            binned_pos,
        })
    }

    fn linear(&self, b: [i64; 3]) -> usize {
        (b[0] + self.n[0] * (b[1] + self.n[1] * b[2])) as usize
    }
}

/// Edges of a contiguous range of centre atoms, in output order.
#[derive(Default)]
struct Part {
    i: Vec<u32>,
    j: Vec<u32>,
    s: Vec<[i32; 3]>,
}

fn search(frame: &Frame, bins: &Bins, positions: &[V3], cutoff: f64, atoms: Range<usize>) -> Part {
    let mut part = Part::default();
    let mut found: Vec<(u32, [i32; 3])> = Vec::new();
    // Candidates are screened with the wrapped positions and a slightly larger cutoff (wrapping
    // changes rounding by far less than this), then decided exactly as ASE decides: from the
    // original positions and the final shift.
    let screen = cutoff + 1e-6 + 1e-9 * cutoff;
    let screen2 = screen * screen;
    // Neighbouring bins along each axis: (bin, image shift), computed once per atom.
    let mut axis: [Vec<(i64, i32)>; 3] = Default::default();
    for i in atoms {
        let pi = positions[i];
        let bi = bins.of_atom[i];
        for c in 0..3 {
            axis[c].clear();
            let (n, r) = (bins.n[c], bins.reach[c]);
            for d in -r..=r {
                let b = bi[c] + d;
                if frame.periodic[c] {
                    axis[c].push((b.rem_euclid(n), b.div_euclid(n) as i32));
                } else if (0..n).contains(&b) {
                    axis[c].push((b, 0));
                }
            }
        }
        let wi = bins.wrap[i];
        let wrap_i = frame.offset(wi);
        let qi = [pi[0] - wrap_i[0], pi[1] - wrap_i[1], pi[2] - wrap_i[2]];
        found.clear();
        for &(bz, sz) in &axis[2] {
            for &(by, sy) in &axis[1] {
                for &(bx, sx) in &axis[0] {
                    let l = bins.linear([bx, by, bz]);
                    let range = bins.start[l]..bins.start[l + 1];
                    let o = frame.offset([sx, sy, sz]);
                    let base = [o[0] - qi[0], o[1] - qi[1], o[2] - qi[2]];
                    for (&j, q) in bins.atoms[range.clone()]
                        .iter()
                        .zip(&bins.binned_pos[range])
                    {
                        let d = [q[0] + base[0], q[1] + base[1], q[2] + base[2]];
                        if d[0] * d[0] + d[1] * d[1] + d[2] * d[2] >= screen2 {
                            continue;
                        }
                        let wj = bins.wrap[j as usize];
                        let s = [sx + wi[0] - wj[0], sy + wi[1] - wj[1], sz + wi[2] - wj[2]];
                        if j as usize == i && s == [0, 0, 0] {
                            continue;
                        }
                        if frame.edge(pi, positions[j as usize], s).1 < cutoff {
                            found.push((j, s));
                        }
                    }
                }
            }
        }
        found.sort_unstable();
        for &(j, s) in &found {
            part.i.push(i as u32);
            part.j.push(j);
            part.s.push(s);
        }
    }
    part
}

/// All directed neighbour pairs of `structure` closer than `cutoff` (Å), as ASE's
/// `neighbor_list("ijS", atoms, cutoff)` returns them, sorted by `i`, `j`, then `S`.
///
/// Periodic axes are those of `structure.cell` whose `pbc` flag is set; the cell may be
/// triclinic and thinner than the cutoff (then several images of a neighbour, and of the atom
/// itself, appear). Structures with many atoms are searched on several threads.
pub fn neighbor_list(structure: &Structure, cutoff: f64) -> Result<Graph> {
    check_cutoff(cutoff)?;
    check_size(structure)?;
    let n = structure.len();
    if n == 0 {
        return Ok(Graph::default());
    }
    let frame = Frame::new(structure)?;
    let positions = &structure.positions;
    let bins = Bins::build(&frame, positions, cutoff)?;
    let parts: Vec<Part> = if n < PARALLEL_MIN_ATOMS {
        vec![search(&frame, &bins, positions, cutoff, 0..n)]
    } else {
        let ranges: Vec<Range<usize>> = (0..n)
            .step_by(CHUNK)
            .map(|a| a..(a + CHUNK).min(n))
            .collect();
        ranges
            .into_par_iter()
            .map(|r| search(&frame, &bins, positions, cutoff, r))
            .collect()
    };
    let total: usize = parts.iter().map(|p| p.i.len()).sum();
    let mut g = Graph {
        idx_i: Vec::with_capacity(total),
        idx_j: Vec::with_capacity(total),
        shifts: Vec::with_capacity(total),
    };
    for p in parts {
        g.idx_i.extend(p.i);
        g.idx_j.extend(p.j);
        g.shifts.extend(p.s);
    }
    Ok(g)
}

/// The same result as [`neighbor_list`] by testing every pair of atoms against every image
/// that can be within the cutoff: O(N²) times the number of images. Kept as an independent
/// reference for tests and for checking the cell list on unusual inputs.
pub fn neighbor_list_brute_force(structure: &Structure, cutoff: f64) -> Result<Graph> {
    check_cutoff(cutoff)?;
    check_size(structure)?;
    let frame = Frame::new(structure)?;
    let positions = &structure.positions;
    let frac: Vec<V3> = positions.iter().map(|&p| frame.fractional(p)).collect();
    let mut g = Graph::default();
    let mut found = Vec::new();
    for (i, &pi) in positions.iter().enumerate() {
        found.clear();
        for (j, &pj) in positions.iter().enumerate() {
            // Along a periodic axis an image S is within the cutoff only if the fractional
            // separation f_j + S - f_i is within cutoff / height (plus one cell of slack).
            let mut range = [(0i64, 0i64); 3];
            for c in 0..3 {
                if frame.periodic[c] {
                    let t = cutoff / frame.heights[c];
                    let centre = frac[i][c] - frac[j][c];
                    range[c] = ((centre - t).floor() as i64, (centre + t).ceil() as i64);
                }
            }
            for sz in range[2].0..=range[2].1 {
                for sy in range[1].0..=range[1].1 {
                    for sx in range[0].0..=range[0].1 {
                        let s = [sx as i32, sy as i32, sz as i32];
                        if i == j && s == [0, 0, 0] {
                            continue;
                        }
                        if frame.edge(pi, pj, s).1 < cutoff {
                            found.push((j as u32, s));
                        }
                    }
                }
            }
        }
        found.sort_unstable();
        for &(j, s) in &found {
            g.idx_i.push(i as u32);
            g.idx_j.push(j);
            g.shifts.push(s);
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::Cell;

    fn periodic(numbers: usize, positions: Vec<V3>, vectors: [V3; 3], pbc: [bool; 3]) -> Structure {
        let mut s = Structure::new(vec![1; numbers], positions).unwrap();
        s.cell = Some(Cell { vectors, pbc });
        s
    }

    #[test]
    fn dimer_has_both_directions_and_strict_cutoff() {
        let s = Structure::new(vec![1, 1], vec![[0.0; 3], [0.0, 0.0, 1.0]]).unwrap();
        let g = neighbor_list(&s, 1.5).unwrap();
        assert_eq!(g.idx_i, vec![0, 1]);
        assert_eq!(g.idx_j, vec![1, 0]);
        assert_eq!(g.shifts, vec![[0; 3]; 2]);
        // Exactly at the cutoff is excluded, as in ASE.
        assert!(neighbor_list(&s, 1.0).unwrap().idx_i.is_empty());
    }

    #[test]
    fn single_atom_in_small_cubic_cell_sees_its_images() {
        let s = periodic(
            1,
            vec![[0.3, 0.2, 0.1]],
            [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]],
            [true; 3],
        );
        // Within 2.5 Å: the 6 face images at 2.0 Å (diagonals are 2.83 Å).
        let g = neighbor_list(&s, 2.5).unwrap();
        assert_eq!(g.idx_i.len(), 6);
        assert!(g
            .shifts
            .iter()
            .all(|s| s.iter().map(|x| x.abs()).sum::<i32>() == 1));
        // Within 4.1 Å: shifts with |S|·2 < 4.1, i.e. |S|² ≤ 4 → 6 + 12 + 8 + 6 (the ±2 axes).
        let g = neighbor_list(&s, 4.1).unwrap();
        assert_eq!(g.idx_i.len(), 32);
        assert_eq!(g, neighbor_list_brute_force(&s, 4.1).unwrap());
    }

    #[test]
    fn atoms_outside_the_cell_are_wrapped_into_shifts() {
        let v = [[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]];
        let inside = periodic(2, vec![[0.2, 0.2, 0.2], [2.8, 0.2, 0.2]], v, [true; 3]);
        let outside = periodic(2, vec![[0.2, 0.2, 0.2], [-0.2, 0.2, 6.2]], v, [true; 3]);
        let a = neighbor_list(&inside, 1.0).unwrap();
        let b = neighbor_list(&outside, 1.0).unwrap();
        assert_eq!(a.shifts, vec![[-1, 0, 0], [1, 0, 0]]);
        assert_eq!(b.shifts, vec![[0, 0, -2], [0, 0, 2]]);
    }

    #[test]
    fn zero_vacuum_axis_is_accepted_for_slabs() {
        let s = periodic(
            2,
            vec![[0.0, 0.0, 0.0], [0.5, 0.0, 5.0]],
            [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]],
            [true, true, false],
        );
        let g = neighbor_list(&s, 2.5).unwrap();
        assert_eq!(g, neighbor_list_brute_force(&s, 2.5).unwrap());
        assert!(g.shifts.iter().all(|s| s[2] == 0));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let s = Structure::new(vec![1], vec![[0.0; 3]]).unwrap();
        assert!(neighbor_list(&s, 0.0).is_err());
        assert!(neighbor_list(&s, f64::NAN).is_err());
        let flat = periodic(
            1,
            vec![[0.0; 3]],
            [[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
            [true; 3],
        );
        assert!(neighbor_list(&flat, 1.0).is_err());
        assert!(neighbor_list(&Structure::default(), 1.0)
            .unwrap()
            .idx_i
            .is_empty());
    }

    #[test]
    fn large_random_box_matches_brute_force_across_threads() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let l = 16.0;
        let pos: Vec<V3> = (0..2100)
            .map(|_| {
                [
                    rng.gen::<f64>() * l,
                    rng.gen::<f64>() * l,
                    rng.gen::<f64>() * l - 3.0,
                ]
            })
            .collect();
        let s = periodic(
            pos.len(),
            pos,
            [[l, 0.0, 0.0], [1.0, l, 0.0], [0.5, -2.0, l]],
            [true; 3],
        );
        let g = neighbor_list(&s, 2.0).unwrap();
        assert!(g.idx_i.len() > 1000);
        assert_eq!(g, neighbor_list_brute_force(&s, 2.0).unwrap());
    }
}
