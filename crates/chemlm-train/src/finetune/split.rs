//! DeLiCaTe's cross-validation layout: k folds (no validation fold), and each held-out fold
//! halved into validation and test (their `data_preparation.py` uses `train_test_split(…,
//! test_size=0.5)` on the held-out indices). The halving here is seeded ChaCha, not sklearn's
//! generator, so the folds are DeLiCaTe-shaped but not their exact indices.

use chemlm_data::SplitFile;
use rand::seq::SliceRandom;

/// Halves every fold's test set into valid (first half) and test, and rehashes the split.
pub fn halve_test_folds(split: &mut SplitFile, seed: u64) {
    for (i, f) in split.folds.iter_mut().enumerate() {
        let mut held = std::mem::take(&mut f.test);
        let mut rng = crate::rng::derived_rng(seed, 0x4445_4c00 + i as u64);
        held.shuffle(&mut rng);
        let half = held.len() / 2;
        f.test = held.split_off(half);
        f.valid = held;
        f.valid.sort_unstable();
        f.test.sort_unstable();
    }
    split.folds_sha256 = SplitFile::hash_folds(&split.folds);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chemlm_data::{make_split, SplitMethod, SplitRequest, SplitSizes};

    #[test]
    fn halves_are_disjoint_and_cover_the_held_out_fold() {
        let smiles: Vec<String> = (1..=23).map(|n| "C".repeat(n)).collect();
        let req = SplitRequest {
            method: SplitMethod::KFold { k: 5, valid: false },
            sizes: SplitSizes::new(0.8, 0.1, 0.1).unwrap(),
            seed: 0,
        };
        let mut s = make_split(&smiles, None, &req, None).unwrap();
        let before: Vec<Vec<usize>> = s.folds.iter().map(|f| f.test.clone()).collect();
        let hash = s.folds_sha256.clone();
        halve_test_folds(&mut s, 0);
        assert_ne!(hash, s.folds_sha256);
        for (f, held) in s.folds.iter().zip(before) {
            let mut u: Vec<usize> = f.valid.iter().chain(&f.test).copied().collect();
            u.sort_unstable();
            assert_eq!(u, held);
            assert!(f.valid.len().abs_diff(f.test.len()) <= 1);
            assert!(f.valid.iter().all(|v| !f.test.contains(v)));
            assert!(f.train.iter().all(|t| !held.contains(t)));
        }
    }
}
