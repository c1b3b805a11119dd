//! Running a job on a rayon worker.
//!
//! The kernels split their work with rayon, and rayon hands work from a thread outside its
//! pool to a worker and back: two context switches per op, and a force-field step runs
//! hundreds of small ops (a 21-atom MD step: hundreds of microseconds of switching per step).
//! From a worker of the pool, the caller runs its share of each op itself and the others
//! steal the rest. Training and MD therefore run inside [`install`].

use crate::error::{FfError, FfResult};

/// Runs `f` on a worker of a fresh rayon pool with as many threads as the current one and
/// 64 MiB stacks (candle's backward walks the graph recursively; force training's graphs of
/// gradients are deep).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> FfResult<R> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .stack_size(64 << 20)
        .thread_name(|i| format!("chemlm-ff-{i}"))
        .build()
        .map_err(|e| FfError::Invalid(format!("cannot start worker threads: {e}")))?;
    Ok(pool.install(f))
}
