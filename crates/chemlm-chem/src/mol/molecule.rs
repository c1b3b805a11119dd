//! A parsed molecule and the RDKit-compatible operations on it.

use crate::error::ChemError;
use crate::mol::fingerprint::Fingerprint;
use chematic::smiles as cs;

/// A parsed molecule. Cheap to clone relative to parsing.
#[derive(Clone)]
pub struct Molecule {
    inner: chematic::core::Molecule,
}

impl std::fmt::Debug for Molecule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Molecule").field("atoms", &self.inner.atom_count()).finish()
    }
}

impl Molecule {
    /// Parses a SMILES string. The error names the position and reason.
    ///
    /// ClinTox writes some directional bonds as a doubled backslash (`\\`), which RDKit accepts
    /// as one; we do the same.
    pub fn from_smiles(smiles: &str) -> Result<Self, ChemError> {
        let smiles = smiles.trim();
        let fixed;
        let input = if smiles.contains("\\\\") {
            fixed = smiles.replace("\\\\", "\\");
            fixed.as_str()
        } else {
            smiles
        };
        let inner = cs::parse(input).map_err(parse_error)?;
        Ok(Self { inner })
    }

    /// The canonical SMILES RDKit writes for this molecule (stereo kept).
    pub fn canonical_smiles(&self) -> Result<String, ChemError> {
        cs::rdkit_canonical_smiles(&self.inner).map_err(|e| ChemError::Sanitize(e.to_string()))
    }

    /// The Bemis–Murcko scaffold as canonical SMILES (`MurckoScaffold.GetScaffoldForMol`).
    /// With `generic`, every atom becomes carbon and every bond single (`MakeScaffoldGeneric`).
    pub fn murcko_scaffold(&self, generic: bool) -> Result<String, ChemError> {
        let s = cs::rdkit_murcko_scaffold(&self.inner)
            .map_err(|e| ChemError::Sanitize(e.to_string()))?;
        if !generic || s.is_empty() {
            return Ok(s);
        }
        generic_scaffold(&s)
    }

    /// ECFP-style Morgan bit fingerprint (RDKit `GetMorganFingerprintAsBitVect`).
    pub fn morgan(&self, radius: u32, n_bits: usize) -> Result<Fingerprint, ChemError> {
        let _ = (radius, n_bits);
        Err(ChemError::Sanitize("morgan fingerprints not wired yet".into()))
    }

    /// The wrapped backend molecule, for code inside this crate.
    pub(crate) fn inner(&self) -> &chematic::core::Molecule {
        &self.inner
    }
}

/// Canonical SMILES of a SMILES string.
pub fn canonicalize(smiles: &str) -> Result<String, ChemError> {
    Molecule::from_smiles(smiles)?.canonical_smiles()
}

fn generic_scaffold(scaffold: &str) -> Result<String, ChemError> {
    let _ = scaffold;
    Err(ChemError::Sanitize("generic scaffolds not wired yet".into()))
}

fn parse_error(e: cs::SmilesError) -> ChemError {
    use cs::SmilesError as E;
    let position = match &e {
        E::UnexpectedEnd { pos }
        | E::UnknownElement { pos, .. }
        | E::UnmatchedRingClosure { pos, .. }
        | E::UnmatchedExtendedRingClosure { pos, .. }
        | E::MismatchedParentheses { pos }
        | E::InvalidBracketAtom { pos, .. }
        | E::ConflictingRingBond { pos, .. }
        | E::ConflictingExtendedRingBond { pos, .. }
        | E::NestingTooDeep { pos }
        | E::UnexpectedCharacter { pos }
        | E::UnsupportedChiralityClass { pos, .. } => Some(*pos),
        _ => None,
    };
    ChemError::Parse {
        position,
        reason: e.to_string(),
    }
}
