//! L2-regularised logistic regression on sparse binary features, with scikit-learn's objective
//! (`LogisticRegression(C, penalty="l2")`): `0.5·|w|² + C·Σ logloss`, intercept not penalised.
//! Solved with L-BFGS as sklearn's default `lbfgs` solver, but to a much tighter tolerance, so the
//! result is the optimum itself rather than wherever sklearn's `tol=1e-4` happened to stop.

use super::lbfgs;
use super::{BaselineError, Result};

/// Regularisation and solver settings.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LogisticConfig {
    /// Inverse regularisation strength (sklearn's `C`).
    pub c: f64,
    pub max_iter: usize,
    /// Stop when the largest component of the gradient of the objective divided by the number of
    /// rows is below this.
    pub tol: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        Self {
            c: 1.0,
            max_iter: 5000,
            tol: 1e-9,
        }
    }
}

/// A fitted binary classifier.
#[derive(Clone, Debug)]
pub struct LogisticModel {
    pub coef: Vec<f64>,
    pub intercept: f64,
    pub iterations: usize,
    pub converged: bool,
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + exp(z))` without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

impl LogisticModel {
    /// The linear score `w·x + b`.
    pub fn decision(&self, bits: &[u32]) -> f64 {
        self.intercept + bits.iter().map(|&j| self.coef[j as usize]).sum::<f64>()
    }

    /// Probability of the positive class.
    pub fn predict_proba(&self, bits: &[u32]) -> f64 {
        sigmoid(self.decision(bits))
    }
}

/// Fits one binary task: `x[i]` are the on bits (< `n_features`) of row `i`, `y[i]` is 0 or 1.
pub fn fit_logistic(
    x: &[&[u32]],
    y: &[f64],
    n_features: usize,
    cfg: &LogisticConfig,
) -> Result<LogisticModel> {
    if x.len() != y.len() || x.is_empty() {
        return Err(BaselineError::Invalid(format!(
            "logistic regression: {} rows but {} labels",
            x.len(),
            y.len()
        )));
    }
    if let Some(b) = x
        .iter()
        .flat_map(|r| r.iter())
        .find(|&&b| b as usize >= n_features)
    {
        return Err(BaselineError::Invalid(format!(
            "feature index {b} >= {n_features}"
        )));
    }
    let n = x.len() as f64;
    // Objective divided by C·n so the tolerance does not depend on data set size.
    let scale = 1.0 / (cfg.c * n);
    let objective = |p: &[f64], g: &mut [f64]| -> f64 {
        let (w, b) = p.split_at(n_features);
        let mut value = 0.0;
        g.iter_mut().for_each(|v| *v = 0.0);
        let mut gb = 0.0;
        for (row, &yi) in x.iter().zip(y) {
            let z = b[0] + row.iter().map(|&j| w[j as usize]).sum::<f64>();
            value += softplus(z) - yi * z;
            let r = (sigmoid(z) - yi) / n;
            gb += r;
            for &j in row.iter() {
                g[j as usize] += r;
            }
        }
        value /= n;
        let mut reg = 0.0;
        for (gi, wi) in g[..n_features].iter_mut().zip(w) {
            *gi += scale * wi;
            reg += wi * wi;
        }
        g[n_features] = gb;
        value + 0.5 * scale * reg
    };
    let res = lbfgs::minimize(objective, vec![0.0; n_features + 1], cfg.max_iter, cfg.tol);
    if res.x.iter().any(|v| !v.is_finite()) {
        return Err(BaselineError::Numeric(
            "logistic regression diverged (non-finite weights)".into(),
        ));
    }
    let mut coef = res.x;
    let intercept = coef.pop().unwrap_or(0.0);
    Ok(LogisticModel {
        coef,
        intercept,
        iterations: res.iterations,
        converged: res.converged,
    })
}

/// One classifier per task, each fitted on the rows where that task is labelled.
#[derive(Clone, Debug)]
pub struct MultiLogistic {
    /// `Err(p)` for a task whose training labels have a single class: it predicts the constant `p`.
    pub tasks: Vec<std::result::Result<LogisticModel, f64>>,
}

impl MultiLogistic {
    /// Positive-class probability of every task for one molecule.
    pub fn predict(&self, bits: &[u32]) -> Vec<f64> {
        self.tasks
            .iter()
            .map(|t| match t {
                Ok(m) => m.predict_proba(bits),
                Err(p) => *p,
            })
            .collect()
    }
}

/// Fits every task of a multi-task set; `labels` is row-major `x.len() × n_tasks`, `None` =
/// missing (masked: that row is simply not part of that task's fit).
pub fn fit_multi_logistic(
    x: &[&[u32]],
    labels: &[Option<f64>],
    n_tasks: usize,
    n_features: usize,
    cfg: &LogisticConfig,
) -> Result<MultiLogistic> {
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
            let pos = ys.iter().filter(|&&y| y > 0.5).count();
            if pos == 0 || pos == ys.len() {
                let p = if ys.is_empty() {
                    0.5
                } else {
                    pos as f64 / ys.len() as f64
                };
                return Ok(Err(p));
            }
            let ys: Vec<f64> = ys
                .iter()
                .map(|&y| if y > 0.5 { 1.0 } else { 0.0 })
                .collect();
            fit_logistic(&rows, &ys, n_features, cfg).map(Ok)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(MultiLogistic { tasks })
}
