//! Decoding algorithms on a deterministic mock encoder-decoder: beam search against exhaustive
//! search, greedy against beam search with one beam and against the step-by-step argmax path,
//! early-stopping variants, num_return ordering, batching, sampling streams and validation.
//!
//! The mock's next-token logits are a pseudo-random function of (source tokens, whole decoder
//! prefix), so any mistake in following beams through `select_rows` changes the logits a row sees
//! and shows up as a score that does not match the returned tokens.

use candle_core::{Device, Result, Tensor};
use chemlm_models::seq2seq::{
    generate, BeamConfig, DecodeConfig, EarlyStopping, Hypothesis, SampleConfig, Seq2SeqModel,
    Strategy,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PAD: u32 = 0;
const EOS: u32 = 1;
const START: u32 = 0;

/// Deterministic stand-in for T5: logits depend on the unpadded source and the decoder prefix.
struct Mock {
    vocab: usize,
    seed: u64,
    /// Added to eos's logit per decoder position, so that sequences end.
    eos_drift: f32,
    /// Added to eos's logit everywhere.
    eos_offset: f32,
}

#[derive(Clone)]
struct Row {
    key: u64,
    prefix: Vec<u32>,
}

struct State {
    rows: Vec<Row>,
}

fn fnv(mut h: u64, x: u64) -> u64 {
    for b in x.to_le_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

impl Mock {
    fn new(vocab: usize, seed: u64, eos_drift: f32) -> Self {
        Mock {
            vocab,
            seed,
            eos_drift,
            eos_offset: 0.0,
        }
    }

    /// Logits after the decoder prefix `prefix` (decoder start included).
    fn logits(&self, key: u64, prefix: &[u32]) -> Vec<f32> {
        let mut h = fnv(0xcbf29ce484222325, self.seed);
        h = fnv(h, key);
        for &t in prefix {
            h = fnv(h, t as u64 + 1);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(h);
        let mut v: Vec<f32> = (0..self.vocab).map(|_| rng.gen_range(-3.0..3.0)).collect();
        v[EOS as usize] += self.eos_offset + self.eos_drift * (prefix.len() as f32 - 2.0);
        v
    }

    fn log_probs(&self, key: u64, prefix: &[u32]) -> Vec<f64> {
        let l = self.logits(key, prefix);
        let max = l.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let z: f64 = l.iter().map(|&x| (x as f64 - max).exp()).sum();
        l.iter().map(|&x| x as f64 - max - z.ln()).collect()
    }

    fn source_key(tokens: &[u32]) -> u64 {
        tokens
            .iter()
            .fold(0x84222325cbf29ce4, |h, &t| fnv(h, t as u64))
    }
}

impl Seq2SeqModel for Mock {
    type State = State;

    fn start(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<State> {
        let ids: Vec<Vec<u32>> = input_ids.to_vec2()?;
        let mask: Vec<Vec<u32>> = attention_mask.to_vec2()?;
        let rows = ids
            .iter()
            .zip(&mask)
            .map(|(i, m)| {
                let toks: Vec<u32> = i
                    .iter()
                    .zip(m)
                    .filter(|(_, &m)| m == 1)
                    .map(|(&t, _)| t)
                    .collect();
                Row {
                    key: Mock::source_key(&toks),
                    prefix: Vec::new(),
                }
            })
            .collect();
        Ok(State { rows })
    }

    fn step(&self, state: &mut State, last: &Tensor) -> Result<Tensor> {
        let last: Vec<u32> = last.to_vec1()?;
        if last.len() != state.rows.len() {
            candle_core::bail!("{} tokens for {} rows", last.len(), state.rows.len());
        }
        let mut flat = Vec::new();
        for (row, &t) in state.rows.iter_mut().zip(&last) {
            if row.prefix.is_empty() && t != START {
                candle_core::bail!("first token {t} is not the decoder start");
            }
            row.prefix.push(t);
            flat.extend(self.logits(row.key, &row.prefix));
        }
        Tensor::from_vec(flat, (last.len(), self.vocab), &Device::Cpu)
    }

    fn select_rows(&self, state: &mut State, idx: &Tensor) -> Result<()> {
        let idx: Vec<u32> = idx.to_vec1()?;
        let mut rows = Vec::with_capacity(idx.len());
        for i in idx {
            match state.rows.get(i as usize) {
                Some(r) => rows.push(r.clone()),
                None => candle_core::bail!("row {i} out of range"),
            }
        }
        state.rows = rows;
        Ok(())
    }

    fn decoder_start_token_id(&self) -> u32 {
        START
    }
    fn eos_token_id(&self) -> u32 {
        EOS
    }
    fn pad_token_id(&self) -> u32 {
        PAD
    }
}

/// Right-padded batch of sources (ids >= 2 so that no source token is pad).
fn batch(sources: &[Vec<u32>]) -> (Tensor, Tensor) {
    let s = sources.iter().map(Vec::len).max().unwrap();
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for src in sources {
        for j in 0..s {
            ids.push(src.get(j).copied().unwrap_or(PAD));
            mask.push(u32::from(j < src.len()));
        }
    }
    let n = sources.len();
    (
        Tensor::from_vec(ids, (n, s), &Device::Cpu).unwrap(),
        Tensor::from_vec(mask, (n, s), &Device::Cpu).unwrap(),
    )
}

fn beam_cfg(
    beams: usize,
    num_return: usize,
    length_penalty: f64,
    early_stopping: EarlyStopping,
    max_length: usize,
) -> DecodeConfig {
    DecodeConfig {
        strategy: Strategy::Beam(BeamConfig {
            beams,
            num_return,
            length_penalty,
            early_stopping,
        }),
        max_length,
        ..Default::default()
    }
}

fn run(model: &Mock, sources: &[Vec<u32>], cfg: &DecodeConfig) -> Vec<Vec<Hypothesis>> {
    let (ids, mask) = batch(sources);
    generate(model, &ids, &mask, cfg).unwrap()
}

/// Exhaustive search over every possible output of one source.
struct Exhaustive<'a> {
    model: &'a Mock,
    key: u64,
    max_new: usize,
    min_length: usize,
    length_penalty: f64,
}

impl Exhaustive<'_> {
    /// Every possible output (eos-terminated, or cut at `max_new` tokens), with transformers'
    /// finished score, best first.
    fn all(&self) -> Vec<(Vec<u32>, f64)> {
        let mut out = Vec::new();
        self.walk(&mut Vec::new(), 0.0, &mut out);
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }

    fn walk(&self, prefix: &mut Vec<u32>, sum: f64, out: &mut Vec<(Vec<u32>, f64)>) {
        let mut dec = vec![START];
        dec.extend_from_slice(prefix);
        let log_probs = self.model.log_probs(self.key, &dec);
        let len = prefix.len() + 1;
        for (t, &l) in log_probs.iter().enumerate() {
            let t = t as u32;
            if t == EOS && dec.len() < self.min_length {
                continue;
            }
            if t == EOS || len == self.max_new {
                let mut ids = prefix.clone();
                if t != EOS {
                    ids.push(t);
                }
                out.push((ids, (sum + l) / (len as f64).powf(self.length_penalty)));
            } else {
                prefix.push(t);
                self.walk(prefix, sum + l, out);
                prefix.pop();
            }
        }
    }
}

/// The score transformers gives `h` (recomputed from the model, independently of the search).
fn rescore(model: &Mock, key: u64, h: &Hypothesis, length_penalty: f64) -> f64 {
    let mut dec = vec![START];
    let mut sum = 0.0;
    let mut toks = h.ids.clone();
    if h.finished {
        toks.push(EOS);
    }
    for &t in &toks {
        sum += model.log_probs(key, &dec)[t as usize];
        dec.push(t);
    }
    sum / (toks.len() as f64).powf(length_penalty)
}

#[test]
fn wide_beam_search_equals_exhaustive_search() {
    // 4 tokens (pad, eos, 2, 3), at most 4 new tokens: 27 live prefixes at the last step, 108
    // candidates; 108 beams keep every one of them, so the beam search must be exact.
    let model = Mock::new(4, 7, 0.3);
    let src = vec![5u32, 9, 2];
    let key = Mock::source_key(&src);
    for (lp, min_length) in [(1.0, 0), (0.0, 0), (0.6, 0), (2.0, 3), (-0.5, 0)] {
        let mut cfg = beam_cfg(108, 20, lp, EarlyStopping::Never, 5);
        cfg.min_length = min_length;
        let got = &run(&model, std::slice::from_ref(&src), &cfg)[0];
        let want = Exhaustive {
            model: &model,
            key,
            max_new: 4,
            min_length,
            length_penalty: lp,
        }
        .all();
        assert_eq!(got.len(), 20);
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.ids, w.0, "lp {lp}: {got:?}\nvs {want:?}");
            assert!((g.score as f64 - w.1).abs() < 1e-4, "lp {lp}");
        }
    }
}

