//! `chemlm bench seq2seq`: one T5 training step and beam-search / greedy decoding, timed the way
//! `benches/t5/torch_t5.py` times transformers on the same model directory, batch and threads
//! (`benches/t5/run.sh` alternates the two).
//!
//! Train step = the trainer's update for `chemlm pretrain` on seq2seq data: teacher-forced
//! forward with dropout (`Seq2SeqObjective`), backward, loss averaged over target tokens,
//! global-norm clipping at 1.0, AdamW (lr 6e-4, no weight decay). Decoding = `generate` with
//! `--beams` beams (early stopping on) and greedy, under inference mode. Both sides read the
//! same deterministic batch (`synthetic`), and the decoded ids are hashed so the two runs can be
//! checked to produce the same tokens. Peak memory is the process's VmHWM after the phase (run
//! one phase per process for a per-phase peak, as run.sh does).

use anyhow::{bail, Context, Result};
use candle_core::Tensor;
use chemlm_models::seq2seq::{generate, BeamConfig, DecodeConfig, EarlyStopping, Strategy};
use chemlm_models::Model;
use chemlm_train::objectives::Objective;
use chemlm_train::optim::{self, AdamHyper, DecayRule, OptimizerKind, ParamSet};
use chemlm_train::seq2seq::Seq2SeqObjective;
use chemlm_train::Batch;
use clap::Args;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug, Clone)]
pub struct BenchSeq2SeqArgs {
    /// T5 model directory (e.g. `chemlm model init --preset t5-small --out DIR`).
    #[arg(long)]
    pub model: PathBuf,
    /// Comma-separated phases: train, decode.
    #[arg(long, value_delimiter = ',', default_value = "train,decode")]
    pub phase: Vec<String>,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 64)]
    pub src_len: usize,
    #[arg(long, default_value_t = 64)]
    pub tgt_len: usize,
    /// Timed training steps (median reported).
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Untimed steps / rounds first.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Sources decoded together.
    #[arg(long, default_value_t = 4)]
    pub decode_batch: usize,
    #[arg(long, default_value_t = 10)]
    pub beams: usize,
    /// transformers' max_length (decoder start included).
    #[arg(long, default_value_t = 64)]
    pub max_length: usize,
    /// Timed decoding rounds (median reported).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// The batch `torch_t5.py::batch` builds: ids 3.. (no pad/eos/unk), eos last.
