//! One fine-tuning run on one split: train the head (frozen regime) or encoder + head (full
//! regime), evaluate on valid every epoch, keep the weights of the best valid epoch, and score
//! test with them.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use chemlm_data::TaskType;
use chemlm_models::{LanguageModel, Model};
use rand::seq::SliceRandom;

use super::batches::{length_grouped, WINDOW_BATCHES};
use super::head::{dropout_rng, Head, HeadConfig};
use super::loss::{finetune_batch_loss, RegressionLoss};
use super::standardize::Standardizer;
use super::teacher::TeacherOutputs;
use super::{FinetuneError, Result};
use crate::baselines::evaluate;
use crate::distill::task::TaskDistillConfig;
use crate::optim::{clip_grad_norm, AdamW, AdamWConfig, DecayRule, Optimizer, ParamSet};
use chemlm_models::encode::{embed_all, pad_batch, pool, EncodeOptions, Pooling};

/// Which weights train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    /// Embed once with the pretrained encoder; train only the head.
    Frozen,
    /// Train encoder and head together (separate learning rates).
    Finetune,
}

impl std::str::FromStr for Regime {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "frozen" => Ok(Regime::Frozen),
            "finetune" | "full" => Ok(Regime::Finetune),
            other => Err(format!("unknown regime {other:?} (frozen, finetune)")),
        }
    }
}

/// Hyperparameters of a fine-tuning run (written to the run directory).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinetuneConfig {
    pub regime: Regime,
    /// Maximum epochs.
    pub epochs: usize,
    /// Epochs without a better validation score before stopping.
    pub patience: usize,
    /// Encoder learning rate (full regime).
    pub lr: f64,
    /// Head learning rate.
    pub head_lr: f64,
    pub batch_size: usize,
    /// Head hidden width; 0 = the encoder's hidden size.
    pub hidden: usize,
    pub dropout: f64,
    pub weight_decay: f64,
    /// Global gradient-norm clip (0 = none).
    pub max_grad_norm: f64,
    pub loss: RegressionLoss,
    /// `None` = the architecture's own ([`Pooling::for_model`]).
    pub pooling: Option<Pooling>,
    pub encode: EncodeOptions,
    /// Molecules per forward pass when embedding / evaluating.
    pub eval_batch: usize,
    /// Task-stage distillation settings (alpha, temperature) when a teacher's predictions are
    /// mixed into the loss ([`fit_fold_distilled`]); `None` = labels only.
    #[serde(default)]
    pub distill: Option<TaskDistillConfig>,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        Self {
            regime: Regime::Frozen,
            epochs: 100,
            patience: 10,
            lr: 3e-5,
            head_lr: 1e-3,
            batch_size: 32,
            hidden: 0,
            dropout: 0.1,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            loss: RegressionLoss::L1,
            pooling: None,
            encode: EncodeOptions::default(),
            eval_batch: 128,
            distill: None,
        }
    }
}

impl FinetuneConfig {
    /// Checks ranges before any work is done.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(FinetuneError::Invalid(m));
        if self.epochs == 0 || self.batch_size == 0 || self.eval_batch == 0 {
            return bad("epochs, batch size and eval batch must be positive".into());
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.head_lr) || (self.regime == Regime::Finetune && !positive(self.lr)) {
            return bad(format!(
                "learning rates must be positive (lr {}, head lr {})",
                self.lr, self.head_lr
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if let Some(d) = &self.distill {
            if !(0.0..=1.0).contains(&d.alpha) {
                return bad(format!(
                    "distillation alpha must be in [0, 1], got {}",
                    d.alpha
                ));
            }
            if !(d.temperature.is_finite() && d.temperature > 0.0) {
                return bad(format!(
                    "distillation temperature must be positive, got {}",
                    d.temperature
                ));
            }
        }
        Ok(())
    }
}

/// The data of one fold. Rows index the data set; `seqs[row]` are its token ids.
pub struct FoldData<'a> {
    pub task: TaskType,
    pub n_tasks: usize,
    /// Early-stopping metric key (`roc-auc`, `rmse`, `r2`, …).
    pub primary: &'a str,
    /// Token ids per data-set row (`None` = could not be encoded; such rows must not appear in
    /// the row lists).
    pub seqs: &'a [Option<Vec<u32>>],
    /// Row-major labels of the whole data set.
    pub labels: &'a [Option<f64>],
    pub train: &'a [usize],
    pub valid: &'a [usize],
    pub test: &'a [usize],
    /// Frozen regime: pooled embeddings of every data-set row `[rows, dim]`, computed once and
    /// shared by seeds (they do not depend on the split).
    pub embeddings: Option<&'a Tensor>,
}

/// One epoch's line in `metrics.jsonl`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EpochRecord {
    pub epoch: usize,
    /// Mean training loss (with a teacher: `alpha·soft + (1 − alpha)·hard`).
    pub train_loss: f64,
    /// With a teacher: mean teacher-matching term.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_soft: Option<f64>,
    /// With a teacher: mean true-label term.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_hard: Option<f64>,
    pub valid: Vec<(String, f64)>,
    /// True when this epoch is the best so far (its test score is the one reported).
    pub best: bool,
    pub seconds: f64,
}

