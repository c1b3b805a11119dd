//! Training Performance Estimation (Frey et al. 2023): rank hyperparameter candidates by
//! training-speed estimators of a short run instead of training each to convergence.
//!
//! The estimators are those of ncfrey/litmatter `tpe.py` (after Ru et al. 2021), computed from
//! per-step (epoch, loss) pairs with `B` = steps in epoch `T`:
//! `TSE = Σ_{epoch < T} loss / B`, `TSE-E = Σ_{T−E+1 ≤ epoch ≤ T} loss / B`,
//! `TSE-EMA = Σ_{t=0..T} γ^(T−t) Σ_{epoch = t} loss / B` (γ = 0.999). Lower = better.
//!
//! The trainer's running `tse` / `tse_ema` in metrics.jsonl are per-step variants (Σ of step
//! losses; EMA with γ per step) — monotone in the same losses but not the same numbers, so TPE
//! recomputes litmatter's values from the logged curve.
//!
//! Cost model: candidates train with a constant learning rate after warm-up, the same seed and
//! data order, so a run of `small_epochs` is bit-identical to the first `small_epochs` epochs of
//! the full run. `chemlm tpe` therefore trains each candidate once (full budget, when verifying)
//! and reads the estimators and the small-budget cost from that prefix.

use crate::config::TrainConfig;
use crate::data::BatchingConfig;
use crate::error::{Result, TrainError};
use crate::optim::ScheduleKind;
use crate::scaling::run::{train_run, Corpus, RunResult, RunSpec};
use crate::scaling::sweep::ModelSize;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// litmatter's three estimators.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TseEstimates {
    /// Σ of losses of epochs before `T`, / B.
    pub tse: f64,
    /// Σ of losses of the last `E` epochs up to `T`, / B.
    pub tse_e: f64,
    /// γ-discounted Σ over epochs 0..=T of the epoch's loss sum / B.
    pub tse_ema: f64,
}

/// The estimators at epoch `t` (0-based) from per-step `(epoch, loss)`; `None` when epoch `t`
/// has no steps.
pub fn litmatter_estimates(
    curve: &[(u64, f64)],
    t: u64,
    e: u64,
    gamma: f64,
) -> Option<TseEstimates> {
    let b = curve.iter().filter(|p| p.0 == t).count();
    if b == 0 {
        return None;
    }
    let b = b as f64;
    let sum = |f: &dyn Fn(u64) -> bool| curve.iter().filter(|p| f(p.0)).map(|p| p.1).sum::<f64>();
    let tse = sum(&|ep| ep < t) / b;
    let lo = (t + 1).saturating_sub(e);
    let tse_e = sum(&|ep| ep >= lo && ep <= t) / b;
    let mut tse_ema = 0.0;
    for ep in 0..=t {
        tse_ema += sum(&|x| x == ep) / b * gamma.powi((t - ep) as i32);
    }
    Some(TseEstimates {
        tse,
        tse_e,
        tse_ema,
    })
}

/// Ranks (1-based) with ties given their average rank (as `scipy.stats.rankdata`).
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman rank correlation (Pearson correlation of average ranks, as
/// `scipy.stats.spearmanr`); `None` for fewer than 2 points or a constant input.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// One hyperparameter candidate: a model size plus optimisation overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// Model (name = the candidate's label).
    #[serde(flatten)]
    pub model: ModelSize,
    /// Peak learning rate override.
    pub lr: Option<f64>,
    /// Batch token budget override.
    pub max_tokens: Option<usize>,
    /// Weight decay override.
    pub weight_decay: Option<f64>,
}

/// The `chemlm tpe` file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpoConfig {
    /// Token shard directory.
    pub data: PathBuf,
    /// Output directory (tpe.jsonl, runs/, report).
    pub out: PathBuf,
    /// Training molecules (prefix of the train split).
    pub train_molecules: usize,
    /// Validation molecules.
    pub valid_molecules: usize,
    /// Epochs of the small TPE budget (>= 2: TSE sums the epochs before the last).
    pub small_epochs: u64,
    /// Epochs of the full budget.
    pub full_epochs: u64,
    /// Also train the full budget and correlate (otherwise only the small budget is trained).
    #[serde(default = "yes")]
    pub verify: bool,
    /// TSE-E's E.
    #[serde(default = "one")]
    pub e: u64,
    /// TSE-EMA's γ.
    #[serde(default = "gamma")]
    pub gamma: f64,
    /// Shared training settings (schedule must be constant).
    #[serde(default)]
    pub train: TrainConfig,
    /// Shared batching.
    #[serde(default)]
    pub batch: BatchingConfig,
    /// The candidates.
    pub candidates: Vec<Candidate>,
}

