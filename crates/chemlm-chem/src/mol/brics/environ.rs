//! RDKit's BRICS environments and bond rules, as explicit predicates on atoms.
//!
//! Ported from RDKit's C++ definitions (`Code/GraphMol/ChemTransforms/MolFragmenter.cpp`,
//! `constructBRICSAtomTypes` / `constructBRICSBondTypes`, which `Chem.FragmentOnBRICSBonds` and so
//! MOSES use; `rdkit/Chem/BRICS.py` holds the same SMARTS). Each environment is a small local
//! pattern, so it is written as a predicate on one atom and its neighbours; the SMARTS it implements
//! is quoted above it. SMARTS semantics as in RDKit: `C` aliphatic carbon, `c` aromatic, `D`
//! explicit degree, `R` / `@` ring membership, an unwritten bond is single-or-aromatic, and atoms
//! of one match are distinct.

use super::view::{Bt, VAtom, View};

/// A BRICS environment label (the isotope RDKit puts on a cut end's dummy atom).
pub(super) type Label = u8;

/// A cut found by [`find_cuts`]: the bond, its ends, and the label each end's dummy gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cut {
    pub bond: usize,
    pub a: usize,
    pub b: usize,
    /// Label of the dummy that replaces `b` on `a`'s side (RDKit: the environment `a` matched).
    pub label_a: Label,
    pub label_b: Label,
    /// Bond type of the dummy bonds (the rule's bond: `-` or `=`).
    pub bt: Bt,
}

/// The bond rules in RDKit's order `(environment of one end, environment of the other, bond)`;
/// every rule's bond is also `!@` (not in a ring).
const RULES: &[(Label, Label, Bt)] = &[
    (1, 3, Bt::Single),
    (1, 5, Bt::Single),
    (1, 10, Bt::Single),
    (3, 4, Bt::Single),
    (3, 13, Bt::Single),
    (3, 14, Bt::Single),
    (3, 15, Bt::Single),
    (3, 16, Bt::Single),
    (4, 5, Bt::Single),
    (4, 11, Bt::Single),
    (5, 12, Bt::Single),
    (5, 14, Bt::Single),
    (5, 16, Bt::Single),
    (5, 13, Bt::Single),
    (5, 15, Bt::Single),
    (6, 13, Bt::Single),
    (6, 14, Bt::Single),
    (6, 15, Bt::Single),
    (6, 16, Bt::Single),
    (7, 7, Bt::Double),
    (8, 9, Bt::Single),
    (8, 10, Bt::Single),
    (8, 13, Bt::Single),
    (8, 14, Bt::Single),
    (8, 15, Bt::Single),
    (8, 16, Bt::Single),
    (9, 13, Bt::Single),
    (9, 14, Bt::Single),
    (9, 15, Bt::Single),
    (9, 16, Bt::Single),
    (10, 13, Bt::Single),
    (10, 14, Bt::Single),
    (10, 15, Bt::Single),
    (10, 16, Bt::Single),
    (11, 13, Bt::Single),
    (11, 14, Bt::Single),
    (11, 15, Bt::Single),
    (11, 16, Bt::Single),
    (13, 14, Bt::Single),
    (13, 15, Bt::Single),
    (13, 16, Bt::Single),
    (14, 14, Bt::Single),
    (14, 15, Bt::Single),
    (14, 16, Bt::Single),
    (15, 16, Bt::Single),
    (16, 16, Bt::Single),
];

/// The bonds `FragmentOnBRICSBonds` breaks, with RDKit's labels.
///
/// RDKit walks the rules from last to first and a bond belongs to the first rule (in that walk)
/// that matches it. The dummy on each end is labelled with the environment that end matched. When
/// both orientations of a mixed rule match (two ring-fusion carbons that are each L13 and L15),
/// RDKit's substructure search reports the one with the rule's first environment on the lower atom
/// index, and so do we (checked against RDKit in the golden set).
pub(super) fn find_cuts(view: &View) -> Vec<Cut> {
    let envs: Vec<u32> = (0..view.atoms.len())
        .map(|i| environments(view, i))
        .collect();
    let has = |i: usize, l: Label| envs[i] & (1 << l) != 0;
    let mut cuts = Vec::new();
    for (bond, vb) in view.bonds.iter().enumerate() {
        if !vb.kept || vb.ring || !matches!(vb.bt, Bt::Single | Bt::Double) {
            continue;
        }
        let (lo, hi) = (vb.a.min(vb.b), vb.a.max(vb.b));
        for &(t1, t2, bt) in RULES.iter().rev() {
            if bt != vb.bt {
                continue;
            }
            let (label_lo, label_hi) = if has(lo, t1) && has(hi, t2) {
                (t1, t2)
            } else if has(hi, t1) && has(lo, t2) {
                (t2, t1)
            } else {
                continue;
            };
            cuts.push(Cut {
                bond,
                a: lo,
                b: hi,
                label_a: label_lo,
                label_b: label_hi,
                bt,
            });
            break;
        }
    }
    cuts
}

