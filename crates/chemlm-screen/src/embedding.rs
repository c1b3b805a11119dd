//! Similarity of language-model embeddings: the neural counterpart of [`crate::FingerprintScorer`].
//!
//! An [`Embedder`] turns a batch of SMILES into vectors (one forward pass per batch); the
//! [`EmbeddingScorer`] embeds the actives once, L2-normalises everything, and scores a library
//! molecule by the max (or mean) cosine similarity of its embedding to the actives' — one
//! `[batch, hidden] × [hidden, actives]` product per batch. [`ModelEmbedder`] is the embedder of
//! a chemlm model directory (mean of final hidden states over real tokens, as `chemlm embed`),
//! encoding molecules with the same function as fine-tuning and prediction.

use std::path::Path;

use candle_core::{Device, Tensor};
use chemlm_data::Tokenizer;
use chemlm_models::embedder::{EmbedOptions, Embedder as ModelsEmbedder};
use chemlm_models::encode::Pooling;
use chemlm_models::Model;

use crate::error::ScreenError;
use crate::scorer::{Aggregate, Score, Scorer};

/// Turns molecules into fixed-size vectors.
pub trait Embedder: Sync {
    /// One vector per SMILES, in order, or the reason a molecule has none.
    fn embed_batch(&self, smiles: &[&str]) -> Vec<Result<Vec<f32>, String>>;
    /// Vector length.
    fn dim(&self) -> usize;
    /// Short description for logs, e.g. `bert-6x256`.
    fn describe(&self) -> String;
}

/// `v / ‖v‖` (a zero vector stays zero and scores 0 against everything).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Fuses cosine similarities to the queries (`sims`) into one score.
pub fn fuse(sims: &[f32], aggregate: Aggregate) -> Score {
    let (mut best, mut best_i, mut sum) = (f64::NEG_INFINITY, 0, 0.0);
    for (i, &s) in sims.iter().enumerate() {
        let s = s as f64;
        sum += s;
        if s > best {
            best = s;
            best_i = i;
        }
    }
    let value = match aggregate {
        Aggregate::Max => best,
        Aggregate::Mean => sum / sims.len().max(1) as f64,
    };
    Score {
        value,
        nearest: Some(best_i),
    }
}

/// Max/mean cosine similarity of embeddings to the embedded actives.
pub struct EmbeddingScorer<E: Embedder> {
    embedder: E,
    aggregate: Aggregate,
    /// `[hidden, queries]`, columns unit length.
    queries_t: Tensor,
    n_queries: usize,
}

impl<E: Embedder> EmbeddingScorer<E> {
    /// Embeds the queries once; every query must embed (a silently dropped active would change
    /// the results).
    pub fn new(embedder: E, aggregate: Aggregate, queries: &[&str]) -> Result<Self, ScreenError> {
        if queries.is_empty() {
            return Err(ScreenError::NoQueries);
        }
        let mut flat = Vec::with_capacity(queries.len() * embedder.dim());
        for (index, r) in embedder.embed_batch(queries).into_iter().enumerate() {
            let mut v = r.map_err(|reason| ScreenError::BadQuery {
                index,
                smiles: queries[index].to_string(),
                reason,
            })?;
            normalize(&mut v);
            flat.extend(v);
        }
        Self::from_unit_vectors(embedder, aggregate, flat, queries.len())
    }

    /// From `n` already unit-length query vectors laid out row by row in `flat`.
    pub fn from_unit_vectors(
        embedder: E,
        aggregate: Aggregate,
        flat: Vec<f32>,
        n: usize,
    ) -> Result<Self, ScreenError> {
        if n == 0 {
            return Err(ScreenError::NoQueries);
        }
        let dim = embedder.dim();
        let queries_t = Tensor::from_vec(flat, (n, dim), &Device::Cpu)
            .and_then(|t| t.t()?.contiguous())
            .map_err(|e| ScreenError::Invalid(format!("query embeddings: {e}")))?;
        Ok(Self {
            embedder,
            aggregate,
            queries_t,
            n_queries: n,
        })
    }

    /// Number of query molecules.
    pub fn n_queries(&self) -> usize {
        self.n_queries
    }

    /// Cosine similarities `[rows, queries]` of unit vectors `flat` (row-major, `rows × dim`).
    fn similarities(&self, flat: Vec<f32>, rows: usize) -> candle_core::Result<Vec<Vec<f32>>> {
        let m = Tensor::from_vec(flat, (rows, self.embedder.dim()), &Device::Cpu)?;
        m.matmul(&self.queries_t)?.to_vec2()
    }
}

impl<E: Embedder> Scorer for EmbeddingScorer<E> {
    fn score_batch(&self, smiles: &[&str]) -> Vec<Result<Score, String>> {
        let embedded = self.embedder.embed_batch(smiles);
        let mut flat = Vec::new();
        let mut rows = 0;
        for v in embedded.iter().flatten() {
            let start = flat.len();
            flat.extend_from_slice(v);
            normalize(&mut flat[start..]);
            rows += 1;
        }
        let sims = if rows == 0 {
            Ok(Vec::new())
        } else {
            self.similarities(flat, rows)
        };
        let sims = match sims {
            Ok(s) => s,
            Err(e) => return smiles.iter().map(|_| Err(e.to_string())).collect(),
        };
        let mut sims = sims.into_iter();
        embedded
            .into_iter()
            .map(|r| {
                r.and_then(|_| {
                    sims.next()
                        .map(|row| fuse(&row, self.aggregate))
                        .ok_or_else(|| "similarity row missing".to_string())
                })
            })
            .collect()
    }

