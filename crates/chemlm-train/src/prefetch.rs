//! [`Prefetch`]: a [`BatchSource`] whose batches are prepared ahead on a background thread.
//!
//! Building a batch (reading shards, bucketing, padding) is host work; on a GPU the device would
//! otherwise idle while it happens between steps. The wrapper runs the inner source on its own
//! thread, `depth` batches ahead, and hands them over in order, so a run sees exactly the batches
//! it would without it. Checkpoints stay exact: [`BatchSource::state`] is the inner source's state
//! *after the last batch handed out*, not after the ones waiting in the queue, and `restore` /
//! `reset` stop the thread, reposition the inner source and start again.
//!
//! (Page-locked host buffers would also make the host-to-device copies asynchronous; candle 0.11
//! uploads from ordinary memory and offers no pinned allocation, so they are not used.)

use crate::data::{Batch, BatchSource};
use crate::error::{Result, TrainError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

type Item = (Result<Option<Batch>>, serde_json::Value);

/// A source prepared `depth` batches ahead on a background thread (see the module docs).
pub struct Prefetch<S: BatchSource + Send + 'static> {
    inner: Arc<Mutex<S>>,
    depth: usize,
    rx: Option<Receiver<Item>>,
    worker: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// The inner state after the last batch handed out.
    state: serde_json::Value,
}

fn poisoned() -> TrainError {
    TrainError::Data("prefetch: the batch thread panicked".into())
}

impl<S: BatchSource + Send + 'static> Prefetch<S> {
    /// Wraps `inner`, keeping up to `depth` (at least 1) batches ready.
    pub fn new(inner: S, depth: usize) -> Self {
        let state = inner.state();
        Prefetch {
            inner: Arc::new(Mutex::new(inner)),
            depth: depth.max(1),
            rx: None,
            worker: None,
            stop: Arc::new(AtomicBool::new(false)),
            state,
        }
    }

    fn start(&mut self) {
        let (tx, rx) = sync_channel::<Item>(self.depth);
        let inner = Arc::clone(&self.inner);
        let stop = Arc::clone(&self.stop);
        self.worker = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let item = match inner.lock() {
                    Ok(mut src) => {
                        let b = src.next_batch();
                        (b, src.state())
                    }
                    Err(_) => (Err(poisoned()), serde_json::Value::Null),
                };
                let last = !matches!(item.0, Ok(Some(_)));
                if tx.send(item).is_err() || last {
                    break;
                }
            }
        }));
        self.rx = Some(rx);
    }

    /// Stops the thread; batches it prepared but nobody took are dropped (the inner source is
    /// repositioned by the caller).
    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver makes a blocked `send` fail, so the thread ends.
        self.rx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
        self.stop.store(false, Ordering::Relaxed);
    }

    fn with_inner<T>(&mut self, f: impl FnOnce(&mut S) -> T) -> Result<T> {
        self.halt();
        let mut g = self.inner.lock().map_err(|_| poisoned())?;
        let out = f(&mut g);
        self.state = g.state();
        Ok(out)
    }
}

impl<S: BatchSource + Send + 'static> BatchSource for Prefetch<S> {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.rx.is_none() {
            self.start();
        }
        let got = self.rx.as_ref().map(|rx| rx.recv());
        match got {
            Some(Ok((batch, state))) => {
                if !matches!(batch, Ok(Some(_))) {
                    // The thread ended after this item; the next call starts a new one, which
                    // asks the inner source again (a finite source stays exhausted).
                    self.halt();
                }
                if batch.is_ok() {
                    self.state = state;
                }
                batch
            }
            _ => {
                self.halt();
                Err(poisoned())
            }
        }
    }

    fn state(&self) -> serde_json::Value {
        self.state.clone()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        self.with_inner(|s| s.restore(state))?
    }

    fn reset(&mut self) {
        // A poisoned inner source surfaces at the next `next_batch`.
        let _ = self.with_inner(|s| s.reset());
    }
}

impl<S: BatchSource + Send + 'static> Drop for Prefetch<S> {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{BatchingConfig, InMemorySource};

    fn source() -> InMemorySource {
        let seqs: Vec<Vec<u32>> = (0..40u32).map(|i| (0..(3 + i % 7)).collect()).collect();
        InMemorySource::new(
            seqs,
            0,
            BatchingConfig {
                max_tokens: 32,
                epochs: Some(2),
                seed: 5,
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn drain(s: &mut dyn BatchSource) -> Vec<(Batch, serde_json::Value)> {
        let mut out = Vec::new();
        while let Some(b) = s.next_batch().unwrap() {
            out.push((b, s.state()));
        }
        out
    }

    #[test]
    fn same_batches_and_states_as_the_inner_source() {
        let want = drain(&mut source());
        assert!(want.len() > 4);
        let mut p = Prefetch::new(source(), 3);
        let got = drain(&mut p);
        assert_eq!(got, want);
        // Exhausted stays exhausted.
        assert!(p.next_batch().unwrap().is_none());
        p.reset();
        assert_eq!(drain(&mut p), want);
    }

    #[test]
    fn restores_mid_run_while_batches_wait_in_the_queue() {
        let want = drain(&mut source());
        let mut p = Prefetch::new(source(), 4);
        for _ in 0..3 {
            p.next_batch().unwrap();
        }
        // The thread is ahead of us; the state is where we are.
        let mid = p.state();
        assert_eq!(mid, want[2].1);
        let rest: Vec<Batch> = drain(&mut p).into_iter().map(|x| x.0).collect();
        let mut q = Prefetch::new(source(), 2);
        q.restore(&mid).unwrap();
        let resumed: Vec<Batch> = drain(&mut q).into_iter().map(|x| x.0).collect();
        assert_eq!(resumed, rest);
        assert_eq!(rest.len(), want.len() - 3);
    }
}