/// An environment's test on one atom.
type EnvTest<'a> = fn(&Env<'a>) -> bool;

/// Bit `l` set when atom `i` matches environment L`l`.
fn environments<'a>(view: &'a View, i: usize) -> u32 {
    let atom = &view.atoms[i];
    if !atom.kept {
        return 0;
    }
    let env = Env { view, atom };
    let tests: [(Label, EnvTest<'a>); 15] = [
        (1, Env::l1),
        (3, Env::l3),
        (4, Env::l4),
        (5, Env::l5),
        (6, Env::l6),
        (7, Env::l7),
        (8, Env::l8),
        (9, Env::l9),
        (10, Env::l10),
        (11, Env::l11),
        (12, Env::l12),
        (13, Env::l13),
        (14, Env::l14),
        (15, Env::l15),
        (16, Env::l16),
    ];
    tests
        .iter()
        .filter(|(_, test)| test(&env))
        .fold(0, |bits, (label, _)| bits | (1 << label))
}

/// One atom in its molecule, with the neighbourhood queries the SMARTS need.
struct Env<'a> {
    view: &'a View,
    atom: &'a VAtom,
}

fn aliphatic(a: &VAtom, z: u8) -> bool {
    a.z == z && !a.aromatic
}

fn aromatic(a: &VAtom, z: u8) -> bool {
    a.z == z && a.aromatic
}

/// SMARTS's implicit bond between two atoms: single or aromatic.
fn single_or_aromatic(bt: Bt) -> bool {
    matches!(bt, Bt::Single | Bt::Aromatic)
}

impl<'a> Env<'a> {
    fn degree(&self) -> usize {
        self.atom.nbrs.len()
    }

