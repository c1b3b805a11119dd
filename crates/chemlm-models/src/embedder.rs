//! Molecules → embedding vectors: the one front door behind `chemlm embed`, similarity screening
//! with a model, and the Python module's `Model.embed`.
//!
//! An [`Embedder`] holds a model and its tokenizer. [`Embedder::embed`] encodes a list of SMILES
//! in parallel (the same [`crate::encode`] function fine-tuning and prediction use), sorts the
//! good ones by token count so each forward pass carries little padding, runs passes of
//! [`EmbedOptions::batch_size`] molecules, and hands the rows back in input order, a bad molecule
//! as its reason instead of a row. Rows do not depend on how molecules were batched (padding is
//! masked out), so every front-end gets the same numbers for the same molecule.

use std::path::Path;

use candle_core::Device;
use chemlm_data::{OovPolicy, OovTally, Tokenizer};
use rayon::prelude::*;

use crate::encode::{embed_pooled, encode_for_model_tallied, EncodeOptions, Pooling};
use crate::Model;
use crate::{ModelError, ModelResult};

/// How molecules become vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Canonicalise each SMILES before tokenising (MoLFormer's pipeline does).
    pub canonicalize: bool,
    /// Tokens outside the vocabulary: `<unk>` or the nearest in-vocabulary form.
    pub oov: OovPolicy,
    /// Mean over real tokens (`chemlm embed`) or the first position.
    pub pooling: Pooling,
    /// Molecules per forward pass.
    pub batch_size: usize,
    /// Also refuse molecules RDKit cannot sanitize (`c1cccc1` parses but has no Kekulé form), as
    /// the fingerprint scorer does, so model and fingerprint screens accept the same molecules.
    pub require_sanitizable: bool,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            canonicalize: false,
            oov: OovPolicy::Unk,
            pooling: Pooling::Mean,
            batch_size: 64,
            require_sanitizable: false,
        }
    }
}

/// A model and its tokenizer, ready to embed molecules.
pub struct Embedder {
    model: Model,
    tokenizer: Tokenizer,
    opts: EmbedOptions,
    tally: OovTally,
}

impl Embedder {
    /// Loads a model directory (`config.json`, weights, `tokenizer.json`) onto `device`.
    pub fn load(dir: &Path, device: &Device, opts: EmbedOptions) -> ModelResult<Self> {
        let model = Model::load(dir, device)?;
        let tokenizer = Tokenizer::load_dir(dir).map_err(|e| {
            ModelError::format(
                dir.join(crate::io::TOKENIZER_FILE),
                format!("cannot load the tokenizer: {e}"),
            )
        })?;
        Self::new(model, tokenizer, opts)
            .map_err(|e| ModelError::format(dir.join(crate::io::TOKENIZER_FILE), e))
    }

    /// From a model and its tokenizer. The tokenizer may be smaller than the model's embedding
    /// table (tables are often padded to a multiple of 8), never larger.
    pub fn new(model: Model, tokenizer: Tokenizer, opts: EmbedOptions) -> Result<Self, String> {
        if opts.batch_size == 0 {
            return Err("the batch size must be positive".into());
        }
        if tokenizer.vocab_size() > model.config().vocab_size() {
            return Err(format!(
                "tokenizer has {} tokens but the model only {}",
                tokenizer.vocab_size(),
                model.config().vocab_size()
            ));
        }
        Ok(Self {
            model,
            tokenizer,
            opts,
            tally: OovTally::new(),
        })
    }

    /// The same embedder with `n` molecules per forward pass (at least 1).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.opts.batch_size = n.max(1);
        self
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The options it embeds with.
    pub fn options(&self) -> &EmbedOptions {
        &self.opts
    }

    /// Vector length (the model's hidden size).
    pub fn dim(&self) -> usize {
        self.model.config().hidden_size()
    }

    /// Out-of-vocabulary tokens met so far (for an end-of-job report).
    pub fn oov_tally(&self) -> &OovTally {
        &self.tally
    }

    /// Token ids of one molecule, or why it has none. Too-long molecules are rejected, not
    /// truncated: a truncated embedding would silently describe a different molecule.
    pub fn encode(&self, smiles: &str) -> Result<Vec<u32>, String> {
        if self.opts.require_sanitizable {
            chemlm_chem::Molecule::from_smiles(smiles)
                .and_then(|m| m.check_sanitizable())
                .map_err(|e| e.to_string())?;
        }
        let opts = EncodeOptions {
            canonicalize: self.opts.canonicalize,
            truncate: false,
            oov: self.opts.oov,
        };
        encode_for_model_tallied(
            &self.tokenizer,
            smiles,
            opts,
            self.model.config().max_positions(),
            Some(&self.tally),
        )
    }

    /// One vector per SMILES, in order, or the reason a molecule has none. Molecules are encoded
    /// on the rayon pool; an `Err` of the outer result is a failed forward pass.
    pub fn embed(&self, smiles: &[&str]) -> ModelResult<Vec<Result<Vec<f32>, String>>> {
        let encoded: Vec<Result<Vec<u32>, String>> =
            smiles.par_iter().map(|s| self.encode(s)).collect();
        self.embed_encoded(encoded, &mut |_| {})
    }

    /// [`Embedder::embed`] for molecules already encoded (an `Err` passes through as that row's
    /// reason); `progress` is called with the molecules done after each forward pass.
    pub fn embed_encoded(
        &self,
        encoded: Vec<Result<Vec<u32>, String>>,
        progress: &mut dyn FnMut(usize),
    ) -> ModelResult<Vec<Result<Vec<f32>, String>>> {
        let pad = self.tokenizer.special_ids().pad;
        let mut order: Vec<usize> = (0..encoded.len()).filter(|&i| encoded[i].is_ok()).collect();
        order.sort_by_key(|&i| encoded[i].as_ref().map(Vec::len).unwrap_or(0));
        let mut rows: Vec<Option<Vec<f32>>> = vec![None; encoded.len()];
        for chunk in order.chunks(self.opts.batch_size) {
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .filter_map(|&i| encoded[i].as_ref().ok().map(Vec::as_slice))
                .collect();
            let e = embed_pooled(&self.model, &seqs, pad, self.opts.pooling)?.to_vec2::<f32>()?;
            for (&i, row) in chunk.iter().zip(e) {
                rows[i] = Some(row);
            }
            progress(chunk.len());
        }
        Ok(encoded
            .into_iter()
            .zip(rows)
            .map(|(e, r)| match (e, r) {
                (Err(reason), _) => Err(reason),
                (Ok(_), Some(r)) => Ok(r),
                (Ok(_), None) => Err("no embedding row".to_string()),
            })
            .collect())
    }
}
