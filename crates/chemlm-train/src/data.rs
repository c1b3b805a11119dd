//! What the trainer eats: padded token batches, and the [`BatchSource`] trait any data feeder
//! implements (the memory-mapped shard batcher of `chemlm-data`, or [`InMemorySource`] here).
//!
//! Batches stay on the host as plain `u32` arrays because objectives (MLM masking) edit tokens
//! before the tensors are built.

use crate::error::{Result, TrainError};
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// One padded batch, row-major `[batch_size, seq_len]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Token ids, padded with the pad id.
    pub ids: Vec<u32>,
    /// 1 for real tokens, 0 for padding.
    pub mask: Vec<u32>,
    /// Number of sequences.
    pub batch_size: usize,
    /// Padded length.
    pub seq_len: usize,
    /// Which pass over the data this batch comes from (0-based), for epoch-level statistics (TSE).
    pub epoch: u64,
    /// Sequence-to-sequence batches: the target sequences, row `r` paired with row `r` of `ids`
    /// (which then holds the sources). `None` for language-model batches.
    pub targets: Option<Box<Batch>>,
}

impl Batch {
    /// Pads `seqs` to the longest one with `pad_id`.
    pub fn from_sequences(seqs: &[&[u32]], pad_id: u32, epoch: u64) -> Batch {
        let seq_len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(seqs.len() * seq_len);
        let mut mask = Vec::with_capacity(seqs.len() * seq_len);
        for s in seqs {
            ids.extend_from_slice(s);
            mask.extend(std::iter::repeat_n(1u32, s.len()));
            ids.extend(std::iter::repeat_n(pad_id, seq_len - s.len()));
            mask.extend(std::iter::repeat_n(0u32, seq_len - s.len()));
        }
        Batch {
            ids,
            mask,
            batch_size: seqs.len(),
            seq_len,
            epoch,
            targets: None,
        }
    }

    /// Number of real (non-pad) tokens, targets included.
    pub fn real_tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m != 0).count()
            + self.targets.as_ref().map_or(0, |t| t.real_tokens())
    }

    /// Rows `rows` of this batch (in that order) as a batch of their own, cut to its longest
    /// real sequence, with `ids` (this batch's layout; e.g. masked ids) in place of `self.ids`.
    /// Data-parallel ranks compute their share of a global batch on it; padding beyond a row's
    /// real tokens never changes that row's outputs, so cutting it changes nothing but the work.
    pub fn select_rows(&self, ids: &[u32], rows: &[usize]) -> Batch {
        let t = self.seq_len;
        let len = rows
            .iter()
            .map(|&r| {
                self.mask[r * t..(r + 1) * t]
                    .iter()
                    .rposition(|&m| m != 0)
                    .map_or(0, |p| p + 1)
            })
            .max()
            .unwrap_or(0);
        let mut out_ids = Vec::with_capacity(rows.len() * len);
        let mut out_mask = Vec::with_capacity(rows.len() * len);
        for &r in rows {
            out_ids.extend_from_slice(&ids[r * t..r * t + len]);
            out_mask.extend_from_slice(&self.mask[r * t..r * t + len]);
        }
        Batch {
            ids: out_ids,
            mask: out_mask,
            batch_size: rows.len(),
            seq_len: len,
            epoch: self.epoch,
            targets: None,
        }
    }

    /// `(input_ids, attention_mask)` as `[batch, seq]` u32 tensors.
    pub fn tensors(&self, ids: &[u32], device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
        let shape = (self.batch_size, self.seq_len);
        let ids = Tensor::from_slice(ids, shape, device)?;
        let mask = Tensor::from_slice(&self.mask, shape, device)?;
        Ok((ids, mask))
    }
}

/// A stream of batches whose position can be saved and restored exactly.
///
/// Training sources usually cycle forever (new shuffle each epoch); validation sources are finite
/// and are [`reset`](BatchSource::reset) before each evaluation.
pub trait BatchSource {
    /// The next batch, or `None` when a finite source is exhausted.
    fn next_batch(&mut self) -> Result<Option<Batch>>;
    /// The current position, enough for [`restore`](BatchSource::restore) to continue identically.
    fn state(&self) -> serde_json::Value;
    /// Moves to a position returned by [`state`](BatchSource::state).
    fn restore(&mut self, state: &serde_json::Value) -> Result<()>;
    /// Goes back to the first batch of the first epoch.
    fn reset(&mut self);
}

