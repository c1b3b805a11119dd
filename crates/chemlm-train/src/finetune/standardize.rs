//! Regression target standardisation: per-task mean and (population) std of the TRAINING labels
//! only, applied before the loss and undone on every prediction, so the head learns unit-scale
//! targets whatever the units (FreeSolv kcal/mol vs QM9 Hartree) and valid/test never leak.

/// Per-task `(y − mean) / std`. Classification uses the identity (`mean 0, std 1`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Standardizer {
    /// The identity for `n_tasks` tasks.
    pub fn identity(n_tasks: usize) -> Self {
        Self {
            mean: vec![0.0; n_tasks],
            std: vec![1.0; n_tasks],
        }
    }

    /// Fits on row-major labels (`n_tasks` per molecule, `None` = missing). A task with no label
    /// or zero spread keeps std 1 so nothing divides by zero.
    pub fn fit(labels: &[Option<f64>], n_tasks: usize) -> Self {
        let mut s = Self::identity(n_tasks);
        for t in 0..n_tasks {
            let v: Vec<f64> = labels
                .iter()
                .skip(t)
                .step_by(n_tasks.max(1))
                .flatten()
                .copied()
                .collect();
            if v.is_empty() {
                continue;
            }
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|y| (y - m) * (y - m)).sum::<f64>() / v.len() as f64).sqrt();
            s.mean[t] = m;
            s.std[t] = if sd > 0.0 && sd.is_finite() { sd } else { 1.0 };
        }
        s
    }

    /// Standardised value of task `t`.
    pub fn forward(&self, t: usize, y: f64) -> f64 {
        (y - self.mean[t]) / self.std[t]
    }

    /// Original units of a standardised value of task `t`.
    pub fn inverse(&self, t: usize, z: f64) -> f64 {
        z * self.std[t] + self.mean[t]
    }
}
