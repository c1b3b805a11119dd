//! Greedy decoding and sampling: every decoder row is its own sequence, chosen one token at a
//! time; a row leaves the decoder state as soon as it emits eos.
//!
//! Greedy follows transformers' greedy search (argmax of the logits, the first maximum on ties,
//! eos forbidden below `min_length`). Sampling reuses the GPT-Neo sampler's
//! [`sample_token`](crate::generate::sample_token) and per-sequence streams
//! ([`sequence_rng`](crate::generate::sequence_rng)): it is reproducible, but does not draw the
//! random numbers torch would.

use super::{log_softmax_rows, select, step_logits, Hypothesis, Limits, Seq2SeqModel};
use crate::generate::{sample_token, sequence_rng, SamplingConfig};
use candle_core::{Device, Result};
use rand_chacha::ChaCha8Rng;

/// How a row's next token is chosen from its logits.
pub(crate) enum Chooser {
    Greedy,
    /// `first_sequence`: the run-wide number of the batch's first sequence (its random stream).
    Sample {
        cfg: SamplingConfig,
        first_sequence: u64,
    },
}

/// A sequence being generated.
struct Sequence {
    tokens: Vec<u32>,
    score: f32,
    finished: bool,
}

/// Index of the first maximum (transformers' `argmax`); NaN never wins.
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in row.iter().enumerate().skip(1) {
        if x > row[best] || row[best].is_nan() {
            best = i;
        }
    }
    best
}

/// Decodes `per_source` sequences for each of `sources` sources whose encoder state is in
/// `state` (one row per source). Sequence `r` of source `i` is sequence number
/// `i * per_source + r` of the batch (after the chooser's `first_sequence`, for its stream).
pub(crate) fn decode<M: Seq2SeqModel>(
    model: &M,
    state: &mut M::State,
    device: &Device,
    sources: usize,
    per_source: usize,
    chooser: &Chooser,
    limits: Limits,
) -> Result<Vec<Vec<Hypothesis>>> {
    let rows = sources * per_source;
    if per_source > 1 {
        let idx: Vec<u32> = (0..rows).map(|r| (r / per_source) as u32).collect();
        select(model, state, &idx, device)?;
    }
    let eos = model.eos_token_id();
    let mut rngs: Vec<ChaCha8Rng> = match chooser {
        Chooser::Sample {
            cfg,
            first_sequence,
        } => (0..rows as u64)
            .map(|i| sequence_rng(cfg.seed, first_sequence + i))
            .collect(),
        Chooser::Greedy => Vec::new(),
    };
    let mut seqs: Vec<Sequence> = (0..rows)
        .map(|_| Sequence {
            tokens: Vec::new(),
            score: 0.0,
            finished: false,
        })
        .collect();
    // `active[r]`: the sequence held by state row `r`.
    let mut active: Vec<usize> = (0..rows).collect();
    let mut last = vec![model.decoder_start_token_id(); rows];
    let max_new = limits.max_length.saturating_sub(1);
    for step in 0..max_new {
        // Decoder length before this token, decoder start included (transformers' cur_len).
        let cur_len = step + 1;
        let (mut logits, vocab) = step_logits(model, state, &last, device)?;
        let log_probs = log_softmax_rows(&logits, vocab);
        let mut keep = Vec::with_capacity(active.len());
        let mut next = Vec::with_capacity(active.len());
        for (r, &seq) in active.iter().enumerate() {
            let row = &mut logits[r * vocab..(r + 1) * vocab];
            if cur_len < limits.min_length && (eos as usize) < vocab {
                row[eos as usize] = f32::NEG_INFINITY;
            }
            let tok = match chooser {
                Chooser::Greedy => argmax(row) as u32,
                Chooser::Sample { cfg, .. } => sample_token(row, cfg, &mut rngs[seq]),
            };
            let s = &mut seqs[seq];
            s.score += log_probs[r * vocab + tok as usize];
            if tok == eos {
                s.finished = true;
            } else {
                s.tokens.push(tok);
                keep.push(r as u32);
                next.push(tok);
            }
        }
        if keep.is_empty() || step + 1 == max_new {
            break;
        }
        if keep.len() < active.len() {
            select(model, state, &keep, device)?;
            active = keep.iter().map(|&r| active[r as usize]).collect();
        }
        last = next;
    }
    let mut out: Vec<Vec<Hypothesis>> = Vec::with_capacity(sources);
    let mut it = seqs.into_iter();
    for _ in 0..sources {
        out.push(
            it.by_ref()
                .take(per_source)
                .map(|s| Hypothesis {
                    ids: s.tokens,
                    score: s.score,
                    finished: s.finished,
                })
                .collect(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::argmax;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.5, 0.1]), 1);
        assert_eq!(argmax(&[-1.0]), 0);
    }
}
