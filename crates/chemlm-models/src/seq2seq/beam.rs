//! Beam search with transformers' exact rules (`GenerationMixin._beam_search`, the vectorised
//! implementation, read and tested in transformers 5.25.0), so that our output equals
//! `generate(num_beams=k, ...)` token for token.
//!
//! Per source and step, with `cur_len` the decoder length so far (decoder start included):
//! 1. scores: `log_softmax(logits)` (f32; eos at `-inf` while `cur_len < min_length`) plus each
//!    running beam's score; the `2k` best (beam, token) candidates over all beams, best first.
//!    At the first step only beam 0 is live: the others start at `-1e9`.
//! 2. a candidate "hits a stopping criterion" when its token is eos or the sequence reaches
//!    `max_length` (`cur_len + 1 >= max_length`). The next running beams are the `k` best
//!    candidates after `-1e9` is added to those that hit one.
//! 3. a candidate that hit a criterion AND ranks among the first `k` candidates becomes a
//!    finished hypothesis scored `score / (cur_len + 1 - 1) ^ length_penalty` (its generated
//!    length, eos included); the finished set keeps the `k` best of old and new. Nothing is added
//!    once the source cannot improve (4.) or, with `early_stopping=True`, once it holds `k`
//!    finished hypotheses.
//! 4. after the step, the source can still improve while the best running beam, scored at
//!    length `cur_len - 1` (or, for `early_stopping="never"` with a positive length penalty, at
//!    the longest possible length `max_length - 1`), beats the worst finished hypothesis (every
//!    slot counts as `-1e9` until all `k` are filled). Once false it stays false.
//!
//! A source is done when it cannot improve, or holds `k` finished hypotheses under
//! `early_stopping=True`, or reached `max_length`; its rows then leave the decoder state (in
//! transformers they stay, but can no longer change its finished set: every addition is pushed
//! below `-1e9`). The masks of transformers are reproduced with the same f32 arithmetic
//! (`score + -1e9`), which only matters in degenerate cases (vocabulary smaller than `2k`).
//! Ties between equal scores go to the lower index (torch's `topk` leaves this unspecified).

use super::{
    log_softmax_rows, select, step_logits, strip_eos, BeamConfig, EarlyStopping, Hypothesis,
    Limits, Seq2SeqModel,
};
use candle_core::{Device, Result};

/// transformers' "very low score" used to mask candidates and fill empty slots.
const NEG: f32 = -1.0e9;

/// A running beam: generated tokens (decoder start excluded) and summed log-probabilities.
#[derive(Debug, Clone)]
struct Beam {
    tokens: Vec<u32>,
    score: f32,
}

/// A slot of the finished set (transformers' `sequences` / `beam_scores` / `is_sent_finished`).
#[derive(Debug, Clone)]
struct Slot {
    tokens: Vec<u32>,
    score: f32,
    done: bool,
}

/// Beam search state of one source.
struct Source {
    running: Vec<Beam>,
    finished: Vec<Slot>,
    /// transformers' `is_early_stop_heuristic_unsatisfied`.
    improvable: bool,
}

/// One of the `2k` best continuations of a step.
struct Candidate {
    beam: usize,
    token: u32,
    score: f32,
    hits: bool,
}

/// What one step decided for a source.
struct StepResult {
    /// (old beam, token) of each new running beam, in beam order.
    moves: Vec<(usize, u32)>,
    /// The source needs no further step.
    done: bool,
}

/// Indices of the `m` largest values, largest first; ties to the lower index.
fn top_indices(values: &[f32], m: usize) -> Vec<usize> {
    let cmp = |a: &usize, b: &usize| values[*b].total_cmp(&values[*a]).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..values.len()).collect();
    let m = m.min(idx.len());
    if m == 0 {
        return Vec::new();
    }
    if m < idx.len() {
        idx.select_nth_unstable_by(m - 1, cmp);
        idx.truncate(m);
    }
    idx.sort_unstable_by(cmp);
    idx
}

