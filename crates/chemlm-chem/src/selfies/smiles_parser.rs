//! The encoder's SMILES reader: a port of `selfies/utils/smiles_utils.py` (`tokenize_smiles`,
//! `smiles_to_atom`, `smiles_to_mol`).
//!
//! The encoder must number atoms and order bonds exactly as `selfies` does, because ring and
//! branch lengths in the output are counted in that order; so this is a faithful port, quirks
//! included, rather than a general SMILES parser: a bond symbol before a fragment's first atom is
//! ignored (`=CC`), `[cl]` reads as chlorine, `1` and `%01` are different ring labels, ring labels
//! are local to a `.` fragment, and `*`, `$`, `~`, `@TH1`-style chirality are rejected.
//!
//! Deliberate divergence: Python's `str.isdigit`/`\d` also accept non-ASCII digits (e.g. `٣`) as
//! ring labels, isotopes or counts; here only ASCII digits are, and other characters are errors.

use super::atom::{bond_from_char, Atom, Chirality, AROMATIC};
use super::elements::{self, Element};
use super::graph::{MolGraph, NONE};

/// Why and where the SMILES could not be read.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub position: usize,
    pub reason: String,
}

fn err<T>(position: usize, reason: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        position,
        reason: reason.into(),
    })
}

/// 10 one-digit labels + 100 `%nn` labels.
const N_RING_LABELS: usize = 110;

/// An open ring: where its label was, its bond character, the atom and its placeholder bond.
#[derive(Clone, Copy)]
struct OpenRing {
    start: usize,
    bond: Option<u8>,
    atom: u32,
    slot: u32,
}

/// Reusable buffers of the parser.
pub(crate) struct ParseScratch {
    prev_stack: Vec<u32>,
    branch_stack: Vec<usize>,
    rings: [Option<OpenRing>; N_RING_LABELS],
    open_labels: Vec<usize>,
    /// Ids of aromatic (order 1.5) bonds in creation order; the kekulizer's input.
    pub aromatic_bonds: Vec<u32>,
}

impl Default for ParseScratch {
    fn default() -> Self {
        Self {
            prev_stack: Vec::new(),
            branch_stack: Vec::new(),
            rings: [None; N_RING_LABELS],
            open_labels: Vec::new(),
            aromatic_bonds: Vec::new(),
        }
    }
}

/// The kinds of SMILES token (`SMILESTokenTypes`).
enum Token {
    Atom { start: usize, end: usize },
    Open,
    Close,
    Ring(usize),
    Dot,
}

/// Reads `smiles` into `g` (which must be empty).
pub(crate) fn parse_smiles(
    smiles: &str,
    g: &mut MolGraph,
    scratch: &mut ParseScratch,
) -> Result<(), ParseError> {
    if smiles.is_empty() {
        return err(0, "empty SMILES");
    }
    scratch.aromatic_bonds.clear();
    let bytes = smiles.as_bytes();
    let mut i = 0usize;
    while i < bytes.len() {
        i = parse_fragment(smiles, i, g, scratch)?;
    }
    Ok(())
}

