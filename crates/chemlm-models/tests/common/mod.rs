//! Helpers shared by the T5 test files (each test binary includes this module).
#![allow(dead_code)]

use candle_core::{Device, Tensor};
use chemlm_models::{presets, Model, ModelConfig};

/// A tiny random T5 (vocabulary 40, 3 decoder layers, d_kv 6), v1.1 layout (gated GELU,
/// untied head) when `gated`.
pub fn tiny_t5(gated: bool, seed: u64) -> Model {
    let mut cfg = presets::preset("t5-tiny").unwrap();
    if let ModelConfig::T5(c) = &mut cfg {
        c.vocab_size = 40;
        c.relative_attention_num_buckets = 8;
        c.relative_attention_max_distance = 12;
        c.num_decoder_layers = Some(3);
        c.d_kv = 6;
        if gated {
            c.feed_forward_proj = "gated-gelu".into();
            c.tie_word_embeddings = false;
        }
    }
    Model::new(&cfg, &Device::Cpu, seed).unwrap()
}

/// Right-padded id and mask tensors of `rows`.
pub fn ids(rows: &[&[u32]]) -> (Tensor, Tensor) {
    let w = rows.iter().map(|r| r.len()).max().unwrap();
    let mut v = Vec::new();
    let mut m = Vec::new();
    for r in rows {
        for j in 0..w {
            v.push(r.get(j).copied().unwrap_or(0));
            m.push(u32::from(j < r.len()));
        }
    }
    (
        Tensor::from_vec(v, (rows.len(), w), &Device::Cpu).unwrap(),
        Tensor::from_vec(m, (rows.len(), w), &Device::Cpu).unwrap(),
    )
}

pub fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}
