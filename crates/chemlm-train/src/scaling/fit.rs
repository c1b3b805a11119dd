//! Power-law fits `L(R) = a·R^(−b)` and `L(R) = a·R^(−b) + c` (Kaplan et al. 2020; Frey et al.
//! 2023 report b ≈ 0.17 for ChemGPT), with bootstrap confidence intervals.
//!
//! The fit minimises squared error of `ln L` (each point weighs the same in relative terms, as
//! on the log-log plot): without `c` that is ordinary least squares of `ln L` on `ln R`; with `c`
//! it is Levenberg–Marquardt on `(ln a, b, c)`, `c ≥ 0`. `scripts/gen_scaling_golden.py` fits the
//! same objective with `scipy.optimize.curve_fit` for the golden test.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A fitted power law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerLaw {
    /// Scale `a`.
    pub a: f64,
    /// Exponent `b` (loss falls as `R^-b`).
    pub b: f64,
    /// Irreducible loss `c` (0 when not fitted).
    pub c: f64,
}

impl PowerLaw {
    /// `a·R^(−b) + c`.
    pub fn eval(&self, r: f64) -> f64 {
        self.a * r.powf(-self.b) + self.c
    }
}

/// Why a fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer points than parameters, or all `R` equal.
    #[error("not enough distinct points to fit ({0})")]
    TooFewPoints(usize),
    /// A point with `R <= 0`, `L <= 0` or a non-finite value.
    #[error("point {index} ({r}, {l}) is not positive and finite")]
    BadPoint { index: usize, r: f64, l: f64 },
}

fn check(points: &[(f64, f64)], params: usize) -> Result<(), FitError> {
    for (i, &(r, l)) in points.iter().enumerate() {
        if !(r.is_finite() && l.is_finite() && r > 0.0 && l > 0.0) {
            return Err(FitError::BadPoint { index: i, r, l });
        }
    }
    let first = points.first().map(|p| p.0);
    let distinct = points.iter().any(|p| Some(p.0) != first);
    if points.len() < params || !distinct {
        return Err(FitError::TooFewPoints(points.len()));
    }
    Ok(())
}

/// Least squares of `ln L = ln a − b ln R`.
pub fn fit_power_law(points: &[(f64, f64)]) -> Result<PowerLaw, FitError> {
    check(points, 2)?;
    let n = points.len() as f64;
    let xs: Vec<f64> = points.iter().map(|p| p.0.ln()).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1.ln()).collect();
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    Ok(PowerLaw {
        a: (my - slope * mx).exp(),
        b: -slope,
        c: 0.0,
    })
}

/// Sum of squared log residuals of `law` on `points`.
pub fn log_sse(law: &PowerLaw, points: &[(f64, f64)]) -> f64 {
    points
        .iter()
        .map(|&(r, l)| {
            let p = law.eval(r);
            if p > 0.0 {
                (p.ln() - l.ln()).powi(2)
            } else {
                f64::INFINITY
            }
        })
        .sum()
}

/// Levenberg–Marquardt fit of `ln L = ln(a·R^(−b) + c)`, `c ≥ 0`, started from several `c`
/// values below the smallest loss (the objective has local minima); the best is kept.
pub fn fit_power_law_offset(points: &[(f64, f64)]) -> Result<PowerLaw, FitError> {
    check(points, 3)?;
    let lmin = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    // Centre ln R for conditioning: a·R^(−b) = exp(α − b (ln R − x̄)).
    let xbar = points.iter().map(|p| p.0.ln()).sum::<f64>() / points.len() as f64;
    let mut best: Option<(f64, PowerLaw)> = None;
    for frac in [0.0, 0.3, 0.6, 0.9] {
        let c0 = frac * lmin;
        let shifted: Vec<(f64, f64)> = points.iter().map(|&(r, l)| (r, l - c0)).collect();
        let init = fit_power_law(&shifted).unwrap_or(PowerLaw {
            a: lmin,
            b: 0.1,
            c: 0.0,
        });
        let alpha0 = init.a.ln() - init.b * xbar;
        let law = lm(points, xbar, [alpha0, init.b, c0]);
        let sse = log_sse(&law, points);
        if sse.is_finite() && best.as_ref().is_none_or(|(s, _)| sse < *s) {
            best = Some((sse, law));
        }
    }
    Ok(best.map(|b| b.1).unwrap_or(PowerLaw {
        a: lmin,
        b: 0.0,
        c: 0.0,
    }))
}

