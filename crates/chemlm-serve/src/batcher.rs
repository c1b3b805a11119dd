//! Dynamic batching: concurrent requests to one model become one forward pass.
//!
//! Each batched model has a worker thread and a bounded queue. The worker takes the oldest
//! request, then keeps taking requests until the pass holds `max_molecules` molecules or
//! `max_wait` has passed since the first, runs the pass, and hands each request its own rows.
//! [`Batcher::submit`] never waits for room: a full queue is [`SubmitError::Busy`] (the server's
//! 429), so memory stays bounded under any load.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics::Metrics;

/// Rows of one request, or why the whole pass failed.
pub type Reply<T> = Result<Vec<Result<T, String>>, String>;

/// The work of one merged pass: one result per molecule, in order.
pub type Work<T> = Box<dyn Fn(&[&str]) -> Reply<T> + Send + Sync>;

struct Job<T> {
    smiles: Vec<String>,
    reply: tokio::sync::oneshot::Sender<Reply<T>>,
}

/// How requests are merged.
#[derive(Clone, Copy, Debug)]
pub struct BatchPolicy {
    /// Molecules per merged pass (a single larger request still runs, alone).
    pub max_molecules: usize,
    /// How long the first request of a pass waits for company.
    pub max_wait: Duration,
    /// Requests that may wait; one more is refused.
    pub queue: usize,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        Self {
            max_molecules: 256,
            max_wait: Duration::from_millis(5),
            queue: 256,
        }
    }
}

/// Why a request was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: try again later (429).
    Busy,
    /// The worker is gone (shutting down).
    Closed,
}

/// The queue of one model.
pub struct Batcher<T> {
    tx: SyncSender<Job<T>>,
    depth: Arc<AtomicUsize>,
}

impl<T: Send + 'static> Batcher<T> {
    /// Starts the worker thread of `model` running `work`.
    pub fn spawn(
        model: &str,
        policy: BatchPolicy,
        metrics: Arc<Metrics>,
        work: Work<T>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel::<Job<T>>(policy.queue.max(1));
        let depth = Arc::new(AtomicUsize::new(0));
        metrics.register_queue(model, depth.clone());
        let name = model.to_string();
        let d = depth.clone();
        std::thread::Builder::new()
            .name(format!("batch-{name}"))
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut n = first.smiles.len();
                    let mut jobs = vec![first];
                    let deadline = Instant::now() + policy.max_wait;
                    while n < policy.max_molecules {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        match rx.recv_timeout(deadline - now) {
                            Ok(j) => {
                                n += j.smiles.len();
                                jobs.push(j);
                            }
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => break,
                        }
                    }
                    d.fetch_sub(jobs.len(), Ordering::Relaxed);
                    // A client that went away no longer needs its rows.
                    jobs.retain(|j| !j.reply.is_closed());
                    if jobs.is_empty() {
                        continue;
                    }
                    let all: Vec<&str> = jobs
                        .iter()
                        .flat_map(|j| j.smiles.iter().map(String::as_str))
                        .collect();
                    metrics.batch(&name, all.len());
                    // Run the pass on one of rayon's workers: from this plain thread every
                    // parallel op of the forward pass would be handed to the pool and waited
                    // for (two thread wake-ups per op; see chemlm_models::threads).
                    match rayon::scope(|_| work(&all)) {
                        Ok(rows) => {
                            let mut rows = rows.into_iter();
                            for j in jobs {
                                let mine: Vec<_> = rows.by_ref().take(j.smiles.len()).collect();
                                let _ = j.reply.send(Ok(mine));
                            }
                        }
                        Err(e) => {
                            for j in jobs {
                                let _ = j.reply.send(Err(e.clone()));
                            }
                        }
                    }
                }
            })?;
        Ok(Self { tx, depth })
    }

    /// Queues `smiles`; the receiver yields its rows once the pass that carries them has run.
    pub fn submit(
        &self,
        smiles: Vec<String>,
    ) -> Result<tokio::sync::oneshot::Receiver<Reply<T>>, SubmitError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.depth.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Job { smiles, reply }) {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    TrySendError::Full(_) => SubmitError::Busy,
                    TrySendError::Disconnected(_) => SubmitError::Closed,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker that takes 300 ms per pass and echoes the molecules' lengths.
    fn slow(policy: BatchPolicy) -> Batcher<usize> {
        Batcher::spawn(
            "slow",
            policy,
            Arc::new(Metrics::default()),
            Box::new(|smiles| {
                std::thread::sleep(Duration::from_millis(300));
                Ok(smiles.iter().map(|s| Ok(s.len())).collect())
            }),
        )
        .unwrap()
    }

    #[test]
    fn a_full_queue_refuses_at_once_and_rows_go_back_to_their_request() {
        let b = slow(BatchPolicy {
            max_molecules: 1,
            max_wait: Duration::from_millis(0),
            queue: 1,
        });
        let first = b.submit(vec!["C".into(), "CC".into()]).unwrap();
        std::thread::sleep(Duration::from_millis(100)); // the worker is inside its pass
        let second = b.submit(vec!["CCC".into()]).unwrap(); // waits in the queue
        assert_eq!(b.submit(vec!["N".into()]).unwrap_err(), SubmitError::Busy);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let rows = rt.block_on(first).unwrap().unwrap();
        assert_eq!(rows, vec![Ok(1), Ok(2)]);
        assert_eq!(rt.block_on(second).unwrap().unwrap(), vec![Ok(3)]);
        // Room again.
        assert!(b.submit(vec!["O".into()]).is_ok());
    }

    #[test]
    fn concurrent_requests_share_a_pass_in_order() {
        let metrics = Arc::new(Metrics::default());
        let b: Batcher<usize> = Batcher::spawn(
            "m",
            BatchPolicy {
                max_molecules: 100,
                max_wait: Duration::from_millis(200),
                queue: 16,
            },
            metrics.clone(),
            Box::new(|smiles| Ok(smiles.iter().map(|s| Ok(s.len())).collect())),
        )
        .unwrap();
        let rxs: Vec<_> = (1..=5)
            .map(|n| b.submit(vec!["C".repeat(n); n]).unwrap())
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for (n, rx) in (1..=5).zip(rxs) {
            assert_eq!(rt.block_on(rx).unwrap().unwrap(), vec![Ok(n); n]);
        }
        let text = metrics.render();
        assert!(
            text.contains("chemlm_batch_molecules_count{model=\"m\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("chemlm_batch_molecules_sum{model=\"m\"} 15"),
            "{text}"
        );
    }
}
