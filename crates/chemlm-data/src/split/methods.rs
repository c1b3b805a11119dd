//! Split algorithms on row indices. Random, scaffold (plain and balanced) and k-fold follow
//! chemprop 1.x (`chemprop/data/utils.py`) draw for draw, using CPython's RNG ([`PyRandom`]).

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::pyrandom::PyRandom;
use crate::error::DataError;

/// Fractions of the data in train, validation and test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitSizes {
    pub train: f64,
    pub valid: f64,
    pub test: f64,
}

impl Default for SplitSizes {
    /// 0.8 / 0.1 / 0.1, as chemprop and MoleculeNet.
    fn default() -> Self {
        Self {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        }
    }
}

impl SplitSizes {
    /// Checked sizes: non-negative and summing to 1 (within `np.isclose` tolerance).
    pub fn new(train: f64, valid: f64, test: f64) -> Result<Self, DataError> {
        let s = Self { train, valid, test };
        s.validate()?;
        Ok(s)
    }

    /// Fails unless non-negative and summing to 1.
    pub fn validate(&self) -> Result<(), DataError> {
        let sum = self.train + self.valid + self.test;
        if [self.train, self.valid, self.test]
            .iter()
            .any(|&x| x.is_nan() || x < 0.0)
            || (sum - 1.0).abs() > 1e-8 + 1e-5
        {
            return Err(DataError::Invalid(format!(
                "split sizes must be non-negative and sum to 1, got {} / {} / {}",
                self.train, self.valid, self.test
            )));
        }
        Ok(())
    }
}

/// Row indices of one train/validation/test split, each list sorted ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

impl Fold {
    fn sorted(mut self) -> Self {
        self.train.sort_unstable();
        self.valid.sort_unstable();
        self.test.sort_unstable();
        self
    }

    /// Number of rows in the three parts.
    pub fn len(&self) -> usize {
        self.train.len() + self.valid.len() + self.test.len()
    }

    /// Whether all three parts are empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// chemprop `split_type="random"`: shuffle `0..n` with `Random(seed)`, then the first
/// `int(train·n)` rows are train, up to `int((train+valid)·n)` validation, the rest test.
pub fn random_split(n: usize, sizes: SplitSizes, seed: u64) -> Fold {
    let mut idx: Vec<usize> = (0..n).collect();
    PyRandom::new(seed).shuffle(&mut idx);
    let train_size = (sizes.train * n as f64) as usize;
    let train_val = ((sizes.train + sizes.valid) * n as f64) as usize;
    Fold {
        train: idx[..train_size].to_vec(),
        valid: idx[train_size..train_val].to_vec(),
        test: idx[train_val..].to_vec(),
    }
    .sorted()
}

/// Groups row indices by key, groups in order of first appearance (as a Python dict does).
pub fn group_by_key<K: Eq + Hash + Clone>(keys: &[K]) -> Vec<Vec<usize>> {
    let mut pos: HashMap<&K, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let g = *pos.entry(k).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

/// chemprop `scaffold_split`: molecules sharing a scaffold key never straddle two sets.
///
/// - `balanced = false` (deterministic, DeepChem's and chemprop's classic): scaffold sets sorted
///   largest first (stable, so ties keep first-appearance order) fill train, then validation,
///   the rest goes to test.
/// - `balanced = true` (chemprop `scaffold_balanced`): sets larger than half the validation or
///   half the test size go first, then the rest, each group shuffled with `Random(seed)`.
///
/// A set goes to train if it fits (`len(train) + len(set) <= train·n`), else to validation if
/// it fits, else to test.
pub fn scaffold_split<K: Eq + Hash + Clone>(
    keys: &[K],
    sizes: SplitSizes,
    balanced: bool,
    seed: u64,
) -> Fold {
    let n = keys.len() as f64;
    let (train_size, val_size, test_size) = (sizes.train * n, sizes.valid * n, sizes.test * n);
    let groups = group_by_key(keys);
    let sets: Vec<Vec<usize>> = if balanced {
        let (mut big, mut small): (Vec<Vec<usize>>, Vec<Vec<usize>>) = groups
            .into_iter()
            .partition(|s| s.len() as f64 > val_size / 2.0 || s.len() as f64 > test_size / 2.0);
        let mut rng = PyRandom::new(seed);
        rng.shuffle(&mut big);
        rng.shuffle(&mut small);
        big.into_iter().chain(small).collect()
    } else {
        let mut g = groups;
        g.sort_by_key(|s| std::cmp::Reverse(s.len())); // stable: ties keep first appearance
        g
    };
    let mut fold = Fold::default();
    for s in sets {
        if (fold.train.len() + s.len()) as f64 <= train_size {
            fold.train.extend(s);
        } else if (fold.valid.len() + s.len()) as f64 <= val_size {
            fold.valid.extend(s);
        } else {
            fold.test.extend(s);
        }
    }
    fold.sorted()
}

/// Stratified split for classification: each class (and the rows with a missing label, as their
/// own stratum) is shuffled with `Random(seed)` and cut with the same fractions as
/// [`random_split`], so every set keeps the class balance of the whole.
pub fn stratified_split(strata: &[Option<i64>], sizes: SplitSizes, seed: u64) -> Fold {
    let mut classes: Vec<Option<i64>> = strata.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let mut rng = PyRandom::new(seed);
    let mut fold = Fold::default();
    for c in classes {
        let mut idx: Vec<usize> = (0..strata.len()).filter(|&i| strata[i] == c).collect();
        rng.shuffle(&mut idx);
        let m = idx.len() as f64;
        let a = (sizes.train * m) as usize;
        let b = ((sizes.train + sizes.valid) * m) as usize;
        fold.train.extend_from_slice(&idx[..a]);
        fold.valid.extend_from_slice(&idx[a..b]);
        fold.test.extend_from_slice(&idx[b..]);
    }
    fold.sorted()
}

/// Fold of each row for k-fold cross-validation: chemprop's `cv` assignment,
/// `np.tile(np.arange(k), 1 + n // k)[:n]` shuffled with `Random(seed)` (chemprop always uses
/// seed 0 here and picks the test fold with its run seed).
pub fn kfold_assignment(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut a: Vec<usize> = (0..n).map(|i| i % k.max(1)).collect();
    PyRandom::new(seed).shuffle(&mut a);
    a
}

/// k folds: in fold `i` the test set is assignment `i`; with `with_valid` the validation set is
/// assignment `(i + 1) % k` (chemprop `cv`, whose run seed `i` gives our fold `i` for seed 0),
/// without it validation is empty (DeLiCaTe-style 5-fold CV). The rest is train.
pub fn kfold(n: usize, k: usize, seed: u64, with_valid: bool) -> Result<Vec<Fold>, DataError> {
    if k < 2 || k > n {
        return Err(DataError::Invalid(format!(
            "k-fold needs 2 <= k <= number of molecules ({n}), got k = {k}"
        )));
    }
    let a = kfold_assignment(n, k, seed);
    Ok((0..k)
        .map(|f| {
            let v = (f + 1) % k;
            let mut fold = Fold::default();
            for (i, &g) in a.iter().enumerate() {
                if g == f {
                    fold.test.push(i);
                } else if with_valid && g == v {
                    fold.valid.push(i);
                } else {
                    fold.train.push(i);
                }
            }
            fold
        })
        .collect())
}
