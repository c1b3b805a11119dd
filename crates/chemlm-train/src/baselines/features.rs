//! ECFP features as sparse on-bit lists.

use chemlm_chem::Molecule;
use rayon::prelude::*;

/// Sparse fingerprints of a list of SMILES: one on-bit list per parsable molecule, and the rows
/// that failed with the reason (reported and skipped by the caller, never silently dropped).
#[derive(Clone, Debug)]
pub struct Featurized {
    /// `bits[i]` is `Some(sorted on bits)` for row `i`, `None` when the molecule failed.
    pub bits: Vec<Option<Vec<u32>>>,
    /// `(row, reason)` of each failed molecule.
    pub failed: Vec<(usize, String)>,
    pub n_bits: usize,
}

/// Morgan fingerprints (`radius` 2 = ECFP4) folded to `n_bits`, computed in parallel.
pub fn ecfp_bits(smiles: &[String], radius: u32, n_bits: usize) -> Featurized {
    let results: Vec<Result<Vec<u32>, String>> = smiles
        .par_iter()
        .map(|s| {
            let fp = Molecule::from_smiles(s)
                .and_then(|m| m.morgan(radius, n_bits))
                .map_err(|e| e.to_string())?;
            Ok(fp.on_bits().into_iter().map(|b| b as u32).collect())
        })
        .collect();
    let mut bits = Vec::with_capacity(results.len());
    let mut failed = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(b) => bits.push(Some(b)),
            Err(e) => {
                failed.push((i, e));
                bits.push(None);
            }
        }
    }
    Featurized {
        bits,
        failed,
        n_bits,
    }
}
