//! A parsed molecule and its RDKit-compatible SMILES forms and descriptors.
//!
//! Every operation goes through chematic's `rdkit_*` ports (RDKit 2026.x operation for operation),
//! never chematic's native canonical SMILES or ECFP, which differ from RDKit. Golden files made by
//! `scripts/gen_chem_golden.py` check each function against RDKit itself.

use crate::error::ChemError;
use crate::mol::labels::{widen, MapTable};
use crate::mol::parse::{parse_error, prepare, syntax_error};
use chematic::smiles as cs;
use chematic::smiles::{RdkitSmilesError, RdkitSmilesParams};
use std::sync::Arc;

/// A parsed molecule. Cheap to clone relative to parsing.
///
/// Parsing only checks the SMILES syntax, as RDKit's `MolFromSmiles(s, sanitize=False)` does;
/// chemistry RDKit rejects while sanitizing (valence errors, rings that cannot be kekulized) is
/// reported as [`ChemError::Sanitize`] by the operations that need RDKit's sanitized model, such as
/// [`Molecule::canonical_smiles`]. That keeps parsing cheap for callers that only need the graph.
#[derive(Clone)]
pub struct Molecule {
    inner: chematic::core::Molecule,
    /// Atom-map numbers above chematic's 16 bits (see `labels`); `None` for nearly every molecule.
    maps: Option<Arc<MapTable>>,
}

impl std::fmt::Debug for Molecule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Molecule")
            .field("atoms", &self.inner.atom_count())
            .finish()
    }
}

impl Molecule {
    /// Parses a SMILES string (surrounding whitespace ignored). The error names the byte position in
    /// `smiles` and the reason.
    ///
    /// ClinTox writes some directional bonds as a doubled backslash (`\\`), which RDKit reads as
    /// one; we do the same.
    pub fn from_smiles(smiles: &str) -> Result<Self, ChemError> {
        let prepared = prepare(smiles);
        // Cheap upper bound first (every atom needs at least one letter or `*`): refuse huge
        // inputs before parsing them.
        let letters = prepared
            .text
            .bytes()
            .filter(|b| {
                b.is_ascii_uppercase()
                    || matches!(b, b'c' | b'n' | b'o' | b's' | b'p' | b'b' | b'*')
            })
            .count();
        if letters > 2 * super::MAX_ATOMS {
            return Err(too_large(letters));
        }
        // RDKit's verdict on syntax first (see `syntax`); a branch dot comes back rewritten.
        let checked = super::syntax::check(&prepared.text)
            .map_err(|(pos, reason)| syntax_error(&prepared, smiles, pos, reason))?;
        // Labels chematic cannot hold are rewritten as RDKit reads them (see `labels`).
        let text = checked.as_deref().unwrap_or(&prepared.text);
        let (widened, maps) = match widen(text) {
            Some((w, maps)) => (Some(w), maps.map(Arc::new)),
            None => (None, None),
        };
        match widened.as_deref().or(checked.as_deref()) {
            // Positions in a rewritten string are not the caller's: name both strings instead.
            Some(rewritten) => {
                let inner = cs::parse_rdkit(rewritten).map_err(|e| ChemError::Parse {
                    position: None,
                    reason: format!("{e} (in {rewritten:?}, read from {:?})", prepared.text),
                })?;
                Ok(Self { inner, maps })
            }
            None => {
                let inner = cs::parse_rdkit(&prepared.text)
                    .map_err(|e| parse_error(&e, &prepared, smiles))?;
                Ok(Self { inner, maps })
            }
        }
        .and_then(|m: Self| {
            if m.inner.atom_count() > super::MAX_ATOMS {
                Err(too_large(m.inner.atom_count()))
            } else {
                Ok(m)
            }
        })
    }

    /// The canonical SMILES RDKit writes for this molecule: `Chem.MolToSmiles(Chem.MolFromSmiles(s))`
    /// (isomeric: stereo and isotopes kept). One string per molecule whatever the input atom order.
    pub fn canonical_smiles(&self) -> Result<String, ChemError> {
        cs::rdkit_canonical_smiles(&self.inner)
            .map(|s| self.restore_maps(s))
            .map_err(backend_error)
    }

    /// The canonical Kekulé SMILES: `Chem.MolToSmiles(mol, kekuleSmiles=True)` (RDKit kekulizes a
    /// copy with its canonical bond assignment, so aromatic rings come out as alternating `=`).
    pub fn kekulized_smiles(&self) -> Result<String, ChemError> {
        let params = RdkitSmilesParams {
            kekule: true,
            ..RdkitSmilesParams::default()
        };
        cs::rdkit_smiles(&self.inner, &params)
            .map(|s| self.restore_maps(s))
            .map_err(backend_error)
    }

