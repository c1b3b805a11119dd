//! SELFIES -> SMILES (`selfies/decoder.py`, `grammar_rules.py`).
//!
//! The derivation is a state machine whose state is the number of bonds the previous atom can
//! still make: an atom symbol bonds with `min(its bond order, state, its capacity)`, a branch
//! symbol hands part of the state to a sub-derivation of a given number of symbols, and a ring
//! symbol books a ring bond that is only made after the whole string is read, if both ends still
//! have room (and then at the lower order that fits, or as an increment to an existing bond). This
//! is what makes every string of symbols decode to a molecule obeying the constraints.
//!
//! Python recurses for branches; here the derivation keeps an explicit stack of frames, so input
//! nested thousands of levels deep cannot overflow the thread's stack (Python raises
//! `RecursionError` there instead; this port simply decodes it).

use super::atom::{bond_from_char, Atom, Chirality};
use super::constraints::Constraints;
use super::elements::Element;
use super::error::SelfiesError;
use super::graph::{MolGraph, NONE};
use super::smiles_writer::{write_smiles, WriteFrame};
use super::symbols::{index_code, SplitSelfies};

/// Largest isotope a decoded symbol may carry (the SMILES reader's limit, RDKit's, see `mol::syntax`).
const MAX_ISOTOPE: u64 = crate::mol::MAX_LABEL;
/// Largest charge magnitude a decoded symbol may carry (likewise).
const MAX_CHARGE: i32 = 99;

/// Reusable state of the decoder (one per thread).
#[derive(Default)]
pub(crate) struct DecoderScratch {
    graph: MolGraph,
    /// Bonding capacity of each atom.
    capacity: Vec<i64>,
    /// Total bond order of each atom.
    counts: Vec<i64>,
    rings: Vec<PendingRing>,
    frames: Vec<Frame>,
    rings_made: Vec<usize>,
    write_stack: Vec<WriteFrame>,
}

/// A ring bond booked by a ring symbol, made after derivation.
#[derive(Clone, Copy)]
struct PendingRing {
    left: u32,
    right: u32,
    order: u8,
    lstereo: u8,
    rstereo: u8,
}

/// One (sub-)derivation: Python's `_derive_mol_from_symbols` call.
#[derive(Clone, Copy)]
struct Frame {
    /// Symbols this derivation may consume (`usize::MAX` for a whole fragment).
    max: usize,
    /// Symbols consumed so far.
    n: usize,
    state: u32,
    /// The state to resume with when the branch started from this frame returns.
    resume: u32,
    /// Previous atom, `NONE` before the first atom of a fragment.
    prev: u32,
    /// The derivation ended (Python's `next_state is None`) or ran out of symbols.
    stopped: bool,
}

/// Symbols of one fragment, `[nop]` skipped, with the position of the last one for errors.
struct Tokens<'a> {
    split: SplitSelfies<'a>,
    index: usize,
}

impl<'a> Tokens<'a> {
    #[inline]
    fn next(&mut self) -> Result<Option<&'a str>, SelfiesError> {
        loop {
            match self.split.next() {
                None => return Ok(None),
                Some(Err(e)) => return Err(e),
                Some(Ok("[nop]")) => {
                    self.index += 1;
                    continue;
                }
                Some(Ok(sym)) => {
                    self.index += 1;
                    return Ok(Some(sym));
                }
            }
        }
    }

    /// `_read_index_from_selfies`: `n` symbols as hexadecimal digits (missing ones count 0).
    #[inline]
    fn read_index(&mut self, n: usize) -> Result<usize, SelfiesError> {
        let mut q = 0;
        for _ in 0..n {
            let code = self.next()?.map_or(0, index_code);
            q = q * 16 + code;
        }
        Ok(q)
    }
}