#[test]
fn returned_scores_match_their_tokens_and_are_sorted() {
    let model = Mock::new(12, 3, 0.6);
    let sources = vec![vec![4u32, 5, 6, 7], vec![9, 3], vec![2, 2, 8]];
    for es in [
        EarlyStopping::Enabled,
        EarlyStopping::Heuristic,
        EarlyStopping::Never,
    ] {
        for lp in [0.6, 1.0, 2.0] {
            let out = run(&model, &sources, &beam_cfg(5, 5, lp, es, 14));
            let mut finished = 0;
            for (src, hyps) in sources.iter().zip(&out) {
                let key = Mock::source_key(src);
                assert_eq!(hyps.len(), 5);
                for w in hyps.windows(2) {
                    assert!(w[0].score >= w[1].score);
                }
                for h in hyps {
                    let want = rescore(&model, key, h, lp);
                    assert!((h.score as f64 - want).abs() < 1e-4, "{h:?} vs {want}");
                    assert!(h.finished || h.ids.len() == 13);
                    assert!(!h.ids.contains(&EOS));
                    finished += usize::from(h.finished);
                }
            }
            // The drift makes most hypotheses end before the length limit.
            assert!(finished >= 8, "{es:?} {lp}: only {finished} finished");
        }
    }
}

#[test]
fn num_return_takes_the_best_of_the_same_search() {
    let model = Mock::new(10, 11, 0.5);
    let sources = vec![vec![3u32, 4], vec![7, 7, 7, 2]];
    let all = run(
        &model,
        &sources,
        &beam_cfg(6, 6, 1.0, EarlyStopping::Heuristic, 12),
    );
    for n in 1..=6 {
        let some = run(
            &model,
            &sources,
            &beam_cfg(6, n, 1.0, EarlyStopping::Heuristic, 12),
        );
        for (a, s) in all.iter().zip(&some) {
            assert_eq!(&a[..n], &s[..]);
        }
    }
}

