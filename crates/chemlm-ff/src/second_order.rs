//! Gradients of gradients on candle.
//!
//! Training on forces needs ∂/∂θ of F = −∂E/∂R, i.e. the backward pass that produced F must
//! itself be recorded in the op graph. candle 0.11's `backward()` detaches every gradient it
//! computes unless the environment variable `CANDLE_GRAD_DO_NOT_DETACH` is set, and it reads
//! that variable once per thread (a `thread_local!` initialised on a thread's first backward).
//! Users must not have to know this, so chemlm sets the variable itself ([`enable`]) and, when
//! the current thread already decided to detach, runs the work on a fresh thread that reads
//! the new value ([`run`]). [`available_here`] probes the actual behaviour instead of trusting
//! the variable, so a future candle that changes the mechanism fails loudly in the tests.
//!
//! Cost: gradients of ordinary training steps in the same process also keep their graph until
//! they are dropped (after the optimizer step), which only costs memory for that short while.

use crate::error::{FfError, FfResult};
use candle_core::{Device, Tensor, Var};
use std::cell::Cell;
use std::sync::Once;

const VAR: &str = "CANDLE_GRAD_DO_NOT_DETACH";
static ENABLE: Once = Once::new();

thread_local! {
    /// `None` until probed on this thread.
    static PROBED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Sets `CANDLE_GRAD_DO_NOT_DETACH=1` for this process (once). Threads that have not run a
/// backward pass yet will record gradient graphs from now on.
pub fn enable() {
    ENABLE.call_once(|| {
        if std::env::var_os(VAR).is_none_or(|v| v.is_empty() || v == "0") {
            // Called before any of our worker threads start training; candle reads the
            // variable lazily per thread, which is exactly why this works.
            std::env::set_var(VAR, "1");
        }
    });
}

/// Whether a backward pass on the current thread keeps the graph of the gradients it returns.
/// Probed once per thread with d/dx (x²) on a one-element variable.
pub fn available_here() -> bool {
    PROBED.with(|p| {
        if let Some(v) = p.get() {
            return v;
        }
        let v = probe().unwrap_or(false);
        p.set(Some(v));
        v
    })
}

fn probe() -> candle_core::Result<bool> {
    let x = Var::new(&[1.5f64], &Device::Cpu)?;
    let y = x.as_tensor().sqr()?.sum_all()?;
    let g = y.backward()?;
    Ok(g.get(x.as_tensor()).is_some_and(Tensor::track_op))
}

/// Runs `f` where backward passes keep gradient graphs: on a worker of a pool of its own
/// ([`crate::pool::install`]: fresh threads, which read the variable [`enable`] has set, and
/// 64 MiB stacks for candle's recursive graph walk).
pub fn run<R: Send>(f: impl FnOnce() -> R + Send) -> FfResult<R> {
    enable();
    crate::pool::install(move || {
        if !available_here() {
            return Err(FfError::Invalid(format!(
                "candle does not keep gradient graphs even with {VAR}=1; \
                 force training needs gradients of gradients"
            )));
        }
        Ok(f())
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The fallback thread is taken when this thread already decided to detach.
    #[test]
    fn fresh_thread_when_this_one_detaches() {
        // A brand-new thread whose first backward happens before `enable` may or may not see
        // the variable (another test may have set it); either way `run` must deliver.
        let ok = std::thread::spawn(|| run(available_here).expect("run"))
            .join()
            .expect("thread");
        assert!(ok);
    }
}
