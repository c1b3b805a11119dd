//! `chemlm bench compress`: the DeLiCaTe size/speed comparison of the four model shapes —
//! BERT teacher (molbert, 12 × 768), CLPS-only (one shared 768 layer applied 12 times), KD-only
//! (3-layer BERT) and DeLiCaTe (one shared layer × 3, the `delicate` preset).
//!
//! Protocol (DeLiCaTe's): a batch of 32 sequences × 128 tokens, repeated forward passes in
//! evaluation mode (no dropout, no backward), after one warm-up pass; training time is one
//! forward + backward of the masked-LM loss (15 % of positions) on the same batch. Weights are
//! freshly initialised (speed does not depend on their values). Threads: the rayon pool of
//! `--threads` (candle's matrix products also read `RAYON_NUM_THREADS`, so set both).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::Tensor;
use chemlm_models::{LanguageModel, Model, ModelConfig};
use chemlm_train::objectives::loss::{cross_entropy_sum, select_positions, targets_tensor};
use clap::Args;
use serde::Serialize;

#[derive(Args, Debug, Clone)]
pub struct BenchCompressArgs {
    /// Sequences per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Tokens per sequence.
    #[arg(long, default_value_t = 128)]
    pub seq_len: usize,
    /// Timed forward passes per model (after one warm-up).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Timed training steps (forward + backward) per model (0 = skip training time).
    #[arg(long, default_value_t = 2)]
    pub train_repeats: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Comma-separated subset of teacher,clps,kd,delicate.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// JSON results file.
    #[arg(long, default_value = "bench-compress.json")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
struct Row {
    model: String,
    shape: String,
    parameters: usize,
    inference_s_mean: f64,
    inference_s_min: f64,
    train_step_s_mean: Option<f64>,
}

/// The four DeLiCaTe shapes, derived from the shipped presets.
fn shapes() -> Result<Vec<(&'static str, ModelConfig)>> {
    let teacher = chemlm_models::presets::preset("molbert")?;
    let delicate = chemlm_models::presets::preset("delicate")?;
    let mut clps = delicate.clone();
    if let ModelConfig::Albert(c) = &mut clps {
        c.num_hidden_layers = 12;
    }
    let mut kd = teacher.clone();
    if let ModelConfig::Bert(c) = &mut kd {
        c.num_hidden_layers = 3;
    }
    Ok(vec![
        ("teacher", teacher),
        ("clps", clps),
        ("kd", kd),
        ("delicate", delicate),
    ])
}

fn describe(c: &ModelConfig) -> String {
    format!(
        "{} {}x{}",
        c.architecture(),
        c.num_layers(),
        c.hidden_size()
    )
}

fn batch(vocab: usize, b: usize, t: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    // Ids above the five special tokens, like real SMILES tokens (SplitMix64 stream).
    let mut z = seed;
    let span = (vocab as u64).saturating_sub(5).max(1);
    let ids: Vec<u32> = (0..b * t)
        .map(|_| {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (5 + (x ^ (x >> 31)) % span) as u32
        })
        .collect();
    let ids = Tensor::from_vec(ids, (b, t), &crate::runtime::device()?)?;
    let mask = Tensor::ones((b, t), candle_core::DType::U32, &crate::runtime::device()?)?;
    Ok((ids, mask))
}

fn time_inference(model: &Model, ids: &Tensor, mask: &Tensor, repeats: usize) -> Result<Vec<f64>> {
    model.forward_logits(ids, mask, false)?;
    (0..repeats)
        .map(|_| {
            let t0 = Instant::now();
            let out = model.forward_logits(ids, mask, false)?;
            drop(out);
            Ok(t0.elapsed().as_secs_f64())
        })
        .collect()
}

fn time_train(model: &Model, ids: &Tensor, mask: &Tensor, repeats: usize) -> Result<Vec<f64>> {
    let (b, t) = ids.dims2()?;
    let flat: Vec<u32> = ids.flatten_all()?.to_vec1()?;
    // Every 7th position (≈ 15 %) is predicted.
    let positions: Vec<u32> = (0..(b * t) as u32).filter(|p| p % 7 == 3).collect();
    let targets: Vec<u32> = positions.iter().map(|&p| flat[p as usize]).collect();
    let tg = targets_tensor(&targets, &crate::runtime::device()?)?;
    (0..repeats)
        .map(|_| {
            let t0 = Instant::now();
            let logits = model.forward_logits(ids, mask, true)?;
            let loss = cross_entropy_sum(&select_positions(&logits, &positions)?, &tg)?;
            let grads = loss.backward()?;
            drop(grads);
            Ok(t0.elapsed().as_secs_f64())
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

pub fn run(a: &BenchCompressArgs, quiet: bool) -> Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .context("cannot start worker threads")?;
    let mut rows = Vec::new();
    for (name, cfg) in shapes()? {
        if !a.models.is_empty() && !a.models.iter().any(|m| m == name) {
            continue;
        }
        let model = Model::new(&cfg, &crate::runtime::device()?, 0)?;
        let params = model.parameter_count()?.total;
        let (ids, mask) = batch(cfg.vocab_size(), a.batch, a.seq_len, 1)?;
        let (inf, train) = pool.install(|| -> Result<(Vec<f64>, Vec<f64>)> {
            let inf = time_inference(&model, &ids, &mask, a.repeats.max(1))?;
            let train = time_train(&model, &ids, &mask, a.train_repeats)?;
            Ok((inf, train))
        })?;
        let row = Row {
            model: name.to_string(),
            shape: describe(&cfg),
            parameters: params,
            inference_s_mean: mean(&inf),
            inference_s_min: inf.iter().cloned().fold(f64::INFINITY, f64::min),
            train_step_s_mean: (!train.is_empty()).then(|| mean(&train)),
        };
        if !quiet {
            eprintln!(
                "{name}: {} parameters, forward {:.3} s, train step {}",
                params,
                row.inference_s_mean,
                row.train_step_s_mean
                    .map(|s| format!("{s:.3} s"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        rows.push(row);
    }
    let reference = rows.iter().find(|r| r.model == "teacher").cloned();
    let mut table = String::from(
        "| model | shape | parameters | × fewer | forward (s / batch) | × faster | train step (s) | × faster |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &rows {
        let ratio = |f: fn(&Row) -> Option<f64>| match (&reference, f(r)) {
            (Some(t), Some(v)) => f(t).map(|tv| format!("{:.2}", tv / v)).unwrap_or_default(),
            _ => String::new(),
        };
        table.push_str(&format!(
            "| {} | {} | {:.1} M | {} | {:.3} | {} | {} | {} |\n",
            r.model,
            r.shape,
            r.parameters as f64 / 1e6,
            ratio(|r| Some(r.parameters as f64)),
            r.inference_s_mean,
            ratio(|r| Some(r.inference_s_mean)),
            r.train_step_s_mean
                .map(|s| format!("{s:.3}"))
                .unwrap_or_default(),
            ratio(|r| r.train_step_s_mean),
        ));
    }
    print!("{table}");
    let json = serde_json::json!({
        "protocol": "DeLiCaTe: batch of sequences x tokens, repeated forward passes, no grad; train = MLM forward+backward",
        "batch": a.batch,
        "seq_len": a.seq_len,
        "repeats": a.repeats,
        "train_repeats": a.train_repeats,
        "threads": a.threads,
        "rows": rows,
    });
    let text = serde_json::to_string_pretty(&json)?;
    chemlm_screen::hits::write_atomic(&a.out, |w| w.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_the_delicate_paper() {
        let s = shapes().unwrap();
        let count = |i: usize| chemlm_models::count_parameters(&s[i].1).unwrap().total;
        assert_eq!(s[1].1.num_layers(), 12);
        assert_eq!(s[2].1.num_layers(), 3);
        // CLPS shares one layer: its size equals DeLiCaTe's; KD-only keeps 3 full layers.
        assert_eq!(count(1), count(3));
        assert!(count(0) as f64 / count(3) as f64 > 10.0);
        assert!(count(2) > count(3));
    }
}
