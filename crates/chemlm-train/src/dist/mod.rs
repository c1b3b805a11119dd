//! Data-parallel training across processes: one gradient all-reduce abstraction
//! ([`Collective`]) under the trainer, with the engines clusters already run as backends.
//!
//! The launcher starts the processes (`mpirun -np 4 chemlm pretrain …`, `srun`); [`from_env`]
//! reads rank and world size from the environment it leaves, so no flag is needed and a plain
//! `chemlm pretrain` is world size 1 with no MPI initialised at all.
//!
//! How the work is split (see [`rank_rows`]): every rank builds the same global batch stream from
//! the run's `[batch]` settings (the batch is the *global* batch) and draws the same random
//! choices (MLM masking) for the whole batch, then computes the loss of its own rows only. The
//! summed losses, prediction counts and gradients are added up over ranks and divided by the
//! global count, which is exactly what one process computes on the whole batch (up to the order of
//! floating-point sums). Because the global stream does not depend on the world size, a run
//! resumes from its checkpoint on any number of ranks and continues the same data and the same
//! optimizer trajectory.

#[cfg(feature = "mpi")]
mod mpi_backend;
#[cfg(feature = "nccl")]
mod nccl_backend;

use crate::error::{Result, TrainError};
use candle_core::{DType, Tensor};

/// Gradients are summed in flat f32 buckets of this many elements (16 MiB): few calls per step
/// whatever the number of tensors, and a bounded extra buffer whatever the model size.
pub const BUCKET_ELEMENTS: usize = 1 << 22;

/// Sums across the processes of one data-parallel run.
pub trait Collective {
    /// This process's rank, `0..world_size()`.
    fn rank(&self) -> usize;
    /// Number of processes.
    fn world_size(&self) -> usize;
    /// The engine (`"single"`, `"mpi"`).
    fn backend(&self) -> &'static str;
    /// Element-wise sum over ranks, in place; every rank gets the result.
    fn all_reduce_f64(&self, buf: &mut [f64]) -> Result<()>;
    /// Element-wise sum over ranks of a flat f32 buffer, in place.
    fn all_reduce_f32(&self, buf: &mut [f32]) -> Result<()>;
    /// Sums `grads` over ranks: every rank passes tensors of the same shapes in the same order
    /// and gets the sums back in their place. The default packs them into host buckets of
    /// [`BUCKET_ELEMENTS`] and calls [`all_reduce_f32`](Collective::all_reduce_f32) per bucket.
    fn all_reduce_tensors(&self, grads: &mut [Tensor]) -> Result<()> {
        if self.world_size() == 1 {
            return Ok(());
        }
        reduce_on_host(grads, BUCKET_ELEMENTS, |b| self.all_reduce_f32(b))
    }
    /// Ends every process of the job after an error on this one: the others would otherwise
    /// wait in their next all-reduce forever. Returns only for world size 1.
    fn abort(&self, _code: i32) {}
}

/// World size 1: every sum is the identity.
#[derive(Debug, Default, Clone, Copy)]
pub struct Single;

impl Collective for Single {
    fn rank(&self) -> usize {
        0
    }
    fn world_size(&self) -> usize {
        1
    }
    fn backend(&self) -> &'static str {
        "single"
    }
    fn all_reduce_f64(&self, _buf: &mut [f64]) -> Result<()> {
        Ok(())
    }
    fn all_reduce_f32(&self, _buf: &mut [f32]) -> Result<()> {
        Ok(())
    }
}

/// What the launcher's environment says about this process: `(rank, world size, launcher)`,
/// or `None` when no launcher started it (or it started one process).
///
/// Open MPI's `mpirun` sets `OMPI_COMM_WORLD_*`, MPICH's Hydra and Slurm's PMI set `PMI_*`, and
/// `srun` sets `SLURM_STEP_NUM_TASKS`/`SLURM_PROCID` for every task of a job step (a Slurm job
/// array alone does not: each array task is a world of its own).
pub fn launcher_env() -> Option<(usize, usize, &'static str)> {
    let num = |k: &str| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
    };
    let found = [
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI"),
        ("PMI_RANK", "PMI_SIZE", "PMI (MPICH / Slurm)"),
        ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "srun"),
    ]
    .into_iter()
    .find_map(|(r, s, name)| Some((num(r)?, num(s)?, name)))?;
    (found.1 > 1).then_some(found)
}

