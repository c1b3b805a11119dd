//! `chemlm predict`: property predictions from a fine-tuned model, one output line per input
//! line (comma-separated values, one per task: probabilities for classification, original
//! units for regression). Follows the CLI contract of `crate::io`: a bad molecule gets an empty
//! line and a `file:line: reason` warning, the run ends with a count, `--strict` stops at the
//! first bad line, and a file output is written atomically.
//!
//! `--model` is either a fine-tuned model directory (with `finetune.json`) or a `chemlm
//! finetune` run directory, whose first fit's best model (`seed-S[-fold-0]/best`, smallest
//! seed) is used.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chemlm_train::finetune::FinetunedModel;
use clap::Args;

use crate::io::{progress, IoArgs, Sink};

#[derive(Args, Debug, Clone)]
pub struct PredictArgs {
    /// Fine-tuned model directory, or a `chemlm finetune` run directory.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub io: IoArgs,
    /// Molecules per forward pass.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
}

/// The model directory `path` names (see the module docs).
pub fn resolve_model_dir(path: &Path) -> Result<PathBuf> {
    Ok(chemlm_train::finetune::artifact::resolve_run_dir(path)?)
}

pub fn run(a: &PredictArgs, quiet: bool) -> Result<()> {
    if a.batch_size == 0 {
        bail!("--batch-size must be positive");
    }
    let dir = resolve_model_dir(&a.model)?;
    let fm = FinetunedModel::load(&dir, &crate::runtime::device()?)
        .with_context(|| format!("cannot load fine-tuned model {}", dir.display()))?;
    if !quiet {
        eprintln!(
            "predict: {} ({} on {}, tasks {})",
            dir.display(),
            if fm.meta.classification {
                "classification"
            } else {
                "regression"
            },
            fm.meta.dataset,
            fm.meta.task_names.join(",")
        );
    }
    let source =
        a.io.input
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "<stdin>".into());
    let mut sink = Sink::create(a.io.output.as_deref())?;
    // Lines are predicted in windows of 16 batches at fixed places of the file (window k holds
    // lines [k·W, (k+1)·W)), and a shard's block is whole windows: each molecule shares its
    // batch with the same molecules as in one run, so sharded outputs match it byte for byte.
    let window = a.batch_size * 16;
    let input = crate::io::open_lines(a.io.input.as_deref(), a.io.shard.shard, window as u64)?;
    let mut reader = input.reader;
    let bar = progress(quiet, "predict");
    let (mut line_no, mut total, mut bad) = (input.first_line, 0u64, 0u64);
    let mut buf = Vec::new();
    if a.io.skip_header && input.first_line == 0 {
        chemlm_data::read_text_line(&mut *reader, &mut buf)?;
        line_no += 1;
    }
    loop {
        let want = window - (line_no % window as u64) as usize;
        let mut lines = Vec::with_capacity(want);
        for _ in 0..want {
            // A line that is not UTF-8 is one bad line, not the end of the file.
            match chemlm_data::read_text_line(&mut *reader, &mut buf)
                .with_context(|| format!("{source}: read error after line {line_no}"))?
            {
                Some(l) => lines.push(l),
                None => break,
            }
        }
        if lines.is_empty() {
            break;
        }
        let mols: Vec<&str> = lines
            .iter()
            .map(|l| match l {
                Ok(l) => l.split_whitespace().next().unwrap_or(""),
                Err(_) => "",
            })
            .collect();
        let preds = fm.predict(&mols, a.batch_size)?;
        for ((m, p), l) in mols.iter().zip(preds).zip(&lines) {
            line_no += 1;
            total += 1;
            let p = match l {
                Err(reason) => Err(reason.clone()),
                Ok(_) if m.is_empty() => Err("empty line".to_string()),
                Ok(_) => p,
            };
            match p {
                Ok(v) => {
                    let s: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
                    sink.write_line(&s.join(","))?;
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
        bar.inc(lines.len() as u64);
    }
    sink.finish()?;
    bar.finish_and_clear();
    eprintln!("predict: {total} lines, {} ok, {bad} invalid", total - bad);
    if let Some(s) = fm.oov.summary(10) {
        eprintln!("warning: {source}: {s}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use chemlm_data::{Tokenizer, TokenizerKind, VocabConfig};
    use chemlm_models::{presets, Model, ModelConfig};
    use chemlm_train::finetune::{
        save_model_dir, EncodeOptions, FinetuneMeta, Head, HeadConfig, Pooling, Standardizer,
    };

    /// A tiny MoLFormer + seeded head saved as a fine-tuned model in `dir/run/seed-0/best`.
    fn tiny(dir: &Path) -> PathBuf {
        let tok = Tokenizer::build(
            TokenizerKind::Smiles,
            ["CCO", "c1ccccc1O", "CC(=O)N", "ClCBr"],
            &VocabConfig::default(),
        )
        .unwrap();
        let mut cfg = presets::preset("molformer-small").unwrap();
        if let ModelConfig::Molformer(c) = &mut cfg {
            c.hidden_size = 8;
            c.num_hidden_layers = 1;
            c.num_attention_heads = 2;
            c.intermediate_size = 8;
            c.num_random_features = 4;
            c.max_position_embeddings = 12;
        }
        cfg.set_vocab_size(tok.vocab_size());
        let model = Model::new(&cfg, &Device::Cpu, 3).unwrap();
        let tp = dir.join("tok.json");
        tok.save(&tp).unwrap();
        let hc = HeadConfig {
            n_in: 8,
            hidden: 4,
            n_out: 2,
            dropout: 0.1,
        };
        let head = Head::new(hc, 9, &Device::Cpu).unwrap();
        let meta = FinetuneMeta {
            format: chemlm_train::finetune::artifact::META_FORMAT.into(),
            dataset: "toy".into(),
            classification: false,
            task_names: vec!["a".into(), "b".into()],
            head: hc,
            pooling: Pooling::Mean,
            encode: EncodeOptions::default(),
            standardizer: Standardizer {
                mean: vec![1.0, -2.0],
                std: vec![0.5, 3.0],
            },
            seed: 0,
            best_epoch: 1,
            base_model: "tiny".into(),
        };
        let best = dir.join("run/seed-0/best");
        save_model_dir(&best, &model, &tok, &head, &meta).unwrap();
        best
    }

    fn args(model: &Path, input: &Path, output: &Path, strict: bool) -> PredictArgs {
        PredictArgs {
            model: model.to_path_buf(),
            io: IoArgs {
                input: Some(input.to_path_buf()),
                output: Some(output.to_path_buf()),
                strict,
                skip_header: false,
                shard: Default::default(),
            },
            batch_size: 2,
        }
    }

    #[test]
    fn one_line_per_input_line_and_bad_lines_reported() {
        let dir = tempfile::tempdir().unwrap();
        let best = tiny(dir.path());
        let input = dir.path().join("in.smi");
        // line 2: invalid SMILES; line 4: empty.
        std::fs::write(&input, "CCO x\nC1CC\nc1ccccc1O\n\nCC(=O)N\n").unwrap();
        let out = dir.path().join("p.csv");
        // The run directory resolves to its first fit's best model.
        assert_eq!(resolve_model_dir(&dir.path().join("run")).unwrap(), best);
        run(&args(&dir.path().join("run"), &input, &out, false), true).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[1].is_empty() && lines[3].is_empty());
        let fm = FinetunedModel::load(&best, &Device::Cpu).unwrap();
        let want = fm.predict(&["CCO", "c1ccccc1O", "CC(=O)N"], 1).unwrap();
        for (line, w) in [lines[0], lines[2], lines[4]].iter().zip(want) {
            let got: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let w = w.unwrap();
            assert_eq!(got.len(), 2);
            for (a, b) in got.iter().zip(&w) {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
        }

        let strict_out = dir.path().join("s.csv");
        let err = run(&args(&best, &input, &strict_out, true), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("in.smi:2"), "{err}");
        assert!(!strict_out.exists());
        assert!(!crate::output::temp_path(&strict_out).exists());
        assert!(resolve_model_dir(dir.path()).is_err());
    }
}
