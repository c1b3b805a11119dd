//! Molecule text conversions used while preparing corpora.

/// Whether this build can turn SMILES into SELFIES (the `selfies` feature, which uses
/// `chemlm_chem::selfies::encoder`).
pub const SELFIES_CONVERSION: bool = cfg!(feature = "selfies");

/// SELFIES of a SMILES string.
#[cfg(feature = "selfies")]
pub fn smiles_to_selfies(smiles: &str) -> Result<String, String> {
    chemlm_chem::selfies::encoder(smiles).map_err(|e| e.to_string())
}

/// SELFIES of a SMILES string (not available in this build).
#[cfg(not(feature = "selfies"))]
pub fn smiles_to_selfies(smiles: &str) -> Result<String, String> {
    let _ = smiles;
    Err("SMILES to SELFIES conversion is not in this build (chemlm-data feature `selfies`)".into())
}

/// Canonical SMILES (RDKit-compatible) of a SMILES string.
pub fn canonical_smiles(smiles: &str) -> Result<String, String> {
    chemlm_chem::canonicalize(smiles).map_err(|e| e.to_string())
}
