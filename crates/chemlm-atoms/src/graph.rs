//! Variable-size structures batched into one graph without padding: atoms of all structures
//! are concatenated, edges index into that concatenation, and `structure_of` maps each atom to
//! its structure for segment sums. This is the layout every model in `chemlm-ff` consumes.

use crate::error::{AtomsError, Result};
use crate::neighbors::neighbor_list;
use crate::structure::Structure;
use rayon::prelude::*;
use std::borrow::Borrow;

/// The neighbour graph of one structure within a cutoff.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// Centre atom `i` of each directed edge (ASE's `neighbor_list` "i"); both directions of a
    /// pair are present. Messages are aggregated onto `i`, as in schnetpack.
    pub idx_i: Vec<u32>,
    /// Neighbour atom `j` of each edge (ASE's "j").
    pub idx_j: Vec<u32>,
    /// Cell shift of each edge in multiples of the lattice vectors (ASE's "S"): the edge vector
    /// is `pos[j] - pos[i] + S · cell`, exactly ASE's "D".
    pub shifts: Vec<[i32; 3]>,
}

/// Many structures as one graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GraphBatch {
    /// Atomic numbers of all atoms, structure after structure.
    pub numbers: Vec<u8>,
    /// Positions (Å) of all atoms.
    pub positions: Vec<[f64; 3]>,
    /// Structure index of each atom.
    pub structure_of: Vec<u32>,
    /// Number of atoms of each structure.
    pub atoms_per_structure: Vec<u32>,
    /// Centre atom of each edge, index into the batch's atoms.
    pub idx_i: Vec<u32>,
    /// Neighbour atom of each edge, index into the batch's atoms.
    pub idx_j: Vec<u32>,
    /// Cartesian offset (Å) of each edge, `S · cell` of its structure (zero for molecules): the
    /// edge vector is `pos[j] - pos[i] + offset`.
    pub offsets: Vec<[f64; 3]>,
}

impl Graph {
    /// Number of directed edges.
    pub fn len(&self) -> usize {
        self.idx_i.len()
    }

    /// Whether the graph has no edges.
    pub fn is_empty(&self) -> bool {
        self.idx_i.is_empty()
    }

    /// Checks that the graph fits `structure`: equal-length edge arrays, atom indices in range
    /// and no shift along a non-periodic axis (a cached graph from another structure would
    /// otherwise silently produce wrong edge vectors).
    pub fn validate_for(&self, structure: &Structure) -> Result<()> {
        let n = self.idx_i.len();
        if self.idx_j.len() != n || self.shifts.len() != n {
            return Err(AtomsError::Invalid(format!(
                "graph has {} i, {} j and {} shift entries",
                n,
                self.idx_j.len(),
                self.shifts.len()
            )));
        }
        let atoms = structure.len();
        if let Some(&k) = self
            .idx_i
            .iter()
            .chain(&self.idx_j)
            .find(|&&k| k as usize >= atoms)
        {
            return Err(AtomsError::Invalid(format!(
                "edge refers to atom {k} of a structure with {atoms} atoms"
            )));
        }
        let pbc = structure.cell.map(|c| c.pbc).unwrap_or([false; 3]);
        if let Some(s) = self
            .shifts
            .iter()
            .find(|s| (0..3).any(|c| s[c] != 0 && !pbc[c]))
        {
            return Err(AtomsError::Invalid(format!(
                "edge shift {s:?} along a non-periodic axis"
            )));
        }
        Ok(())
    }

    /// Cartesian offset `S · cell` (Å) of every edge; zero for molecules.
    pub fn offsets(&self, structure: &Structure) -> Vec<[f64; 3]> {
        let cell = structure.cell.map(|c| c.vectors).unwrap_or([[0.0; 3]; 3]);
        self.shifts
            .iter()
            .map(|&s| shift_offset(s, &cell))
            .collect()
    }

    /// Edge vectors `pos[j] - pos[i] + S · cell` (Å), ASE's "D".
    pub fn edge_vectors(&self, structure: &Structure) -> Vec<[f64; 3]> {
        let p = &structure.positions;
        self.idx_i
            .iter()
            .zip(&self.idx_j)
            .zip(self.offsets(structure))
            .map(|((&i, &j), o)| {
                let (a, b) = (p[i as usize], p[j as usize]);
                [b[0] - a[0] + o[0], b[1] - a[1] + o[1], b[2] - a[2] + o[2]]
            })
            .collect()
    }