    /// `n` randomized SMILES of this molecule, for augmentation: RDKit's
    /// `Chem.MolToRandomSmilesVect(mol, n, randomSeed=seed)`, string for string (a random root atom
    /// per fragment and random branch order, drawn from RDKit's `minstd_rand`).
    ///
    /// The same `(n, seed)` always gives the same strings. RDKit treats seed 0 as "continue a
    /// process-wide generator"; here 0 means RDKit's default seed 42, so results never depend on
    /// what ran before. Calls are serialized on one backend generator, so prefer batching `n` over
    /// many calls from many threads.
    pub fn random_smiles(&self, n: usize, seed: u32) -> Result<Vec<String>, ChemError> {
        let seed = if seed == 0 { 42 } else { seed };
        cs::rdkit_random_smiles(&self.inner, n, seed, &RdkitSmilesParams::default())
            .map(|v| v.into_iter().map(|s| self.restore_maps(s)).collect())
            .map_err(backend_error)
    }

    /// Number of atoms, heavy or not, as parsed (explicit `[H]` atoms included).
    pub fn num_atoms(&self) -> usize {
        self.inner.atom_count()
    }

    /// Atomic numbers of the atoms in SMILES order (the order their tokens appear in the string;
    /// explicit `[H]` atoms included, implicit hydrogens not). The wildcard `*` is 0.
    pub fn atomic_numbers(&self) -> Vec<u8> {
        self.inner
            .atoms()
            .map(|(_, a)| {
                if a.wildcard {
                    0
                } else {
                    a.element.atomic_number()
                }
            })
            .collect()
    }

    /// The bonds as pairs of atom indices (into [`Molecule::atomic_numbers`]), each once, lower
    /// index first: the molecular graph without bond orders.
    pub fn bond_pairs(&self) -> Vec<(usize, usize)> {
        self.inner
            .bonds()
            .map(|(_, b)| {
                let (i, j) = (b.atom1.0 as usize, b.atom2.0 as usize);
                (i.min(j), i.max(j))
            })
            .collect()
    }

    /// RDKit's `mol.GetNumHeavyAtoms()`: atoms with atomic number above 1 (so neither hydrogen,
    /// deuterium nor the dummy atom `*` count).
    pub fn num_heavy_atoms(&self) -> usize {
        self.inner
            .atoms()
            .filter(|(_, a)| !a.wildcard && a.element.atomic_number() > 1)
            .count()
    }

    /// Average molecular weight with implicit hydrogens: RDKit's `Descriptors.MolWt`. For a
    /// molecule RDKit refuses to sanitize, the value is computed on chematic's reading of the graph.
    pub fn molecular_weight(&self) -> f64 {
        chematic::chem::rdkit_molecular_weight(&self.inner)
    }

    /// Wildman–Crippen logP: RDKit's `Crippen.MolLogP` (= `Descriptors.MolLogP`).
    pub fn logp(&self) -> Result<f64, ChemError> {
        cs::rdkit_crippen_logp_mr(&self.inner)
            .map(|(logp, _mr)| logp)
            .ok_or_else(|| {
                ChemError::Unsupported(
                    "the RDKit-compatible Crippen model cannot type this molecule".into(),
                )
            })
    }

    /// Number of rings in RDKit's ring information (its symmetrized SSSR): `rdMolDescriptors.
    /// CalcNumRings` / `Descriptors.RingCount`. Cubane has 6, not the cycle rank 5.
    pub fn num_rings(&self) -> usize {
        chematic::chem::rdkit_num_rings(&self.inner)
    }

    /// The wrapped backend molecule, for code inside this crate.
    /// A 2-D drawing as an SVG document (chematic's layout and renderer: element colours,
    /// aromatic rings, charges and implicit hydrogens on heteroatoms), e.g. for the server's
    /// web page.
    pub fn depict_svg(&self) -> String {
        chematic::depict::depict_svg(&self.inner)
    }

    pub(crate) fn inner(&self) -> &chematic::core::Molecule {
        &self.inner
    }

    /// A SMILES written from the backend molecule, with the input's atom-map numbers (it differs
    /// from `smiles` only when some map number was above 65535; see `labels`).
    pub(crate) fn restore_maps(&self, smiles: String) -> String {
        match &self.maps {
            Some(table) => table.restore(&smiles),
            None => smiles,
        }
    }
}

/// Canonical SMILES of a SMILES string.
pub fn canonicalize(smiles: &str) -> Result<String, ChemError> {
    Molecule::from_smiles(smiles)?.canonical_smiles()
}

fn too_large(atoms: usize) -> ChemError {
    ChemError::Parse {
        position: None,
        reason: format!(
            "molecule too large: about {atoms} atoms, chemlm reads up to {} (see MAX_ATOMS)",
            super::MAX_ATOMS
        ),
    }
}

/// Maps the RDKit port's refusal onto our error: chemistry RDKit rejects is [`ChemError::Sanitize`],
/// a feature the port does not model is [`ChemError::Unsupported`].
pub(crate) fn backend_error(e: RdkitSmilesError) -> ChemError {
    match e {
        RdkitSmilesError::Sanitization(what) => ChemError::Sanitize(what),
        RdkitSmilesError::Unsupported(what) => ChemError::Unsupported(what),
    }
}
