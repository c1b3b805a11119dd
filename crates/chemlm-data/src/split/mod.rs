//! Reproducible data splits: random, scaffold (chemprop-compatible, plain and balanced),
//! stratified and k-fold, written to JSON with the SHA-256 of the index lists so a split can be
//! shared, checked and reused.
//!
//! Rows whose SMILES does not parse are left out of every split (as chemprop drops invalid
//! molecules) and listed in the file with the reason; indices always refer to data rows of the
//! source file (0 = first row after the header).

mod methods;
pub mod pyrandom;

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::atomic::write_json;
use crate::download::sha256_bytes;
use crate::error::DataError;
pub use methods::{
    group_by_key, kfold, kfold_assignment, random_split, scaffold_split, stratified_split, Fold,
    SplitSizes,
};
pub use pyrandom::PyRandom;

/// Format tag of split files.
pub const SPLIT_FORMAT: &str = "chemlm-split/1";

/// How to split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SplitMethod {
    /// Uniformly at random (chemprop `random`).
    Random,
    /// By Bemis–Murcko scaffold (chemprop `scaffold_split`; `balanced` = `scaffold_balanced`).
    Scaffold { balanced: bool },
    /// Per class of one classification task.
    Stratified { task: String },
    /// k-fold cross-validation; `valid` adds a validation fold (chemprop `cv`).
    KFold { k: usize, valid: bool },
}

impl SplitMethod {
    /// Short name: `random`, `scaffold`, `scaffold_balanced`, `stratified`, `kfold`.
    pub fn name(&self) -> &'static str {
        match self {
            SplitMethod::Random => "random",
            SplitMethod::Scaffold { balanced: false } => "scaffold",
            SplitMethod::Scaffold { balanced: true } => "scaffold_balanced",
            SplitMethod::Stratified { .. } => "stratified",
            SplitMethod::KFold { .. } => "kfold",
        }
    }
}

/// The scaffold key chemprop groups by: `MurckoScaffoldSmiles(mol, includeChirality=False)`,
/// i.e. the scaffold without stereo or isotopes. We take our (isomeric) canonical scaffold and,
/// only when it carries stereo or isotope marks, strip them and canonicalize again, which gives
/// one key per non-stereo scaffold graph. Acyclic molecules share the empty key.
pub fn scaffold_key(smiles: &str) -> Result<String, chemlm_chem::ChemError> {
    let mol = chemlm_chem::Molecule::from_smiles(smiles)?;
    let s = mol.murcko_scaffold(false)?;
    if s.is_empty() || !s.bytes().any(|b| matches!(b, b'@' | b'/' | b'\\' | b'[')) {
        return Ok(s);
    }
    let flat = strip_stereo_and_isotopes(&s);
    if flat == s {
        return Ok(s);
    }
    chemlm_chem::canonicalize(&flat)
}

/// Removes `@` marks and isotope numbers inside brackets and `/` `\` bond marks outside.
fn strip_stereo_and_isotopes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_bracket = false;
    let mut bracket_start = false;
    for c in s.chars() {
        match c {
            '[' => {
                in_bracket = true;
                bracket_start = true;
                out.push(c);
                continue;
            }
            ']' => in_bracket = false,
            '@' if in_bracket => continue,
            '0'..='9' if in_bracket && bracket_start => continue,
            '/' | '\\' if !in_bracket => continue,
            _ => {}
        }
        bracket_start = false;
        out.push(c);
    }
    out
}

/// A row left out of a split, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub index: usize,
    pub reason: String,
}

/// The source a split was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSource {
    /// Registry name, when it is a registered data set.
    pub dataset: Option<String>,
    /// File name as given.
    pub path: String,
    /// SHA-256 of the file, so a split is never applied to other data by mistake.
    pub sha256: String,
}

/// A split as written to disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitFile {
    /// [`SPLIT_FORMAT`].
    pub format: String,
    pub source: Option<SplitSource>,
    /// Data rows in the source.
    pub rows: usize,
    pub method: SplitMethod,
    pub sizes: SplitSizes,
    pub seed: u64,
    pub excluded: Vec<Excluded>,
    /// One fold for train/valid/test splits, k for k-fold.
    pub folds: Vec<Fold>,
    /// SHA-256 of the compact JSON of `folds` (`[{"train":[…],"valid":[…],"test":[…]},…]`).
    pub folds_sha256: String,
}

impl SplitFile {
    /// The hash stored in `folds_sha256`.
    pub fn hash_folds(folds: &[Fold]) -> String {
        sha256_bytes(&serde_json::to_vec(folds).unwrap_or_default())
    }

