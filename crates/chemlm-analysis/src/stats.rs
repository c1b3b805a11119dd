//! The statistics of the structure analysis, on plain row-major `n x n` matrices.
//!
//! An attention map among atom tokens is first made comparable with an (undirected) distance
//! matrix as in MoLFormer's analysis notebooks: symmetrised, `(A + A^T) / 2`, and with the diagonal
//! (an atom attending to itself) set to zero. It is then compared with
//! * each topological distance class (atoms 1, 2, 3, or 4+ bonds apart) by the cosine similarity
//!   between the attention matrix and the class's 0/1 indicator matrix: the paper's measure. High
//!   cosine for the 1-bond class means attention concentrates on bonded neighbours.
//! * the 3-D interatomic distances by Spearman's rank correlation over the atom pairs `i < j`:
//!   negative when attention falls off with distance.

/// Topological distance classes, in report order.
pub const CLASSES: [&str; 4] = ["1 bond", "2 bonds", "3 bonds", "4+ bonds"];

/// Class index of a topological distance: 1, 2, 3 bonds, then 4 or more (or another fragment);
/// `None` on the diagonal.
pub fn class_of(distance: Option<u32>) -> Option<usize> {
    match distance {
        Some(0) => None,
        Some(d @ 1..=3) => Some(d as usize - 1),
        _ => Some(3),
    }
}

/// `(A + A^T) / 2` with a zero diagonal, in place.
pub fn symmetrize_zero_diagonal(a: &mut [f64], n: usize) {
    debug_assert_eq!(a.len(), n * n);
    for i in 0..n {
        a[i * n + i] = 0.0;
        for j in i + 1..n {
            let m = 0.5 * (a[i * n + j] + a[j * n + i]);
            a[i * n + j] = m;
            a[j * n + i] = m;
        }
    }
}

/// The rows and columns `keep` of the row-major `s x s` matrix `a`, as f64.
pub fn submatrix(a: &[f32], s: usize, keep: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(keep.len() * keep.len());
    for &r in keep {
        for &c in keep {
            out.push(f64::from(a[r * s + c]));
        }
    }
    out
}

/// 0/1 indicator of topological class `class` (see [`class_of`]) for a row-major `n x n`
/// distance matrix.
pub fn class_indicator(distances: &[Option<u32>], class: usize) -> Vec<f64> {
    distances
        .iter()
        .map(|&d| if class_of(d) == Some(class) { 1.0 } else { 0.0 })
        .collect()
}

/// Cosine similarity of two equally long vectors; `None` when either is all zeros.
pub fn cosine(a: &[f64], b: &[f64]) -> Option<f64> {
    debug_assert_eq!(a.len(), b.len());
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    (aa > 0.0 && bb > 0.0).then(|| ab / (aa.sqrt() * bb.sqrt()))
}

/// Tie-averaged ranks and Spearman's correlation are the project's own (TPE uses them for its
/// rank agreement), as `scipy.stats.rankdata` and `scipy.stats.spearmanr` compute them.
pub use chemlm_train::tpe::{average_ranks as ranks, spearman};

/// The strict upper triangle (`i < j`) of a row-major `n x n` matrix.
pub fn upper_triangle(a: &[f64], n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            out.push(a[i * n + j]);
        }
    }
    out
}

/// Running mean and standard error of values that may be missing (`None` is not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Running {
    n: usize,
    sum: f64,
    sum_sq: f64,
}

impl Running {
    pub fn push(&mut self, x: Option<f64>) {
        if let Some(x) = x.filter(|x| x.is_finite()) {
            self.n += 1;
            self.sum += x;
            self.sum_sq += x * x;
        }
    }

    pub fn count(&self) -> usize {
        self.n
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// Standard error of the mean (sample standard deviation / sqrt(n)); `None` below 2 values.
    pub fn sem(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let var = ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0);
        Some((var / n).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_and_ranks_exact() {
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), Some(0.0));
        assert_eq!(cosine(&[0.0, 0.0], &[0.0, 1.0]), None);
        assert!((cosine(&[1.0, 1.0], &[1.0, 0.0]).unwrap() - 0.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[30.0, 20.0, 10.0]), Some(-1.0));
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }

    #[test]
    fn running_mean_and_sem() {
        let mut r = Running::default();
        for x in [Some(1.0), None, Some(3.0), Some(f64::NAN)] {
            r.push(x);
        }
        assert_eq!(r.count(), 2);
        assert_eq!(r.mean(), Some(2.0));
        // sample sd = sqrt(2), sem = sqrt(2)/sqrt(2) = 1
        assert!((r.sem().unwrap() - 1.0).abs() < 1e-15);
    }
}
