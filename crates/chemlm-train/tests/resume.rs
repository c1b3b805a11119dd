//! A run killed after a checkpoint and resumed gives the same per-step losses as one that was not.

mod common;
mod support;

use candle_core::Device;
use candle_nn::VarMap;
use chemlm_models::LmKind;
use chemlm_train::data::{BatchingConfig, InMemorySource};
use chemlm_train::metrics::{read_metrics, MetricLine};
use chemlm_train::objectives::{
    ClmObjective, Masker, MaskingConfig, MlmObjective, Objective, SpecialTokens,
};
use chemlm_train::optim::{OptimizerKind, ScheduleKind};
use chemlm_train::{TrainConfig, Trainer};
use common::TinyLm;
use rand::{Rng, SeedableRng};
use support::CrashAfter;

const VOCAB: usize = 24;
const N: u64 = 6;

fn sequences(seed: u64, n: usize) -> Vec<Vec<u32>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.gen_range(4..14);
            let mut s = vec![common::BOS];
            // a learnable pattern: runs of increasing ids
            let start = rng.gen_range(4..VOCAB as u32);
            s.extend((0..len).map(|k| 4 + (start - 4 + k) % (VOCAB as u32 - 4)));
            s.push(common::EOS);
            s
        })
        .collect()
}

fn source(seed: u64, shuffle: bool, epochs: Option<u64>) -> InMemorySource {
    let cfg = BatchingConfig {
        max_tokens: 96,
        max_sequences: 16,
        bucket_window: 32,
        shuffle,
        epochs,
        seed,
    };
    InMemorySource::new(sequences(seed, 120), common::PAD, cfg).unwrap()
}

fn config(optimizer: OptimizerKind) -> TrainConfig {
    TrainConfig {
        steps: 2 * N,
        lr: 5e-3,
        warmup_steps: 3,
        schedule: ScheduleKind::Cosine,
        optimizer,
        grad_accum: 2,
        max_grad_norm: Some(0.5),
        seed: 11,
        eval_every: 4,
        checkpoint_every: N,
        keep_checkpoints: 1,
        ..Default::default()
    }
}

fn objective<'m>(kind: LmKind, model: &'m TinyLm) -> Box<dyn Objective + 'm> {
    match kind {
        LmKind::Masked => {
            let sp = SpecialTokens {
                vocab_size: VOCAB as u32,
                mask_id: common::MASK,
                pad_id: common::PAD,
                special_ids: vec![0, 1, 2, 3],
            };
            // A high mask rate so every micro-batch has targets.
            let cfg = MaskingConfig {
                mask_prob: 0.3,
                ..Default::default()
            };
            Box::new(MlmObjective::new(
                model,
                Masker::new(cfg, &sp).unwrap(),
                Device::Cpu,
            ))
        }
        LmKind::Causal => Box::new(ClmObjective::new(model, Device::Cpu)),
        LmKind::Seq2Seq => unreachable!("only masked and causal runs"),
    }
}

type Curve = Vec<(u64, f64)>;

fn losses(lines: &[MetricLine]) -> (Curve, Curve) {
    let mut train = Vec::new();
    let mut valid = Vec::new();
    for l in lines {
        match l {
            MetricLine::Train(r) => train.push((r.step, r.loss)),
            MetricLine::Valid(r) => valid.push((r.step, r.loss)),
        }
    }
    (train, valid)
}

fn check(kind: LmKind, optimizer: OptimizerKind) {
    let tmp = tempfile::tempdir().unwrap();
    // Uninterrupted run.
    let straight = {
        let vm = VarMap::new();
        let model = TinyLm::new(kind, VOCAB, 16, 16, &vm, 5).unwrap();
        let obj = objective(kind, &model);
        let dir = tmp.path().join("straight");
        let mut tr = Trainer::new(config(optimizer), &vm, Some(&dir)).unwrap();
        let mut train = source(1, true, None);
        let mut valid = source(2, false, Some(1));
        let s = tr.fit(obj.as_ref(), &mut train, Some(&mut valid)).unwrap();
        assert_eq!(s.steps, 2 * N);
        read_metrics(&dir.join("metrics.jsonl")).unwrap()
    };
    // Crash during step N + 2 (after step N + 1 was logged), then resume from the step-N
    // checkpoint with freshly built everything (different init, to prove weights are loaded).
    let dir = tmp.path().join("killed");
    {
        let vm = VarMap::new();
        let model = TinyLm::new(kind, VOCAB, 16, 16, &vm, 5).unwrap();
        let obj = objective(kind, &model);
        let mut tr = Trainer::new(config(optimizer), &vm, Some(&dir)).unwrap();
        let mut train = CrashAfter {
            inner: source(1, true, None),
            left: (2 * (N + 1) + 1) as usize,
        };
        let mut valid = source(2, false, Some(1));
        let err = tr
            .fit(obj.as_ref(), &mut train, Some(&mut valid))
            .unwrap_err();
        assert!(err.to_string().contains("simulated crash"));
    }
    let before = read_metrics(&dir.join("metrics.jsonl")).unwrap();
    assert!(
        before.iter().any(|l| l.step() == N + 1),
        "step N+1 was logged before the crash"
    );
    {
        let vm = VarMap::new();
        let model = TinyLm::new(kind, VOCAB, 16, 16, &vm, 999).unwrap();
        let obj = objective(kind, &model);
        let mut tr = Trainer::new(config(optimizer), &vm, Some(&dir)).unwrap();
        let mut train = source(1, true, None);
        let mut valid = source(2, false, Some(1));
        let ck = tr.resume_latest(&mut train).unwrap().expect("a checkpoint");
        assert!(ck.ends_with(format!("step-{N:08}")));
        assert_eq!(tr.step(), N);
        let s = tr.fit(obj.as_ref(), &mut train, Some(&mut valid)).unwrap();
        assert_eq!(s.losses.len() as u64, N);
    }
    let resumed = read_metrics(&dir.join("metrics.jsonl")).unwrap();
    let (ta, va) = losses(&straight);
    let (tb, vb) = losses(&resumed);
    assert_eq!(ta.len(), 2 * N as usize);
    assert_eq!(
        ta.iter().map(|x| x.0).collect::<Vec<_>>(),
        tb.iter().map(|x| x.0).collect::<Vec<_>>()
    );
    for ((s, a), (_, b)) in ta.iter().zip(&tb) {
        assert!(
            (a - b).abs() <= 1e-6,
            "{kind:?}/{optimizer:?} step {s}: {a} vs {b}"
        );
    }
    assert_eq!(va.len(), vb.len());
    for ((s, a), (_, b)) in va.iter().zip(&vb) {
        assert!((a - b).abs() <= 1e-6, "valid at step {s}: {a} vs {b}");
    }
    // The loss moved, so the comparison is not trivially between constant curves.
    assert!(ta.first().unwrap().1 != ta.last().unwrap().1);
    assert!(dir.join("loss.png").exists() && dir.join("loss.svg").exists());
}

#[test]
fn resume_mlm_adamw_is_exact() {
    check(LmKind::Masked, OptimizerKind::Adamw);
}

#[test]
fn resume_clm_lamb_is_exact() {
    check(LmKind::Causal, OptimizerKind::Lamb);
}
