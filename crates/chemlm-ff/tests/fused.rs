//! The fused CPU kernels of `chemlm_ff::fused` against the composed candle ops they replace:
//! values (f32 and f64, sizes across the parallel chunk boundaries), first derivatives against
//! central differences, second derivatives (what force training takes) against the composed
//! graph, and the weight gradients skipped inside `positions_only`.

use candle_core::{DType, Device, Tensor, Var};
use chemlm_ff::{blocks, fused, second_order};
use chemlm_models::gradcheck::check_gradients;

mod common;
use common::{max_abs_diff, random};

fn composed_ssp(x: &Tensor) -> Tensor {
    (blocks::softplus(x).unwrap() - std::f64::consts::LN_2).unwrap()
}

/// [300, 37] = 11,100 elements: more than one parallel chunk, rows not aligned to chunks.
const SHAPE: [usize; 2] = [300, 37];

#[test]
fn values_equal_the_composed_ops_in_f64_and_f32() {
    let x = random(&SHAPE, 30.0, 1);
    let g = random(&SHAPE, 2.0, 2);
    let w = random(&[23, 37], 1.0, 3);
    let sig = candle_nn::ops::sigmoid(&x).unwrap();
    let want_ssp = composed_ssp(&x);
    let want_sm = (&g * &sig).unwrap();
    let want_spm = ((&g * &x).unwrap() * (&sig * sig.affine(-1.0, 1.0).unwrap()).unwrap()).unwrap();
    let want_lin = x.matmul(&w.t().unwrap()).unwrap();
    let want_cols = x.sum(0).unwrap();
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 2e-6)] {
        let c = |t: &Tensor| t.to_dtype(dtype).unwrap();
        let (xd, gd, wd) = (c(&x), c(&g), c(&w));
        let got = fused::shifted_softplus(&xd).unwrap();
        assert!(max_abs_diff(&got, &want_ssp) < tol * 30.0, "{dtype:?} ssp");
        let got = fused::sigmoid_mul(&gd, &xd).unwrap();
        assert!(max_abs_diff(&got, &want_sm) < tol * 2.0, "{dtype:?} σ·g");
        let got = fused::sigmoid_prime_mul(&gd, &xd, &xd).unwrap();
        assert!(
            max_abs_diff(&got, &want_spm) < tol * 60.0,
            "{dtype:?} σ'·g·x"
        );
        // Products and sums: relative to their magnitude (rows of 37 terms of up to 30).
        let got = fused::linear(&xd, &wd).unwrap();
        assert!(
            max_abs_diff(&got, &want_lin) < tol * 1e3,
            "{dtype:?} linear"
        );
        let got = fused::column_sum(&xd).unwrap();
        assert!(
            max_abs_diff(&got, &want_cols) < tol * 1e4,
            "{dtype:?} columns"
        );
    }
}