/// The collective of this process: [`Single`] unless a launcher started several processes, then
/// MPI (built with the `mpi` feature; without it, an error that says how to build it rather than
/// N independent runs writing the same directory).
pub fn from_env() -> Result<Box<dyn Collective>> {
    match launcher_env() {
        None => Ok(Box::new(Single)),
        #[cfg(feature = "mpi")]
        Some((rank, world, launcher)) => {
            let c = mpi_backend::MpiCollective::init()?;
            if c.rank() != rank || c.world_size() != world {
                return Err(TrainError::Distributed(format!(
                    "{launcher} says rank {rank} of {world}, MPI says rank {} of {}",
                    c.rank(),
                    c.world_size()
                )));
            }
            Ok(Box::new(c))
        }
        #[cfg(not(feature = "mpi"))]
        Some((rank, world, launcher)) => Err(TrainError::Distributed(format!(
            "started by {launcher} as rank {rank} of {world}, but this chemlm was built without \
             MPI: rebuild it with `cargo build --release -p chemlm --features mpi` (needs \
             libopenmpi-dev or MPICH, and libclang-dev), or run one process"
        ))),
    }
}

/// This process's index among the ranks on its machine, from the launcher's environment
/// (Open MPI, MPICH, Slurm): which GPU a rank takes.
pub fn local_rank() -> Option<usize> {
    [
        "OMPI_COMM_WORLD_LOCAL_RANK",
        "MPI_LOCALRANKID",
        "SLURM_LOCALID",
    ]
    .iter()
    .find_map(|k| std::env::var(k).ok()?.trim().parse().ok())
}

/// The device a rank trains on: with several ranks, a GPU request means this rank's own GPU
/// (`cuda:LOCAL_RANK`); anything else is kept.
pub fn rank_device(device: candle_core::Device) -> Result<candle_core::Device> {
    match (&device, launcher_env(), local_rank()) {
        (candle_core::Device::Cuda(_), Some(_), Some(local)) => {
            Ok(candle_core::Device::new_cuda(local)?)
        }
        _ => Ok(device),
    }
}

/// [`from_env`] for training on `device`: with the `nccl` feature and a GPU, gradients are summed
/// by NCCL between the GPUs; otherwise by MPI through host memory (which works for GPU tensors
/// too, at the cost of the copies).
pub fn from_env_on(device: &candle_core::Device) -> Result<Box<dyn Collective>> {
    #[cfg(feature = "nccl")]
    if device.is_cuda() && launcher_env().is_some() {
        let mpi = mpi_backend::MpiCollective::init()?;
        return Ok(Box::new(nccl_backend::NcclCollective::init(mpi, device)?));
    }
    let _ = device;
    from_env()
}

/// The rows of a global batch of `batch_size` rows that `rank` of `world` computes: every
/// `world`-th row starting at `rank`. Rows are interleaved rather than cut into blocks because
/// batches are sorted by length within a bucketing window: blocks would give the last rank the
/// longest sequences.
pub fn rank_rows(batch_size: usize, rank: usize, world: usize) -> Vec<usize> {
    (rank..batch_size).step_by(world.max(1)).collect()
}

