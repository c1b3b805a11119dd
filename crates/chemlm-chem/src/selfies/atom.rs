//! Atoms and bonds as `selfies` models them (`mol_graph.Atom`, `smiles_utils.atom_to_smiles`,
//! `bond_to_smiles`), and their SMILES/SELFIES spelling.

use super::constraints::Constraints;
use super::elements::Element;

/// Tetrahedral chirality: only `@` and `@@` are supported by `selfies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chirality {
    None,
    /// `@`
    Ccw,
    /// `@@`
    Cw,
}

impl Chirality {
    pub(crate) fn inverted(self) -> Self {
        match self {
            Chirality::None => Chirality::None,
            Chirality::Ccw => Chirality::Cw,
            Chirality::Cw => Chirality::Ccw,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Chirality::None => "",
            Chirality::Ccw => "@",
            Chirality::Cw => "@@",
        }
    }
}

/// An atom. `h_count: None` means "implicit hydrogens" (an organic-subset atom written without
/// brackets); a bracket atom always has `Some` (possibly 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Atom {
    pub element: Element,
    pub aromatic: bool,
    pub isotope: Option<u32>,
    pub chirality: Chirality,
    pub h_count: Option<u8>,
    pub charge: i32,
}

impl Atom {
    /// An organic-subset atom written without brackets (`C`, `c`, `Cl`).
    pub(crate) fn bare(element: Element, aromatic: bool) -> Self {
        Self {
            element,
            aromatic,
            isotope: None,
            chirality: Chirality::None,
            h_count: None,
            charge: 0,
        }
    }

    /// Python's `Atom.bonding_capacity`: the constraint for the element and charge minus explicit
    /// hydrogens. Negative for e.g. `[CH9]`, which the decoder rejects.
    #[inline]
    pub(crate) fn bonding_capacity(&self, constraints: &Constraints) -> i64 {
        constraints.capacity(self.element, self.charge as i64) as i64
            - self.h_count.unwrap_or(0) as i64
    }
}

/// Appends `n` in decimal without going through `fmt`.
#[inline]
pub(crate) fn push_u32(out: &mut String, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

/// Python's `atom_to_smiles(atom, brackets)` for a non-aromatic atom: the bare element when the
/// atom has no isotope, chirality, explicit hydrogen count or charge; otherwise the bracket form
/// with `H<n>` for hydrogens, `H0` for a bracket organic atom without anything else, and charges
/// written `+1`/`-2`.
pub(crate) fn push_atom(out: &mut String, atom: &Atom, brackets: bool) {
    let plain = atom.isotope.is_none()
        && atom.chirality == Chirality::None
        && atom.h_count.is_none()
        && atom.charge == 0;
    if plain {
        out.push_str(atom.element.symbol());
        return;
    }
    if brackets {
        out.push('[');
    }
    if let Some(iso) = atom.isotope {
        push_u32(out, iso);
    }
    out.push_str(atom.element.symbol());
    out.push_str(atom.chirality.as_str());
    match atom.h_count {
        Some(h) if h != 0 => {
            out.push('H');
            push_u32(out, h as u32);
        }
        Some(_)
            if atom.isotope.is_none()
                && atom.chirality == Chirality::None
                && atom.charge == 0
                && atom.element.is_organic() =>
        {
            out.push_str("H0")
        }
        Some(_) => {}
        // Unreachable for atoms built by the parsers (implicit-H atoms are always plain), but
        // Python would print "HNone" here; keep the output well-formed instead.
        None => {}
    }
    if atom.charge != 0 {
        out.push(if atom.charge > 0 { '+' } else { '-' });
        push_u32(out, atom.charge.unsigned_abs());
    }
    if brackets {
        out.push(']');
    }
}

/// Bond orders are stored doubled so that the aromatic order 1.5 of the SMILES parser is exact.
pub(crate) const SINGLE: u8 = 2;
pub(crate) const AROMATIC: u8 = 3;
pub(crate) const DOUBLE: u8 = 4;
pub(crate) const TRIPLE: u8 = 6;

/// No bond stereo; otherwise the stereo is stored as the byte `/` or `\`.
pub(crate) const NO_STEREO: u8 = 0;

/// Python's `bond_to_smiles`: `/` or `\` for a directional single bond, `=`, `#`, or nothing.
#[inline]
pub(crate) fn push_bond(out: &mut String, order2: u8, stereo: u8) {
    match order2 {
        SINGLE if stereo != NO_STEREO => out.push(stereo as char),
        SINGLE => {}
        DOUBLE => out.push('='),
        TRIPLE => out.push('#'),
        // Only aromatic bonds are left, and both writers run on kekulized graphs.
        _ => {}
    }
}

/// `(doubled order, stereo)` of a SMILES bond character (Python's `smiles_to_bond`); no
/// character means a single bond.
#[inline]
pub(crate) fn bond_from_char(c: Option<u8>) -> (u8, u8) {
    match c {
        Some(b'=') => (DOUBLE, NO_STEREO),
        Some(b'#') => (TRIPLE, NO_STEREO),
        Some(b':') => (AROMATIC, NO_STEREO),
        Some(b'/') => (SINGLE, b'/'),
        Some(b'\\') => (SINGLE, b'\\'),
        _ => (SINGLE, NO_STEREO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selfies::elements;

    fn s(atom: Atom, brackets: bool) -> String {
        let mut out = String::new();
        push_atom(&mut out, &atom, brackets);
        out
    }

    #[test]
    fn atoms_are_written_like_python() {
        assert_eq!(s(Atom::bare(elements::C, false), true), "C");
        let bracket_c = Atom {
            h_count: Some(0),
            ..Atom::bare(elements::C, false)
        };
        assert_eq!(s(bracket_c, true), "[CH0]");
        let na = Atom {
            h_count: Some(0),
            charge: 1,
            ..Atom::bare(Element::from_symbol(b"Na").unwrap(), false)
        };
        assert_eq!(s(na, false), "Na+1");
        let c13 = Atom {
            h_count: Some(3),
            isotope: Some(13),
            chirality: Chirality::Cw,
            charge: -2,
            ..Atom::bare(elements::C, false)
        };
        assert_eq!(s(c13, true), "[13C@@H3-2]");
        let mut n = String::new();
        push_u32(&mut n, 0);
        push_u32(&mut n, 4_000_000_000);
        assert_eq!(n, "04000000000");
    }
}