/// The fused dense layer act(x Wᵀ + b) against product, broadcast add and the composed
/// shifted softplus: with and without bias, both epilogues, f32 and f64, row counts from one
/// row to several blocks (blocks of at most 256 rows; sizes not multiples of the block), one
/// and three threads; and the σ-from-the-output ops against σ of the pre-activation.
#[test]
fn dense_equals_the_composed_layer() {
    use fused::Epilogue;
    for (n, inp, out) in [(1, 5, 3), (37, 20, 16), (300, 37, 23), (1_111, 20, 64)] {
        let x = random(&[n, inp], 3.0, 40 + n as u64);
        let w = random(&[out, inp], 1.0, 41);
        let b = random(&[out], 1.0, 42);
        let z = x.matmul(&w.t().unwrap()).unwrap();
        let zb = z.broadcast_add(&b).unwrap();
        for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 2e-5)] {
            let c = |t: &Tensor| t.to_dtype(dtype).unwrap();
            let (xd, wd, bd) = (c(&x), c(&w), c(&b));
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    let cases = [
                        (None, Epilogue::Identity, z.clone()),
                        (Some(&bd), Epilogue::Identity, zb.clone()),
                        (None, Epilogue::ShiftedSoftplus, composed_ssp(&z)),
                        (Some(&bd), Epilogue::ShiftedSoftplus, composed_ssp(&zb)),
                    ];
                    for (bias, act, want) in cases {
                        let got = fused::dense(&xd, &wd, bias, act).unwrap();
                        assert_eq!(got.dims(), [n, out]);
                        let d = max_abs_diff(&got, &want);
                        assert!(
                            d < tol * 100.0,
                            "{n}x{inp}->{out} {dtype:?} bias {} {act:?} {threads} thr: {d}",
                            bias.is_some()
                        );
                    }
                });
            }
        }
        // σ(z) from y = ssp(z), and its y-derivative term, in f64.
        let y = composed_ssp(&zb);
        let g = random(&[n, out], 1.0, 43);
        let sig = candle_nn::ops::sigmoid(&zb).unwrap();
        let got = fused::ssp_grad(&g, &y).unwrap();
        assert!(
            max_abs_diff(&got, &(&g * &sig).unwrap()) < 1e-12,
            "ssp_grad"
        );
        let half_exp = y.neg().unwrap().exp().unwrap().affine(0.5, 0.0).unwrap();
        let want = ((&g * &g).unwrap() * half_exp).unwrap();
        let got = fused::half_exp_neg_mul(&g, &g, &y).unwrap();
        assert!(max_abs_diff(&got, &want) < 1e-12, "half_exp_neg_mul");
    }
    let x = random(&[4, 3], 1.0, 44);
    let err = fused::dense(&x, &random(&[2, 5], 1.0, 45), None, Epilogue::Identity);
    assert!(err.is_err(), "width mismatch must fail");
    let err = fused::dense(
        &x,
        &random(&[2, 3], 1.0, 46),
        Some(&random(&[3], 1.0, 47)),
        Epilogue::Identity,
    );
    assert!(err.is_err(), "bias length mismatch must fail");
}

/// ssp in f32 over a fine grid, against the f64 formula: the series for ln(1 + t) and the
/// polynomial exp keep it within a few f32 roundings.
#[test]
fn f32_shifted_softplus_is_accurate_everywhere() {
    let xs: Vec<f32> = (0..=200_000).map(|i| -100.0 + i as f32 * 0.001).collect();
    let t = Tensor::from_vec(xs.clone(), xs.len(), &Device::Cpu).unwrap();
    let got: Vec<f32> = fused::shifted_softplus(&t).unwrap().to_vec1().unwrap();
    for (&x, &y) in xs.iter().zip(&got) {
        let x = x as f64;
        let want = x.max(0.0) + (-x.abs()).exp().ln_1p() - std::f64::consts::LN_2;
        let tol = 4.0 * f32::EPSILON as f64 * want.abs().max(1.0);
        assert!(
            (y as f64 - want).abs() <= tol,
            "ssp({x}) = {y}, want {want}"
        );
    }
}

/// A scalar function of tensors, as `check_gradients` takes it.
type ScalarFn = fn(&[Tensor]) -> candle_core::Result<Tensor>;