/// One `.`-separated fragment (`_derive_mol_from_tokens`); returns where the next one starts.
fn parse_fragment(
    smiles: &str,
    mut i: usize,
    g: &mut MolGraph,
    sc: &mut ParseScratch,
) -> Result<usize, ParseError> {
    let bytes = smiles.as_bytes();
    sc.prev_stack.clear();
    sc.prev_stack.push(NONE);
    sc.branch_stack.clear();
    for &label in &sc.open_labels {
        sc.rings[label] = None;
    }
    sc.open_labels.clear();
    let mut chain_start = true;
    let mut last_start: Option<usize> = None;

    while i < bytes.len() {
        let tok_start = i;
        // -- tokenize one symbol (`tokenize_smiles`) --
        let c = bytes[i];
        let (bond_idx, token) = if c == b'.' {
            i += 1;
            (None, Token::Dot)
        } else {
            let bond_idx = if matches!(c, b'-' | b'/' | b'\\' | b':' | b'=' | b'#') {
                i += 1;
                Some(i - 1)
            } else {
                None
            };
            if i == bytes.len() {
                return err(i - 1, "hanging bond");
            }
            let c = bytes[i];
            let start = i;
            let token = if c.is_ascii_alphabetic() {
                let two = bytes.get(i..i + 2);
                let end = if two == Some(b"Br") || two == Some(b"Cl") {
                    i + 2
                } else {
                    i + 1
                };
                i = end;
                Token::Atom { start, end }
            } else if c == b'[' {
                let Some(rel) = bytes[i + 1..].iter().position(|&b| b == b']') else {
                    return err(i, "hanging bracket [");
                };
                i = i + 1 + rel + 1;
                Token::Atom { start, end: i }
            } else if c == b'(' || c == b')' {
                if let Some(b) = bond_idx {
                    return err(b, "hanging bond");
                }
                i += 1;
                if c == b'(' {
                    Token::Open
                } else {
                    Token::Close
                }
            } else if c.is_ascii_digit() {
                i += 1;
                Token::Ring((c - b'0') as usize)
            } else if c == b'%' {
                match bytes.get(i + 1..i + 3) {
                    Some(&[d1, d2]) if d1.is_ascii_digit() && d2.is_ascii_digit() => {
                        i += 3;
                        Token::Ring(10 + (d1 - b'0') as usize * 10 + (d2 - b'0') as usize)
                    }
                    _ => {
                        let shown: String = smiles[i + 1..].chars().take(2).collect();
                        return err(i, format!("invalid ring number '%{shown}'"));
                    }
                }
            } else {
                let ch = smiles[i..].chars().next().unwrap_or('?');
                return err(i, format!("unrecognized symbol '{ch}'"));
            };
            (bond_idx, token)
        };
        last_start = Some(tok_start);
        // Python reports positions at the symbol, after any bond character.
        let sym_start = bond_idx.map_or(tok_start, |b| b + 1);
        let bond_char = bond_idx.map(|b| bytes[b]);
        let prev = *sc.prev_stack.last().unwrap_or(&NONE);

        // -- build the graph (`_derive_mol_from_tokens`) --
        match token {
            Token::Dot => break,
            Token::Atom { start, end } => {
                let Some(atom) = smiles_to_atom(&bytes[start..end]) else {
                    return err(
                        start,
                        format!("invalid atom symbol '{}'", &smiles[start..end]),
                    );
                };
                let idx = g.add_atom(atom, prev == NONE);
                if prev != NONE {
                    let (mut order2, stereo) = bond_from_char(bond_char);
                    if bond_char.is_none() && atom.aromatic && g.atoms[prev as usize].aromatic {
                        order2 = AROMATIC; // implicit aromatic bond, e.g. cc
                    }
                    let id = g.add_bond(prev, idx, order2, stereo);
                    if order2 == AROMATIC {
                        sc.aromatic_bonds.push(id);
                    }
                }
                if let Some(top) = sc.prev_stack.last_mut() {
                    *top = idx;
                }
                chain_start = false;
            }
            _ if chain_start => return err(sym_start, "SMILES chain begins with non-atom"),
            Token::Open => {
                sc.branch_stack.push(tok_start);
                sc.prev_stack.push(prev);
                chain_start = true;
            }
            Token::Close => {
                if sc.branch_stack.pop().is_none() {
                    return err(tok_start, "hanging ')' bracket");
                }
                sc.prev_stack.pop();
            }
            Token::Ring(label) => match sc.rings[label].take() {
                None => {
                    let slot = g.add_placeholder(prev);
                    sc.rings[label] = Some(OpenRing {
                        start: sym_start,
                        bond: bond_char,
                        atom: prev,
                        slot,
                    });
                    sc.open_labels.push(label);
                }
                Some(open) => {
                    sc.open_labels.retain(|&l| l != label);
                    close_ring(g, sc, open, bond_char, prev)?;
                }
            },
        }
    }

    if g.len() == 0 {
        let at = last_start.unwrap_or(bytes.len());
        return err(at.saturating_sub(1), "empty SMILES fragment");
    }
    if let Some(&open) = sc.branch_stack.last() {
        return err(open, "hanging '(' bracket");
    }
    if let Some(&label) = sc.open_labels.last() {
        let start = sc.rings[label].map_or(0, |r| r.start);
        return err(start, "hanging ring number");
    }
    Ok(i)
}

