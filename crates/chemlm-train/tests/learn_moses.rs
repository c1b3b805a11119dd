//! A small model's MLM and CLM losses fall clearly on a MOSES sample.

mod common;

use candle_core::Device;
use candle_nn::VarMap;
use chemlm_models::LmKind;
use chemlm_train::data::{BatchingConfig, InMemorySource};
use chemlm_train::objectives::{
    ClmObjective, Masker, MaskingConfig, MlmObjective, Objective, SpecialTokens,
};
use chemlm_train::optim::ScheduleKind;
use chemlm_train::{TrainConfig, Trainer};
use common::{CharTok, TinyLm};

fn run(kind: LmKind) {
    if !common::data_dir_or_skip("learn_moses") {
        return;
    }
    let Some(smiles) = common::moses_sample(600, 62) else {
        return;
    };
    let tok = CharTok::fit(&smiles);
    let seqs: Vec<Vec<u32>> = smiles.iter().map(|s| tok.encode(s)).collect();
    let (train_seqs, valid_seqs) = seqs.split_at(500);
    let batching = |shuffle, epochs| BatchingConfig {
        max_tokens: 2048,
        max_sequences: 64,
        bucket_window: 500,
        shuffle,
        epochs,
        seed: 3,
    };
    let mut train =
        InMemorySource::new(train_seqs.to_vec(), common::PAD, batching(true, None)).unwrap();
    let mut valid =
        InMemorySource::new(valid_seqs.to_vec(), common::PAD, batching(false, Some(1))).unwrap();
    let vm = VarMap::new();
    let model = TinyLm::new(kind, tok.vocab_size(), 48, 64, &vm, 1).unwrap();
    let obj: Box<dyn Objective> = match kind {
        LmKind::Masked => {
            let sp = SpecialTokens {
                vocab_size: tok.vocab_size() as u32,
                mask_id: common::MASK,
                pad_id: common::PAD,
                special_ids: vec![0, 1, 2, 3],
            };
            Box::new(MlmObjective::new(
                &model,
                Masker::new(MaskingConfig::default(), &sp).unwrap(),
                Device::Cpu,
            ))
        }
        LmKind::Causal => Box::new(ClmObjective::new(&model, Device::Cpu)),
        LmKind::Seq2Seq => unreachable!("only masked and causal runs"),
    };
    let cfg = TrainConfig {
        steps: 80,
        lr: 1e-2,
        warmup_steps: 5,
        schedule: ScheduleKind::Linear,
        eval_every: 40,
        seed: 2,
        ..Default::default()
    };
    let mut tr = Trainer::new(cfg, &vm, None).unwrap();
    let before = tr.evaluate(obj.as_ref(), &mut valid).unwrap();
    let s = tr.fit(obj.as_ref(), &mut train, Some(&mut valid)).unwrap();
    let after = s.last_valid.unwrap();
    let head: f64 = s.losses[..5].iter().sum::<f64>() / 5.0;
    let tail: f64 = s.losses[s.losses.len() - 5..].iter().sum::<f64>() / 5.0;
    eprintln!(
        "{kind:?}: valid loss {:.3} -> {:.3} (accuracy {:?} -> {:?}); train {head:.3} -> {tail:.3}",
        before.loss, after.loss, before.accuracy, after.accuracy
    );
    assert!(
        after.loss < 0.7 * before.loss,
        "validation loss did not fall clearly"
    );
    assert!(tail < 0.7 * head, "training loss did not fall clearly");
    assert!(after.accuracy.unwrap() > before.accuracy.unwrap() + 0.2);
}

#[test]
fn mlm_loss_falls_on_moses() {
    run(LmKind::Masked);
}

#[test]
fn clm_loss_falls_on_moses() {
    run(LmKind::Causal);
}
