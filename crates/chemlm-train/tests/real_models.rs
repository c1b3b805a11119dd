//! The trainer on chemlm's real architectures (small MoLFormer and GPT-Neo configs) fed from
//! token shards written by `chemlm-data`: losses fall, and a killed + resumed run with dropout
//! and random-feature redraws repeats the uninterrupted losses exactly.

mod common;
mod support;

use candle_core::Device;
use chemlm_data::prepare::{prepare, IgnoreObserver, PrepareConfig};
use chemlm_data::{BatchConfig, Batching, ShardSet};
use chemlm_models::{LanguageModel, LmKind, Model, ModelConfig};
use chemlm_train::objectives::{ClmObjective, Masker, MlmObjective, Objective, SpecialTokens};
use chemlm_train::optim::ScheduleKind;
use chemlm_train::{ShardSource, TrainConfig, Trainer};
use std::path::Path;
use std::sync::Arc;
use support::CrashAfter;

const MOLFORMER: &str = r#"
model_type = "molformer"
vocab_size = 64
hidden_size = 64
num_hidden_layers = 2
num_attention_heads = 4
intermediate_size = 64
hidden_dropout_prob = 0.1
embedding_dropout_prob = 0.1
max_position_embeddings = 128
num_random_features = 16
pad_token_id = 2
attention_type = "linear"
feature_map = "generalized_random"
"#;

const GPT_NEO: &str = r#"
model_type = "gpt_neo"
vocab_size = 64
hidden_size = 64
num_layers = 2
num_heads = 4
max_position_embeddings = 128
window_size = 16
attention_types = [[["global", "local"], 1]]
embed_dropout = 0.1
attention_dropout = 0.1
resid_dropout = 0.1
"#;

/// Shards of ~600 MOSES molecules (10 % validation), or None when the data is absent.
fn shards(dir: &Path) -> Option<ShardSet> {
    let smiles = common::moses_sample(600, 60)?;
    let csv = dir.join("sample.csv");
    std::fs::write(&csv, format!("SMILES\n{}\n", smiles.join("\n"))).unwrap();
    let mut cfg = PrepareConfig::new(vec![csv], dir.join("shards"));
    cfg.canonicalize = false;
    cfg.valid_fraction = 0.1;
    cfg.threads = Some(1);
    prepare(&cfg, &mut IgnoreObserver).unwrap();
    Some(ShardSet::open(&dir.join("shards")).unwrap())
}

fn sources(set: &ShardSet) -> (ShardSource, ShardSource) {
    let pad = set.tokenizer().unwrap().special_ids().pad;
    let bc = |shuffle| BatchConfig {
        batching: Batching::Tokens {
            max_tokens: 1024,
            max_sequences: None,
        },
        window: if shuffle { 500 } else { 1 },
        shuffle,
        seed: 4,
        max_len: Some(128),
        pad_to_multiple_of: 1,
    };
    let train = ShardSource::new(Arc::new(set.split("train").unwrap()), bc(true), pad, None);
    let valid = ShardSource::new(
        Arc::new(set.split("valid").unwrap()),
        bc(false),
        pad,
        Some(1),
    );
    (train.unwrap(), valid.unwrap())
}

fn model(text: &str, set: &ShardSet) -> Model {
    let mut cfg = ModelConfig::from_toml(text, "test").unwrap();
    cfg.set_vocab_size(set.tokenizer().unwrap().vocab_size());
    Model::new(&cfg, &Device::Cpu, 9).unwrap()
}

fn objective<'m>(m: &'m Model, set: &ShardSet) -> Box<dyn Objective + 'm> {
    let tok = set.tokenizer().unwrap();
    let sp = tok.special_ids();
    match m.kind() {
        LmKind::Masked => {
            let specials = SpecialTokens {
                vocab_size: tok.vocab_size() as u32,
                mask_id: sp.mask,
                pad_id: sp.pad,
                special_ids: vec![sp.bos, sp.eos, sp.pad, sp.mask, sp.unk],
            };
            let masker = Masker::new(Default::default(), &specials).unwrap();
            Box::new(MlmObjective::new(m, masker, Device::Cpu))
        }
        LmKind::Causal => Box::new(ClmObjective::new(m, Device::Cpu)),
        LmKind::Seq2Seq => panic!("seq2seq models have no single-sequence objective"),
    }
}

fn config(steps: u64) -> TrainConfig {
    TrainConfig {
        steps,
        lr: 3e-3,
        warmup_steps: 3,
        schedule: ScheduleKind::Linear,
        eval_every: steps / 2,
        eval_batches: Some(4),
        checkpoint_every: steps / 2,
        seed: 1,
        ..Default::default()
    }
}

