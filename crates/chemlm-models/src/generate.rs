//! Autoregressive sampling from the GPT-Neo decoder (ChemGPT generation).
//!
//! Every sequence of a batch starts from `<bos>` at position 0, so the batch needs no padding and
//! the [`KvCache`] makes each new token cost one position instead of a full recompute. A
//! finished sequence (it produced `<eos>`) keeps being fed `<eos>` until the whole batch is done;
//! its extra tokens are discarded.
//!
//! Reproducibility: sequence `i` of a run draws from its own ChaCha8 stream `(seed, i)`, so what
//! molecule `i` becomes does not depend on the batch size or on which other sequences share its
//! batch, and the cached and the full-recompute paths draw the same numbers in the same order.

use crate::gpt_neo::{GptNeo, KvCache};
use crate::traits::LanguageModel;
use candle_core::{DType, Result, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// How tokens are drawn from the model's next-token distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingConfig {
    /// Logits are divided by this before the softmax (> 0; < 1 sharpens, > 1 flattens).
    pub temperature: f64,
    /// Keep only the `k` most likely tokens (None or 0 = all).
    pub top_k: Option<usize>,
    /// Nucleus sampling: keep the smallest set of most likely tokens whose probability sums to
    /// at least `p` (None or 1.0 = all).
    pub top_p: Option<f64>,
    /// Most tokens generated after `<bos>` (a sequence that reaches it without `<eos>` is
    /// returned as is and marked unfinished).
    pub max_new_tokens: usize,
    /// Seed of the per-sequence random streams.
    pub seed: u64,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        SamplingConfig {
            temperature: 1.0,
            top_k: None,
            top_p: None,
            max_new_tokens: 128,
            seed: 0,
        }
    }
}

impl SamplingConfig {
    /// Rejects settings that cannot sample.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "temperature must be a positive number, got {}",
                self.temperature
            ));
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(format!("top_p must lie in (0, 1], got {p}"));
            }
        }
        if self.max_new_tokens == 0 {
            return Err("max_new_tokens must be >= 1".into());
        }
        Ok(())
    }
}

/// One generated sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Generated token ids, without `<bos>` and without the final `<eos>`.
    pub ids: Vec<u32>,
    /// True when the model emitted `<eos>` (false: cut at `max_new_tokens`).
    pub finished: bool,
}

/// The random stream of sequence `index` of a run seeded `seed`.
pub fn sequence_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(index);
    r
}

