//! O(3) building blocks of the equivariant models: irreducible representations, real spherical
//! harmonics, Wigner 3j symbols and Allegro's strided tensor product.
//!
//! Conventions are e3nn's (0.6), so that weights of e3nn-based models (nequip, Allegro) mean the
//! same thing here: the l = 1 basis is (x, y, z), harmonics use "component" normalisation
//! (‖Y^l‖² = 2l + 1 on the unit sphere), and the 3j symbols are e3nn's real-basis ones (unit
//! Frobenius norm, e3nn's signs). Golden tests against e3nn: `tests/o3.rs`.

mod contract;
mod sh;
mod wigner;

pub use contract::StridedTensorProduct;
pub use sh::spherical_harmonics;
pub use wigner::wigner_3j;

use std::fmt;

/// One irreducible representation of O(3): degree `l` and parity `p` (+1 even, −1 odd).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Irrep {
    /// Degree; the representation has 2l + 1 components.
    pub l: usize,
    /// Parity under inversion: 1 (even, "e") or −1 (odd, "o").
    pub p: i8,
}

impl Irrep {
    /// `l` with parity `p` (±1).
    pub const fn new(l: usize, p: i8) -> Self {
        Irrep { l, p }
    }

    /// Number of components, 2l + 1.
    pub const fn dim(self) -> usize {
        2 * self.l + 1
    }

    /// Parity of the spherical harmonic of degree l, (−1)^l.
    pub const fn sh(l: usize) -> Self {
        Irrep {
            l,
            p: if l.is_multiple_of(2) { 1 } else { -1 },
        }
    }

    /// Whether `self` appears in the product `a ⊗ b` (|l_a − l_b| ≤ l ≤ l_a + l_b, p = p_a p_b).
    pub fn in_product(self, a: Irrep, b: Irrep) -> bool {
        self.p == a.p * b.p && a.l.abs_diff(b.l) <= self.l && self.l <= a.l + b.l
    }
}

impl fmt::Display for Irrep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.l, if self.p > 0 { 'e' } else { 'o' })
    }
}

/// An ordered list of irreps, each with multiplicity one (Allegro's "strided" layout keeps the
/// channels in a separate axis).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Irreps(pub Vec<Irrep>);

impl Irreps {
    /// The spherical harmonics 0e + 1o + 2e + … up to `lmax`.
    pub fn spherical_harmonics(lmax: usize) -> Self {
        Irreps((0..=lmax).map(Irrep::sh).collect())
    }

    /// Total number of components.
    pub fn dim(&self) -> usize {
        self.0.iter().map(|ir| ir.dim()).sum()
    }

    /// Number of irreps.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Offset of each irrep's first component.
    pub fn offsets(&self) -> Vec<usize> {
        let mut acc = 0;
        self.0
            .iter()
            .map(|ir| {
                let o = acc;
                acc += ir.dim();
                o
            })
            .collect()
    }

    /// Whether `ir` is in the list.
    pub fn contains(&self, ir: Irrep) -> bool {
        self.0.contains(&ir)
    }

    /// Largest degree (0 when empty).
    pub fn lmax(&self) -> usize {
        self.0.iter().map(|ir| ir.l).max().unwrap_or(0)
    }
}

impl fmt::Display for Irreps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|ir| format!("1x{ir}")).collect();
        write!(f, "{}", parts.join("+"))
    }
}

/// Whether some path `a ⊗ b → out` exists with `a` from `left` and `b` from `right`
/// (nequip's `tp_path_exists`).
pub fn path_exists(left: &Irreps, right: &Irreps, out: Irrep) -> bool {
    left.0
        .iter()
        .any(|&a| right.0.iter().any(|&b| out.in_product(a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_follow_the_selection_rules() {
        let (e0, o1, e2) = (Irrep::new(0, 1), Irrep::new(1, -1), Irrep::new(2, 1));
        assert!(e0.in_product(o1, o1));
        assert!(Irrep::new(1, 1).in_product(o1, o1));
        assert!(!o1.in_product(o1, o1));
        assert!(o1.in_product(o1, e2));
        assert!(!Irrep::new(0, -1).in_product(o1, e2));
        assert!(!e0.in_product(o1, e2));
        let sh = Irreps::spherical_harmonics(2);
        assert_eq!(sh.to_string(), "1x0e+1x1o+1x2e");
        assert_eq!(sh.dim(), 9);
        assert_eq!(sh.offsets(), vec![0, 1, 4]);
        assert!(path_exists(&sh, &sh, Irrep::new(1, 1)));
        assert!(!path_exists(&sh, &sh, Irrep::new(0, -1)));
    }
}
