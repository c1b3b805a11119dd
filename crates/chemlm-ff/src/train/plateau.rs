//! Learning-rate reduction on a validation plateau and early stopping, with state that goes into
//! checkpoints so a resumed run decides exactly as an uninterrupted one. Floats are stored as
//! Rust's shortest round-trip decimal strings: serde_json's default float parser is not always
//! correctly rounded, and a best loss one ulp off could change a later decision.

use serde::{Deserialize, Serialize};

/// `torch.optim.lr_scheduler.ReduceLROnPlateau` in mode "min", threshold mode "rel", no
/// cooldown: a metric is better when it is below `best · (1 − threshold)`; after more than
/// `patience` epochs without a better one the learning rate is multiplied by `factor` (not below
/// `min_lr`, and only if that changes it by more than 1e-8, torch's `eps`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceLrOnPlateau {
    /// Multiplier of a reduction.
    #[serde(with = "exact")]
    pub factor: f64,
    /// Epochs without improvement tolerated.
    pub patience: usize,
    /// Relative improvement threshold.
    #[serde(with = "exact")]
    pub threshold: f64,
    /// Lower bound of the learning rate.
    #[serde(with = "exact")]
    pub min_lr: f64,
    /// Best metric so far (`None` before the first epoch).
    #[serde(with = "exact_opt")]
    pub best: Option<f64>,
    /// Epochs since the best one.
    pub num_bad_epochs: usize,
    /// Current learning rate.
    #[serde(with = "exact")]
    pub lr: f64,
}

/// What one [`ReduceLrOnPlateau::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateauAction {
    /// Nothing.
    None,
    /// The learning rate was reduced.
    Reduced,
    /// A reduction was due but the learning rate is already at its minimum.
    AtMinimum,
}

impl ReduceLrOnPlateau {
    /// A fresh scheduler starting at `lr`.
    pub fn new(lr: f64, factor: f64, patience: usize, threshold: f64, min_lr: f64) -> Self {
        ReduceLrOnPlateau {
            factor,
            patience,
            threshold,
            min_lr,
            best: None,
            num_bad_epochs: 0,
            lr,
        }
    }

    /// Records one epoch's metric.
    pub fn step(&mut self, metric: f64) -> PlateauAction {
        let better = match self.best {
            None => metric < f64::INFINITY,
            Some(b) => metric < b * (1.0 - self.threshold),
        };
        if better {
            self.best = Some(metric);
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.num_bad_epochs > self.patience {
            self.num_bad_epochs = 0;
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > 1e-8 {
                self.lr = new_lr;
                return PlateauAction::Reduced;
            }
            return PlateauAction::AtMinimum;
        }
        PlateauAction::None
    }
}

/// Stops after `patience` epochs without a strictly lower validation loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement tolerated (`None`: never stop).
    pub patience: Option<usize>,
    /// Lowest validation loss so far.
    #[serde(with = "exact_opt")]
    pub best: Option<f64>,
    /// Epoch (1-based) of the best validation loss.
    pub best_epoch: usize,
    /// Epochs since the best one.
    pub epochs_without_improvement: usize,
}

impl EarlyStopping {
    /// A fresh tracker.
    pub fn new(patience: Option<usize>) -> Self {
        EarlyStopping {
            patience,
            best: None,
            best_epoch: 0,
            epochs_without_improvement: 0,
        }
    }

    /// Records epoch `epoch`'s validation loss; returns whether it is the best so far.
    pub fn update(&mut self, epoch: usize, loss: f64) -> bool {
        let improved = loss.is_finite() && self.best.is_none_or(|b| loss < b);
        if improved {
            self.best = Some(loss);
            self.best_epoch = epoch;
            self.epochs_without_improvement = 0;
        } else {
            self.epochs_without_improvement += 1;
        }
        improved
    }

    /// Whether patience is exhausted.
    pub fn should_stop(&self) -> bool {
        self.patience
            .is_some_and(|p| self.epochs_without_improvement >= p)
    }
}

/// `f64` as an exactly round-tripping string.
pub(crate) mod exact {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `Option<f64>` as an exactly round-tripping string or null.
pub(crate) mod exact_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => s.serialize_str(&x.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| t.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same decisions as torch: patience 2 → the lr drops on the 3rd bad epoch; a 1e-4
    /// relative threshold ignores tiny improvements; min_lr is respected.
    #[test]
    fn plateau_follows_torch() {
        let mut p = ReduceLrOnPlateau::new(1.0, 0.5, 2, 1e-4, 0.3);
        assert_eq!(p.step(10.0), PlateauAction::None);
        assert_eq!(p.step(9.9995), PlateauAction::None); // not < 10·(1 − 1e-4)
        assert_eq!(p.step(10.0), PlateauAction::None);
        assert_eq!(p.step(10.0), PlateauAction::Reduced);
        assert_eq!(p.lr, 0.5);
        assert_eq!(p.step(5.0), PlateauAction::None);
        for _ in 0..2 {
            assert_eq!(p.step(6.0), PlateauAction::None);
        }
        assert_eq!(p.step(6.0), PlateauAction::Reduced);
        assert_eq!(p.lr, 0.3);
        for _ in 0..2 {
            p.step(6.0);
        }
        assert_eq!(p.step(6.0), PlateauAction::AtMinimum);
        assert_eq!(p.lr, 0.3);
    }

    #[test]
    fn early_stopping_counts_epochs() {
        let mut e = EarlyStopping::new(Some(2));
        assert!(e.update(1, 3.0));
        assert!(!e.update(2, 3.0));
        assert!(!e.should_stop());
        assert!(!e.update(3, 4.0));
        assert!(e.should_stop());
        assert_eq!(e.best_epoch, 1);
        assert!(!EarlyStopping::new(None).should_stop());
    }

    #[test]
    fn state_round_trips_exactly() {
        let mut p = ReduceLrOnPlateau::new(3e-4, 0.5, 3, 1e-4, 1e-7);
        p.step(0.1 + 0.2);
        let q: ReduceLrOnPlateau =
            serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(p, q);
        assert_eq!(q.best.unwrap().to_bits(), (0.1f64 + 0.2).to_bits());
    }
}
