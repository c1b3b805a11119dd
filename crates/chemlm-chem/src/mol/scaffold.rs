//! Bemis–Murcko scaffolds, plain and generic.

use crate::error::ChemError;
use crate::mol::molecule::{backend_error, Molecule};
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
            return Ok(scaffold);
        }
        generic_scaffold(&scaffold)
    }
}

/// `MakeScaffoldGeneric` on a scaffold given as SMILES, then RDKit's canonical SMILES.
///
/// The all-carbon single-bond graph is written as SMILES and parsed again rather than edited in
/// place, because chematic's RDKit ports only accept molecules that were read from SMILES.
fn generic_scaffold(scaffold: &str) -> Result<String, ChemError> {
    let mol = cs::parse(scaffold).map_err(|e| {
        ChemError::Sanitize(format!("scaffold SMILES {scaffold:?} did not parse: {e}"))
    })?;
    // RDKit keeps hydrogen atoms as H (then removes them); every other atom becomes carbon.
    let keep: Vec<bool> = mol
        .atoms()
        .map(|(_, a)| a.wildcard || a.element.atomic_number() != 1)
        .collect();
    let mut adjacency = vec![Vec::new(); keep.len()];
    for (_, b) in mol.bonds() {
        let (u, v) = (b.atom1.0 as usize, b.atom2.0 as usize);
        if keep[u] && keep[v] {
            adjacency[u].push(v);
            adjacency[v].push(u);
        }
    }
    let smiles = carbon_skeleton_smiles(&adjacency, &keep)?;
    let generic = cs::parse(&smiles).map_err(|e| {
        ChemError::Sanitize(format!("generic scaffold {smiles:?} did not parse: {e}"))
    })?;
    cs::rdkit_canonical_smiles(&generic).map_err(backend_error)
}

/// SMILES of the graph `adjacency` (restricted to atoms with `keep`) with every atom an aliphatic
/// carbon and every bond single: a depth-first spanning tree written with branches, each other
/// edge written as a ring closure.
fn carbon_skeleton_smiles(adjacency: &[Vec<usize>], keep: &[bool]) -> Result<String, ChemError> {
    let n = adjacency.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    // Ring bonds: opened at the ancestor, closed at the descendant.
    let mut opens: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut closes: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut state = vec![0u8; n]; // 0 new, 1 on the DFS stack, 2 done
    let mut parent = vec![usize::MAX; n];
    let mut roots = Vec::new();
    let mut ring_bonds = 0usize;
    for root in 0..n {
        if !keep[root] || state[root] != 0 {
            continue;
        }
        roots.push(root);
        state[root] = 1;
        let mut stack = vec![(root, 0usize)];
        while let Some(top) = stack.last_mut() {
            let u = top.0;
            if let Some(&v) = adjacency[u].get(top.1) {
                top.1 += 1;
                match state[v] {
                    0 => {
                        state[v] = 1;
                        parent[v] = u;
                        children[u].push(v);
                        stack.push((v, 0));
                    }
                    1 if v != parent[u] => {
                        opens[v].push(ring_bonds);
                        closes[u].push(ring_bonds);
                        ring_bonds += 1;
                    }
                    _ => {}
                }
            } else {
                state[u] = 2;
                stack.pop();
            }
        }
    }

    enum Step {
        Atom(usize),
        Text(&'static str),
    }
    let mut out = String::with_capacity(4 * n);
    let mut number_of = vec![0usize; ring_bonds];
    let mut free: Vec<usize> = Vec::new(); // ring-closure numbers released, reused smallest first
    let mut next_number = 1usize;
    for (i, &root) in roots.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let mut steps = vec![Step::Atom(root)];
        while let Some(step) = steps.pop() {
            let u = match step {
                Step::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Step::Atom(u) => u,
            };
            out.push('C');
            for &rb in &closes[u] {
                push_ring_number(&mut out, number_of[rb])?;
                free.push(number_of[rb]);
            }
            for &rb in &opens[u] {
                free.sort_unstable_by(|a, b| b.cmp(a));
                let number = free.pop().unwrap_or_else(|| {
                    next_number += 1;
                    next_number - 1
                });
                number_of[rb] = number;
                push_ring_number(&mut out, number)?;
            }
            if let Some((&last, rest)) = children[u].split_last() {
                steps.push(Step::Atom(last));
                for &c in rest.iter().rev() {
                    steps.push(Step::Text(")"));
                    steps.push(Step::Atom(c));
                    steps.push(Step::Text("("));
                }
            }
        }
    }
    Ok(out)
}

fn push_ring_number(out: &mut String, number: usize) -> Result<(), ChemError> {
    match number {
        1..=9 => out.push(char::from(b'0' + number as u8)),
        10..=99 => {
            out.push('%');
            out.push_str(&number.to_string());
        }
        _ => {
            return Err(ChemError::Unsupported(
                "generic scaffold needs more than 99 open ring bonds".into(),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skeleton(smiles: &str) -> String {
        let mol = cs::parse(smiles).unwrap();
        let keep = vec![true; mol.atom_count()];
        let mut adjacency = vec![Vec::new(); keep.len()];
        for (_, b) in mol.bonds() {
            adjacency[b.atom1.0 as usize].push(b.atom2.0 as usize);
            adjacency[b.atom2.0 as usize].push(b.atom1.0 as usize);
        }
        carbon_skeleton_smiles(&adjacency, &keep).unwrap()
    }

    #[test]
    fn skeleton_writes_rings_branches_and_parts() {
        assert_eq!(skeleton("c1ccccc1"), "C1CCCCC1");
        assert_eq!(skeleton("CC(N)O"), "CC(C)C");
        assert_eq!(skeleton("C1CC1.N"), "C1CC1.C");
        // Cubane: 12 bonds, 8 atoms, 5 ring bonds, all re-read as the same graph.
        let s = skeleton("C12C3C4C1C5C2C3C45");
        assert_eq!(
            cs::rdkit_canonical_smiles(&cs::parse(&s).unwrap()).unwrap(),
            "C12C3C4C1C1C2C3C41"
        );
    }
}
