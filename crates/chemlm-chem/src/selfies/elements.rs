//! The element tables of the Python `selfies` package (`selfies/constants.py`).
//!
//! The set of elements is *exactly* the package's: it stops at livermorium and lacks Nh, Mc, Ts and
//! Og, so `[Og]` is rejected as it is in Python. Elements are small integer handles so that atoms
//! stay `Copy` and bonding capacities can be looked up in a dense table.

/// Every element symbol `selfies` 2.2.0 accepts, in periodic order (index = [`Element`] handle).
pub(crate) const ELEMENTS: [&str; 114] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
    "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In",
    "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
    "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl",
    "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk",
    "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Fl",
    "Lv",
];

/// Number of element handles.
pub(crate) const N_ELEMENTS: usize = ELEMENTS.len();

/// A handle to one entry of [`ELEMENTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Element(u8);

/// `(first uppercase letter, optional second lowercase letter)` -> element index, 0xFF if none.
const LOOKUP: [u8; 26 * 27] = build_lookup();

const fn build_lookup() -> [u8; 26 * 27] {
    let mut table = [0xFFu8; 26 * 27];
    let mut i = 0;
    while i < ELEMENTS.len() {
        let b = ELEMENTS[i].as_bytes();
        let first = (b[0] - b'A') as usize;
        let second = if b.len() == 2 {
            (b[1] - b'a') as usize + 1
        } else {
            0
        };
        table[first * 27 + second] = i as u8;
        i += 1;
    }
    table
}

pub(crate) const C: Element = Element(5);
pub(crate) const N: Element = Element(6);
pub(crate) const O: Element = Element(7);
pub(crate) const B: Element = Element(4);
pub(crate) const S: Element = Element(15);
pub(crate) const P: Element = Element(14);
pub(crate) const F: Element = Element(8);
pub(crate) const CL: Element = Element(16);
pub(crate) const BR: Element = Element(34);
pub(crate) const I: Element = Element(52);
const AL: Element = Element(12);
const SI: Element = Element(13);
const AS: Element = Element(32);
const SE: Element = Element(33);
const TE: Element = Element(51);

impl Element {
    /// The element written with an uppercase first letter (`"C"`, `"Cl"`), if `selfies` knows it.
    #[inline]
    pub(crate) fn from_symbol(sym: &[u8]) -> Option<Self> {
        let (first, second) = match *sym {
            [a] => (a, None),
            [a, b] => (a, Some(b)),
            _ => return None,
        };
        if !first.is_ascii_uppercase() {
            return None;
        }
        let col = match second {
            None => 0,
            Some(b) if b.is_ascii_lowercase() => (b - b'a') as usize + 1,
            Some(_) => return None,
        };
        let idx = LOOKUP[(first - b'A') as usize * 27 + col];
        (idx != 0xFF).then_some(Element(idx))
    }

    /// Index into [`ELEMENTS`].
    #[inline]
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }

    /// The element symbol, e.g. `"Cl"`.
    #[inline]
    pub(crate) fn symbol(self) -> &'static str {
        ELEMENTS[self.0 as usize]
    }

    /// Member of the SMILES organic subset (`B C N O S P F Cl Br I`), the atoms SMILES and SELFIES
    /// may write without brackets.
    #[inline]
    pub(crate) fn is_organic(self) -> bool {
        matches!(self, B | C | N | O | S | P | F | CL | BR | I)
    }

    /// `AROMATIC_VALENCES` of `selfies`: the valences an aromatic atom of this element may have,
    /// or `None` for elements that cannot be aromatic (Python raises `KeyError` on those).
    pub(crate) fn aromatic_valences(self) -> Option<&'static [i32]> {
        match self {
            B | AL => Some(&[3]),
            C | SI => Some(&[4]),
            N | P | AS => Some(&[3, 5]),
            O | S | SE | TE => Some(&[2, 4]),
            _ => None,
        }
    }

    /// `VALENCE_ELECTRONS` of `selfies` (same keys as [`Element::aromatic_valences`]).
    pub(crate) fn valence_electrons(self) -> Option<i32> {
        match self {
            B | AL => Some(3),
            C | SI => Some(4),
            N | P | AS => Some(5),
            O | S | SE | TE => Some(6),
            _ => None,
        }
    }

    /// Whether the lowercase spelling of this element is an aromatic symbol (`AROMATIC_SUBSET`:
    /// b, al, c, si, n, p, as, o, s, se, te).
    pub(crate) fn has_aromatic_form(self) -> bool {
        self.aromatic_valences().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_matches_table() {
        for (i, sym) in ELEMENTS.iter().enumerate() {
            assert_eq!(
                Element::from_symbol(sym.as_bytes()).map(Element::index),
                Some(i)
            );
        }
        assert_eq!(Element::from_symbol(b"Og"), None);
        assert_eq!(Element::from_symbol(b"c"), None);
        assert_eq!(Element::from_symbol(b"CL"), None);
        assert_eq!(C.symbol(), "C");
        assert_eq!(CL.symbol(), "Cl");
        assert_eq!(BR.symbol(), "Br");
        assert_eq!(I.symbol(), "I");
        assert_eq!(S.symbol(), "S");
        assert_eq!(P.symbol(), "P");
        assert_eq!(AL.symbol(), "Al");
        assert_eq!(SI.symbol(), "Si");
        assert_eq!(AS.symbol(), "As");
        assert_eq!(SE.symbol(), "Se");
        assert_eq!(TE.symbol(), "Te");
    }
}
