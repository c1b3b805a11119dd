//! Batched translation with a T5 model: prompt, tokenize, decode (greedy, beam search or
//! sampling), detokenize. The one entry point that `chemlm seq2seq`, `chemlm bench text-chem` and
//! the Python module share.
//!
//! Inputs are sorted by token length before batching (less padding, and a batch's beam search
//! stops with its longest source), and results are returned in input order. A source that cannot
//! be encoded (or is longer than the length limit) gets its own error; the others go on.

use crate::error::{Result, TrainError};
use candle_core::{Device, Tensor};
use chemlm_data::seq2seq::Task;
use chemlm_data::tokenizer::escape::CharEscape;
use chemlm_data::tokenizer::sentencepiece::Seq2SeqTokenizer;
use chemlm_models::seq2seq::{generate, DecodeConfig, Strategy};
use chemlm_models::t5::T5;
use std::path::Path;

/// File beside `tokenizer.json` holding the reversible character escape a repaired vocabulary
/// needs (see [`chemlm_data::tokenizer::escape`]).
pub const ESCAPE_FILE: &str = "escape.json";

/// Loads a model directory's tokenizer (`tokenizer.json`, or `spiece.model` when a checkpoint
/// ships only that), with its `escape.json` when present.
pub fn load_tokenizer(dir: &Path) -> Result<Seq2SeqTokenizer> {
    let tok = Seq2SeqTokenizer::from_dir(dir).map_err(|e| TrainError::Data(e.to_string()))?;
    let esc_path = dir.join(ESCAPE_FILE);
    if !esc_path.exists() {
        return Ok(tok);
    }
    let text = std::fs::read_to_string(&esc_path).map_err(|e| TrainError::io(&esc_path, e))?;
    let esc: CharEscape = serde_json::from_str(&text).map_err(|e| TrainError::Format {
        path: esc_path.clone(),
        reason: e.to_string(),
    })?;
    Ok(tok.with_escape(Some(esc)))
}

/// What to put before each input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// The paper's prompt of a task.
    Task(Task),
    /// The line as it is.
    None,
}

impl Prompt {
    /// `forward`, `retro`, `text2mol`, `mol2text`, `actions` or `none`.
    pub fn parse(s: &str) -> std::result::Result<Prompt, String> {
        if s.eq_ignore_ascii_case("none") {
            return Ok(Prompt::None);
        }
        Task::ALL
            .iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .map(|&t| Prompt::Task(t))
            .ok_or_else(|| {
                format!("unknown task `{s}` (forward, retro, text2mol, mol2text, actions, none)")
            })
    }

    /// The text the model reads for `line`.
    pub fn apply(&self, line: &str) -> String {
        match self {
            Prompt::Task(t) => format!("{}{line}", t.prompt()),
            Prompt::None => line.to_string(),
        }
    }
}

/// One output of one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Detokenized text (special tokens skipped).
    pub text: String,
    /// The decoder's score (beam search: length-penalised log-probability).
    pub score: f32,
    /// False when cut at the length limit before end-of-sequence.
    pub finished: bool,
}

/// Batched translation settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TranslateConfig {
    pub decode: DecodeConfig,
    /// Sources per forward batch (beam search runs `batch * beams` decoder rows).
    pub batch_size: usize,
    /// Longest accepted source in tokens (eos included); longer sources are reported, not cut.
    pub max_source_tokens: usize,
}

/// Decoding choices as a user states them (the `seq2seq` flags, the server's `/seq2seq` body),
/// turned into a [`TranslateConfig`] in one place: beam search when `beams` or `num_return`
/// exceed 1, sampling with `sample`, greedy otherwise.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeOptions {
    pub beams: usize,
    pub num_return: usize,
    pub length_penalty: f64,
    /// `true`, `false` (transformers' default) or `never`.
    pub early_stopping: String,
    /// Longest decoder sequence, the start token included (transformers' `max_length`).
    pub max_length: usize,
    pub sample: bool,
    pub temperature: f64,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub seed: u64,
    pub batch_size: usize,
    pub max_source_length: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            beams: 1,
            num_return: 1,
            length_penalty: 1.0,
            early_stopping: "false".into(),
            max_length: 512,
            sample: false,
            temperature: 1.0,
            top_k: None,
            top_p: None,
            seed: 0,
            batch_size: 16,
            max_source_length: 512,
        }
    }
}

impl DecodeOptions {
    /// The configuration, or why these options do not make one.
    pub fn translate_config(&self) -> Result<TranslateConfig> {
        use chemlm_models::seq2seq::{BeamConfig, EarlyStopping, SampleConfig};
        let strategy = if self.sample {
            Strategy::Sample(SampleConfig {
                temperature: self.temperature,
                top_k: self.top_k,
                top_p: self.top_p,
                seed: self.seed,
                num_return: self.num_return,
                first_source: 0,
            })
        } else if self.beams <= 1 && self.num_return <= 1 {
            Strategy::Greedy
        } else {
            Strategy::Beam(BeamConfig {
                beams: self.beams,
                num_return: self.num_return,
                length_penalty: self.length_penalty,
                early_stopping: self
                    .early_stopping
                    .parse::<EarlyStopping>()
                    .map_err(|e| TrainError::Config(e.to_string()))?,
            })
        };
        let decode = DecodeConfig {
            strategy,
            max_length: self.max_length,
            max_new_tokens: None,
            min_length: 0,
        };
        decode
            .validate()
            .map_err(|e| TrainError::Config(e.to_string()))?;
        if self.batch_size == 0 {
            return Err(TrainError::Config("batch size must be >= 1".into()));
        }
        Ok(TranslateConfig {
            decode,
            batch_size: self.batch_size,
            max_source_tokens: self.max_source_length,
        })
    }
}

