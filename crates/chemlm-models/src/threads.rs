//! The process's compute threads: rayon's global pool with the calling thread as a worker.
//!
//! candle's CPU GEMM and chemlm's fused kernels split their work with rayon. When the thread
//! that runs a training loop is *not* one of rayon's workers, every parallel op is handed over
//! to the pool through its injector and the caller sleeps on a condition variable until a
//! worker finishes it: two thread wake-ups per op, thousands of ops per step. Profiles of a
//! molformer-small step showed a fifth of the cores idle in those hand-overs. Making the main
//! thread worker 0 of the global pool (PyTorch's OpenMP does the same with its master thread)
//! turns each op into a local `join`: the caller takes one half of the work itself.
//!
//! The main thread joins the pool only when there are at least two threads: a pool whose only
//! worker is the main thread could not run jobs that other threads (batch prefetchers, the
//! force-field training thread) hand to rayon while the main thread waits for them.
//! `CHEMLM_CALLER_IN_POOL=0` keeps the caller outside the pool (for comparisons and diagnosis).
//!
//! candle runs element-wise ops on a second pool of its own whose workers spin 25,000 rounds
//! before sleeping; on two cores that spinning took a core from the GEMM running next (18 % of
//! all CPU samples). Unless `CANDLE_BARRIER_POOL_SPIN_LIMIT` is set, it is lowered to 2,000
//! rounds (8 % faster training steps, molformer-small and bert-small, quiet machine).

use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// candle's setting for how long its element-wise workers spin before sleeping.
const SPIN_VAR: &str = "CANDLE_BARRIER_POOL_SPIN_LIMIT";
const SPIN_LIMIT: &str = "2000";

/// How the global pool was set up by [`init_global_pool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSetup {
    /// Worker threads in the pool, the calling thread included when `caller_is_worker`.
    pub threads: usize,
    /// Whether the calling thread is one of the pool's workers.
    pub caller_is_worker: bool,
}

/// Threads chemlm computes with: `RAYON_NUM_THREADS` when set, otherwise the physical cores
/// this process may run on (candle's rule, so GEMM and the rest agree).
pub fn configured_threads() -> usize {
    candle_core::utils::get_num_threads().max(1)
}

/// Builds rayon's global pool with [`configured_threads`] workers, the calling thread being one
/// of them when there are two or more (see the module docs). Call it once, early, from the
/// thread that will run the work (a binary's `main`). Returns `None` when the global pool
/// already existed (a library user built it, or rayon was used first): it is then left alone.
pub fn init_global_pool() -> Option<PoolSetup> {
    init_global_pool_with(true)
}

/// [`init_global_pool`], with the calling thread kept out of the pool when `caller_may_join` is
/// false: for a caller that will block elsewhere (a server's event loop) instead of running the
/// work, all `n` workers must be real threads, or half the pool would never take a job.
pub fn init_global_pool_with(caller_may_join: bool) -> Option<PoolSetup> {
    if std::env::var_os(SPIN_VAR).is_none() {
        // Read by candle when its pool starts (first element-wise op), after this point. No
        // other thread exists yet in a binary that calls this first, as documented.
        std::env::set_var(SPIN_VAR, SPIN_LIMIT);
    }
    let n = configured_threads();
    let opted_out = std::env::var("CHEMLM_CALLER_IN_POOL").is_ok_and(|v| v.trim() == "0");
    let caller_is_worker = n >= 2 && !opted_out && caller_may_join;
    let mut builder = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("chemlm-worker-{i}"));
    if caller_is_worker {
        builder = builder.use_current_thread();
    }
    builder.build_global().ok()?;
    THREADS.store(n, Ordering::Relaxed);
    Some(PoolSetup {
        threads: n,
        caller_is_worker,
    })
}

/// Number of threads of the global pool as set up by [`init_global_pool`], or rayon's own
/// count when it was not called.
pub fn pool_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => rayon::current_num_threads(),
        n => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_threads_is_positive() {
        assert!(configured_threads() >= 1);
    }
}
