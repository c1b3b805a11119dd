//! `chemlm bench train`: seconds and tokens/s of one full masked-LM training step, on the code
//! path `chemlm pretrain` runs, for the side-by-side comparison with PyTorch
//! (`benches/train/run.sh` runs this and `benches/train/torch_train.py` on the same shapes).
//!
//! One step is exactly the trainer's update (`chemlm_train::Trainer::fit` with one micro-batch):
//! BERT-style masking (15 %, 80/10/10) by `Masker`, forward with dropout, cross-entropy on the
//! masked positions only (`MlmObjective`), backward, gradients averaged over predicted tokens,
//! global-norm clipping at 1.0, AdamW (or LAMB) with weight decay on matrices only. Timed
//! separately: forward + loss, backward, optimizer (averaging, clipping, update). Each
//! implementation (`fused` = our multi-threaded CustomOps and in-place optimizer kernels,
//! `composed` = candle primitives) starts from the same weights and batch.

use anyhow::{bail, Context, Result};
use chemlm_models::{LanguageModel, Model};
use chemlm_train::objectives::{Masker, MaskingConfig, MlmObjective, Objective, SpecialTokens};
use chemlm_train::optim::{self, AdamHyper, DecayRule, OptimizerKind, ParamSet};
use chemlm_train::Batch;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `chemlm bench train`.
#[derive(Args, Debug, Clone)]
pub struct BenchTrainArgs {
    /// Comma-separated model presets (masked-LM encoders).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "molformer-small,bert-small"
    )]
    pub presets: Vec<String>,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Tokens per sequence (no padding, as in the PyTorch script).
    #[arg(long, default_value_t = 64)]
    pub seq: usize,
    /// Timed steps (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Comma-separated implementations: fused, composed.
    #[arg(long = "impl", value_delimiter = ',', default_value = "fused,composed")]
    pub impls: Vec<String>,
    /// adamw | lamb.
    #[arg(long, default_value = "adamw")]
    pub optimizer: OptimizerKind,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also append the JSON lines to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Peak throughput of the device in TFLOP/s at the run's precision (H100/H200 SXM: 989 dense
    /// bf16/f16, 495 tf32); adds `mfu` = achieved training FLOP/s (6N-style FLOPs per token, see
    /// `chemlm model info`) over this peak.
    #[arg(long)]
    pub peak_tflops: Option<f64>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Uniform random non-special tokens (ids 5..vocab, splitmix64), every position real.
fn random_batch(batch: usize, seq: usize, vocab: u32, seed: u64) -> Batch {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let span = u64::from(vocab - 5);
    let seqs: Vec<Vec<u32>> = (0..batch)
        .map(|_| (0..seq).map(|_| 5 + (next() % span) as u32).collect())
        .collect();
    let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
    Batch::from_sequences(&refs, 2, 0)
}

struct StepTimes {
    forward: f64,
    backward: f64,
    optimizer: f64,
    loss: f64,
}