#[test]
fn first_derivatives_equal_finite_differences() {
    let x = random(&[9, 7], 3.0, 5);
    let g = random(&[9, 7], 1.0, 6);
    let w = random(&[5, 7], 1.0, 7);
    let b5 = random(&[5], 1.0, 9);
    let checks: Vec<(&str, Vec<Tensor>, ScalarFn)> = vec![
        ("ssp", vec![x.clone()], |t| {
            fused::shifted_softplus(&t[0])?.sqr()?.sum_all()
        }),
        ("σ·g", vec![g.clone(), x.clone()], |t| {
            fused::sigmoid_mul(&t[0], &t[1])?.sqr()?.sum_all()
        }),
        ("σ'·a·b", vec![g.clone(), x.clone(), x.clone()], |t| {
            fused::sigmoid_prime_mul(&t[0], &t[1], &t[2])?
                .sqr()?
                .sum_all()
        }),
        ("linear", vec![x.clone(), w.clone()], |t| {
            fused::linear(&t[0], &t[1])?.sqr()?.sum_all()
        }),
        ("columns", vec![x.clone()], |t| {
            fused::column_sum(&t[0])?.sqr()?.sum_all()
        }),
        ("dense+ssp", vec![x.clone(), w.clone(), b5], |t| {
            let act = fused::Epilogue::ShiftedSoftplus;
            fused::dense(&t[0], &t[1], Some(&t[2]), act)?
                .sqr()?
                .sum_all()
        }),
        ("dense", vec![x.clone(), w.clone()], |t| {
            let act = fused::Epilogue::Identity;
            fused::dense(&t[0], &t[1], None, act)?.sqr()?.sum_all()
        }),
        ("ssp_grad", vec![g.clone(), x.clone()], |t| {
            fused::ssp_grad(&t[0], &t[1])?.sqr()?.sum_all()
        }),
        ("½e^-y·a·b", vec![g.clone(), x.clone(), x], |t| {
            fused::half_exp_neg_mul(&t[0], &t[1], &t[2])?
                .sqr()?
                .sum_all()
        }),
    ];
    for (name, inputs, f) in checks {
        let r = check_gradients(&inputs, f, 1e-6, 64).unwrap();
        assert!(r.max_rel_error < 1e-6, "{name}: {r:?}");
    }
}

/// A dense + shifted-softplus layer pair as force training uses it: the gradient in the input
/// (the "forces"), then the gradient of a loss on it in weights, bias and input. The fused and
/// the composed graphs must agree to rounding.
#[test]
fn second_derivatives_equal_the_composed_graph() {
    let x0 = random(&[11, 6], 2.0, 9);
    let w0 = random(&[8, 6], 1.0, 10);
    let b0 = random(&[8], 1.0, 11);
    let w1 = random(&[3, 8], 1.0, 12);
    let target = random(&[11, 6], 1.0, 13);
    // mode 0: composed ops; 1: fused product and shifted softplus as separate ops; 2: the fused
    // dense layers.
    let run = |mode: u8, positions_only: bool| {
        let (x0, w0, b0, w1, target) = (
            x0.clone(),
            w0.clone(),
            b0.clone(),
            w1.clone(),
            target.clone(),
        );
        second_order::run(move || {
            let x = Var::from_tensor(&x0).unwrap();
            let (w, b, v) = (
                Var::from_tensor(&w0).unwrap(),
                Var::from_tensor(&b0).unwrap(),
                Var::from_tensor(&w1).unwrap(),
            );
            let y = if mode == 1 {
                let h =
                    fused::linear(x.as_tensor(), w.as_tensor())?.broadcast_add(b.as_tensor())?;
                fused::linear(&fused::shifted_softplus(&h)?, v.as_tensor())?
            } else if mode == 2 {
                let ssp = fused::Epilogue::ShiftedSoftplus;
                let h = fused::dense(x.as_tensor(), w.as_tensor(), Some(b.as_tensor()), ssp)?;
                fused::dense(&h, v.as_tensor(), None, fused::Epilogue::Identity)?
            } else {
                let h = x
                    .as_tensor()
                    .matmul(&w.as_tensor().t()?)?
                    .broadcast_add(b.as_tensor())?;
                composed_ssp(&h).matmul(&v.as_tensor().t()?)?
            };
            let e = y.sqr()?.sum_all()?;
            let g1 = if positions_only {
                fused::positions_only(|| e.backward())?
            } else {
                e.backward()?
            };
            let dx = g1.get(x.as_tensor()).expect("input gradient").clone();
            let w_grad_present = g1.get(w.as_tensor()).is_some() && g1.get(b.as_tensor()).is_some();
            let loss = ((&dx - &target)?.sqr()?.sum_all()? + (e * 0.1)?)?;
            let g2 = loss.backward()?;
            let grads: Vec<Tensor> = [&x, &w, &b, &v]
                .iter()
                .map(|t| g2.get(t.as_tensor()).expect("second gradient").clone())
                .collect();
            candle_core::Result::Ok((dx, grads, w_grad_present))
        })
        .expect("second-order thread")
        .expect("ops")
    };
    let (dx_ref, g_ref, _) = run(0, false);
    for (mode, positions_only) in [(1, false), (1, true), (2, false), (2, true)] {
        let (dx, g, w_grads) = run(mode, positions_only);
        assert!(max_abs_diff(&dx, &dx_ref) < 1e-12, "forces, mode {mode}");
        for (name, (a, b)) in ["x", "w", "b", "v"].iter().zip(g.iter().zip(&g_ref)) {
            assert!(
                max_abs_diff(a, b) < 1e-10,
                "second-order gradient in {name}, mode {mode}"
            );
        }
        assert_eq!(
            w_grads, !positions_only,
            "weight gradients of the force pass"
        );
    }
}