fn loss_falls(text: &str) {
    if !common::data_dir_or_skip("real_models") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(set) = shards(tmp.path()) else {
        return;
    };
    let (mut train, mut valid) = sources(&set);
    let m = model(text, &set);
    let obj = objective(&m, &set);
    let mut tr = Trainer::new(config(24), m.varmap(), None).unwrap();
    let before = tr.evaluate(obj.as_ref(), &mut valid).unwrap();
    let s = tr.fit(obj.as_ref(), &mut train, Some(&mut valid)).unwrap();
    let after = s.last_valid.unwrap();
    eprintln!(
        "{:?}: valid loss {:.3} -> {:.3}",
        m.kind(),
        before.loss,
        after.loss
    );
    assert!(
        after.loss < 0.8 * before.loss,
        "validation loss did not fall clearly"
    );
}

#[test]
fn molformer_mlm_loss_falls() {
    loss_falls(MOLFORMER);
}

#[test]
fn gpt_neo_clm_loss_falls() {
    loss_falls(GPT_NEO);
}

#[test]
fn molformer_with_dropout_resumes_exactly() {
    if !common::data_dir_or_skip("real_models") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(set) = shards(tmp.path()) else {
        return;
    };
    let steps = 8;
    let straight = {
        let (mut train, mut valid) = sources(&set);
        let m = model(MOLFORMER, &set);
        let obj = objective(&m, &set);
        let mut tr = Trainer::new(config(steps), m.varmap(), Some(&tmp.path().join("a"))).unwrap();
        tr.fit(obj.as_ref(), &mut train, Some(&mut valid))
            .unwrap()
            .losses
    };
    {
        let (train, mut valid) = sources(&set);
        let m = model(MOLFORMER, &set);
        let obj = objective(&m, &set);
        let mut tr = Trainer::new(config(steps), m.varmap(), Some(&tmp.path().join("b"))).unwrap();
        let mut train = CrashAfter {
            inner: train,
            left: steps as usize / 2 + 1,
        };
        assert!(tr.fit(obj.as_ref(), &mut train, Some(&mut valid)).is_err());
    }
    let (mut train, mut valid) = sources(&set);
    let m = model(MOLFORMER, &set);
    let obj = objective(&m, &set);
    let mut tr = Trainer::new(config(steps), m.varmap(), Some(&tmp.path().join("b"))).unwrap();
    tr.resume_latest(&mut train).unwrap().expect("checkpoint");
    let resumed = tr
        .fit(obj.as_ref(), &mut train, Some(&mut valid))
        .unwrap()
        .losses;
    assert_eq!(resumed.len(), straight.len() / 2);
    for (k, (a, b)) in straight[straight.len() / 2..]
        .iter()
        .zip(&resumed)
        .enumerate()
    {
        assert!(
            (a - b).abs() <= 1e-6,
            "step {}: {a} vs {b}",
            k + 1 + straight.len() / 2
        );
    }
}

/// bf16 and f16 autocast training (f32 master weights and optimizer state, f16 with dynamic loss
/// scaling) follows the f32 run: the validation loss falls as far, to half-precision noise.
#[test]
fn mixed_precision_training_tracks_f32() {
    if !common::data_dir_or_skip("real_models") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(set) = shards(tmp.path()) else {
        return;
    };
    for text in [MOLFORMER, GPT_NEO] {
        let mut finals = Vec::new();
        for precision in [
            chemlm_models::Precision::F32,
            chemlm_models::Precision::Bf16,
            chemlm_models::Precision::F16,
        ] {
            let (mut train, mut valid) = sources(&set);
            let m = model(text, &set);
            let obj = objective(&m, &set);
            let cfg = TrainConfig {
                precision,
                ..config(24)
            };
            let mut tr = Trainer::new(cfg, m.varmap(), None).unwrap();
            let before = tr.evaluate(obj.as_ref(), &mut valid).unwrap().loss;
            let s = tr.fit(obj.as_ref(), &mut train, Some(&mut valid)).unwrap();
            let after = s.last_valid.unwrap().loss;
            eprintln!(
                "{:?} {precision}: valid loss {before:.4} -> {after:.4}",
                m.kind()
            );
            assert!(after < 0.8 * before, "{precision}: loss did not fall");
            // Weights stay f32 masters.
            for v in m.varmap().all_vars() {
                assert_eq!(v.dtype(), candle_core::DType::F32);
            }
            finals.push(after);
        }
        for (p, l) in ["bf16", "f16"].iter().zip(&finals[1..]) {
            let rel = (l - finals[0]).abs() / finals[0];
            assert!(
                rel < 0.05,
                "{p}: final loss {l} vs f32 {} ({rel})",
                finals[0]
            );
        }
    }
}
