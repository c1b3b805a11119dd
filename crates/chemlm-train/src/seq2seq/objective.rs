//! Teacher-forced sequence-to-sequence loss for T5: the decoder reads the target shifted right
//! (the decoder start token first, as Hugging Face's `_shift_right`) and predicts every real
//! target token; padding is neither read as a target nor counted.

use crate::data::Batch;
use crate::error::{Result, TrainError};
use crate::objectives::{loss, LossOutput, Objective};
use candle_core::{Device, Tensor};
use chemlm_models::t5::T5;
use chemlm_models::LanguageModel;
use rand_chacha::ChaCha8Rng;

/// Cross-entropy of a T5 model on (source, target) batches from a [`PairSource`](super::PairSource).
pub struct Seq2SeqObjective<'m> {
    model: &'m T5,
    device: Device,
}

impl<'m> Seq2SeqObjective<'m> {
    /// The loss of `model`, whose inputs live on `device`.
    pub fn new(model: &'m T5, device: Device) -> Self {
        Seq2SeqObjective { model, device }
    }
}

/// Decoder inputs (targets shifted right after `start`, padded with `pad`) and the flat
/// positions / ids of the real target tokens, for a `[batch, seq]` target batch.
pub fn teacher_forcing(targets: &Batch, start: u32, pad: u32) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let (b, t) = (targets.batch_size, targets.seq_len);
    let mut inputs = vec![pad; b * t];
    let mut positions = Vec::new();
    let mut labels = Vec::new();
    for r in 0..b {
        let row = &targets.ids[r * t..(r + 1) * t];
        let mask = &targets.mask[r * t..(r + 1) * t];
        for c in 0..t {
            inputs[r * t + c] = if c == 0 {
                start
            } else if mask[c - 1] != 0 {
                row[c - 1]
            } else {
                pad
            };
            if mask[c] != 0 {
                positions.push((r * t + c) as u32);
                labels.push(row[c]);
            }
        }
    }
    (inputs, positions, labels)
}

