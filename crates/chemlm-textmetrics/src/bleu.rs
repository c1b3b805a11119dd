//! BLEU exactly as nltk's `nltk.translate.bleu_score.corpus_bleu` / `sentence_bleu` with no
//! smoothing (nltk 3.x, `SmoothingFunction().method0`), which is what MolT5, GT4SD and
//! paragraph2actions report.
//!
//! nltk's behaviour, kept on purpose so that numbers compare with published ones:
//! - modified n-gram precisions are summed over the corpus (micro average), each clipped by the
//!   maximum count of the n-gram in any one reference; a denominator is at least 1;
//! - the brevity penalty uses, per hypothesis, the reference length closest to the hypothesis
//!   length (the shorter one on a tie), summed over the corpus;
//! - when no unigram matches at all the score is exactly 0;
//! - otherwise an n-gram order with zero matches contributes `log(f64::MIN_POSITIVE)` (nltk
//!   substitutes `sys.float_info.min` and warns), so BLEU-4 of a corpus without any matching
//!   4-gram is a tiny positive number such as 1e-231, not 0;
//! - an empty corpus is an error (nltk raises `ZeroDivisionError`).

use crate::error::MetricsError;
use std::collections::HashMap;
use std::hash::Hash;

/// Weights of BLEU-2: `(0.5, 0.5)`.
pub const BLEU2: [f64; 2] = [0.5, 0.5];
/// Weights of BLEU-4 (nltk's default): `(0.25, 0.25, 0.25, 0.25)`.
pub const BLEU4: [f64; 4] = [0.25, 0.25, 0.25, 0.25];

/// Corpus-level counts behind a BLEU score, for callers that want to inspect or merge them.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct BleuStats {
    /// Clipped matches per n-gram order (index 0 = unigrams).
    pub numerators: Vec<u64>,
    /// Hypothesis n-gram counts per order, each hypothesis contributing at least 1.
    pub denominators: Vec<u64>,
    /// Total hypothesis length in tokens.
    pub hyp_len: u64,
    /// Total closest-reference length in tokens.
    pub ref_len: u64,
}

impl BleuStats {
    /// Counts for `max_n` n-gram orders over a corpus of `(references, hypothesis)` pairs.
    pub fn collect<T: Eq + Hash>(
        list_of_references: &[Vec<Vec<T>>],
        hypotheses: &[Vec<T>],
        max_n: usize,
    ) -> Result<Self, MetricsError> {
        if list_of_references.len() != hypotheses.len() {
            return Err(MetricsError::LengthMismatch {
                what: "BLEU",
                left: hypotheses.len(),
                right: list_of_references.len(),
            });
        }
        let mut stats = BleuStats {
            numerators: vec![0; max_n],
            denominators: vec![0; max_n],
            hyp_len: 0,
            ref_len: 0,
        };
        for (i, (references, hypothesis)) in list_of_references.iter().zip(hypotheses).enumerate() {
            if references.is_empty() {
                // nltk fails too (`min()` of no reference lengths).
                return Err(MetricsError::InvalidArgument(format!(
                    "BLEU: hypothesis {i} has no reference"
                )));
            }
            for n in 1..=max_n {
                let (num, den) = modified_precision(references, hypothesis, n);
                stats.numerators[n - 1] += num;
                stats.denominators[n - 1] += den;
            }
            stats.hyp_len += hypothesis.len() as u64;
            stats.ref_len += closest_ref_length(references, hypothesis.len()) as u64;
        }
        Ok(stats)
    }

    /// The BLEU score for `weights` (weight `i` applies to (i+1)-grams; orders beyond the
    /// collected ones are ignored, as nltk's `zip`).
    pub fn score(&self, weights: &[f64]) -> f64 {
        if self.numerators.first().copied().unwrap_or(0) == 0 {
            return 0.0;
        }
        let bp = brevity_penalty(self.ref_len, self.hyp_len);
        let log_sum: f64 = weights
            .iter()
            .zip(self.numerators.iter().zip(&self.denominators))
            .map(|(w, (&num, &den))| {
                let p = if num == 0 {
                    f64::MIN_POSITIVE
                } else {
                    num as f64 / den as f64
                };
                w * p.ln()
            })
            .sum();
        bp * log_sum.exp()
    }
}

/// nltk `corpus_bleu(list_of_references, hypotheses, weights)`: one score for the corpus.
/// `list_of_references[i]` holds the reference token lists of `hypotheses[i]`.
pub fn corpus_bleu<T: Eq + Hash>(
    list_of_references: &[Vec<Vec<T>>],
    hypotheses: &[Vec<T>],
    weights: &[f64],
) -> Result<f64, MetricsError> {
    Ok(corpus_bleu_multi(list_of_references, hypotheses, &[weights])?[0])
}

