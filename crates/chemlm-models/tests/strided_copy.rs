//! `Tensor::contiguous` of strided views against an element-by-element walk of the view's
//! strides. Guards the vendored candle's multi-threaded strided copy
//! (`vendor/candle-core/src/cpu_backend/strided_copy.rs`): row copies, batched transposes and
//! plain gathers above its size threshold, and the serial upstream path below it.

use candle_core::{Device, Tensor};

/// The view's elements in row-major order, read through its layout.
fn walk(base: &[f32], t: &Tensor) -> Vec<f32> {
    let (dims, strides) = (t.dims().to_vec(), t.layout().stride().to_vec());
    let start = t.layout().start_offset();
    let n: usize = dims.iter().product();
    (0..n)
        .map(|mut i| {
            let mut off = start;
            for (&d, &s) in dims.iter().zip(&strides).rev() {
                off += (i % d) * s;
                i /= d;
            }
            base[off]
        })
        .collect()
}

#[test]
fn strided_views_copy_as_the_element_walk() {
    let n = 400_000;
    let base: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let flat = Tensor::from_vec(base.clone(), n, &Device::Cpu).unwrap();
    let t = |dims: &[usize]| {
        let m: usize = dims.iter().product();
        flat.narrow(0, 0, m).unwrap().reshape(dims).unwrap()
    };
    let views: Vec<Tensor> = vec![
        // head split [b, n, h, d] -> [b, h, n, d], and its merge
        t(&[8, 64, 8, 64]).transpose(1, 2).unwrap(),
        t(&[8, 8, 64, 64]).transpose(1, 2).unwrap(),
        // K^T of [b, h, n, d]: a batch of transposes
        t(&[8, 8, 64, 64]).t().unwrap(),
        t(&[3, 7, 50, 33]).t().unwrap(),
        // a column slice (rows of 120 of 130), a plain transpose, a permutation without a unit
        // stride in the last two dims, and small views below the threshold
        t(&[300, 130]).narrow(1, 7, 120).unwrap(),
        t(&[170, 200]).t().unwrap(),
        t(&[40, 30, 60]).permute((2, 0, 1)).unwrap(),
        t(&[30, 40, 50]).permute((1, 2, 0)).unwrap(),
        t(&[8, 16, 4, 8]).transpose(1, 2).unwrap(),
        t(&[33, 17]).t().unwrap(),
    ];
    for v in &views {
        let c = v.contiguous().unwrap();
        assert!(c.is_contiguous());
        let got: Vec<f32> = c.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(
            got,
            walk(&base, v),
            "view {:?} strides {:?}",
            v.dims(),
            v.layout().stride()
        );
    }
}
