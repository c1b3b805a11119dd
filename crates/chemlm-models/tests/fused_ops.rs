//! The fused cross-entropy and linear-attention kernels against their composed references
//! (values and gradients, f32) and against central differences (f64).

use candle_core::{DType, Device, Result, Tensor, Var};
use chemlm_models::blocks::attention::linear_attention_composed;
use chemlm_models::gradcheck::check_gradients;
use chemlm_models::ops::cross_entropy::{cross_entropy_sum, cross_entropy_sum_composed};
use chemlm_models::ops::linear_attention::linear_attention;

fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| r.gen_range(lo..hi)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

fn weighted(t: &Tensor, seed: u64) -> Result<Tensor> {
    let w = uniform(t.dims(), -1.0, 1.0, seed).to_dtype(t.dtype())?;
    (t * w)?.sum_all()
}

fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
    (a.to_dtype(DType::F32).unwrap() - b.to_dtype(DType::F32).unwrap())
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// Value and input gradients of `f` in f32.
fn value_and_grads(
    inputs: &[Tensor],
    f: &dyn Fn(&[Tensor]) -> Result<Tensor>,
) -> (Tensor, Vec<Tensor>) {
    let vars: Vec<Var> = inputs
        .iter()
        .map(|t| Var::from_tensor(&t.to_dtype(DType::F32).unwrap()).unwrap())
        .collect();
    let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let y = f(&ts).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    let gs = vars
        .iter()
        .map(|v| {
            grads
                .get(v.as_tensor())
                .cloned()
                .unwrap_or_else(|| v.as_tensor().zeros_like().unwrap())
        })
        .collect();
    (y, gs)
}

const IGN: u32 = chemlm_models::ops::cross_entropy::IGNORE_INDEX;

#[test]
fn cross_entropy_fused_matches_composed_with_ignore_index() {
    let logits = uniform(&[37, 53], -4.0, 4.0, 1);
    let tg: Vec<u32> = (0..37u32)
        .map(|i| if i % 5 == 2 { IGN } else { (i * 7) % 53 })
        .collect();
    let targets = Tensor::from_vec(tg, 37, &Device::Cpu).unwrap();
    let t2 = targets.clone();
    let (yf, gf) = value_and_grads(std::slice::from_ref(&logits), &|t| {
        cross_entropy_sum(&t[0], &targets, IGN)
    });
    let (yc, gc) = value_and_grads(&[logits], &|t| cross_entropy_sum_composed(&t[0], &t2, IGN));
    let (a, b) = (
        yf.to_scalar::<f32>().unwrap(),
        yc.to_scalar::<f32>().unwrap(),
    );
    assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "loss {a} vs {b}");
    let d = max_abs(&gf[0], &gc[0]);
    assert!(d < 1e-5, "gradient differs by {d}");
    // ignored rows get exactly zero gradient
    let g: Vec<Vec<f32>> = gf[0].to_vec2().unwrap();
    assert!(g[2].iter().all(|&x| x == 0.0));
    assert!(g[3].iter().any(|&x| x != 0.0));
}

#[test]
fn cross_entropy_fused_finite_differences_and_errors() {
    let logits = uniform(&[6, 9], -2.0, 2.0, 2);
    let targets = Tensor::from_vec(vec![0u32, 8, IGN, 3, 3, 5], 6, &Device::Cpu).unwrap();
    let r = check_gradients(
        std::slice::from_ref(&logits),
        |t| cross_entropy_sum(&t[0], &targets, IGN),
        1e-5,
        64,
    )
    .unwrap();
    assert!(r.max_rel_error < 1e-6, "{r:?}");
    let bad = Tensor::from_vec(vec![0u32, 9, 1, 1, 1, 1], 6, &Device::Cpu).unwrap();
    let e = cross_entropy_sum(&logits, &bad, IGN)
        .unwrap_err()
        .to_string();
    assert!(e.contains("target 9"), "{e}");
}

fn attention_inputs(b: usize, h: usize, n: usize, m: usize, d: usize) -> Vec<Tensor> {
    vec![
        uniform(&[b, h, n, m], 0.0, 1.5, 3), // feature-mapped: non-negative
        uniform(&[b, h, n, m], 0.0, 1.5, 4),
        uniform(&[b, h, n, d], -1.0, 1.0, 5),
    ]
}

fn padding_mask(b: usize, n: usize) -> Tensor {
    let lens = [n, n - 3, 2];
    let v: Vec<u32> = (0..b)
        .flat_map(|r| (0..n).map(move |c| u32::from(c < lens[r % 3])))
        .collect();
    Tensor::from_vec(v, (b, n), &Device::Cpu).unwrap()
}