/// A model and its tokenizer, ready to translate.
pub struct Translator<'a> {
    model: &'a T5,
    tokenizer: &'a Seq2SeqTokenizer,
    cfg: TranslateConfig,
    unk_as: Option<String>,
}

impl<'a> Translator<'a> {
    pub fn new(
        model: &'a T5,
        tokenizer: &'a Seq2SeqTokenizer,
        cfg: TranslateConfig,
    ) -> Result<Self> {
        cfg.decode
            .validate()
            .map_err(|e| TrainError::Config(e.to_string()))?;
        if cfg.batch_size == 0 {
            return Err(TrainError::Config("batch size must be >= 1".into()));
        }
        let vocab = model.config().vocab_size;
        if tokenizer.vocab_size() > vocab {
            return Err(TrainError::Config(format!(
                "the tokenizer has {} tokens but the model only {vocab}",
                tokenizer.vocab_size()
            )));
        }
        Ok(Translator {
            model,
            tokenizer,
            cfg,
            unk_as: None,
        })
    }

    /// Writes every generated `<unk>` as `text` (GT4SD's patch for the released checkpoints,
    /// whose T5 vocabulary has no `\`: `unk_as = "\\"` gives back stereo bonds). Without it,
    /// `<unk>` is dropped like the other special tokens.
    pub fn with_unk_as(mut self, text: Option<String>) -> Self {
        self.unk_as = text;
        self
    }

    pub fn config(&self) -> &TranslateConfig {
        &self.cfg
    }

    /// Translates `texts` (already prompted). Returns, in input order, the candidates of each
    /// text (`decode.num_return()` of them) or the reason it could not be translated.
    /// `progress(n)` is called after each batch with the number of texts it held.
    pub fn translate<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<std::result::Result<Vec<Candidate>, String>>> {
        let encoded: Vec<std::result::Result<Vec<u32>, String>> = texts
            .iter()
            .map(|t| {
                let ids = self
                    .tokenizer
                    .encode(t.as_ref())
                    .map_err(|e| format!("cannot tokenize: {e}"))?;
                if ids.len() > self.cfg.max_source_tokens {
                    return Err(format!(
                        "{} tokens, more than the limit of {}",
                        ids.len(),
                        self.cfg.max_source_tokens
                    ));
                }
                Ok(ids)
            })
            .collect();
        let mut out: Vec<std::result::Result<Vec<Candidate>, String>> = encoded
            .iter()
            .map(|e| match e {
                Ok(_) => Ok(Vec::new()),
                Err(m) => Err(m.clone()),
            })
            .collect();
        let mut order: Vec<usize> = (0..texts.len()).filter(|&i| encoded[i].is_ok()).collect();
        order.sort_by_key(|&i| encoded[i].as_ref().map_or(0, Vec::len));
        let device = self.model.device().clone();
        let pad = self.tokenizer.pad_id();
        let mut first_source = 0u64;
        for chunk in order.chunks(self.cfg.batch_size) {
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .filter_map(|&i| encoded[i].as_ref().ok().map(Vec::as_slice))
                .collect();
            let (ids, mask) = padded(&seqs, pad, &device)?;
            let mut decode = self.cfg.decode;
            if let Strategy::Sample(ref mut s) = decode.strategy {
                // Streams follow sorted position: a run is reproducible for the same inputs.
                s.first_source = first_source;
            }
            let hyps =
                chemlm_models::grad_mode::inference(|| generate(self.model, &ids, &mask, &decode))?;
            for (&i, hs) in chunk.iter().zip(hyps) {
                let cands = hs
                    .into_iter()
                    .map(|h| {
                        let text = match &self.unk_as {
                            Some(u) => self.tokenizer.decode_unk_as(&h.ids, u),
                            None => self.tokenizer.decode(&h.ids, true),
                        }
                        .map_err(|e| format!("cannot detokenize: {e}"))?;
                        Ok(Candidate {
                            text,
                            score: h.score,
                            finished: h.finished,
                        })
                    })
                    .collect::<std::result::Result<Vec<_>, String>>();
                out[i] = cands;
            }
            first_source += chunk.len() as u64;
            progress(chunk.len());
        }
        Ok(out)
    }
}

/// Right-padded `[n, longest]` ids and mask.
fn padded(seqs: &[&[u32]], pad: u32, device: &Device) -> Result<(Tensor, Tensor)> {
    let n = seqs.len();
    let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
    let mut ids = vec![pad; n * len];
    let mut mask = vec![0u32; n * len];
    for (r, s) in seqs.iter().enumerate() {
        ids[r * len..r * len + s.len()].copy_from_slice(s);
        mask[r * len..r * len + s.len()]
            .iter_mut()
            .for_each(|m| *m = 1);
    }
    Ok((
        Tensor::from_vec(ids, (n, len), device)?,
        Tensor::from_vec(mask, (n, len), device)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_parse_and_apply() {
        assert_eq!(
            Prompt::parse("retro").unwrap().apply("CCO"),
            "Predict the reaction that produces the following product: CCO"
        );
        assert_eq!(Prompt::parse("NONE").unwrap().apply("x y"), "x y");
        assert!(Prompt::parse("translate").is_err());
    }
}
