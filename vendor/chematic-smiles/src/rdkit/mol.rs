//! The parts of RDKit's molecule model (`Atom`, `Bond`, `ROMol`/`RWMol`,
//! `RingInfo`) that `MolFromSmiles` + `MolToSmiles` read and write, with
//! RDKit's indexing: atoms and bonds are numbered as RDKit numbers them and
//! every atom lists its bonds in bond-index order (RDKit's adjacency order).

use super::RdkitSmilesError;
use super::periodic;
use chematic_core::NonTetrahedralClass;
use chematic_core::nontetrahedral;

/// `Atom::ChiralType` (the tags this pipeline carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChiralTag {
    Unspecified,
    /// `CHI_TETRAHEDRAL_CW` (`@@` relative to the bond order).
    Cw,
    /// `CHI_TETRAHEDRAL_CCW` (`@` relative to the bond order).
    Ccw,
    /// `CHI_SQUAREPLANAR` (permutation in `Atom::chiral_perm`).
    SquarePlanar,
    /// `CHI_TRIGONALBIPYRAMIDAL`.
    TrigonalBipyramidal,
    /// `CHI_OCTAHEDRAL`.
    Octahedral,
}

impl ChiralTag {
    /// The non-tetrahedral class (`hasNonTetrahedralStereo`).
    pub(crate) fn nontet(self) -> Option<NonTetrahedralClass> {
        match self {
            ChiralTag::SquarePlanar => Some(NonTetrahedralClass::SquarePlanar),
            ChiralTag::TrigonalBipyramidal => Some(NonTetrahedralClass::TrigonalBipyramidal),
            ChiralTag::Octahedral => Some(NonTetrahedralClass::Octahedral),
            _ => None,
        }
    }

    /// The tag of a non-tetrahedral class.
    pub(crate) fn of_class(class: NonTetrahedralClass) -> ChiralTag {
        match class {
            NonTetrahedralClass::SquarePlanar => ChiralTag::SquarePlanar,
            NonTetrahedralClass::TrigonalBipyramidal => ChiralTag::TrigonalBipyramidal,
            NonTetrahedralClass::Octahedral => ChiralTag::Octahedral,
        }
    }

    /// `CHI_TETRAHEDRAL_CW` or `CHI_TETRAHEDRAL_CCW`.
    pub(crate) fn is_tetrahedral(self) -> bool {
        matches!(self, ChiralTag::Cw | ChiralTag::Ccw)
    }

    /// The `Atom::ChiralType` value.
    pub(crate) fn rdkit_value(self) -> u8 {
        match self {
            ChiralTag::Unspecified => 0,
            ChiralTag::Cw => 1,
            ChiralTag::Ccw => 2,
            ChiralTag::SquarePlanar => 6,
            ChiralTag::TrigonalBipyramidal => 7,
            ChiralTag::Octahedral => 8,
        }
    }
}

/// `Atom::HybridizationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hybridization {
    Unspecified,
    S,
    Sp,
    Sp2,
    Sp3,
    Sp2d,
    Sp3d,
    Sp3d2,
}

/// `Bond::BondType` (numeric values as in RDKit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BondType {
    Single = 1,
    Double = 2,
    Triple = 3,
    Quadruple = 4,
    Aromatic = 12,
    Dative = 17,
}

impl BondType {
    /// `Bond::getBondTypeAsDouble`.
    pub(crate) fn as_double(self) -> f64 {
        match self {
            BondType::Single | BondType::Dative => 1.0,
            BondType::Double => 2.0,
            BondType::Triple => 3.0,
            BondType::Quadruple => 4.0,
            BondType::Aromatic => 1.5,
        }
    }

    /// `getTwiceBondType`.
    pub(crate) fn twice(self) -> u32 {
        match self {
            BondType::Single | BondType::Dative => 2,
            BondType::Double => 4,
            BondType::Triple => 6,
            BondType::Quadruple => 8,
            BondType::Aromatic => 3,
        }
    }
}

/// `Bond::BondDir` (the values this pipeline carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BondDir {
    None,
    EndDownRight,
    EndUpRight,
}

impl BondDir {
    pub(crate) fn flipped(self) -> BondDir {
        match self {
            BondDir::EndDownRight => BondDir::EndUpRight,
            BondDir::EndUpRight => BondDir::EndDownRight,
            BondDir::None => BondDir::None,
        }
    }

    pub(crate) fn is_set(self) -> bool {
        self != BondDir::None
    }
}

/// `Bond::BondStereo` (numeric values as in RDKit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum BondStereo {
    None = 0,
    Any = 1,
    Z = 2,
    E = 3,
}