/// `_make_ring_bonds`: checks and adds the ring bond between the opening atom and `ratom`.
fn close_ring(
    g: &mut MolGraph,
    sc: &mut ParseScratch,
    open: OpenRing,
    rbond: Option<u8>,
    ratom: u32,
) -> Result<(), ParseError> {
    let latom = open.atom;
    if g.has_bond(latom, ratom) {
        return err(
            open.start,
            "ring bond specified between already-bonded atoms",
        );
    }
    if latom == ratom {
        // Python accepts this but then fails while encoding (IndexError for a ring of length 0).
        return err(open.start, "ring bond from an atom to itself");
    }
    let lbond = open.bond;
    let (b0, b1) = if lbond.is_none() {
        (rbond, lbond)
    } else {
        (lbond, rbond)
    };
    let is_stereo = |b: Option<u8>| matches!(b, Some(b'/') | Some(b'\\'));
    if !(b0 == b1 || b1.is_none() || (is_stereo(b0) && is_stereo(b1))) {
        return err(open.start, "mismatched ring bonds");
    }
    let (mut lorder, lstereo) = bond_from_char(lbond);
    let (mut rorder, rstereo) = bond_from_char(rbond);
    if lbond.is_none()
        && rbond.is_none()
        && g.atoms[latom as usize].aromatic
        && g.atoms[ratom as usize].aromatic
    {
        lorder = AROMATIC;
        rorder = AROMATIC;
    }
    let order2 = lorder.max(rorder);
    let id = g.fill_ring_bond(open.slot, ratom, order2, lstereo, rstereo);
    if order2 == AROMATIC {
        sc.aromatic_bonds.push(id);
    }
    Ok(())
}

/// `smiles_to_atom`: a bare organic-subset atom (`C`, `Cl`, `c`) or a bracket atom.
pub(crate) fn smiles_to_atom(symbol: &[u8]) -> Option<Atom> {
    if symbol.len() >= 2 && symbol[0] == b'[' && symbol[symbol.len() - 1] == b']' {
        return bracket_atom(&symbol[1..symbol.len() - 1]);
    }
    match symbol {
        b"B" => Some(Atom::bare(elements::B, false)),
        b"C" => Some(Atom::bare(elements::C, false)),
        b"N" => Some(Atom::bare(elements::N, false)),
        b"O" => Some(Atom::bare(elements::O, false)),
        b"S" => Some(Atom::bare(elements::S, false)),
        b"P" => Some(Atom::bare(elements::P, false)),
        b"F" => Some(Atom::bare(elements::F, false)),
        b"Cl" => Some(Atom::bare(elements::CL, false)),
        b"Br" => Some(Atom::bare(elements::BR, false)),
        b"I" => Some(Atom::bare(elements::I, false)),
        b"b" => Some(Atom::bare(elements::B, true)),
        b"c" => Some(Atom::bare(elements::C, true)),
        b"n" => Some(Atom::bare(elements::N, true)),
        b"o" => Some(Atom::bare(elements::O, true)),
        b"s" => Some(Atom::bare(elements::S, true)),
        b"p" => Some(Atom::bare(elements::P, true)),
        _ => None,
    }
}

/// Reads ASCII digits from `s[*i..]`; `None` if a value does not fit a `u32`.
fn digits(s: &[u8], i: &mut usize) -> Option<Option<u32>> {
    let start = *i;
    let mut v: u32 = 0;
    let mut overflow = false;
    while *i < s.len() && s[*i].is_ascii_digit() {
        match v
            .checked_mul(10)
            .and_then(|v| v.checked_add((s[*i] - b'0') as u32))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
        *i += 1;
    }
    if overflow {
        return None;
    }
    Some((*i > start).then_some(v))
}

