//! A [`GraphBatch`] as tensors: what every model's forward pass consumes.

use crate::error::FfResult;
use crate::message::{conv, EdgeGraph, End};
use candle_core::{DType, Device, Tensor, Var};
use chemlm_atoms::GraphBatch;
use std::sync::Arc;

/// Tensors of one batch of structures. Positions are a [`Var`] when forces are wanted, so that
/// `backward()` reaches them through the edge vectors.
#[derive(Debug, Clone)]
pub struct AtomsInput {
    /// Atomic numbers, `[n_atoms]` u32 (index into per-element tables and embeddings).
    pub numbers: Tensor,
    /// Positions in Å, `[n_atoms, 3]`, model dtype.
    pub positions: Tensor,
    /// Centre atom of each edge, `[n_edges]` u32.
    pub idx_i: Tensor,
    /// Neighbour atom of each edge, `[n_edges]` u32.
    pub idx_j: Tensor,
    /// Cartesian cell offset of each edge, `[n_edges, 3]` model dtype.
    pub offsets: Tensor,
    /// Structure of each atom, `[n_atoms]` u32 (for segment sums to energies).
    pub structure_of: Tensor,
    /// Number of structures in the batch.
    pub n_structures: usize,
    /// Number of atoms of each structure (host copy, for per-atom normalisation and reporting).
    pub atoms_per_structure: Vec<u32>,
    /// Atomic numbers on the host (per-element tables, reporting).
    pub numbers_host: Vec<u8>,
    /// The edges grouped by atom, for the fused message-passing kernels ([`Self::conv`]).
    pub graph: Arc<EdgeGraph>,
}

impl AtomsInput {
    /// Uploads a batch in `dtype` (f32 for training and MD, f64 for finite-difference tests).
    /// With `track_positions` the positions become a fresh [`Var`] so forces can be taken.
    pub fn new(
        batch: &GraphBatch,
        dtype: DType,
        device: &Device,
        track_positions: bool,
    ) -> FfResult<(Self, Option<Var>)> {
        let n_atoms = batch.n_atoms();
        let n_edges = batch.n_edges();
        let flat_pos: Vec<f64> = batch.positions.iter().flatten().copied().collect();
        let positions = Tensor::from_vec(flat_pos, (n_atoms, 3), device)?.to_dtype(dtype)?;
        let (positions, var) = if track_positions {
            let v = Var::from_tensor(&positions)?;
            (v.as_tensor().clone(), Some(v))
        } else {
            (positions, None)
        };
        let flat_off: Vec<f64> = batch.offsets.iter().flatten().copied().collect();
        let offsets = Tensor::from_vec(flat_off, (n_edges, 3), device)?.to_dtype(dtype)?;
        let numbers: Vec<u32> = batch.numbers.iter().map(|&z| z as u32).collect();
        let graph = EdgeGraph::new(n_atoms, batch.idx_i.clone(), batch.idx_j.clone(), device)?;
        let input = AtomsInput {
            numbers: Tensor::from_vec(numbers, n_atoms, device)?,
            positions,
            idx_i: graph.idx_i().clone(),
            idx_j: graph.idx_j().clone(),
            offsets,
            structure_of: Tensor::from_vec(batch.structure_of.clone(), n_atoms, device)?,
            n_structures: batch.n_structures(),
            atoms_per_structure: batch.atoms_per_structure.clone(),
            numbers_host: batch.numbers.clone(),
            graph: Arc::new(graph),
        };
        Ok((input, var))
    }

    /// Number of atoms in the batch.
    pub fn n_atoms(&self) -> usize {
        self.numbers_host.len()
    }

    /// Number of edges in the batch.
    pub fn n_edges(&self) -> FfResult<usize> {
        Ok(self.idx_i.dim(0)?)
    }

    /// Model dtype (that of the positions).
    pub fn dtype(&self) -> DType {
        self.positions.dtype()
    }

    /// Edge vectors r_ij = pos[j] - pos[i] + offset, `[n_edges, 3]`: built from the position
    /// tensor with `index_select`, so gradients flow back to positions.
    pub fn edge_vectors(&self) -> FfResult<Tensor> {
        let pj = self.positions.index_select(&self.idx_j, 0)?;
        let pi = self.positions.index_select(&self.idx_i, 0)?;
        Ok(((pj - pi)? + &self.offsets)?)
    }

    /// Sums per-atom rows `[n_atoms, ...]` into per-structure rows `[n_structures, ...]`.
    pub fn sum_per_structure(&self, per_atom: &Tensor) -> FfResult<Tensor> {
        let mut dims = per_atom.dims().to_vec();
        dims[0] = self.n_structures;
        let zeros = Tensor::zeros(dims, per_atom.dtype(), per_atom.device())?;
        Ok(zeros.index_add(&self.structure_of, per_atom, 0)?)
    }

    /// The continuous-filter convolution Σ_{j ∈ N(i)} x_j ⊙ w_ij of atom rows `x` `[n_atoms, F]`
    /// and edge rows `w` `[n_edges, F]`, onto the centres: `[n_atoms, F]`. The same numbers as
    /// `sum_to_centres(x[idx_j] * w)` without the gathered copy (fused on the CPU).
    pub fn conv(&self, x: &Tensor, w: &Tensor) -> FfResult<Tensor> {
        Ok(conv(x, w, &self.graph, End::Centre)?)
    }

    /// Sums per-edge rows `[n_edges, ...]` onto their centre atoms `[n_atoms, ...]`.
    pub fn sum_to_centres(&self, per_edge: &Tensor) -> FfResult<Tensor> {
        let mut dims = per_edge.dims().to_vec();
        dims[0] = self.n_atoms();
        let zeros = Tensor::zeros(dims, per_edge.dtype(), per_edge.device())?;
        Ok(zeros.index_add(&self.idx_i, per_edge, 0)?)
    }
}