/// (flat index `beam * vocab + token`, accumulated score) of the `m` best continuations
/// `log_probs[beam][token] + running[beam].score`, best first; ties to the lower index; NaN
/// never selected.
///
/// One pass with a small sorted buffer: almost every score loses against the buffer's last
/// entry in one comparison, so choosing the `2k` best of `k * vocab` costs about one addition
/// and one comparison per score (a selection over a 32k-token vocabulary would dominate a step).
fn top_continuations(
    log_probs: &[f32],
    vocab: usize,
    running: &[Beam],
    m: usize,
) -> Vec<(usize, f32)> {
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(m + 1);
    if m == 0 {
        return best;
    }
    // Scores arrive in index order, so an equal score never displaces an earlier one.
    let mut threshold = f32::NEG_INFINITY;
    for (b, (row, beam)) in log_probs.chunks(vocab).zip(running).enumerate() {
        for (t, &lp) in row.iter().enumerate() {
            let a = lp + beam.score;
            if (best.len() == m && a <= threshold) || a.is_nan() {
                continue;
            }
            let at = best.partition_point(|e| e.1 >= a);
            best.insert(at, (b * vocab + t, a));
            best.truncate(m);
            if best.len() == m {
                threshold = best[m - 1].1;
            }
        }
    }
    best
}

/// `n ^ length_penalty` as transformers computes it (a Python float), used as an f32 divisor.
fn length_factor(n: usize, length_penalty: f64) -> f32 {
    (n as f64).powf(length_penalty) as f32
}

impl Source {
    fn new(k: usize) -> Self {
        Source {
            running: (0..k)
                .map(|j| Beam {
                    tokens: Vec::new(),
                    score: if j == 0 { 0.0 } else { NEG },
                })
                .collect(),
            finished: (0..k)
                .map(|_| Slot {
                    tokens: Vec::new(),
                    score: NEG,
                    done: false,
                })
                .collect(),
            improvable: true,
        }
    }

    /// One step of the search given the log-probabilities `[k, vocab]` of the running beams.
    fn advance(
        &mut self,
        log_probs: &[f32],
        vocab: usize,
        eos: u32,
        cur_len: usize,
        limits: Limits,
        cfg: &BeamConfig,
    ) -> StepResult {
        let k = cfg.beams;
        let at_max = cur_len + 1 >= limits.max_length;
        // 1. The 2k best continuations over all beams.
        let cands: Vec<Candidate> = top_continuations(log_probs, vocab, &self.running, 2 * k)
            .into_iter()
            .map(|(i, score)| {
                let token = (i % vocab) as u32;
                Candidate {
                    beam: i / vocab,
                    token,
                    score,
                    hits: token == eos || at_max,
                }
            })
            .collect();
        let extend = |c: &Candidate| {
            let mut t = self.running[c.beam].tokens.clone();
            t.push(c.token);
            t
        };
        // 2. Next running beams: the best candidates that did not stop.
        let keys: Vec<f32> = cands
            .iter()
            .map(|c| if c.hits { c.score + NEG } else { c.score })
            .collect();
        let order = top_indices(&keys, k);
        let running: Vec<Beam> = order
            .iter()
            .map(|&c| Beam {
                tokens: extend(&cands[c]),
                score: keys[c],
            })
            .collect();
        let moves: Vec<(usize, u32)> = order
            .iter()
            .map(|&c| (cands[c].beam, cands[c].token))
            .collect();
        // 3. Finished hypotheses.
        let full =
            cfg.early_stopping == EarlyStopping::Enabled && self.finished.iter().all(|s| s.done);
        let divisor = length_factor(cur_len, cfg.length_penalty);
        let mut merged_scores: Vec<f32> = self.finished.iter().map(|s| s.score).collect();
        let mut added = Vec::with_capacity(cands.len());
        for (rank, c) in cands.iter().enumerate() {
            let did = c.hits && rank < k;
            let mut s = c.score / divisor;
            if full {
                s += NEG;
            }
            if !self.improvable {
                s += NEG;
            }
            if !did {
                s += NEG;
            }
            merged_scores.push(s);
            added.push(did);
        }
        let keep = top_indices(&merged_scores, k);
        let old = std::mem::take(&mut self.finished);
        self.finished = keep
            .into_iter()
            .map(|m| {
                if m < k {
                    old[m].clone()
                } else {
                    let c = &cands[m - k];
                    Slot {
                        tokens: extend(c),
                        score: merged_scores[m],
                        done: added[m - k],
                    }
                }
            })
            .collect();
        self.running = running;
        // 4. Can this source still improve? (cur_len has now grown by one.)
        let hypothetical = if cfg.early_stopping == EarlyStopping::Never && cfg.length_penalty > 0.0
        {
            limits.max_length - 1
        } else {
            cur_len
        };
        let best = self.running[0].score / length_factor(hypothetical, cfg.length_penalty);
        let worst = self
            .finished
            .iter()
            .map(|s| s.score)
            .fold(f32::INFINITY, f32::min);
        self.improvable &= self
            .finished
            .iter()
            .any(|s| best > if s.done { worst } else { NEG });
        let full_now =
            cfg.early_stopping == EarlyStopping::Enabled && self.finished.iter().all(|s| s.done);
        StepResult {
            moves,
            done: at_max || !self.improvable || full_now,
        }
    }
}

