//! Batches for training: length-bucketed (MoLFormer's trick) and token-budget batching over a
//! memory-mapped split, deterministic given a seed and resumable from a saved [`BatchState`].
//!
//! An epoch's plan is a pure function of (data lengths, config, seed, epoch):
//!
//! 1. the sequence indices, shuffled with ChaCha8 seeded by `seed` on stream `epoch` (when
//!    `shuffle`);
//! 2. cut into windows of `window` sequences, each sorted by length (stable), so a batch holds
//!    sequences of similar length and carries little padding;
//! 3. each window cut into batches: `Sequences` takes a fixed count, `Tokens` adds sequences while
//!    `count × padded_length ≤ max_tokens` (padding included);
//! 4. the batches shuffled (when `shuffle`), so lengths do not rise within each window's run.
//!
//! Resuming therefore needs only the epoch and the batch index within it.

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::reader::TokenDataset;
use crate::error::DataError;

/// How many sequences go into a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Batching {
    /// A fixed number of sequences (the last batch of a window may be smaller).
    Sequences { batch_size: usize },
    /// As many sequences as fit in `max_tokens` ids, padding included (rows × padded length),
    /// optionally capped at `max_sequences` rows.
    Tokens {
        max_tokens: usize,
        max_sequences: Option<usize>,
    },
}

/// Batching parameters. Saved with checkpoints: resuming needs the same config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchConfig {
    pub batching: Batching,
    /// Sequences per length-sorting window; 0 or 1 disables bucketing. A few hundred batches'
    /// worth keeps batches random while cutting most padding.
    pub window: usize,
    /// Shuffle sequences and batches each epoch (training); off for evaluation.
    pub shuffle: bool,
    pub seed: u64,
    /// Sequences longer than this are truncated (to their first `max_len` ids).
    pub max_len: Option<usize>,
    /// Padded length is rounded up to a multiple of this (1 = no rounding).
    pub pad_to_multiple_of: usize,
}

impl BatchConfig {
    /// Token-budget batching with bucketing, shuffled, seed 0.
    pub fn tokens(max_tokens: usize) -> Self {
        Self {
            batching: Batching::Tokens {
                max_tokens,
                max_sequences: None,
            },
            window: 50_000,
            shuffle: true,
            seed: 0,
            max_len: None,
            pad_to_multiple_of: 1,
        }
    }

    /// Fixed-size batches with bucketing, shuffled, seed 0.
    pub fn sequences(batch_size: usize) -> Self {
        Self {
            batching: Batching::Sequences { batch_size },
            ..Self::tokens(0)
        }
    }
}

/// Where a batch stream stands: the next batch is batch `batch` of epoch `epoch`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchState {
    pub epoch: u64,
    pub batch: u64,
    /// Sequences in the split when the state was saved; resuming on other data is refused.
    pub sequences: u64,
}

/// A padded batch, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// `batch_size × seq_len` ids, padding filled with the pad id.
    pub ids: Vec<u32>,
    /// `batch_size × seq_len`: 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<u8>,
    /// Real length of each row.
    pub lengths: Vec<u32>,
    /// Index of each row's sequence in the split.
    pub indices: Vec<u64>,
    pub batch_size: usize,
    pub seq_len: usize,
    /// Epoch and position of this batch.
    pub epoch: u64,
    pub batch: u64,
}

impl Batch {
    /// Row `r`'s ids (padded).
    pub fn row(&self, r: usize) -> &[u32] {
        &self.ids[r * self.seq_len..(r + 1) * self.seq_len]
    }

    /// Real (non-padding) tokens.
    pub fn real_tokens(&self) -> usize {
        self.lengths.iter().map(|&l| l as usize).sum()
    }

    /// Ids including padding.
    pub fn padded_tokens(&self) -> usize {
        self.ids.len()
    }
}

