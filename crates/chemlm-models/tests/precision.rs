//! Mixed precision (autocast) on every architecture, on the CPU: the same weights run in bf16 and
//! f16 give the f32 logits to half-precision tolerance, and the backward pass reaches every f32
//! master weight with gradients that point the same way as the f32 ones.
//!
//! The GPU runs the same code (`benches/gpu/run.sh`); the CPU check here is what CI can afford.

use candle_core::{DType, Device, Tensor};
use chemlm_models::{autocast, LanguageModel, Model, Precision};

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

fn inputs(vocab: usize) -> (Tensor, Tensor) {
    let (b, s) = (2usize, 12usize);
    let ids: Vec<u32> = (0..b * s)
        .map(|i| 5 + (i * 7 % (vocab - 6)) as u32)
        .collect();
    let mut mask = vec![1u32; b * s];
    for m in mask.iter_mut().skip(s + 9) {
        *m = 0; // second row padded after 9 tokens
    }
    (
        Tensor::from_vec(ids, (b, s), &Device::Cpu).unwrap(),
        Tensor::from_vec(mask, (b, s), &Device::Cpu).unwrap(),
    )
}

/// Logits of `model` on the first 9 positions (real in both rows), as f32.
fn logits(model: &Model, ids: &Tensor, mask: &Tensor) -> Tensor {
    let out = match model.as_t5() {
        Some(t5) => t5.forward(ids, mask, &ids.narrow(1, 0, 9).unwrap(), None, false),
        None => model
            .forward_logits(ids, mask, false)
            .map(|l| l.narrow(1, 0, 9).unwrap()),
    }
    .unwrap();
    let want = chemlm_models::precision::compute_dtype().unwrap_or(DType::F32);
    assert_eq!(
        out.dtype(),
        want,
        "logits not computed in the autocast dtype"
    );
    out.to_dtype(DType::F32).unwrap()
}

fn cosine(a: &Tensor, b: &Tensor) -> f64 {
    let a = a.flatten_all().unwrap().to_dtype(DType::F64).unwrap();
    let b = b.flatten_all().unwrap().to_dtype(DType::F64).unwrap();
    let dot: f64 = (&a * &b).unwrap().sum_all().unwrap().to_scalar().unwrap();
    let na: f64 = a.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
    let nb: f64 = b.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
    dot / (na.sqrt() * nb.sqrt()).max(1e-30)
}

#[test]
fn half_precision_matches_f32_on_every_architecture() {
    for preset in [
        "molformer-tiny",
        "bert-small",
        "albert-small",
        "gpt-small",
        "t5-tiny",
    ] {
        let model = Model::from_preset(preset, &Device::Cpu, 7).unwrap();
        let vocab = model.config().vocab_size();
        let (ids, mask) = inputs(vocab);
        let reference = logits(&model, &ids, &mask);
        let scale = max_abs(&reference);
        assert!(scale > 1e-3, "{preset}: degenerate logits");
        let ref_loss = reference.sqr().unwrap().mean_all().unwrap();
        let ref_grads = ref_loss.backward().unwrap();
        for (precision, tol) in [(Precision::Bf16, 0.06f32), (Precision::F16, 0.01)] {
            let _scope = autocast(precision);
            let half = logits(&model, &ids, &mask);
            let err = max_abs(&(&half - &reference).unwrap()) / scale;
            assert!(
                err > 0.0 && err < tol,
                "{preset} {precision}: logits differ from f32 by {err} of their range"
            );
            // f16 training scales the loss so small gradients do not flush to zero (the
            // trainer's dynamic loss scaling); the gradients are unscaled before comparing.
            let scale = if precision.needs_loss_scaling() {
                1024.0
            } else {
                1.0
            };
            let loss = (half.sqr().unwrap().mean_all().unwrap() * scale).unwrap();
            let grads = loss.backward().unwrap();
            for (name, var) in model.varmap().data().lock().unwrap().iter() {
                let Some(want) = ref_grads.get(var.as_tensor()) else {
                    continue;
                };
                let got = grads
                    .get(var.as_tensor())
                    .unwrap_or_else(|| panic!("{preset} {precision}: no gradient for {name}"));
                assert_eq!(got.dtype(), DType::F32, "{preset}: {name} gradient dtype");
                let got = (got / scale).unwrap();
                let got = &got;
                if max_abs(want) > 1e-6 {
                    let c = cosine(got, want);
                    assert!(c > 0.98, "{preset} {precision}: {name} gradient cosine {c}");
                }
            }
        }
    }
}