pub fn synthetic(vocab: usize, b: usize, n: usize, seed: usize) -> Vec<Vec<u32>> {
    (0..b)
        .map(|i| {
            let mut row: Vec<u32> = (0..n)
                .map(|j| (3 + (i * 131 + j * 17 + seed * 7919) % (vocab - 3)) as u32)
                .collect();
            if let Some(last) = row.last_mut() {
                *last = 1;
            }
            row
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak resident memory of this process in MiB (Linux VmHWM), if known.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn train_phase(a: &BenchSeq2SeqArgs, model: &Model) -> Result<serde_json::Value> {
    let t5 = model.as_t5().context("not a T5 model")?;
    let vocab = t5.config().vocab_size;
    let src = synthetic(vocab, a.batch, a.src_len, 0);
    let tgt = synthetic(vocab, a.batch, a.tgt_len, 1);
    let s: Vec<&[u32]> = src.iter().map(Vec::as_slice).collect();
    let t: Vec<&[u32]> = tgt.iter().map(Vec::as_slice).collect();
    let mut batch = Batch::from_sequences(&s, 0, 0);
    batch.targets = Some(Box::new(Batch::from_sequences(&t, 0, 0)));
    let objective = Seq2SeqObjective::new(t5, crate::runtime::device()?);
    let params = ParamSet::from_varmap(model.varmap(), &DecayRule::default());
    let hyper = AdamHyper {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    let mut opt = optim::build_optimizer(OptimizerKind::Adamw, hyper, &params);
    let mut rng = chemlm_train::rng::derived_rng(0, 2);
    let mut times = Vec::new();
    let mut loss = f64::NAN;
    for k in 0..a.warmup + a.steps {
        let t0 = Instant::now();
        objective.set_seed(k as u64);
        let out = objective.compute(&batch, &mut rng, true)?;
        loss = out.loss_sum.to_scalar::<f32>()? as f64 / out.weight.max(1.0);
        let store = out.loss_sum.backward()?;
        let mut grads = params.grads(&store);
        drop(store);
        let inv = 1.0 / out.weight.max(1.0);
        for g in grads.iter_mut().flatten() {
            *g = (&*g * inv)?;
        }
        optim::clip_grad_norm(&mut grads, 1.0)?;
        opt.step(&params, &grads, 6e-4)?;
        if k >= a.warmup {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    Ok(serde_json::json!({
        "phase": "train",
        "seconds_per_step": median(times),
        "batch": a.batch, "src_len": a.src_len, "tgt_len": a.tgt_len,
        "last_loss": loss,
        "peak_rss_mib": peak_rss_mib(),
    }))
}

fn decode_phase(a: &BenchSeq2SeqArgs, model: &Model) -> Result<serde_json::Value> {
    let t5 = model.as_t5().context("not a T5 model")?;
    let cfg = t5.config();
    let vocab = cfg.vocab_size;
    let src = synthetic(vocab, a.decode_batch, a.src_len, 2);
    let flat: Vec<u32> = src.iter().flatten().copied().collect();
    let ids = Tensor::from_vec(
        flat,
        (a.decode_batch, a.src_len),
        &crate::runtime::device()?,
    )?;
    let mask = ids.ones_like()?;
    let mut res = serde_json::json!({
        "phase": "decode", "beams": a.beams, "max_length": a.max_length,
        "decode_batch": a.decode_batch, "src_len": a.src_len,
    });
    let strategies = [
        (
            "beam",
            Strategy::Beam(BeamConfig {
                beams: a.beams,
                num_return: 1,
                length_penalty: 1.0,
                early_stopping: EarlyStopping::Enabled,
            }),
        ),
        ("greedy", Strategy::Greedy),
    ];
    for (name, strategy) in strategies {
        let dc = DecodeConfig {
            strategy,
            max_length: a.max_length,
            max_new_tokens: None,
            // eos forbidden until the limit: full-length decoding whatever the weights, the
            // same work as torch_t5.py's `min_length = max_length`.
            min_length: a.max_length,
        };
        let mut times = Vec::new();
        let mut last = Vec::new();
        for k in 0..a.warmup + a.rounds {
            let t0 = Instant::now();
            let hyps = chemlm_models::grad_mode::inference(|| generate(t5, &ids, &mask, &dc))?;
            if k >= a.warmup {
                times.push(t0.elapsed().as_secs_f64());
            }
            last = hyps;
        }
        // transformers' form: generated ids, eos kept when the sequence finished.
        let toks: Vec<Vec<u32>> = last
            .iter()
            .map(|h| {
                let mut v = h[0].ids.clone();
                if h[0].finished {
                    v.push(cfg.eos_token_id);
                }
                v
            })
            .collect();
        let json = serde_json::to_string(&toks)?;
        res[format!("{name}_seconds")] = median(times).into();
        res[format!("{name}_tokens")] = toks.iter().map(Vec::len).sum::<usize>().into();
        res[format!("{name}_sha256")] = hex::encode(Sha256::digest(json.as_bytes())).into();
    }
    res["peak_rss_mib"] = peak_rss_mib().into();
    Ok(res)
}

pub fn run(a: &BenchSeq2SeqArgs, _quiet: bool) -> Result<()> {
    if a.steps == 0 || a.rounds == 0 || a.batch == 0 || a.decode_batch == 0 {
        bail!("--steps, --rounds, --batch and --decode-batch must be positive");
    }
    let model = Model::load(&a.model, &crate::runtime::device()?)
        .with_context(|| format!("cannot load {}", a.model.display()))?;
    for ph in &a.phase {
        let mut r = match ph.as_str() {
            "train" => train_phase(a, &model)?,
            "decode" => decode_phase(a, &model)?,
            other => bail!("unknown phase {other:?} (train, decode)"),
        };
        r["impl"] = "chemlm".into();
        r["threads"] = candle_core::utils::get_num_threads().into();
        println!("{r}");
    }
    Ok(())
}