/// Decodes `selfies`, appending the SMILES string to `out`.
pub(crate) fn decode(
    selfies: &str,
    constraints: &Constraints,
    sc: &mut DecoderScratch,
    out: &mut String,
) -> Result<(), SelfiesError> {
    sc.graph.clear();
    sc.capacity.clear();
    sc.counts.clear();
    sc.rings.clear();
    for (fragment, part) in selfies.split('.').enumerate() {
        let mut tokens = Tokens {
            split: SplitSelfies::new(part),
            index: 0,
        };
        derive(selfies, fragment, &mut tokens, constraints, sc).map_err(|e| match e {
            SelfiesError::HangingBracket { position, .. } => SelfiesError::HangingBracket {
                selfies: selfies.to_string(),
                position: fragment_offset(selfies, fragment) + position,
            },
            other => other,
        })?;
    }
    form_rings(sc);
    write_smiles(&mut sc.graph, &mut sc.write_stack, out);
    Ok(())
}

/// Byte offset of `.`-fragment `k` in `s`.
fn fragment_offset(s: &str, k: usize) -> usize {
    s.split('.').take(k).map(|p| p.len() + 1).sum()
}

/// How a symbol is read (Python tests these in this order).
enum Kind {
    Branch,
    Ring,
    Epsilon,
    Atom,
}

#[inline]
fn classify(sym: &str) -> Kind {
    // Python: symbol[-4:-2] == "ch" / "ng", on characters.
    let mut tail = sym.chars().rev().skip(2);
    let (c3, c4) = (tail.next(), tail.next());
    match (c4, c3) {
        (Some('c'), Some('h')) => return Kind::Branch,
        (Some('n'), Some('g')) => return Kind::Ring,
        _ => {}
    }
    if sym.contains("eps") {
        Kind::Epsilon
    } else {
        Kind::Atom
    }
}

/// `_derive_mol_from_symbols` for one fragment, iteratively.
fn derive(
    selfies: &str,
    fragment: usize,
    tokens: &mut Tokens<'_>,
    constraints: &Constraints,
    sc: &mut DecoderScratch,
) -> Result<(), SelfiesError> {
    let invalid = |sym: &str, index: usize, reason: &'static str| SelfiesError::Symbol {
        selfies: selfies.to_string(),
        symbol: sym.to_string(),
        fragment,
        index,
        reason,
    };
    sc.frames.clear();
    sc.frames.push(Frame {
        max: usize::MAX,
        n: 0,
        state: 0,
        resume: 0,
        prev: NONE,
        stopped: false,
    });
    loop {
        let Some(f) = sc.frames.last_mut() else {
            return Ok(());
        };
        if f.stopped || f.n >= f.max {
            // consume what is left of this derivation's share, then return to the parent
            while f.n < f.max {
                if tokens.next()?.is_none() {
                    break;
                }
                f.n += 1;
            }
            let n = f.n;
            sc.frames.pop();
            if let Some(parent) = sc.frames.last_mut() {
                parent.n = parent.n.saturating_add(n);
                parent.state = parent.resume;
            }
            continue;
        }
        let Some(sym) = tokens.next()? else {
            f.stopped = true;
            continue;
        };
        let sym_index = tokens.index - 1;
        f.n += 1;
        let state = f.state;
        match classify(sym) {
            Kind::Branch => {
                let (btype, n_index) = branch_symbol(sym)
                    .ok_or_else(|| invalid(sym, sym_index, "unknown branch symbol"))?;
                if state > 1 {
                    let init = (state - 1).min(btype);
                    f.resume = state - init;
                    let q = tokens.read_index(n_index)?;
                    f.n = f.n.saturating_add(n_index);
                    let prev = f.prev;
                    sc.frames.push(Frame {
                        max: q + 1,
                        n: 0,
                        state: init,
                        resume: 0,
                        prev,
                        stopped: false,
                    });
                }
            }
            Kind::Ring => {
                let (rtype, n_index, lstereo, rstereo) = ring_symbol(sym)
                    .ok_or_else(|| invalid(sym, sym_index, "unknown ring symbol"))?;
                if state > 0 {
                    let order = rtype.min(state);
                    let left = state - order;
                    let q = tokens.read_index(n_index)?;
                    f.n = f.n.saturating_add(n_index);
                    let prev = f.prev;
                    let lidx = (prev as i64 - (q as i64 + 1)).max(0) as u32;
                    sc.rings.push(PendingRing {
                        left: lidx,
                        right: prev,
                        order: order as u8,
                        lstereo,
                        rstereo,
                    });
                    if left == 0 {
                        f.stopped = true;
                    } else {
                        f.state = left;
                    }
                }
            }
            Kind::Epsilon => {
                if state != 0 {
                    f.stopped = true;
                }
            }
            Kind::Atom => {
                let Some((bond_char, atom)) = parse_atom_symbol(sym) else {
                    return Err(invalid(sym, sym_index, "not a SELFIES atom symbol"));
                };
                let cap = atom.bonding_capacity(constraints);
                if cap < 0 {
                    return Err(invalid(
                        sym,
                        sym_index,
                        "more hydrogens than the atom's bonding capacity",
                    ));
                }
                let (order2, stereo) = bond_from_char(bond_char);
                let order = if state == 0 {
                    0
                } else {
                    ((order2 / 2) as i64).min(state as i64).min(cap)
                };
                let left = cap - order;
                if order == 0 {
                    if state == 0 {
                        let idx = sc.graph.add_atom(atom, true);
                        sc.capacity.push(cap);
                        sc.counts.push(0);
                        f.prev = idx;
                    }
                    // else: capacity 0, the atom is not added and the derivation ends
                } else {
                    let prev = f.prev;
                    let idx = sc.graph.add_atom(atom, false);
                    sc.capacity.push(cap);
                    sc.counts.push(order);
                    sc.counts[prev as usize] += order;
                    sc.graph.add_bond(prev, idx, (order * 2) as u8, stereo);
                    f.prev = idx;
                }
                if left == 0 {
                    f.stopped = true;
                } else {
                    f.state = left.min(u32::MAX as i64) as u32;
                }
            }
        }
    }
}

