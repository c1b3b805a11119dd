//! The in-place fused AdamW / LAMB updates and gradient norm give the composed reference's
//! results (to float rounding) over several steps, with and without weight decay, and keep
//! working after a checkpoint round trip. One test: `set_fused` is process-wide.

use candle_core::{DType, Device, Tensor, Var};
use chemlm_train::optim::{
    global_grad_norm, AdamW, AdamWConfig, DecayRule, Lamb, LambConfig, Optimizer, ParamSet,
};

fn uniform(shape: &[usize], seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| r.gen_range(-1.0..1.0)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

/// Same initial weights every call: a decayed matrix, an undecayed bias, a big decayed matrix.
fn params() -> ParamSet {
    let named = vec![
        ("layer.dense.weight".to_string(), uniform(&[7, 5], 1)),
        ("layer.dense.bias".to_string(), uniform(&[5], 2)),
        ("layer.big.weight".to_string(), uniform(&[300, 129], 3)),
    ]
    .into_iter()
    .map(|(n, t)| (n, Var::from_tensor(&t).unwrap()))
    .collect();
    ParamSet::from_named(named, &DecayRule::default())
}

fn grads(ps: &ParamSet, step: u64) -> Vec<Option<Tensor>> {
    ps.iter()
        .enumerate()
        .map(|(i, p)| Some(uniform(p.var.dims(), 100 + 10 * step + i as u64)))
        .collect()
}

fn run(mut opt: Box<dyn Optimizer>, fused: bool, steps: u64) -> Vec<Vec<f32>> {
    chemlm_models::ops::set_fused(fused);
    let ps = params();
    for s in 0..steps {
        // a non-contiguous gradient for the first parameter on odd steps
        let mut g = grads(&ps, s);
        if s % 2 == 1 {
            let i = ps
                .iter()
                .position(|p| p.name == "layer.dense.weight")
                .unwrap();
            g[i] = Some(uniform(&[5, 7], 900 + s).t().unwrap());
        }
        opt.step(&ps, &g, 1e-2 * (s + 1) as f64).unwrap();
        if s == 1 {
            // checkpoint round trip mid-run
            let st: std::collections::HashMap<String, Tensor> =
                opt.state_tensors(&ps).unwrap().into_iter().collect();
            opt.load_state(&ps, &st).unwrap();
        }
    }
    chemlm_models::ops::set_fused(true);
    ps.iter()
        .map(|p| p.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap())
        .collect()
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn fused_optimizers_and_norm_match_composed() {
    let adamw = || -> Box<dyn Optimizer> {
        Box::new(AdamW::new(
            AdamWConfig {
                weight_decay: 0.1,
                ..Default::default()
            },
            3,
        ))
    };
    let a = run(adamw(), true, 5);
    let b = run(adamw(), false, 5);
    let init: Vec<Vec<f32>> = params()
        .iter()
        .map(|p| p.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap())
        .collect();
    assert!(max_diff(&a, &init) > 1e-2, "AdamW did not move the weights");
    let d = max_diff(&a, &b);
    assert!(d < 1e-5, "AdamW fused vs composed differ by {d}");

    let lamb = || -> Box<dyn Optimizer> {
        Box::new(Lamb::new(
            LambConfig {
                weight_decay: 0.1,
                max_trust_ratio: Some(10.0),
                ..Default::default()
            },
            3,
        ))
    };
    let a = run(lamb(), true, 5);
    let b = run(lamb(), false, 5);
    assert!(max_diff(&a, &init) > 1e-3, "LAMB did not move the weights");
    let d = max_diff(&a, &b);
    assert!(d < 1e-5, "LAMB fused vs composed differ by {d}");

    let ps = params();
    let g = grads(&ps, 0);
    chemlm_models::ops::set_fused(false);
    let n_ref = global_grad_norm(&g).unwrap();
    chemlm_models::ops::set_fused(true);
    let n_fused = global_grad_norm(&g).unwrap();
    let want: f64 = g
        .iter()
        .flatten()
        .map(|t| {
            t.to_dtype(DType::F64)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        })
        .sum::<f64>()
        .sqrt();
    assert!((n_fused - want).abs() < 1e-9 * want, "{n_fused} vs {want}");
    assert!((n_ref - want).abs() < 1e-5 * want, "{n_ref} vs {want}");
}