#[derive(Clone, Debug)]
pub(crate) struct Atom {
    pub anum: u32,
    pub isotope: u32,
    pub charge: i32,
    pub num_explicit_hs: u32,
    pub no_implicit: bool,
    pub aromatic: bool,
    pub chiral: ChiralTag,
    /// `_chiralPermutation` of a non-tetrahedral tag (0: none).
    pub chiral_perm: u32,
    pub radicals: u32,
    /// `molAtomMapNumber`.
    pub map: Option<u32>,
    /// `d_explicitValence` (-1: not computed).
    pub explicit_valence: i32,
    /// `d_implicitValence` (-1: not computed).
    pub implicit_valence: i32,
    pub hybrid: Hybridization,
    /// `_CIPCode` (`R` or `S`).
    pub cip_code: Option<u8>,
    /// `_ringStereoAtoms`.
    pub ring_stereo_atoms: Option<Vec<i32>>,
    /// `_ringStereochemCand`.
    pub ring_stereochem_cand: Option<bool>,
    /// `_ChiralityPossible`.
    pub chirality_possible: bool,
    /// `_brokenChirality` (`MolFragmentToSmiles`: a chiral atom with a
    /// bond outside the fragment).
    pub broken_chirality: bool,
    /// A SMARTS query atom whose query is an AND with `H1`
    /// (`Canon::details::hasSingleHQuery`): chirality writing treats it as
    /// having a fourth neighbour.
    pub single_h_query: bool,
}

impl Atom {
    pub(crate) fn new(anum: u32) -> Atom {
        Atom {
            anum,
            isotope: 0,
            charge: 0,
            num_explicit_hs: 0,
            no_implicit: false,
            aromatic: false,
            chiral: ChiralTag::Unspecified,
            chiral_perm: 0,
            radicals: 0,
            map: None,
            explicit_valence: -1,
            implicit_valence: -1,
            hybrid: Hybridization::Unspecified,
            cip_code: None,
            ring_stereo_atoms: None,
            ring_stereochem_cand: None,
            chirality_possible: false,
            broken_chirality: false,
            single_h_query: false,
        }
    }

