//! Hugging Face parity: tiny BertForMaskedLM / AlbertForMaskedLM / GPTNeoForCausalLM /
//! RobertaForMaskedLM checkpoints and a PyTorch restatement of the HF MoLFormer port, made by
//! `scripts/gen_model_golden.py`, in every layout `Model::load` reads (safetensors, PyTorch
//! pickle, sharded safetensors and pickle, a bare `RobertaModel` without the `roberta.` prefix,
//! DeepChem's ChemBERTa-MTR regression checkpoint). `Model::load` must reproduce their logits
//! and last hidden states to 1e-4 on every real (non-pad) position, with the fused kernels and
//! with the composed reference ops.

use candle_core::{DType, Device, Tensor};
use chemlm_models::{LanguageModel, Model};
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

/// Compares `got` with `expect` `[b, s, …]` on the first `lengths[i]` positions of row `i`.
fn compare(name: &str, what: &str, fused: bool, got: &Tensor, expect: &Tensor, lengths: &[u32]) {
    assert_eq!(got.dims(), expect.dims(), "{name}: {what} shape");
    assert!(max_abs(expect) > 0.1, "{name}: degenerate golden {what}");
    for (i, &n) in lengths.iter().enumerate() {
        let a = got.get(i).unwrap().narrow(0, 0, n as usize).unwrap();
        let b = expect.get(i).unwrap().narrow(0, 0, n as usize).unwrap();
        let d = max_abs(&(a - b).unwrap());
        assert!(
            d < 1e-4,
            "{name} (fused={fused}): molecule {i} {what} differ from PyTorch by {d}"
        );
    }
}

/// Loads golden dir `name` and checks what its `io.safetensors` holds: `logits` (which needs a
/// loaded LM head) and/or `last_hidden_state`. Returns the model.
fn check(name: &str) -> Model {
    let dir = golden(name);
    let model = Model::load(&dir, &Device::Cpu).unwrap_or_else(|e| panic!("{name}: {e}"));
    let io = candle_core::safetensors::load(dir.join("io.safetensors"), &Device::Cpu).unwrap();
    let ids = io["input_ids"].to_dtype(DType::U32).unwrap();
    let mask = io["attention_mask"].to_dtype(DType::U32).unwrap();
    let lengths: Vec<u32> = mask.sum(1).unwrap().to_vec1().unwrap();
    assert!(io.contains_key("logits") || io.contains_key("last_hidden_state"));
    for fused in [true, false] {
        chemlm_models::ops::set_fused(fused);
        if let Some(expect) = io.get("logits") {
            assert!(model.lm_head_loaded(), "{name}: head not loaded");
            let got = model.forward_logits(&ids, &mask, false).unwrap();
            compare(name, "logits", fused, &got, expect, &lengths);
        }
        if let Some(expect) = io.get("last_hidden_state") {
            let got = model.forward_hidden(&ids, &mask, false).unwrap();
            compare(name, "hidden states", fused, &got, expect, &lengths);
        }
    }
    chemlm_models::ops::set_fused(true);
    model
}

// One test so the global fused switch is never flipped under a concurrently running test.
#[test]
fn outputs_match_pytorch_reference() {
    for name in [
        "bert",
        "albert",
        "gpt_neo",
        "molformer",
        "roberta",
        "roberta-bin",
        "roberta-sharded",
        "bert-sharded-bin",
    ] {
        check(name);
    }
    // Encoder-only checkpoints: hidden states match, the untrained head is flagged and its
    // logits are refused with an error that says why.
    for name in ["roberta-model", "roberta-mtr"] {
        let model = check(name);
        assert!(!model.lm_head_loaded(), "{name}: head reported as loaded");
        let dir = golden(name);
        let io = candle_core::safetensors::load(dir.join("io.safetensors"), &Device::Cpu).unwrap();
        let ids = io["input_ids"].to_dtype(DType::U32).unwrap();
        let mask = io["attention_mask"].to_dtype(DType::U32).unwrap();
        let err = model
            .forward_logits(&ids, &mask, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("without its LM head"), "{name}: {err}");
        // Embeddings (what fine-tuning and `chemlm embed` use) work.
        model.embed(&ids, &mask).unwrap();
    }
}

/// Golden directories with reference outputs (`io.safetensors`), encoder-decoders included.
const PARITY_DIRS: [&str; 13] = [
    "bert",
    "albert",
    "gpt_neo",
    "molformer",
    "roberta",
    "roberta-bin",
    "roberta-sharded",
    "bert-sharded-bin",
    "roberta-model",
    "roberta-mtr",
    "t5-tiny-v1_0",
    "t5-tiny-v1_0-bin",
    "t5-tiny-v1_1",
];

/// Relative tolerance (of the reference's largest magnitude) for bf16 autocast outputs, the one
/// `chemlm bench parity` states for bf16 on any device.
const BF16_REL_TOL: f64 = 0.05;

/// `chemlm_models::parity` (what `chemlm bench parity` runs on a GPU): f32 within 1e-4 of the
/// references, bf16 autocast within `BF16_REL_TOL` of their range and not bit-equal to f32.
#[test]
fn parity_reports_f32_and_bf16_deviations() {
    use chemlm_models::parity::{check_reference, load_reference};
    use chemlm_models::{autocast, Precision};
    for name in PARITY_DIRS {
        let dir = golden(name);
        let model = Model::load(&dir, &Device::Cpu).unwrap_or_else(|e| panic!("{name}: {e}"));
        let io = load_reference(&dir, &model).unwrap();
        let f32_rows = check_reference(&model, &io).unwrap();
        assert!(!f32_rows.is_empty());
        for r in &f32_rows {
            assert!(
                r.max_abs_diff < 1e-4 && r.max_abs_ref > 0.1,
                "{name} f32 {}: {r:?}",
                r.output
            );
        }
        let _bf16 = autocast(Precision::Bf16);
        for r in check_reference(&model, &io).unwrap() {
            eprintln!("{name} bf16 {}: relative {:.2e}", r.output, r.relative());
            assert!(
                r.relative() < BF16_REL_TOL && r.max_abs_diff > 1e-6,
                "{name} bf16 {}: {r:?}",
                r.output
            );
        }
    }
}
