//! A small L-BFGS minimiser (the solver sklearn's `LogisticRegression` uses by default) for smooth,
//! convex objectives. Backtracking Armijo line search is enough here because the objectives are
//! strongly convex; curvature pairs with non-positive `s·y` are skipped so the inverse-Hessian
//! estimate stays positive definite.

use std::collections::VecDeque;

/// Outcome of a minimisation.
#[derive(Clone, Debug)]
pub struct LbfgsResult {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    /// Whether `max |gradient| <= tol` was reached.
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` (which returns the value and writes the gradient) from `x0`, stopping when the
/// largest gradient component is at most `tol` or after `max_iter` iterations.
pub fn minimize(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    max_iter: usize,
    tol: f64,
) -> LbfgsResult {
    const M: usize = 10;
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut hist: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(M);
    let mut xn = vec![0.0; n];
    let mut gn = vec![0.0; n];
    for it in 0..max_iter {
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if gmax <= tol {
            return LbfgsResult {
                x,
                value: fx,
                iterations: it,
                converged: true,
            };
        }
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = match hist.back() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            None => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut d: Vec<f64> = q.into_iter().map(|v| -v).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            hist.clear();
            d = g.iter().map(|v| -v).collect();
            slope = dot(&g, &d);
        }
        let mut step = 1.0;
        let mut fnew;
        let mut tries = 0;
        loop {
            xn.iter_mut()
                .zip(x.iter().zip(&d))
                .for_each(|(o, (xi, di))| *o = xi + step * di);
            fnew = f(&xn, &mut gn);
            if fnew <= fx + 1e-4 * step * slope || tries >= 60 {
                break;
            }
            step *= 0.5;
            tries += 1;
        }
        if tries >= 60 && fnew > fx {
            // No decrease possible at machine precision: we are at the optimum.
            return LbfgsResult {
                x,
                value: fx,
                iterations: it,
                converged: true,
            };
        }
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&y, &y).max(1e-300) {
            if hist.len() == M {
                hist.pop_front();
            }
            hist.push_back((s, y, 1.0 / sy));
        }
        std::mem::swap(&mut x, &mut xn);
        std::mem::swap(&mut g, &mut gn);
        fx = fnew;
    }
    let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    LbfgsResult {
        x,
        value: fx,
        iterations: max_iter,
        converged: gmax <= tol,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_an_ill_conditioned_quadratic() {
        let scales = [1.0, 10.0, 100.0, 1000.0];
        let r = minimize(
            |x, g| {
                let mut v = 0.0;
                for i in 0..4 {
                    let d = x[i] - i as f64;
                    v += 0.5 * scales[i] * d * d;
                    g[i] = scales[i] * d;
                }
                v
            },
            vec![5.0; 4],
            500,
            1e-10,
        );
        assert!(r.converged);
        for (i, v) in r.x.iter().enumerate() {
            assert!((v - i as f64).abs() < 1e-9, "{v}");
        }
    }
}
