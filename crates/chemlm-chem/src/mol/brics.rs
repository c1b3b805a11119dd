//! BRICS fragments (Degen et al. 2008), for the MOSES fragment-similarity metric.
//!
//! MOSES counts the pieces of `Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split('.')`.
//! Here the breakable bonds come from chematic's BRICS port (`chematic::chem::brics_bonds`: the
//! published environment rules, non-ring single bonds only), each cut end gets a plain `*`, and
//! every piece is written as RDKit canonical SMILES. RDKit labels its dummies with the rule's
//! environment as an isotope (`[4*]`); those labels are not reproduced, so the piece `[4*]CC`
//! here reads `*CC`. Known limitation: chematic's rule matching is not RDKit's — on the 33
//! molecules of `chemlm-train/tests/golden/genmetrics.json` only 12 give the same pieces as
//! RDKit (labels stripped); it misses some ester/amide cuts and cuts some C–C bonds RDKit keeps.
//! MOSES's Frag metric computed with it is therefore an approximation.

use crate::error::ChemError;
use crate::mol::molecule::Molecule;
use chematic::smiles as cs;

impl Molecule {
    /// Canonical SMILES of the BRICS fragments, with `*` at every cut (one entry per piece, in
    /// no particular order; repeated pieces are repeated). A molecule without a breakable bond
    /// is one piece: itself.
    pub fn brics_fragments(&self) -> Result<Vec<String>, ChemError> {
        let pieces = chematic::chem::brics_fragments(self.inner());
        let mut out = Vec::with_capacity(pieces.len());
        for p in pieces {
            // chematic's RDKit ports need a molecule read from SMILES: write and read it back.
            let text = cs::write(&p);
            let m = Molecule::from_smiles(&text)?;
            out.push(m.canonical_smiles()?);
        }
        Ok(out)
    }
}
