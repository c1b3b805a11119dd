//! Paragraph→actions metrics (Vaucher et al. 2020, paragraph2actions; reported by GT4SD /
//! Text+Chem T5 as BLEU-2): corpus BLEU on whitespace tokens of the action strings (nltk
//! `corpus_bleu`, one reference each; paragraph2actions splits with `str.split()`, which keeps
//! `;` and `.` attached to the words), exact string match, and character Levenshtein distance,
//! raw and normalised by the longer string, and paragraph2actions' similarity-threshold
//! ("partial") accuracies; similarity is `1 − distance / longer length` as textdistance's
//! `levenshtein.normalized_similarity`.
//!
//! `modified_bleu` is paragraph2actions' own BLEU-4 variant: every token list is padded with
//! empty tokens to at least 4, so short sequences are not zeroed.

use crate::bleu::{self, BLEU2, BLEU4};
use crate::error::MetricsError;
use crate::levenshtein;
use serde::{Deserialize, Serialize};

/// Paragraph→actions report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionsReport {
    pub n: usize,
    pub bleu2: f64,
    pub bleu4: f64,
    /// paragraph2actions' padded BLEU-4.
    pub modified_bleu: f64,
    /// Share of predictions identical to the reference (full-sentence accuracy).
    pub exact_match: f64,
    /// Mean character edit distance.
    pub levenshtein: f64,
    /// Mean of distance / longer length (0 for two empty strings).
    pub normalized_levenshtein: f64,
    /// Mean of 1 − normalised distance (paragraph2actions' Levenshtein similarity).
    pub levenshtein_similarity: f64,
    /// Share of pairs with similarity ≥ 0.9 (paragraph2actions' 90 % partial accuracy).
    pub accuracy_90: f64,
    /// Share of pairs with similarity ≥ 0.75.
    pub accuracy_75: f64,
}

/// Metrics of predicted action sequences against references (one each).
pub fn actions_metrics<S: AsRef<str>>(
    predictions: &[S],
    references: &[S],
) -> Result<ActionsReport, MetricsError> {
    if predictions.len() != references.len() {
        return Err(MetricsError::LengthMismatch {
            what: "actions",
            left: predictions.len(),
            right: references.len(),
        });
    }
    if predictions.is_empty() {
        return Err(MetricsError::EmptyCorpus("actions"));
    }
    let refs: Vec<Vec<Vec<&str>>> = references
        .iter()
        .map(|r| vec![r.as_ref().split_whitespace().collect()])
        .collect();
    let hyps: Vec<Vec<&str>> = predictions
        .iter()
        .map(|p| p.as_ref().split_whitespace().collect())
        .collect();
    let scores = bleu::corpus_bleu_multi(&refs, &hyps, &[&BLEU2, &BLEU4])?;
    let padded = |t: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = t.iter().map(|s| s.to_string()).collect();
        while v.len() < 4 {
            v.push(String::new());
        }
        v
    };
    let prefs: Vec<Vec<Vec<String>>> = refs.iter().map(|r| vec![padded(&r[0])]).collect();
    let phyps: Vec<Vec<String>> = hyps.iter().map(|h| padded(h)).collect();
    let modified_bleu = bleu::corpus_bleu(&prefs, &phyps, &BLEU4)?;
    let n = predictions.len() as f64;
    let (mut exact, mut lev, mut norm, mut sim) = (0usize, 0.0, 0.0, 0.0);
    let (mut acc90, mut acc75) = (0usize, 0usize);
    for (p, r) in predictions.iter().zip(references) {
        let (p, r) = (p.as_ref(), r.as_ref());
        exact += usize::from(p == r);
        lev += levenshtein::distance(p, r) as f64;
        let d = levenshtein::normalized(p, r);
        norm += d;
        sim += 1.0 - d;
        acc90 += usize::from(1.0 - d >= 0.9);
        acc75 += usize::from(1.0 - d >= 0.75);
    }
    Ok(ActionsReport {
        n: predictions.len(),
        bleu2: scores[0],
        bleu4: scores[1],
        modified_bleu,
        exact_match: exact as f64 / n,
        levenshtein: lev / n,
        normalized_levenshtein: norm / n,
        levenshtein_similarity: sim / n,
        accuracy_90: acc90 as f64 / n,
        accuracy_75: acc75 as f64 / n,
    })
}
