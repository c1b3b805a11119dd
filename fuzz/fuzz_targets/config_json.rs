//! `config.json`: refused, or it counts its parameters and, when small, builds a model that runs
//! a forward pass; never a panic inside the model.
#![no_main]
use candle_core::{DType, Device, Tensor};
use chemlm_models::{count_parameters, LanguageModel, Model, ModelConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = ModelConfig::from_json(text, "config.json") else {
        return;
    };
    let Ok(n) = count_parameters(&cfg) else {
        return;
    };
    if n.all > 2_000_000 {
        return;
    }
    let Ok(model) = Model::new(&cfg, &Device::Cpu, 0) else {
        return;
    };
    let len = cfg.max_positions().clamp(1, 6);
    let vocab = cfg.vocab_size().max(1) as u32;
    let ids: Vec<u32> = (0..2 * len as u32).map(|i| i % vocab).collect();
    let ids = Tensor::from_vec(ids, (2, len), &Device::Cpu).expect("ids");
    let mask = Tensor::ones((2, len), DType::U32, &Device::Cpu).expect("mask");
    let _ = model.forward_logits(&ids, &mask, false);
});
