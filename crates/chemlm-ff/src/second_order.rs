//! Gradients of gradients on candle.
//!
//! Training on forces needs ∂/∂θ of F = −∂E/∂R, i.e. the backward pass that produced F must
//! itself be recorded in the op graph. Upstream candle 0.11 detaches every gradient it computes
//! unless the environment variable `CANDLE_GRAD_DO_NOT_DETACH` is set, read once per thread;
//! the vendored copy adds `candle_core::backprop::with_grad_graph`, which sets it for one
//! closure on the calling thread (vendor/README.md). [`run`] uses it, so users need no
//! variable, and no other work in the process keeps gradient graphs it does not need.

use crate::error::FfResult;

/// Whether a backward pass on the current thread keeps the graph of the gradients it returns.
pub fn available_here() -> bool {
    candle_core::backprop::grad_graph_kept()
}

/// Runs `f` where backward passes keep gradient graphs, on a worker of a pool of its own
/// ([`crate::pool::install`]: 64 MiB stacks for candle's recursive graph walk).
pub fn run<R: Send>(f: impl FnOnce() -> R + Send) -> FfResult<R> {
    crate::pool::install(move || candle_core::backprop::with_grad_graph(true, f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// d/dx of (d/dx x³) = 6x: only right if the first gradient kept its graph.
    #[test]
    fn gradient_of_gradient_is_exact() {
        let out = run(|| -> candle_core::Result<(f64, f64)> {
            let x = Var::new(&[0.7f64], &Device::Cpu)?;
            let y = x.as_tensor().powf(3.0)?.sum_all()?;
            let g = y.backward()?;
            let dy = g.get(x.as_tensor()).expect("gradient").clone();
            let dy_val = dy.to_vec1::<f64>()?[0];
            let g2 = dy.sum_all()?.backward()?;
            let d2y = g2
                .get(x.as_tensor())
                .expect("second gradient")
                .to_vec1::<f64>()?[0];
            Ok((dy_val, d2y))
        })
        .expect("second-order thread")
        .expect("candle ops");
        assert!((out.0 - 3.0 * 0.49).abs() < 1e-12, "{out:?}");
        assert!((out.1 - 6.0 * 0.7).abs() < 1e-12, "{out:?}");
    }

    /// The trainer's final backward runs detached inside a graph-keeping thread: its gradients
    /// carry no graph, the values are the same bit for bit, and the thread keeps graphs
    /// afterwards.
    #[test]
    fn detached_backward_inside_a_graph_keeping_thread() {
        let (kept, detached, restored) = run(|| -> candle_core::Result<_> {
            let x = Var::new(&[0.7f64, -1.3, 0.01], &Device::Cpu)?;
            let grad = |keep: bool| {
                candle_core::backprop::with_grad_graph(keep, || {
                    // Through an intermediate node z with three consumers, whose gradients
                    // are summed (in place when detaching: vendored candle's add_in_place);
                    // a leaf's own rule may multiply by the leaf itself, which tracks an op in
                    // either mode.
                    let z = x.as_tensor().affine(2.0, 0.0)?;
                    let y = ((z.powf(3.0)? + z.exp()?)? + z.sqr()?)?.sum_all()?;
                    let g = y.backward()?;
                    candle_core::Result::Ok(g.get(x.as_tensor()).expect("gradient").clone())
                })
            };
            let detached = grad(false)?;
            let restored = x.as_tensor().sqr()?.sum_all()?.backward()?;
            let restored = restored.get(x.as_tensor()).expect("gradient").track_op();
            Ok((grad(true)?, detached, restored))
        })
        .expect("second-order thread")
        .expect("candle ops");
        assert!(kept.track_op() && !detached.track_op() && restored);
        assert_eq!(
            kept.to_vec1::<f64>().unwrap(),
            detached.to_vec1::<f64>().unwrap()
        );
    }

    /// `run` keeps graphs whatever the calling thread's own setting.
    #[test]
    fn fresh_thread_when_this_one_detaches() {
        // A brand-new thread detaches by default (no CANDLE_GRAD_DO_NOT_DETACH in the tests);
        // `run` must still deliver.
        let ok = std::thread::spawn(|| run(available_here).expect("run"))
            .join()
            .expect("thread");
        assert!(ok);
    }
}
