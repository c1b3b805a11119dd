//! The molecular graph shared by the encoder and the decoder (`selfies/mol_graph.py`).
//!
//! Like Python's, the graph is *directed*: a chain bond is stored once, out of the atom that comes
//! first in string order; a ring bond is stored twice, once out of each end, each half with its
//! own stereo mark (`C/1...C\1`). The order of an atom's out-bonds is the order the string writes
//! them, and both the encoder and the SMILES writer walk them in that order, so it must match
//! Python exactly. Out-bonds are singly linked lists through one flat bond vector: no allocation
//! per atom, and the decoder can insert ring bonds at a position as Python's `list.insert` does.
//! All vectors are reused between molecules.

use super::atom::Atom;

/// "No index" marker for atoms and bonds.
pub(crate) const NONE: u32 = u32::MAX;

/// One directed bond (or one half of a ring bond).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DirBond {
    pub src: u32,
    /// `NONE` while the bond is a ring-opening placeholder of the SMILES parser.
    pub dst: u32,
    /// Doubled bond order (see [`super::atom::SINGLE`]).
    pub order2: u8,
    /// `0`, `b'/'` or `b'\\'`.
    pub stereo: u8,
    pub ring: bool,
    /// The other half of a ring bond, `NONE` for chain bonds.
    pub twin: u32,
    /// Next out-bond of `src`.
    pub next: u32,
    /// Ring-closure number given by the SMILES writer (0 = not yet numbered).
    pub ring_num: u32,
}

/// A molecular graph with reusable storage.
#[derive(Default, Debug)]
pub(crate) struct MolGraph {
    pub atoms: Vec<Atom>,
    /// First and last out-bond of each atom.
    pub head: Vec<u32>,
    pub tail: Vec<u32>,
    pub bonds: Vec<DirBond>,
    /// First atom of each `.`-separated fragment, where traversal starts.
    pub roots: Vec<u32>,
    /// Whether an atom has a ring bond (Python's `has_out_ring_bond`).
    pub ring_flag: Vec<bool>,
}

impl MolGraph {
    pub(crate) fn clear(&mut self) {
        self.atoms.clear();
        self.head.clear();
        self.tail.clear();
        self.bonds.clear();
        self.roots.clear();
        self.ring_flag.clear();
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.atoms.len()
    }

    #[inline]
    pub(crate) fn add_atom(&mut self, atom: Atom, root: bool) -> u32 {
        let idx = self.atoms.len() as u32;
        if root {
            self.roots.push(idx);
        }
        self.atoms.push(atom);
        self.head.push(NONE);
        self.tail.push(NONE);
        self.ring_flag.push(false);
        idx
    }

    #[inline]
    fn new_bond(&mut self, bond: DirBond) -> u32 {
        let id = self.bonds.len() as u32;
        self.bonds.push(bond);
        id
    }

    /// Appends bond `id` to the out-bonds of its source.
    #[inline]
    fn append_out(&mut self, src: u32, id: u32) {
        let s = src as usize;
        if self.tail[s] == NONE {
            self.head[s] = id;
        } else {
            let t = self.tail[s] as usize;
            self.bonds[t].next = id;
        }
        self.tail[s] = id;
    }

    /// Inserts bond `id` at position `pos` of the out-bonds of `src` (appends if `pos` is the
    /// length), like Python's `_add_bond_at_loc`.
    fn insert_out(&mut self, src: u32, id: u32, pos: usize) {
        let s = src as usize;
        if pos == 0 {
            self.bonds[id as usize].next = self.head[s];
            self.head[s] = id;
            if self.tail[s] == NONE {
                self.tail[s] = id;
            }
            return;
        }
        let mut prev = self.head[s];
        for _ in 1..pos {
            prev = self.bonds[prev as usize].next;
        }
        let next = self.bonds[prev as usize].next;
        self.bonds[id as usize].next = next;
        self.bonds[prev as usize].next = id;
        if next == NONE {
            self.tail[s] = id;
        }
    }

    /// A chain bond `src -> dst` (`src < dst`), appended to the out-bonds of `src`.
    #[inline]
    pub(crate) fn add_bond(&mut self, src: u32, dst: u32, order2: u8, stereo: u8) -> u32 {
        let id = self.new_bond(DirBond {
            src,
            dst,
            order2,
            stereo,
            ring: false,
            twin: NONE,
            next: NONE,
            ring_num: 0,
        });
        self.append_out(src, id);
        id
    }