/// nltk `corpus_bleu` with a list of weight tuples: one score per tuple, n-grams counted once.
pub fn corpus_bleu_multi<T: Eq + Hash>(
    list_of_references: &[Vec<Vec<T>>],
    hypotheses: &[Vec<T>],
    weights: &[&[f64]],
) -> Result<Vec<f64>, MetricsError> {
    let max_n = weights.iter().map(|w| w.len()).max().unwrap_or(0);
    if max_n == 0 {
        return Err(MetricsError::InvalidArgument(
            "BLEU needs at least one n-gram weight".into(),
        ));
    }
    if hypotheses.is_empty() && list_of_references.is_empty() {
        return Err(MetricsError::EmptyCorpus("BLEU"));
    }
    let stats = BleuStats::collect(list_of_references, hypotheses, max_n)?;
    Ok(weights.iter().map(|w| stats.score(w)).collect())
}

/// nltk `sentence_bleu(references, hypothesis, weights)` (= `corpus_bleu([references],
/// [hypothesis], weights)`).
pub fn sentence_bleu<T: Eq + Hash + Clone>(
    references: &[Vec<T>],
    hypothesis: &[T],
    weights: &[f64],
) -> Result<f64, MetricsError> {
    corpus_bleu(&[references.to_vec()], &[hypothesis.to_vec()], weights)
}

/// Clipped n-gram matches and the hypothesis n-gram count (at least 1), as nltk's
/// `modified_precision` fraction (numerator, denominator).
fn modified_precision<T: Eq + Hash>(
    references: &[Vec<T>],
    hypothesis: &[T],
    n: usize,
) -> (u64, u64) {
    let counts = ngram_counts(hypothesis, n);
    let mut max_ref: HashMap<&[T], u64> = HashMap::with_capacity(counts.len());
    for reference in references {
        let ref_counts = ngram_counts(reference, n);
        for gram in counts.keys() {
            let c = ref_counts.get(gram).copied().unwrap_or(0);
            let slot = max_ref.entry(gram).or_insert(0);
            *slot = (*slot).max(c);
        }
    }
    let numerator = counts
        .iter()
        .map(|(gram, &c)| c.min(max_ref.get(gram).copied().unwrap_or(0)))
        .sum();
    let total: u64 = counts.values().sum();
    (numerator, total.max(1))
}

fn ngram_counts<T: Eq + Hash>(tokens: &[T], n: usize) -> HashMap<&[T], u64> {
    let mut counts = HashMap::new();
    if n == 0 || tokens.len() < n {
        return counts;
    }
    for gram in tokens.windows(n) {
        *counts.entry(gram).or_insert(0) += 1;
    }
    counts
}

/// Length of the reference closest to `hyp_len`, the shorter one on a tie (nltk
/// `closest_ref_length`); 0 when there is no reference (nltk raises there; the corpus functions
/// return an error).
pub fn closest_ref_length<T>(references: &[Vec<T>], hyp_len: usize) -> usize {
    references
        .iter()
        .map(Vec::len)
        .min_by_key(|&len| (len.abs_diff(hyp_len), len))
        .unwrap_or(0)
}

/// nltk `brevity_penalty(closest_ref_len, hyp_len)`.
pub fn brevity_penalty(closest_ref_len: u64, hyp_len: u64) -> f64 {
    if hyp_len > closest_ref_len {
        1.0
    } else if hyp_len == 0 {
        0.0
    } else {
        (1.0 - closest_ref_len as f64 / hyp_len as f64).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn perfect_match_is_one() {
        let r = vec![vec![toks("the cat sat on the mat")]];
        let h = vec![toks("the cat sat on the mat")];
        assert!((corpus_bleu(&r, &h, &BLEU4).unwrap() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn no_unigram_match_is_exactly_zero_and_empty_corpus_errors() {
        let r = vec![vec![toks("a b c")]];
        let h = vec![toks("x y")];
        assert_eq!(corpus_bleu(&r, &h, &BLEU2).unwrap(), 0.0);
        let empty: Vec<Vec<Vec<&str>>> = vec![];
        assert!(matches!(
            corpus_bleu(&empty, &[], &BLEU4),
            Err(MetricsError::EmptyCorpus(_))
        ));
        assert!(corpus_bleu(&r, &[], &BLEU4).is_err());
    }

    #[test]
    fn missing_order_gives_tiny_positive_like_nltk() {
        let r = vec![vec![toks("a b c")]];
        let h = vec![toks("c b a")];
        let s = corpus_bleu(&r, &h, &BLEU2).unwrap();
        assert!(s > 0.0 && s < 1e-150);
    }
}