    /// Edge lengths (Å), ASE's "d".
    pub fn distances(&self, structure: &Structure) -> Vec<f64> {
        self.edge_vectors(structure)
            .iter()
            .map(|d| (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt())
            .collect()
    }
}

/// `S · cell`, summed lattice vector by lattice vector as ASE does.
fn shift_offset(s: [i32; 3], cell: &[[f64; 3]; 3]) -> [f64; 3] {
    let mut o = [0.0; 3];
    for (c, o) in o.iter_mut().enumerate() {
        *o = s[0] as f64 * cell[0][c] + s[1] as f64 * cell[1][c] + s[2] as f64 * cell[2][c];
    }
    o
}

impl GraphBatch {
    /// Builds each structure's neighbour graph within `cutoff` (Å), in parallel over
    /// structures, and collates them into one batch. Takes `&[&Structure]` as well as
    /// `&[Structure]`.
    pub fn from_structures<S>(structures: &[S], cutoff: f64) -> Result<GraphBatch>
    where
        S: Borrow<Structure> + Sync,
    {
        let graphs: Vec<Graph> = structures
            .par_iter()
            .map(|s| neighbor_list(s.borrow(), cutoff))
            .collect::<Result<_>>()?;
        let items: Vec<(&Structure, &Graph)> = structures
            .iter()
            .map(|s| s.borrow())
            .zip(graphs.iter())
            .collect();
        GraphBatch::collate(&items)
    }

    /// Collates structures with precomputed graphs (e.g. cached for fixed geometries):
    /// concatenates atoms, offsets edge indices by the atoms before each structure and turns
    /// cell shifts into Cartesian offsets. Each graph is checked against its structure.
    pub fn collate(items: &[(&Structure, &Graph)]) -> Result<GraphBatch> {
        let n_atoms: usize = items.iter().map(|(s, _)| s.len()).sum();
        let n_edges: usize = items.iter().map(|(_, g)| g.len()).sum();
        if n_atoms >= u32::MAX as usize || items.len() >= u32::MAX as usize {
            return Err(AtomsError::Invalid(format!(
                "batch of {n_atoms} atoms does not fit 32-bit indices"
            )));
        }
        let mut b = GraphBatch {
            numbers: Vec::with_capacity(n_atoms),
            positions: Vec::with_capacity(n_atoms),
            structure_of: Vec::with_capacity(n_atoms),
            atoms_per_structure: Vec::with_capacity(items.len()),
            idx_i: Vec::with_capacity(n_edges),
            idx_j: Vec::with_capacity(n_edges),
            offsets: Vec::with_capacity(n_edges),
        };
        for (k, (s, g)) in items.iter().enumerate() {
            if s.positions.len() != s.numbers.len() {
                return Err(AtomsError::Invalid(format!(
                    "structure {k}: {} atomic numbers but {} positions",
                    s.numbers.len(),
                    s.positions.len()
                )));
            }
            g.validate_for(s)
                .map_err(|e| AtomsError::Invalid(format!("structure {k}: {e}")))?;
            let first = b.numbers.len() as u32;
            b.numbers.extend_from_slice(&s.numbers);
            b.positions.extend_from_slice(&s.positions);
            b.structure_of
                .extend(std::iter::repeat_n(k as u32, s.len()));
            b.atoms_per_structure.push(s.len() as u32);
            b.idx_i.extend(g.idx_i.iter().map(|&i| i + first));
            b.idx_j.extend(g.idx_j.iter().map(|&j| j + first));
            b.offsets.extend(g.offsets(s));
        }
        Ok(b)
    }

    /// Index of each structure's first atom in the batch, plus the total at the end
    /// (`n_structures() + 1` entries), for slicing per-atom arrays by structure.
    pub fn atom_starts(&self) -> Vec<usize> {
        let mut v = Vec::with_capacity(self.atoms_per_structure.len() + 1);
        let mut acc = 0usize;
        v.push(0);
        for &n in &self.atoms_per_structure {
            acc += n as usize;
            v.push(acc);
        }
        v
    }

    /// Edge vectors `pos[j] - pos[i] + offset` (Å) of the whole batch.
    pub fn edge_vectors(&self) -> Vec<[f64; 3]> {
        let p = &self.positions;
        self.idx_i
            .iter()
            .zip(&self.idx_j)
            .zip(&self.offsets)
            .map(|((&i, &j), o)| {
                let (a, b) = (p[i as usize], p[j as usize]);
                [b[0] - a[0] + o[0], b[1] - a[1] + o[1], b[2] - a[2] + o[2]]
            })
            .collect()
    }

    /// Number of structures in the batch.
    pub fn n_structures(&self) -> usize {
        self.atoms_per_structure.len()
    }

    /// Number of atoms in the batch.
    pub fn n_atoms(&self) -> usize {
        self.numbers.len()
    }

    /// Number of directed edges in the batch.
    pub fn n_edges(&self) -> usize {
        self.idx_i.len()
    }
}