/// Per-row scaling and row dot products: values against the broadcast they replace (several
/// parallel chunks), first derivatives against central differences, and the second
/// derivatives of a force-style loss (scales that depend on the differentiated input, as a
/// cutoff depends on positions) against the composed graph.
#[test]
fn scale_rows_and_row_dot() {
    let x = random(&[700, 37], 2.0, 21);
    let c = random(&[700, 1], 1.0, 22);
    let y = random(&[700, 37], 1.0, 23);
    for (dtype, tol) in [(DType::F64, 0.0), (DType::F32, 0.0)] {
        let t = |v: &Tensor| v.to_dtype(dtype).unwrap();
        let got = fused::scale_rows(&t(&x), &t(&c)).unwrap();
        let want = t(&x).broadcast_mul(&t(&c)).unwrap();
        assert!(max_abs_diff(&got, &want) <= tol, "{dtype:?} scale rows");
        let got = fused::row_dot(&t(&x), &t(&y)).unwrap();
        let want = (t(&x) * t(&y)).unwrap().sum_keepdim(1).unwrap();
        assert!(max_abs_diff(&got, &want) < 1e-4, "{dtype:?} row dot");
    }
    let checks: Vec<(&str, Vec<Tensor>, ScalarFn)> = vec![
        (
            "scale rows",
            vec![random(&[9, 7], 1.0, 24), random(&[9, 1], 1.0, 25)],
            |t| fused::scale_rows(&t[0], &t[1])?.sqr()?.sum_all(),
        ),
        (
            "row dot",
            vec![random(&[9, 7], 1.0, 26), random(&[9, 7], 1.0, 27)],
            |t| fused::row_dot(&t[0], &t[1])?.sqr()?.sum_all(),
        ),
    ];
    for (name, inputs, f) in checks {
        let r = check_gradients(&inputs, f, 1e-6, 64).unwrap();
        assert!(r.max_rel_error < 1e-6, "{name}: {r:?}");
    }
    let x0 = random(&[13, 5], 1.0, 28);
    let w0 = random(&[13, 5], 1.0, 29);
    let run = |fused_ops: bool| {
        let (x0, w0) = (x0.clone(), w0.clone());
        second_order::run(move || {
            let x = Var::from_tensor(&x0)?;
            let w = Var::from_tensor(&w0)?;
            let c = x.as_tensor().sqr()?.sum_keepdim(1)?.neg()?.exp()?;
            let y = if fused_ops {
                fused::scale_rows(&w.as_tensor().tanh()?, &c)?
            } else {
                w.as_tensor().tanh()?.broadcast_mul(&c)?
            };
            let e = (y.sin()?.sum_all()? + fused::row_dot(&y, x.as_tensor())?.sum_all()?)?;
            let dx = e.backward()?.get(x.as_tensor()).unwrap().clone();
            let g2 = (dx.sqr()?.sum_all()? + e)?.backward()?;
            candle_core::Result::Ok((
                dx,
                g2.get(x.as_tensor()).unwrap().clone(),
                g2.get(w.as_tensor()).unwrap().clone(),
            ))
        })
        .expect("second-order thread")
        .expect("ops")
    };
    let (a, b) = (run(false), run(true));
    assert!(max_abs_diff(&a.0, &b.0) < 1e-12, "forces");
    assert!(max_abs_diff(&a.1, &b.1) < 1e-10, "second order in x");
    assert!(max_abs_diff(&a.2, &b.2) < 1e-10, "second order in w");
}
