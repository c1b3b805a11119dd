//! Largest-fragment selection (salt and solvent stripping) as RDKit's `LargestFragmentChooser`.
//!
//! chematic's own `largest_fragment` classifies salts with its own heuristics and ranks by heavy
//! atoms, which picks a different fragment than RDKit in places; here RDKit's rule is reproduced on
//! RDKit's sanitized model of the molecule instead.

use crate::error::ChemError;
use crate::mol::molecule::{backend_error, Molecule};
use chematic::smiles as cs;

impl Molecule {
    /// The fragment RDKit's `rdMolStandardize.LargestFragmentChooser()` (default options) keeps:
    /// the one with the most atoms counting hydrogens; ties go to the larger
    /// `Σ 100·Z + isotope − 0.1·charge + H` (RDKit's cheap weight proxy), then to the
    /// alphabetically first canonical SMILES. So `CC(=O)[O-].[Na+]` gives acetate, and
    /// `Cl.CN1CCCC1c1cccnc1` the nicotine base.
    ///
    /// A single-fragment molecule is returned unchanged (as a clone). The result is re-read from the
    /// fragment's canonical SMILES, so its atom order is RDKit's canonical order.
    pub fn largest_fragment(&self) -> Result<Molecule, ChemError> {
        let mol = self.inner();
        if mol.is_connected() {
            return Ok(self.clone());
        }
        let model = cs::rdkit_sanitized_model(mol).map_err(backend_error)?;
        // RDKit's atom index of each kept chematic atom (removeHs keeps the others in order).
        let mut rdkit_index = vec![usize::MAX; model.atoms.len()];
        let mut kept = 0;
        for (i, a) in model.atoms.iter().enumerate() {
            if a.is_some() {
                rdkit_index[i] = kept;
                kept += 1;
            }
        }
        let fragments = fragments(mol, &model);
        if fragments.len() <= 1 {
            return Ok(self.clone());
        }

        // (atoms with H, weight proxy, SMILES) of the best fragment so far.
        let mut best: Option<(u32, f64, String)> = None;
        let params = cs::RdkitSmilesParams::default();
        for frag in &fragments {
            let (mut n_atoms, mut weight) = (0u32, 0.0f64);
            for &i in frag {
                let atom = mol.atom(chematic::core::AtomIdx(i as u32));
                let (_, charge, total_h) = model.atoms[i].unwrap_or_default();
                let z = if atom.wildcard {
                    0
                } else {
                    atom.element.atomic_number()
                };
                n_atoms += 1 + u32::from(total_h);
                weight += 100.0 * f64::from(z) + f64::from(atom.isotope.unwrap_or(0))
                    - f64::from(charge) * 0.1;
                weight += f64::from(total_h);
            }
            let indices: Vec<usize> = frag.iter().map(|&i| rdkit_index[i]).collect();
            let smiles = self.restore_maps(
                cs::rdkit_fragment_smiles(mol, &indices, None, &params).map_err(backend_error)?,
            );
            // RDKit skips a fragment when it is smaller, lighter at equal size, or sorts after the
            // best at equal size and weight; anything else replaces the best.
            let skip = best.as_ref().is_some_and(|(bn, bw, bs)| {
                n_atoms < *bn
                    || (n_atoms == *bn && weight < *bw)
                    || (n_atoms == *bn && weight == *bw && smiles > *bs)
            });
            if !skip {
                best = Some((n_atoms, weight, smiles));
            }
        }
        let Some((_, _, smiles)) = best else {
            return Ok(self.clone());
        };
        Molecule::from_smiles(&smiles).map_err(|e| {
            ChemError::Sanitize(format!("largest fragment {smiles:?} did not parse: {e}"))
        })
    }
}

/// Connected components of the atoms RDKit keeps (explicit hydrogens it removes are left out), as
/// chematic atom indices in ascending order, ordered by their lowest atom, as RDKit's `getMolFrags`.
fn fragments(mol: &chematic::core::Molecule, model: &cs::RdkitSanitizedModel) -> Vec<Vec<usize>> {
    let n = model.atoms.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (b, bond) in mol.bonds() {
        if model.bonds.get(b.0 as usize).is_some_and(Option::is_some) {
            let (u, v) = (
                find(&mut parent, bond.atom1.0 as usize),
                find(&mut parent, bond.atom2.0 as usize),
            );
            if u != v {
                parent[u.max(v)] = u.min(v);
            }
        }
    }
    let mut slot = vec![usize::MAX; n];
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        if model.atoms[i].is_none() {
            continue;
        }
        let root = find(&mut parent, i);
        if slot[root] == usize::MAX {
            slot[root] = out.len();
            out.push(Vec::new());
        }
        out[slot[root]].push(i);
    }
    out
}