    /// `(neighbour atom, bond type, bond in ring, neighbour index)` for each neighbour.
    fn nbrs(&self) -> impl Iterator<Item = (&'a VAtom, Bt, bool, usize)> + 'a {
        let view = self.view;
        self.atom.nbrs.iter().map(move |&(n, b)| {
            let bond = &view.bonds[b];
            (&view.atoms[n], bond.bt, bond.ring, n)
        })
    }

    fn any_nbr(&self, test: impl Fn(&VAtom, Bt, bool) -> bool) -> bool {
        self.nbrs().any(|(a, bt, ring, _)| test(a, bt, ring))
    }

    /// Two distinct neighbours, one passing `p` and the other `q`.
    fn two_nbrs(
        &self,
        p: impl Fn(&VAtom, Bt, bool) -> bool,
        q: impl Fn(&VAtom, Bt, bool) -> bool,
    ) -> bool {
        let ps: Vec<usize> = self
            .nbrs()
            .filter(|&(a, bt, ring, _)| p(a, bt, ring))
            .map(|n| n.3)
            .collect();
        let qs: Vec<usize> = self
            .nbrs()
            .filter(|&(a, bt, ring, _)| q(a, bt, ring))
            .map(|n| n.3)
            .collect();
        ps.iter().any(|x| qs.iter().any(|y| x != y))
    }

    /// `$(X=*)`: a double bond to anything.
    fn has_double(&self) -> bool {
        self.any_nbr(|_, bt, _| bt == Bt::Double)
    }

    /// `X(=O)` with an aliphatic oxygen.
    fn has_double_o(&self) -> bool {
        self.any_nbr(|a, bt, _| bt == Bt::Double && aliphatic(a, 8))
    }

    /// `[C;D3]([#0,#6,#7,#8])(=O)`: amide / ester / ketone carbonyl carbon.
    fn l1(&self) -> bool {
        aliphatic(self.atom, 6)
            && self.degree() == 3
            && self.any_nbr(|a, bt, _| single_or_aromatic(bt) && matches!(a.z, 0 | 6 | 7 | 8))
            && self.has_double_o()
    }

    /// `[O;D2]-;!@[#0,#6,#1]`: ether / ester oxygen.
    fn l3(&self) -> bool {
        aliphatic(self.atom, 8)
            && self.degree() == 2
            && self.any_nbr(|a, bt, ring| bt == Bt::Single && !ring && matches!(a.z, 0 | 6 | 1))
    }

    /// `[C;!D1;!$(C=*)]-;!@[#6]`: sp3-ish carbon on a chain bond to carbon.
    fn l4(&self) -> bool {
        aliphatic(self.atom, 6)
            && self.degree() != 1
            && !self.has_double()
            && self.any_nbr(|a, bt, ring| bt == Bt::Single && !ring && a.z == 6)
    }

    /// `[N;!D1;!$(N=*);!$(N-[!#6;!#16;!#0;!#1]);!$([N;R]@[C;R]=O)]`: amine nitrogen, not bonded
    /// (single) to a heteroatom other than S, not a lactam nitrogen.
    fn l5(&self) -> bool {
        aliphatic(self.atom, 7)
            && self.degree() != 1
            && !self.has_double()
            && !self.any_nbr(|a, bt, _| bt == Bt::Single && !matches!(a.z, 6 | 16 | 0 | 1))
            && !(self.atom.ring
                && self.nbrs().any(|(a, _, ring, n)| {
                    ring && aliphatic(a, 6)
                        && a.ring
                        && (Env {
                            view: self.view,
                            atom: &self.view.atoms[n],
                        })
                        .has_double_o()
                }))
    }

    /// `[C;D3;!R](=O)-;!@[#0,#6,#7,#8]`: acyclic carbonyl carbon.
    fn l6(&self) -> bool {
        aliphatic(self.atom, 6)
            && self.degree() == 3
            && !self.atom.ring
            && self.has_double_o()
            && self.any_nbr(|a, bt, ring| bt == Bt::Single && !ring && matches!(a.z, 0 | 6 | 7 | 8))
    }

    /// `[C;D2,D3]-[#6]`: alkene carbon (the rule's bond is `=;!@`).
    fn l7(&self) -> bool {
        aliphatic(self.atom, 6)
            && matches!(self.degree(), 2 | 3)
            && self.any_nbr(|a, bt, _| bt == Bt::Single && a.z == 6)
    }

    /// `[C;!R;!D1;!$(C!-*)]`: acyclic carbon with single bonds only.
    fn l8(&self) -> bool {
        aliphatic(self.atom, 6)
            && !self.atom.ring
            && self.degree() != 1
            && !self.any_nbr(|_, bt, _| bt != Bt::Single)
    }

    /// `[n;+0;$(n(:[c,n,o,s]):[c,n,o,s])]`: neutral aromatic nitrogen.
    fn l9(&self) -> bool {
        let arom_cnos = |a: &VAtom, bt: Bt, _: bool| {
            bt == Bt::Aromatic && a.aromatic && matches!(a.z, 6 | 7 | 8 | 16)
        };
        aromatic(self.atom, 7) && self.atom.charge == 0 && self.two_nbrs(arom_cnos, arom_cnos)
    }

    /// `[N;R;$(N(@C(=O))@[C,N,O,S])]`: lactam nitrogen.
    fn l10(&self) -> bool {
        aliphatic(self.atom, 7)
            && self.atom.ring
            && self.two_nbrs(
                |a, _, ring| {
                    ring && aliphatic(a, 6)
                        && a.nbrs.iter().any(|&(o, b)| {
                            self.view.bonds[b].bt == Bt::Double && aliphatic(&self.view.atoms[o], 8)
                        })
                },
                |a, _, ring| ring && !a.aromatic && matches!(a.z, 6 | 7 | 8 | 16),
            )
    }

    /// `[S;D2](-;!@[#0,#6])`: thioether sulfur.
    fn l11(&self) -> bool {
        aliphatic(self.atom, 16)
            && self.degree() == 2
            && self.any_nbr(|a, bt, ring| bt == Bt::Single && !ring && matches!(a.z, 0 | 6))
    }

    /// `[S;D4]([#6,#0])(=O)(=O)`: sulfonyl sulfur.
    fn l12(&self) -> bool {
        aliphatic(self.atom, 16)
            && self.degree() == 4
            && self.any_nbr(|a, bt, _| single_or_aromatic(bt) && matches!(a.z, 6 | 0))
            && self
                .nbrs()
                .filter(|&(a, bt, _, _)| bt == Bt::Double && aliphatic(a, 8))
                .count()
                >= 2
    }

    /// `[C;$(C(-;@[C,N,O,S])-;@[N,O,S])]`: ring carbon next to a ring heteroatom.
    fn l13(&self) -> bool {
        aliphatic(self.atom, 6)
            && self.two_nbrs(
                |a, bt, ring| {
                    bt == Bt::Single && ring && !a.aromatic && matches!(a.z, 6 | 7 | 8 | 16)
                },
                |a, bt, ring| bt == Bt::Single && ring && !a.aromatic && matches!(a.z, 7 | 8 | 16),
            )
    }

    /// `[c;$(c(:[c,n,o,s]):[n,o,s])]`: aromatic carbon next to an aromatic heteroatom.
    fn l14(&self) -> bool {
        aromatic(self.atom, 6)
            && self.two_nbrs(
                |a, bt, _| bt == Bt::Aromatic && a.aromatic && matches!(a.z, 6 | 7 | 8 | 16),
                |a, bt, _| bt == Bt::Aromatic && a.aromatic && matches!(a.z, 7 | 8 | 16),
            )
    }

    /// `[C;$(C(-;@C)-;@C)]`: ring carbon between two ring carbons.
    fn l15(&self) -> bool {
        let ring_c = |a: &VAtom, bt: Bt, ring: bool| bt == Bt::Single && ring && aliphatic(a, 6);
        aliphatic(self.atom, 6) && self.two_nbrs(ring_c, ring_c)
    }

    /// `[c;$(c(:c):c)]`: aromatic carbon between two aromatic carbons.
    fn l16(&self) -> bool {
        let arom_c = |a: &VAtom, bt: Bt, _: bool| bt == Bt::Aromatic && aromatic(a, 6);
        aromatic(self.atom, 6) && self.two_nbrs(arom_c, arom_c)
    }
}
