//! Bemis–Murcko scaffolds, plain and generic.

use crate::error::ChemError;
use crate::mol::molecule::{backend_error, Molecule};
use crate::mol::smiles_dfs::{DfsForest, RingNumbering};
use chematic::smiles as cs;

impl Molecule {
    /// The Bemis–Murcko scaffold as canonical SMILES: `MolToSmiles(MurckoScaffold.GetScaffoldForMol(m))`
    /// (ring systems, linkers between them, and atoms double-bonded to either). An acyclic molecule
    /// has the empty scaffold `""`.
    ///
    /// With `generic`, the scaffold is then made generic as RDKit's
    /// `MurckoScaffold.MakeScaffoldGeneric(GetScaffoldForMol(m))` does: every atom becomes carbon
    /// (no charge, isotope or stereo) and every bond single. That is the order DeepChem and chemprop
    /// apply the two steps in, so exocyclic `=O` of the scaffold stays as a methyl carbon.
    /// RDKit refuses a generic scaffold with a carbon of valence above 4; so do we
    /// ([`ChemError::Sanitize`]).
    pub fn murcko_scaffold(&self, generic: bool) -> Result<String, ChemError> {
        let scaffold = cs::rdkit_murcko_scaffold(self.inner()).map_err(backend_error)?;
        if !generic || scaffold.is_empty() {
            return Ok(self.restore_maps(scaffold));
        }
        generic_scaffold(&scaffold).map(|s| self.restore_maps(s))
    }
}

/// `MakeScaffoldGeneric` on a scaffold given as SMILES, then RDKit's canonical SMILES.
///
/// The all-carbon single-bond graph is written as SMILES and parsed again rather than edited in
/// place, because chematic's RDKit ports only accept molecules that were read from SMILES.
fn generic_scaffold(scaffold: &str) -> Result<String, ChemError> {
    let mol = cs::parse_rdkit(scaffold).map_err(|e| {
        ChemError::Sanitize(format!("scaffold SMILES {scaffold:?} did not parse: {e}"))
    })?;
    // RDKit keeps hydrogen atoms as H (then removes them); every other atom becomes carbon.
    let keep: Vec<bool> = mol
        .atoms()
        .map(|(_, a)| a.wildcard || a.element.atomic_number() != 1)
        .collect();
    let mut adjacency = vec![Vec::new(); keep.len()];
    for (e, (_, b)) in mol.bonds().enumerate() {
        let (u, v) = (b.atom1.0 as usize, b.atom2.0 as usize);
        if keep[u] && keep[v] {
            adjacency[u].push((v, e));
            adjacency[v].push((u, e));
        }
    }
    // RDKit's MakeScaffoldGeneric leaves atom-map numbers and radical electrons on the atoms.
    // Both only occur on bracket atoms of RDKit's scaffold SMILES, so most scaffolds skip the
    // second sanitization that finding the radicals takes.
    let labels: Vec<AtomLabel> = if !scaffold.contains('[') {
        vec![AtomLabel::default(); keep.len()]
    } else {
        let radicals = cs::rdkit_sanitized_model(&mol)
            .map_err(backend_error)?
            .radicals;
        mol.atoms()
            .zip(radicals)
            .map(|((_, a), radicals)| AtomLabel {
                map: a.atom_map,
                radicals,
            })
            .collect()
    };
    let smiles = carbon_skeleton_smiles(&adjacency, &keep, &labels)?;
    let generic = cs::parse_rdkit(&smiles).map_err(|e| {
        ChemError::Sanitize(format!("generic scaffold {smiles:?} did not parse: {e}"))
    })?;
    cs::rdkit_canonical_smiles(&generic).map_err(backend_error)
}

/// What a generic scaffold atom keeps from the scaffold atom (RDKit's `MakeScaffoldGeneric`).
#[derive(Clone, Copy, Default)]
struct AtomLabel {
    map: Option<u16>,
    radicals: u8,
}

/// SMILES of the graph `adjacency` (`(neighbour, bond)` pairs, restricted to atoms with `keep`)
/// with every atom an aliphatic carbon and every bond single: a depth-first spanning tree written
/// with branches, each other edge written as a ring closure. An atom with an atom-map number or
/// radical electrons is written in brackets with the hydrogens that leaves a carbon (`[CH2:5]`,
/// `[CH]` for a ring carbon with one radical).
fn carbon_skeleton_smiles(
    adjacency: &[Vec<(usize, usize)>],
    keep: &[bool],
    labels: &[AtomLabel],
) -> Result<String, ChemError> {
    DfsForest::new(adjacency.len(), |u| keep[u], |u| &adjacency[u])
        .write_smiles(
            RingNumbering::ReuseAtSameAtom,
            |u, out| match labels.get(u) {
                Some(l) if l.map.is_some() || l.radicals > 0 => {
                    // Above four bonds RDKit's sanitization refuses the carbon; so will ours.
                    let h = 4usize.saturating_sub(adjacency[u].len() + usize::from(l.radicals));
                    out.push_str("[C");
                    match h {
                        0 => {}
                        1 => out.push('H'),
                        _ => out.push_str(&format!("H{h}")),
                    }
                    if let Some(map) = l.map {
                        out.push_str(&format!(":{map}"));
                    }
                    out.push(']');
                }
                _ => out.push('C'),
            },
            |_, _| "",
        )
        .map_err(|_| {
            ChemError::Unsupported("generic scaffold needs more than 99 open ring bonds".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skeleton(smiles: &str) -> String {
        let mol = cs::parse_rdkit(smiles).unwrap();
        let keep = vec![true; mol.atom_count()];
        let mut adjacency = vec![Vec::new(); keep.len()];
        for (e, (_, b)) in mol.bonds().enumerate() {
            adjacency[b.atom1.0 as usize].push((b.atom2.0 as usize, e));
            adjacency[b.atom2.0 as usize].push((b.atom1.0 as usize, e));
        }
        carbon_skeleton_smiles(&adjacency, &keep, &vec![AtomLabel::default(); keep.len()]).unwrap()
    }

    #[test]
    fn skeleton_writes_rings_branches_and_parts() {
        assert_eq!(skeleton("c1ccccc1"), "C1CCCCC1");
        assert_eq!(skeleton("CC(N)O"), "CC(C)C");
        assert_eq!(skeleton("C1CC1.N"), "C1CC1.C");
        // Cubane: 12 bonds, 8 atoms, 5 ring bonds, all re-read as the same graph.
        let s = skeleton("C12C3C4C1C5C2C3C45");
        assert_eq!(
            cs::rdkit_canonical_smiles(&cs::parse_rdkit(&s).unwrap()).unwrap(),
            "C12C3C4C1C1C2C3C41"
        );
    }
}