    /// Reserves the out-bond slot of a ring opening (SMILES parser); filled by
    /// [`MolGraph::fill_ring_bond`].
    pub(crate) fn add_placeholder(&mut self, src: u32) -> u32 {
        let id = self.new_bond(DirBond {
            src,
            dst: NONE,
            order2: 0,
            stereo: 0,
            ring: true,
            twin: NONE,
            next: NONE,
            ring_num: 0,
        });
        self.append_out(src, id);
        id
    }

    /// Closes a ring opened with placeholder `a_slot` at atom `a`: the `a` half takes the
    /// placeholder's place and the `b` half is appended to `b`'s out-bonds. Returns the `a` half.
    pub(crate) fn fill_ring_bond(
        &mut self,
        a_slot: u32,
        b: u32,
        order2: u8,
        a_stereo: u8,
        b_stereo: u8,
    ) -> u32 {
        let a = self.bonds[a_slot as usize].src;
        let b_half = self.new_bond(DirBond {
            src: b,
            dst: a,
            order2,
            stereo: b_stereo,
            ring: true,
            twin: a_slot,
            next: NONE,
            ring_num: 0,
        });
        let slot = &mut self.bonds[a_slot as usize];
        slot.dst = b;
        slot.order2 = order2;
        slot.stereo = a_stereo;
        slot.twin = b_half;
        self.append_out(b, b_half);
        self.ring_flag[a as usize] = true;
        self.ring_flag[b as usize] = true;
        a_slot
    }

    /// A ring bond between `a` and `b` inserted at positions `a_pos` / `b_pos` of their
    /// out-bonds (decoder). Returns the `a` half.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_ring_bond_at(
        &mut self,
        a: u32,
        b: u32,
        order2: u8,
        a_stereo: u8,
        b_stereo: u8,
        a_pos: usize,
        b_pos: usize,
    ) -> u32 {
        let base = self.bonds.len() as u32;
        let a_half = self.new_bond(DirBond {
            src: a,
            dst: b,
            order2,
            stereo: a_stereo,
            ring: true,
            twin: base + 1,
            next: NONE,
            ring_num: 0,
        });
        let b_half = self.new_bond(DirBond {
            src: b,
            dst: a,
            order2,
            stereo: b_stereo,
            ring: true,
            twin: a_half,
            next: NONE,
            ring_num: 0,
        });
        self.insert_out(a, a_half, a_pos);
        self.insert_out(b, b_half, b_pos);
        self.ring_flag[a as usize] = true;
        self.ring_flag[b as usize] = true;
        a_half
    }

    /// The out-bond of `src` that points to `dst`, if any (Python's `get_dirbond` lookup; with
    /// `src < dst` this also answers `has_bond`, since a chain bond is stored out of its lower
    /// atom and ring bonds out of both).
    #[inline]
    pub(crate) fn find_out(&self, src: u32, dst: u32) -> Option<u32> {
        let mut b = self.head[src as usize];
        while b != NONE {
            let bond = &self.bonds[b as usize];
            if bond.dst == dst {
                return Some(b);
            }
            b = bond.next;
        }
        None
    }

    /// Python's `has_bond(a, b)`.
    #[inline]
    pub(crate) fn has_bond(&self, a: u32, b: u32) -> bool {
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        self.find_out(lo, hi).is_some()
    }

    /// Sets the order of bond `id` (both halves of a ring bond).
    #[inline]
    pub(crate) fn set_order(&mut self, id: u32, order2: u8) {
        let bond = &mut self.bonds[id as usize];
        bond.order2 = order2;
        let twin = bond.twin;
        if twin != NONE {
            self.bonds[twin as usize].order2 = order2;
        }
    }

    /// Iterator over the out-bond ids of `src`, in order.
    #[inline]
    pub(crate) fn out_bonds(&self, src: u32) -> OutBonds<'_> {
        OutBonds {
            graph: self,
            next: self.head[src as usize],
        }
    }

    /// Total doubled bond order of every atom (Python's `_bond_counts`, doubled).
    pub(crate) fn bond_counts2(&self, counts: &mut Vec<u32>) {
        counts.clear();
        counts.resize(self.atoms.len(), 0);
        for bond in &self.bonds {
            if bond.dst == NONE {
                continue;
            }
            counts[bond.src as usize] += bond.order2 as u32;
            if !bond.ring {
                // A ring bond's other end counts it through its own half.
                counts[bond.dst as usize] += bond.order2 as u32;
            }
        }
    }
}

/// See [`MolGraph::out_bonds`].
pub(crate) struct OutBonds<'g> {
    graph: &'g MolGraph,
    next: u32,
}

impl Iterator for OutBonds<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.graph.bonds[id as usize].next;
        Some(id)
    }
}