fn yes() -> bool {
    true
}
fn one() -> u64 {
    1
}
fn gamma() -> f64 {
    0.999
}

impl HpoConfig {
    /// Parses and checks an HPO TOML file.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let c: HpoConfig = toml::from_str(text)
            .map_err(|e| TrainError::Config(format!("{}: {e}", origin.display())))?;
        let bad = |m: &str| Err(TrainError::Config(format!("{}: {m}", origin.display())));
        if c.candidates.len() < 2 {
            return bad("TPE needs at least two candidates");
        }
        if c.small_epochs < 2 {
            return bad("small_epochs must be >= 2 (TSE sums the epochs before the last)");
        }
        if c.verify && c.full_epochs <= c.small_epochs {
            return bad("full_epochs must exceed small_epochs");
        }
        if c.train.schedule != ScheduleKind::Constant {
            return bad(
                "train.schedule must be \"constant\" (the small run is the full run's prefix)",
            );
        }
        for cand in &c.candidates {
            cand.model.config()?;
        }
        Ok(c)
    }
}

/// The outcome for one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    /// Label.
    pub name: String,
    /// Estimators after `small_epochs`.
    pub estimates: TseEstimates,
    /// Training FLOPs of the small budget.
    pub small_flops: f64,
    /// Training seconds of the small budget (prefix of the run's wall clock).
    pub small_seconds: f64,
    /// The run (full budget when verifying).
    pub run: RunResult,
}

/// The whole TPE study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TpeReport {
    /// Per candidate.
    pub candidates: Vec<CandidateResult>,
    /// Spearman ρ between each estimator and the converged validation loss (verify only).
    pub spearman_tse: Option<f64>,
    pub spearman_tse_e: Option<f64>,
    pub spearman_tse_ema: Option<f64>,
    /// Candidate TSE-EMA picks, and the truly best one (verify only).
    pub picked: String,
    pub best: Option<String>,
    /// 1 − (Σ small budgets + full budget of the pick) / Σ full budgets, in FLOPs and seconds.
    pub compute_saved_flops: Option<f64>,
    pub compute_saved_seconds: Option<f64>,
}

/// Trains every candidate (resuming from `out/tpe.jsonl`: finished candidates are skipped) and
/// assembles the report. `on_candidate(index, total, name)` is called before each training.
pub fn run_tpe(
    cfg: &HpoConfig,
    corpus: &Corpus,
    device: &candle_core::Device,
    mut on_candidate: impl FnMut(usize, usize, &str),
) -> Result<TpeReport> {
    std::fs::create_dir_all(&cfg.out).map_err(|e| TrainError::io(&cfg.out, e))?;
    let log = cfg.out.join("tpe.jsonl");
    let mut done: Vec<CandidateResult> = Vec::new();
    if log.exists() {
        let text = std::fs::read_to_string(&log).map_err(|e| TrainError::io(&log, e))?;
        for (i, l) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            done.push(
                serde_json::from_str(l)
                    .map_err(|e| TrainError::format(&log, format!("line {}: {e}", i + 1)))?,
            );
        }
    }
    let epochs = if cfg.verify {
        cfg.full_epochs
    } else {
        cfg.small_epochs
    };
    let mut results = Vec::new();
    for (i, cand) in cfg.candidates.iter().enumerate() {
        if let Some(r) = done.iter().find(|r| r.name == cand.model.name) {
            results.push(r.clone());
            continue;
        }
        on_candidate(i, cfg.candidates.len(), &cand.model.name);
        let mut train = cfg.train.clone();
        if let Some(lr) = cand.lr {
            train.lr = lr;
        }
        if let Some(wd) = cand.weight_decay {
            train.weight_decay = wd;
        }
        // The data source ends the run after `epochs`; steps only bounds it.
        train.steps = u64::MAX / 4;
        let mut batch = cfg.batch.clone();
        if let Some(t) = cand.max_tokens {
            batch.max_tokens = t;
        }
        batch.epochs = Some(epochs);
        let spec = RunSpec {
            model: cand.model.config()?,
            train,
            batch,
            train_molecules: Some(cfg.train_molecules),
        };
        let dir = cfg.out.join("runs").join(&cand.model.name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        let run = train_run(&spec, corpus, &dir, device)?;
        let t = cfg.small_epochs - 1;
        let estimates = litmatter_estimates(&run.curve, t, cfg.e, cfg.gamma).ok_or_else(|| {
            TrainError::Data(format!("{}: no steps in epoch {t}", cand.model.name))
        })?;
        // Cost of the prefix: its share of the steps (FLOPs and time are near-linear in steps).
        let small_steps = run.curve.iter().filter(|p| p.0 <= t).count() as f64;
        let frac = small_steps / run.curve.len().max(1) as f64;
        let mut run = run;
        let r = CandidateResult {
            name: cand.model.name.clone(),
            estimates,
            small_flops: run.flops * frac,
            small_seconds: run.wall_seconds * frac,
            run: {
                run.curve.clear();
                run
            },
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| TrainError::io(&log, e))?;
        let s = serde_json::to_string(&r).map_err(|e| TrainError::format(&log, e))?;
        writeln!(f, "{s}").map_err(|e| TrainError::io(&log, e))?;
        results.push(r);
    }
    Ok(report(results, cfg.verify))
}

