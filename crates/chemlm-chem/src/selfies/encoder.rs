//! SMILES -> SELFIES (`selfies/encoder.py`).
//!
//! Pipeline, as in Python: parse the SMILES into a directed graph in string order, kekulize,
//! check the semantic constraints (strict mode), flip the chirality marks that the SELFIES ring
//! order would otherwise change, then write the graph depth first: an atom, its ring closures
//! (`[Ring…]` + length), its branches (`[Branch…]` + length + branch) and the main chain last.
//! Branch lengths are known before a branch is written by counting symbols bottom-up first (atom
//! indices are a depth-first pre-order, so a reverse scan is a post-order), which makes the writer
//! iterative: no recursion on deeply branched input and no temporary strings.

use super::atom::{push_atom, push_bond, Atom, SINGLE};
use super::constraints::Constraints;
use super::error::{SelfiesError, Violation};
use super::graph::{MolGraph, NONE};
use super::kekulize::{kekulize, KekuleError, KekuleScratch};
use super::smiles_parser::{parse_smiles, ParseScratch};
use super::symbols::{index_len, push_index_symbols};

/// Reusable state of the encoder (one per thread).
#[derive(Default)]
pub(crate) struct EncoderScratch {
    graph: MolGraph,
    parse: ParseScratch,
    kekule: KekuleScratch,
    counts2: Vec<u32>,
    /// Number of symbols written for the chain that starts at each atom.
    chain_len: Vec<usize>,
    stack: Vec<Frame>,
    /// Per-atom bond permutation of the chirality check.
    perm: Vec<(u8, u32, u32)>,
}

#[derive(Clone, Copy)]
struct Frame {
    /// Next out-bond to visit.
    cursor: u32,
}

/// Encodes `smiles`, appending the SELFIES string to `out`.
pub(crate) fn encode(
    smiles: &str,
    constraints: &Constraints,
    strict: bool,
    sc: &mut EncoderScratch,
    out: &mut String,
) -> Result<(), SelfiesError> {
    sc.graph.clear();
    parse_smiles(smiles, &mut sc.graph, &mut sc.parse).map_err(|e| SelfiesError::Smiles {
        smiles: smiles.to_string(),
        position: e.position,
        reason: e.reason,
    })?;
    kekulize(&mut sc.graph, &sc.parse.aromatic_bonds, &mut sc.kekule).map_err(|e| {
        let detail = match e {
            KekuleError::NoMatching => String::new(),
            KekuleError::NotAromaticElement(v) => {
                let mut atom = String::new();
                push_atom(&mut atom, &sc.graph.atoms[v as usize], true);
                format!(": atom {v} ({atom}) has an aromatic bond but cannot be aromatic")
            }
        };
        SelfiesError::Kekulization {
            smiles: smiles.to_string(),
            detail,
        }
    })?;
    if strict {
        check_constraints(smiles, &sc.graph, constraints, &mut sc.counts2)?;
    }
    invert_chirality_where_needed(&mut sc.graph, &mut sc.perm);
    write_selfies(sc, out);
    Ok(())
}

