//! [`PairSource`]: token-budget, length-bucketed batches of (source, target) pairs held in memory.
//!
//! The plan of an epoch is a pure function of (seed, epoch), as for [`InMemorySource`]
//! (crate::InMemorySource), so a saved position `(epoch, batch)` resumes exactly. Pairs are
//! shuffled, sorted by combined length within windows, and cut into batches whose padded size
//! `n * (longest source + longest target)` stays within the token budget.

use crate::data::{plan_batches, Batch, BatchSource, BatchingConfig};
use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    epoch: u64,
    batch: usize,
}

/// Batches of (source, target) token sequences. Row `r` of a batch's `ids` is a source and row
/// `r` of its `targets` the matching target (both right-padded with `pad_id`).
pub struct PairSource {
    sources: Vec<Vec<u32>>,
    targets: Vec<Vec<u32>>,
    pad_id: u32,
    cfg: BatchingConfig,
    pos: Position,
    plan: Vec<Vec<usize>>,
    plan_epoch: Option<u64>,
}

impl PairSource {
    /// Batches over `pairs` (tokenized, with any end-of-sequence token already appended). Pairs
    /// with an empty source or target are dropped (they cannot be trained on).
    pub fn new(pairs: Vec<(Vec<u32>, Vec<u32>)>, pad_id: u32, cfg: BatchingConfig) -> Result<Self> {
        if cfg.max_tokens == 0 || cfg.max_sequences == 0 {
            return Err(TrainError::Config(
                "batching needs max_tokens > 0 and max_sequences > 0".into(),
            ));
        }
        let (sources, targets): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .filter(|(s, t)| !s.is_empty() && !t.is_empty())
            .unzip();
        if let Some(longest) = sources
            .iter()
            .zip(&targets)
            .map(|(s, t)| s.len() + t.len())
            .max()
        {
            if longest > cfg.max_tokens {
                return Err(TrainError::Config(format!(
                    "a pair of {longest} source + target tokens exceeds the batch token budget {}",
                    cfg.max_tokens
                )));
            }
        }
        Ok(PairSource {
            sources,
            targets,
            pad_id,
            cfg,
            pos: Position { epoch: 0, batch: 0 },
            plan: Vec::new(),
            plan_epoch: None,
        })
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Number of batches in one epoch (the same for every epoch up to the shuffle).
    pub fn batches_per_epoch(&self) -> usize {
        self.plan_for(self.pos.epoch).len()
    }

    fn plan_for(&self, epoch: u64) -> Vec<Vec<usize>> {
        let lens: Vec<(usize, usize)> = self
            .sources
            .iter()
            .zip(&self.targets)
            .map(|(s, t)| (s.len(), t.len()))
            .collect();
        plan_batches(&lens, &self.cfg, self.cfg.seed ^ 0x5eed_2529, epoch)
    }

    /// The batch made of pairs `idx`.
    fn batch_of(&self, idx: &[usize], epoch: u64) -> Batch {
        let src: Vec<&[u32]> = idx.iter().map(|&i| self.sources[i].as_slice()).collect();
        let tgt: Vec<&[u32]> = idx.iter().map(|&i| self.targets[i].as_slice()).collect();
        let mut b = Batch::from_sequences(&src, self.pad_id, epoch);
        b.targets = Some(Box::new(Batch::from_sequences(&tgt, self.pad_id, epoch)));
        b
    }
}

impl BatchSource for PairSource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.sources.is_empty() {
            return Ok(None);
        }
        loop {
            if self.cfg.epochs.is_some_and(|n| self.pos.epoch >= n) {
                return Ok(None);
            }
            if self.plan_epoch != Some(self.pos.epoch) {
                self.plan = self.plan_for(self.pos.epoch);
                self.plan_epoch = Some(self.pos.epoch);
            }
            if let Some(idx) = self.plan.get(self.pos.batch) {
                let b = self.batch_of(idx, self.pos.epoch);
                self.pos.batch += 1;
                return Ok(Some(b));
            }
            self.pos = Position {
                epoch: self.pos.epoch + 1,
                batch: 0,
            };
        }
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "epoch": self.pos.epoch, "batch": self.pos.batch })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        self.pos = serde_json::from_value(state.clone())
            .map_err(|e| TrainError::Data(format!("bad pair source position {state}: {e}")))?;
        Ok(())
    }

    fn reset(&mut self) {
        self.pos = Position { epoch: 0, batch: 0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> Vec<(Vec<u32>, Vec<u32>)> {
        (0..40u32)
            .map(|i| {
                let s: Vec<u32> = (0..(2 + i % 7)).map(|t| 10 + t + i).collect();
                let t: Vec<u32> = (0..(1 + i % 5)).map(|t| 100 + t + i).collect();
                (s, t)
            })
            .collect()
    }

    #[test]
    fn every_pair_once_per_epoch_with_rows_paired() {
        let cfg = BatchingConfig {
            max_tokens: 60,
            max_sequences: 8,
            bucket_window: 16,
            shuffle: true,
            epochs: Some(1),
            seed: 3,
        };
        let want = pairs();
        let mut src = PairSource::new(want.clone(), 0, cfg).unwrap();
        let mut seen = Vec::new();
        while let Some(b) = src.next_batch().unwrap() {
            let t = b.targets.as_ref().expect("targets");
            assert_eq!(t.batch_size, b.batch_size);
            assert!(b.batch_size * (b.seq_len + t.seq_len) <= 60);
            for r in 0..b.batch_size {
                let s: Vec<u32> = (0..b.seq_len)
                    .filter(|&c| b.mask[r * b.seq_len + c] == 1)
                    .map(|c| b.ids[r * b.seq_len + c])
                    .collect();
                let g: Vec<u32> = (0..t.seq_len)
                    .filter(|&c| t.mask[r * t.seq_len + c] == 1)
                    .map(|c| t.ids[r * t.seq_len + c])
                    .collect();
                seen.push((s, g));
            }
        }
        seen.sort();
        let mut want = want;
        want.sort();
        assert_eq!(seen, want);
    }

    #[test]
    fn restore_continues_identically_and_epoch_size_is_stable() {
        let cfg = BatchingConfig {
            max_tokens: 50,
            ..Default::default()
        };
        let mut a = PairSource::new(pairs(), 0, cfg.clone()).unwrap();
        let n = a.batches_per_epoch();
        assert!(n > 1);
        for _ in 0..7 {
            a.next_batch().unwrap();
        }
        assert_eq!(a.batches_per_epoch(), n);
        let st = a.state();
        let mut b = PairSource::new(pairs(), 0, cfg).unwrap();
        b.restore(&st).unwrap();
        for _ in 0..15 {
            assert_eq!(a.next_batch().unwrap(), b.next_batch().unwrap());
        }
    }
}