/// Correlations, pick and savings from per-candidate results.
pub fn report(candidates: Vec<CandidateResult>, verify: bool) -> TpeReport {
    let pick = candidates
        .iter()
        .min_by(|a, b| a.estimates.tse_ema.total_cmp(&b.estimates.tse_ema))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let (mut st, mut se, mut sm, mut best, mut sf, mut ss) = (None, None, None, None, None, None);
    if verify {
        let loss: Vec<f64> = candidates.iter().map(|c| c.run.valid_loss).collect();
        let col = |f: fn(&TseEstimates) -> f64| -> Vec<f64> {
            candidates.iter().map(|c| f(&c.estimates)).collect()
        };
        st = spearman(&col(|e| e.tse), &loss);
        se = spearman(&col(|e| e.tse_e), &loss);
        sm = spearman(&col(|e| e.tse_ema), &loss);
        best = candidates
            .iter()
            .min_by(|a, b| a.run.valid_loss.total_cmp(&b.run.valid_loss))
            .map(|c| c.name.clone());
        if let Some(p) = candidates.iter().find(|c| c.name == pick) {
            let full_f: f64 = candidates.iter().map(|c| c.run.flops).sum();
            let full_s: f64 = candidates.iter().map(|c| c.run.wall_seconds).sum();
            let tpe_f: f64 =
                candidates.iter().map(|c| c.small_flops).sum::<f64>() + p.run.flops - p.small_flops;
            let tpe_s: f64 = candidates.iter().map(|c| c.small_seconds).sum::<f64>()
                + p.run.wall_seconds
                - p.small_seconds;
            sf = Some(1.0 - tpe_f / full_f);
            ss = Some(1.0 - tpe_s / full_s);
        }
    }
    TpeReport {
        candidates,
        spearman_tse: st,
        spearman_tse_e: se,
        spearman_tse_ema: sm,
        picked: pick,
        best,
        compute_saved_flops: sf,
        compute_saved_seconds: ss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimators_follow_litmatter() {
        // Two steps per epoch, epochs 0..=2.
        let curve = [(0, 4.0), (0, 3.0), (1, 2.0), (1, 2.0), (2, 1.5), (2, 1.0)];
        let e = litmatter_estimates(&curve, 2, 1, 0.5).unwrap();
        assert!((e.tse - 11.0 / 2.0).abs() < 1e-12);
        assert!((e.tse_e - 2.5 / 2.0).abs() < 1e-12);
        // (7/2)·0.25 + (4/2)·0.5 + (2.5/2)·1
        assert!((e.tse_ema - (0.875 + 1.0 + 1.25)).abs() < 1e-12);
        assert_eq!(litmatter_estimates(&curve, 3, 1, 0.5), None);
    }

    #[test]
    fn spearman_matches_scipy_with_ties() {
        // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]).statistic = 0.9486832980505138
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((r - 0.9486832980505138).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0, 1.0], &[2.0, 3.0]), None);
        let r = spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap();
        assert!((r + 1.0).abs() < 1e-12);
    }
}
