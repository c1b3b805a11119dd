//! Finite-difference gradient checks (f64) of every trainable op, fused and composed, and
//! fused-vs-composed agreement in f32.

use candle_core::{DType, Device, Result, Tensor, D};
use chemlm_models::blocks::attention::{linear_attention, softmax_attention};
use chemlm_models::blocks::dropout::ModelRng;
use chemlm_models::blocks::feature_map::elu_plus_one;
use chemlm_models::blocks::mask::causal_bias;
use chemlm_models::blocks::{masked_mean, FeatureMap, FeatureMapKind};
use chemlm_models::gradcheck::check_gradients;
use chemlm_models::ops::{self, fused, Rotary};

const TOL: f64 = 1e-6;

fn randn(shape: &[usize], seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| r.gen_range(-1.5..1.5)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

/// A weighted sum makes every output coordinate matter with a different weight.
fn weighted(t: &Tensor, seed: u64) -> Result<Tensor> {
    let w = randn(t.dims(), seed);
    (t * w)?.sum_all()
}

fn assert_grad(name: &str, inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let r = check_gradients(inputs, f, 1e-5, 64).unwrap();
    assert!(r.checked > 0, "{name}: nothing checked");
    assert!(
        r.max_rel_error < TOL,
        "{name}: gradient error {} over {} coords",
        r.max_rel_error,
        r.checked
    );
}

#[test]
fn layer_norm_gradients_composed_and_fused() {
    let x = randn(&[3, 4, 8], 1);
    let g = randn(&[8], 2);
    let b = randn(&[8], 3);
    assert_grad(
        "layer_norm composed",
        &[x.clone(), g.clone(), b.clone()],
        |t| weighted(&ops::layer_norm_composed(&t[0], &t[1], &t[2], 1e-5)?, 9),
    );
    assert_grad("layer_norm fused", &[x, g, b], |t| {
        weighted(&fused::layer_norm(&t[0], &t[1], &t[2], 1e-5)?, 9)
    });
}

#[test]
fn gelu_gradients() {
    let x = randn(&[5, 7], 4);
    assert_grad("gelu_erf composed", std::slice::from_ref(&x), |t| {
        weighted(&ops::gelu_erf_composed(&t[0])?, 5)
    });
    assert_grad("gelu_erf fused", std::slice::from_ref(&x), |t| {
        weighted(&fused::gelu_erf(&t[0])?, 5)
    });
    assert_grad("gelu_tanh composed", std::slice::from_ref(&x), |t| {
        weighted(&ops::gelu_tanh_composed(&t[0])?, 5)
    });
    assert_grad("gelu_tanh fused", &[x], |t| {
        weighted(&fused::gelu_tanh(&t[0])?, 5)
    });
}

#[test]
fn softmax_gradients() {
    let x = randn(&[2, 3, 6], 6);
    assert_grad("softmax composed", std::slice::from_ref(&x), |t| {
        weighted(&ops::softmax_last_dim_composed(&t[0])?, 7)
    });
    assert_grad("softmax fused", &[x], |t| {
        weighted(&fused::softmax(&t[0])?, 7)
    });
}

#[test]
fn rotary_gradients_and_relative_position_property() {
    let rot = Rotary::new(8, 16, 10000.0, DType::F64, &Device::Cpu).unwrap();
    let x = randn(&[1, 2, 5, 8], 8);
    assert_grad("rotary", &[x], |t| weighted(&rot.apply(&t[0], 0)?, 9));
    // Rotary makes q.k depend only on the position difference: shifting both by 3 keeps scores.
    let q = randn(&[1, 1, 4, 8], 10);
    let k = randn(&[1, 1, 4, 8], 11);
    let s0 = rot
        .apply(&q, 0)
        .unwrap()
        .matmul(&rot.apply(&k, 0).unwrap().t().unwrap())
        .unwrap();
    let s3 = rot
        .apply(&q, 3)
        .unwrap()
        .matmul(&rot.apply(&k, 3).unwrap().t().unwrap())
        .unwrap();
    let diff: f64 = (s0 - s3)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(
        diff < 1e-10,
        "rotary scores changed under a common shift: {diff}"
    );
}

#[test]
fn linear_attention_gradients_both_feature_maps() {
    let q = randn(&[2, 2, 5, 4], 12);
    let k = randn(&[2, 2, 5, 4], 13);
    let v = randn(&[2, 2, 5, 4], 14);
    let mask = Tensor::new(&[[1u32, 1, 1, 1, 0], [1, 1, 1, 1, 1]], &Device::Cpu).unwrap();
    for kind in [FeatureMapKind::Elu, FeatureMapKind::GeneralizedRandom] {
        let fm = FeatureMap::new(kind, 4, 6, ModelRng::new(3), DType::F64, &Device::Cpu).unwrap();
        // Shift the inputs of the relu-based map away from its kink so differences are smooth.
        assert_grad(
            &format!("linear attention {kind:?}"),
            &[q.clone(), k.clone(), v.clone()],
            |t| {
                let (pq, pk) = fm.apply(&t[0], &t[1], false)?;
                let pq = (pq + 0.1)?;
                let pk = (pk + 0.1)?;
                weighted(
                    &linear_attention(&pq, &pk, &t[2], Some(&mask), 1e-6, false)?.context,
                    15,
                )
            },
        );
    }
    let x = randn(&[3, 4], 16);
    assert_grad("elu+1", &[x], |t| weighted(&elu_plus_one(&t[0])?, 17));
}

#[test]
fn linear_attention_matches_its_quadratic_form() {
    // O(n) evaluation equals normalising phi(Q) phi(K)^T explicitly, with padded keys ignored.
    let q = randn(&[1, 1, 4, 3], 20).abs().unwrap();
    let k = randn(&[1, 1, 4, 3], 21).abs().unwrap();
    let v = randn(&[1, 1, 4, 2], 22);
    let mask = Tensor::new(&[[1u32, 1, 0, 1]], &Device::Cpu).unwrap();
    let out = linear_attention(&q, &k, &v, Some(&mask), 0.0, true).unwrap();
    let m = Tensor::new(&[1f64, 1.0, 0.0, 1.0], &Device::Cpu).unwrap();
    let a = q
        .matmul(&k.t().unwrap())
        .unwrap()
        .broadcast_mul(&m)
        .unwrap();
    let a = a.broadcast_div(&a.sum_keepdim(D::Minus1).unwrap()).unwrap();
    let expect = a.matmul(&v).unwrap();
    let d: f64 = (out.context - expect)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(
        d < 1e-12,
        "linear attention differs from quadratic form by {d}"
    );
}

#[test]
fn local_causal_attention_gradients_and_window() {
    let q = randn(&[1, 2, 6, 4], 30);
    let k = randn(&[1, 2, 6, 4], 31);
    let v = randn(&[1, 2, 6, 4], 32);
    let bias = causal_bias(6, 6, 0, Some(2), DType::F64, &Device::Cpu).unwrap();
    assert_grad("local attention", &[q.clone(), k.clone(), v.clone()], |t| {
        weighted(
            &softmax_attention(&t[0], &t[1], &t[2], Some(&bias), 0.5, None, false)?.context,
            33,
        )
    });
    // Window 2: query 4 sees keys 3 and 4 only.
    let p = softmax_attention(&q, &k, &v, Some(&bias), 0.5, None, true)
        .unwrap()
        .probs
        .unwrap();
    let row: Vec<f64> = p
        .get(0)
        .unwrap()
        .get(0)
        .unwrap()
        .get(4)
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!(
        row[..3].iter().all(|&x| x == 0.0) && row[5] == 0.0,
        "window leak: {row:?}"
    );
    assert!((row[3] + row[4] - 1.0).abs() < 1e-12);
}

#[test]
fn masked_mean_gradients_and_values() {
    let h = randn(&[2, 4, 3], 40);
    let mask = Tensor::new(&[[1u32, 1, 0, 0], [1, 1, 1, 1]], &Device::Cpu).unwrap();
    assert_grad("masked mean", std::slice::from_ref(&h), |t| {
        weighted(&masked_mean(&t[0], &mask)?, 41)
    });
    let m = masked_mean(&h, &mask).unwrap();
    let expect = h.get(0).unwrap().narrow(0, 0, 2).unwrap().mean(0).unwrap();
    let d: f64 = (m.get(0).unwrap() - expect)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(d < 1e-12);
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

#[test]
fn fused_kernels_match_composed_in_f32_values_and_gradients() {
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 2.0, (64, 37, 96), &dev).unwrap();
    let g = Tensor::randn(1f32, 0.1, 96, &dev).unwrap();
    let b = Tensor::randn(0f32, 0.1, 96, &dev).unwrap();
    let w = Tensor::randn(0f32, 1.0, (64, 37, 96), &dev).unwrap();
    type Op = Box<dyn Fn(&[Tensor]) -> Result<Tensor>>;
    let cases: Vec<(&str, Op, Op, usize)> = vec![
        (
            "layer_norm",
            Box::new(|t: &[Tensor]| fused::layer_norm(&t[0], &t[1], &t[2], 1e-12)),
            Box::new(|t: &[Tensor]| ops::layer_norm_composed(&t[0], &t[1], &t[2], 1e-12)),
            3,
        ),
        (
            "softmax",
            Box::new(|t: &[Tensor]| fused::softmax(&t[0])),
            Box::new(|t: &[Tensor]| ops::softmax_last_dim_composed(&t[0])),
            1,
        ),
        (
            "gelu",
            Box::new(|t: &[Tensor]| fused::gelu_erf(&t[0])),
            Box::new(|t: &[Tensor]| ops::gelu_erf_composed(&t[0])),
            1,
        ),
        (
            "gelu_tanh",
            Box::new(|t: &[Tensor]| fused::gelu_tanh(&t[0])),
            Box::new(|t: &[Tensor]| ops::gelu_tanh_composed(&t[0])),
            1,
        ),
    ];
    for (name, f_fused, f_ref, n_in) in cases {
        let vars: Vec<candle_core::Var> = [&x, &g, &b][..n_in]
            .iter()
            .map(|t| candle_core::Var::from_tensor(t).unwrap())
            .collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let yf = f_fused(&ts).unwrap();
        let yr = f_ref(&ts).unwrap();
        assert!(
            max_abs_diff(&yf, &yr) < 1e-5,
            "{name}: values differ by {}",
            max_abs_diff(&yf, &yr)
        );
        let gf = (yf * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let gr = (yr * &w).unwrap().sum_all().unwrap().backward().unwrap();
        for (i, v) in vars.iter().enumerate() {
            let a = gf
                .get(v.as_tensor())
                .unwrap_or_else(|| panic!("{name}: no fused grad for input {i}"));
            let r = gr.get(v.as_tensor()).unwrap();
            let scale: f32 = r
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar()
                .unwrap();
            let d = max_abs_diff(a, r);
            assert!(
                d <= 1e-4 * scale.max(1.0),
                "{name}: grad {i} differs by {d} (scale {scale})"
            );
        }
    }
}
