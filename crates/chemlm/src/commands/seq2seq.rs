//! `chemlm seq2seq`: translate each input line with an encoder-decoder (T5) model, after the
//! task's prompt. One output line per input line (the `--num-return` candidates tab-separated,
//! best first), a bad line (empty, not UTF-8, too long, untokenizable) gets an empty output line
//! and a `file:line: reason` warning, the run ends with a count, `--strict` stops at the first bad
//! line, and a file output is written atomically (the CLI contract of `crate::io`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chemlm_models::Model;
use chemlm_train::seq2seq::translate::{load_tokenizer, DecodeOptions};
use chemlm_train::seq2seq::{Prompt, TranslateConfig, Translator};
use clap::Args;

use crate::io::{progress, IoArgs, Sink};

/// Decoding flags shared by `seq2seq` and `bench text-chem`.
#[derive(Args, Debug, Clone)]
pub struct DecodeArgs {
    /// Beams of beam search (1 = greedy unless --sample).
    #[arg(long, default_value_t = 1)]
    pub beams: usize,
    /// Candidates returned per input (<= beams; samples per input with --sample).
    #[arg(long, default_value_t = 1)]
    pub num_return: usize,
    /// Beam search length penalty (score = log-probability / length^penalty).
    #[arg(long, default_value_t = 1.0)]
    pub length_penalty: f64,
    /// Beam search early stopping: true, false (transformers' default) or never.
    #[arg(long, default_value = "false")]
    pub early_stopping: String,
    /// Longest decoder sequence, the start token included (transformers' max_length).
    #[arg(long, default_value_t = 512)]
    pub max_length: usize,
    /// Sample instead of searching (temperature / top-k / top-p).
    #[arg(long)]
    pub sample: bool,
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    #[arg(long)]
    pub top_k: Option<usize>,
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Seed of sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Inputs per batch.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Longest accepted input in tokens (longer lines are reported, not cut).
    #[arg(long, default_value_t = 512)]
    pub max_source_length: usize,
    /// Write each generated `<unk>` as this text: GT4SD's patch for its released checkpoints,
    /// whose T5 vocabulary has no backslash (`--unk-as '\'` restores stereo bonds).
    #[arg(long)]
    pub unk_as: Option<String>,
}

impl DecodeArgs {
    pub fn translate_config(&self) -> Result<TranslateConfig> {
        Ok(DecodeOptions {
            beams: self.beams,
            num_return: self.num_return,
            length_penalty: self.length_penalty,
            early_stopping: self.early_stopping.clone(),
            max_length: self.max_length,
            sample: self.sample,
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            seed: self.seed,
            batch_size: self.batch_size,
            max_source_length: self.max_source_length,
        }
        .translate_config()?)
    }
}

#[derive(Args, Debug, Clone)]
pub struct Seq2SeqArgs {
    /// T5 model directory (Hugging Face layout: config.json, model.safetensors or
    /// pytorch_model.bin, tokenizer.json or spiece.model) or hf:ORG/NAME.
    #[arg(long)]
    pub model: PathBuf,
    /// forward | retro | text2mol | mol2text | actions | none (the line as it is).
    #[arg(long)]
    pub task: String,
    #[command(flatten)]
    pub decode: DecodeArgs,
    #[command(flatten)]
    pub io: IoArgs,
}

pub fn run(a: &Seq2SeqArgs, quiet: bool) -> Result<()> {
    let prompt = Prompt::parse(&a.task).map_err(anyhow::Error::msg)?;
    let cfg = a.decode.translate_config()?;
    let model = Model::load(&a.model, &crate::runtime::device()?)
        .with_context(|| format!("cannot load model {}", a.model.display()))?;
    let Some(t5) = model.as_t5() else {
        bail!(
            "{} is a {} model; seq2seq needs an encoder-decoder (T5)",
            a.model.display(),
            model.config().architecture()
        );
    };
    let tokenizer = load_tokenizer(&a.model)?;
    let translator = Translator::new(t5, &tokenizer, cfg)?.with_unk_as(a.decode.unk_as.clone());

    let source =
        a.io.input
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "<stdin>".into());
    let mut reader = chemlm_data::open_input(a.io.input.as_deref())?;
    let mut sink = Sink::create(a.io.output.as_deref())?;
    let bar = progress(quiet, "seq2seq");
    let (mut line_no, mut total, mut bad) = (0u64, 0u64, 0u64);
    let mut buf = Vec::new();
    if a.io.skip_header {
        chemlm_data::read_text_line(&mut *reader, &mut buf)?;
        line_no += 1;
    }
    // Enough lines per window to sort by length and fill batches well.
    let window = cfg.batch_size * 32;
    loop {
        let mut lines: Vec<Result<String, String>> = Vec::with_capacity(window);
        while lines.len() < window {
            match chemlm_data::read_text_line(&mut *reader, &mut buf)
                .with_context(|| format!("{source}: read error after line {line_no}"))?
            {
                Some(l) => lines.push(l.and_then(|s| {
                    if s.trim().is_empty() {
                        Err("empty line".to_string())
                    } else {
                        Ok(s)
                    }
                })),
                None => break,
            }
        }
        if lines.is_empty() {
            break;
        }
        let texts: Vec<String> = lines
            .iter()
            .filter_map(|l| l.as_ref().ok().map(|s| prompt.apply(s)))
            .collect();
        let mut outs = translator
            .translate(&texts, |n| bar.inc(n as u64))?
            .into_iter();
        for l in &lines {
            line_no += 1;
            total += 1;
            let r = match l {
                Ok(_) => outs.next().unwrap_or_else(|| Err("no output".into())),
                Err(e) => {
                    bar.inc(1);
                    Err(e.clone())
                }
            };
            match r {
                Ok(cands) => {
                    let texts: Vec<String> = cands
                        .iter()
                        .map(|c| c.text.replace(['\t', '\n'], " "))
                        .collect();
                    sink.write_line(&texts.join("\t"))?;
                }
                Err(reason) => {
                    bad += 1;
                    crate::io::reject_line(
                        &bar,
                        &mut sink,
                        a.io.strict,
                        &source,
                        line_no,
                        &reason,
                    )?;
                }
            }
        }
    }
    sink.finish()?;
    bar.finish_and_clear();
    eprintln!("seq2seq: {total} lines, {} ok, {bad} invalid", total - bad);
    Ok(())
}
