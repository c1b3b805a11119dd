//! General distillation as an [`Objective`], so the ordinary [`crate::Trainer`] trains the student
//! with its optimizer, schedule, accumulation, checkpoints, resume, metrics and loss plot.
//!
//! Each batch is masked once; teacher and student see the same corrupted input. The teacher runs
//! in evaluation mode (no dropout) and all its outputs are detached at once, so no gradient reaches
//! it and its autograd graph is freed before the student's backward pass. Only the student's and
//! the projections' variables go into the trainer's [`ParamSet`] (see [`trainable_params`]).

use super::config::DistillConfig;
use super::losses::{attention_mse, gram_mmd, hidden_mse, soft_target_kl_sum};
use super::projection::{named, Projections};
use crate::data::{Batch, BatchSource};
use crate::error::{Result, TrainError};
use crate::objectives::loss::{count_correct, cross_entropy_sum, select_positions, targets_tensor};
use crate::objectives::{LossOutput, Masker, Objective};
use crate::optim::{DecayRule, ParamSet};
use candle_core::{Device, Tensor};
use chemlm_models::{LanguageModel, LmKind, Model, ModelOutput, OutputRequest};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// The terms of the distillation loss of a batch (or their means over an evaluation), each
/// already divided by its own normaliser and before weighting, plus the weighted total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DistillLosses {
    /// `T²·KL` per masked position.
    pub kd: f64,
    /// Hard MLM cross-entropy per masked position.
    pub mlm: f64,
    /// Hidden-state MSE summed over the layer map.
    pub hidden_mse: f64,
    /// Gram MMD summed over the layer map.
    pub mmd: f64,
    /// Attention-map MSE summed over the layer map (0 when off).
    pub attention: f64,
    /// The weighted sum the student is trained on.
    pub total: f64,
    /// Student arg-max accuracy at masked positions.
    pub accuracy: f64,
    /// Masked positions (the weight of this record in averages).
    pub masked: usize,
}

/// One JSON line of the per-micro-batch component log.
#[derive(Serialize)]
struct LogLine<'a> {
    call: u64,
    #[serde(flatten)]
    losses: &'a DistillLosses,
}

struct ComponentLog {
    file: std::io::BufWriter<std::fs::File>,
    calls: u64,
}

/// Teacher → student masked-LM distillation.
pub struct DistillObjective<'m> {
    teacher: &'m Model,
    student: &'m Model,
    projections: &'m Projections,
    masker: Masker,
    cfg: DistillConfig,
    device: Device,
    log: Mutex<Option<ComponentLog>>,
}

/// The variables the trainer updates: the student's and the projections' (never the teacher's).
pub fn trainable_params(student: &Model, projections: &Projections, rule: &DecayRule) -> ParamSet {
    let mut all = named(student.varmap());
    all.extend(projections.named_vars());
    ParamSet::from_named(all, rule)
}

