//! How one force call scales with system size: a structure is put in a periodic box and
//! replicated n×n×n times, and each size gets a timed energy+force call (neighbour list
//! included, as in MD) and its peak memory. Linear growth in both is what a local potential
//! with an O(N) cell list must show.

use crate::error::{FfError, FfResult};
use crate::potential::Potential;
use crate::train::predict::predict_batch;
use candle_core::{DType, Device};
use chemlm_atoms::{neighbor_list, Cell, GraphBatch, Structure};
use serde::Serialize;
use std::time::Instant;

/// One system size.
#[derive(Debug, Clone, Serialize)]
pub struct SizePoint {
    /// Replications per axis.
    pub reps: usize,
    /// Atoms in the box.
    pub n_atoms: usize,
    /// Directed edges within the cutoff.
    pub n_edges: usize,
    /// Median wall time of one call (neighbour list + energy + forces), s.
    pub median_s: f64,
    /// Median time per atom, µs.
    pub us_per_atom: f64,
    /// Peak resident memory during the calls, MiB (Linux; `None` elsewhere).
    pub peak_rss_mib: Option<f64>,
    /// Peak memory above the resident size before the calls, MiB.
    pub extra_rss_mib: Option<f64>,
}

/// `molecule` in a cubic periodic cell of edge `edge` Å (its centre of geometry at the cell's
/// centre), replicated `reps` times along each axis.
pub fn replicated_box(molecule: &Structure, edge: f64, reps: usize) -> FfResult<Structure> {
    if edge.is_nan() || edge <= 0.0 || reps == 0 {
        return Err(FfError::Invalid(format!(
            "box edge must be > 0 and reps >= 1 (got {edge} Å, {reps})"
        )));
    }
    let n = molecule.len() as f64;
    let mut centre = [0.0; 3];
    for p in &molecule.positions {
        for k in 0..3 {
            centre[k] += p[k] / n;
        }
    }
    let mut numbers = Vec::with_capacity(molecule.len() * reps.pow(3));
    let mut positions = Vec::with_capacity(numbers.capacity());
    for a in 0..reps {
        for b in 0..reps {
            for c in 0..reps {
                let shift = [a as f64 * edge, b as f64 * edge, c as f64 * edge];
                for (z, p) in molecule.numbers.iter().zip(&molecule.positions) {
                    numbers.push(*z);
                    positions.push([
                        p[0] - centre[0] + 0.5 * edge + shift[0],
                        p[1] - centre[1] + 0.5 * edge + shift[1],
                        p[2] - centre[2] + 0.5 * edge + shift[2],
                    ]);
                }
            }
        }
    }
    let l = edge * reps as f64;
    let mut s = Structure::new(numbers, positions)?;
    s.cell = Some(Cell::periodic([
        [l, 0.0, 0.0],
        [0.0, l, 0.0],
        [0.0, 0.0, l],
    ]));
    Ok(s)
}

fn rss_mib(field: &str) -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the kernel's peak-RSS counter of this process (Linux `clear_refs` = 5).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Times `rounds` force calls for each replication count (after one warm-up call).
pub fn size_scaling(
    model: &dyn Potential,
    molecule: &Structure,
    edge: f64,
    reps: &[usize],
    rounds: usize,
    dtype: DType,
    device: &Device,
) -> FfResult<Vec<SizePoint>> {
    let mut out = Vec::new();
    for &r in reps {
        let s = replicated_box(molecule, edge, r)?;
        let call = || -> FfResult<usize> {
            let g = neighbor_list(&s, model.cutoff())?;
            let n_edges = g.len();
            let batch = GraphBatch::collate(&[(&s, &g)])?;
            predict_batch(model, &batch, dtype, device)?;
            Ok(n_edges)
        };
        call()?;
        let base = rss_mib("VmRSS:");
        let peak_ok = reset_peak();
        let mut times = Vec::with_capacity(rounds);
        let mut n_edges = 0;
        for _ in 0..rounds.max(1) {
            let t0 = Instant::now();
            n_edges = call()?;
            times.push(t0.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let peak = if peak_ok { rss_mib("VmHWM:") } else { None };
        out.push(SizePoint {
            reps: r,
            n_atoms: s.len(),
            n_edges,
            median_s: median,
            us_per_atom: median / s.len() as f64 * 1e6,
            peak_rss_mib: peak,
            extra_rss_mib: peak.zip(base).map(|(p, b)| p - b),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_keeps_molecules_whole_and_counts_atoms() {
        let m = Structure::new(
            vec![8, 1, 1],
            vec![[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]],
        )
        .expect("water");
        let b = replicated_box(&m, 6.0, 3).expect("box");
        assert_eq!(b.len(), 81);
        let cell = b.cell.expect("cell");
        assert_eq!(cell.vectors[0][0], 18.0);
        // Every copy has the same internal geometry.
        let d = |s: &Structure, i: usize, j: usize| {
            let (a, c) = (s.positions[i], s.positions[j]);
            ((a[0] - c[0]).powi(2) + (a[1] - c[1]).powi(2) + (a[2] - c[2]).powi(2)).sqrt()
        };
        for k in 0..27 {
            assert!((d(&b, 3 * k, 3 * k + 1) - 0.96).abs() < 1e-12);
        }
        assert!(replicated_box(&m, 0.0, 2).is_err());
    }
}
