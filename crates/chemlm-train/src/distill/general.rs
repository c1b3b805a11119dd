//! General (pretraining-stage) knowledge distillation as one run (DeLiCaTe: molbert → delicate;
//! moved out of the CLI in issue 18): a frozen masked-LM teacher, a student built from a config,
//! the distillation objective of [`super::DistillObjective`] trained by the ordinary trainer on
//! token shards. Run layout as pretraining: `checkpoints/step-N/` (each a loadable student model
//! directory that also holds the learned projections, so a resumed run continues exactly),
//! `best/`, the final student in `model/`, `metrics.jsonl`, `distill_components.jsonl` (each
//! term per micro-batch), the loss plots, `distill.toml` (resolved settings) and `summary.json`.

use std::path::Path;
use std::sync::Arc;

use candle_core::Device;
use chemlm_data::{ShardSet, Tokenizer};
use chemlm_models::{Model, ModelConfig};
use serde::Serialize;

use super::{
    trainable_params, DistillConfig, DistillLosses, DistillObjective, LayerMap, Projections,
};
use crate::objectives::{Masker, SpecialTokens};
use crate::pretrain::{batch_config, ctx, run_err, BatchSettings};
use crate::{rng, Result, ShardSource, TrainConfig, Trainer};

/// One general-distillation run.
pub struct GeneralDistill<'a> {
    /// The teacher's model directory (frozen; needs its masked-LM head when `alpha_kd > 0`).
    pub teacher: &'a Path,
    /// The student's architecture (vocabulary and special ids are set from the shards).
    pub student: ModelConfig,
    /// How the student was named (a preset or a config file), recorded in `distill.toml`.
    pub student_name: String,
    /// Token shards prepared with the teacher's tokenizer.
    pub data: &'a Path,
    pub out: &'a Path,
    pub train_split: &'a str,
    pub valid_split: &'a str,
    /// Soft-target temperature and the weight of each loss term.
    pub temperature: f64,
    pub alpha_kd: f64,
    pub alpha_mlm: f64,
    pub alpha_hidden_mse: f64,
    pub alpha_mmd: f64,
    pub alpha_attention: f64,
    /// Student layer → teacher layer; evenly spaced when `None`.
    pub layer_map: Option<LayerMap>,
    /// Optimizer, schedule, steps, seed, evaluation and checkpoint cadence.
    pub train: TrainConfig,
    pub batch: BatchSettings,
    /// Validation batches for the final per-term report.
    pub eval_batches: usize,
    /// Continue from the newest checkpoint in `out`.
    pub resume: bool,
}

/// Resolved settings, written to `OUT/distill.toml`.
#[derive(Debug, Clone, Serialize)]
struct DistillFile<'a> {
    teacher: &'a Path,
    student: String,
    data: &'a Path,
    train_split: &'a str,
    valid_split: &'a str,
    distill: &'a DistillConfig,
    train: &'a TrainConfig,
    batch: &'a BatchSettings,
}

#[derive(Serialize)]
struct Summary<'a> {
    teacher: &'a Path,
    teacher_parameters: usize,
    student_architecture: &'a str,
    student_parameters: usize,
    compression: f64,
    projection_parameters: usize,
    steps: u64,
    final_train_loss: Option<f64>,
    best_valid_loss: Option<f64>,
    /// Each loss term on the validation split at the end (None without a validation split).
    final_valid_components: Option<DistillLosses>,
    tokens_seen: u64,
    wall_seconds: f64,
    model_dir: &'a Path,
}

/// The teacher must read the shards' tokens: same vocabulary, token for token.
pub fn check_teacher_tokenizer(teacher_dir: &Path, shards_tok: &Tokenizer) -> Result<()> {
    let p = teacher_dir.join(chemlm_models::io::TOKENIZER_FILE);
    if !p.exists() {
        tracing::warn!(
            "{}: no tokenizer.json; assuming the teacher uses the shards' vocabulary",
            teacher_dir.display()
        );
        return Ok(());
    }
    let t = Tokenizer::load(&p)?;
    if t.vocab().tokens() != shards_tok.vocab().tokens() {
        return Err(run_err(format!(
            "{} has a different vocabulary ({} tokens) from the shards' tokenizer ({} tokens): \
             distill on shards prepared with the teacher's tokenizer",
            p.display(),
            t.vocab_size(),
            shards_tok.vocab_size()
        )));
    }
    Ok(())
}

