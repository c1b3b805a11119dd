//! The fragmented molecule written as SMILES.
//!
//! chematic's RDKit-compatible canonical SMILES only accepts molecules it read from SMILES, so the
//! broken molecule is written as a SMILES string here and read back. The string spells out RDKit's
//! view of every atom (a bracket atom with its total hydrogen count, charge, isotope, aromatic
//! case) and every bond (`-`, `=`, `#`, `:`, `/`, `\` written explicitly), so re-reading it gives
//! RDKit's molecule again with each cut bond replaced by a dummy atom in the same place:
//!
//! - the dummy takes the broken neighbour's place in a stereocentre's neighbour order (the parity
//!   token is recomputed for the order this writer emits), as RDKit's `checkChiralityPostMove`
//!   keeps the centre's configuration;
//! - a directional bond (`/`, `\`) keeps its direction as seen from the atom that stays, as RDKit
//!   copies the bond direction onto both dummy bonds; directions on aromatic ring bonds (E/Z of an
//!   exocyclic double bond) are written too.
//!
//! RDKit writes `MolToSmiles(FragmentOnBRICSBonds(m))` without re-sanitizing; that this equals
//! re-reading and re-writing its output is checked over the golden set by
//! `scripts/gen_brics_golden.py` (it also held on 26 k MOSES/MoleculeNet molecules tried).

use super::environ::Cut;
use super::view::{Bt, View};
use crate::error::ChemError;
use crate::mol::smiles_dfs::{DfsForest, RingNumbering};
use chematic::core::{AtomIdx, BondIdx, BondOrder, Chirality, Molecule as CMol, STEREO_H_SENTINEL};
use std::fmt::Write as _;

/// A neighbour in a stereocentre's reference order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nbr {
    Atom(usize),
    H,
}

/// An atom of the fragmented graph.
#[derive(Debug, Clone, Default)]
struct FAtom {
    /// Bracket-atom text before and after the chirality token: `[13c` and `H+:5]`.
    head: String,
    tail: String,
    /// Writes an implicit `H` (it counts as a stereo neighbour).
    has_h: bool,
    /// `(counter-clockwise, reference neighbour order)` of a tetrahedral centre.
    stereo: Option<(bool, Vec<Nbr>)>,
    /// `(neighbour, edge)`.
    nbrs: Vec<(usize, usize)>,
}

/// A bond of the fragmented graph.
#[derive(Debug, Clone, Copy)]
struct FBond {
    bt: Bt,
    /// `(atom the direction is read from, up)`: `/` when written from that atom, `\` otherwise.
    dir: Option<(usize, bool)>,
}

