//! ROUGE-N and ROUGE-L exactly as Google's `rouge-score` package (`rouge_score.rouge_scorer.
//! RougeScorer(types, use_stemmer)`, version 0.1.2), which MolT5 and GT4SD use.
//!
//! Its tokenizer: lower-case, every run of characters other than `a-z0-9` becomes a separator,
//! and (with the stemmer) tokens longer than 3 characters go through nltk's Porter stemmer
//! ([`crate::porter`]). ROUGE-N counts clipped n-gram overlaps; ROUGE-L uses the longest
//! common subsequence. Precision is over the prediction, recall over the target; F is their
//! harmonic mean (0 when both are 0).

use crate::error::MetricsError;
use crate::porter;
use std::collections::HashMap;

/// Precision, recall and F-measure of one ROUGE type.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Score {
    pub precision: f64,
    pub recall: f64,
    pub fmeasure: f64,
}

impl Score {
    fn from_pr(precision: f64, recall: f64) -> Self {
        let fmeasure = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Self {
            precision,
            recall,
            fmeasure,
        }
    }
}

/// ROUGE-1, ROUGE-2 and ROUGE-L of one pair (or their means over a corpus).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct RougeScores {
    pub rouge1: Score,
    pub rouge2: Score,
    #[serde(rename = "rougeL")]
    pub rouge_l: Score,
}

/// `RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=...)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RougeScorer {
    pub use_stemmer: bool,
}

impl RougeScorer {
    pub fn new(use_stemmer: bool) -> Self {
        Self { use_stemmer }
    }

    /// rouge-score's default tokenizer (see the module doc).
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        lower
            .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
            .filter(|t| !t.is_empty())
            .map(|t| {
                if self.use_stemmer && t.len() > 3 {
                    porter::stem(t)
                } else {
                    t.to_string()
                }
            })
            .filter(|t| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
            .collect()
    }

    /// `scorer.score(target, prediction)`: note the order (MolT5 calls `score(output,
    /// ground_truth)`, i.e. with the roles swapped; F-measures are unaffected).
    pub fn score(&self, target: &str, prediction: &str) -> RougeScores {
        let t = self.tokenize(target);
        let p = self.tokenize(prediction);
        RougeScores {
            rouge1: rouge_n(&t, &p, 1),
            rouge2: rouge_n(&t, &p, 2),
            rouge_l: rouge_l(&t, &p),
        }
    }

    /// Mean of every field of `score(target, prediction)` over the pairs (MolT5's `np.mean`).
    pub fn mean_scores<S: AsRef<str>>(
        &self,
        targets: &[S],
        predictions: &[S],
    ) -> Result<RougeScores, MetricsError> {
        if targets.len() != predictions.len() {
            return Err(MetricsError::LengthMismatch {
                what: "ROUGE",
                left: predictions.len(),
                right: targets.len(),
            });
        }
        if targets.is_empty() {
            return Err(MetricsError::EmptyCorpus("ROUGE"));
        }
        let all: Vec<RougeScores> = targets
            .iter()
            .zip(predictions)
            .map(|(t, p)| self.score(t.as_ref(), p.as_ref()))
            .collect();
        Ok(mean(&all))
    }
}

/// Field-wise arithmetic mean (left-to-right sum divided by the count, as `np.mean` gives to
/// within rounding: numpy sums pairwise, so the last bits may differ for long lists).
pub fn mean(all: &[RougeScores]) -> RougeScores {
    let n = all.len().max(1) as f64;
    let avg = |f: &dyn Fn(&RougeScores) -> Score| {
        let (mut p, mut r, mut fm) = (0.0, 0.0, 0.0);
        for s in all {
            let x = f(s);
            p += x.precision;
            r += x.recall;
            fm += x.fmeasure;
        }
        Score {
            precision: p / n,
            recall: r / n,
            fmeasure: fm / n,
        }
    };
    RougeScores {
        rouge1: avg(&|s| s.rouge1),
        rouge2: avg(&|s| s.rouge2),
        rouge_l: avg(&|s| s.rouge_l),
    }
}

fn rouge_n(target: &[String], prediction: &[String], n: usize) -> Score {
    let tc = ngram_counts(target, n);
    let pc = ngram_counts(prediction, n);
    let overlap: usize = tc
        .iter()
        .map(|(g, &c)| c.min(pc.get(g).copied().unwrap_or(0)))
        .sum();
    let t_total: usize = tc.values().sum();
    let p_total: usize = pc.values().sum();
    Score::from_pr(
        overlap as f64 / p_total.max(1) as f64,
        overlap as f64 / t_total.max(1) as f64,
    )
}

fn ngram_counts(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut m: HashMap<&[String], usize> = HashMap::new();
    if tokens.len() >= n {
        for g in tokens.windows(n) {
            *m.entry(g).or_insert(0) += 1;
        }
    }
    m
}

fn rouge_l(target: &[String], prediction: &[String]) -> Score {
    if target.is_empty() || prediction.is_empty() {
        return Score::default();
    }
    let lcs = lcs_len(target, prediction);
    Score::from_pr(
        lcs as f64 / prediction.len() as f64,
        lcs as f64 / target.len() as f64,
    )
}

/// Length of the longest common subsequence (one DP row).
pub(crate) fn lcs_len<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diag = 0;
        for (j, y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_pair() {
        let s = RougeScorer::new(false).score("The quick brown fox", "the quick fox!");
        assert!((s.rouge1.precision - 1.0).abs() < 1e-15);
        assert!((s.rouge1.recall - 0.75).abs() < 1e-15);
        assert!((s.rouge2.precision - 0.5).abs() < 1e-15);
        assert_eq!(lcs_len(&[1, 2, 3, 4], &[1, 3, 4]), 3);
        let e = RougeScorer::new(true).score("", "abc");
        assert_eq!(e.rouge_l, Score::default());
    }
}
