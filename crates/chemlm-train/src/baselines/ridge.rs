//! Ridge regression with scikit-learn's `Ridge(alpha, fit_intercept=True)` solution: centre the
//! features and target, solve `(XcᵀXc + αI) w = Xcᵀyc` by Cholesky, `b = ȳ − x̄·w`.
//!
//! Only the columns that are on in at least one training row enter the solve: an all-zero column
//! stays zero after centring, so its coefficient is exactly 0 and dropping it changes nothing
//! but the cost (the dense 2048² system shrinks to the active bits).

use super::{BaselineError, Result};

/// A fitted linear regressor.
#[derive(Clone, Debug)]
pub struct RidgeModel {
    pub coef: Vec<f64>,
    pub intercept: f64,
}

impl RidgeModel {
    pub fn predict(&self, bits: &[u32]) -> f64 {
        self.intercept + bits.iter().map(|&j| self.coef[j as usize]).sum::<f64>()
    }
}

/// In-place Cholesky `A = LLᵀ` of a row-major `k × k` symmetric positive-definite matrix; the
/// lower triangle is overwritten by `L`.
fn cholesky(a: &mut [f64], k: usize) -> Result<()> {
    for j in 0..k {
        for i in j..k {
            let (head, tail) = a.split_at_mut(i * k);
            let (ri, rj): (&[f64], &[f64]) = if i == j {
                (&tail[..j], &tail[..j])
            } else {
                (&tail[..j], &head[j * k..j * k + j])
            };
            let s: f64 = ri.iter().zip(rj).map(|(p, q)| p * q).sum();
            let v = a[i * k + j] - s;
            if i == j {
                if v <= 0.0 || !v.is_finite() {
                    return Err(BaselineError::Numeric(
                        "ridge normal equations are not positive definite".into(),
                    ));
                }
                a[j * k + j] = v.sqrt();
            } else {
                a[i * k + j] = v / a[j * k + j];
            }
        }
    }
    Ok(())
}

/// Solves `LLᵀ x = b` in place.
fn cholesky_solve(l: &[f64], k: usize, b: &mut [f64]) {
    for i in 0..k {
        let s: f64 = (0..i).map(|j| l[i * k + j] * b[j]).sum();
        b[i] = (b[i] - s) / l[i * k + i];
    }
    for i in (0..k).rev() {
        let s: f64 = (i + 1..k).map(|j| l[j * k + i] * b[j]).sum();
        b[i] = (b[i] - s) / l[i * k + i];
    }
}

/// Fits one target.
pub fn fit_ridge(x: &[&[u32]], y: &[f64], n_features: usize, alpha: f64) -> Result<RidgeModel> {
    if x.len() != y.len() || x.is_empty() {
        return Err(BaselineError::Invalid(format!(
            "ridge regression: {} rows but {} targets",
            x.len(),
            y.len()
        )));
    }
    if alpha <= 0.0 {
        return Err(BaselineError::Invalid(format!(
            "ridge alpha must be > 0, got {alpha}"
        )));
    }
    // Compact index of the active columns.
    let mut index = vec![usize::MAX; n_features];
    let mut active = Vec::new();
    for row in x {
        for &b in row.iter() {
            let b = b as usize;
            if b >= n_features {
                return Err(BaselineError::Invalid(format!(
                    "feature index {b} >= {n_features}"
                )));
            }
            if index[b] == usize::MAX {
                index[b] = 0;
                active.push(b);
            }
        }
    }
    active.sort_unstable();
    for (c, &b) in active.iter().enumerate() {
        index[b] = c;
    }
    let k = active.len();
    let n = x.len() as f64;
    let ybar = y.iter().sum::<f64>() / n;
    let mut mean = vec![0.0; k];
    let mut gram = vec![0.0; k * k];
    let mut rhs = vec![0.0; k];
    for (row, &yi) in x.iter().zip(y) {
        let cols: Vec<usize> = row.iter().map(|&b| index[b as usize]).collect();
        for &a in &cols {
            mean[a] += 1.0;
            rhs[a] += yi - ybar;
            for &c in &cols {
                gram[a * k + c] += 1.0;
            }
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    for a in 0..k {
        for c in 0..k {
            gram[a * k + c] -= n * mean[a] * mean[c];
        }
        gram[a * k + a] += alpha;
    }
    cholesky(&mut gram, k)?;
    cholesky_solve(&gram, k, &mut rhs);
    let mut coef = vec![0.0; n_features];
    for (c, &b) in active.iter().enumerate() {
        coef[b] = rhs[c];
    }
    let intercept = ybar - mean.iter().zip(&rhs).map(|(m, w)| m * w).sum::<f64>();
    Ok(RidgeModel { coef, intercept })
}

/// One ridge model per task, each on the rows where that task is labelled.
#[derive(Clone, Debug)]
pub struct MultiRidge {
    pub tasks: Vec<RidgeModel>,
}

impl MultiRidge {
    pub fn predict(&self, bits: &[u32]) -> Vec<f64> {
        self.tasks.iter().map(|m| m.predict(bits)).collect()
    }
}

/// Fits every task; `labels` is row-major `x.len() × n_tasks`, `None` = missing (masked).
pub fn fit_multi_ridge(
    x: &[&[u32]],
    labels: &[Option<f64>],
    n_tasks: usize,
    n_features: usize,
    alpha: f64,
) -> Result<MultiRidge> {
    if labels.len() != x.len() * n_tasks {
        return Err(BaselineError::Invalid(format!(
            "{} labels for {} rows × {n_tasks} tasks",
            labels.len(),
            x.len()
        )));
    }
    let tasks = (0..n_tasks)
        .map(|t| {
            let (rows, ys): (Vec<&[u32]>, Vec<f64>) = x
                .iter()
                .enumerate()
                .filter_map(|(i, r)| labels[i * n_tasks + t].map(|y| (*r, y)))
                .unzip();
            fit_ridge(&rows, &ys, n_features, alpha)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(MultiRidge { tasks })
}