/// SMILES of `mol` with every cut bond replaced by two labelled dummy atoms (`[4*]`).
pub(super) fn fragmented_smiles(
    mol: &CMol,
    view: &View,
    cuts: &[Cut],
) -> Result<String, ChemError> {
    let n = view.atoms.len();
    let mut atoms: Vec<Option<FAtom>> = Vec::with_capacity(n + 2 * cuts.len());
    let mut bonds: Vec<FBond> = Vec::with_capacity(view.bonds.len() + 2 * cuts.len());
    // The cut (if any) of each chematic bond.
    let mut cut_of_bond: Vec<Option<Cut>> = vec![None; view.bonds.len()];
    for (i, va) in view.atoms.iter().enumerate() {
        if !va.kept {
            atoms.push(None);
            continue;
        }
        let a = mol.atom(AtomIdx(i as u32));
        let symbol = element_symbol(a.element.symbol(), a.wildcard, va.aromatic)?;
        let mut head = String::from("[");
        if let Some(iso) = a.isotope {
            let _ = write!(head, "{iso}");
        }
        head.push_str(symbol);
        let mut tail = String::new();
        match va.h {
            0 => {}
            1 => tail.push('H'),
            h => {
                let _ = write!(tail, "H{h}");
            }
        }
        match va.charge {
            0 => {}
            1 => tail.push('+'),
            -1 => tail.push('-'),
            c => {
                let _ = write!(tail, "{c:+}");
            }
        }
        if let Some(map) = a.atom_map {
            let _ = write!(tail, ":{map}");
        }
        tail.push(']');
        atoms.push(Some(FAtom {
            head,
            tail,
            has_h: va.h > 0,
            ..FAtom::default()
        }));
    }
    let add_edge = |atoms: &mut Vec<Option<FAtom>>,
                    bonds: &mut Vec<FBond>,
                    u: usize,
                    v: usize,
                    bond: FBond| {
        let e = bonds.len();
        bonds.push(bond);
        for (x, y) in [(u, v), (v, u)] {
            if let Some(a) = atoms[x].as_mut() {
                a.nbrs.push((y, e));
            }
        }
    };
    for cut in cuts {
        cut_of_bond[cut.bond] = Some(*cut);
    }
    // Edges in chematic's bond order (any order would do: the writer computes each stereocentre's
    // parity for the order it emits). `dummy_of[b]`: the dummies on `cut.a`'s and `cut.b`'s side.
    let mut dummy_of = vec![(usize::MAX, usize::MAX); view.bonds.len()];
    for (b, vb) in view.bonds.iter().enumerate() {
        if !vb.kept {
            continue;
        }
        if vb.bt == Bt::Other {
            return Err(ChemError::Unsupported(
                "BRICS of a molecule with a dative or query bond".into(),
            ));
        }
        let dir = bond_direction(mol, b);
        match cut_of_bond[b] {
            None => add_edge(&mut atoms, &mut bonds, vb.a, vb.b, FBond { bt: vb.bt, dir }),
            Some(cut) => {
                // The dummy on `cut.a`'s side stands for `cut.b` and carries `cut.a`'s label.
                let mut ends = [(cut.a, cut.label_a, 0usize), (cut.b, cut.label_b, 0usize)];
                for end in ends.iter_mut() {
                    let d = atoms.len();
                    atoms.push(Some(FAtom {
                        head: format!("[{}*", end.1),
                        tail: "]".into(),
                        ..FAtom::default()
                    }));
                    end.2 = d;
                    // Direction as seen from the atom that stays, unchanged.
                    let dir = dir.map(|(from, up)| (end.0, if from == end.0 { up } else { !up }));
                    add_edge(&mut atoms, &mut bonds, end.0, d, FBond { bt: cut.bt, dir });
                }
                dummy_of[b] = (ends[0].2, ends[1].2);
            }
        }
    }
    // Tetrahedral centres: their reference neighbour order, cut neighbours replaced by dummies.
    for (i, va) in view.atoms.iter().enumerate() {
        if !va.kept {
            continue;
        }
        let a = mol.atom(AtomIdx(i as u32));
        let ccw = match a.chirality {
            Chirality::None => continue,
            Chirality::CounterClockwise => true,
            Chirality::Clockwise => false,
            _ => {
                return Err(ChemError::Unsupported(
                    "BRICS of a molecule with non-tetrahedral stereo".into(),
                ))
            }
        };
        let Some(order) = mol.stereo_neighbor_order(AtomIdx(i as u32)) else {
            return Err(ChemError::Unsupported(
                "BRICS of a stereocentre without its SMILES neighbour order".into(),
            ));
        };
        let mut reference = Vec::with_capacity(order.len());
        for &j in order {
            if j == STEREO_H_SENTINEL || !view.atoms.get(j as usize).is_some_and(|v| v.kept) {
                reference.push(Nbr::H);
                continue;
            }
            let j = j as usize;
            let bond = mol
                .bond_between(AtomIdx(i as u32), AtomIdx(j as u32))
                .map(|(b, _)| b.0 as usize);
            let stand_in = bond.and_then(|b| {
                cut_of_bond[b].map(|cut| {
                    let (da, db) = dummy_of[b];
                    if cut.a == i {
                        da
                    } else {
                        db
                    }
                })
            });
            reference.push(Nbr::Atom(stand_in.unwrap_or(j)));
        }
        if let Some(fa) = atoms[i].as_mut() {
            fa.stereo = Some((ccw, reference));
        }
    }
    Writer::new(atoms, bonds).write()
}

/// `(atom the direction is read from, up)` of a directional (`/`, `\`) bond of the input.
fn bond_direction(mol: &CMol, b: usize) -> Option<(usize, bool)> {
    let idx = BondIdx(b as u32);
    let bond = mol.bond(idx);
    let dir = mol.bond_direction(idx).or(match bond.order {
        BondOrder::Up | BondOrder::Down => Some(bond.order),
        _ => None,
    })?;
    let from = mol.bond_direction_anchor(idx).unwrap_or(bond.atom1).0 as usize;
    match dir {
        BondOrder::Up => Some((from, true)),
        BondOrder::Down => Some((from, false)),
        _ => None,
    }
}

/// The element symbol as SMILES writes it, lower case for an aromatic atom.
fn element_symbol(symbol: &str, wildcard: bool, aromatic: bool) -> Result<&str, ChemError> {
    if wildcard {
        return Ok("*");
    }
    if !aromatic {
        return Ok(symbol);
    }
    Ok(match symbol {
        "B" => "b",
        "C" => "c",
        "N" => "n",
        "O" => "o",
        "P" => "p",
        "S" => "s",
        "Se" => "se",
        "As" => "as",
        "Te" => "te",
        _ => {
            return Err(ChemError::Unsupported(format!(
                "BRICS of a molecule with aromatic {symbol}"
            )))
        }
    })
}

/// Atom and bond text of the fragmented graph for the shared depth-first SMILES writer.
struct Writer {
    atoms: Vec<Option<FAtom>>,
    bonds: Vec<FBond>,
}