/// Draws one token id from `logits` (one row of the vocabulary) with `cfg`'s temperature,
/// top-k and top-p filters, using one uniform number from `rng`.
pub fn sample_token(logits: &[f32], cfg: &SamplingConfig, rng: &mut ChaCha8Rng) -> u32 {
    let t = cfg.temperature;
    // Candidates sorted by decreasing logit; ties keep the lower id first (stable sort).
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| {
        logits[b]
            .partial_cmp(&logits[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if let Some(k) = cfg.top_k.filter(|&k| k > 0) {
        order.truncate(k.max(1));
    }
    let max = logits[order[0]] as f64 / t;
    let mut probs: Vec<f64> = order
        .iter()
        .map(|&i| (logits[i] as f64 / t - max).exp())
        .collect();
    let z: f64 = probs.iter().sum();
    for p in probs.iter_mut() {
        *p /= z;
    }
    if let Some(top_p) = cfg.top_p.filter(|&p| p < 1.0) {
        let mut cum = 0.0;
        let mut keep = probs.len();
        for (i, p) in probs.iter().enumerate() {
            cum += p;
            if cum >= top_p {
                keep = i + 1;
                break;
            }
        }
        probs.truncate(keep);
        order.truncate(keep);
        let z: f64 = probs.iter().sum();
        for p in probs.iter_mut() {
            *p /= z;
        }
    }
    let u: f64 = rng.gen::<f64>();
    let mut cum = 0.0;
    for (i, p) in probs.iter().enumerate() {
        cum += p;
        if u < cum {
            return order[i] as u32;
        }
    }
    order[probs.len() - 1] as u32
}

/// Samples `count` sequences (indices `first..first + count` of the run, for the random
/// streams) in one batch. With `use_cache` the KV cache is used; without, the whole prefix is
/// recomputed at every step (the reference the cached path must equal).
pub fn sample_batch(
    model: &GptNeo,
    bos: u32,
    eos: u32,
    first: u64,
    count: usize,
    cfg: &SamplingConfig,
    use_cache: bool,
) -> Result<Vec<Sample>> {
    cfg.validate().map_err(candle_core::Error::Msg)?;
    if count == 0 {
        return Ok(Vec::new());
    }
    let device = model.device().clone();
    // Room for <bos> + max_new_tokens within the learned positions.
    let max_new = cfg
        .max_new_tokens
        .min(model.max_positions().saturating_sub(1));
    if max_new == 0 {
        return Err(candle_core::Error::Msg(
            "the model has no room for generated tokens".into(),
        ));
    }
    let mut rngs: Vec<ChaCha8Rng> = (0..count as u64)
        .map(|i| sequence_rng(cfg.seed, first + i))
        .collect();
    let mut out: Vec<Sample> = vec![
        Sample {
            ids: Vec::new(),
            finished: false,
        };
        count
    ];
    let mut cache = KvCache::with_capacity(max_new + 1);
    // All tokens so far, row-major [count, len], for the uncached path.
    let mut all: Vec<Vec<u32>> = vec![vec![bos]; count];
    let mut next: Vec<u32> = vec![bos; count];
    for _ in 0..max_new {
        // Inference mode (no op graph kept): memory stays one step's activations plus the cache,
        // whatever the number of steps or of batches.
        let logits = crate::grad_mode::inference(|| {
            if use_cache {
                let ids = Tensor::from_vec(next.clone(), (count, 1), &device)?;
                model.forward_cached(&ids, &mut cache)
            } else {
                let len = all[0].len();
                let flat: Vec<u32> = all.iter().flatten().copied().collect();
                let ids = Tensor::from_vec(flat, (count, len), &device)?;
                let mask = ids.ones_like()?;
                model.forward_logits(&ids, &mask, false)
            }
        })?
        .detach();
        let s = logits.dim(1)?;
        let last: Vec<Vec<f32>> = logits
            .narrow(1, s - 1, 1)?
            .squeeze(1)?
            .to_dtype(DType::F32)?
            .to_vec2()?;
        let mut all_done = true;
        for (i, row) in last.iter().enumerate() {
            if out[i].finished {
                next[i] = eos;
                continue;
            }
            let tok = sample_token(row, cfg, &mut rngs[i]);
            next[i] = tok;
            if tok == eos {
                out[i].finished = true;
            } else {
                out[i].ids.push(tok);
                all_done = false;
            }
        }
        if all_done {
            break;
        }
        if !use_cache {
            for (a, &t) in all.iter_mut().zip(&next) {
                a.push(t);
            }
        }
    }
    Ok(out)
}

/// One generated molecule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    /// The model's string (SELFIES or SMILES).
    pub raw: String,
    /// SMILES, empty when not decodable (no `<eos>` within the token budget, or an empty string).
    pub smiles: String,
}

/// Samples `num` molecules from a causal LM (`gpt_neo`) and its tokenizer, `batch` sequences per
/// pass; sample `i` draws from the stream of (`cfg.seed`, `i`), so the result does not depend on
/// the batch size or thread count. `progress` gets the number of molecules done after each pass.
/// A SELFIES model's strings are decoded to SMILES. The front door of `chemlm generate`, its
/// benchmark and the Python module.
pub fn sample_molecules(
    model: &crate::Model,
    tok: &chemlm_data::Tokenizer,
    num: usize,
    batch: usize,
    cfg: &SamplingConfig,
    progress: &mut dyn FnMut(usize),
) -> crate::ModelResult<Vec<Generated>> {
    sample_molecule_range(model, tok, 0..num, batch, cfg, progress)
}

/// The samples of shard `spec` of a run of `num` samples in batches of `batch`: whole batches
/// of the run (batch `k` holds samples `[k·batch, (k+1)·batch)`), shard `I` taking its block of
/// them ([`chemlm_data::ShardSpec::aligned_range`]). Whole batches, because a forward pass over
/// another set of sequences may round differently: each sample is then computed beside the same
/// samples as in one run, and the shards' outputs in shard order are one run's, byte for byte.
pub fn shard_samples(num: usize, batch: usize, spec: chemlm_data::ShardSpec) -> Range<usize> {
    let r = spec.aligned_range(num as u64, batch.max(1) as u64);
    r.start as usize..r.end as usize
}

/// Samples `range` of a run's sample sequence (see [`sample_molecules`]): sample `i` is the
/// same molecule as sample `i` of a run of all samples, given the same batch boundaries (a
/// `range` that starts on a multiple of `batch`, as [`shard_samples`] gives). `progress` gets
/// the number of this range's molecules done.
pub fn sample_molecule_range(
    model: &crate::Model,
    tok: &chemlm_data::Tokenizer,
    range: Range<usize>,
    batch: usize,
    cfg: &SamplingConfig,
    progress: &mut dyn FnMut(usize),
) -> crate::ModelResult<Vec<Generated>> {
    let invalid = |reason: String| crate::ModelError::config("generate", reason);
    if batch == 0 {
        return Err(invalid("the batch size must be positive".into()));
    }
    cfg.validate().map_err(invalid)?;
    let Some(gpt) = model.as_gpt_neo() else {
        return Err(invalid(format!(
            "generation needs a causal LM (gpt_neo), this model is {}",
            model.config().architecture()
        )));
    };
    let sp = tok.special_ids();
    let mut out = Vec::with_capacity(range.len());
    let mut first = range.start;
    while first < range.end {
        let n = batch.min(range.end - first);
        let samples = sample_batch(gpt, sp.bos, sp.eos, first as u64, n, cfg, true)?;
        for s in samples {
            out.push(decode_sample(tok, &s.ids, s.finished));
        }
        first += n;
        progress(first - range.start);
    }
    Ok(out)
}

fn decode_sample(tok: &chemlm_data::Tokenizer, ids: &[u32], finished: bool) -> Generated {
    let raw = tok.decode(ids, true).unwrap_or_default();
    if !finished || raw.is_empty() {
        return Generated {
            raw,
            smiles: String::new(),
        };
    }
    let smiles = match tok.kind() {
        chemlm_data::TokenizerKind::Selfies => {
            chemlm_chem::selfies::decoder(&raw).unwrap_or_default()
        }
        chemlm_data::TokenizerKind::Smiles => raw.clone(),
    };
    Generated { raw, smiles }
}