#[test]
fn linear_attention_fused_matches_composed_values_and_gradients() {
    let (b, h, n, m, d) = (3, 2, 11, 8, 6);
    let inputs = attention_inputs(b, h, n, m, d);
    let mask = padding_mask(b, n);
    for mk in [Some(&mask), None] {
        let fused = |t: &[Tensor]| weighted(&linear_attention(&t[0], &t[1], &t[2], mk, 1e-6)?, 8);
        let composed = |t: &[Tensor]| {
            weighted(
                &linear_attention_composed(&t[0], &t[1], &t[2], mk, 1e-6, false)?.context,
                8,
            )
        };
        let (yf, gf) = value_and_grads(&inputs, &fused);
        let (yc, gc) = value_and_grads(&inputs, &composed);
        let (a, c) = (
            yf.to_scalar::<f32>().unwrap(),
            yc.to_scalar::<f32>().unwrap(),
        );
        assert!((a - c).abs() < 1e-4 * c.abs().max(1.0), "{a} vs {c}");
        for (i, (x, y)) in gf.iter().zip(&gc).enumerate() {
            let e = max_abs(x, y);
            assert!(e < 1e-4, "input {i}: gradient differs by {e}");
        }
    }
    // padded keys get no gradient and do not change the output of real tokens
    let (_, g) = value_and_grads(&inputs, &|t| {
        weighted(
            &linear_attention(&t[0], &t[1], &t[2], Some(&mask), 1e-6)?,
            8,
        )
    });
    let dk: Vec<f32> = g[1]
        .get(2)
        .unwrap()
        .narrow(1, 2, n - 2)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!(dk.iter().all(|&x| x == 0.0));
}

#[test]
fn linear_attention_fused_finite_differences() {
    let (b, h, n, m, d) = (2, 2, 5, 4, 3);
    let inputs = attention_inputs(b, h, n, m, d);
    let mask = padding_mask(b, n);
    let r = check_gradients(
        &inputs,
        |t| {
            weighted(
                &linear_attention(&t[0], &t[1], &t[2], Some(&mask), 1e-6)?,
                9,
            )
        },
        1e-5,
        64,
    )
    .unwrap();
    assert!(r.max_rel_error < 1e-6, "{r:?}");
}

#[test]
fn bias_add_fused_matches_broadcast_add_values_and_gradients() {
    use chemlm_models::ops::fused::bias_add;
    // 3-D input of odd sizes so that row blocks do not divide evenly.
    let x = uniform(&[3, 37, 11], -2.0, 2.0, 21);
    let b = uniform(&[11], -1.0, 1.0, 22);
    let w = |t: &Tensor| weighted(t, 23);
    let (yf, gf) = value_and_grads(&[x.clone(), b.clone()], &|t| w(&bias_add(&t[0], &t[1])?));
    let (yc, gc) = value_and_grads(&[x, b], &|t| w(&t[0].broadcast_add(&t[1])?));
    assert!(max_abs(&yf, &yc) < 1e-5);
    assert!(max_abs(&gf[0], &gc[0]) < 1e-6);
    assert!(max_abs(&gf[1], &gc[1]) < 1e-4, "bias grad");
    assert_eq!(gf[1].dims(), &[11]);
}

#[test]
fn bias_add_fused_finite_differences_and_bad_width() {
    use chemlm_models::ops::fused::bias_add;
    let inputs = [
        uniform(&[4, 5, 3], -1.0, 1.0, 31),
        uniform(&[3], -1.0, 1.0, 32),
    ];
    let r = check_gradients(
        &inputs,
        |t| weighted(&bias_add(&t[0], &t[1])?, 33),
        1e-5,
        64,
    )
    .unwrap();
    assert!(r.max_rel_error < 1e-6, "{r:?}");
    let err = bias_add(&inputs[0], &uniform(&[4], 0.0, 1.0, 34)).unwrap_err();
    assert!(err.to_string().contains("bias of 4 for width 3"), "{err}");
}

#[test]
fn bias_gradient_is_repeatable_bit_for_bit() {
    use chemlm_models::ops::fused::bias_add;
    // Enough rows for several rayon tasks: the column sums must not depend on the split.
    let x = uniform(&[64, 300, 8], -1.0, 1.0, 41)
        .to_dtype(DType::F32)
        .unwrap();
    let b = uniform(&[8], -1.0, 1.0, 42).to_dtype(DType::F32).unwrap();
    let first = value_and_grads(&[x.clone(), b.clone()], &|t| bias_add(&t[0], &t[1])).1[1]
        .to_vec1::<f32>()
        .unwrap();
    for _ in 0..5 {
        let again = value_and_grads(&[x.clone(), b.clone()], &|t| bias_add(&t[0], &t[1])).1[1]
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(first, again);
    }
}

