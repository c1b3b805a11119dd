//! T5's CPU decoding engine (plain f32 buffers, caches never copied on reorders) against the
//! full decoder pass and against the tensor path ([`TensorDecoding`]): step logits equal the
//! matching positions of `T5::decode` over the whole prefix through padded sources, beam-style
//! reorders, expansions and dropped rows, for the v1.0 (ReLU, tied head) and v1.1 (gated GELU,
//! untied head) layouts; `generate` gives the same tokens on both paths for greedy, beam search
//! and sampling. The transformers parity of the engine is checked by seq2seq_t5_golden.rs.

use candle_core::{Device, IndexOp, Tensor};
use chemlm_models::seq2seq::{
    generate, BeamConfig, DecodeConfig, EarlyStopping, SampleConfig, Seq2SeqModel, Strategy,
};
use chemlm_models::{autocast, Model, Precision, TensorDecoding, T5};

mod common;
use common::{ids, max_abs};

fn tiny(gated: bool) -> Model {
    common::tiny_t5(gated, 11)
}

/// Feeds column `j` of `dec` for the given original rows and returns the step's logits.
fn step(
    t5: &T5,
    st: &mut <T5 as Seq2SeqModel>::State,
    dec: &[Vec<u32>],
    rows: &[usize],
    j: usize,
) -> Tensor {
    let last: Vec<u32> = rows.iter().map(|&r| dec[r][j]).collect();
    let n = last.len();
    t5.step(st, &Tensor::from_vec(last, n, &Device::Cpu).unwrap())
        .unwrap()
}

/// `full[rows, j, :]`.
fn want(full: &Tensor, rows: &[usize], j: usize) -> Tensor {
    let idx: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
    let n = idx.len();
    full.index_select(&Tensor::from_vec(idx, n, &Device::Cpu).unwrap(), 0)
        .unwrap()
        .i((.., j, ..))
        .unwrap()
}

#[test]
fn cpu_engine_steps_equal_the_full_decoder_through_reorders() {
    for gated in [false, true] {
        let model = tiny(gated);
        let t5: &T5 = model.as_t5().unwrap();
        // Row 1 is padded (4 real tokens of 16); 15 decoder positions > max_distance 12.
        let (src, src_mask) = ids(&[
            &[5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1],
            &[20, 21, 22, 1],
        ]);
        let dec: Vec<Vec<u32>> = vec![
            vec![0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            vec![0, 9, 8, 7, 6, 5, 4, 3, 2, 30, 31, 32, 33, 34, 35],
        ];
        let dec_t = Tensor::from_vec(dec.concat(), (2, 15), &Device::Cpu).unwrap();
        let enc = t5.encode(&src, &src_mask, false).unwrap();
        let full = t5.decode(&dec_t, None, &enc, &src_mask, false).unwrap();
        let scale = max_abs(&full).max(1.0);
        let check = |got: &Tensor, want: &Tensor, what: &str| {
            let d = max_abs(&(got - want).unwrap()) / scale;
            assert!(d < 1e-5, "gated={gated}, {what}: differs by {d} (relative)");
        };

        // Straight through, one token per step.
        let mut st = t5.start(&src, &src_mask).unwrap();
        assert!(
            st.is_cpu_engine(),
            "an f32 CPU model decodes on the CPU engine"
        );
        for j in 0..15 {
            let got = step(t5, &mut st, &dec, &[0, 1], j);
            check(&got, &want(&full, &[0, 1], j), &format!("position {j}"));
        }
        assert_eq!(st.len(), 15);

        // Expand, reorder, drop: rows [1, 0, 1] after 5 positions, then [2, 0] (both source
        // 1, one of them written at position 5 by a row that sat elsewhere), then [1].
        let mut st = t5.start(&src, &src_mask).unwrap();
        for j in 0..5 {
            step(t5, &mut st, &dec, &[0, 1], j);
        }
        let select = |st: &mut <T5 as Seq2SeqModel>::State, idx: &[u32]| {
            let t = Tensor::from_vec(idx.to_vec(), idx.len(), &Device::Cpu).unwrap();
            t5.select_rows(st, &t).unwrap();
        };
        select(&mut st, &[1, 0, 1]);
        assert_eq!(st.rows().unwrap(), 3);
        check(
            &step(t5, &mut st, &dec, &[1, 0, 1], 5),
            &want(&full, &[1, 0, 1], 5),
            "expanded",
        );
        select(&mut st, &[2, 0]);
        check(
            &step(t5, &mut st, &dec, &[1, 1], 6),
            &want(&full, &[1, 1], 6),
            "reordered",
        );
        select(&mut st, &[1]);
        for j in 7..15 {
            check(
                &step(t5, &mut st, &dec, &[1], j),
                &want(&full, &[1], j),
                "dropped",
            );
        }

        // Bad input is an error, not a panic.
        let mut st = t5.start(&src, &src_mask).unwrap();
        assert!(t5
            .select_rows(&mut st, &Tensor::new(&[2u32], &Device::Cpu).unwrap())
            .is_err());
        assert!(t5
            .step(&mut st, &Tensor::new(&[0u32], &Device::Cpu).unwrap())
            .is_err());
        assert!(t5
            .step(&mut st, &Tensor::new(&[0u32, 40], &Device::Cpu).unwrap())
            .is_err());
    }
}

#[test]
fn generate_gives_the_same_tokens_on_both_paths() {
    let strategies = [
        Strategy::Greedy,
        Strategy::Beam(BeamConfig {
            beams: 4,
            num_return: 2,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
        }),
        Strategy::Beam(BeamConfig {
            beams: 3,
            num_return: 3,
            length_penalty: 0.6,
            early_stopping: EarlyStopping::Enabled,
        }),
        Strategy::Sample(SampleConfig {
            temperature: 0.9,
            top_k: Some(10),
            top_p: Some(0.95),
            seed: 5,
            num_return: 2,
            first_source: 0,
        }),
    ];
    for gated in [false, true] {
        let model = tiny(gated);
        let t5: &T5 = model.as_t5().unwrap();
        let (src, mask) = ids(&[&[5, 6, 7, 8, 9, 1], &[20, 21, 1], &[30, 31, 32, 33, 1]]);
        for strategy in strategies {
            let cfg = DecodeConfig {
                strategy,
                max_length: 18,
                max_new_tokens: None,
                min_length: 0,
            };
            let fast = generate(t5, &src, &mask, &cfg).unwrap();
            let slow = generate(&TensorDecoding(t5), &src, &mask, &cfg).unwrap();
            assert_eq!(fast.len(), slow.len());
            for (f, s) in fast.iter().zip(&slow) {
                assert_eq!(f.len(), s.len());
                for (a, b) in f.iter().zip(s) {
                    assert_eq!(a.ids, b.ids, "gated={gated}, {strategy:?}");
                    assert_eq!(a.finished, b.finished);
                    assert!(
                        (a.score - b.score).abs() < 1e-4,
                        "{} vs {}",
                        a.score,
                        b.score
                    );
                }
            }
        }
    }
}

#[test]
fn autocast_keeps_the_tensor_path() {
    let model = tiny(false);
    let t5: &T5 = model.as_t5().unwrap();
    let (src, mask) = ids(&[&[5, 6, 7, 1]]);
    assert!(t5.start(&src, &mask).unwrap().is_cpu_engine());
    let _scope = autocast(Precision::Bf16);
    assert!(!t5.start(&src, &mask).unwrap().is_cpu_engine());
}
