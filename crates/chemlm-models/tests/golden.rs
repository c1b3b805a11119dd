//! Hugging Face parity: tiny BertForMaskedLM / AlbertForMaskedLM / GPTNeoForCausalLM checkpoints
//! and a PyTorch restatement of the HF MoLFormer port, made by `scripts/gen_model_golden.py`.
//! `Model::load` must reproduce their logits to 1e-4 on every real (non-pad) position, with the
//! fused kernels and with the composed reference ops.

use candle_core::{DType, Device};
use chemlm_models::{LanguageModel, Model};
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check(name: &str) {
    let dir = golden(name);
    let model = Model::load(&dir, &Device::Cpu).unwrap_or_else(|e| panic!("{name}: {e}"));
    let io = candle_core::safetensors::load(dir.join("io.safetensors"), &Device::Cpu).unwrap();
    let ids = io["input_ids"].to_dtype(DType::U32).unwrap();
    let mask = io["attention_mask"].to_dtype(DType::U32).unwrap();
    let expect = &io["logits"];
    let lengths: Vec<u32> = mask.sum(1).unwrap().to_vec1().unwrap();
    for fused in [true, false] {
        chemlm_models::ops::set_fused(fused);
        let got = model.forward_logits(&ids, &mask, false).unwrap();
        for (i, &n) in lengths.iter().enumerate() {
            let a = got.get(i).unwrap().narrow(0, 0, n as usize).unwrap();
            let b = expect.get(i).unwrap().narrow(0, 0, n as usize).unwrap();
            let d: f32 = (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar()
                .unwrap();
            let scale: f32 = expect
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar()
                .unwrap();
            assert!(scale > 0.1, "{name}: degenerate golden logits");
            assert!(
                d < 1e-4,
                "{name} (fused={fused}): molecule {i} logits differ from PyTorch by {d}"
            );
        }
    }
    chemlm_models::ops::set_fused(true);
}

// One test so the global fused switch is never flipped under a concurrently running test.
#[test]
fn logits_match_pytorch_reference() {
    for name in ["bert", "albert", "gpt_neo", "molformer"] {
        check(name);
    }
}
