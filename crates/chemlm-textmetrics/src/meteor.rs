//! METEOR exactly as nltk's `nltk.translate.meteor_score.meteor_score` (nltk 3.9/3.10), which
//! MolT5 and GT4SD report for molecule→text.
//!
//! Words are lower-cased, then aligned in three stages, each on the words the previous stages
//! left unmatched: exact match, Porter stems ([`crate::porter`]), WordNet synonyms (a hypothesis
//! word matches a reference word equal to itself or to a lemma name without `_` of any of its
//! synsets). In every stage hypothesis words are taken from last to first and each takes the
//! latest still-free reference position it can. Then with P = matches / hypothesis length,
//! R = matches / reference length, `F = P·R / (α·P + (1−α)·R)`, chunks = runs of matches
//! adjacent in both sentences, `score = F · (1 − γ·(chunks/matches)^β)`; 0 when nothing matches
//! or either side is empty. Several references: the best score.

use crate::error::MetricsError;
use crate::porter;
use crate::wordnet::WordNet;
use std::collections::{HashMap, HashSet};

/// nltk's METEOR with its parameters (defaults α = 0.9, β = 3, γ = 0.5).
#[derive(Debug)]
pub struct Meteor<'w> {
    wordnet: &'w WordNet,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

/// Positions (hypothesis, reference) matched by an alignment stage.
type Matches = Vec<(usize, usize)>;
/// (original position, word) of the words still unmatched.
type Enum = Vec<(usize, String)>;

impl<'w> Meteor<'w> {
    /// METEOR with nltk's default parameters, synonyms from `wordnet`.
    pub fn new(wordnet: &'w WordNet) -> Self {
        Self {
            wordnet,
            alpha: 0.9,
            beta: 3.0,
            gamma: 0.5,
        }
    }

    /// nltk `meteor_score(references, hypothesis)`: the best single-reference score. Errors
    /// when there is no reference (nltk's `max` of an empty sequence).
    pub fn score<S: AsRef<str>>(
        &self,
        references: &[Vec<S>],
        hypothesis: &[S],
    ) -> Result<f64, MetricsError> {
        references
            .iter()
            .map(|r| self.single_score(r, hypothesis))
            .reduce(f64::max)
            .ok_or_else(|| MetricsError::InvalidArgument("METEOR needs a reference".into()))
    }

    /// nltk `single_meteor_score(reference, hypothesis)`.
    pub fn single_score<S: AsRef<str>>(&self, reference: &[S], hypothesis: &[S]) -> f64 {
        let hyp: Enum = enumerate_lower(hypothesis);
        let reference: Enum = enumerate_lower(reference);
        let (hyp_len, ref_len) = (hyp.len(), reference.len());
        let mut matches = self.align(hyp, reference);
        matches.sort_by_key(|m| m.0);
        let m = matches.len();
        if m == 0 || hyp_len == 0 || ref_len == 0 {
            return 0.0;
        }
        let precision = m as f64 / hyp_len as f64;
        let recall = m as f64 / ref_len as f64;
        let fmean = precision * recall / (self.alpha * precision + (1.0 - self.alpha) * recall);
        let frag = count_chunks(&matches) as f64 / m as f64;
        let penalty = self.gamma * frag.powf(self.beta);
        (1.0 - penalty) * fmean
    }

    /// The three alignment stages; returns all matches (unsorted).
    fn align(&self, hyp: Enum, reference: Enum) -> Matches {
        let (mut all, hyp, reference) = match_enums(hyp, reference);
        let stem = |e: &Enum| -> Enum { e.iter().map(|(i, w)| (*i, porter::stem(w))).collect() };
        let (stem_matches, hyp_s, ref_s) = match_enums(stem(&hyp), stem(&reference));
        all.extend(stem_matches);
        // The synonym stage works on the stemmed words left over, as nltk's does.
        let (syn_matches, _, _) = self.synonym_match(hyp_s, ref_s);
        all.extend(syn_matches);
        all
    }

