//! Reaction metrics: top-k accuracy of ranked predictions (forward prediction, retrosynthesis)
//! and round-trip accuracy of retrosynthesis predictions through a forward model.
//!
//! Comparison is on canonical SMILES (RDKit's, through chemlm-chem). A multi-fragment string
//! (`A.B`) is compared as the sorted list of its fragments' canonical SMILES joined by `.`, so
//! reactant order does not matter. A prediction that does not parse (any fragment, or an empty
//! fragment as in `CC..C`) is wrong; so is every prediction for a target that does not parse.
//! Duplicated predictions are not merged: a list is ranked as the model returned it.

use crate::error::MetricsError;
use serde::{Deserialize, Serialize};

/// The canonical form used for comparison: each `.`-separated fragment canonicalised, sorted,
/// joined by `.`; None when the string is empty or any fragment is invalid.
pub fn canonical_fragments(smiles: &str) -> Option<String> {
    let smiles = smiles.trim();
    if smiles.is_empty() {
        return None;
    }
    let mut frags = Vec::new();
    for part in smiles.split('.') {
        if part.is_empty() {
            return None;
        }
        frags.push(crate::smiles::parse_rdkit(part)?.canonical_smiles().ok()?);
    }
    frags.sort();
    Some(frags.join("."))
}

/// Top-k accuracies, one per requested k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopKReport {
    pub n: usize,
    /// `(k, share of targets found among the first k predictions)`, in the order asked.
    pub accuracy: Vec<(usize, f64)>,
    /// Targets that do not parse (always counted wrong).
    pub invalid_targets: usize,
    /// Predictions (over all ranks given) that do not parse.
    pub invalid_predictions: usize,
}

/// Rank (0-based) of the first prediction equal to the target after canonicalisation.
pub fn first_hit(predictions: &[impl AsRef<str>], target: &str) -> Option<usize> {
    let target = canonical_fragments(target)?;
    predictions
        .iter()
        .position(|p| canonical_fragments(p.as_ref()).is_some_and(|c| c == target))
}

/// Top-k accuracy of ranked `predictions[i]` against `targets[i]` for every k in `ks`.
pub fn topk_accuracy<S: AsRef<str>>(
    predictions: &[Vec<S>],
    targets: &[S],
    ks: &[usize],
) -> Result<TopKReport, MetricsError> {
    if predictions.len() != targets.len() {
        return Err(MetricsError::LengthMismatch {
            what: "top-k accuracy",
            left: predictions.len(),
            right: targets.len(),
        });
    }
    if targets.is_empty() {
        return Err(MetricsError::EmptyCorpus("top-k accuracy"));
    }
    if ks.contains(&0) {
        return Err(MetricsError::InvalidArgument("top-k needs k >= 1".into()));
    }
    let mut hits = vec![0usize; ks.len()];
    let (mut invalid_targets, mut invalid_predictions) = (0, 0);
    for (preds, target) in predictions.iter().zip(targets) {
        let canon: Vec<Option<String>> = preds
            .iter()
            .map(|p| canonical_fragments(p.as_ref()))
            .collect();
        invalid_predictions += canon.iter().filter(|c| c.is_none()).count();
        let Some(t) = canonical_fragments(target.as_ref()) else {
            invalid_targets += 1;
            continue;
        };
        let rank = canon.iter().position(|c| c.as_deref() == Some(t.as_str()));
        for (h, &k) in hits.iter_mut().zip(ks) {
            *h += usize::from(rank.is_some_and(|r| r < k));
        }
    }
    let n = targets.len();
    Ok(TopKReport {
        n,
        accuracy: ks
            .iter()
            .zip(&hits)
            .map(|(&k, &h)| (k, h as f64 / n as f64))
            .collect(),
        invalid_targets,
        invalid_predictions,
    })
}

/// Round-trip accuracy at one k.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoundTrip {
    pub k: usize,
    /// Share of products for which at least one of the first k retrosynthesis predictions,
    /// run through the forward model, gives the product back.
    pub top_k: f64,
    /// Mean over products of the share of the first k predictions that give the product back
    /// (Schwaller et al. 2020's round-trip accuracy; a missing prediction counts as a failure).
    pub mean_fraction: f64,
}

/// Round-trip accuracy: `forward[i][j]` is the forward model's top-1 product for the retro
/// model's j-th ranked reactant set of `products[i]` (the harness runs the forward model; this
/// function only compares). One [`RoundTrip`] per k in `ks`.
pub fn roundtrip_accuracy<S: AsRef<str>>(
    products: &[S],
    forward: &[Vec<S>],
    ks: &[usize],
) -> Result<Vec<RoundTrip>, MetricsError> {
    if products.len() != forward.len() {
        return Err(MetricsError::LengthMismatch {
            what: "round-trip accuracy",
            left: forward.len(),
            right: products.len(),
        });
    }
    if products.is_empty() {
        return Err(MetricsError::EmptyCorpus("round-trip accuracy"));
    }
    if ks.contains(&0) {
        return Err(MetricsError::InvalidArgument(
            "round trip needs k >= 1".into(),
        ));
    }
    let ok: Vec<Vec<bool>> = products
        .iter()
        .zip(forward)
        .map(|(p, f)| {
            let target = canonical_fragments(p.as_ref());
            f.iter()
                .map(|x| target.is_some() && canonical_fragments(x.as_ref()) == target)
                .collect()
        })
        .collect();
    let n = products.len() as f64;
    Ok(ks
        .iter()
        .map(|&k| {
            let (mut any, mut frac) = (0usize, 0.0);
            for row in &ok {
                let first = &row[..k.min(row.len())];
                any += usize::from(first.iter().any(|&b| b));
                frac += first.iter().filter(|&&b| b).count() as f64 / k as f64;
            }
            RoundTrip {
                k,
                top_k: any as f64 / n,
                mean_fraction: frac / n,
            }
        })
        .collect())
}