/// Sums `tensors` over ranks through host buffers: the tensors are packed in order into flat
/// f32 buckets of `bucket` elements (a tensor larger than a bucket is cut across buckets),
/// `reduce` sums each bucket in place, and the sums replace the tensors (same shapes, dtypes and
/// devices).
pub fn reduce_on_host(
    tensors: &mut [Tensor],
    bucket: usize,
    mut reduce: impl FnMut(&mut [f32]) -> Result<()>,
) -> Result<()> {
    let bucket = bucket.max(1);
    let mut host: Vec<Vec<f32>> = tensors
        .iter()
        .map(|t| t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>())
        .collect::<candle_core::Result<_>>()?;
    // The pieces (tensor, start, len) of each bucket, in order.
    let mut plan: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new()];
    let mut fill = 0usize;
    for (i, v) in host.iter().enumerate() {
        let mut start = 0;
        while start < v.len() {
            if fill == bucket {
                plan.push(Vec::new());
                fill = 0;
            }
            let len = (v.len() - start).min(bucket - fill);
            plan.last_mut()
                .expect("non-empty plan")
                .push((i, start, len));
            fill += len;
            start += len;
        }
    }
    let mut buf: Vec<f32> = Vec::with_capacity(bucket.min(host.iter().map(Vec::len).sum()));
    for pieces in plan.iter().filter(|p| !p.is_empty()) {
        buf.clear();
        for &(i, s, l) in pieces {
            buf.extend_from_slice(&host[i][s..s + l]);
        }
        reduce(&mut buf)?;
        let mut off = 0;
        for &(i, s, l) in pieces {
            host[i][s..s + l].copy_from_slice(&buf[off..off + l]);
            off += l;
        }
    }
    for (t, v) in tensors.iter_mut().zip(host) {
        *t = Tensor::from_vec(v, t.shape(), t.device())?.to_dtype(t.dtype())?;
    }
    Ok(())
}

/// Fails unless every rank passes the same `value` (a step, a parameter count): ranks that
/// resumed from different checkpoints, or built different models, must not train together.
pub fn check_same(c: &dyn Collective, what: &str, value: f64) -> Result<()> {
    if c.world_size() == 1 {
        return Ok(());
    }
    let n = c.world_size() as f64;
    let mut v = [value, value * value];
    c.all_reduce_f64(&mut v)?;
    let (mean, mean_sq) = (v[0] / n, v[1] / n);
    if (mean - value).abs() > 1e-9 * value.abs().max(1.0)
        || (mean_sq - mean * mean).abs() > 1e-9 * mean_sq.abs().max(1.0)
    {
        return Err(TrainError::Distributed(format!(
            "ranks disagree on the {what}: this rank (rank {}) has {value}, the mean over {} ranks \
             is {mean} (is the run directory on a file system every rank sees?)",
            c.rank(),
            c.world_size()
        )));
    }
    Ok(())
}

/// Σ|w| over `params`, in f64: a cheap fingerprint that ranks starting from the same weights
/// share (see [`check_same`]).
pub fn abs_sum(params: &crate::optim::ParamSet) -> Result<f64> {
    let mut total = 0f64;
    for p in params.iter() {
        total += p
            .var
            .as_tensor()
            .abs()?
            .to_dtype(DType::F64)?
            .sum_all()?
            .to_scalar::<f64>()?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn host_buckets_cover_every_element_once_in_order() {
        let dev = Device::Cpu;
        for bucket in [1usize, 3, 7, 64, 1000] {
            let mut ts = vec![
                Tensor::arange(0f32, 10.0, &dev)
                    .unwrap()
                    .reshape((2, 5))
                    .unwrap(),
                Tensor::arange(10f32, 11.0, &dev).unwrap(),
                Tensor::arange(11f32, 40.0, &dev).unwrap(),
            ];
            let mut seen = Vec::new();
            reduce_on_host(&mut ts, bucket, |b| {
                assert!(b.len() <= bucket);
                seen.extend_from_slice(b);
                b.iter_mut().for_each(|x| *x *= 2.0);
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, (0..40).map(|x| x as f32).collect::<Vec<_>>());
            assert_eq!(ts[0].dims(), &[2, 5]);
            let back: Vec<f32> = ts
                .iter()
                .flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
                .collect();
            assert_eq!(back, (0..40).map(|x| 2.0 * x as f32).collect::<Vec<_>>());
        }
    }

    #[test]
    fn ranks_split_rows_disjointly_and_completely() {
        for n in 0..20 {
            for world in 1..6 {
                let mut all: Vec<usize> = (0..world).flat_map(|r| rank_rows(n, r, world)).collect();
                all.sort_unstable();
                assert_eq!(all, (0..n).collect::<Vec<_>>(), "n {n} world {world}");
            }
        }
    }

    #[test]
    fn single_process_needs_no_launcher() {
        // The test harness is not started by mpirun or srun.
        if launcher_env().is_none() {
            let c = from_env().unwrap();
            assert_eq!((c.rank(), c.world_size(), c.backend()), (0, 1, "single"));
            check_same(c.as_ref(), "step", 3.0).unwrap();
        }
    }
}