    fn synonym_match(&self, hyp: Enum, reference: Enum) -> (Matches, Enum, Enum) {
        let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, (_, w)) in reference.iter().enumerate() {
            positions.entry(w.as_str()).or_default().push(j);
        }
        let mut matches = Vec::new();
        let mut used_h = HashSet::new();
        let mut used_r = HashSet::new();
        for i in (0..hyp.len()).rev() {
            let word = hyp[i].1.as_str();
            let mut syns: HashSet<String> = self
                .wordnet
                .synsets(word)
                .into_iter()
                .flatten()
                .filter(|n| !n.contains('_'))
                .collect();
            syns.insert(word.to_string());
            let mut best: Option<(usize, &str)> = None;
            for syn in &syns {
                if let Some((&last, key)) = positions
                    .get_key_value(syn.as_str())
                    .and_then(|(k, v)| v.last().map(|l| (l, *k)))
                {
                    if best.is_none_or(|(b, _)| last > b) {
                        best = Some((last, key));
                    }
                }
            }
            if let Some((j, key)) = best {
                if let Some(v) = positions.get_mut(key) {
                    v.pop();
                }
                used_h.insert(i);
                used_r.insert(j);
                matches.push((hyp[i].0, reference[j].0));
            }
        }
        let rest = |e: Enum, used: &HashSet<usize>| {
            e.into_iter()
                .enumerate()
                .filter(|(k, _)| !used.contains(k))
                .map(|(_, p)| p)
                .collect()
        };
        (matches, rest(hyp, &used_h), rest(reference, &used_r))
    }
}

fn enumerate_lower<S: AsRef<str>>(words: &[S]) -> Enum {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| (i, w.as_ref().to_lowercase()))
        .collect()
}

/// nltk `_match_enums`: hypothesis words from last to first, each taking the highest free
/// reference position holding the same word.
fn match_enums(hyp: Enum, reference: Enum) -> (Matches, Enum, Enum) {
    let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, (_, w)) in reference.iter().enumerate() {
        positions.entry(w.as_str()).or_default().push(j);
    }
    let mut matches = Vec::new();
    let mut used_h = vec![false; hyp.len()];
    let mut used_r = vec![false; reference.len()];
    for i in (0..hyp.len()).rev() {
        if let Some(j) = positions.get_mut(hyp[i].1.as_str()).and_then(Vec::pop) {
            used_h[i] = true;
            used_r[j] = true;
            matches.push((hyp[i].0, reference[j].0));
        }
    }
    let keep = |e: &Enum, used: &[bool]| -> Enum {
        e.iter()
            .zip(used)
            .filter(|(_, &u)| !u)
            .map(|(p, _)| p.clone())
            .collect()
    };
    let (h, r) = (keep(&hyp, &used_h), keep(&reference, &used_r));
    (matches, h, r)
}

/// nltk `_count_chunks` on matches sorted by hypothesis position.
fn count_chunks(matches: &[(usize, usize)]) -> usize {
    1 + matches
        .windows(2)
        .filter(|w| !(w[1].0 == w[0].0 + 1 && w[1].1 == w[0].1 + 1))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks() {
        assert_eq!(count_chunks(&[(0, 0), (1, 1), (2, 5), (3, 6)]), 2);
        assert_eq!(count_chunks(&[(0, 0)]), 1);
    }

    #[test]
    fn exact_stage_takes_latest_reference_position() {
        let e = |s: &[&str]| -> Enum {
            s.iter()
                .enumerate()
                .map(|(i, w)| (i, w.to_string()))
                .collect()
        };
        let (m, h, r) = match_enums(e(&["a", "b", "a"]), e(&["a", "a", "c"]));
        assert_eq!(m, vec![(2, 1), (0, 0)]);
        assert_eq!(h.len(), 1);
        assert_eq!(r.len(), 1);
    }
}