/// Beam search for `sources` sources whose encoder state is in `state` (one row per source).
pub(crate) fn search<M: Seq2SeqModel>(
    model: &M,
    state: &mut M::State,
    device: &Device,
    sources: usize,
    cfg: &BeamConfig,
    limits: Limits,
) -> Result<Vec<Vec<Hypothesis>>> {
    let k = cfg.beams;
    if k > 1 {
        let idx: Vec<u32> = (0..sources * k).map(|r| (r / k) as u32).collect();
        select(model, state, &idx, device)?;
    }
    let eos = model.eos_token_id();
    let mut all: Vec<Source> = (0..sources).map(|_| Source::new(k)).collect();
    // Sources with rows in the state, in row order (k rows each).
    let mut active: Vec<usize> = (0..sources).collect();
    let mut last = vec![model.decoder_start_token_id(); sources * k];
    let mut cur_len = 1;
    loop {
        let (logits, vocab) = step_logits(model, state, &last, device)?;
        if vocab < 2 {
            return Err(candle_core::Error::Msg(format!(
                "beam search needs a vocabulary of at least 2 tokens, the model has {vocab}"
            )));
        }
        let mut log_probs = log_softmax_rows(&logits, vocab);
        if cur_len < limits.min_length && (eos as usize) < vocab {
            for row in log_probs.chunks_mut(vocab) {
                row[eos as usize] = f32::NEG_INFINITY;
            }
        }
        let mut idx = Vec::with_capacity(active.len() * k);
        let mut next = Vec::with_capacity(active.len() * k);
        let mut still = Vec::with_capacity(active.len());
        for (a, &s) in active.iter().enumerate() {
            let rows = &log_probs[a * k * vocab..(a + 1) * k * vocab];
            let step = all[s].advance(rows, vocab, eos, cur_len, limits, cfg);
            if !step.done {
                for (beam, token) in step.moves {
                    idx.push((a * k + beam) as u32);
                    next.push(token);
                }
                still.push(s);
            }
        }
        cur_len += 1;
        if still.is_empty() {
            break;
        }
        let identity =
            still.len() == active.len() && idx.iter().enumerate().all(|(i, &r)| r as usize == i);
        if !identity {
            select(model, state, &idx, device)?;
        }
        active = still;
        last = next;
    }
    Ok(all
        .into_iter()
        .map(|s| {
            s.finished
                .into_iter()
                .take(cfg.num_return)
                .map(|slot| {
                    let (ids, finished) = strip_eos(&slot.tokens, eos);
                    Hypothesis {
                        ids,
                        score: slot.score,
                        finished,
                    }
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::top_indices;

    #[test]
    fn top_indices_sorts_and_breaks_ties_low() {
        let v = [0.5, 2.0, -1.0, 2.0, 7.0, 0.0];
        assert_eq!(top_indices(&v, 3), vec![4, 1, 3]);
        assert_eq!(top_indices(&v, 10), vec![4, 1, 3, 0, 5, 2]);
        assert!(top_indices(&v, 0).is_empty());
        assert_eq!(top_indices(&[1.0, 1.0, 1.0, 2.0], 2), vec![3, 0]);
        assert_eq!(
            top_indices(&[f32::NEG_INFINITY, -1e9, 0.0], 3),
            vec![2, 1, 0]
        );
    }

    #[test]
    fn top_continuations_equal_a_full_sort() {
        use super::{top_continuations, Beam};
        let beam = |score| Beam {
            tokens: Vec::new(),
            score,
        };
        // Many equal scores (ties to the lower index) and a beam at transformers' -1e9.
        let running = [beam(0.0), beam(-1.5), beam(-1e9)];
        let lp: Vec<f32> = (0..3 * 7).map(|i| -((i * 37 % 11) as f32) * 0.25).collect();
        let acc: Vec<f32> = lp
            .iter()
            .enumerate()
            .map(|(i, &x)| x + running[i / 7].score)
            .collect();
        for m in [1, 4, 6, 21, 30] {
            let got = top_continuations(&lp, 7, &running, m);
            let want: Vec<(usize, f32)> = top_indices(&acc, m)
                .into_iter()
                .map(|i| (i, acc[i]))
                .collect();
            assert_eq!(got, want, "m = {m}");
        }
    }
}