#[test]
fn early_stopping_variants_are_ordered() {
    // The running beams do not depend on early stopping; later stopping only adds candidates
    // to the finished set, so the k-th best score can only grow: never >= false >= true.
    let model = Mock::new(9, 21, 0.25);
    let sources: Vec<Vec<u32>> = (0..6).map(|i| vec![2 + i, 3, 4 + i]).collect();
    let mut strictly = 0;
    for lp in [0.6, 1.0, 2.0] {
        let get = |es| run(&model, &sources, &beam_cfg(4, 4, lp, es, 16));
        let (t, f, n) = (
            get(EarlyStopping::Enabled),
            get(EarlyStopping::Heuristic),
            get(EarlyStopping::Never),
        );
        for s in 0..sources.len() {
            for i in 0..4 {
                assert!(n[s][i].score >= f[s][i].score - 1e-6);
                assert!(f[s][i].score >= t[s][i].score - 1e-6);
            }
            strictly += usize::from(t[s] != n[s]);
        }
    }
    assert!(strictly > 0, "the variants never differed: a weak test");
}

#[test]
fn greedy_equals_one_beam_and_the_argmax_path() {
    let model = Mock::new(15, 5, 0.4);
    let sources = vec![vec![2u32, 3, 4], vec![5], vec![6, 7, 8, 9, 10]];
    let greedy = run(
        &model,
        &sources,
        &DecodeConfig {
            max_length: 15,
            ..Default::default()
        },
    );
    let beam1 = run(
        &model,
        &sources,
        &beam_cfg(1, 1, 1.0, EarlyStopping::Enabled, 15),
    );
    for ((src, g), b) in sources.iter().zip(&greedy).zip(&beam1) {
        assert_eq!(g[0].ids, b[0].ids);
        assert_eq!(g[0].finished, b[0].finished);
        // Step by step argmax.
        let key = Mock::source_key(src);
        let mut dec = vec![START];
        let mut sum = 0.0;
        let mut ids = Vec::new();
        loop {
            let lp = model.log_probs(key, &dec);
            let t = (0..lp.len()).fold(0, |a, i| if lp[i] > lp[a] { i } else { a }) as u32;
            sum += lp[t as usize];
            if t == EOS {
                break;
            }
            ids.push(t);
            dec.push(t);
            if ids.len() == 14 {
                break;
            }
        }
        assert_eq!(g[0].ids, ids);
        assert!((g[0].score as f64 - sum).abs() < 1e-4);
    }
}

#[test]
fn batched_sources_decode_as_one_by_one() {
    let model = Mock::new(11, 8, 0.3);
    let sources = vec![
        vec![2u32, 3, 4, 5, 6, 7],
        vec![8],
        vec![9, 4],
        vec![3, 3, 3],
    ];
    let configs = [
        DecodeConfig {
            max_length: 12,
            ..Default::default()
        },
        beam_cfg(4, 3, 0.6, EarlyStopping::Heuristic, 12),
        beam_cfg(3, 1, 2.0, EarlyStopping::Enabled, 18),
        DecodeConfig {
            strategy: Strategy::Sample(SampleConfig {
                temperature: 0.9,
                top_k: Some(6),
                top_p: Some(0.95),
                seed: 4,
                num_return: 3,
                first_source: 0,
            }),
            max_new_tokens: Some(10),
            ..Default::default()
        },
    ];
    for cfg in configs {
        let all = run(&model, &sources, &cfg);
        for (i, src) in sources.iter().enumerate() {
            let mut one_cfg = cfg;
            if let Strategy::Sample(s) = &mut one_cfg.strategy {
                s.first_source = i as u64;
            }
            let one = run(&model, std::slice::from_ref(src), &one_cfg);
            assert_eq!(one[0], all[i], "{cfg:?} source {i}");
        }
    }
}