    /// `Atom::invertChirality`.
    pub(crate) fn invert_chirality(&mut self) {
        match self.chiral {
            ChiralTag::Cw => self.chiral = ChiralTag::Ccw,
            ChiralTag::Ccw => self.chiral = ChiralTag::Cw,
            ChiralTag::TrigonalBipyramidal | ChiralTag::Octahedral => {
                let class = self.chiral.nontet().expect("non-tetrahedral");
                self.chiral_perm = nontetrahedral::invert(class, self.chiral_perm);
            }
            ChiralTag::Unspecified | ChiralTag::SquarePlanar => {}
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Bond {
    pub begin: usize,
    pub end: usize,
    pub bt: BondType,
    pub aromatic: bool,
    pub conjugated: bool,
    pub dir: BondDir,
    pub stereo: BondStereo,
    pub stereo_atoms: Vec<usize>,
    /// A requested cis/trans configuration `(stereo atom at begin, stereo
    /// atom at end, trans)`, as `STEREOCIS`/`STEREOTRANS` with stereo atoms
    /// set before `SetDoubleBondNeighborDirections` (stereoisomer
    /// enumeration); legacy perception reads it like neighbour directions.
    pub requested: Option<(usize, usize, bool)>,
}

impl Bond {
    pub(crate) fn new(begin: usize, end: usize, bt: BondType) -> Bond {
        Bond {
            begin,
            end,
            bt,
            aromatic: false,
            conjugated: false,
            dir: BondDir::None,
            stereo: BondStereo::None,
            stereo_atoms: Vec::new(),
            requested: None,
        }
    }

    pub(crate) fn other(&self, atom: usize) -> usize {
        if self.begin == atom {
            self.end
        } else {
            self.begin
        }
    }

    /// `Bond::getValenceContrib`.
    pub(crate) fn valence_contrib(&self, atom: usize) -> f64 {
        if atom != self.begin && atom != self.end {
            return 0.0;
        }
        if self.bt == BondType::Dative && atom != self.end {
            return 0.0;
        }
        self.bt.as_double()
    }

    /// `canHaveDirection`.
    pub(crate) fn can_have_direction(&self) -> bool {
        matches!(self.bt, BondType::Single | BondType::Aromatic)
    }

    /// `canSetDoubleBondStereo`.
    pub(crate) fn can_set_double_bond_stereo(&self) -> bool {
        matches!(
            self.bt,
            BondType::Single | BondType::Aromatic | BondType::Dative
        )
    }
}

/// `RingInfo` with the rings of a symmetrized SSSR.
#[derive(Clone, Debug, Default)]
pub(crate) struct RingInfo {
    pub atom_rings: Vec<Vec<usize>>,
    pub bond_rings: Vec<Vec<usize>>,
    /// Ring ids each atom is in, in ring order (`atomMembers`).
    atom_member_lists: Members,
    /// Ring ids each bond is in, in ring order.
    bond_member_lists: Members,
}

/// Lists of ring ids, stored back to back.
#[derive(Clone, Debug, Default)]
struct Members {
    /// `ids[start[i]..start[i + 1]]` is item `i`'s list.
    start: Vec<u32>,
    ids: Vec<usize>,
}

impl Members {
    /// The lists of `n` items, each ring's items listed in `rings`.
    fn build<'a>(n: usize, rings: impl Iterator<Item = &'a Vec<usize>> + Clone) -> Self {
        let mut start = vec![0u32; n + 1];
        for ring in rings.clone() {
            for &x in ring {
                start[x + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill: Vec<u32> = start[..n].to_vec();
        let mut ids = vec![0usize; start[n] as usize];
        for (ri, ring) in rings.enumerate() {
            for &x in ring {
                ids[fill[x] as usize] = ri;
                fill[x] += 1;
            }
        }
        Self { start, ids }
    }

    fn get(&self, i: usize) -> &[usize] {
        &self.ids[self.start[i] as usize..self.start[i + 1] as usize]
    }
}

impl RingInfo {
    /// Ring ids atom `a` is in, in ring order (`atomMembers`).
    pub(crate) fn atom_members(&self, a: usize) -> &[usize] {
        self.atom_member_lists.get(a)
    }

    /// Ring ids bond `b` is in, in ring order.
    pub(crate) fn bond_members(&self, b: usize) -> &[usize] {
        self.bond_member_lists.get(b)
    }

    pub(crate) fn num_atom_rings(&self, a: usize) -> usize {
        self.atom_members(a).len()
    }

    pub(crate) fn num_bond_rings(&self, b: usize) -> usize {
        self.bond_members(b).len()
    }

    pub(crate) fn min_bond_ring_size(&self, b: usize) -> usize {
        self.bond_members(b)
            .iter()
            .map(|&r| self.bond_rings[r].len())
            .min()
            .unwrap_or(0)
    }

    pub(crate) fn is_atom_in_ring_of_size(&self, a: usize, size: usize) -> bool {
        self.atom_members(a)
            .iter()
            .any(|&r| self.atom_rings[r].len() == size)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Mol {
    pub atoms: Vec<Atom>,
    pub bonds: Vec<Bond>,
    /// Per atom: its bond indices in bond-index order.
    pub atom_bonds: Vec<Vec<usize>>,
    pub rings: Option<RingInfo>,
}

fn hydrogen_implicit_valence(
    atom_index: usize,
    atomic_number: u32,
    explicit_valence: i32,
    radicals: i32,
    charge: i32,
    strict: bool,
) -> Option<Result<i32, RdkitSmilesError>> {
    if atomic_number != 1 || explicit_valence != 0 || radicals != 0 {
        return None;
    }
    Some(match charge {
        -1 | 1 => Ok(0),
        0 => Ok(1),
        _ if strict => Err(RdkitSmilesError::Sanitization(format!(
            "Unreasonable formal charge on atom # {atom_index}."
        ))),
        _ => Ok(0),
    })
}

fn aromatic_implicit_valence(
    atom_index: usize,
    explicit_plus_radicals: i32,
    default_valence: i32,
    valences: &[i8],
    strict: bool,
) -> Result<i32, RdkitSmilesError> {
    if explicit_plus_radicals <= default_valence {
        return Ok(default_valence - explicit_plus_radicals);
    }
    let accepted = valences
        .iter()
        .take_while(|&&valence| valence > 0)
        .any(|&valence| explicit_plus_radicals == i32::from(valence));
    if !accepted && strict {
        return Err(RdkitSmilesError::Sanitization(format!(
            "Explicit valence for aromatic atom # {atom_index} not equal to any accepted valence"
        )));
    }
    Ok(0)
}

fn aliphatic_implicit_valence(
    atom_index: usize,
    atomic_number: u32,
    explicit_plus_radicals: i32,
    valences: &[i8],
    original_valences: &[i8],
    strict: bool,
) -> Result<i32, RdkitSmilesError> {
    if let Some(total) = valences
        .iter()
        .take_while(|&&valence| valence >= 0)
        .map(|&valence| i32::from(valence))
        .find(|&total| explicit_plus_radicals <= total)
    {
        return Ok(total - explicit_plus_radicals);
    }
    if strict
        && *valences.last().unwrap_or(&-1) != -1
        && *original_valences.last().unwrap_or(&-1) > 0
    {
        return Err(RdkitSmilesError::Sanitization(format!(
            "Explicit valence for atom # {atom_index} {} greater than permitted",
            periodic::symbol(atomic_number)
        )));
    }
    Ok(0)
}

impl Mol {
    pub(crate) fn add_atom(&mut self, atom: Atom) -> usize {
        self.atoms.push(atom);
        self.atom_bonds.push(Vec::new());
        self.atoms.len() - 1
    }

    pub(crate) fn add_bond(&mut self, bond: Bond) -> usize {
        let idx = self.bonds.len();
        self.atom_bonds[bond.begin].push(idx);
        self.atom_bonds[bond.end].push(idx);
        self.bonds.push(bond);
        idx
    }

    pub(crate) fn degree(&self, a: usize) -> usize {
        self.atom_bonds[a].len()
    }

    pub(crate) fn nbrs(&self, a: usize) -> impl Iterator<Item = usize> + '_ {
        self.atom_bonds[a]
            .iter()
            .map(move |&b| self.bonds[b].other(a))
    }

    pub(crate) fn bond_between(&self, a: usize, b: usize) -> Option<usize> {
        self.atom_bonds[a]
            .iter()
            .copied()
            .find(|&bi| self.bonds[bi].other(a) == b)
    }

    pub(crate) fn ring_info(&self) -> &RingInfo {
        self.rings.as_ref().expect("ring info is computed")
    }

    pub(crate) fn num_atom_rings(&self, a: usize) -> usize {
        self.rings.as_ref().map_or(0, |r| r.num_atom_rings(a))
    }

    pub(crate) fn num_bond_rings(&self, b: usize) -> usize {
        self.rings.as_ref().map_or(0, |r| r.num_bond_rings(b))
    }

    /// `isAromaticAtom`.
    pub(crate) fn is_aromatic_atom(&self, a: usize) -> bool {
        if self.atoms[a].aromatic {
            return true;
        }
        self.atom_bonds[a].iter().any(|&b| {
            let bond = &self.bonds[b];
            bond.aromatic || bond.bt == BondType::Aromatic
        })
    }

    /// `Atom::getNumImplicitHs`.
    pub(crate) fn num_implicit_hs(&self, a: usize) -> u32 {
        let atom = &self.atoms[a];
        if atom.no_implicit {
            return 0;
        }
        atom.implicit_valence.max(0) as u32
    }

    /// `Atom::getTotalNumHs()`.
    pub(crate) fn total_num_hs(&self, a: usize) -> u32 {
        self.atoms[a].num_explicit_hs + self.num_implicit_hs(a)
    }

    /// `Atom::getValence(IMPLICIT)`.
    pub(crate) fn implicit_valence(&self, a: usize) -> i32 {
        let atom = &self.atoms[a];
        if atom.no_implicit {
            0
        } else {
            atom.implicit_valence
        }
    }

    /// `Atom::getTotalValence`.
    pub(crate) fn total_valence(&self, a: usize) -> i32 {
        self.atoms[a].explicit_valence + self.implicit_valence(a)
    }

    /// `Atom::getTotalDegree`.
    pub(crate) fn total_degree(&self, a: usize) -> usize {
        self.total_num_hs(a) as usize + self.degree(a)
    }

    /// `Atom::needsUpdatePropertyCache`.
    pub(crate) fn needs_update_property_cache(&self, a: usize) -> bool {
        let atom = &self.atoms[a];
        !(atom.explicit_valence >= 0 && (atom.no_implicit || atom.implicit_valence >= 0))
    }

    /// Parity of `Atom::getPerturbationOrder(probe)`: whether the bond list
    /// `probe` is an odd permutation of the atom's bond list.
    pub(crate) fn perturbation_is_odd(&self, a: usize, probe: &[usize]) -> bool {
        count_swaps(probe, &self.atom_bonds[a]) % 2 == 1
    }

    /// `getEffectiveAtomicNum(atom, false)`.
    fn effective_atomic_num(&self, a: usize) -> u32 {
        let atom = &self.atoms[a];
        (atom.anum as i32 - atom.charge).clamp(0, periodic::max_atomic_num()) as u32
    }

    /// `canBeHypervalent`.
    fn can_be_hypervalent(&self, a: usize, eff: u32) -> bool {
        let anum = self.atoms[a].anum;
        (eff > 16 && (anum == 15 || anum == 16)) || (eff > 34 && (anum == 33 || anum == 34))
    }

    /// `calculateExplicitValence(atom, strict, checkIt=false)`.
    pub(crate) fn calc_explicit_valence_value(
        &self,
        a: usize,
        strict: bool,
    ) -> Result<i32, RdkitSmilesError> {
        let atom = &self.atoms[a];
        let mut accum = 0.0f64;
        for &b in &self.atom_bonds[a] {
            accum += self.bonds[b].valence_contrib(a);
        }
        accum += f64::from(atom.num_explicit_hs);
        let ovalens = periodic::valence_list(atom.anum);
        let mut eff = atom.anum;
        if ovalens.len() > 1 || ovalens[0] != -1 {
            eff = self.effective_atomic_num(a);
        }
        let dv = periodic::default_valence(eff);
        let valens = periodic::valence_list(eff);
        // `unsigned int dv`: -1 never compares below `accum`.
        if dv >= 0 && accum > f64::from(dv) && self.is_aromatic_atom(a) {
            let mut pval = dv;
            for &val in valens {
                if val == -1 {
                    break;
                }
                if f64::from(val) > accum {
                    break;
                }
                pval = i32::from(val);
            }
            if accum - f64::from(pval) <= 1.5 {
                accum = f64::from(pval);
            }
        }
        accum += 0.1;
        let res = accum.round() as i32;
        if strict {
            let mut max_valence = i32::from(*valens.last().unwrap_or(&-1));
            let mut offset = 0;
            if self.can_be_hypervalent(a, eff) {
                max_valence = i32::from(*ovalens.last().unwrap_or(&-1));
                offset -= atom.charge;
            }
            if atom.anum == 1 && atom.charge == -1 {
                max_valence = 2;
            }
            if max_valence >= 0 && *ovalens.last().unwrap_or(&-1) >= 0 && res + offset > max_valence
            {
                return Err(RdkitSmilesError::Sanitization(format!(
                    "Explicit valence for atom # {a} {}, {res}, is greater than permitted",
                    periodic::symbol(atom.anum)
                )));
            }
        }
        Ok(res)
    }

    /// `Atom::calcExplicitValence(strict)`.
    pub(crate) fn calc_explicit_valence(
        &mut self,
        a: usize,
        strict: bool,
    ) -> Result<i32, RdkitSmilesError> {
        let v = self.calc_explicit_valence_value(a, strict)?;
        self.atoms[a].explicit_valence = v;
        Ok(v)
    }

    /// `calculateImplicitValence(atom, strict, checkIt=false)`.
    pub(crate) fn calc_implicit_valence_value(
        &self,
        a: usize,
        strict: bool,
    ) -> Result<i32, RdkitSmilesError> {
        let atom = &self.atoms[a];
        if atom.no_implicit {
            return Ok(0);
        }
        let mut explicit_valence = atom.explicit_valence;
        if explicit_valence == -1 {
            explicit_valence = self.calc_explicit_valence_value(a, strict)?;
        }
        let anum = atom.anum;
        if anum == 0 {
            return Ok(0);
        }
        let charge = atom.charge;
        let radicals = atom.radicals as i32;
        if let Some(result) =
            hydrogen_implicit_valence(a, anum, explicit_valence, radicals, charge, strict)
        {
            return result;
        }
        // RDKit reads the stored explicit valence here.
        let mut explicit_plus_rad = atom.explicit_valence + radicals;
        let ovalens = periodic::valence_list(anum);
        let mut eff = anum;
        if ovalens.len() > 1 || ovalens[0] != -1 {
            eff = self.effective_atomic_num(a);
        }
        if eff == 0 {
            return Ok(0);
        }
        let dv = periodic::default_valence(eff);
        if dv == -1 {
            return Ok(0);
        }
        if self.can_be_hypervalent(a, eff) {
            eff = anum;
            explicit_plus_rad -= charge;
        }
        let valens = periodic::valence_list(eff);
        if self.is_aromatic_atom(a) {
            aromatic_implicit_valence(a, explicit_plus_rad, dv, valens, strict)
        } else {
            aliphatic_implicit_valence(a, anum, explicit_plus_rad, valens, ovalens, strict)
        }
    }

    /// `Atom::calcImplicitValence(strict)`.
    pub(crate) fn calc_implicit_valence(
        &mut self,
        a: usize,
        strict: bool,
    ) -> Result<i32, RdkitSmilesError> {
        if self.atoms[a].explicit_valence == -1 {
            self.calc_explicit_valence(a, strict)?;
        }
        let v = self.calc_implicit_valence_value(a, strict)?;
        self.atoms[a].implicit_valence = v;
        Ok(v)
    }

    /// `Atom::updatePropertyCache(strict)`.
    pub(crate) fn update_atom_property_cache(
        &mut self,
        a: usize,
        strict: bool,
    ) -> Result<(), RdkitSmilesError> {
        self.calc_explicit_valence(a, strict)?;
        self.calc_implicit_valence(a, strict)?;
        Ok(())
    }

    /// `ROMol::updatePropertyCache(strict)`.
    pub(crate) fn update_property_cache(&mut self, strict: bool) -> Result<(), RdkitSmilesError> {
        for a in 0..self.atoms.len() {
            self.update_atom_property_cache(a, strict)?;
        }
        Ok(())
    }

    /// `RWMol::removeAtom`: drops the atom and its bonds and renumbers the
    /// rest, keeping their order. Ring information is reset.
    pub(crate) fn remove_atom(&mut self, idx: usize) {
        let removed: Vec<usize> = self.atom_bonds[idx].clone();
        let mut keep = vec![true; self.bonds.len()];
        for &b in &removed {
            keep[b] = false;
        }
        let mut new_bond_idx = vec![usize::MAX; self.bonds.len()];
        let mut bonds = Vec::with_capacity(self.bonds.len());
        for (b, bond) in self.bonds.drain(..).enumerate() {
            if keep[b] {
                new_bond_idx[b] = bonds.len();
                bonds.push(bond);
            }
        }
        let fix_atom = |x: usize| if x > idx { x - 1 } else { x };
        for bond in &mut bonds {
            bond.begin = fix_atom(bond.begin);
            bond.end = fix_atom(bond.end);
            bond.stereo_atoms = bond.stereo_atoms.iter().map(|&x| fix_atom(x)).collect();
        }
        self.bonds = bonds;
        self.atoms.remove(idx);
        self.atom_bonds.remove(idx);
        for list in &mut self.atom_bonds {
            *list = list
                .iter()
                .filter(|&&b| keep[b])
                .map(|&b| new_bond_idx[b])
                .collect();
        }
        self.rings = None;
    }

    /// `RWMol::removeBond`: drops bond `b`, renumbering the later bonds.
    /// Ring information is reset.
    pub(crate) fn remove_bond(&mut self, b: usize) {
        self.bonds.remove(b);
        for list in &mut self.atom_bonds {
            list.retain(|&x| x != b);
            for x in list.iter_mut() {
                if *x > b {
                    *x -= 1;
                }
            }
        }
        self.rings = None;
    }

    /// [`Mol::remove_atom`] on each of `removed` (ascending, distinct) from
    /// the last to the first, in one pass.
    pub(crate) fn remove_atoms(&mut self, removed: &[usize]) {
        if removed.is_empty() {
            return;
        }
        let n = self.atoms.len();
        let mut gone = vec![false; n];
        for &a in removed {
            gone[a] = true;
        }
        // Each removal shifts the indices above it down by one; a stereo
        // atom equal to a removed index ends up shifted the same way.
        let mut shift = vec![0usize; n + 1];
        for i in 0..n {
            shift[i + 1] = shift[i] + usize::from(gone[i]);
        }
        let fix_atom = |x: usize| x - shift[x.min(n)];
        let mut new_bond_idx = vec![usize::MAX; self.bonds.len()];
        let mut bonds = Vec::with_capacity(self.bonds.len());
        for (b, mut bond) in self.bonds.drain(..).enumerate() {
            if gone[bond.begin] || gone[bond.end] {
                continue;
            }
            new_bond_idx[b] = bonds.len();
            bond.begin = fix_atom(bond.begin);
            bond.end = fix_atom(bond.end);
            for x in &mut bond.stereo_atoms {
                *x = fix_atom(*x);
            }
            bonds.push(bond);
        }
        self.bonds = bonds;
        let mut i = 0;
        self.atoms.retain(|_| {
            i += 1;
            !gone[i - 1]
        });
        let mut i = 0;
        self.atom_bonds.retain(|_| {
            i += 1;
            !gone[i - 1]
        });
        for list in &mut self.atom_bonds {
            list.retain(|&b| new_bond_idx[b] != usize::MAX);
            for b in list.iter_mut() {
                *b = new_bond_idx[*b];
            }
        }
        self.rings = None;
    }

    /// `MolOps::symmetrizeSSSR`: (re)computes the ring information.
    /// `MolOps::findSSSR` (no symmetrization), as `Kekulize` runs it on a
    /// molecule without ring information.
    pub(crate) fn find_sssr(&mut self) -> Result<(), RdkitSmilesError> {
        let bonds: Vec<(usize, usize, bool)> = self
            .bonds
            .iter()
            .map(|b| (b.begin, b.end, b.bt != BondType::Dative))
            .collect();
        let mut rings = chematic_perception::rdkit_sssr(self.atoms.len(), &bonds).ok_or_else(|| {
            RdkitSmilesError::Unsupported(
                "ring perception falls back to RDKit's approximate ring finder".into(),
            )
        })?;
        // chemlm patch: RDKit 2026.09 normalizes each ring and sorts the SSSR by size, then atoms.
        rings.iter_mut().for_each(|r| normalize_ring(r));
        rings.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        self.set_rings(rings);
        Ok(())
    }

    pub(crate) fn find_rings(&mut self) -> Result<(), RdkitSmilesError> {
        let bonds: Vec<(usize, usize, bool)> = self
            .bonds
            .iter()
            .map(|b| (b.begin, b.end, b.bt != BondType::Dative))
            .collect();
        let mut rings = chematic_perception::rdkit_symmetrized_sssr(self.atoms.len(), &bonds)
            .ok_or_else(|| {
                RdkitSmilesError::Unsupported(
                    "ring perception falls back to RDKit's approximate ring finder".into(),
                )
            })?;
        // chemlm patch: RDKit 2026.09 stores RingDecomposerLib's relevant cycles, each normalized
        // (`normalizeRing`), smaller before larger within a ring system (stable: equal sizes keep
        // the order found). Kekulization lists a ring system's atoms in ring order.
        rings.iter_mut().for_each(|r| normalize_ring(r));
        rings.sort_by_key(Vec::len);
        self.set_rings(rings);
        Ok(())
    }

    pub(crate) fn set_rings(&mut self, atom_rings: Vec<Vec<usize>>) {
        let bond_rings: Vec<Vec<usize>> = atom_rings
            .iter()
            .map(|ring| {
                (0..ring.len())
                    .map(|k| {
                        self.bond_between(ring[k], ring[(k + 1) % ring.len()])
                            .expect("ring atoms are bonded")
                    })
                    .collect()
            })
            .collect();
        self.rings = Some(RingInfo {
            atom_member_lists: Members::build(self.atoms.len(), atom_rings.iter()),
            bond_member_lists: Members::build(self.bonds.len(), bond_rings.iter()),
            atom_rings,
            bond_rings,
        });
    }
}

impl Mol {
    /// `Chirality::getChiralAcrossAtom(cen, lig)`.
    pub(crate) fn chiral_across_atom(&self, cen: usize, lig: usize) -> Option<usize> {
        let class = self.atoms[cen].chiral.nontet()?;
        let perm = self.atoms[cen].chiral_perm;
        if perm == 0 {
            return None;
        }
        let bonds = &self.atom_bonds[cen];
        if bonds.len() > class.max_nbors() {
            return None;
        }
        let found = bonds
            .iter()
            .position(|&b| self.bonds[b].other(cen) == lig)?;
        let across = nontetrahedral::across(class, perm, found)?;
        bonds.get(across).map(|&b| self.bonds[b].other(cen))
    }

    /// `Chirality::getTrigonalBipyramidalAxialAtom(cen, axial)`.
    pub(crate) fn tb_axial_atom(&self, cen: usize, axial: i32) -> Option<usize> {
        if self.atoms[cen].chiral != ChiralTag::TrigonalBipyramidal || self.degree(cen) > 5 {
            return None;
        }
        let ax = nontetrahedral::tb_axial(self.atoms[cen].chiral_perm)?;
        let idx = if axial != -1 { ax[0] } else { ax[1] };
        self.atom_bonds[cen]
            .get(idx)
            .map(|&b| self.bonds[b].other(cen))
    }

    /// `isTrigonalBipyramidalAxialAtom(cen, qry) != 0`.
    fn is_tb_axial_atom(&self, cen: usize, qry: usize) -> bool {
        if self.atoms[cen].chiral != ChiralTag::TrigonalBipyramidal || self.degree(cen) > 5 {
            return false;
        }
        let Some(ax) = nontetrahedral::tb_axial(self.atoms[cen].chiral_perm) else {
            return false;
        };
        match self.atom_bonds[cen]
            .iter()
            .position(|&b| self.bonds[b].other(cen) == qry)
        {
            Some(pos) => pos == ax[0] || pos == ax[1],
            None => false,
        }
    }

    /// `Chirality::getIdealAngleBetweenLigands(cen, lig1, lig2)` (degrees).
    pub(crate) fn ideal_angle_between_ligands(&self, cen: usize, lig1: usize, lig2: usize) -> f64 {
        match self.atoms[cen].chiral {
            ChiralTag::SquarePlanar | ChiralTag::Octahedral => {
                if self.chiral_across_atom(cen, lig1) == Some(lig2) {
                    180.0
                } else {
                    90.0
                }
            }
            ChiralTag::TrigonalBipyramidal => {
                if self.chiral_across_atom(cen, lig1) == Some(lig2) {
                    180.0
                } else if self.is_tb_axial_atom(cen, lig1) || self.is_tb_axial_atom(cen, lig2) {
                    90.0
                } else {
                    120.0
                }
            }
            _ => 0.0,
        }
    }

    /// `Chirality::getChiralPermutation(atom, probe, inverse)`: `probe` is
    /// a ligand order of bond indices (`None` for implicit or missing
    /// ligands); 0 where RDKit gives 0.
    pub(crate) fn chiral_permutation(
        &self,
        a: usize,
        probe: &[Option<usize>],
        inverse: bool,
    ) -> u32 {
        let atom = &self.atoms[a];
        let Some(class) = atom.chiral.nontet() else {
            return 0;
        };
        if atom.chiral_perm == 0 || probe.len() > class.max_nbors() {
            return 0;
        }
        let mut reference: Vec<Option<usize>> =
            self.atom_bonds[a].iter().map(|&b| Some(b)).collect();
        if reference.len() < probe.len() {
            reference.resize(probe.len(), None);
        }
        if reference.len() != probe.len() {
            return 0;
        }
        let (r, p) = if inverse {
            (probe, reference.as_slice())
        } else {
            (reference.as_slice(), probe)
        };
        nontetrahedral::permute(class, atom.chiral_perm, r, p).unwrap_or(0)
    }
}

/// `insertImplicitNbors`: pad a SMILES-order ligand list to the class's
/// ligand count, at the front for the first atom of a SMILES part and after
/// the first ligand otherwise.
pub(crate) fn insert_implicit_nbors(
    bonds: &mut Vec<Option<usize>>,
    class: NonTetrahedralClass,
    first: bool,
) {
    let max = class.max_nbors();
    if bonds.len() < max {
        let pad = max - bonds.len();
        let at = if first { 0 } else { 1.min(bonds.len()) };
        for _ in 0..pad {
            bonds.insert(at, None);
        }
    }
}

/// RDKit `countSwapsToInterconvert(ref, probe)`.
pub(crate) fn count_swaps(reference: &[usize], probe: &[usize]) -> usize {
    let mut probe = probe.to_vec();
    let mut n = 0;
    for i in 0..reference.len().min(probe.len()) {
        if probe[i] != reference[i]
            && let Some(j) = (i..probe.len()).find(|&j| probe[j] == reference[i])
        {
            probe.swap(i, j);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod primitive_contract_tests {
    use super::*;

    fn star(center: Atom, ligands: usize) -> Mol {
        let mut mol = Mol::default();
        mol.add_atom(center);
        for _ in 0..ligands {
            let ligand = mol.add_atom(Atom::new(9));
            mol.add_bond(Bond::new(0, ligand, BondType::Single));
        }
        mol
    }

    #[test]
    fn bond_types_and_directions_keep_their_numeric_contracts() {
        for (kind, order, twice) in [
            (BondType::Single, 1.0, 2),
            (BondType::Double, 2.0, 4),
            (BondType::Triple, 3.0, 6),
            (BondType::Quadruple, 4.0, 8),
            (BondType::Aromatic, 1.5, 3),
            (BondType::Dative, 1.0, 2),
        ] {
            assert_eq!(kind.as_double(), order);
            assert_eq!(kind.twice(), twice);
        }
        assert_eq!(BondDir::EndDownRight.flipped(), BondDir::EndUpRight);
        assert_eq!(BondDir::EndUpRight.flipped(), BondDir::EndDownRight);
        assert_eq!(BondDir::None.flipped(), BondDir::None);
        assert!(!BondDir::None.is_set());
        assert!(BondDir::EndUpRight.is_set());

        let dative = Bond::new(0, 1, BondType::Dative);
        assert_eq!(dative.valence_contrib(0), 0.0);
        assert_eq!(dative.valence_contrib(1), 1.0);
        assert_eq!(dative.valence_contrib(2), 0.0);
        assert!(!dative.can_have_direction());
        assert!(dative.can_set_double_bond_stereo());
    }

    #[test]
    fn atom_chirality_inversion_handles_every_geometry_family() {
        let mut tetra = Atom::new(6);
        tetra.chiral = ChiralTag::Cw;
        tetra.invert_chirality();
        assert_eq!(tetra.chiral, ChiralTag::Ccw);
        tetra.invert_chirality();
        assert_eq!(tetra.chiral, ChiralTag::Cw);

        for tag in [ChiralTag::TrigonalBipyramidal, ChiralTag::Octahedral] {
            let mut atom = Atom::new(78);
            atom.chiral = tag;
            atom.chiral_perm = 1;
            atom.invert_chirality();
            assert_ne!(atom.chiral_perm, 0);
        }
        let mut square = Atom::new(78);
        square.chiral = ChiralTag::SquarePlanar;
        square.chiral_perm = 1;
        square.invert_chirality();
        assert_eq!(square.chiral_perm, 1);
    }

    #[test]
    fn implicit_valence_rejects_impossible_hydrogen_charge_and_handles_dummies() {
        let mut hydrogen = Mol::default();
        let mut atom = Atom::new(1);
        atom.charge = 2;
        atom.explicit_valence = 0;
        hydrogen.add_atom(atom);
        assert!(hydrogen.calc_implicit_valence_value(0, true).is_err());
        assert_eq!(hydrogen.calc_implicit_valence_value(0, false).unwrap(), 0);

        let mut dummy = Mol::default();
        let mut atom = Atom::new(0);
        atom.explicit_valence = 0;
        dummy.add_atom(atom);
        assert_eq!(dummy.calc_implicit_valence_value(0, true).unwrap(), 0);

        let mut fixed = Mol::default();
        let mut atom = Atom::new(6);
        atom.no_implicit = true;
        fixed.add_atom(atom);
        assert_eq!(fixed.calc_implicit_valence_value(0, true).unwrap(), 0);
    }

    #[test]
    fn non_tetrahedral_queries_fail_closed_and_report_ideal_angles() {
        let ordinary = star(Atom::new(6), 4);
        assert_eq!(ordinary.chiral_across_atom(0, 1), None);
        assert_eq!(ordinary.ideal_angle_between_ligands(0, 1, 2), 0.0);
        assert_eq!(ordinary.chiral_permutation(0, &[Some(0)], false), 0);

        let mut square_atom = Atom::new(78);
        square_atom.chiral = ChiralTag::SquarePlanar;
        square_atom.chiral_perm = 1;
        let square = star(square_atom, 4);
        let across = square.chiral_across_atom(0, 1).unwrap();
        assert_eq!(square.ideal_angle_between_ligands(0, 1, across), 180.0);
        let adjacent = (1..=4)
            .find(|&ligand| ligand != across && ligand != 1)
            .unwrap();
        assert_eq!(square.ideal_angle_between_ligands(0, 1, adjacent), 90.0);
        assert_eq!(square.chiral_across_atom(0, 99), None);
        assert_eq!(square.chiral_permutation(0, &[None; 5], false), 0);

        let mut tb_atom = Atom::new(15);
        tb_atom.chiral = ChiralTag::TrigonalBipyramidal;
        tb_atom.chiral_perm = 1;
        let tb = star(tb_atom, 5);
        let axial = tb.tb_axial_atom(0, 1).unwrap();
        let other_axial = tb.tb_axial_atom(0, -1).unwrap();
        assert_eq!(tb.ideal_angle_between_ligands(0, axial, other_axial), 180.0);
        let equatorial = (1..=5)
            .find(|&ligand| ligand != axial && ligand != other_axial)
            .unwrap();
        assert_eq!(tb.ideal_angle_between_ligands(0, axial, equatorial), 90.0);
        assert_eq!(
            tb.ideal_angle_between_ligands(
                0,
                equatorial,
                (1..=5)
                    .find(|&ligand| ligand != axial
                        && ligand != other_axial
                        && ligand != equatorial)
                    .unwrap()
            ),
            120.0
        );

        let mut first = vec![Some(4), Some(5)];
        insert_implicit_nbors(&mut first, NonTetrahedralClass::SquarePlanar, true);
        assert_eq!(first.len(), 4);
        assert_eq!(first[0], None);
        let mut later = vec![Some(4), Some(5)];
        insert_implicit_nbors(&mut later, NonTetrahedralClass::SquarePlanar, false);
        assert_eq!(later.len(), 4);
        assert_eq!(later[0], Some(4));
        assert_eq!(count_swaps(&[1, 2, 3], &[3, 2, 1]), 1);
    }
}

/// `RingUtils::normalizeRing` (RDKit 2026.09, chemlm patch): the ring rotated to start at its
/// smallest atom index and turned to continue towards the smaller of that atom's two ring
/// neighbours. The order of a ring's atoms decides the order in which kekulization visits them.
pub(crate) fn normalize_ring(ring: &mut [usize]) {
    let Some(start) = (0..ring.len()).min_by_key(|&i| ring[i]) else {
        return;
    };
    ring.rotate_left(start);
    if ring.len() > 2 && ring[ring.len() - 1] < ring[1] {
        ring[1..].reverse();
    }
}
