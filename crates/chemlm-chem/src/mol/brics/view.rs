//! The molecule as RDKit's `MolFromSmiles` holds it, which is what BRICS's SMARTS are matched on.
//!
//! BRICS environments test aromaticity (`c` vs `C`), bond types (`-`, `=`, `:`), charges, degree
//! and ring membership. Those must be RDKit's, not the input's spelling: a Kekulé benzene is
//! aromatic for RDKit, a nitro group written `N(=O)=O` is charge-separated, explicit `[H]` atoms
//! are gone. chematic's `rdkit_sanitized_model` gives RDKit's atom and bond flags by chematic index;
//! ring membership (SMARTS `R`, `@`) is computed here from the same graph.

use crate::error::ChemError;
use crate::mol::molecule::backend_error;
use chematic::core::{AtomIdx, BondOrder, Molecule as CMol};
use chematic::smiles as cs;

/// RDKit's type of a bond, as far as BRICS's SMARTS look at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bt {
    Single,
    Double,
    Triple,
    Quadruple,
    Aromatic,
    /// Dative or anything else: matches none of `-`, `=`, `:`.
    Other,
}

/// One atom of RDKit's molecule.
#[derive(Debug, Clone, Default)]
pub(super) struct VAtom {
    /// False for an atom RDKit removes (an explicit hydrogen); such an atom has no bonds here.
    pub kept: bool,
    /// Atomic number; 0 for a dummy atom `*`.
    pub z: u8,
    pub aromatic: bool,
    pub charge: i8,
    /// Total hydrogen count RDKit gives the atom (implicit + explicit, removed `[H]` neighbours
    /// included, kept hydrogen atoms not).
    pub h: u8,
    /// In a ring (SMARTS `R`).
    pub ring: bool,
    /// `(neighbour atom, bond)` over kept atoms, in chematic's adjacency order.
    pub nbrs: Vec<(usize, usize)>,
}

/// One bond of RDKit's molecule.
#[derive(Debug, Clone)]
pub(super) struct VBond {
    /// False for a bond to an atom RDKit removes.
    pub kept: bool,
    pub a: usize,
    pub b: usize,
    pub bt: Bt,
    /// In a ring (SMARTS `@`).
    pub ring: bool,
}

/// RDKit's view of a chematic molecule, indexed like chematic.
pub(super) struct View {
    pub atoms: Vec<VAtom>,
    pub bonds: Vec<VBond>,
}

impl View {
    pub fn new(mol: &CMol) -> Result<Self, ChemError> {
        let model = cs::rdkit_sanitized_model(mol).map_err(backend_error)?;
        let mut atoms: Vec<VAtom> = mol
            .atoms()
            .zip(&model.atoms)
            .map(|((_, a), m)| match m {
                Some((aromatic, charge, h)) => VAtom {
                    kept: true,
                    z: if a.wildcard {
                        0
                    } else {
                        a.element.atomic_number()
                    },
                    aromatic: *aromatic,
                    charge: *charge,
                    h: *h,
                    ..VAtom::default()
                },
                None => VAtom::default(),
            })
            .collect();
        let bonds: Vec<VBond> = mol
            .bonds()
            .zip(&model.bonds)
            .map(|((_, b), order)| {
                let (a, c) = (b.atom1.0 as usize, b.atom2.0 as usize);
                VBond {
                    kept: order.is_some() && atoms[a].kept && atoms[c].kept,
                    a,
                    b: c,
                    bt: order.map_or(Bt::Other, bond_type),
                    ring: false,
                }
            })
            .collect();
        // Neighbour lists in chematic's adjacency order (= SMILES order), over kept bonds.
        for (i, atom) in atoms.iter_mut().enumerate() {
            if atom.kept {
                atom.nbrs = mol
                    .neighbors(AtomIdx(i as u32))
                    .filter(|(_, bond)| bonds[bond.0 as usize].kept)
                    .map(|(n, bond)| (n.0 as usize, bond.0 as usize))
                    .collect();
            }
        }
        let mut view = View { atoms, bonds };
        view.mark_rings();
        Ok(view)
    }

    /// A bond is in a ring exactly when it is not a bridge of the graph (any cycle basis, RDKit's
    /// SSSR included, covers every cyclic bond); an atom is in a ring when one of its bonds is.
    fn mark_rings(&mut self) {
        let n = self.atoms.len();
        let mut disc = vec![usize::MAX; n];
        let mut low = vec![0usize; n];
        let mut time = 0usize;
        let mut bridge = vec![false; self.bonds.len()];
        for root in 0..n {
            if !self.atoms[root].kept || disc[root] != usize::MAX {
                continue;
            }
            disc[root] = time;
            low[root] = time;
            time += 1;
            // (atom, bond it was reached by, next neighbour position)
            let mut stack: Vec<(usize, usize, usize)> = vec![(root, usize::MAX, 0)];
            while let Some(top) = stack.last_mut() {
                let (u, via) = (top.0, top.1);
                if let Some(&(v, b)) = self.atoms[u].nbrs.get(top.2) {
                    top.2 += 1;
                    if b == via {
                        continue;
                    }
                    if disc[v] == usize::MAX {
                        disc[v] = time;
                        low[v] = time;
                        time += 1;
                        stack.push((v, b, 0));
                    } else {
                        low[u] = low[u].min(disc[v]);
                    }
                } else {
                    stack.pop();
                    if let Some(&(p, _, _)) = stack.last() {
                        low[p] = low[p].min(low[u]);
                        if low[u] > disc[p] {
                            bridge[via] = true;
                        }
                    }
                }
            }
        }
        for (b, is_bridge) in self.bonds.iter_mut().zip(&bridge) {
            b.ring = b.kept && !is_bridge;
        }
        for a in self.atoms.iter_mut() {
            a.ring = a.nbrs.iter().any(|&(_, b)| !bridge[b]);
        }
    }
}

fn bond_type(order: BondOrder) -> Bt {
    match order {
        BondOrder::Single | BondOrder::Up | BondOrder::Down => Bt::Single,
        BondOrder::Double => Bt::Double,
        BondOrder::Triple => Bt::Triple,
        BondOrder::Quadruple => Bt::Quadruple,
        BondOrder::Aromatic => Bt::Aromatic,
        _ => Bt::Other,
    }
}
