//! BERT-style token corruption for masked-LM.
//!
//! Each real, non-special token is chosen with probability `mask_prob` (15 %). A chosen token is
//! replaced by `<mask>` with probability `mask_token_frac` (80 %), by a uniformly drawn
//! non-special token with probability `random_token_frac` (10 %), and kept otherwise (10 %). The
//! loss is taken on chosen positions only. Random replacements never produce special tokens (HF's
//! collator may; a random `<pad>` or `<bos>` inside a molecule only teaches noise).

use crate::error::{Result, TrainError};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Probabilities of the corruption.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskingConfig {
    /// Fraction of eligible tokens chosen for prediction.
    pub mask_prob: f64,
    /// Of the chosen, fraction replaced by `<mask>`.
    pub mask_token_frac: f64,
    /// Of the chosen, fraction replaced by a random token.
    pub random_token_frac: f64,
}

impl Default for MaskingConfig {
    fn default() -> Self {
        MaskingConfig {
            mask_prob: 0.15,
            mask_token_frac: 0.8,
            random_token_frac: 0.1,
        }
    }
}

/// The vocabulary facts masking needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecialTokens {
    /// Vocabulary size (ids are `0..vocab_size`).
    pub vocab_size: u32,
    /// The `<mask>` id.
    pub mask_id: u32,
    /// The padding id.
    pub pad_id: u32,
    /// Every special id (pad, mask, bos, eos, unk, cls, sep...): never chosen, never drawn.
    pub special_ids: Vec<u32>,
}

/// A corrupted batch.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedBatch {
    /// Input ids after corruption, same layout as the batch.
    pub input_ids: Vec<u32>,
    /// Flat positions (`row * seq_len + col`) chosen for prediction, ascending.
    pub positions: Vec<u32>,
    /// Original tokens at those positions.
    pub targets: Vec<u32>,
    /// How many chosen positions became `<mask>`.
    pub n_mask_token: usize,
    /// How many became a random token.
    pub n_random: usize,
    /// How many were left unchanged.
    pub n_kept: usize,
}

/// Applies [`MaskingConfig`] to batches.
#[derive(Debug, Clone)]
pub struct Masker {
    cfg: MaskingConfig,
    mask_id: u32,
    is_special: Vec<bool>,
    candidates: Vec<u32>,
}

impl Masker {
    /// Checks the configuration and precomputes the set of random replacement tokens.
    pub fn new(cfg: MaskingConfig, specials: &SpecialTokens) -> Result<Masker> {
        let p_ok = |p: f64| (0.0..=1.0).contains(&p);
        if !p_ok(cfg.mask_prob)
            || !p_ok(cfg.mask_token_frac)
            || !p_ok(cfg.random_token_frac)
            || cfg.mask_token_frac + cfg.random_token_frac > 1.0 + 1e-12
        {
            return Err(TrainError::Config(format!(
                "masking probabilities must lie in [0, 1] with mask + random <= 1: {cfg:?}"
            )));
        }
        let v = specials.vocab_size as usize;
        if specials.mask_id as usize >= v || specials.pad_id as usize >= v {
            return Err(TrainError::Config(format!(
                "mask id {} / pad id {} outside vocabulary of {v}",
                specials.mask_id, specials.pad_id
            )));
        }
        let mut is_special = vec![false; v];
        for &s in specials
            .special_ids
            .iter()
            .chain([specials.mask_id, specials.pad_id].iter())
        {
            if let Some(slot) = is_special.get_mut(s as usize) {
                *slot = true;
            }
        }
        let candidates: Vec<u32> = (0..specials.vocab_size)
            .filter(|&t| !is_special[t as usize])
            .collect();
        if candidates.is_empty() {
            return Err(TrainError::Config(
                "vocabulary has no non-special tokens to mask".into(),
            ));
        }
        Ok(Masker {
            cfg,
            mask_id: specials.mask_id,
            is_special,
            candidates,
        })
    }

    /// True for ids that masking never touches (also ids outside the vocabulary).
    pub fn is_special(&self, id: u32) -> bool {
        self.is_special.get(id as usize).copied().unwrap_or(true)
    }

    /// Corrupts `ids` (with attention mask `mask`, same layout) drawing from `rng`. Consumes a
    /// fixed pattern of draws per eligible token, so the result is a pure function of the RNG
    /// position and the batch.
    pub fn apply(&self, ids: &[u32], mask: &[u32], rng: &mut ChaCha8Rng) -> MaskedBatch {
        let mut out = MaskedBatch {
            input_ids: ids.to_vec(),
            positions: Vec::new(),
            targets: Vec::new(),
            n_mask_token: 0,
            n_random: 0,
            n_kept: 0,
        };
        let random_cut = self.cfg.mask_token_frac + self.cfg.random_token_frac;
        for (i, (&id, &m)) in ids.iter().zip(mask).enumerate() {
            if m == 0 || self.is_special(id) {
                continue;
            }
            if rng.gen::<f64>() >= self.cfg.mask_prob {
                continue;
            }
            out.positions.push(i as u32);
            out.targets.push(id);
            let r: f64 = rng.gen();
            if r < self.cfg.mask_token_frac {
                out.input_ids[i] = self.mask_id;
                out.n_mask_token += 1;
            } else if r < random_cut {
                out.input_ids[i] = self.candidates[rng.gen_range(0..self.candidates.len())];
                out.n_random += 1;
            } else {
                out.n_kept += 1;
            }
        }
        out
    }
}