fn bench_one(a: &BenchTrainArgs, preset: &str, fused: bool, quiet: bool) -> Result<String> {
    chemlm_models::ops::set_fused(fused);
    let device = crate::runtime::device()?;
    let precision = crate::runtime::precision();
    if precision.needs_loss_scaling() {
        bail!(
            "bench train times bf16 or f32 steps (f16 needs loss scaling, which it does not time)"
        );
    }
    let model =
        Model::from_preset(preset, &device, a.seed).with_context(|| format!("preset {preset}"))?;
    if !matches!(model.kind(), chemlm_models::LmKind::Masked) {
        bail!("{preset} is not a masked-LM encoder");
    }
    let vocab = model.config().vocab_size() as u32;
    if vocab <= 5 {
        bail!("{preset}: vocabulary of {vocab} has no non-special tokens");
    }
    let specials = SpecialTokens {
        vocab_size: vocab,
        mask_id: 3,
        pad_id: 2,
        special_ids: vec![0, 1, 2, 3, 4],
    };
    let masker = Masker::new(MaskingConfig::default(), &specials)?;
    let objective = MlmObjective::new(&model, masker, device.clone());
    let params = ParamSet::from_varmap(model.varmap(), &DecayRule::default());
    let hyper = AdamHyper {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.01,
    };
    let mut opt = optim::build_optimizer(a.optimizer, hyper, &params);
    let batch = random_batch(a.batch, a.seq, vocab, a.seed + 1);
    let mut rng = chemlm_train::rng::derived_rng(a.seed, 2);
    let mut step = |k: usize| -> Result<StepTimes> {
        let t0 = Instant::now();
        objective.set_seed(a.seed + k as u64);
        let out = objective.compute(&batch, &mut rng, true)?;
        let loss_sum = out.loss_sum.to_scalar::<f32>()? as f64;
        let t1 = Instant::now();
        let store = out.loss_sum.backward()?;
        let mut grads = params.grads(&store);
        drop(store);
        drop(out.loss_sum);
        // GPU kernels run asynchronously: wait for them before reading the clock.
        device.synchronize()?;
        let t2 = Instant::now();
        let inv = 1.0 / out.weight.max(1.0);
        for g in grads.iter_mut().flatten() {
            *g = (&*g * inv)?;
        }
        optim::clip_grad_norm(&mut grads, 1.0)?;
        opt.step(&params, &grads, 1e-4)?;
        drop(grads);
        device.synchronize()?;
        let t3 = Instant::now();
        Ok(StepTimes {
            forward: (t1 - t0).as_secs_f64(),
            backward: (t2 - t1).as_secs_f64(),
            optimizer: (t3 - t2).as_secs_f64(),
            loss: loss_sum / out.weight.max(1.0),
        })
    };
    for k in 0..a.warmup {
        step(k)?;
    }
    let mut times = Vec::with_capacity(a.steps);
    for k in 0..a.steps {
        let t = step(a.warmup + k)?;
        if !quiet {
            eprintln!(
                "  {preset} {} step {}/{}: {:.3} s (fwd {:.3}, bwd {:.3}, opt {:.3}), loss {:.3}",
                if fused { "fused" } else { "composed" },
                k + 1,
                a.steps,
                t.forward + t.backward + t.optimizer,
                t.forward,
                t.backward,
                t.optimizer,
                t.loss
            );
        }
        times.push(t);
    }
    let mut total: Vec<f64> = times
        .iter()
        .map(|t| t.forward + t.backward + t.optimizer)
        .collect();
    let mut fw: Vec<f64> = times.iter().map(|t| t.forward).collect();
    let mut bw: Vec<f64> = times.iter().map(|t| t.backward).collect();
    let mut op: Vec<f64> = times.iter().map(|t| t.optimizer).collect();
    let s = median(&mut total);
    let tokens = (a.batch * a.seq) as f64;
    let flops_per_token = chemlm_models::flops_per_token(model.config())? as f64;
    let achieved_tflops = flops_per_token * tokens / s / 1e12;
    let row = serde_json::json!({
        "bench": "train_step",
        "model": preset,
        "impl": if fused { "candle-fused" } else { "candle-composed" },
        "device": chemlm_models::device_name(&device),
        "precision": precision.to_string(),
        "train_flops_per_token": flops_per_token,
        "achieved_tflops": round4(achieved_tflops),
        "mfu": a.peak_tflops.map(|p| round4(achieved_tflops / p)),
        "optimizer": opt.name(),
        "threads": candle_core::utils::get_num_threads(),
        "batch": a.batch,
        "seq": a.seq,
        "steps": a.steps,
        "parameters": params.numel(),
        "seconds_per_step": round4(s),
        "tokens_per_s": (tokens / s).round(),
        "forward_s": round4(median(&mut fw)),
        "backward_s": round4(median(&mut bw)),
        "optimizer_s": round4(median(&mut op)),
        "last_loss": round4(times.last().map(|t| t.loss).unwrap_or(f64::NAN)),
    });
    Ok(row.to_string())
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

pub fn run(a: &BenchTrainArgs, quiet: bool) -> Result<()> {
    if a.steps == 0 || a.batch == 0 || a.seq == 0 {
        bail!("--steps, --batch and --seq must be positive");
    }
    let mut file = match &a.out {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("opening {}", p.display()))?,
        ),
        None => None,
    };
    let was = chemlm_models::ops::fused_enabled();
    for preset in &a.presets {
        for imp in &a.impls {
            let fused = match imp.as_str() {
                "fused" => true,
                "composed" => false,
                other => bail!("unknown --impl {other:?} (fused, composed)"),
            };
            let line = bench_one(a, preset, fused, quiet)?;
            println!("{line}");
            if let Some(f) = file.as_mut() {
                writeln!(f, "{line}")?;
            }
        }
    }
    chemlm_models::ops::set_fused(was);
    Ok(())
}
