//! The MPI backend: the system's Open MPI or MPICH through the `mpi` crate.

use super::Collective;
use crate::error::{Result, TrainError};
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::CommunicatorCollectives;
use std::cell::RefCell;

/// `MPI_COMM_WORLD` of a process started by `mpirun`/`srun`. Dropping it finalises MPI, which
/// every rank must do before it exits (Open MPI's `mpirun` reports a rank that exits without it
/// as failed).
pub struct MpiCollective {
    world: SimpleCommunicator,
    /// Receive buffers of the sums, kept across steps.
    scratch: RefCell<(Vec<f32>, Vec<f64>)>,
    // Declared last: dropped (MPI_Finalize) after the communicator.
    _universe: Universe,
}

impl MpiCollective {
    /// Initialises MPI. Only the calling thread talks to MPI (the trainer's), so the `Funneled`
    /// threading level is enough; rayon's workers never call it.
    pub fn init() -> Result<Self> {
        let (universe, _level) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or_else(|| {
                TrainError::Distributed("MPI was already initialised in this process".into())
            })?;
        Ok(MpiCollective {
            world: universe.world(),
            scratch: RefCell::new((Vec::new(), Vec::new())),
            _universe: universe,
        })
    }
}

impl MpiCollective {
    /// Rank 0's `buf` to every rank.
    #[cfg_attr(not(feature = "nccl"), allow(dead_code))]
    pub fn broadcast_bytes(&self, buf: &mut [u8]) {
        use mpi::traits::Root;
        self.world.process_at_rank(0).broadcast_into(buf);
    }
}

impl Collective for MpiCollective {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn world_size(&self) -> usize {
        self.world.size() as usize
    }

    fn backend(&self) -> &'static str {
        "mpi"
    }

    fn all_reduce_f64(&self, buf: &mut [f64]) -> Result<()> {
        let mut s = self.scratch.borrow_mut();
        s.1.clear();
        s.1.resize(buf.len(), 0.0);
        self.world
            .all_reduce_into(&*buf, &mut s.1[..], SystemOperation::sum());
        buf.copy_from_slice(&s.1);
        Ok(())
    }

    fn all_reduce_f32(&self, buf: &mut [f32]) -> Result<()> {
        let mut s = self.scratch.borrow_mut();
        s.0.clear();
        s.0.resize(buf.len(), 0.0);
        self.world
            .all_reduce_into(&*buf, &mut s.0[..], SystemOperation::sum());
        buf.copy_from_slice(&s.0);
        Ok(())
    }

    fn abort(&self, code: i32) {
        self.world.abort(code)
    }
}
