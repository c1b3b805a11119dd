//! SMILES enumeration (randomized SMILES) as data augmentation.
//!
//! A molecule has many valid SMILES; showing the model a different random atom ordering each
//! epoch (Bjerrum 2017; MoLFormer and MolBERT evaluate it) regularises pretraining. Shards hold
//! token ids of one fixed SMILES, so augmentation works on SMILES text before tokenization:
//! [`AugmentedSmilesSource`] keeps the SMILES strings and a tokenizer function and re-writes each
//! molecule with probability `prob` when it is batched.

use crate::data::{Batch, BatchSource, BatchingConfig, InMemorySource};
use crate::error::{Result, TrainError};
use chemlm_chem::Molecule;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Replaces a SMILES by a random equivalent one with probability `prob`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomSmiles {
    /// Probability of rewriting a molecule (0 disables augmentation).
    pub prob: f64,
}

impl RandomSmiles {
    /// A random SMILES of the same molecule, or the input unchanged when not drawn or when the
    /// input does not parse (the un-augmented tokens are still valid training data).
    pub fn augment(&self, smiles: &str, rng: &mut ChaCha8Rng) -> String {
        if self.prob <= 0.0 || rng.gen::<f64>() >= self.prob {
            return smiles.to_string();
        }
        let seed: u32 = rng.gen();
        match Molecule::from_smiles(smiles).and_then(|m| m.random_smiles(1, seed)) {
            Ok(mut v) if !v.is_empty() => v.swap_remove(0),
            _ => smiles.to_string(),
        }
    }
}

/// A tokenizer as the augmentation needs it: SMILES → ids (with any BOS/EOS added).
pub type TokenizeFn = dyn Fn(&str) -> std::result::Result<Vec<u32>, String>;

/// Batches of SMILES, augmented then tokenized on the fly. The batching plan is computed from the
/// lengths of the original SMILES (a random SMILES of the same molecule differs by a few ring-bond
/// digits or parentheses), so a batch may exceed the token budget by that margin. The random
/// choices of a batch derive from (seed, epoch, batch number): the saved position is the plan's.
pub struct AugmentedSmilesSource {
    smiles: Vec<String>,
    tokenize: Box<TokenizeFn>,
    augment: RandomSmiles,
    plan: InMemorySource,
    pad_id: u32,
    seed: u64,
}

impl AugmentedSmilesSource {
    /// Tokenizes every SMILES once to plan batches; fails naming the first line that does not
    /// tokenize.
    pub fn new(
        smiles: Vec<String>,
        tokenize: Box<TokenizeFn>,
        augment: RandomSmiles,
        pad_id: u32,
        cfg: BatchingConfig,
    ) -> Result<Self> {
        let mut lengths = Vec::with_capacity(smiles.len());
        for (i, s) in smiles.iter().enumerate() {
            let ids = tokenize(s)
                .map_err(|e| TrainError::Data(format!("SMILES #{} {s:?}: {e}", i + 1)))?;
            // Placeholder tokens: only the length matters to the planner.
            lengths.push(vec![0u32; ids.len()]);
        }
        let seed = cfg.seed;
        Ok(AugmentedSmilesSource {
            smiles,
            tokenize,
            augment,
            plan: InMemorySource::new(lengths, pad_id, cfg)?,
            pad_id,
            seed,
        })
    }
}

impl BatchSource for AugmentedSmilesSource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let Some((epoch, number, idx)) = self.plan.next_indices() else {
            return Ok(None);
        };
        let mut rng = crate::rng::derived_rng(self.seed ^ epoch.rotate_left(32), number as u64);
        let mut seqs = Vec::with_capacity(idx.len());
        for i in idx {
            let original = &self.smiles[i];
            let text = self.augment.augment(original, &mut rng);
            // A random SMILES can in principle hit a token the vocabulary lacks; fall back to
            // the original, which tokenized when the source was built.
            let ids = match (self.tokenize)(&text) {
                Ok(ids) => ids,
                Err(_) => (self.tokenize)(original).map_err(TrainError::Data)?,
            };
            seqs.push(ids);
        }
        let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
        Ok(Some(Batch::from_sequences(&refs, self.pad_id, epoch)))
    }

    fn state(&self) -> serde_json::Value {
        self.plan.state()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        self.plan.restore(state)
    }

    fn reset(&mut self) {
        self.plan.reset()
    }
}
