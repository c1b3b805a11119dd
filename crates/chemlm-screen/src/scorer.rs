//! Scoring library molecules against a query set.
//!
//! A [`Scorer`] is built once from the query molecules (known actives: fingerprints or embeddings
//! computed up front) and then scores batches of library SMILES. It takes batches rather than single
//! molecules because a neural scorer wants to run one forward pass per batch; the fingerprint scorer
//! simply loops. Scorers are `Sync`: the screen calls `score_batch` from several rayon threads at once.

use std::fmt;
use std::str::FromStr;

use chemlm_chem::{Fingerprint, Molecule};
use serde::{Deserialize, Serialize};

use crate::error::ScreenError;

/// The score of one library molecule: higher means more likely active.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub value: f64,
    /// Index (into the query list) of the most similar query molecule, when the scorer has one.
    pub nearest: Option<usize>,
}

/// Scores library molecules against queries prepared once at construction.
pub trait Scorer: Sync {
    /// One result per input SMILES, in order; `Err(reason)` for a molecule that cannot be scored
    /// (parse failure, unsupported chemistry), which the screen reports and counts.
    fn score_batch(&self, smiles: &[&str]) -> Vec<Result<Score, String>>;

    /// A short description for logs and result files, e.g. `ecfp4/max`.
    fn describe(&self) -> String;

    /// Whether a molecule's score is the same whatever molecules share its batch. A model's
    /// forward pass pads a batch to its longest member and may round another shape differently,
    /// so model scorers say no; a sharded screen then cuts its blocks on whole chunks.
    fn batch_invariant(&self) -> bool {
        false
    }
}

/// How per-query similarities are fused into one score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// Maximum similarity to any query ("MAX fusion", the usual choice for several actives).
    #[default]
    Max,
    /// Mean similarity over the queries.
    Mean,
}

impl FromStr for Aggregate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "max" => Ok(Self::Max),
            "mean" => Ok(Self::Mean),
            _ => Err(format!("unknown aggregate '{s}' (expected max or mean)")),
        }
    }
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Max => "max",
            Self::Mean => "mean",
        })
    }
}

/// A circular (Morgan) fingerprint flavour, 2048 bits, RDKit-compatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FingerprintKind {
    /// Morgan radius 2 (diameter 4), 2048 bits.
    #[default]
    Ecfp4,
    /// Morgan radius 3 (diameter 6), 2048 bits.
    Ecfp6,
}

impl FingerprintKind {
    /// `(radius, n_bits)` of the Morgan fingerprint.
    pub fn params(self) -> (u32, usize) {
        match self {
            Self::Ecfp4 => (2, 2048),
            Self::Ecfp6 => (3, 2048),
        }
    }

    /// The fingerprint of one SMILES, or the reason it has none.
    pub fn fingerprint(self, smiles: &str) -> Result<Fingerprint, String> {
        let (radius, bits) = self.params();
        let mol = Molecule::from_smiles(smiles).map_err(|e| e.to_string())?;
        mol.morgan(radius, bits).map_err(|e| e.to_string())
    }
}

impl FromStr for FingerprintKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ecfp4" => Ok(Self::Ecfp4),
            "ecfp6" => Ok(Self::Ecfp6),
            _ => Err(format!(
                "unknown fingerprint '{s}' (expected ecfp4 or ecfp6)"
            )),
        }
    }
}

impl fmt::Display for FingerprintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ecfp4 => "ecfp4",
            Self::Ecfp6 => "ecfp6",
        })
    }
}

/// Tanimoto similarity of Morgan fingerprints to the queries, fused by [`Aggregate`].
#[derive(Debug, Clone)]
pub struct FingerprintScorer {
    kind: FingerprintKind,
    aggregate: Aggregate,
    queries: Vec<Fingerprint>,
}

impl FingerprintScorer {
    /// Fingerprints the query SMILES once. Every query must parse: queries are a short curated
    /// list, and silently dropping one would change the results.
    pub fn new(
        kind: FingerprintKind,
        aggregate: Aggregate,
        queries: &[&str],
    ) -> Result<Self, ScreenError> {
        let fps = queries
            .iter()
            .enumerate()
            .map(|(index, s)| {
                kind.fingerprint(s).map_err(|reason| ScreenError::BadQuery {
                    index,
                    smiles: (*s).to_string(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_fingerprints(kind, aggregate, fps)
    }

    /// From precomputed query fingerprints (of `kind`).
    pub fn from_fingerprints(
        kind: FingerprintKind,
        aggregate: Aggregate,
        queries: Vec<Fingerprint>,
    ) -> Result<Self, ScreenError> {
        if queries.is_empty() {
            return Err(ScreenError::NoQueries);
        }
        Ok(Self {
            kind,
            aggregate,
            queries,
        })
    }

    /// Number of query molecules.
    pub fn n_queries(&self) -> usize {
        self.queries.len()
    }

    /// Score of an already computed fingerprint.
    pub fn score_fingerprint(&self, fp: &Fingerprint) -> Score {
        let (mut best, mut best_i, mut sum) = (f64::NEG_INFINITY, 0, 0.0);
        for (i, q) in self.queries.iter().enumerate() {
            let s = q.tanimoto(fp);
            sum += s;
            if s > best {
                best = s;
                best_i = i;
            }
        }
        let value = match self.aggregate {
            Aggregate::Max => best,
            Aggregate::Mean => sum / self.queries.len() as f64,
        };
        Score {
            value,
            nearest: Some(best_i),
        }
    }
}

impl Scorer for FingerprintScorer {
    fn score_batch(&self, smiles: &[&str]) -> Vec<Result<Score, String>> {
        smiles
            .iter()
            .map(|s| {
                self.kind
                    .fingerprint(s)
                    .map(|fp| self.score_fingerprint(&fp))
            })
            .collect()
    }

    fn describe(&self) -> String {
        format!("{}/{}", self.kind, self.aggregate)
    }

    /// Each fingerprint and Tanimoto value is computed on its own.
    fn batch_invariant(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_molecule_scores_one_and_names_nearest() {
        let s = FingerprintScorer::new(
            FingerprintKind::Ecfp4,
            Aggregate::Max,
            &["CCO", "c1ccccc1O"],
        )
        .unwrap();
        let r = s.score_batch(&["Oc1ccccc1", "not a smiles(", "CCCCCCCC"]);
        let first = r[0].as_ref().unwrap();
        assert_eq!(first.value, 1.0);
        assert_eq!(first.nearest, Some(1));
        assert!(r[1].is_err());
        assert!(r[2].as_ref().unwrap().value < 0.5);
    }

    #[test]
    fn mean_is_average_of_similarities() {
        let q = ["CCO", "c1ccccc1O"];
        let mean = FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Mean, &q).unwrap();
        let v = mean.score_batch(&["Oc1ccccc1"])[0].as_ref().unwrap().value;
        let a = FingerprintKind::Ecfp4.fingerprint("CCO").unwrap();
        let b = FingerprintKind::Ecfp4.fingerprint("Oc1ccccc1").unwrap();
        assert!((v - (a.tanimoto(&b) + 1.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn bad_query_is_an_error_naming_it() {
        let e = FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Max, &["CC", "C1CC"])
            .unwrap_err();
        assert!(matches!(e, ScreenError::BadQuery { index: 1, .. }), "{e}");
        assert!(matches!(
            FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Max, &[]),
            Err(ScreenError::NoQueries)
        ));
    }
}