impl Objective for Seq2SeqObjective<'_> {
    fn name(&self) -> &str {
        "seq2seq"
    }

    fn set_seed(&self, seed: u64) {
        self.model.set_seed(seed);
    }

    fn compute(&self, batch: &Batch, _rng: &mut ChaCha8Rng, train: bool) -> Result<LossOutput> {
        let targets = batch.targets.as_deref().ok_or_else(|| {
            TrainError::Data("a seq2seq objective needs (source, target) batches".into())
        })?;
        if targets.batch_size != batch.batch_size {
            return Err(TrainError::Data(format!(
                "{} sources but {} targets in a batch",
                batch.batch_size, targets.batch_size
            )));
        }
        let cfg = self.model.config();
        let (dec_in, positions, labels) =
            teacher_forcing(targets, cfg.decoder_start_token_id, cfg.pad_token_id);
        let (ids, mask) = batch.tensors(&batch.ids, &self.device)?;
        let dec = Tensor::from_vec(dec_in, (targets.batch_size, targets.seq_len), &self.device)?;
        // Right padding under a causal decoder: padded positions never influence real ones, so
        // no decoder mask is needed (Hugging Face trains the same way, with labels -100).
        let enc = self.model.encode(&ids, &mask, train)?;
        let hidden = self.model.decode_hidden(&dec, None, &enc, &mask, train)?;
        // The LM head only sees the positions with a label (all of them in a full batch, when
        // no copy is made): its [tokens, vocab] output is the step's largest tensor.
        let (b, t, d) = hidden.dims3()?;
        let flat = hidden.reshape((b * t, d))?;
        let hidden = if positions.len() == b * t {
            flat
        } else {
            let idx = Tensor::from_slice(&positions, positions.len(), &self.device)?;
            flat.index_select(&idx, 0)?
        };
        let selected = self.model.lm_logits(&hidden)?;
        let tg = loss::targets_tensor(&labels, &self.device)?;
        let loss_sum = loss::cross_entropy_sum(&selected, &tg)?;
        let correct = if train {
            None
        } else {
            Some(loss::count_correct(&selected, &labels)?)
        };
        Ok(LossOutput {
            loss_sum,
            weight: labels.len() as f64,
            correct,
            tokens: batch.real_tokens(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_right_keeps_rows_and_skips_padding() {
        let t = Batch::from_sequences(&[&[5, 6, 1], &[7, 1]], 0, 0);
        let (inp, pos, lab) = teacher_forcing(&t, 0, 0);
        assert_eq!(inp, vec![0, 5, 6, 0, 7, 1]);
        assert_eq!(pos, vec![0, 1, 2, 3, 4]);
        assert_eq!(lab, vec![5, 6, 1, 7, 1]);
    }

    /// The loss (and its gradients) with the LM head applied to the labelled positions only
    /// equal the full-logits formulation (every position through the head, then selected), on a
    /// padded batch and on a full one, tied and untied heads.
    #[test]
    fn head_on_labelled_positions_equals_full_logits() {
        use chemlm_models::config::ModelConfig;
        use chemlm_models::{presets, Model};
        use rand::SeedableRng;
        for gated in [false, true] {
            let mut cfg = presets::preset("t5-tiny").unwrap();
            if let ModelConfig::T5(c) = &mut cfg {
                c.vocab_size = 40;
                if gated {
                    c.feed_forward_proj = "gated-gelu".into();
                    c.tie_word_embeddings = false;
                }
            }
            let model = Model::new(&cfg, &Device::Cpu, 3).unwrap();
            let t5 = model.as_t5().unwrap();
            let objective = Seq2SeqObjective::new(t5, Device::Cpu);
            let padded: [&[u32]; 2] = [&[5, 6, 7, 1], &[8, 1]];
            let full: [&[u32]; 2] = [&[5, 6, 7, 1], &[8, 9, 10, 1]];
            for targets in [padded, full] {
                let mut batch = Batch::from_sequences(&[&[11, 12, 13, 1], &[14, 1]], 0, 0);
                batch.targets = Some(Box::new(Batch::from_sequences(&targets, 0, 0)));
                let mut rng = ChaCha8Rng::seed_from_u64(0);
                let got = objective.compute(&batch, &mut rng, false).unwrap();

                let t = batch.targets.as_deref().unwrap();
                let (dec, pos, lab) = teacher_forcing(t, 0, 0);
                let (ids, mask) = batch.tensors(&batch.ids, &Device::Cpu).unwrap();
                let dec = Tensor::from_vec(dec, (t.batch_size, t.seq_len), &Device::Cpu).unwrap();
                let logits = t5.forward(&ids, &mask, &dec, None, false).unwrap();
                let sel = loss::select_positions(&logits, &pos).unwrap();
                let tg = loss::targets_tensor(&lab, &Device::Cpu).unwrap();
                let want = loss::cross_entropy_sum(&sel, &tg).unwrap();

                assert_eq!(got.weight, lab.len() as f64);
                let (g, w) = (
                    got.loss_sum.to_scalar::<f32>().unwrap(),
                    want.to_scalar::<f32>().unwrap(),
                );
                assert!((g - w).abs() < 1e-5 * w.abs().max(1.0), "{g} vs {w}");
                let (gg, gw) = (got.loss_sum.backward().unwrap(), want.backward().unwrap());
                for (name, var) in model.varmap().data().lock().unwrap().iter() {
                    let (a, b) = (gg.get(var.as_tensor()), gw.get(var.as_tensor()));
                    let (Some(a), Some(b)) = (a, b) else {
                        assert!(
                            a.is_none() && b.is_none(),
                            "{name}: gradient on one side only"
                        );
                        continue;
                    };
                    let max_abs = |t: &Tensor| -> f32 {
                        t.abs()
                            .unwrap()
                            .flatten_all()
                            .unwrap()
                            .max(0)
                            .unwrap()
                            .to_scalar()
                            .unwrap()
                    };
                    // Relative to the gradient's scale: summation order differs (f32 ulps).
                    let d = max_abs(&(a - b).unwrap()) / max_abs(b).max(1e-3);
                    assert!(d < 1e-5, "gated={gated}, {name}: gradients differ by {d}");
                }
            }
        }
    }
}