/// The inside of a bracket atom, matched like the regex
/// `(\d*)([A-Za-z][a-z]?)([@]{0,2})((?:[H]\d?)?)((?:[+]+|[-]+|[+-]\d+)?)((?:[:]\d+)?)`.
/// Isotopes and charges too large for `u32`/`i32` are rejected (Python has unbounded integers).
fn bracket_atom(s: &[u8]) -> Option<Atom> {
    let mut i = 0;
    let isotope = digits(s, &mut i)?;
    // element: [A-Za-z][a-z]?
    let first = *s.get(i)?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let el_start = i;
    i += 1;
    if s.get(i).is_some_and(|b| b.is_ascii_lowercase()) {
        i += 1;
    }
    let el = &s[el_start..i];
    let aromatic_spelling = first.is_ascii_lowercase();
    // chirality: @{0,2}
    let mut n_at = 0;
    while n_at < 2 && s.get(i) == Some(&b'@') {
        n_at += 1;
        i += 1;
    }
    let chirality = match n_at {
        0 => Chirality::None,
        1 => Chirality::Ccw,
        _ => Chirality::Cw,
    };
    // hydrogens: (H\d?)?
    let mut h_count = 0u8;
    if s.get(i) == Some(&b'H') {
        i += 1;
        h_count = 1;
        if let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
            h_count = d - b'0';
            i += 1;
        }
    }
    // charge: [+]+ | [-]+ | [+-]\d+
    let mut charge = 0i32;
    if let Some(&sign) = s.get(i).filter(|&&b| b == b'+' || b == b'-') {
        let run = s[i..].iter().take_while(|&&b| b == sign).count();
        let after = i + run;
        let sign_v = if sign == b'+' { 1 } else { -1 };
        if after == s.len() || s[after] == b':' {
            charge = sign_v * i32::try_from(run).ok()?;
            i = after;
        } else if run == 1 && s[after].is_ascii_digit() {
            i += 1;
            let v = digits(s, &mut i)?.unwrap_or(0);
            charge = sign_v * i32::try_from(v).ok()?;
        } else {
            return None;
        }
    }
    // atom class: (:\d+)?
    if s.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != s.len() {
        return None;
    }
    // element.islower() and element in AROMATIC_SUBSET; then element.capitalize()
    let mut cap = [0u8; 2];
    cap[..el.len()].copy_from_slice(el);
    cap[0] = cap[0].to_ascii_uppercase();
    let element = Element::from_symbol(&cap[..el.len()])?;
    let aromatic = aromatic_spelling && element.has_aromatic_form();
    Some(Atom {
        element,
        aromatic,
        isotope,
        chirality,
        h_count: Some(h_count),
        charge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_atoms_follow_the_regex() {
        let a = smiles_to_atom(b"[13C@@H2+2:7]").unwrap();
        assert_eq!(a.isotope, Some(13));
        assert_eq!(a.chirality, Chirality::Cw);
        assert_eq!(a.h_count, Some(2));
        assert_eq!(a.charge, 2);
        assert_eq!(smiles_to_atom(b"[Fe++]").unwrap().charge, 2);
        assert_eq!(smiles_to_atom(b"[O--]").unwrap().charge, -2);
        assert_eq!(smiles_to_atom(b"[O-]").unwrap().charge, -1);
        assert_eq!(smiles_to_atom(b"[NH]").unwrap().h_count, Some(1));
        assert!(smiles_to_atom(b"[nH]").unwrap().aromatic);
        let cl = smiles_to_atom(b"[cl]").unwrap();
        assert!(!cl.aromatic);
        assert_eq!(cl.element, elements::CL);
        assert!(smiles_to_atom(b"[se]").unwrap().aromatic);
        assert!(smiles_to_atom(b"[C@@@H]").is_none());
        assert!(smiles_to_atom(b"[CH12]").is_none());
        assert!(smiles_to_atom(b"[++2C]").is_none());
        assert!(smiles_to_atom(b"[C+-1]").is_none());
        assert!(smiles_to_atom(b"[C++2]").is_none());
        assert!(smiles_to_atom(b"[Og]").is_none());
        assert!(smiles_to_atom(b"[*]").is_none());
        assert!(smiles_to_atom(b"[C:]").is_none());
        assert!(smiles_to_atom(b"H").is_none());
    }
}