/// `[BranchL]`, `[=BranchL]`, `[#BranchL]` -> (bond order, number of index symbols L).
#[inline]
fn branch_symbol(sym: &str) -> Option<(u32, usize)> {
    let (order, rest) = match sym.as_bytes() {
        [b'[', b'=', rest @ ..] => (2, rest),
        [b'[', b'#', rest @ ..] => (3, rest),
        [b'[', rest @ ..] => (1, rest),
        _ => return None,
    };
    match rest {
        [b'B', b'r', b'a', b'n', b'c', b'h', l @ b'1'..=b'3', b']'] => {
            Some((order, (l - b'0') as usize))
        }
        _ => None,
    }
}

/// Ring symbols -> (bond order, number of index symbols, left stereo, right stereo):
/// `[RingL]`, `[=RingL]`, `[#RingL]`, and directional `[xyRingL]` with x, y in `-`, `/`, `\`
/// (not both `-`).
#[inline]
fn ring_symbol(sym: &str) -> Option<(u32, usize, u8, u8)> {
    let b = sym.as_bytes();
    if b.len() < 7 || b[0] != b'[' {
        return None;
    }
    let (prefix, word) = b[1..b.len()].split_at(b.len() - 7);
    let (l @ b'1'..=b'3', b"Ring") = (word[4], &word[..4]) else {
        return None;
    };
    if word[5] != b']' {
        return None;
    }
    let n = (l - b'0') as usize;
    let stereo = |c: u8| if c == b'-' { 0 } else { c };
    match prefix {
        [] => Some((1, n, 0, 0)),
        [b'='] => Some((2, n, 0, 0)),
        [b'#'] => Some((3, n, 0, 0)),
        [x @ (b'-' | b'/' | b'\\'), y @ (b'-' | b'/' | b'\\')] if !(*x == b'-' && *y == b'-') => {
            Some((1, n, stereo(*x), stereo(*y)))
        }
        _ => None,
    }
}