/// What one fold run produces.
pub struct FoldOutcome {
    /// 1-based epoch whose weights were kept.
    pub best_epoch: usize,
    pub epochs_run: usize,
    pub valid_metrics: Vec<(String, f64)>,
    pub test_metrics: Vec<(String, f64)>,
    /// Test predictions in original units, row-major (`n_tasks` per test row, rows as given).
    pub test_preds: Vec<f64>,
    pub history: Vec<EpochRecord>,
    pub head: Head,
    pub standardizer: Standardizer,
    pub pooling: Pooling,
    /// Seconds spent in training steps (no evaluation), and molecules pushed through them.
    pub train_seconds: f64,
    pub train_molecules: u64,
}

/// `(metric name, value)` pairs.
type Metrics = Vec<(String, f64)>;

fn higher_is_better(key: &str) -> bool {
    matches!(key, "roc-auc" | "prc-auc" | "r2")
}

fn primary_value(m: &[(String, f64)], key: &str) -> f64 {
    m.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .unwrap_or(f64::NAN)
}

/// Outputs of the head in original units (probabilities for classification), row-major.
pub fn to_original_units(
    out: &Tensor,
    task: TaskType,
    standardizer: &Standardizer,
) -> Result<Vec<f64>> {
    let rows: Vec<Vec<f32>> = out.to_dtype(DType::F32)?.to_vec2()?;
    Ok(rows
        .into_iter()
        .flat_map(|r| {
            r.into_iter()
                .enumerate()
                .map(|(t, z)| {
                    let z = z as f64;
                    if task == TaskType::Classification {
                        1.0 / (1.0 + (-z).exp())
                    } else {
                        standardizer.inverse(t, z)
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect())
}

/// Pooled embeddings of `rows` in eval mode: taken from the precomputed table (frozen) or run
/// through the current encoder (full regime).
fn features(
    model: &Model,
    data: &FoldData,
    rows: &[usize],
    pad: u32,
    pooling: Pooling,
    batch: usize,
) -> Result<Tensor> {
    match data.embeddings {
        Some(e) => {
            let idx: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
            let idx = Tensor::from_vec(idx, rows.len(), e.device())?;
            Ok(e.index_select(&idx, 0)?)
        }
        None => {
            let seqs = row_seqs(data, rows)?;
            Ok(embed_all(model, &seqs, pad, pooling, batch, &mut |_| {})?)
        }
    }
}

fn row_seqs<'a>(data: &'a FoldData, rows: &[usize]) -> Result<Vec<&'a [u32]>> {
    rows.iter()
        .map(|&r| {
            data.seqs
                .get(r)
                .and_then(|s| s.as_deref())
                .ok_or_else(|| FinetuneError::Invalid(format!("row {r} has no token ids")))
        })
        .collect()
}

fn gather_labels(data: &FoldData, rows: &[usize]) -> Vec<Option<f64>> {
    rows.iter()
        .flat_map(|&r| {
            data.labels[r * data.n_tasks..(r + 1) * data.n_tasks]
                .iter()
                .copied()
        })
        .collect()
}

/// Predictions (original units) for `rows` with the current weights.
#[allow(clippy::too_many_arguments)]
fn predict_rows(
    model: &Model,
    head: &Head,
    data: &FoldData,
    rows: &[usize],
    pad: u32,
    pooling: Pooling,
    batch: usize,
    std: &Standardizer,
) -> Result<Vec<f64>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let x = features(model, data, rows, pad, pooling, batch)?;
    let out = head.forward(&x, None)?;
    to_original_units(&out, data.task, std)
}

fn snapshot_vars(params: &ParamSet) -> Result<Vec<Tensor>> {
    Ok(params
        .iter()
        .map(|p| p.var.as_tensor().copy())
        .collect::<candle_core::Result<_>>()?)
}

fn restore_vars(params: &ParamSet, snap: &[Tensor]) -> Result<()> {
    for (p, t) in params.iter().zip(snap) {
        p.var.set(t)?;
    }
    Ok(())
}

/// Trains on `data.train`, early-stops on `data.valid`, and scores `data.test` at the best
/// epoch. In the full regime `model`'s weights are updated and end at the best epoch's values;
/// in the frozen regime they are never touched. `on_epoch` sees every epoch record as it is made.
pub fn fit_fold(
    model: &Model,
    pad: u32,
    data: &FoldData,
    cfg: &FinetuneConfig,
    seed: u64,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<FoldOutcome> {
    fit_fold_distilled(model, pad, data, None, cfg, seed, on_epoch)
}

/// [`fit_fold`] with task-stage distillation: `teacher` holds the teacher's outputs for every
/// training row and `cfg.distill` the mix (see [`super::teacher`]); both or neither must be set.
/// Validation, early stopping and test scores use the true labels only.
pub fn fit_fold_distilled(
    model: &Model,
    pad: u32,
    data: &FoldData,
    teacher: Option<&TeacherOutputs>,
    cfg: &FinetuneConfig,
    seed: u64,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<FoldOutcome> {
    cfg.validate()?;
    let kd: Option<(&TeacherOutputs, TaskDistillConfig)> = match (teacher, cfg.distill) {
        (None, None) => None,
        (Some(t), Some(d)) => Some((t, d)),
        (Some(_), None) => {
            return Err(FinetuneError::Invalid(
                "teacher outputs given but no distillation settings (config.distill)".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(FinetuneError::Invalid(
                "distillation settings given but no teacher outputs".into(),
            ))
        }
    };
    if data.train.is_empty() {
        return Err(FinetuneError::Invalid("empty training set".into()));
    }
    if cfg.regime == Regime::Frozen && data.embeddings.is_none() {
        return Err(FinetuneError::Invalid(
            "frozen regime needs precomputed embeddings".into(),
        ));
    }
    let dev: &Device = model.device();
    let n_tasks = data.n_tasks;
    let pooling = cfg.pooling.unwrap_or_else(|| Pooling::for_model(model));
    let classification = data.task == TaskType::Classification;
    let ytr = gather_labels(data, data.train);
    let standardizer = if classification {
        Standardizer::identity(n_tasks)
    } else {
        Standardizer::fit(&ytr, n_tasks)
    };
    let dim = model.config().hidden_size();
    let head = Head::new(
        HeadConfig {
            n_in: dim,
            hidden: if cfg.hidden == 0 { dim } else { cfg.hidden },
            n_out: n_tasks,
            dropout: cfg.dropout,
        },
        seed,
        dev,
    )?;
    let rule = DecayRule::default();
    let head_params = ParamSet::from_named(head.named_vars(), &rule);
    let adam = AdamWConfig {
        weight_decay: cfg.weight_decay,
        ..Default::default()
    };
    let mut head_opt = AdamW::new(adam, head_params.len());
    let full = cfg.regime == Regime::Finetune;
    let enc_params = if full {
        ParamSet::from_varmap(model.varmap(), &rule)
    } else {
        ParamSet::default()
    };
    let mut enc_opt = AdamW::new(adam, enc_params.len());

    // Targets and masks of every training row, standardised, as one [rows, tasks] pair.
    let (tgt, msk): (Vec<f32>, Vec<f32>) = ytr
        .iter()
        .enumerate()
        .map(|(i, y)| match y {
            Some(y) => (standardizer.forward(i % n_tasks, *y) as f32, 1.0),
            None => (0.0, 0.0),
        })
        .unzip();
    let tgt = Tensor::from_vec(tgt, (data.train.len(), n_tasks), dev)?;
    let msk = Tensor::from_vec(msk, (data.train.len(), n_tasks), dev)?;
    // The teacher's soft targets of every training row, in the student's output space.
    let soft_targets = match kd {
        Some((t, d)) => {
            if t.classification != classification || t.n_tasks != n_tasks {
                return Err(FinetuneError::Invalid(format!(
                    "the teacher gives {} outputs for {}, the student trains {n_tasks} for {}",
                    t.n_tasks,
                    if t.classification {
                        "classification"
                    } else {
                        "regression"
                    },
                    if classification {
                        "classification"
                    } else {
                        "regression"
                    },
                )));
            }
            Some((t.targets(data.train, &standardizer, dev)?, d))
        }
        None => None,
    };
    let yva = gather_labels(data, data.valid);
    let yte = gather_labels(data, data.test);

    let mut order: Vec<usize> = (0..data.train.len()).collect();
    let mut step: u64 = 0;
    let mut best: Option<(usize, f64)> = None;
    let mut best_state: Option<(Vec<Tensor>, Vec<Tensor>)> = None;
    // (test predictions, valid metrics, test metrics) of the best epoch.
    let mut best_test: Option<(Vec<f64>, Metrics, Metrics)> = None;
    let mut history = Vec::new();
    let (mut train_seconds, mut train_molecules) = (0.0f64, 0u64);
    let mut since_best = 0usize;
    for epoch in 1..=cfg.epochs {
        let t0 = Instant::now();
        let mut shuffle = crate::rng::derived_rng(seed, 0x5348_0000 + epoch as u64);
        order.shuffle(&mut shuffle);
        let epoch_batches: Vec<Vec<usize>> = if full {
            let len = |i: usize| {
                let row = data.seqs.get(data.train[i]);
                row.and_then(Option::as_ref).map_or(0, Vec::len)
            };
            length_grouped(&order, len, cfg.batch_size, WINDOW_BATCHES, &mut shuffle)
        } else {
            order
                .chunks(cfg.batch_size)
                .map(<[usize]>::to_vec)
                .collect()
        };
        let (mut loss_sum, mut batches) = (0.0f64, 0usize);
        let (mut soft_sum, mut hard_sum) = (0.0f64, 0.0f64);
        for chunk in &epoch_batches {
            let idx = Tensor::from_vec(
                chunk.iter().map(|&i| i as u32).collect::<Vec<u32>>(),
                chunk.len(),
                dev,
            )?;
            let rows: Vec<usize> = chunk.iter().map(|&i| data.train[i]).collect();
            let x = if full {
                let seqs = row_seqs(data, &rows)?;
                let (ids, mask) = pad_batch(&seqs, pad, dev)?;
                model.set_seed(seed.wrapping_mul(1_000_003).wrapping_add(step));
                let h = model.forward_hidden(&ids, &mask, true)?;
                pool(&h, &mask, pooling)?
            } else {
                let e = data.embeddings.ok_or_else(|| {
                    FinetuneError::Invalid("frozen regime needs embeddings".into())
                })?;
                let ridx = Tensor::from_vec(
                    rows.iter().map(|&r| r as u32).collect::<Vec<u32>>(),
                    rows.len(),
                    dev,
                )?;
                e.index_select(&ridx, 0)?.detach()
            };
            let mut drng = dropout_rng(seed, step);
            let out = head.forward(&x, Some(&mut drng))?;
            let (t, m) = (tgt.index_select(&idx, 0)?, msk.index_select(&idx, 0)?);
            let teacher_batch = match &soft_targets {
                Some((st, d)) => Some((st.index_select(&idx, 0)?, *d)),
                None => None,
            };
            let parts = finetune_batch_loss(
                &out,
                &t,
                &m,
                classification,
                cfg.loss,
                teacher_batch.as_ref().map(|(st, d)| (st, d)),
            )?;
            if let Some(soft) = &parts.soft {
                soft_sum += soft.to_dtype(DType::F64)?.to_scalar::<f64>()?;
                hard_sum += parts.hard.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            }
            let loss = parts.total;
            let lv = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            if !lv.is_finite() {
                return Err(FinetuneError::Invalid(format!(
                    "non-finite loss {lv} at epoch {epoch}, step {step}"
                )));
            }
            let grads = loss.backward()?;
            let mut hg = head_params.grads(&grads);
            let mut eg = enc_params.grads(&grads);
            if cfg.max_grad_norm > 0.0 {
                clip_grad_norm(&mut hg, cfg.max_grad_norm)?;
                if full {
                    clip_grad_norm(&mut eg, cfg.max_grad_norm)?;
                }
            }
            head_opt.step(&head_params, &hg, cfg.head_lr)?;
            if full {
                enc_opt.step(&enc_params, &eg, cfg.lr)?;
            }
            loss_sum += lv;
            batches += 1;
            step += 1;
        }
        train_seconds += t0.elapsed().as_secs_f64();
        train_molecules += data.train.len() as u64;

        let vpred = predict_rows(
            model,
            &head,
            data,
            data.valid,
            pad,
            pooling,
            cfg.eval_batch,
            &standardizer,
        )?;
        let vmet = evaluate(data.task, &vpred, &yva, n_tasks);
        let v = primary_value(&vmet, data.primary);
        let score = if higher_is_better(data.primary) {
            v
        } else {
            -v
        };
        let improved = score.is_finite() && best.map(|(_, b)| score > b).unwrap_or(true);
        // With no usable validation score at all, keep the latest epoch.
        let keep = improved || (best.is_none() && !score.is_finite());
        if keep {
            if improved {
                best = Some((epoch, score));
            }
            since_best = 0;
            best_state = Some((
                head.snapshot()?,
                if full {
                    snapshot_vars(&enc_params)?
                } else {
                    Vec::new()
                },
            ));
            let tpred = predict_rows(
                model,
                &head,
                data,
                data.test,
                pad,
                pooling,
                cfg.eval_batch,
                &standardizer,
            )?;
            let tmet = evaluate(data.task, &tpred, &yte, n_tasks);
            best_test = Some((tpred, vmet.clone(), tmet));
        } else {
            since_best += 1;
        }
        let per_batch = |x: f64| x / batches.max(1) as f64;
        let rec = EpochRecord {
            epoch,
            train_loss: per_batch(loss_sum),
            train_soft: kd.map(|_| per_batch(soft_sum)),
            train_hard: kd.map(|_| per_batch(hard_sum)),
            valid: vmet,
            best: keep,
            seconds: t0.elapsed().as_secs_f64(),
        };
        on_epoch(&rec);
        history.push(rec);
        if since_best >= cfg.patience.max(1) {
            break;
        }
    }
    let epochs_run = history.len();
    let best_epoch = best
        .map(|(e, _)| e)
        .or_else(|| history.iter().rev().find(|r| r.best).map(|r| r.epoch))
        .unwrap_or(epochs_run);
    if let Some((h, e)) = &best_state {
        head.restore(h)?;
        if full {
            restore_vars(&enc_params, e)?;
        }
    }
    let (test_preds, valid_metrics, test_metrics) =
        best_test.ok_or_else(|| FinetuneError::Invalid("no epoch was evaluated".into()))?;
    Ok(FoldOutcome {
        best_epoch,
        epochs_run,
        valid_metrics,
        test_metrics,
        test_preds,
        history,
        head,
        standardizer,
        pooling,
        train_seconds,
        train_molecules,
    })
}

/// Pooled embeddings of every encodable row (zeros for rows that could not be encoded), for the
/// frozen regime. `progress` gets the count of molecules done after each batch.
pub fn embed_dataset(
    model: &Model,
    seqs: &[Option<Vec<u32>>],
    pad: u32,
    pooling: Pooling,
    batch: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Tensor> {
    let ok: Vec<usize> = (0..seqs.len()).filter(|&i| seqs[i].is_some()).collect();
    let s: Vec<&[u32]> = ok.iter().filter_map(|&i| seqs[i].as_deref()).collect();
    let e = embed_all(model, &s, pad, pooling, batch, progress)?;
    let dim = model.config().hidden_size();
    let zero = Tensor::zeros(dim, DType::F32, model.device())?;
    let mut rows = vec![zero; seqs.len()];
    for (k, &i) in ok.iter().enumerate() {
        rows[i] = e.get(k)?;
    }
    if rows.is_empty() {
        return Ok(Tensor::zeros((0, dim), DType::F32, model.device())?);
    }
    Ok(Tensor::stack(&rows, 0)?)
}

/// Token ids of every SMILES (`Err(reason)` for molecules that cannot be encoded), in parallel.
pub fn encode_all(
    tok: &chemlm_data::Tokenizer,
    smiles: &[String],
    opts: EncodeOptions,
    max_len: usize,
) -> Vec<std::result::Result<Vec<u32>, String>> {
    encode_all_tallied(tok, smiles, opts, max_len, None)
}

/// [`encode_all`] counting out-of-vocabulary tokens into `tally`.
pub fn encode_all_tallied(
    tok: &chemlm_data::Tokenizer,
    smiles: &[String],
    opts: EncodeOptions,
    max_len: usize,
    tally: Option<&chemlm_data::OovTally>,
) -> Vec<std::result::Result<Vec<u32>, String>> {
    use rayon::prelude::*;
    smiles
        .par_iter()
        .map(|s| chemlm_models::encode::encode_for_model_tallied(tok, s, opts, max_len, tally))
        .collect()
}
