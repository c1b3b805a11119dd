//! Inference: energies and forces of structures, batched, with no graph kept beyond a batch
//! (`create_graph = false`: one forward and one backward pass per batch, results detached).
//!
//! The backward pass of inference also visits the weights (they are candle `Var`s inside the
//! model); the gradients w.r.t. the weights are computed and dropped. The models do not offer a
//! weights-as-constants view, so this cost is not avoided here.

use crate::error::{FfError, FfResult};
use crate::input::AtomsInput;
use crate::potential::{energy_and_forces, Potential};
use candle_core::{DType, Device};
use chemlm_atoms::{neighbor_list, Graph, GraphBatch, Structure};
use rayon::prelude::*;

/// Energy (eV) and forces (eV/Å) of one structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Total energy.
    pub energy: f64,
    /// One force vector per atom.
    pub forces: Vec<[f64; 3]>,
}

/// Predicts every structure in batches of `batch_size`, neighbour lists built with the model's
/// cutoff (in parallel).
pub fn predict_structures(
    model: &dyn Potential,
    structures: &[&Structure],
    batch_size: usize,
    dtype: DType,
    device: &Device,
) -> FfResult<Vec<Prediction>> {
    if batch_size == 0 {
        return Err(FfError::Invalid("batch size must be at least 1".into()));
    }
    let cutoff = model.cutoff();
    let mut out = Vec::with_capacity(structures.len());
    for chunk in structures.chunks(batch_size) {
        let graphs: Vec<Graph> = chunk
            .par_iter()
            .map(|s| neighbor_list(s, cutoff))
            .collect::<chemlm_atoms::Result<_>>()?;
        let items: Vec<(&Structure, &Graph)> = chunk.iter().copied().zip(&graphs).collect();
        let batch = GraphBatch::collate(&items)?;
        out.extend(predict_batch(model, &batch, dtype, device)?);
    }
    Ok(out)
}

/// Energies and forces of one collated batch, split back into structures.
pub fn predict_batch(
    model: &dyn Potential,
    batch: &GraphBatch,
    dtype: DType,
    device: &Device,
) -> FfResult<Vec<Prediction>> {
    let (input, pos) = AtomsInput::new(batch, dtype, device, true)?;
    let pos = pos.ok_or_else(|| FfError::Invalid("positions are not tracked".into()))?;
    let ef = if input.n_edges()? == 0 {
        // No neighbours anywhere: the energy is the reference alone and forces vanish; autograd
        // would find no path to the positions.
        let energies = model.energies(&input, false)?.detach();
        let forces = candle_core::Tensor::zeros((input.n_atoms(), 3), dtype, device)?;
        crate::potential::EnergyForces { energies, forces }
    } else {
        energy_and_forces(model, &input, &pos, false, false)?
    };
    let energies: Vec<f64> = ef.energies.to_dtype(DType::F64)?.to_vec1()?;
    let forces: Vec<Vec<f64>> = ef.forces.to_dtype(DType::F64)?.to_vec2()?;
    let starts = batch.atom_starts();
    Ok(energies
        .iter()
        .enumerate()
        .map(|(k, &energy)| Prediction {
            energy,
            forces: forces[starts[k]..starts[k + 1]]
                .iter()
                .map(|f| [f[0], f[1], f[2]])
                .collect(),
        })
        .collect())
}

/// Fills `energy` and `forces` of every structure with the model's predictions (what
/// `chemlm ff predict` writes back as extended XYZ).
pub fn predict(
    model: &dyn Potential,
    structures: &mut [Structure],
    batch_size: usize,
    dtype: DType,
    device: &Device,
) -> FfResult<()> {
    let preds = {
        let refs: Vec<&Structure> = structures.iter().collect();
        predict_structures(model, &refs, batch_size, dtype, device)?
    };
    for (s, p) in structures.iter_mut().zip(preds) {
        s.energy = Some(p.energy);
        s.forces = Some(p.forces);
    }
    Ok(())
}
