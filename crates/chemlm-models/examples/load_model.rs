//! Load-time and memory probe for `benches/load/run.sh`: loads a model directory with
//! `Model::load` and prints one JSON line with the wall time and the process's peak resident
//! memory before and after (VmHWM from /proc/self/status, Linux).
//!
//! `cargo run --release -p chemlm-models --example load_model -- DIR`
//! `cargo run --release -p chemlm-models --example load_model -- --write-molformer-xl OUT`
//! writes a randomly initialised model of MoLFormer-XL's shape (the released config).

use std::time::Instant;

use candle_core::Device;
use chemlm_models::{Model, ModelConfig};

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

const XL: &str = r#"{"model_type": "molformer", "vocab_size": 2362, "hidden_size": 768,
  "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 768,
  "hidden_act": "gelu", "max_position_embeddings": 202, "num_random_features": 32,
  "pad_token_id": 2, "feature_map_kernel": "relu"}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, out] if flag == "--write-molformer-xl" => {
            let cfg = ModelConfig::from_json(XL, "MoLFormer-XL shape")?;
            Model::new(&cfg, &Device::Cpu, 0)?.save(std::path::Path::new(out), None)?;
            Ok(())
        }
        [dir] => {
            let before = peak_rss_mib().unwrap_or(f64::NAN);
            let t0 = Instant::now();
            let model = Model::load(std::path::Path::new(dir), &Device::Cpu)?;
            let secs = t0.elapsed().as_secs_f64();
            let after = peak_rss_mib().unwrap_or(f64::NAN);
            let params = model.parameter_count()?.all;
            println!(
                "{{\"side\": \"chemlm\", \"dir\": {dir:?}, \"seconds\": {secs:.4}, \"params\": {params}, \
                 \"peak_rss_mib_before\": {before:.1}, \"peak_rss_mib_after\": {after:.1}}}"
            );
            Ok(())
        }
        _ => Err("usage: load_model DIR | --write-molformer-xl OUT".into()),
    }
}
