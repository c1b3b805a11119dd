//! candle's CPU matmul (the `gemm` crate, AVX-512 kernels on by default) against a plain
//! triple loop in f64, over shapes that hit the kernels' edge cases. Force fields run f64 checks
//! at 1e-9; a kernel that lost precision would break them.

use candle_core::{Device, Tensor};

fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            for j in 0..n {
                c[i * n + j] += a[i * k + p] * b[p * n + j];
            }
        }
    }
    c
}

#[test]
fn f64_matmul_matches_a_triple_loop() {
    use rand::{Rng, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut worst: f64 = 0.0;
    for &(m, k, n) in &[
        (1, 1, 1),
        (3, 5, 7),
        (8, 8, 8),
        (17, 33, 9),
        (21, 64, 3),
        (64, 128, 96),
        (130, 7, 65),
        (5, 300, 2),
    ] {
        let a: Vec<f64> = (0..m * k).map(|_| r.gen_range(-1.0..1.0)).collect();
        let b: Vec<f64> = (0..k * n).map(|_| r.gen_range(-1.0..1.0)).collect();
        let want = naive(&a, &b, m, k, n);
        let ta = Tensor::from_vec(a, (m, k), &Device::Cpu).unwrap();
        let tb = Tensor::from_vec(b, (k, n), &Device::Cpu).unwrap();
        // Plain, and with either operand stored transposed (the backward pass's layouts).
        let at = ta.t().unwrap().contiguous().unwrap().t().unwrap();
        let bt = tb.t().unwrap().contiguous().unwrap().t().unwrap();
        for (case, x, y) in [
            ("nn", &ta, &tb),
            ("tn", &at, &tb),
            ("nt", &ta, &bt),
            ("tt", &at, &bt),
        ] {
            let got: Vec<f64> = x
                .matmul(y)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            for (x, y) in got.iter().zip(&want) {
                let e = (x - y).abs() / y.abs().max(1.0);
                worst = worst.max(e);
                assert!(e < 1e-12, "{case} {m}x{k}x{n}: {x} vs {y}");
            }
        }
    }
    eprintln!("worst relative error {worst:e}");
}