/// `_check_bond_constraints`.
fn check_constraints(
    smiles: &str,
    g: &MolGraph,
    constraints: &Constraints,
    counts2: &mut Vec<u32>,
) -> Result<(), SelfiesError> {
    g.bond_counts2(counts2);
    let mut violations = Vec::new();
    for (i, atom) in g.atoms.iter().enumerate() {
        let bonds = counts2[i] / 2;
        let capacity = atom.bonding_capacity(constraints);
        if bonds as i64 > capacity {
            let mut s = String::new();
            push_atom(&mut s, atom, true);
            violations.push(Violation {
                atom: s,
                atom_index: i,
                bonds,
                capacity,
            });
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(SelfiesError::Constraints {
            smiles: smiles.to_string(),
            violations,
        })
    }
}

/// Inverts `@`/`@@` of ring atoms whose neighbour order changes between SMILES and SELFIES
/// (`_should_invert_chirality`). The decoder lists an atom's ring bonds first (closures of rings
/// opened earlier, then rings it opens, by partner), then its chain bonds; chirality is relative to
/// neighbour order, so an odd permutation needs the mark flipped.
fn invert_chirality_where_needed(g: &mut MolGraph, perm: &mut Vec<(u8, u32, u32)>) {
    for v in 0..g.len() {
        let atom = g.atoms[v];
        if atom.chirality == super::atom::Chirality::None || !g.ring_flag[v] {
            continue;
        }
        // (category, sort key, original position)
        perm.clear();
        for (pos, b) in g.out_bonds(v as u32).enumerate() {
            let bond = &g.bonds[b as usize];
            let key = if !bond.ring {
                (2, 0, pos as u32)
            } else if bond.src < bond.dst {
                (1, bond.dst, pos as u32)
            } else {
                (0, 0, pos as u32)
            };
            perm.push(key);
        }
        perm.sort_by_key(|&(cat, key, pos)| (cat, if cat == 1 { key } else { pos }));
        let mut inversions = 0usize;
        for i in 0..perm.len() {
            for j in i + 1..perm.len() {
                if perm[i].2 > perm[j].2 {
                    inversions += 1;
                }
            }
        }
        if inversions % 2 == 1 {
            g.atoms[v].chirality = atom.chirality.inverted();
        }
    }
}

/// The symbols written for a ring closure of length `ring_len` (atoms apart).
#[inline]
fn ring_symbols(ring_len: u32) -> usize {
    1 + index_len(ring_len as usize - 1)
}

/// Writes every fragment, `.`-separated.
fn write_selfies(sc: &mut EncoderScratch, out: &mut String) {
    let g = &sc.graph;
    let n = g.len();
    // chain_len[v]: symbols of `_fragment_to_selfies(v)`. Children have larger indices.
    sc.chain_len.clear();
    sc.chain_len.resize(n, 0);
    for v in (0..n).rev() {
        let mut len = 1;
        let mut b = g.head[v];
        while b != NONE {
            let bond = &g.bonds[b as usize];
            if bond.ring {
                if bond.src > bond.dst {
                    len += ring_symbols(bond.src - bond.dst);
                }
            } else if bond.next == NONE {
                len += sc.chain_len[bond.dst as usize];
            } else {
                let branch = sc.chain_len[bond.dst as usize];
                len += 1 + index_len(branch - 1) + branch;
            }
            b = bond.next;
        }
        sc.chain_len[v] = len;
    }

    for (k, &root) in g.roots.iter().enumerate() {
        if k > 0 {
            out.push('.');
        }
        push_atom_symbol(out, None, &g.atoms[root as usize]);
        sc.stack.clear();
        sc.stack.push(Frame {
            cursor: g.head[root as usize],
        });
        while let Some(top) = sc.stack.last_mut() {
            let b = top.cursor;
            if b == NONE {
                sc.stack.pop();
                continue;
            }
            let bond = g.bonds[b as usize];
            top.cursor = bond.next;
            if bond.ring {
                if bond.src < bond.dst {
                    continue; // written at the other end
                }
                let rev = &g.bonds[bond.twin as usize];
                out.push('[');
                push_ring_bonds(out, rev.order2, rev.stereo, bond.stereo);
                let ring_len = (bond.src - bond.dst) as usize;
                push_length_symbol(out, "Ring", index_len(ring_len - 1));
                push_index_symbols(out, ring_len - 1);
            } else if bond.next == NONE {
                // main chain continues: the frame becomes the next atom
                push_atom_symbol(out, Some(&bond), &g.atoms[bond.dst as usize]);
                top.cursor = g.head[bond.dst as usize];
            } else {
                let branch = sc.chain_len[bond.dst as usize];
                out.push('[');
                push_bond(out, bond.order2, 0);
                push_length_symbol(out, "Branch", index_len(branch - 1));
                push_index_symbols(out, branch - 1);
                push_atom_symbol(out, Some(&bond), &g.atoms[bond.dst as usize]);
                sc.stack.push(Frame {
                    cursor: g.head[bond.dst as usize],
                });
            }
        }
    }
}

/// `Ring1]` / `Branch2]` after the opening bracket and bond prefix.
#[inline]
fn push_length_symbol(out: &mut String, word: &str, n_index: usize) {
    out.push_str(word);
    super::atom::push_u32(out, n_index as u32);
    out.push(']');
}

/// `_ring_bonds_to_selfies`: the bond prefix of a ring symbol. Directional single ring bonds keep
/// both ends' marks (`-/`, `\/`, ...); otherwise the plain bond order.
#[inline]
fn push_ring_bonds(out: &mut String, order2: u8, lstereo: u8, rstereo: u8) {
    if order2 != SINGLE || (lstereo == 0 && rstereo == 0) {
        push_bond(out, order2, 0);
    } else {
        out.push(if lstereo == 0 { '-' } else { lstereo as char });
        out.push(if rstereo == 0 { '-' } else { rstereo as char });
    }
}

/// `_atom_to_selfies`: `[` + bond (with stereo) + atom + `]`.
#[inline]
fn push_atom_symbol(out: &mut String, bond: Option<&super::graph::DirBond>, atom: &Atom) {
    out.push('[');
    if let Some(b) = bond {
        push_bond(out, b.order2, b.stereo);
    }
    push_atom(out, atom, false);
    out.push(']');
}