/// Levenberg–Marquardt on θ = (α, b, c) with prediction `ln(exp(α − b (ln R − x̄)) + c)`.
fn lm(points: &[(f64, f64)], xbar: f64, mut th: [f64; 3]) -> PowerLaw {
    let resid = |th: &[f64; 3]| -> Option<Vec<f64>> {
        points
            .iter()
            .map(|&(r, l)| {
                let p = (th[0] - th[1] * (r.ln() - xbar)).exp() + th[2];
                (p > 0.0 && p.is_finite()).then(|| p.ln() - l.ln())
            })
            .collect()
    };
    let cost = |th: &[f64; 3]| resid(th).map(|r| r.iter().map(|x| x * x).sum::<f64>());
    let mut lambda = 1e-3;
    let Some(mut cur) = cost(&th) else {
        return to_law(th, xbar);
    };
    for _ in 0..500 {
        // Jacobian rows: d pred / d(α, b, c).
        let mut jtj = [[0f64; 3]; 3];
        let mut jtr = [0f64; 3];
        let Some(r) = resid(&th) else { break };
        for (&(rr, _), ri) in points.iter().zip(&r) {
            let x = rr.ln() - xbar;
            let e = (th[0] - th[1] * x).exp();
            let p = e + th[2];
            let j = [e / p, -x * e / p, 1.0 / p];
            for u in 0..3 {
                jtr[u] += j[u] * ri;
                for v in 0..3 {
                    jtj[u][v] += j[u] * j[v];
                }
            }
        }
        let mut improved = false;
        for _ in 0..20 {
            let mut m = jtj;
            for (u, row) in m.iter_mut().enumerate() {
                row[u] += lambda * (jtj[u][u].max(1e-12));
            }
            let Some(step) = solve3(m, jtr) else {
                lambda *= 10.0;
                continue;
            };
            let mut cand = [th[0] - step[0], th[1] - step[1], th[2] - step[2]];
            cand[2] = cand[2].max(0.0);
            match cost(&cand) {
                Some(c) if c < cur => {
                    let done = (cur - c) < 1e-15 * (1.0 + cur);
                    th = cand;
                    cur = c;
                    lambda = (lambda * 0.3).max(1e-12);
                    improved = !done;
                    break;
                }
                _ => lambda *= 10.0,
            }
        }
        if !improved {
            break;
        }
    }
    to_law(th, xbar)
}

fn to_law(th: [f64; 3], xbar: f64) -> PowerLaw {
    PowerLaw {
        a: (th[0] + th[1] * xbar).exp(),
        b: th[1],
        c: th[2],
    }
}

/// Solves a 3×3 system by Gaussian elimination with partial pivoting.
fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let piv = (col..3).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[piv][col].abs() < 1e-300 {
            return None;
        }
        m.swap(col, piv);
        v.swap(col, piv);
        let prow = m[col];
        let pv = v[col];
        for (row, vr) in m.iter_mut().zip(v.iter_mut()).skip(col + 1) {
            let f = row[col] / prow[col];
            for (x, p) in row.iter_mut().zip(prow.iter()).skip(col) {
                *x -= f * p;
            }
            *vr -= f * pv;
        }
    }
    let mut x = [0f64; 3];
    for row in (0..3).rev() {
        let s: f64 = (row + 1..3).map(|k| m[row][k] * x[k]).sum();
        x[row] = (v[row] - s) / m[row][row];
    }
    x.iter().all(|x| x.is_finite()).then_some(x)
}

/// A fit with percentile bootstrap intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitWithCi {
    /// Fit on all points.
    pub law: PowerLaw,
    /// 95 % interval of `b` (2.5th and 97.5th percentiles over bootstrap refits).
    pub b_ci: (f64, f64),
    /// 95 % interval of `a`.
    pub a_ci: (f64, f64),
    /// 95 % interval of `c` (0, 0 without offset).
    pub c_ci: (f64, f64),
    /// Bootstrap resamples that could be fitted.
    pub resamples: usize,
    /// Points fitted.
    pub points: usize,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Fits (with or without offset) and bootstraps `resamples` refits on points drawn with
/// replacement (seeded), skipping resamples that cannot be fitted (e.g. one distinct R).
pub fn fit_with_bootstrap(
    points: &[(f64, f64)],
    offset: bool,
    resamples: usize,
    seed: u64,
) -> Result<FitWithCi, FitError> {
    let fit = |p: &[(f64, f64)]| {
        if offset {
            fit_power_law_offset(p)
        } else {
            fit_power_law(p)
        }
    };
    let law = fit(points)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let mut sample = Vec::with_capacity(points.len());
    for _ in 0..resamples {
        sample.clear();
        for _ in 0..points.len() {
            sample.push(points[rng.gen_range(0..points.len())]);
        }
        if let Ok(l) = fit(&sample) {
            a.push(l.a);
            b.push(l.b);
            c.push(l.c);
        }
    }
    for v in [&mut a, &mut b, &mut c] {
        v.sort_by(f64::total_cmp);
    }
    let ci = |v: &[f64]| (percentile(v, 0.025), percentile(v, 0.975));
    Ok(FitWithCi {
        law,
        b_ci: ci(&b),
        a_ci: ci(&a),
        c_ci: ci(&c),
        resamples: b.len(),
        points: points.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_power_law_is_recovered() {
        let pts: Vec<(f64, f64)> = [1e3, 1e4, 1e5, 1e6]
            .iter()
            .map(|&r| (r, 7.0 * f64::powf(r, -0.17)))
            .collect();
        let l = fit_power_law(&pts).unwrap();
        assert!(
            (l.b - 0.17).abs() < 1e-12 && (l.a - 7.0).abs() < 1e-9,
            "{l:?}"
        );
        let pts: Vec<(f64, f64)> = [1e3, 3e3, 1e4, 3e4, 1e5, 1e6, 1e7]
            .iter()
            .map(|&r| (r, 20.0 * f64::powf(r, -0.3) + 0.5))
            .collect();
        let l = fit_power_law_offset(&pts).unwrap();
        assert!((l.b - 0.3).abs() < 1e-4, "{l:?}");
        assert!((l.c - 0.5).abs() < 1e-4, "{l:?}");
        assert!((l.a - 20.0).abs() < 1e-2, "{l:?}");
    }

    #[test]
    fn bad_points_are_refused() {
        assert!(fit_power_law(&[(1.0, 1.0)]).is_err());
        assert!(fit_power_law(&[(1.0, 1.0), (1.0, 2.0)]).is_err());
        assert!(fit_power_law(&[(1.0, 1.0), (0.0, 2.0)]).is_err());
        assert!(fit_power_law_offset(&[(1.0, 1.0), (2.0, 0.9)]).is_err());
    }
}