/// One epoch: sequence order, and where each batch starts in it.
#[derive(Clone, Debug, Default)]
struct Plan {
    epoch: u64,
    order: Vec<u32>,
    /// `bounds[b]..bounds[b + 1]` is batch b; shuffled batch order is in `batch_order`.
    bounds: Vec<u32>,
    batch_order: Vec<u32>,
}

impl Plan {
    fn len(&self) -> usize {
        self.batch_order.len()
    }

    fn batch(&self, b: usize) -> &[u32] {
        let k = self.batch_order[b] as usize;
        &self.order[self.bounds[k] as usize..self.bounds[k + 1] as usize]
    }
}

/// An endless, deterministic stream of batches over a split.
pub struct Batcher {
    data: Arc<TokenDataset>,
    config: BatchConfig,
    pad_id: u32,
    lengths: Vec<u32>,
    plan: Plan,
    state: BatchState,
}

fn round_up(x: usize, m: usize) -> usize {
    x.div_ceil(m) * m
}

impl Batcher {
    /// A batcher at the start of epoch 0.
    pub fn new(
        data: Arc<TokenDataset>,
        config: BatchConfig,
        pad_id: u32,
    ) -> Result<Self, DataError> {
        let n = data.len() as u64;
        Self::resume(
            data,
            config,
            pad_id,
            BatchState {
                epoch: 0,
                batch: 0,
                sequences: n,
            },
        )
    }

    /// A batcher that continues where `state` (from [`Batcher::state`]) left off: it yields the
    /// same batches the original would have.
    pub fn resume(
        data: Arc<TokenDataset>,
        config: BatchConfig,
        pad_id: u32,
        state: BatchState,
    ) -> Result<Self, DataError> {
        let n = data.len();
        if state.sequences != n as u64 {
            return Err(DataError::Invalid(format!(
                "batch state was saved on {} sequences, this split has {n}",
                state.sequences
            )));
        }
        if n == 0 {
            return Err(DataError::Invalid("cannot batch an empty split".into()));
        }
        if n > u32::MAX as usize {
            return Err(DataError::Invalid(
                "more than 2^32 sequences in one split".into(),
            ));
        }
        if config.pad_to_multiple_of == 0 {
            return Err(DataError::Invalid(
                "pad_to_multiple_of must be at least 1".into(),
            ));
        }
        let cap = config.max_len.unwrap_or(usize::MAX);
        let lengths: Vec<u32> = data
            .lengths()
            .into_iter()
            .map(|l| l.min(cap.min(u32::MAX as usize) as u32))
            .collect();
        let longest = lengths.iter().copied().max().unwrap_or(0) as usize;
        match config.batching {
            Batching::Sequences { batch_size: 0 } => {
                return Err(DataError::Invalid("batch size must be at least 1".into()))
            }
            Batching::Tokens {
                max_tokens,
                max_sequences,
            } => {
                if round_up(longest.max(1), config.pad_to_multiple_of) > max_tokens {
                    return Err(DataError::Invalid(format!(
                        "token budget {max_tokens} is smaller than the longest sequence ({longest} \
                         tokens); raise it or set max_len"
                    )));
                }
                if max_sequences == Some(0) {
                    return Err(DataError::Invalid(
                        "max_sequences must be at least 1".into(),
                    ));
                }
            }
            _ => {}
        }
        let mut me = Self {
            data,
            config,
            pad_id,
            lengths,
            plan: Plan::default(),
            state,
        };
        me.plan = me.make_plan(state.epoch);
        // A state saved just after the last batch of an epoch points past its end.
        while me.state.batch as usize >= me.plan.len() {
            me.state.epoch += 1;
            me.state.batch = 0;
            me.plan = me.make_plan(me.state.epoch);
        }
        Ok(me)
    }

    /// The position to save in a checkpoint.
    pub fn state(&self) -> BatchState {
        self.state
    }

    /// The config.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    /// Number of batches in the current epoch.
    pub fn batches_in_epoch(&self) -> usize {
        self.plan.len()
    }

