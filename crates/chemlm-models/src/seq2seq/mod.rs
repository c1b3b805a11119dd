//! Decoding for encoder-decoder (T5) models: greedy, beam search and sampling.
//!
//! The algorithms are written against the small [`Seq2SeqModel`] trait (encode a batch, feed one
//! token per decoder row, reorder rows), so they are tested on deterministic mock models without
//! any network, and the T5 implementation only has to provide a cached decoder step.
//!
//! Beam search reproduces Hugging Face transformers' `generate(num_beams=k, ...)` (the vectorised
//! `_beam_search`, checked against transformers 5.25.0) decision for decision: see [`beam`] for
//! the rules.
//! `max_length` and `min_length` count the decoder start token as transformers does;
//! `max_new_tokens` (when set) wins over `max_length`, again as in transformers.
//!
//! All strategies drop decoder rows that can no longer change the result (finished sequences,
//! sources whose beam search is done) through [`Seq2SeqModel::select_rows`], so a batch costs
//! only what is still running.

pub mod beam;
pub mod rowwise;

use crate::ops::fused::exp_f32;
use candle_core::{DType, Result, Tensor};

/// What a decoding algorithm needs from an encoder-decoder model.
///
/// A state holds `rows` decoder sequences (with their caches and their source's encoder output).
pub trait Seq2SeqModel {
    /// Decoder state (KV caches, encoder output and mask) of all rows.
    type State;
    /// Encodes a right-padded batch `[b, s]` (u32 ids, mask of 1/0) and starts the decoder state
    /// for `b` rows, row `i` belonging to source `i`. Nothing has been fed to the decoder yet.
    fn start(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Self::State>;
    /// Logits `[rows, vocab]` (f32) of the next token after feeding `last` (`[rows]`, u32): the
    /// decoder start token at the first step, then each row's previous token.
    fn step(&self, state: &mut Self::State, last: &Tensor) -> Result<Tensor>;
    /// Row `i` of the state := old row `idx[i]` (`idx`: `[n]` u32, any `n >= 1`). Used to expand
    /// sources into beams or samples, to follow beams, and to drop rows that are done.
    fn select_rows(&self, state: &mut Self::State, idx: &Tensor) -> Result<()>;
    /// First token fed to the decoder (T5: the pad token).
    fn decoder_start_token_id(&self) -> u32;
    /// End of sequence.
    fn eos_token_id(&self) -> u32;
    /// Padding.
    fn pad_token_id(&self) -> u32;
}

/// transformers' `early_stopping` for beam search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EarlyStopping {
    /// `early_stopping=True`: a source is done as soon as it has `beams` finished hypotheses.
    Enabled,
    /// `early_stopping=False` (transformers' default): done when the best running beam, scored
    /// at its current length, cannot beat the worst finished hypothesis.
    #[default]
    Heuristic,
    /// `early_stopping="never"`: like `Heuristic`, but with a positive length penalty the running
    /// beam is scored at the longest possible length (the exact bound: canonical beam search).
    Never,
}

impl std::str::FromStr for EarlyStopping {
    type Err = DecodeError;
    /// Accepts transformers' spellings: `true`, `false`, `never`.
    fn from_str(s: &str) -> std::result::Result<Self, DecodeError> {
        match s.to_ascii_lowercase().as_str() {
            "true" => Ok(EarlyStopping::Enabled),
            "false" => Ok(EarlyStopping::Heuristic),
            "never" => Ok(EarlyStopping::Never),
            _ => Err(DecodeError::Invalid(format!(
                "early stopping must be true, false or never, got `{s}`"
            ))),
        }
    }
}

/// Beam search settings (transformers' names in the docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamConfig {
    /// `num_beams` (>= 1).
    pub beams: usize,
    /// `num_return_sequences` (1..=beams): the best hypotheses returned per source.
    pub num_return: usize,
    /// `length_penalty`: a finished hypothesis scores `sum_logprobs / len^length_penalty`, `len`
    /// the number of generated tokens (eos included, decoder start excluded).
    pub length_penalty: f64,
    /// `early_stopping`.
    pub early_stopping: EarlyStopping,
}