/// An atom symbol, matched like the regex
/// `^\[([=#/\\]?)(\d*)([A-Z][a-z]?)([@]{0,2})((?:[H]\d)?)((?:[+-][1-9]+)?)\]$`.
/// Returns the bond character and the atom. Bare organic-subset symbols (`[C]`, `[=N]`, `[Cl]`)
/// give atoms with implicit hydrogens; everything else is a bracket atom with an explicit (maybe
/// zero) hydrogen count. Isotopes above 2,147,483,639 and charges beyond ±99, which chemlm's SMILES
/// reader refuses as RDKit does, are rejected.
#[inline]
pub(crate) fn parse_atom_symbol(sym: &str) -> Option<(Option<u8>, Atom)> {
    let b = sym.as_bytes();
    if b.len() < 3 || b[0] != b'[' || b[b.len() - 1] != b']' {
        return None;
    }
    let inner = &b[1..b.len() - 1];
    let (bond, body) = match inner.first() {
        Some(&c @ (b'=' | b'#' | b'/' | b'\\')) => (Some(c), &inner[1..]),
        _ => (None, inner),
    };
    // fast path: organic subset without anything else
    if let Some(element) = organic(body) {
        return Some((bond, Atom::bare(element, false)));
    }
    let mut i = 0;
    let mut isotope: Option<u32> = None;
    while i < body.len() && body[i].is_ascii_digit() {
        let d = (body[i] - b'0') as u32;
        isotope = Some(isotope.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
        i += 1;
    }
    // Above RDKit's lexer limit chemlm's SMILES reader refuses the isotope, so such a symbol is
    // not one chemlm can decode into a molecule.
    if isotope.is_some_and(|n| u64::from(n) > MAX_ISOTOPE) {
        return None;
    }
    let el_start = i;
    if !body.get(i)?.is_ascii_uppercase() {
        return None;
    }
    i += 1;
    if body.get(i).is_some_and(|c| c.is_ascii_lowercase()) {
        i += 1;
    }
    let element = Element::from_symbol(&body[el_start..i])?;
    let mut n_at = 0;
    while n_at < 2 && body.get(i) == Some(&b'@') {
        n_at += 1;
        i += 1;
    }
    let chirality = match n_at {
        0 => Chirality::None,
        1 => Chirality::Ccw,
        _ => Chirality::Cw,
    };
    let mut h_count = 0u8;
    if body.get(i) == Some(&b'H') {
        let d = *body.get(i + 1)?;
        if !d.is_ascii_digit() {
            return None;
        }
        h_count = d - b'0';
        i += 2;
    }
    let mut charge = 0i32;
    if let Some(&sign) = body.get(i).filter(|&&c| c == b'+' || c == b'-') {
        i += 1;
        let start = i;
        let mut v: i32 = 0;
        while i < body.len() && (b'1'..=b'9').contains(&body[i]) {
            v = v.checked_mul(10)?.checked_add((body[i] - b'0') as i32)?;
            i += 1;
        }
        if i == start {
            return None;
        }
        // Two digits are what chemlm's SMILES reader takes (RDKit reads `[C-11111]` as `[C-103]`).
        if v > MAX_CHARGE {
            return None;
        }
        charge = if sign == b'+' { v } else { -v };
    }
    if i != body.len() {
        return None;
    }
    Some((
        bond,
        Atom {
            element,
            aromatic: false,
            isotope,
            chirality,
            h_count: Some(h_count),
            charge,
        },
    ))
}

#[inline]
fn organic(body: &[u8]) -> Option<Element> {
    use super::elements::*;
    Some(match body {
        b"C" => C,
        b"N" => N,
        b"O" => O,
        b"S" => S,
        b"P" => P,
        b"F" => F,
        b"Cl" => CL,
        b"Br" => BR,
        b"I" => I,
        b"B" => B,
        _ => return None,
    })
}

/// `_form_rings_bilocally`: makes the booked ring bonds in order, each only if both ends still
/// have free capacity, at the order that fits; a ring onto an existing bond raises its order.
fn form_rings(sc: &mut DecoderScratch) {
    sc.rings_made.clear();
    sc.rings_made.resize(sc.graph.len(), 0);
    for k in 0..sc.rings.len() {
        let r = sc.rings[k];
        let (l, rr) = (r.left as usize, r.right as usize);
        if l == rr {
            continue;
        }
        let lfree = sc.capacity[l] - sc.counts[l];
        let rfree = sc.capacity[rr] - sc.counts[rr];
        if lfree <= 0 || rfree <= 0 {
            continue;
        }
        let order = (r.order as i64).min(lfree).min(rfree);
        if let Some(id) = sc.graph.find_out(r.left, r.right) {
            let old = (sc.graph.bonds[id as usize].order2 / 2) as i64;
            let new = (order + old).min(3);
            if new != old {
                sc.graph.set_order(id, (new * 2) as u8);
                sc.counts[l] += new - old;
                sc.counts[rr] += new - old;
            }
        } else {
            sc.graph.add_ring_bond_at(
                r.left,
                r.right,
                (order * 2) as u8,
                r.lstereo,
                r.rstereo,
                sc.rings_made[l],
                sc.rings_made[rr],
            );
            sc.rings_made[l] += 1;
            sc.rings_made[rr] += 1;
            sc.counts[l] += order;
            sc.counts[rr] += order;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_tables() {
        assert_eq!(branch_symbol("[=Branch2]"), Some((2, 2)));
        assert_eq!(branch_symbol("[Branch4]"), None);
        assert_eq!(branch_symbol("[/Branch1]"), None);
        assert_eq!(ring_symbol("[Ring1]"), Some((1, 1, 0, 0)));
        assert_eq!(ring_symbol("[#Ring3]"), Some((3, 3, 0, 0)));
        assert_eq!(ring_symbol("[-/Ring2]"), Some((1, 2, 0, b'/')));
        assert_eq!(ring_symbol("[\\\\Ring1]"), Some((1, 1, b'\\', b'\\')));
        assert_eq!(ring_symbol("[--Ring1]"), None);
        assert_eq!(ring_symbol("[/Ring1]"), None);
        assert_eq!(ring_symbol("[Ring4]"), None);
        assert!(matches!(classify("[Branch1]"), Kind::Branch));
        assert!(matches!(classify("[=Ring2]"), Kind::Ring));
        assert!(matches!(classify("[epsilon]"), Kind::Epsilon));
        assert!(matches!(classify("[C]"), Kind::Atom));
    }

    #[test]
    fn atom_symbols_follow_the_regex() {
        let (bond, a) = parse_atom_symbol("[=13C@@H1-1]").unwrap();
        assert_eq!(bond, Some(b'='));
        assert_eq!(a.isotope, Some(13));
        assert_eq!(a.chirality, Chirality::Cw);
        assert_eq!(a.h_count, Some(1));
        assert_eq!(a.charge, -1);
        assert!(parse_atom_symbol("[C+10]").is_none(), "0 is not in [1-9]");
        assert!(parse_atom_symbol("[CH]").is_none(), "H needs a digit");
        assert!(parse_atom_symbol("[c]").is_none());
        assert!(parse_atom_symbol("[Og]").is_none());
        assert_eq!(parse_atom_symbol("[C]").unwrap().1.h_count, None);
        assert_eq!(parse_atom_symbol("[CH0]").unwrap().1.h_count, Some(0));
        assert_eq!(parse_atom_symbol("[H]").unwrap().1.h_count, Some(0));
    }
}
