//! Parity with reference outputs: a model directory next to an `io.safetensors` holding the
//! inputs and the outputs a reference implementation (transformers, a PyTorch restatement)
//! produced for them. [`check_reference`] runs the model on the same inputs, on whatever device
//! and in whatever precision the caller set up, and reports the largest deviation per output over
//! the real (non-padding) positions.
//!
//! The golden tests use it on the CPU; `chemlm bench parity` runs it anywhere, e.g. on a GPU in
//! bf16, so the numbers that pin the architectures are checked on every device.
//!
//! `io.safetensors` keys: `input_ids`, `attention_mask` and `logits` and/or `last_hidden_state`
//! (`[b, s, ...]`); encoder-decoders add `decoder_input_ids` and `decoder_attention_mask`, and
//! their `logits` are `[b, t, vocab]` over the decoder positions.

use crate::error::{ModelError, ModelResult};
use crate::model::Model;
use crate::traits::LanguageModel;
use candle_core::{DType, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// The deviation of one output from its reference.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ParityRow {
    /// `logits` or `last_hidden_state`.
    pub output: String,
    /// Largest |ours - reference| over real positions.
    pub max_abs_diff: f64,
    /// Largest |reference| over the same positions (the scale for a relative tolerance).
    pub max_abs_ref: f64,
}

impl ParityRow {
    /// `max_abs_diff / max_abs_ref`.
    pub fn relative(&self) -> f64 {
        self.max_abs_diff / self.max_abs_ref.max(f64::MIN_POSITIVE)
    }
}

/// Loads `dir/io.safetensors` onto the model's device.
pub fn load_reference(dir: &Path, model: &Model) -> ModelResult<HashMap<String, Tensor>> {
    let path = dir.join("io.safetensors");
    if !path.exists() {
        return Err(ModelError::format(
            &path,
            "no reference outputs (io.safetensors)",
        ));
    }
    Ok(candle_core::safetensors::load(&path, model.device())?)
}

fn get<'a>(io: &'a HashMap<String, Tensor>, key: &str) -> ModelResult<&'a Tensor> {
    io.get(key)
        .ok_or_else(|| ModelError::format("io.safetensors", format!("no `{key}` tensor")))
}

/// Max |a - b| and max |b| over the first `lengths[i]` positions of each row `i`.
fn deviation(got: &Tensor, want: &Tensor, lengths: &[u32]) -> ModelResult<(f64, f64)> {
    if got.dims() != want.dims() {
        return Err(ModelError::format(
            "io.safetensors",
            format!("output shape {:?}, reference {:?}", got.dims(), want.dims()),
        ));
    }
    let (mut diff, mut scale) = (0f64, 0f64);
    for (i, &n) in lengths.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let a = got.get(i)?.narrow(0, 0, n as usize)?.to_dtype(DType::F64)?;
        let b = want
            .get(i)?
            .narrow(0, 0, n as usize)?
            .to_dtype(DType::F64)?;
        let d: f64 = (a - &b)?.abs()?.flatten_all()?.max(0)?.to_scalar()?;
        let s: f64 = b.abs()?.flatten_all()?.max(0)?.to_scalar()?;
        diff = diff.max(d);
        scale = scale.max(s);
    }
    Ok((diff, scale))
}

fn lengths(mask: &Tensor) -> ModelResult<Vec<u32>> {
    Ok(mask.to_dtype(DType::U32)?.sum(1)?.to_vec1()?)
}

/// Runs `model` (eval mode) on the reference inputs and compares every reference output it
/// holds. Logits are skipped for a model loaded without its LM head.
pub fn check_reference(model: &Model, io: &HashMap<String, Tensor>) -> ModelResult<Vec<ParityRow>> {
    let ids = get(io, "input_ids")?.to_dtype(DType::U32)?;
    let mask = get(io, "attention_mask")?.to_dtype(DType::U32)?;
    let mut rows = Vec::new();
    let mut push = |output: &str, got: &Tensor, want: &Tensor, lens: &[u32]| -> ModelResult<()> {
        let (max_abs_diff, max_abs_ref) = deviation(got, want, lens)?;
        rows.push(ParityRow {
            output: output.to_string(),
            max_abs_diff,
            max_abs_ref,
        });
        Ok(())
    };
    if let Some(t5) = model.as_t5() {
        let dec = get(io, "decoder_input_ids")?.to_dtype(DType::U32)?;
        let dec_mask = get(io, "decoder_attention_mask")?.to_dtype(DType::U32)?;
        let got = t5.forward(&ids, &mask, &dec, Some(&dec_mask), false)?;
        push("logits", &got, get(io, "logits")?, &lengths(&dec_mask)?)?;
        return Ok(rows);
    }
    let lens = lengths(&mask)?;
    if let (Some(want), true) = (io.get("logits"), model.lm_head_loaded()) {
        let got = model.forward_logits(&ids, &mask, false)?;
        push("logits", &got, want, &lens)?;
    }
    if let Some(want) = io.get("last_hidden_state") {
        let got = model.forward_hidden(&ids, &mask, false)?;
        push("last_hidden_state", &got, want, &lens)?;
    }
    if rows.is_empty() {
        return Err(ModelError::format(
            "io.safetensors",
            "no reference output this model can produce (logits need a loaded LM head)",
        ));
    }
    Ok(rows)
}