impl Default for BeamConfig {
    fn default() -> Self {
        BeamConfig {
            beams: 4,
            num_return: 1,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
        }
    }
}

/// Sampling settings. Sequence `r` of source `i` of the batch draws from its own random stream
/// ([`crate::generate::sequence_rng`]`(seed, (first_source + i) * num_return + r)`), so a run
/// repeats exactly and does not depend on how its sources are split into batches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleConfig {
    /// Logits are divided by this before the softmax (> 0).
    pub temperature: f64,
    /// Keep only the `k` most likely tokens (None or 0 = all).
    pub top_k: Option<usize>,
    /// Nucleus: keep the smallest most-likely set whose probability reaches `p` (in (0, 1]).
    pub top_p: Option<f64>,
    /// Seed of the per-sequence streams.
    pub seed: u64,
    /// Samples per source (>= 1).
    pub num_return: usize,
    /// Index, in the whole run, of this batch's first source (selects the random streams).
    pub first_source: u64,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            temperature: 1.0,
            top_k: None,
            top_p: None,
            seed: 0,
            num_return: 1,
            first_source: 0,
        }
    }
}

/// How the next tokens are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// The most likely token at every step (transformers' greedy search).
    Greedy,
    /// Beam search, as transformers.
    Beam(BeamConfig),
    /// Ancestral sampling with temperature / top-k / top-p.
    Sample(SampleConfig),
}

/// Options of [`generate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeConfig {
    pub strategy: Strategy,
    /// transformers' `max_length`: longest decoder sequence, the decoder start token included
    /// (so at most `max_length - 1` generated tokens). Default 20, as transformers.
    pub max_length: usize,
    /// transformers' `max_new_tokens`: when set, `max_length = max_new_tokens + 1`.
    pub max_new_tokens: Option<usize>,
    /// transformers' `min_length` (decoder start included): eos is forbidden while the decoder
    /// sequence is shorter than this. Default 0.
    pub min_length: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            strategy: Strategy::Greedy,
            max_length: 20,
            max_new_tokens: None,
            min_length: 0,
        }
    }
}

/// Invalid decoding options or inputs.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid decoding options: {0}")]
    Invalid(String),
    #[error("invalid decoder input: {0}")]
    Input(String),
}

impl DecodeConfig {
    /// The decoder-length limit in transformers' convention (decoder start included).
    pub fn effective_max_length(&self) -> usize {
        match self.max_new_tokens {
            Some(n) => n.saturating_add(1),
            None => self.max_length,
        }
    }

    /// Hypotheses returned per source.
    pub fn num_return(&self) -> usize {
        match self.strategy {
            Strategy::Greedy => 1,
            Strategy::Beam(b) => b.num_return,
            Strategy::Sample(s) => s.num_return,
        }
    }

    /// Rejects options that cannot decode, with a message naming the option.
    pub fn validate(&self) -> std::result::Result<(), DecodeError> {
        let bad = |m: String| Err(DecodeError::Invalid(m));
        if self.max_new_tokens == Some(0) {
            return bad("max_new_tokens must be >= 1".into());
        }
        if self.effective_max_length() < 2 {
            return bad(format!(
                "max_length counts the decoder start token and must be >= 2, got {}",
                self.effective_max_length()
            ));
        }
        match self.strategy {
            Strategy::Greedy => Ok(()),
            Strategy::Beam(b) => {
                if b.beams == 0 {
                    return bad("beams must be >= 1".into());
                }
                if b.num_return == 0 {
                    return bad("num_return must be >= 1".into());
                }
                if b.num_return > b.beams {
                    return bad(format!(
                        "num_return ({}) cannot exceed the number of beams ({})",
                        b.num_return, b.beams
                    ));
                }
                if !b.length_penalty.is_finite() {
                    return bad(format!(
                        "length_penalty must be finite, got {}",
                        b.length_penalty
                    ));
                }
                Ok(())
            }
            Strategy::Sample(s) => {
                if s.num_return == 0 {
                    return bad("num_return must be >= 1".into());
                }
                self.sampling_config(&s)
                    .validate()
                    .map_err(DecodeError::Invalid)
            }
        }
    }