#[test]
fn fast_f32_erf_is_within_1e6_of_the_f64_erf() {
    use chemlm_models::ops::fused::erf_f32_fast;
    let mut worst = 0.0f64;
    for i in -60_000..=60_000 {
        let x = i as f64 * 1e-4;
        let want = candle_core::cpu::erf::erf_f64(x);
        let got = f64::from(erf_f32_fast(x as f32));
        worst = worst.max((got - want).abs());
    }
    assert!(worst < 1e-6, "worst {worst:e}");
    // Beyond the fit's range the value stays within an f32 rounding step of ±1.
    assert!((erf_f32_fast(f32::INFINITY) - 1.0).abs() < 2e-7);
    assert!((erf_f32_fast(f32::NEG_INFINITY) + 1.0).abs() < 2e-7);
    assert!(erf_f32_fast(f32::NAN).is_nan());
    assert_eq!(erf_f32_fast(0.0), 0.0);
}

#[test]
fn fast_f32_tanh_is_within_4e7_of_the_f64_tanh() {
    use chemlm_models::ops::fused::tanh_f32_fast;
    let mut worst = 0.0f64;
    for i in -120_000..=120_000 {
        let x = i as f64 * 1e-4;
        let got = f64::from(tanh_f32_fast(x as f32));
        worst = worst.max((got - f64::from(x as f32).tanh()).abs());
    }
    assert!(worst < 4e-7, "worst {worst:e}");
    assert!((tanh_f32_fast(f32::INFINITY) - 1.0).abs() < 1e-7);
    assert!((tanh_f32_fast(-1e30) + 1.0).abs() < 1e-7);
    assert!(tanh_f32_fast(f32::NAN).is_nan());
    assert_eq!(tanh_f32_fast(0.0), 0.0);
}