/// The batches of one epoch over items of lengths `(a, b)` (a sequence: `(len, 0)`; a
/// source/target pair: `(source, target)`): the order is shuffled (seeded by `seed` and `epoch`)
/// when `cfg.shuffle`, sorted by `a + b` within windows of `cfg.bucket_window` items (MoLFormer's
/// bucketing), cut into batches whose padded size `n * (max a + max b)` stays within
/// `cfg.max_tokens` and `n <= cfg.max_sequences`, and the batches of a window are shuffled.
/// A pure function of its arguments, so a position `(epoch, batch)` resumes exactly.
pub(crate) fn plan_batches(
    lens: &[(usize, usize)],
    cfg: &BatchingConfig,
    seed: u64,
    epoch: u64,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    let mut rng = crate::rng::derived_rng(seed, epoch);
    if cfg.shuffle {
        order.shuffle(&mut rng);
    }
    let window = cfg.bucket_window.max(1);
    // Without bucketing (window 1) batches still fill up to the budget over the whole order.
    let chunk_len = if window > 1 {
        window
    } else {
        order.len().max(1)
    };
    let mut batches = Vec::new();
    for chunk in order.chunks(chunk_len) {
        let mut chunk = chunk.to_vec();
        if window > 1 {
            // Stable sort keeps the shuffled order among equal lengths.
            chunk.sort_by_key(|&i| lens[i].0 + lens[i].1);
        }
        let mut local: Vec<Vec<usize>> = Vec::new();
        let mut cur: Vec<usize> = Vec::new();
        let (mut max_a, mut max_b) = (0usize, 0usize);
        for i in chunk {
            let (a, b) = lens[i];
            let new_cost = max_a.max(a) + max_b.max(b);
            if !cur.is_empty()
                && (new_cost * (cur.len() + 1) > cfg.max_tokens
                    || cur.len() + 1 > cfg.max_sequences)
            {
                local.push(std::mem::take(&mut cur));
                (max_a, max_b) = (0, 0);
            }
            max_a = max_a.max(a);
            max_b = max_b.max(b);
            cur.push(i);
        }
        if !cur.is_empty() {
            local.push(cur);
        }
        if cfg.shuffle && window > 1 {
            local.shuffle(&mut rng);
        }
        batches.extend(local);
    }
    batches
}

/// How [`InMemorySource`] forms batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchingConfig {
    /// Upper bound on padded tokens per batch (`batch_size * seq_len`).
    pub max_tokens: usize,
    /// Upper bound on sequences per batch.
    pub max_sequences: usize,
    /// Sequences sorted by length together (MoLFormer's bucketing); batches from a window are
    /// shuffled afterwards. 1 disables bucketing.
    pub bucket_window: usize,
    /// Shuffle order each epoch (training) or keep file order (validation).
    pub shuffle: bool,
    /// Stop after this many epochs (`None` = cycle forever).
    pub epochs: Option<u64>,
    /// Seed of the shuffling.
    pub seed: u64,
}