    fn describe(&self) -> String {
        format!("{}/cosine/{}", self.embedder.describe(), self.aggregate)
    }
}

/// Embeddings of a chemlm model directory: mean of the final hidden states over real tokens, by
/// the library's [`chemlm_models::embedder::Embedder`] (as `chemlm embed` and Python), which also
/// refuses molecules RDKit cannot sanitize so both scorers accept the same molecules.
pub struct ModelEmbedder {
    inner: ModelsEmbedder,
    name: String,
}

impl ModelEmbedder {
    /// Loads `dir` (config.json, model.safetensors, tokenizer.json) onto `device`.
    pub fn load(dir: &Path, canonicalize: bool, device: &Device) -> Result<Self, ScreenError> {
        let model = Model::load(dir, device)
            .map_err(|e| ScreenError::Invalid(format!("model {}: {e}", dir.display())))?;
        let tokenizer = Tokenizer::load_dir(dir)?;
        Self::new(model, tokenizer, canonicalize)
    }

    /// From a model and its tokenizer (vocabulary sizes must agree).
    pub fn new(
        model: Model,
        tokenizer: Tokenizer,
        canonicalize: bool,
    ) -> Result<Self, ScreenError> {
        let c = model.config();
        if c.vocab_size() != tokenizer.vocab_size() {
            return Err(ScreenError::Invalid(format!(
                "the model has a vocabulary of {} tokens, its tokenizer {}",
                c.vocab_size(),
                tokenizer.vocab_size()
            )));
        }
        let name = format!(
            "{}-{}x{}",
            c.architecture(),
            c.num_layers(),
            c.hidden_size()
        );
        let opts = EmbedOptions {
            canonicalize,
            oov: chemlm_data::OovPolicy::Unk,
            pooling: Pooling::Mean,
            batch_size: 32,
            // A molecule RDKit cannot sanitize (`c1cccc1`: parses, cannot be kekulized) is
            // rejected with the same check and reason as the fingerprint scorer, so both scorers
            // accept the same library molecules and actives and their hit lists compare.
            require_sanitizable: true,
        };
        let inner = ModelsEmbedder::new(model, tokenizer, opts).map_err(ScreenError::Invalid)?;
        Ok(Self { inner, name })
    }

    /// Molecules per forward pass (default 32).
    pub fn with_micro_batch(mut self, n: usize) -> Self {
        self.inner = self.inner.with_batch_size(n);
        self
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.inner.model()
    }
}

impl Embedder for ModelEmbedder {
    fn embed_batch(&self, smiles: &[&str]) -> Vec<Result<Vec<f32>, String>> {
        match self.inner.embed(smiles) {
            Ok(rows) => rows,
            Err(e) => smiles
                .iter()
                .map(|_| Err(format!("model forward pass failed: {e}")))
                .collect(),
        }
    }

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::FingerprintKind;
    use chemlm_chem::Molecule;
    use chemlm_data::{TokenizerKind, VocabConfig};
    use chemlm_models::{presets, ModelConfig};

    fn embedder(canonicalize: bool) -> ModelEmbedder {
        let corpus = ["CCO", "c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "C1CCCC1"];
        let tok = Tokenizer::build(TokenizerKind::Smiles, corpus, &VocabConfig::default()).unwrap();
        let mut cfg = presets::preset("bert-small").unwrap();
        if let ModelConfig::Bert(c) = &mut cfg {
            c.hidden_size = 8;
            c.num_hidden_layers = 1;
            c.num_attention_heads = 2;
            c.intermediate_size = 8;
        }
        cfg.set_vocab_size(tok.vocab_size());
        let model = Model::new(&cfg, &Device::Cpu, 3).unwrap();
        ModelEmbedder::new(model, tok, canonicalize).unwrap()
    }

    #[test]
    fn molecules_that_cannot_be_kekulized_are_rejected_like_the_fingerprint_path() {
        // Parses, but a five-membered all-aromatic-carbon ring has no Kekulé form.
        let bad = "c1cccc1";
        assert!(Molecule::from_smiles(bad).is_ok());
        let fp_reason = FingerprintKind::Ecfp4.fingerprint(bad).unwrap_err();
        for canonicalize in [false, true] {
            let e = embedder(canonicalize);
            let out = e.embed_batch(&["CCO", bad, "c1ccccc1", "C1=CC=CC1"]);
            assert_eq!(out[1].as_ref().unwrap_err(), &fp_reason);
            for i in [0, 2, 3] {
                assert!(out[i].is_ok(), "{i}: {:?}", out[i]);
                assert!(FingerprintKind::Ecfp4
                    .fingerprint(["CCO", bad, "c1ccccc1", "C1=CC=CC1"][i])
                    .is_ok());
            }
        }
        // An active that cannot be kekulized is refused as a query, as fingerprints refuse it.
        let err = EmbeddingScorer::new(embedder(false), Aggregate::Max, &["CCO", bad]);
        assert!(matches!(err, Err(ScreenError::BadQuery { index: 1, .. })));
    }
}