/// Runs the distillation on `device`; returns `summary.json` as one JSON line.
pub fn run(spec: &GeneralDistill, device: &Device, quiet: bool) -> Result<String> {
    let shards = ShardSet::open(spec.data)
        .map_err(ctx(format!("opening shards {}", spec.data.display())))?;
    let tokenizer = shards.tokenizer()?;
    let tokenizer_path = spec.data.join(&shards.manifest().tokenizer);

    let teacher = Model::load(spec.teacher, device)
        .map_err(ctx(format!("loading teacher {}", spec.teacher.display())))?;
    check_teacher_tokenizer(spec.teacher, &tokenizer)?;
    if spec.alpha_kd > 0.0 && !teacher.lm_head_loaded() {
        return Err(run_err(format!(
            "teacher {} has no masked-LM head (an encoder-only checkpoint), so it has no \
             logits to distil: pass --alpha-kd 0 and distil hidden states or attention only, \
             or pretrain the teacher first",
            spec.teacher.display()
        )));
    }
    let mut scfg = spec.student.clone();
    scfg.set_vocab_size(tokenizer.vocab_size());
    scfg.set_special_token_ids(crate::run_dir::tokenizer_ids(&tokenizer));
    let tcfg = teacher.config().clone();
    if tcfg.vocab_size() != tokenizer.vocab_size() {
        return Err(run_err(format!(
            "teacher {} has a vocabulary of {} tokens, the shards' tokenizer {}",
            spec.teacher.display(),
            tcfg.vocab_size(),
            tokenizer.vocab_size()
        )));
    }
    let train_cfg = spec.train.clone();
    train_cfg.validate()?;
    let dcfg = DistillConfig {
        temperature: spec.temperature,
        alpha_kd: spec.alpha_kd,
        alpha_mlm: spec.alpha_mlm,
        alpha_hidden_mse: spec.alpha_hidden_mse,
        alpha_mmd: spec.alpha_mmd,
        alpha_attention: spec.alpha_attention,
        layer_map: spec
            .layer_map
            .clone()
            .unwrap_or_else(|| LayerMap::evenly(tcfg.num_layers(), scfg.num_layers())),
    };
    dcfg.validate().map_err(run_err)?;
    let batch = &spec.batch;

    let student = Model::new(&scfg, device, train_cfg.seed)?;
    let projections = Projections::new(
        &dcfg.layer_map,
        scfg.hidden_size(),
        tcfg.hidden_size(),
        train_cfg.seed ^ 0x5EED_D157,
        device,
    )?;
    let sp = tokenizer.special_ids();
    let specials = SpecialTokens {
        vocab_size: tokenizer.vocab_size() as u32,
        mask_id: sp.mask,
        pad_id: sp.pad,
        special_ids: vec![sp.bos, sp.eos, sp.pad, sp.mask, sp.unk],
    };
    let objective = DistillObjective::new(
        &teacher,
        &student,
        &projections,
        Masker::new(train_cfg.masking, &specials)?,
        dcfg.clone(),
        device.clone(),
    )?;

    let max_len = tcfg.max_positions().min(scfg.max_positions());
    let train_data = Arc::new(shards.split(spec.train_split)?);
    // Batches are prepared on a background thread while the model trains (same batches, same
    // checkpoint positions; see `crate::Prefetch`).
    let mut train = crate::Prefetch::new(
        ShardSource::new(
            train_data,
            batch_config(batch, train_cfg.seed, true, max_len),
            sp.pad,
            None,
        )?,
        4,
    );
    let mut valid = if shards.manifest().sequences(spec.valid_split) > 0 {
        let d = Arc::new(shards.split(spec.valid_split)?);
        Some(ShardSource::new(
            d,
            batch_config(batch, train_cfg.seed, false, max_len),
            sp.pad,
            Some(1),
        )?)
    } else {
        tracing::warn!(split = %spec.valid_split, "the shards have no validation split: no validation");
        None
    };

    let existing = crate::run_dir::open_run_dir(spec.out, spec.resume)?;
    let resolved = DistillFile {
        teacher: spec.teacher,
        student: spec.student_name.clone(),
        data: spec.data,
        train_split: spec.train_split,
        valid_split: spec.valid_split,
        distill: &dcfg,
        train: &train_cfg,
        batch,
    };
    let text =
        toml::to_string_pretty(&resolved).map_err(ctx("serialising the settings".to_string()))?;
    chemlm_models::io::write_atomic(&spec.out.join("distill.toml"), text.as_bytes())?;

    let params = trainable_params(&student, &projections, &train_cfg.decay);
    let projection_parameters: usize = projections
        .named_vars()
        .iter()
        .map(|(_, v)| v.elem_count())
        .sum();
    let mut trainer = Trainer::with_params(train_cfg.clone(), params, Some(spec.out))?;
    trainer.set_quiet(quiet);
    // Training FLOPs per token: student forward + backward (3×) plus the teacher's forward.
    trainer.set_flops_per_token(
        (3 * chemlm_models::flops_per_token(&scfg)? + chemlm_models::flops_per_token(&tcfg)?)
            as f64,
    );
    // Every checkpoint and best/ is a student model directory; its weights file also holds the
    // projections.
    crate::run_dir::save_model_checkpoints(
        &mut trainer,
        &student,
        &tokenizer_path,
        projections.named_vars(),
    );
    let components = spec.out.join("distill_components.jsonl");
    if spec.resume {
        crate::run_dir::resume(
            &mut trainer,
            existing,
            spec.out,
            &mut train,
            &student,
            device,
        )?;
    }
    objective.set_component_log(&components, spec.resume)?;

    let summary = trainer.fit(
        &objective,
        &mut train,
        valid.as_mut().map(|v| v as &mut dyn crate::BatchSource),
    )?;
    let model_dir = spec.out.join("model");
    student.save(&model_dir, Some(&tokenizer_path))?;
    let final_valid_components = match valid.as_mut() {
        Some(v) => {
            let mut r = rng::derived_rng(train_cfg.seed, 2);
            Some(objective.evaluate_components(v, &mut r, Some(spec.eval_batches))?)
        }
        None => None,
    };
    let (tp, stp) = (
        teacher.parameter_count()?.total,
        student.parameter_count()?.total,
    );
    let s = Summary {
        teacher: spec.teacher,
        teacher_parameters: tp,
        student_architecture: scfg.architecture(),
        student_parameters: stp,
        compression: tp as f64 / stp.max(1) as f64,
        projection_parameters,
        steps: summary.steps,
        final_train_loss: summary.losses.last().copied(),
        best_valid_loss: summary.best_valid,
        final_valid_components,
        tokens_seen: summary.tokens_seen,
        wall_seconds: summary.elapsed,
        model_dir: &model_dir,
    };
    crate::run_dir::write_summary(spec.out, &s)
}
