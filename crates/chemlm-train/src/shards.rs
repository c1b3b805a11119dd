//! [`BatchSource`] over `chemlm-data`'s memory-mapped token shards and its length-bucketed,
//! token-budget [`Batcher`].

use crate::data::{Batch, BatchSource};
use crate::error::{Result, TrainError};
use chemlm_data::{BatchConfig, BatchState, Batcher, TokenDataset};
use std::sync::Arc;

/// Batches of one shard split. The `Batcher` cycles forever; `epochs` makes the source finite
/// (validation uses `Some(1)` with `shuffle = false`).
pub struct ShardSource {
    data: Arc<TokenDataset>,
    config: BatchConfig,
    pad_id: u32,
    epochs: Option<u64>,
    batcher: Batcher,
}

fn data_err(e: impl std::fmt::Display) -> TrainError {
    TrainError::Data(e.to_string())
}

impl ShardSource {
    /// A source at the start of epoch 0.
    pub fn new(
        data: Arc<TokenDataset>,
        config: BatchConfig,
        pad_id: u32,
        epochs: Option<u64>,
    ) -> Result<Self> {
        let batcher = Batcher::new(data.clone(), config.clone(), pad_id).map_err(data_err)?;
        Ok(ShardSource {
            data,
            config,
            pad_id,
            epochs,
            batcher,
        })
    }

    /// Number of sequences in the split.
    pub fn sequences(&self) -> usize {
        self.data.len()
    }

    /// Batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.batcher.batches_in_epoch()
    }
}

impl BatchSource for ShardSource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.epochs.is_some_and(|n| self.batcher.state().epoch >= n) {
            return Ok(None);
        }
        let b = self.batcher.next_batch();
        Ok(Some(Batch {
            mask: b.attention_mask.iter().map(|&m| m as u32).collect(),
            ids: b.ids,
            batch_size: b.batch_size,
            seq_len: b.seq_len,
            epoch: b.epoch,
            targets: None,
        }))
    }

    fn state(&self) -> serde_json::Value {
        serde_json::to_value(self.batcher.state()).unwrap_or(serde_json::Value::Null)
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        let st: BatchState = serde_json::from_value(state.clone())
            .map_err(|e| TrainError::Data(format!("bad shard batcher position {state}: {e}")))?;
        self.batcher = Batcher::resume(self.data.clone(), self.config.clone(), self.pad_id, st)
            .map_err(data_err)?;
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(b) = Batcher::new(self.data.clone(), self.config.clone(), self.pad_id) {
            self.batcher = b;
        }
    }
}
