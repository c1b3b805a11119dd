//! BRICS fragments exactly as RDKit makes them, for MOSES's fragment-similarity metric (Frag).
//!
//! MOSES counts the pieces of `Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split('.')`
//! (`moses/metrics/utils.py`, `fragmenter`), so Frag is only comparable to published numbers if
//! every piece is RDKit's string, including the environment label RDKit puts on each cut end as
//! the dummy's isotope (`[4*]CC`). This module reproduces that:
//!
//! 1. [`view`]: RDKit's reading of the molecule (aromaticity, bond types, charges, ring
//!    membership), from chematic's port of RDKit's sanitization;
//! 2. [`environ`]: RDKit's BRICS environments (L1, L3–L16) as atom predicates and its bond rules in
//!    RDKit's precedence (ported from `MolFragmenter.cpp`), giving the cut bonds and their labels;
//! 3. [`write`]: the molecule with each cut bond replaced by two labelled dummies, written as SMILES
//!    (stereo kept as RDKit keeps it) and re-read, then RDKit's canonical SMILES of the whole,
//!    split at `.`.
//!
//! `tests/brics_golden.rs` checks the pieces against RDKit 2026.09 on 416 molecules (hand-written
//! cases for every rule, stereo, charges, isotopes, plus MOSES test molecules). Beyond the golden
//! set (`benches/chem/run.sh brics`), every one of the 1.58 M MOSES train and 176 k MOSES test
//! molecules gives RDKit's strings; on MoleculeNet the only differences are 14 bridged furans that
//! chematic's canonical SMILES already reads as non-aromatic.

mod environ;
mod view;
mod write;

use crate::error::ChemError;
use crate::mol::molecule::Molecule;

impl Molecule {
    /// The BRICS pieces MOSES counts: RDKit's
    /// `Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split('.')`, string for string (one
    /// entry per piece, in no particular order; repeated pieces are repeated).
    ///
    /// Each cut end carries a dummy atom labelled, as its isotope, with the BRICS environment of
    /// the atom it is attached to: ethyl propyl ether gives `[3*]O[3*]`, `[4*]CC`, `[4*]CCC`. A
    /// molecule without a breakable bond gives its canonical SMILES (split at `.` if it has
    /// several parts). Molecules RDKit refuses to sanitize give [`ChemError::Sanitize`].
    pub fn brics_fragments(&self) -> Result<Vec<String>, ChemError> {
        let mol = self.inner();
        let view = view::View::new(mol)?;
        let cuts = environ::find_cuts(&view);
        let smiles = if cuts.is_empty() {
            self.canonical_smiles()?
        } else {
            let text = self.restore_maps(write::fragmented_smiles(mol, &view, &cuts)?);
            let broken = Molecule::from_smiles(&text).map_err(|e| {
                ChemError::Unsupported(format!(
                    "BRICS pieces {text:?} written for re-reading did not parse: {e}"
                ))
            })?;
            broken.canonical_smiles()?
        };
        Ok(smiles.split('.').map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(smiles: &str) -> Vec<String> {
        let mut p = Molecule::from_smiles(smiles)
            .unwrap()
            .brics_fragments()
            .unwrap();
        p.sort();
        p
    }

    #[test]
    fn ether_is_cut_on_both_sides_with_rdkit_labels() {
        assert_eq!(pieces("CCCOCC"), ["[3*]O[3*]", "[4*]CC", "[4*]CCC"]);
    }

    #[test]
    fn no_cut_gives_the_canonical_molecule() {
        assert_eq!(pieces("c1ccccc1C"), ["Cc1ccccc1"]);
        assert_eq!(pieces("[Na+].CC(=O)[O-]"), ["CC(=O)[O-]", "[Na+]"]);
    }

    #[test]
    fn cut_double_bond_gets_double_bonded_dummies() {
        assert_eq!(pieces("CC=CC"), ["[7*]=CC", "[7*]=CC"]);
    }

    #[test]
    fn stereocentre_keeps_its_configuration_through_the_cut() {
        // RDKit: [1*]C(=O)[C@@H](N)CC.[3*]OC
        assert_eq!(
            pieces("N[C@@H](CC)C(=O)OC"),
            ["[1*]C(=O)[C@@H](N)CC", "[3*]OC"]
        );
        assert_eq!(
            pieces("N[C@H](CC)C(=O)OC"),
            ["[1*]C(=O)[C@H](N)CC", "[3*]OC"]
        );
    }
}