#[test]
fn dropout_mask_is_fixed_by_the_seed_and_matches_the_host_mask() {
    use chemlm_models::ops::dropout::{dropout, DropoutMask};
    let n = 100_003; // several parallel chunks and a ragged tail
    let x = uniform(&[n], 0.5, 2.0, 7).to_dtype(DType::F32).unwrap();
    let xv = Var::from_tensor(&x).unwrap();
    // Fused forward equals x times the host-made mask, bit for bit.
    let y = dropout(xv.as_tensor(), 0.1, 42).unwrap();
    let m = Tensor::from_vec(DropoutMask::new(0.1, 42).values(n), n, &Device::Cpu).unwrap();
    assert_eq!(max_abs(&y, &(&x * &m).unwrap()), 0.0);
    // About 10 % dropped; survivors scaled by 1 / 0.9.
    let mv: Vec<f32> = m.to_vec1().unwrap();
    let dropped = mv.iter().filter(|&&v| v == 0.0).count() as f64 / n as f64;
    assert!((dropped - 0.1).abs() < 0.005, "dropped fraction {dropped}");
    assert!(mv.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
    // Backward: grad * the same mask.
    let w = uniform(&[n], -1.0, 1.0, 8).to_dtype(DType::F32).unwrap();
    let g = (y * &w).unwrap().sum_all().unwrap().backward().unwrap();
    let gx = g.get(xv.as_tensor()).unwrap();
    assert_eq!(max_abs(gx, &(&w * &m).unwrap()), 0.0);
    // The mask does not depend on the thread count, and another seed gives another mask.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let y1 = one.install(|| dropout(&x, 0.1, 42).unwrap());
    assert_eq!(max_abs(&y1, &(&x * &m).unwrap()), 0.0);
    let other = dropout(&x, 0.1, 43).unwrap();
    assert!(max_abs(&other, &(&x * &m).unwrap()) > 0.5);
    // Other dtypes (no fused kernel) take the host mask: the same one.
    let xb = x.to_dtype(DType::BF16).unwrap();
    let yb = dropout(&xb, 0.1, 42).unwrap();
    let mb = m.to_dtype(DType::BF16).unwrap();
    assert_eq!(max_abs(&yb, &(&xb * &mb).unwrap()), 0.0);
}

/// Composed reference of `ops::attention`: split heads, scores, bias, softmax, dropout of the
/// probabilities as a tensor (same seed, same mask), product, merged heads.
fn softmax_attention_reference(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    heads: usize,
    scale: f64,
    seed: Option<u64>,
) -> Result<Tensor> {
    use chemlm_models::blocks::attention::{merge_heads, split_heads};
    let (q, k, v) = (
        split_heads(q, heads)?,
        split_heads(k, heads)?,
        split_heads(v, heads)?,
    );
    let s = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(bias)?;
    let p = chemlm_models::ops::softmax_last_dim_composed(&s)?;
    let p = match seed {
        Some(seed) => chemlm_models::ops::dropout::dropout(&p, 0.25, seed)?,
        None => p,
    };
    merge_heads(&p.matmul(&v)?)
}

fn fused_attention(t: &[Tensor], heads: usize, scale: f64, seed: Option<u64>) -> Result<Tensor> {
    use chemlm_models::ops::attention::{context, probs};
    use chemlm_models::ops::dropout::DropoutMask;
    let p = probs(&t[0], &t[1], &t[3], heads, scale)?;
    context(&p, &t[2], seed.map(|s| DropoutMask::new(0.25, s)))
}

/// q `[b, nq, h*dk]`, k `[b, nk, h*dk]`, v `[b, nk, h*dv]`, a position-like bias
/// `[1, h, nq, nk]`, and a padding bias `[b, 1, 1, nk]` (last keys of row 1 blocked).
fn softmax_attention_inputs(
    (b, h, nq, nk, dk, dv): (usize, usize, usize, usize, usize, usize),
) -> (Vec<Tensor>, Tensor) {
    let inputs = vec![
        uniform(&[b, nq, h * dk], -1.0, 1.0, 11),
        uniform(&[b, nk, h * dk], -1.0, 1.0, 12),
        uniform(&[b, nk, h * dv], -1.0, 1.0, 13),
        uniform(&[1, h, nq, nk], -2.0, 2.0, 14),
    ];
    let pad: Vec<f64> = (0..b)
        .flat_map(|r| (0..nk).map(move |c| if r == 1 && c + 2 >= nk { -1e9 } else { 0.0 }))
        .collect();
    let pad = Tensor::from_vec(pad, (b, 1, 1, nk), &Device::Cpu).unwrap();
    (inputs, pad)
}

#[test]
fn softmax_attention_fused_matches_composed_values_and_gradients() {
    let dims = (3, 4, 7, 9, 5, 6);
    let (inputs, pad) = softmax_attention_inputs(dims);
    let heads = dims.1;
    for (scale, seed) in [(1.0, None), (0.37, None), (1.0, Some(5u64))] {
        let with_pad = |t: &[Tensor]| -> Result<Vec<Tensor>> {
            let bias = t[3].broadcast_add(&pad.to_dtype(t[3].dtype())?)?;
            Ok(vec![t[0].clone(), t[1].clone(), t[2].clone(), bias])
        };
        let fused =
            |t: &[Tensor]| weighted(&fused_attention(&with_pad(t)?, heads, scale, seed)?, 8);
        let composed = |t: &[Tensor]| {
            let t = with_pad(t)?;
            weighted(
                &softmax_attention_reference(&t[0], &t[1], &t[2], &t[3], heads, scale, seed)?,
                8,
            )
        };
        let (yf, gf) = value_and_grads(&inputs, &fused);
        let (yc, gc) = value_and_grads(&inputs, &composed);
        let (a, c) = (
            yf.to_scalar::<f32>().unwrap(),
            yc.to_scalar::<f32>().unwrap(),
        );
        assert!((a - c).abs() < 1e-4 * c.abs().max(1.0), "{a} vs {c}");
        for (i, (x, y)) in gf.iter().zip(&gc).enumerate() {
            assert_eq!(x.dims(), y.dims());
            let e = max_abs(x, y);
            assert!(
                e < 1e-4,
                "scale {scale} dropout {seed:?} input {i}: gradient differs by {e}"
            );
        }
        // Blocked keys of row 1 get no key/value gradient.
        let dk: Vec<f32> = gf[1]
            .get(1)
            .unwrap()
            .narrow(0, dims.3 - 2, 2)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(dk.iter().all(|&x| x == 0.0));
    }
}

#[test]
fn softmax_attention_fused_finite_differences_and_shape_errors() {
    let dims = (2, 2, 4, 5, 3, 2);
    let (inputs, pad) = softmax_attention_inputs(dims);
    for seed in [None, Some(3u64)] {
        let r = check_gradients(
            &inputs,
            |t| {
                let bias = t[3].broadcast_add(&pad)?;
                let t = [t[0].clone(), t[1].clone(), t[2].clone(), bias];
                weighted(&fused_attention(&t, dims.1, 0.5, seed)?, 9)
            },
            1e-5,
            64,
        )
        .unwrap();
        assert!(r.max_rel_error < 1e-6, "dropout {seed:?}: {r:?}");
    }
    // Widths that do not split into the heads, and mismatched keys, are errors.
    let e = fused_attention(&inputs, 4, 1.0, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not divisible"), "{e}");
    let k = inputs[1].narrow(2, 0, 4).unwrap();
    let bad = [inputs[0].clone(), k, inputs[2].clone(), inputs[3].clone()];
    assert!(fused_attention(&bad, 2, 1.0, None).is_err());
}
