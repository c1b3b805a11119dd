//! Matrix products under the vendored candle's `split_gemm` (one block of output rows or
//! columns per thread, `vendor/candle-core/src/cpu_backend/mod.rs`): the same bits on 1, 2 and
//! 3 threads, values equal to an f64 dot product, for the operand layouts training uses
//! (plain, `x·wᵀ`, `gradᵀ·x`, batched, a batch-invariant right side) and sizes on both sides
//! of the threshold below which a product stays on one thread.

use candle_core::{DType, Device, Tensor};

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

/// Deterministic values in [-1, 1) with no pattern the product could cancel.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn matrix(rows: usize, cols: usize, seed: u64) -> Tensor {
    Tensor::from_vec(values(rows * cols, seed), (rows, cols), &Device::Cpu).unwrap()
}

/// `a · b` of two rank-2 tensors (any strides) in f64, row-major.
fn reference(a: &Tensor, b: &Tensor) -> Vec<f64> {
    let a: Vec<Vec<f32>> = a.to_vec2().unwrap();
    let b: Vec<Vec<f32>> = b.to_vec2().unwrap();
    let (m, k, n) = (a.len(), b.len(), b[0].len());
    let mut out = vec![0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k).map(|p| a[i][p] as f64 * b[p][j] as f64).sum();
        }
    }
    out
}

/// Every value, widened to f64 without rounding (equal vectors: equal values, ±0 aside).
fn exact(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn split_products_do_not_depend_on_the_thread_count() {
    // (m, k, n): small (one thread), tall (row blocks), wide (column blocks), ragged sizes,
    // and a weight-gradient shape with a long inner dimension.
    let shapes = [
        (7, 5, 3),
        (168, 128, 128),
        (1_000, 64, 40),
        (37, 300, 1_111),
        (130, 3_000, 70),
        (3_360, 20, 128),
    ];
    for (i, &(m, k, n)) in shapes.iter().enumerate() {
        let seed = 10 * i as u64;
        let a = matrix(m, k, seed + 1);
        let b = matrix(k, n, seed + 2);
        // The same products through the layouts of a linear layer and its gradients.
        let w = matrix(n, k, seed + 3); // x · wᵀ
        let g = matrix(k, m, seed + 4); // gᵀ · b (a [k, m] gradient read transposed)
        let cases: Vec<(&str, Tensor, Tensor)> = vec![
            ("a·b", a.clone(), b.clone()),
            ("a·wᵀ", a.clone(), w.t().unwrap()),
            ("gᵀ·b", g.t().unwrap(), b.clone()),
        ];
        for (name, l, r) in &cases {
            let per_threads: Vec<Vec<f64>> = [1, 2, 3]
                .iter()
                .map(|&t| pool(t).install(|| exact(&l.matmul(r).unwrap())))
                .collect();
            assert_eq!(per_threads[0], per_threads[1], "{name} {m}x{k}x{n}: 1 vs 2");
            assert_eq!(per_threads[0], per_threads[2], "{name} {m}x{k}x{n}: 1 vs 3");
            let got = pool(2).install(|| l.matmul(r).unwrap());
            let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
            for (j, (x, y)) in got.iter().zip(reference(l, r)).enumerate() {
                let tol = 1e-5 * (k as f64).sqrt() * (1.0 + y.abs());
                assert!(
                    (*x as f64 - y).abs() <= tol,
                    "{name} {m}x{k}x{n} element {j}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn batched_products_split_by_batch_or_block_equal_each_product_alone() {
    // Batches of 1, 2, 5 and 64 (fewer, equal and more than the threads), with a
    // batch-invariant right side (broadcast weights) and a per-batch one; f32 and f64.
    for &batch in &[1usize, 2, 5, 64] {
        for dtype in [DType::F32, DType::F64] {
            let a = Tensor::from_vec(values(batch * 48 * 96, 7), (batch, 48, 96), &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let per = Tensor::from_vec(values(batch * 96 * 80, 8), (batch, 96, 80), &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let shared = per
                .narrow(0, 0, 1)
                .unwrap()
                .broadcast_as((batch, 96, 80))
                .unwrap();
            for (name, r) in [("per-batch", &per), ("shared", &shared)] {
                let whole = pool(3).install(|| a.matmul(r).unwrap());
                let one = pool(1).install(|| a.matmul(r).unwrap());
                assert_eq!(
                    exact(&whole),
                    exact(&one),
                    "{name} batch {batch} {dtype:?}: 3 vs 1 threads"
                );
                for s in 0..batch {
                    let alone = a
                        .get(s)
                        .unwrap()
                        .matmul(&r.get(s).unwrap().contiguous().unwrap())
                        .unwrap();
                    assert_eq!(
                        exact(&whole.get(s).unwrap()),
                        exact(&alone),
                        "{name} batch {batch} step {s} {dtype:?}"
                    );
                }
            }
        }
    }
}