    /// The GPT-Neo sampler's settings, so that both samplers share `sample_token`.
    fn sampling_config(&self, s: &SampleConfig) -> crate::generate::SamplingConfig {
        crate::generate::SamplingConfig {
            temperature: s.temperature,
            top_k: s.top_k,
            top_p: s.top_p,
            max_new_tokens: self.effective_max_length().saturating_sub(1),
            seed: s.seed,
        }
    }
}

/// One decoded sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Generated token ids, without the decoder start token and without the final eos.
    pub ids: Vec<u32>,
    /// Beam search: transformers' `sequences_scores` (length-penalised sum of log-probabilities).
    /// Greedy and sampling: the sum of the model's log-probabilities (temperature 1, no filter)
    /// of the generated tokens, eos included.
    pub score: f32,
    /// True when the sequence ended with eos (false: cut at the length limit).
    pub finished: bool,
}

/// Decodes every source of a right-padded batch (`input_ids`, `attention_mask`: `[b, s]`) and
/// returns, per source, `cfg.num_return()` hypotheses (best first for beam search, in sample
/// order for sampling).
pub fn generate<M: Seq2SeqModel>(
    model: &M,
    input_ids: &Tensor,
    attention_mask: &Tensor,
    cfg: &DecodeConfig,
) -> Result<Vec<Vec<Hypothesis>>> {
    cfg.validate().map_err(candle_core::Error::wrap)?;
    let (b, s) = input_ids.dims2()?;
    if attention_mask.dims() != [b, s] {
        return Err(candle_core::Error::wrap(DecodeError::Input(format!(
            "attention mask has shape {:?}, the input ids {:?}",
            attention_mask.dims(),
            input_ids.dims()
        ))));
    }
    if b == 0 {
        return Ok(Vec::new());
    }
    let mut state = model.start(input_ids, attention_mask)?;
    let limits = Limits {
        max_length: cfg.effective_max_length(),
        min_length: cfg.min_length,
    };
    let device = input_ids.device();
    match cfg.strategy {
        Strategy::Greedy => rowwise::decode(
            model,
            &mut state,
            device,
            b,
            1,
            &rowwise::Chooser::Greedy,
            limits,
        ),
        Strategy::Beam(bc) => beam::search(model, &mut state, device, b, &bc, limits),
        Strategy::Sample(sc) => {
            let sampling = cfg.sampling_config(&sc);
            rowwise::decode(
                model,
                &mut state,
                device,
                b,
                sc.num_return,
                &rowwise::Chooser::Sample {
                    cfg: sampling,
                    first_sequence: sc.first_source.saturating_mul(sc.num_return as u64),
                },
                limits,
            )
        }
    }
}

/// Length limits in transformers' convention (decoder start included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_length: usize,
    pub min_length: usize,
}

/// Row-wise log-softmax in f32, as torch computes `log_softmax` of f32 logits (the sum of
/// exponentials is accumulated in f64 here, which only moves the last bit). Rows run in parallel:
/// with a 32k vocabulary and `beams * sources` rows this is a visible part of a decoding step.
pub(crate) fn log_softmax_rows(logits: &[f32], vocab: usize) -> Vec<f32> {
    use rayon::prelude::*;
    let mut out = vec![0f32; logits.len()];
    out.par_chunks_mut(vocab)
        .zip(logits.par_chunks(vocab))
        .for_each(|(o, row)| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let log_sum = sum_exp(row, max).ln() as f32;
            for (o, &x) in o.iter_mut().zip(row) {
                *o = (x - max) - log_sum;
            }
        });
    out
}

/// `sum(exp(x - max))` over a row, in f64 from f32 exponentials (8 independent partial sums so
/// that the loop pipelines and vectorises, with [`exp_f32`] in place of libm's scalar call).
fn sum_exp(row: &[f32], max: f32) -> f64 {
    let mut acc = [0f64; 8];
    let mut chunks = row.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += exp_f32(x - max) as f64;
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&x| exp_f32(x - max) as f64)
        .sum();
    acc.iter().sum::<f64>() + tail
}

