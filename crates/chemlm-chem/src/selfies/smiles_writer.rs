//! The decoder's SMILES writer (`mol_to_smiles` in `selfies/utils/smiles_utils.py`).
//!
//! Writes each fragment depth first from its root, visiting out-bonds in graph order: ring bonds
//! (which the decoder puts first) become ring-closure digits, every chain bond but the last opens
//! a branch. Kept literal so decoded strings equal Python's character for character.

use super::atom::{push_atom, push_bond, push_u32};
use super::graph::{MolGraph, NONE};

/// A node on the writer's stack.
#[derive(Clone, Copy)]
pub(crate) struct WriteFrame {
    cursor: u32,
    needs_closing: bool,
}

/// `mol_to_smiles`: writes each fragment depth first from its root, in bond order; ring numbers
/// are handed out in order of first use and never reused, `%nn` from 10 on.
pub(crate) fn write_smiles(g: &mut MolGraph, stack: &mut Vec<WriteFrame>, out: &mut String) {
    let mut ring_count = 0u32;
    for k in 0..g.roots.len() {
        let root = g.roots[k];
        if k > 0 {
            out.push('.');
        }
        push_atom(out, &g.atoms[root as usize], true);
        stack.clear();
        stack.push(WriteFrame {
            cursor: g.head[root as usize],
            needs_closing: false,
        });
        while let Some(top) = stack.last_mut() {
            let b = top.cursor;
            if b == NONE {
                if top.needs_closing {
                    out.push(')');
                }
                stack.pop();
                continue;
            }
            let bond = g.bonds[b as usize];
            top.cursor = bond.next;
            if bond.ring {
                push_bond(out, bond.order2, bond.stereo);
                let mut num = bond.ring_num;
                if num == 0 {
                    ring_count += 1;
                    num = ring_count;
                    g.bonds[b as usize].ring_num = num;
                    g.bonds[bond.twin as usize].ring_num = num;
                }
                if num >= 10 {
                    out.push('%');
                }
                push_u32(out, num);
            } else {
                let last = bond.next == NONE;
                if !last {
                    out.push('(');
                }
                push_bond(out, bond.order2, bond.stereo);
                push_atom(out, &g.atoms[bond.dst as usize], true);
                stack.push(WriteFrame {
                    cursor: g.head[bond.dst as usize],
                    needs_closing: !last,
                });
            }
        }
    }
}