    fn make_plan(&self, epoch: u64) -> Plan {
        let n = self.lengths.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(epoch);
        if self.config.shuffle {
            order.shuffle(&mut rng);
        }
        // Without bucketing, batches are cut from the whole (shuffled) order, unsorted.
        let (w, sort) = if self.config.window <= 1 {
            (n.max(1), false)
        } else {
            (self.config.window, true)
        };
        let m = self.config.pad_to_multiple_of;
        let mut bounds = vec![0u32];
        for (wi, win) in order.chunks_mut(w).enumerate() {
            if sort {
                win.sort_by_key(|&i| self.lengths[i as usize]);
            }
            let base = wi * w;
            match self.config.batching {
                Batching::Sequences { batch_size } => {
                    let mut s = 0;
                    while s < win.len() {
                        s = (s + batch_size).min(win.len());
                        bounds.push((base + s) as u32);
                    }
                }
                Batching::Tokens {
                    max_tokens,
                    max_sequences,
                } => {
                    let cap = max_sequences.unwrap_or(usize::MAX);
                    let (mut count, mut longest) = (0usize, 0usize);
                    for (k, &i) in win.iter().enumerate() {
                        let l = self.lengths[i as usize] as usize;
                        let new_longest = longest.max(l);
                        if count > 0
                            && (count >= cap
                                || (count + 1) * round_up(new_longest.max(1), m) > max_tokens)
                        {
                            bounds.push((base + k) as u32);
                            count = 0;
                            longest = 0;
                        }
                        count += 1;
                        longest = longest.max(l);
                    }
                    if count > 0 {
                        bounds.push((base + win.len()) as u32);
                    }
                }
            }
        }
        let mut batch_order: Vec<u32> = (0..(bounds.len() - 1) as u32).collect();
        if self.config.shuffle {
            batch_order.shuffle(&mut rng);
        }
        Plan {
            epoch,
            order,
            bounds,
            batch_order,
        }
    }

    /// The batches (as sequence indices) of `epoch`, for inspection and tests.
    pub fn epoch_plan(&self, epoch: u64) -> Vec<Vec<u64>> {
        let p = self.make_plan(epoch);
        (0..p.len())
            .map(|b| p.batch(b).iter().map(|&i| i as u64).collect())
            .collect()
    }

    /// The next batch; after an epoch's last batch the next epoch starts.
    pub fn next_batch(&mut self) -> Batch {
        debug_assert_eq!(self.plan.epoch, self.state.epoch);
        let idx = self.plan.batch(self.state.batch as usize);
        let lens: Vec<u32> = idx.iter().map(|&i| self.lengths[i as usize]).collect();
        let longest = lens.iter().copied().max().unwrap_or(0) as usize;
        let seq_len = round_up(longest.max(1), self.config.pad_to_multiple_of);
        let rows = idx.len();
        let mut ids = vec![self.pad_id; rows * seq_len];
        let mut mask = vec![0u8; rows * seq_len];
        let mut buf = Vec::with_capacity(longest);
        for (r, &i) in idx.iter().enumerate() {
            buf.clear();
            self.data.extend_with(i as usize, &mut buf);
            let l = lens[r] as usize;
            ids[r * seq_len..r * seq_len + l].copy_from_slice(&buf[..l]);
            mask[r * seq_len..r * seq_len + l].fill(1);
        }
        let batch = Batch {
            ids,
            attention_mask: mask,
            lengths: lens,
            indices: idx.iter().map(|&i| i as u64).collect(),
            batch_size: rows,
            seq_len,
            epoch: self.state.epoch,
            batch: self.state.batch,
        };
        self.state.batch += 1;
        if self.state.batch as usize >= self.plan.len() {
            self.state.epoch += 1;
            self.state.batch = 0;
            self.plan = self.make_plan(self.state.epoch);
        }
        batch
    }
}

impl Iterator for Batcher {
    type Item = Batch;
    /// Never `None`: the stream runs over epochs; use `take`.
    fn next(&mut self) -> Option<Batch> {
        Some(self.next_batch())
    }
}
