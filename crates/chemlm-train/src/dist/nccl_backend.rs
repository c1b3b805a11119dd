//! The NCCL backend: gradients summed between GPUs by NCCL (through cudarc) on the device's own
//! stream, so the sums queue behind the backward's kernels without a host round trip; MPI
//! starts the job, carries NCCL's unique id from rank 0 to the others and sums the few host
//! scalars of a step.
//!
//! Unverified until a machine with two GPUs runs `benches/dist/nccl.sh` (see the README): it
//! builds and lints here (`--features cuda,nccl`), where no GPU is.

use super::mpi_backend::MpiCollective;
use super::{Collective, BUCKET_ELEMENTS};
use crate::error::{Result, TrainError};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::nccl::safe::{Comm, Id, ReduceOp};
use candle_core::{CpuStorage, CudaStorage, CustomOp1, DType, Device, Layout, Shape, Tensor};

/// NCCL between the ranks' GPUs (one per rank), MPI beside it.
pub struct NcclCollective {
    comm: Comm,
    mpi: MpiCollective,
}

impl NcclCollective {
    /// Joins the NCCL communicator of all ranks on `device` (this rank's GPU).
    pub fn init(mpi: MpiCollective, device: &Device) -> Result<Self> {
        let Device::Cuda(cuda) = device else {
            return Err(TrainError::Distributed(
                "NCCL sums GPU tensors: train on --device cuda".into(),
            ));
        };
        let err = |what: &str, e: &dyn std::fmt::Debug| {
            TrainError::Distributed(format!("NCCL {what}: {e:?}"))
        };
        let mut id = [0u8; 128];
        if mpi.rank() == 0 {
            let fresh = Id::new().map_err(|e| err("unique id", &e))?;
            for (b, c) in id.iter_mut().zip(fresh.internal()) {
                *b = *c as u8;
            }
        }
        mpi.broadcast_bytes(&mut id);
        let internal = id.map(|b| b as ::core::ffi::c_char);
        let comm = Comm::from_rank(
            cuda.cuda_stream(),
            mpi.rank(),
            mpi.world_size(),
            Id::uninit(internal),
        )
        .map_err(|e| err("communicator", &e))?;
        Ok(NcclCollective { comm, mpi })
    }
}

impl Collective for NcclCollective {
    fn rank(&self) -> usize {
        self.mpi.rank()
    }

    fn world_size(&self) -> usize {
        self.mpi.world_size()
    }

    fn backend(&self) -> &'static str {
        "nccl"
    }

    fn all_reduce_f64(&self, buf: &mut [f64]) -> Result<()> {
        self.mpi.all_reduce_f64(buf)
    }

    fn all_reduce_f32(&self, buf: &mut [f32]) -> Result<()> {
        self.mpi.all_reduce_f32(buf)
    }

    /// Buckets of [`BUCKET_ELEMENTS`]: the group's tensors concatenated on the GPU, summed by
    /// one NCCL all-reduce, and cut back into their shapes.
    fn all_reduce_tensors(&self, grads: &mut [Tensor]) -> Result<()> {
        let mut start = 0;
        while start < grads.len() {
            let mut end = start;
            let mut n = 0;
            while end < grads.len()
                && (end == start || n + grads[end].elem_count() <= BUCKET_ELEMENTS)
            {
                n += grads[end].elem_count();
                end += 1;
            }
            let flat: Vec<Tensor> = grads[start..end]
                .iter()
                .map(|g| g.to_dtype(DType::F32)?.flatten_all())
                .collect::<candle_core::Result<_>>()?;
            let summed = Tensor::cat(&flat, 0)?.apply_op1_no_bwd(&AllReduce(&self.comm))?;
            let mut off = 0;
            for g in grads[start..end].iter_mut() {
                let k = g.elem_count();
                *g = summed
                    .narrow(0, off, k)?
                    .reshape(g.shape())?
                    .to_dtype(g.dtype())?;
                off += k;
            }
            start = end;
        }
        Ok(())
    }

    fn abort(&self, code: i32) {
        self.mpi.abort(code)
    }
}

/// Sum over ranks of a contiguous f32 GPU tensor, as a candle op (NCCL on the tensor's stream).
struct AllReduce<'a>(&'a Comm);

// SAFETY: the communicator is used from the trainer's thread only; candle asks ops to be
// Send + Sync because they may be kept in graphs, which this one never is (no backward).
unsafe impl Send for AllReduce<'_> {}
unsafe impl Sync for AllReduce<'_> {}

impl CustomOp1 for AllReduce<'_> {
    fn name(&self) -> &'static str {
        "nccl-all-reduce"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        candle_core::bail!("NCCL sums GPU tensors only")
    }

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> candle_core::Result<(CudaStorage, Shape)> {
        let n = l.shape().elem_count();
        let src = s.as_cuda_slice::<f32>()?;
        if l.contiguous_offsets() != Some((0, n)) || src.len() != n {
            candle_core::bail!("nccl-all-reduce: the input must be a whole contiguous tensor");
        }
        let dev = s.device().clone();
        // SAFETY: every element is written by the all-reduce before anything reads it.
        let mut dst = unsafe { dev.alloc::<f32>(n) }?;
        self.0
            .all_reduce(src, &mut dst, &ReduceOp::Sum)
            .map_err(|e| candle_core::Error::Msg(format!("NCCL all-reduce: {e:?}")))?;
        Ok((CudaStorage::wrap_cuda_slice(dst, dev), l.shape().clone()))
    }
}