    /// Checks the hash and that every index is a row, used at most once per fold, and not
    /// excluded.
    pub fn verify(&self) -> Result<(), String> {
        if self.format != SPLIT_FORMAT {
            return Err(format!(
                "format {:?}, expected {SPLIT_FORMAT:?}",
                self.format
            ));
        }
        let h = Self::hash_folds(&self.folds);
        if h != self.folds_sha256 {
            return Err(format!(
                "folds hash to {h}, the file says {}: the index lists were changed",
                self.folds_sha256
            ));
        }
        let mut seen = vec![false; self.rows];
        for (fi, f) in self.folds.iter().enumerate() {
            seen.iter_mut().for_each(|s| *s = false);
            for &i in f.train.iter().chain(&f.valid).chain(&f.test) {
                if i >= self.rows {
                    return Err(format!(
                        "fold {fi}: index {i} is not a row (rows: {})",
                        self.rows
                    ));
                }
                if std::mem::replace(&mut seen[i], true) {
                    return Err(format!("fold {fi}: row {i} is in two sets"));
                }
            }
            for e in &self.excluded {
                if e.index < self.rows && seen[e.index] {
                    return Err(format!("fold {fi}: excluded row {} is used", e.index));
                }
            }
        }
        Ok(())
    }

    /// Writes the split atomically.
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        write_json(path, self)
    }

    /// Reads and verifies a split.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let s: SplitFile = serde_json::from_str(&text)
            .map_err(|e| DataError::format(path, format!("invalid split file: {e}")))?;
        s.verify().map_err(|r| DataError::format(path, r))?;
        Ok(s)
    }
}

/// What to split and how.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitRequest {
    pub method: SplitMethod,
    pub sizes: SplitSizes,
    pub seed: u64,
}

/// Splits the rows of a data set. `labels` (one class per row, for `Stratified`) must be given
/// for stratified splits. Rows whose SMILES does not parse (or whose scaffold cannot be made,
/// for scaffold splits) are excluded, with the reason.
pub fn make_split(
    smiles: &[String],
    labels: Option<&[Option<i64>]>,
    request: &SplitRequest,
    source: Option<SplitSource>,
) -> Result<SplitFile, DataError> {
    request.sizes.validate()?;
    let n = smiles.len();
    // Parse every molecule (and compute scaffolds when needed) in parallel.
    let need_scaffold = matches!(request.method, SplitMethod::Scaffold { .. });
    let keys: Vec<Result<String, String>> = smiles
        .par_iter()
        .map(|s| {
            if need_scaffold {
                scaffold_key(s).map_err(|e| e.to_string())
            } else {
                chemlm_chem::Molecule::from_smiles(s)
                    .map(|_| String::new())
                    .map_err(|e| e.to_string())
            }
        })
        .collect();
    let mut kept = Vec::with_capacity(n);
    let mut excluded = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match k {
            Ok(_) => kept.push(i),
            Err(e) => excluded.push(Excluded {
                index: i,
                reason: e.clone(),
            }),
        }
    }
    let m = kept.len();
    let local: Vec<Fold> = match &request.method {
        SplitMethod::Random => vec![random_split(m, request.sizes, request.seed)],
        SplitMethod::Scaffold { balanced } => {
            let k: Vec<&str> = kept
                .iter()
                .map(|&i| keys[i].as_deref().unwrap_or_default())
                .collect();
            vec![scaffold_split(&k, request.sizes, *balanced, request.seed)]
        }
        SplitMethod::Stratified { task } => {
            let labels = labels.ok_or_else(|| {
                DataError::Invalid(format!("stratified split on {task:?} needs class labels"))
            })?;
            if labels.len() != n {
                return Err(DataError::Invalid(format!(
                    "{} labels for {n} molecules",
                    labels.len()
                )));
            }
            let strata: Vec<Option<i64>> = kept.iter().map(|&i| labels[i]).collect();
            vec![stratified_split(&strata, request.sizes, request.seed)]
        }
        SplitMethod::KFold { k, valid } => kfold(m, *k, request.seed, *valid)?,
    };
    let map = |v: Vec<usize>| -> Vec<usize> { v.into_iter().map(|j| kept[j]).collect() };
    let folds: Vec<Fold> = local
        .into_iter()
        .map(|f| Fold {
            train: map(f.train),
            valid: map(f.valid),
            test: map(f.test),
        })
        .collect();
    let folds_sha256 = SplitFile::hash_folds(&folds);
    Ok(SplitFile {
        format: SPLIT_FORMAT.to_string(),
        source,
        rows: n,
        method: request.method.clone(),
        sizes: request.sizes,
        seed: request.seed,
        excluded,
        folds,
        folds_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_marks() {
        assert_eq!(
            strip_stereo_and_isotopes("F/C=C/[C@@H]1CC[13CH2]1"),
            "FC=C[CH]1CC[CH2]1"
        );
        assert_eq!(strip_stereo_and_isotopes("[2H]C"), "[H]C");
    }

    #[test]
    fn stereo_variants_share_a_scaffold_key() {
        let a = scaffold_key("C[C@H]1CC[C@@H](C)C(c2ccccc2)C1").unwrap();
        let b = scaffold_key("C[C@@H]1CC[C@@H](C)C(c2ccccc2)C1").unwrap();
        let c = scaffold_key("CC1CCC(C)C(c2ccccc2)C1").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(scaffold_key("CCO").unwrap(), "");
        assert!(scaffold_key("C1CC").is_err());
    }
}