impl<'m> DistillObjective<'m> {
    /// Checks that both models are masked LMs over the same vocabulary, that the layer map fits
    /// them and that the projections match the widths.
    pub fn new(
        teacher: &'m Model,
        student: &'m Model,
        projections: &'m Projections,
        masker: Masker,
        cfg: DistillConfig,
        device: Device,
    ) -> Result<Self> {
        cfg.validate().map_err(TrainError::Config)?;
        let (tc, sc) = (teacher.config(), student.config());
        for (who, c) in [("teacher", tc), ("student", sc)] {
            if c.kind() != LmKind::Masked {
                return Err(TrainError::Config(format!(
                    "the {who} ({}) is not a masked-LM encoder",
                    c.architecture()
                )));
            }
        }
        if tc.vocab_size() != sc.vocab_size() {
            return Err(TrainError::Config(format!(
                "teacher vocabulary has {} tokens, student {}: they must share the tokenizer",
                tc.vocab_size(),
                sc.vocab_size()
            )));
        }
        if cfg.needs_hidden() {
            cfg.layer_map
                .validate(tc.num_layers(), sc.num_layers())
                .map_err(TrainError::Config)?;
        }
        if tc.hidden_size() != sc.hidden_size()
            && cfg.alpha_hidden_mse > 0.0
            && projections.named_vars().is_empty()
        {
            return Err(TrainError::Config(format!(
                "widths differ (teacher {}, student {}) but no projections were built",
                tc.hidden_size(),
                sc.hidden_size()
            )));
        }
        Ok(DistillObjective {
            teacher,
            student,
            projections,
            masker,
            cfg,
            device,
            log: Mutex::new(None),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DistillConfig {
        &self.cfg
    }

    /// Appends one JSON line of [`DistillLosses`] per training micro-batch to `path` (created,
    /// or appended to when `append`, e.g. on resume), so the separate terms can be plotted.
    pub fn set_component_log(&self, path: &Path, append: bool) -> Result<()> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .truncate(!append)
            .open(path)
            .map_err(|e| TrainError::io(path, e))?;
        let mut guard = self.log.lock().unwrap_or_else(|p| p.into_inner());
        *guard = Some(ComponentLog {
            file: std::io::BufWriter::new(file),
            calls: 0,
        });
        Ok(())
    }

    fn request(&self, logits: bool) -> OutputRequest {
        OutputRequest {
            logits,
            hidden_states: self.cfg.needs_hidden(),
            attentions: self.cfg.needs_attention(),
        }
    }

    /// The teacher's outputs, detached (no graph kept, no gradient possible).
    fn teacher_outputs(&self, ids: &Tensor, mask: &Tensor) -> Result<ModelOutput> {
        let out = self.teacher.forward_detailed(
            ids,
            mask,
            false,
            self.request(self.cfg.alpha_kd > 0.0),
        )?;
        Ok(ModelOutput {
            logits: out.logits.map(|t| t.detach()),
            last_hidden: out.last_hidden.detach(),
            hidden_states: out.hidden_states.iter().map(Tensor::detach).collect(),
            attentions: out.attentions.iter().map(Tensor::detach).collect(),
        })
    }

    /// Loss tensor (sum over masked positions of the weighted per-position loss) and its terms.
    fn losses(
        &self,
        batch: &Batch,
        rng: &mut ChaCha8Rng,
        train: bool,
    ) -> Result<(Tensor, DistillLosses)> {
        let masked = self.masker.apply(&batch.ids, &batch.mask, rng);
        let (ids, mask) = batch.tensors(&masked.input_ids, &self.device)?;
        let n = masked.positions.len();
        let t = self.teacher_outputs(&ids, &mask)?;
        let s = self
            .student
            .forward_detailed(&ids, &mask, train, self.request(true))?;
        let s_logits = s
            .logits
            .as_ref()
            .ok_or_else(|| TrainError::Config("the student returned no logits".into()))?;
        let zero = || Tensor::new(0f32, &self.device);
        let mut rec = DistillLosses {
            masked: n,
            ..Default::default()
        };
        let c = &self.cfg;
        let mut total = zero()?;
        if n > 0 {
            let s_sel = select_positions(s_logits, &masked.positions)?;
            let ce = cross_entropy_sum(&s_sel, &targets_tensor(&masked.targets, &self.device)?)?;
            rec.mlm = ce.to_scalar::<f32>()? as f64 / n as f64;
            rec.accuracy = count_correct(&s_sel, &masked.targets)? as f64 / n as f64;
            if c.alpha_mlm > 0.0 {
                total = (total + (ce * (c.alpha_mlm / n as f64))?)?;
            }
            if c.alpha_kd > 0.0 {
                let t_logits = t
                    .logits
                    .as_ref()
                    .ok_or_else(|| TrainError::Config("the teacher returned no logits".into()))?;
                let t_sel = select_positions(t_logits, &masked.positions)?;
                let kd = soft_target_kl_sum(&s_sel, &t_sel, c.temperature)?;
                rec.kd = kd.to_scalar::<f32>()? as f64 / n as f64;
                total = (total + (kd * (c.alpha_kd / n as f64))?)?;
            }
        }
        if c.needs_hidden() {
            let pick = |o: &ModelOutput, who: &str, i: usize| {
                o.hidden_states.get(i).cloned().ok_or_else(|| {
                    TrainError::Config(format!(
                        "the {who} returned {} hidden states, the layer map asks for index {i}",
                        o.hidden_states.len()
                    ))
                })
            };
            let (mut mse_sum, mut mmd_sum) = (zero()?, zero()?);
            for (k, &(ti, si)) in c.layer_map.0.iter().enumerate() {
                let th = pick(&t, "teacher", ti)?;
                let sh = pick(&s, "student", si)?;
                if c.alpha_hidden_mse > 0.0 {
                    let projected = self.projections.apply(k, &sh)?;
                    mse_sum = (mse_sum + hidden_mse(&projected, &th, &mask)?)?;
                }
                if c.alpha_mmd > 0.0 {
                    mmd_sum = (mmd_sum + gram_mmd(&sh, &th, &mask)?)?;
                }
            }
            rec.hidden_mse = mse_sum.to_scalar::<f32>()? as f64;
            rec.mmd = mmd_sum.to_scalar::<f32>()? as f64;
            total = (total + (mse_sum * c.alpha_hidden_mse)? + (mmd_sum * c.alpha_mmd)?)?;
        }
        if c.needs_attention() {
            if s.attentions.is_empty() || t.attentions.is_empty() {
                return Err(TrainError::Config(
                    "attention matching was asked for but a model returns no attention maps".into(),
                ));
            }
            let mut att = zero()?;
            for &(ti, si) in c.layer_map.0.iter().filter(|(t, s)| *t > 0 && *s > 0) {
                let (Some(ta), Some(sa)) = (t.attentions.get(ti - 1), s.attentions.get(si - 1))
                else {
                    return Err(TrainError::Config(format!(
                        "layer map pair {ti}:{si} has no attention map"
                    )));
                };
                att = (att + attention_mse(sa, ta, &mask)?)?;
            }
            rec.attention = att.to_scalar::<f32>()? as f64;
            total = (total + (att * c.alpha_attention)?)?;
        }
        rec.total = total.to_scalar::<f32>()? as f64;
        // The trainer divides by the weight (masked positions), so scale the mean back up.
        // A batch without masked positions has weight 0 and adds nothing.
        let loss_sum = if n == 0 { zero()? } else { (total * n as f64)? };
        Ok((loss_sum, rec))
    }

    /// Mean of each loss term over `source` (reset first; at most `max_batches`), weighted by
    /// masked positions, with masking drawn from `rng` — the breakdown behind a validation loss.
    pub fn evaluate_components(
        &self,
        source: &mut dyn BatchSource,
        rng: &mut ChaCha8Rng,
        max_batches: Option<usize>,
    ) -> Result<DistillLosses> {
        source.reset();
        let mut acc = DistillLosses::default();
        let mut batches = 0usize;
        while let Some(batch) = source.next_batch()? {
            let (_, r) = self.losses(&batch, rng, false)?;
            let w = r.masked as f64;
            acc.kd += r.kd * w;
            acc.mlm += r.mlm * w;
            acc.hidden_mse += r.hidden_mse * w;
            acc.mmd += r.mmd * w;
            acc.attention += r.attention * w;
            acc.total += r.total * w;
            acc.accuracy += r.accuracy * w;
            acc.masked += r.masked;
            batches += 1;
            if max_batches.is_some_and(|m| batches >= m) {
                break;
            }
        }
        if acc.masked == 0 {
            return Err(TrainError::Data("no masked positions to evaluate".into()));
        }
        let w = acc.masked as f64;
        for v in [
            &mut acc.kd,
            &mut acc.mlm,
            &mut acc.hidden_mse,
            &mut acc.mmd,
            &mut acc.attention,
            &mut acc.total,
            &mut acc.accuracy,
        ] {
            *v /= w;
        }
        Ok(acc)
    }
}

impl Objective for DistillObjective<'_> {
    fn name(&self) -> &str {
        "distill"
    }

    fn set_seed(&self, seed: u64) {
        // Only the student draws randomness: the teacher runs without dropout.
        self.student.set_seed(seed);
    }

    fn compute(&self, batch: &Batch, rng: &mut ChaCha8Rng, train: bool) -> Result<LossOutput> {
        let (loss_sum, rec) = self.losses(batch, rng, train)?;
        if train {
            let mut guard = self.log.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(log) = guard.as_mut() {
                log.calls += 1;
                let line = LogLine {
                    call: log.calls,
                    losses: &rec,
                };
                let text = serde_json::to_string(&line)
                    .map_err(|e| TrainError::Data(format!("component log: {e}")))?;
                writeln!(log.file, "{text}")
                    .and_then(|_| log.file.flush())
                    .map_err(|e| TrainError::Data(format!("component log: {e}")))?;
            }
        }
        Ok(LossOutput {
            loss_sum,
            weight: rec.masked as f64,
            correct: (!train).then(|| (rec.accuracy * rec.masked as f64).round() as usize),
            tokens: batch.real_tokens(),
        })
    }
}