#[test]
fn sampling_is_seeded_and_filters_apply() {
    let model = Mock::new(13, 2, 0.2);
    let sources = vec![vec![2u32, 5], vec![7, 8, 9]];
    let cfg = |seed, top_k, temperature| DecodeConfig {
        strategy: Strategy::Sample(SampleConfig {
            temperature,
            top_k,
            top_p: None,
            seed,
            num_return: 4,
            first_source: 0,
        }),
        max_length: 16,
        ..Default::default()
    };
    let a = run(&model, &sources, &cfg(1, None, 1.0));
    assert_eq!(a, run(&model, &sources, &cfg(1, None, 1.0)));
    assert_ne!(a, run(&model, &sources, &cfg(2, None, 1.0)));
    // The samples of one source differ from each other (their own streams).
    assert!(a[0].iter().any(|h| h.ids != a[0][0].ids));
    // top-k = 1 is greedy, whatever the seed and temperature.
    let greedy = run(
        &model,
        &sources,
        &DecodeConfig {
            max_length: 16,
            ..Default::default()
        },
    );
    for seed in [0, 9] {
        for (s, g) in run(&model, &sources, &cfg(seed, Some(1), 1.7))
            .iter()
            .zip(&greedy)
        {
            for h in s {
                assert_eq!(h, &g[0]);
            }
        }
    }
}

#[test]
fn min_length_forbids_early_eos() {
    let model = Mock::new(8, 6, 1.5);
    let sources = vec![vec![2u32, 3], vec![4]];
    for strategy in [
        Strategy::Greedy,
        Strategy::Beam(BeamConfig {
            beams: 3,
            num_return: 3,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
        }),
        Strategy::Sample(SampleConfig::default()),
    ] {
        let free = DecodeConfig {
            strategy,
            max_length: 20,
            ..Default::default()
        };
        let short = run(&model, &sources, &free)
            .iter()
            .flatten()
            .map(|h| h.ids.len())
            .min()
            .unwrap();
        assert!(short < 5, "{strategy:?}: the test needs an early eos");
        let bounded = DecodeConfig {
            min_length: 7,
            ..free
        };
        for h in run(&model, &sources, &bounded).iter().flatten() {
            // eos at decoder length >= 7: at least 6 tokens before it.
            assert!(h.ids.len() >= 6, "{strategy:?}: {h:?}");
        }
    }
}

#[test]
fn bad_options_and_inputs_are_reported() {
    let model = Mock::new(6, 1, 0.0);
    let (ids, mask) = batch(&[vec![2, 3]]);
    let err =
        |cfg: &DecodeConfig, m: &Tensor| generate(&model, &ids, m, cfg).unwrap_err().to_string();
    assert!(
        err(&beam_cfg(3, 4, 1.0, EarlyStopping::Heuristic, 10), &mask).contains("cannot exceed")
    );
    assert!(err(&beam_cfg(0, 1, 1.0, EarlyStopping::Heuristic, 10), &mask).contains("beams"));
    let bad_mask = Tensor::ones((1, 3), candle_core::DType::U32, &Device::Cpu).unwrap();
    assert!(err(&DecodeConfig::default(), &bad_mask).contains("mask"));
    // An empty batch decodes to nothing.
    let empty = Tensor::zeros((0, 4), candle_core::DType::U32, &Device::Cpu).unwrap();
    assert!(generate(&model, &empty, &empty, &DecodeConfig::default())
        .unwrap()
        .is_empty());
}

#[test]
fn max_length_cuts_unfinished_hypotheses() {
    // No eos drift and a large negative eos bias: nothing finishes within 6 tokens.
    let model = Mock {
        eos_offset: -30.0,
        ..Mock::new(10, 4, 0.0)
    };
    let out = run(
        &model,
        &[vec![3u32]],
        &beam_cfg(3, 3, 1.0, EarlyStopping::Heuristic, 7),
    );
    for h in &out[0] {
        assert!(!h.finished);
        assert_eq!(h.ids.len(), 6);
    }
    let g = run(
        &model,
        &[vec![3u32]],
        &DecodeConfig {
            max_new_tokens: Some(4),
            ..Default::default()
        },
    );
    assert_eq!(g[0][0].ids.len(), 4);
}