impl Default for BatchingConfig {
    fn default() -> Self {
        BatchingConfig {
            max_tokens: 4096,
            max_sequences: 256,
            bucket_window: 4096,
            shuffle: true,
            epochs: None,
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    epoch: u64,
    batch: usize,
}

/// Token-budget, length-bucketed batches over sequences held in memory. The plan of an epoch is a
/// pure function of (seed, epoch), so the saved position is just `(epoch, batch index)`.
pub struct InMemorySource {
    seqs: Vec<Vec<u32>>,
    pad_id: u32,
    cfg: BatchingConfig,
    pos: Position,
    plan: Vec<Vec<usize>>,
    plan_epoch: Option<u64>,
}

impl InMemorySource {
    /// Batches over `seqs` (already tokenized, including any BOS/EOS), padding with `pad_id`.
    pub fn new(seqs: Vec<Vec<u32>>, pad_id: u32, cfg: BatchingConfig) -> Result<Self> {
        if cfg.max_tokens == 0 || cfg.max_sequences == 0 {
            return Err(TrainError::Config(
                "batching needs max_tokens > 0 and max_sequences > 0".into(),
            ));
        }
        if let Some(longest) = seqs.iter().map(|s| s.len()).max() {
            if longest > cfg.max_tokens {
                return Err(TrainError::Config(format!(
                    "a sequence of {longest} tokens exceeds the batch token budget {}",
                    cfg.max_tokens
                )));
            }
        }
        let seqs: Vec<Vec<u32>> = seqs.into_iter().filter(|s| !s.is_empty()).collect();
        Ok(InMemorySource {
            seqs,
            pad_id,
            cfg,
            pos: Position { epoch: 0, batch: 0 },
            plan: Vec::new(),
            plan_epoch: None,
        })
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    /// True when there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    fn plan_epoch(&self, epoch: u64) -> Vec<Vec<usize>> {
        let lens: Vec<(usize, usize)> = self.seqs.iter().map(|s| (s.len(), 0)).collect();
        plan_batches(&lens, &self.cfg, self.cfg.seed ^ 0x5eed_da7a, epoch)
    }

    fn ensure_plan(&mut self) {
        if self.plan_epoch != Some(self.pos.epoch) {
            self.plan = self.plan_epoch(self.pos.epoch);
            self.plan_epoch = Some(self.pos.epoch);
        }
    }
}

impl InMemorySource {
    /// The indices (into the sequences given to [`new`](InMemorySource::new)) of the next batch,
    /// with its epoch and batch number within the epoch; advances the position. Lets wrappers
    /// (e.g. SMILES augmentation) reuse the batching plan with their own sequences.
    pub fn next_indices(&mut self) -> Option<(u64, usize, Vec<usize>)> {
        if self.seqs.is_empty() {
            return None;
        }
        loop {
            if let Some(limit) = self.cfg.epochs {
                if self.pos.epoch >= limit {
                    return None;
                }
            }
            self.ensure_plan();
            if self.pos.batch < self.plan.len() {
                let out = (
                    self.pos.epoch,
                    self.pos.batch,
                    self.plan[self.pos.batch].clone(),
                );
                self.pos.batch += 1;
                return Some(out);
            }
            self.pos = Position {
                epoch: self.pos.epoch + 1,
                batch: 0,
            };
        }
    }
}

impl BatchSource for InMemorySource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        Ok(self.next_indices().map(|(epoch, _, idx)| {
            let seqs: Vec<&[u32]> = idx.iter().map(|&i| self.seqs[i].as_slice()).collect();
            Batch::from_sequences(&seqs, self.pad_id, epoch)
        }))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "epoch": self.pos.epoch, "batch": self.pos.batch })
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        let pos: Position = serde_json::from_value(state.clone())
            .map_err(|e| TrainError::Data(format!("bad in-memory source position {state}: {e}")))?;
        self.pos = pos;
        Ok(())
    }

    fn reset(&mut self) {
        self.pos = Position { epoch: 0, batch: 0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs() -> Vec<Vec<u32>> {
        (0..50u32)
            .map(|i| (0..(3 + i % 11)).map(|t| t + i).collect())
            .collect()
    }

    #[test]
    fn batches_respect_budget_and_cover_each_sequence_once_per_epoch() {
        let cfg = BatchingConfig {
            max_tokens: 40,
            max_sequences: 8,
            bucket_window: 16,
            shuffle: true,
            epochs: Some(1),
            seed: 7,
        };
        let mut src = InMemorySource::new(seqs(), 0, cfg).unwrap();
        let mut seen = 0;
        while let Some(b) = src.next_batch().unwrap() {
            assert!(b.batch_size * b.seq_len <= 40);
            assert!(b.batch_size <= 8);
            seen += b.batch_size;
            assert_eq!(b.ids.len(), b.batch_size * b.seq_len);
        }
        assert_eq!(seen, 50);
    }

    #[test]
    fn without_bucketing_batches_still_fill_the_budget() {
        let cfg = BatchingConfig {
            max_tokens: 1000,
            max_sequences: 8,
            bucket_window: 1,
            shuffle: false,
            epochs: Some(1),
            seed: 0,
        };
        let mut src = InMemorySource::new(seqs(), 0, cfg).unwrap();
        let mut sizes = Vec::new();
        let mut first = Vec::new();
        while let Some(b) = src.next_batch().unwrap() {
            if first.is_empty() {
                first = b.ids[..b.seq_len].to_vec();
            }
            sizes.push(b.batch_size);
        }
        // 50 sequences in file order, 8 per batch (the cap), the last one holding the rest.
        assert_eq!(sizes, vec![8, 8, 8, 8, 8, 8, 2]);
        assert_eq!(first[0], seqs()[0][0]);
    }

    #[test]
    fn restore_continues_identically() {
        let cfg = BatchingConfig {
            max_tokens: 30,
            ..Default::default()
        };
        let mut a = InMemorySource::new(seqs(), 0, cfg.clone()).unwrap();
        for _ in 0..13 {
            a.next_batch().unwrap();
        }
        let st = a.state();
        let mut b = InMemorySource::new(seqs(), 0, cfg).unwrap();
        b.restore(&st).unwrap();
        for _ in 0..20 {
            assert_eq!(a.next_batch().unwrap(), b.next_batch().unwrap());
        }
    }
}
