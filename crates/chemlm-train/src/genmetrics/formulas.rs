//! The set-level formulas of the MOSES metrics (`moses/metrics/metrics.py` and `utils.py`), on
//! plain numbers and counts so they can be checked against numpy/scipy one by one.

use chemlm_chem::Fingerprint;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};

/// `len(set(items[:k])) / len(items[:k])` (MOSES `fraction_unique`, items = canonical SMILES of
/// the valid molecules in generation order). `None` when there are fewer than `k` items (MOSES
/// warns and scores the shorter list; we say "not measurable" instead) or none at all.
pub fn fraction_unique(items: &[String], k: usize) -> Option<f64> {
    if items.len() < k || items.is_empty() {
        return None;
    }
    let head = &items[..k];
    let set: HashSet<&String> = head.iter().collect();
    Some(set.len() as f64 / head.len() as f64)
}

/// Share of the distinct generated molecules that are not in `train` (MOSES `novelty`).
/// `None` without generated molecules.
pub fn novelty(items: &[String], train: &HashSet<String>) -> Option<f64> {
    let set: HashSet<&String> = items.iter().collect();
    if set.is_empty() {
        return None;
    }
    let novel = set.iter().filter(|s| !train.contains(s.as_str())).count();
    Some(novel as f64 / set.len() as f64)
}

/// Tanimoto as MOSES computes it on bit vectors: two empty fingerprints give 1 (its `nan → 1`),
/// not RDKit's 0.
fn moses_tanimoto(a: &Fingerprint, b: &Fingerprint) -> f64 {
    let (na, nb) = (a.count_ones(), b.count_ones());
    if na == 0 && nb == 0 {
        return 1.0;
    }
    a.tanimoto(b)
}

/// Internal diversity `IntDiv_p = 1 − mean_i ( mean_j T(i, j)^p )^(1/p)` over all pairs of the
/// set, self-pairs included (MOSES `internal_diversity` via `average_agg_tanimoto(agg='mean')`).
/// `None` for an empty set. O(n²) pairs, spread over threads.
pub fn internal_diversity(fps: &[Fingerprint], p: u32) -> Option<f64> {
    if fps.is_empty() {
        return None;
    }
    let n = fps.len() as f64;
    let p = p.max(1);
    let per_row: Vec<f64> = fps
        .par_iter()
        .map(|a| {
            let s: f64 = fps
                .iter()
                .map(|b| moses_tanimoto(a, b).powi(p as i32))
                .sum();
            (s / n).powf(1.0 / p as f64)
        })
        .collect();
    Some(1.0 - per_row.iter().sum::<f64>() / n)
}

/// Cosine similarity of two count vectors keyed by string (MOSES `cos_similarity` of scaffold
/// or fragment counters). `None` when either side is empty (MOSES returns NaN).
pub fn cosine_similarity(a: &HashMap<String, u64>, b: &HashMap<String, u64>) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for k in keys {
        let x = *a.get(k).unwrap_or(&0) as f64;
        let y = *b.get(k).unwrap_or(&0) as f64;
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return None;
    }
    Some(dot / (na.sqrt() * nb.sqrt()))
}

/// First Wasserstein distance between two empirical distributions (equal weights), as
/// `scipy.stats.wasserstein_distance(u, v)`: ∫ |F_u(x) − F_v(x)| dx. `None` if either is empty.
pub fn wasserstein1(u: &[f64], v: &[f64]) -> Option<f64> {
    if u.is_empty() || v.is_empty() {
        return None;
    }
    let mut us: Vec<f64> = u.to_vec();
    let mut vs: Vec<f64> = v.to_vec();
    us.sort_by(f64::total_cmp);
    vs.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = us.iter().chain(vs.iter()).copied().collect();
    all.sort_by(f64::total_cmp);
    let (nu, nv) = (us.len() as f64, vs.len() as f64);
    let (mut iu, mut iv) = (0usize, 0usize);
    let mut total = 0.0;
    for w in all.windows(2) {
        // CDFs just right of w[0]: share of values <= w[0].
        while iu < us.len() && us[iu] <= w[0] {
            iu += 1;
        }
        while iv < vs.len() && vs[iv] <= w[0] {
            iv += 1;
        }
        total += (iu as f64 / nu - iv as f64 / nv).abs() * (w[1] - w[0]);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasserstein_of_shifted_samples_is_the_shift() {
        let u = [0.0, 1.0, 3.0];
        let v = [5.0, 6.0, 8.0];
        assert!((wasserstein1(&u, &v).unwrap() - 5.0).abs() < 1e-12);
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8, 9]) = 7 − 4/3
        let w = wasserstein1(&u, &[5.0, 6.0, 8.0, 9.0]).unwrap();
        assert!((w - 17.0 / 3.0).abs() < 1e-12, "{w}");
        // Interleaved samples: scipy.stats.wasserstein_distance([0, 2], [1, 3]) = 1.
        assert!((wasserstein1(&[0.0, 2.0], &[1.0, 3.0]).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(wasserstein1(&[], &u), None);
    }

    #[test]
    fn unique_and_novel_fractions() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let items = s(&["CC", "CO", "CC", "CN"]);
        assert_eq!(fraction_unique(&items, 4), Some(0.75));
        assert_eq!(fraction_unique(&items, 2), Some(1.0));
        assert_eq!(fraction_unique(&items, 5), None);
        let train: HashSet<String> = s(&["CC"]).into_iter().collect();
        assert!((novelty(&items, &train).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn cosine_of_proportional_counts_is_one() {
        let a: HashMap<String, u64> = [("x".to_string(), 2), ("y".to_string(), 4)].into();
        let b: HashMap<String, u64> = [("x".to_string(), 1), ("y".to_string(), 2)].into();
        assert!((cosine_similarity(&a, &b).unwrap() - 1.0).abs() < 1e-12);
        let c: HashMap<String, u64> = [("z".to_string(), 3)].into();
        assert_eq!(cosine_similarity(&a, &c), Some(0.0));
        assert_eq!(cosine_similarity(&a, &HashMap::new()), None);
    }
}