impl Writer {
    fn new(atoms: Vec<Option<FAtom>>, bonds: Vec<FBond>) -> Self {
        Self { atoms, bonds }
    }

    fn write(&self) -> Result<String, ChemError> {
        let forest = DfsForest::new(
            self.atoms.len(),
            |u| self.atoms[u].is_some(),
            |u| self.atoms[u].as_ref().map_or(&[][..], |a| &a.nbrs[..]),
        );
        // An opening digit must come before the closing one in the text; an atom's digits are
        // written in DFS order, which is also the order its ring partners are written.
        forest
            .write_smiles(
                RingNumbering::ReuseFromNextAtom,
                |u, out| {
                    if let Some(atom) = self.atoms[u].as_ref() {
                        self.write_atom(&forest, u, atom, out);
                    }
                },
                |e, from| self.bond_token(e, from),
            )
            .map_err(|_| {
                ChemError::Unsupported(
                    "BRICS of a molecule needing more than 99 open ring bonds".into(),
                )
            })
    }

    /// The bracket atom `u`, its parity token computed for the neighbour order the forest writes:
    /// parent, implicit H, ring digits, branches.
    fn write_atom(&self, forest: &DfsForest, u: usize, atom: &FAtom, out: &mut String) {
        let parent = forest.parent[u];
        let mut written: Vec<Nbr> = Vec::with_capacity(atom.nbrs.len() + 1);
        if let Some((p, _)) = parent {
            written.push(Nbr::Atom(p));
        }
        if atom.has_h {
            written.push(Nbr::H);
        }
        written.extend(forest.digits[u].iter().map(|d| Nbr::Atom(d.partner)));
        written.extend(forest.children[u].iter().map(|&(v, _)| Nbr::Atom(v)));
        out.push_str(&atom.head);
        if let Some((ccw, reference)) = &atom.stereo {
            if let Some(odd) = permutation_parity(reference, &written) {
                out.push_str(if *ccw != odd { "@" } else { "@@" });
            }
        }
        out.push_str(&atom.tail);
    }

    /// The bond symbol for edge `e` written from atom `from` to its other end.
    fn bond_token(&self, e: usize, from: usize) -> &'static str {
        let bond = self.bonds[e];
        match (bond.bt, bond.dir) {
            // A direction on an aromatic ring bond (`s/c(=N/C)`) fixes an exocyclic double bond's
            // geometry; RDKit keeps and writes it, and reads `/` between aromatic ring atoms back
            // as an aromatic bond.
            (Bt::Single | Bt::Aromatic, Some((anchor, up))) => {
                if (anchor == from) == up {
                    "/"
                } else {
                    "\\"
                }
            }
            (Bt::Single, None) => "-",
            (Bt::Aromatic, None) => ":",
            (Bt::Double, _) => "=",
            (Bt::Triple, _) => "#",
            (Bt::Quadruple, _) => "$",
            // Refused before writing (see `fragmented_smiles`).
            (Bt::Other, _) => "~",
        }
    }
}

/// Whether `written` is an odd permutation of `reference`; `None` when they are not the same
/// neighbours (a centre with two hydrogens, or fewer than three neighbours), which then is no
/// stereocentre and is written without a parity.
fn permutation_parity(reference: &[Nbr], written: &[Nbr]) -> Option<bool> {
    if reference.len() != written.len() || reference.len() < 3 {
        return None;
    }
    let mut pos = Vec::with_capacity(reference.len());
    let mut used = vec![false; written.len()];
    for r in reference {
        let k = (0..written.len()).find(|&k| !used[k] && written[k] == *r)?;
        used[k] = true;
        pos.push(k);
    }
    let mut inversions = 0usize;
    for i in 0..pos.len() {
        for j in i + 1..pos.len() {
            if pos[i] > pos[j] {
                inversions += 1;
            }
        }
    }
    Some(inversions % 2 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parity(reference: &[usize], written: &[usize]) -> Option<bool> {
        let r: Vec<Nbr> = reference.iter().map(|&i| Nbr::Atom(i)).collect();
        let w: Vec<Nbr> = written.iter().map(|&i| Nbr::Atom(i)).collect();
        permutation_parity(&r, &w)
    }

    #[test]
    fn parity_counts_inversions() {
        assert_eq!(parity(&[0, 1, 2, 3], &[0, 1, 2, 3]), Some(false));
        assert_eq!(parity(&[0, 1, 2, 3], &[1, 0, 2, 3]), Some(true));
        assert_eq!(parity(&[0, 1, 2, 3], &[1, 2, 3, 0]), Some(true));
        assert_eq!(parity(&[0, 1, 2, 3], &[1, 2, 0, 3]), Some(false));
        assert_eq!(parity(&[0, 1, 2], &[0, 1, 3]), None);
        assert_eq!(parity(&[0, 1], &[1, 0]), None);
    }
}