/// Feeds `last` (one token per row) and returns the logits as a flat row-major f32 buffer and
/// the vocabulary size, checking the model's answer has one row per fed token.
pub(crate) fn step_logits<M: Seq2SeqModel>(
    model: &M,
    state: &mut M::State,
    last: &[u32],
    device: &candle_core::Device,
) -> Result<(Vec<f32>, usize)> {
    let ids = Tensor::from_slice(last, last.len(), device)?;
    let logits = model.step(state, &ids)?;
    let (rows, vocab) = logits.dims2()?;
    if rows != last.len() || vocab == 0 {
        return Err(candle_core::Error::Msg(format!(
            "the decoder returned logits of shape [{rows}, {vocab}] for {} rows",
            last.len()
        )));
    }
    let flat = logits
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    Ok((flat, vocab))
}

/// `select_rows` with a host index list.
pub(crate) fn select<M: Seq2SeqModel>(
    model: &M,
    state: &mut M::State,
    idx: &[u32],
    device: &candle_core::Device,
) -> Result<()> {
    let t = Tensor::from_slice(idx, idx.len(), device)?;
    model.select_rows(state, &t)
}

/// Generated tokens up to (not including) the first eos, and whether there was one.
pub(crate) fn strip_eos(tokens: &[u32], eos: u32) -> (Vec<u32>, bool) {
    match tokens.iter().position(|&t| t == eos) {
        Some(p) => (tokens[..p].to_vec(), true),
        None => (tokens.to_vec(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_is_within_two_ulp_of_libm() {
        let mut worst = 0f32;
        for i in 0..=4_000_000 {
            let x = -87.0 + 175.0 * i as f32 / 4_000_000.0;
            let (got, want) = (exp_f32(x), x.exp());
            let ulp = (f32::from_bits(want.to_bits() + 1) - want).abs();
            worst = worst.max((got - want).abs() / ulp);
        }
        assert!(worst <= 2.0, "exp_f32 off by {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(-1e30) < 1e-37 && exp_f32(f32::NEG_INFINITY) < 1e-37);
    }

    #[test]
    fn log_softmax_normalises() {
        let lp = log_softmax_rows(&[1.0, 2.0, 3.0, -1.0, 0.0, 50.0], 3);
        for row in lp.chunks(3) {
            let s: f64 = row.iter().map(|&x| (x as f64).exp()).sum();
            assert!((s - 1.0).abs() < 1e-6);
        }
        assert!((lp[2] - lp[1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn options_are_validated() {
        let beam = |beams, num_return| DecodeConfig {
            strategy: Strategy::Beam(BeamConfig {
                beams,
                num_return,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(beam(4, 4).validate().is_ok());
        for (cfg, needle) in [
            (beam(0, 1), "beams must be"),
            (beam(2, 3), "cannot exceed"),
            (beam(2, 0), "num_return"),
            (
                DecodeConfig {
                    max_length: 1,
                    ..Default::default()
                },
                "max_length",
            ),
            (
                DecodeConfig {
                    max_new_tokens: Some(0),
                    ..Default::default()
                },
                "max_new_tokens",
            ),
            (
                DecodeConfig {
                    strategy: Strategy::Sample(SampleConfig {
                        temperature: 0.0,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "temperature",
            ),
            (
                DecodeConfig {
                    strategy: Strategy::Sample(SampleConfig {
                        top_p: Some(1.5),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "top_p",
            ),
        ] {
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err} lacks {needle}");
        }
        assert_eq!(
            DecodeConfig {
                max_new_tokens: Some(7),
                ..Default::default()
            }
            .effective_max_length(),
            8
        );
        assert_eq!(
            "never".parse::<EarlyStopping>().unwrap(),
            EarlyStopping::Never
        );
        assert!("maybe".parse::<EarlyStopping>().is_err());
    }
}
