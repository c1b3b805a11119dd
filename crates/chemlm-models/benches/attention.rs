//! Linear vs full (softmax) attention: time and peak memory of one MoLFormer encoder layer
//! (width 256, 8 heads, rotary, 32 random features for linear attention) at sequence lengths
//! 64, 128, ..., 4096, fixed batch (`BENCH_BATCH`, default 1), eval forward without gradient,
//! and forward + backward.
//!
//! Peak memory is honest: every (attention, length) runs in a fresh child process (this binary
//! re-executed with `--child KIND LEN`), which reports its own `VmHWM` (peak resident set) from
//! `/proc/self/status` after the measurement; the baseline `VmHWM` of a child that only builds
//! the model and input is reported beside it (`baseline_mib`), so `peak_mib - baseline_mib` is
//! what the attention layer itself needed.
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p chemlm-models --bench attention [-- MAXLEN]`.
//! Env: `BENCH_REPS` (default 3), `BENCH_BATCH` (default 1). One JSON object per line.

use candle_core::{DType, Device, Tensor};
use chemlm_models::{LanguageModel, Model, ModelConfig};
use std::process::Command;
use std::time::Instant;

fn config(kind: &str, max_len: usize) -> ModelConfig {
    let text = format!(
        r#"model_type = "molformer"
vocab_size = 64
hidden_size = 256
num_hidden_layers = 1
num_attention_heads = 8
intermediate_size = 256
hidden_act = "gelu"
max_position_embeddings = {max_len}
num_random_features = 32
attention_type = "{kind}"
feature_map = "generalized_random"
"#
    );
    ModelConfig::from_toml(&text, "bench").expect("bench config")
}

fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Child: build, optionally measure `mode` (`fwd` or `train`), print `{seconds, hwm_kib}`.
fn child(kind: &str, len: usize, mode: &str) {
    let batch: usize = std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let model = Model::new(&config(kind, len), &Device::Cpu, 0).expect("model");
    let ids: Vec<u32> = (0..batch * len).map(|i| 5 + (i * 7 % 59) as u32).collect();
    let ids = Tensor::from_vec(ids, (batch, len), &Device::Cpu).expect("ids");
    let mask = Tensor::ones((batch, len), DType::U32, &Device::Cpu).expect("mask");
    let run = || match mode {
        "fwd" => {
            model.forward_hidden(&ids, &mask, false).expect("forward");
        }
        "train" => {
            let h = model.forward_hidden(&ids, &mask, true).expect("forward");
            h.sqr()
                .unwrap()
                .mean_all()
                .unwrap()
                .backward()
                .expect("backward");
        }
        _ => {}
    };
    let s = if mode == "none" {
        0.0
    } else {
        run();
        median(
            (0..reps)
                .map(|_| {
                    let t = Instant::now();
                    run();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    println!("{s} {}", vm_hwm_kib());
}

fn main() {
    chemlm_models::alloc::tune_allocator(); // as the binary runs
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let len = args[i + 2].parse().expect("length");
        child(&args[i + 1], len, &args[i + 3]);
        return;
    }
    let max_len: usize = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4096);
    let batch = std::env::var("BENCH_BATCH").unwrap_or_else(|_| "1".into());
    let threads = candle_core::utils::get_num_threads();
    let me = std::env::current_exe().expect("own path");
    let measure = |kind: &str, len: usize, mode: &str| -> Option<(f64, f64)> {
        let out = Command::new(&me)
            .args(["--child", kind, &len.to_string(), mode])
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "{kind} {len} {mode}: child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace();
        let s: f64 = it.next()?.parse().ok()?;
        let kib: f64 = it.next()?.parse().ok()?;
        Some((s, kib / 1024.0))
    };
    let mut len = 64;
    while len <= max_len {
        for kind in ["linear", "full"] {
            let Some((_, base)) = measure(kind, len, "none") else {
                continue;
            };
            for mode in ["fwd", "train"] {
                if let Some((s, peak)) = measure(kind, len, mode) {
                    println!(
                        "{{\"bench\": \"attention_scaling\", \"attention\": \"{kind}\", \"mode\": \"{mode}\", \"seq\": {len}, \"batch\": {batch}, \"threads\": {threads}, \"seconds\": {s:.5}, \"peak_mib\": {peak:.1}, \"baseline_mib\": {base:.1}, \"extra_mib\": {:.1}}}",
                        peak - base
                    );
                }
            }
        }
        len *= 2;
    }
}
