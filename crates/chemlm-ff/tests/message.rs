//! The fused message-passing kernels of `chemlm_ff::message` against the composed candle ops
//! (`index_select`, `mul`, `index_add`) they replace: values in both directions and dtypes on
//! a graph with isolated atoms and repeated edges, independence from the thread count, first
//! derivatives against central differences, and second derivatives of a force-style loss
//! against the composed graph.

use candle_core::{DType, Device, Tensor, Var};
use chemlm_ff::message::{conv, edge_product, EdgeGraph, End};
use chemlm_ff::second_order;
use chemlm_models::gradcheck::check_gradients;
use std::sync::Arc;

mod common;
use common::{max_abs_diff, random};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n_atoms` atoms, `n_edges` random edges (repeats and self-pairs allowed), atoms 0 and
/// `n_atoms - 1` without any edge, edges not sorted by either end.
fn graph(n_atoms: usize, n_edges: usize, seed: u64) -> Arc<EdgeGraph> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pick = || rng.gen_range(1..n_atoms - 1) as u32;
    let (i, j): (Vec<u32>, Vec<u32>) = (0..n_edges).map(|_| (pick(), pick())).unzip();
    Arc::new(EdgeGraph::new(n_atoms, i, j, &Device::Cpu).unwrap())
}

fn index(g: &EdgeGraph, end: End) -> &Tensor {
    match end {
        End::Centre => g.idx_i(),
        End::Neighbour => g.idx_j(),
    }
}

fn other(end: End) -> End {
    match end {
        End::Centre => End::Neighbour,
        End::Neighbour => End::Centre,
    }
}

fn composed_conv(x: &Tensor, w: &Tensor, g: &EdgeGraph, dst: End) -> Tensor {
    let m = (x.index_select(index(g, other(dst)), 0).unwrap() * w).unwrap();
    Tensor::zeros((g.n_atoms(), m.dim(1).unwrap()), m.dtype(), m.device())
        .unwrap()
        .index_add(index(g, dst), &m, 0)
        .unwrap()
}

fn composed_edge_product(a: &Tensor, b: &Tensor, g: &EdgeGraph, a_end: End) -> Tensor {
    (a.index_select(index(g, a_end), 0).unwrap()
        * b.index_select(index(g, other(a_end)), 0).unwrap())
    .unwrap()
}

#[test]
fn values_equal_the_composed_ops() {
    // 203 atoms (several parallel tasks, the last one short), 1,500 edges, width 19.
    let g = graph(203, 1500, 1);
    let x = random(&[203, 19], 2.0, 2);
    let y = random(&[203, 19], 2.0, 3);
    let w = random(&[1500, 19], 1.0, 4);
    for dtype in [DType::F64, DType::F32] {
        let c = |t: &Tensor| t.to_dtype(dtype).unwrap();
        let (x, y, w) = (c(&x), c(&y), c(&w));
        for end in [End::Centre, End::Neighbour] {
            let got = conv(&x, &w, &g, end).unwrap();
            // The same products summed in the same (edge) order: equal, not just close.
            assert_eq!(
                max_abs_diff(&got, &composed_conv(&x, &w, &g, end)),
                0.0,
                "conv to {end:?} {dtype:?}"
            );
            let got = edge_product(&x, &y, &g, end).unwrap();
            assert_eq!(
                max_abs_diff(&got, &composed_edge_product(&x, &y, &g, end)),
                0.0,
                "edge product from {end:?} {dtype:?}"
            );
        }
        // Atoms without edges get zero rows.
        let out = conv(&x, &w, &g, End::Centre).unwrap();
        let first = out.get(0).unwrap().abs().unwrap().sum_all().unwrap();
        assert_eq!(
            first
                .to_dtype(DType::F64)
                .unwrap()
                .to_scalar::<f64>()
                .unwrap(),
            0.0
        );
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let g = graph(150, 900, 5);
    let x = random(&[150, 33], 1.0, 6).to_dtype(DType::F32).unwrap();
    let w = random(&[900, 33], 1.0, 7).to_dtype(DType::F32).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            conv(&x, &w, &g, End::Centre)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn shape_mismatches_are_errors() {
    let g = graph(10, 30, 8);
    let x = random(&[10, 4], 1.0, 9);
    assert!(conv(&x, &random(&[29, 4], 1.0, 10), &g, End::Centre).is_err());
    assert!(conv(&x, &random(&[30, 5], 1.0, 10), &g, End::Centre).is_err());
    assert!(edge_product(&x, &random(&[9, 4], 1.0, 11), &g, End::Centre).is_err());
    assert!(EdgeGraph::new(3, vec![0, 3], vec![1, 2], &Device::Cpu).is_err());
    assert!(EdgeGraph::new(3, vec![0], vec![1, 2], &Device::Cpu).is_err());
}

#[test]
fn first_derivatives_equal_finite_differences() {
    let g = graph(12, 40, 12);
    let x = random(&[12, 5], 1.0, 13);
    let y = random(&[12, 5], 1.0, 14);
    let w = random(&[40, 5], 1.0, 15);
    for end in [End::Centre, End::Neighbour] {
        let gc = g.clone();
        let r = check_gradients(
            &[x.clone(), w.clone()],
            move |t| conv(&t[0], &t[1], &gc, end)?.sqr()?.sum_all(),
            1e-6,
            64,
        )
        .unwrap();
        assert!(r.max_rel_error < 1e-6, "conv {end:?}: {r:?}");
        let gc = g.clone();
        let r = check_gradients(
            &[x.clone(), y.clone()],
            move |t| edge_product(&t[0], &t[1], &gc, end)?.sqr()?.sum_all(),
            1e-6,
            64,
        )
        .unwrap();
        assert!(r.max_rel_error < 1e-6, "edge product {end:?}: {r:?}");
    }
}

/// SchNet's interaction in miniature: filters from "distances" that depend on positions, a
/// convolution of atom features, an energy; forces (the gradient in positions), then the
/// gradient of a loss on forces and energy in every input. Fused and composed must agree.
#[test]
fn second_derivatives_equal_the_composed_graph() {
    let g = graph(14, 60, 16);
    let pos0 = random(&[14, 3], 2.0, 17);
    let h0 = random(&[14, 6], 1.0, 18);
    let a0 = random(&[6], 1.0, 19);
    let target = random(&[14, 3], 1.0, 20);
    let run = |fused: bool| {
        let (g, pos0, h0, a0, target) = (
            g.clone(),
            pos0.clone(),
            h0.clone(),
            a0.clone(),
            target.clone(),
        );
        second_order::run(move || {
            let pos = Var::from_tensor(&pos0).unwrap();
            let h = Var::from_tensor(&h0).unwrap();
            let a = Var::from_tensor(&a0).unwrap();
            let r = (pos.as_tensor().index_select(g.idx_j(), 0)?
                - pos.as_tensor().index_select(g.idx_i(), 0)?)?;
            let d2 = r.sqr()?.sum_keepdim(1)?;
            // Filters [n_edges, 6]: exp(−d²·a_k).
            let w = d2
                .broadcast_mul(&a.as_tensor().unsqueeze(0)?)?
                .neg()?
                .exp()?;
            // Features that also depend on positions, so both conv inputs carry gradients.
            let x =
                (h.as_tensor() * pos.as_tensor().sum_keepdim(1)?.broadcast_as((14, 6))?)?.tanh()?;
            let out = if fused {
                conv(&x, &w, &g, End::Centre)?
            } else {
                composed_conv(&x, &w, &g, End::Centre)
            };
            let e = out.tanh()?.sum_all()?;
            let forces = e.backward()?.get(pos.as_tensor()).unwrap().clone();
            let loss = ((&forces - &target)?.sqr()?.sum_all()? + (e * 0.1)?)?;
            let g2 = loss.backward()?;
            let grads: Vec<Tensor> = [&pos, &h, &a]
                .iter()
                .map(|v| g2.get(v.as_tensor()).expect("second gradient").clone())
                .collect();
            candle_core::Result::Ok((forces, grads))
        })
        .expect("second-order thread")
        .expect("ops")
    };
    let (f_ref, g_ref) = run(false);
    let (f, grads) = run(true);
    assert!(max_abs_diff(&f, &f_ref) < 1e-12, "forces");
    for (name, (a, b)) in ["positions", "features", "filter widths"]
        .iter()
        .zip(grads.iter().zip(&g_ref))
    {
        assert!(
            max_abs_diff(a, b) < 1e-10,
            "second-order gradient in {name}"
        );
    }
}
