//! `chemlm embed`: molecule embeddings (mean of the final hidden states over real tokens) from a
//! model directory, streamed in batches to `.npy` (float32 `[molecules, hidden]`) or `.csv`.
//!
//! Contract (issue 2 §6): one output row per input line, in order. A bad line (unparsable
//! molecule, character the tokenizer does not cover, too many tokens, empty) gets a warning with
//! its line number and reason and an empty CSV line / a NaN row in `.npy`; the run ends with a
//! count. `--strict` stops at the first bad line instead. Output is written atomically.

use crate::output::Output;
use anyhow::{bail, Context, Result};
use chemlm_data::embeddings::{EmbeddingFormat, EmbeddingWriter};
use chemlm_data::{OovPolicy, Tokenizer};
use chemlm_models::embedder::{EmbedOptions, Embedder};
use chemlm_models::encode::Pooling;
use chemlm_models::Model;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// `chemlm embed …` or `chemlm embed merge …`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EmbedCommand {
    #[command(subcommand)]
    pub merge: Option<EmbedMerge>,
    #[command(flatten)]
    pub args: Option<EmbedArgs>,
}

#[derive(clap::Subcommand)]
pub enum EmbedMerge {
    /// Join the outputs of `chemlm embed --shard I/N` runs, given in shard order, into the file
    /// one run writes (`.csv`: the files one after the other; `.npy`: one header, the rows).
    Merge(EmbedMergeArgs),
}

#[derive(Args)]
pub struct EmbedMergeArgs {
    /// The merged matrix (`.npy` or `.csv`, as the parts), written atomically.
    #[arg(long, short)]
    pub out: PathBuf,
    /// The shards' outputs, in shard order (1/N first).
    #[arg(required = true, num_args = 1..)]
    pub parts: Vec<PathBuf>,
}

#[derive(Args)]
#[group(id = "embed-args")]
pub struct EmbedArgs {
    /// Model directory (config.json, model.safetensors, tokenizer.json).
    #[arg(long)]
    pub model: PathBuf,
    /// SMILES file (plain or gzip; first whitespace-separated field per line); stdin if omitted.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Output `.npy` (float32 matrix) or `.csv` (one row of numbers per input line).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Molecules per forward pass.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Canonicalise SMILES before tokenising (as MoLFormer's pipeline does).
    #[arg(long)]
    pub canonicalize: bool,
    /// Tokens outside the model's vocabulary: `nearest` (the same atom without stereo, isotope
    /// or charge; `/` `\` dropped) or `unk`. Use what the model was fine-tuned with.
    #[arg(long, default_value = "unk", value_parser = ["nearest", "unk"])]
    pub oov: String,
    /// Skip the first input line (a header).
    #[arg(long)]
    pub skip_header: bool,
    /// Exit non-zero at the first invalid line.
    #[arg(long)]
    pub strict: bool,
    /// Work on shard I of N (1-based, e.g. ${SLURM_ARRAY_TASK_ID}/8) of the input: a block of
    /// whole windows of 16 batches, so batches hold the same molecules as in one run. `.csv`
    /// outputs concatenated in shard order, or `.npy` outputs joined by `chemlm embed merge`,
    /// are byte for byte one run's output; warnings name the line in the whole file.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<chemlm_data::ShardSpec>,
}

/// Runs `chemlm embed` or `chemlm embed merge`.
pub fn run_command(c: &EmbedCommand, quiet: bool) -> Result<()> {
    match (&c.merge, &c.args) {
        (Some(EmbedMerge::Merge(m)), _) => merge(m),
        (None, Some(a)) => run(a, quiet),
        (None, None) => bail!("chemlm embed needs --model and --output (see --help)"),
    }
}

/// `chemlm embed merge`: see [`EmbedMerge`].
fn merge(m: &EmbedMergeArgs) -> Result<()> {
    let rows = chemlm_data::embeddings::merge_files(&m.parts, &m.out)?;
    eprintln!(
        "embed merge: {} files, {rows} rows; wrote {}",
        m.parts.len(),
        m.out.display()
    );
    Ok(())
}

/// Opens `path` for the embedding matrix (atomically written; the format from its extension).
fn create_writer(
    path: &Path,
    dim: usize,
) -> Result<(EmbeddingWriter<BufWriter<std::fs::File>>, Output)> {
    let Some(format) = EmbeddingFormat::from_path(path) else {
        bail!("{}: output must end in .npy or .csv", path.display());
    };
    let mut out = Output::create(path)?;
    let w = BufWriter::with_capacity(1 << 20, out.file()?);
    Ok((EmbeddingWriter::new(w, format, dim)?, out))
}

pub fn run(a: &EmbedArgs, quiet: bool) -> Result<()> {
    if a.batch_size == 0 {
        bail!("--batch-size must be positive");
    }
    let model = Model::load(&a.model, &crate::runtime::device()?)
        .with_context(|| format!("cannot load model {}", a.model.display()))?;
    let tok_path = a.model.join(chemlm_models::io::TOKENIZER_FILE);
    let tok = Tokenizer::load_dir(&a.model)
        .with_context(|| format!("cannot load the tokenizer of {}", a.model.display()))?;
    let oov = OovPolicy::parse(&a.oov).with_context(|| format!("--oov: {:?}", a.oov))?;
    let opts = EmbedOptions {
        canonicalize: a.canonicalize,
        oov,
        pooling: Pooling::Mean,
        batch_size: a.batch_size,
        require_sanitizable: false,
    };
    let embedder = Embedder::new(model, tok, opts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", tok_path.display()))?;
    let source = a
        .input
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<stdin>".into());
    let (mut writer, out) = create_writer(&a.output, embedder.dim())?;
    // Lines are embedded in windows of 16 batches at fixed places of the file (window k holds
    // lines [k·W, (k+1)·W)); the embedder sorts a window by length so batches carry little
    // padding. A shard's block is whole windows, so each molecule is embedded with the same
    // batch as in one run and the numbers agree to the bit.
    let window = a.batch_size * 16;
    let input = crate::io::open_lines(a.input.as_deref(), a.shard, window as u64)?;
    let mut reader = input.reader;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} embed: {human_pos} molecules [{elapsed_precise}, {per_sec}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    };
    // Line numbers in messages are those of the whole file.
    let (mut line_no, mut total, mut bad) = (input.first_line, 0u64, 0u64);
    let mut buf = Vec::new();
    if a.skip_header && input.first_line == 0 {
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
        let encoded: Vec<std::result::Result<Vec<u32>, String>> = {
            use rayon::prelude::*;
            lines
                .par_iter()
                .map(|l| match l.as_ref().map(|l| l.split_whitespace().next()) {
                    Ok(Some(m)) => embedder.encode(m),
                    Ok(None) => Err("empty line".to_string()),
                    Err(reason) => Err(reason.clone()),
                })
                .collect()
        };
        let rows = embedder.embed_encoded(encoded, &mut |n| bar.inc(n as u64))?;
        for r in &rows {
            line_no += 1;
            total += 1;
            if let Err(reason) = r {
                bad += 1;
                if a.strict {
                    bar.finish_and_clear();
                    drop(out); // removes the partial file
                    bail!("{source}:{line_no}: {reason}");
                }
                bar.suspend(|| eprintln!("warning: {source}:{line_no}: {reason}"));
            }
            writer.row(r.as_deref().ok())?;
        }
    }
    writer.finish()?;
    out.commit()?;
    bar.finish_and_clear();
    eprintln!(
        "embed: {total} lines, {} embedded, {bad} invalid",
        total - bad
    );
    if let Some(s) = embedder.oov_tally().summary(10) {
        eprintln!("warning: {source}: {s}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_core::Tensor;
    use chemlm_data::{TokenizerKind, VocabConfig};
    use chemlm_models::LanguageModel;
    use chemlm_models::{presets, ModelConfig};

    /// A tiny random BERT with a SMILES tokenizer, saved as a model directory.
    fn tiny_model(dir: &Path) -> (Model, Tokenizer) {
        let tok = Tokenizer::build(
            TokenizerKind::Smiles,
            ["CCO", "c1ccccc1O", "CC(=O)N", "ClCBr"],
            &VocabConfig::default(),
        )
        .unwrap();
        let mut cfg = presets::preset("bert-small").unwrap();
        if let ModelConfig::Bert(c) = &mut cfg {
            c.hidden_size = 16;
            c.num_hidden_layers = 1;
            c.intermediate_size = 32;
            c.max_position_embeddings = 12;
        }
        cfg.set_vocab_size(tok.vocab_size());
        let model = Model::new(&cfg, &Device::Cpu, 4).unwrap();
        let tok_path = dir.join("tok.json");
        tok.save(&tok_path).unwrap();
        model.save(&dir.join("m"), Some(&tok_path)).unwrap();
        (model, tok)
    }

    fn args(dir: &Path, input: &Path, out: &str) -> EmbedArgs {
        EmbedArgs {
            model: dir.join("m"),
            input: Some(input.to_path_buf()),
            output: dir.join(out),
            batch_size: 2,
            canonicalize: false,
            oov: "unk".into(),
            skip_header: false,
            strict: false,
            shard: None,
        }
    }

    #[test]
    fn embeds_in_order_and_reports_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let (model, tok) = tiny_model(dir.path());
        let input = dir.path().join("in.smi");
        // line 2: invalid SMILES; line 4: too long for 12 positions; line 5: empty.
        std::fs::write(
            &input,
            "CCO mol1\nC1CC\nc1ccccc1O\nCCCCCCCCCCCCCCCCCC\n\nCC(=O)N\n",
        )
        .unwrap();
        run(&args(dir.path(), &input, "e.csv"), true).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("e.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[1].is_empty() && lines[3].is_empty() && lines[4].is_empty());
        // Row 3 equals embedding the molecule alone (batching/sorting/padding do not matter).
        let ids = tok.encode("c1ccccc1O", true).unwrap();
        let n = ids.len();
        let t = Tensor::from_vec(ids, (1, n), &Device::Cpu).unwrap();
        let alone = model
            .embed(&t, &t.ones_like().unwrap())
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let got: Vec<f32> = lines[2].split(',').map(|x| x.parse().unwrap()).collect();
        assert_eq!(got.len(), 16);
        for (a, b) in got.iter().zip(&alone[0]) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }

        run(&args(dir.path(), &input, "e.npy"), true).unwrap();
        let bytes = std::fs::read(dir.path().join("e.npy")).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header = String::from_utf8_lossy(&bytes[10..chemlm_data::embeddings::NPY_HEADER_LEN]);
        assert!(header.contains("'shape': (6, 16)"), "{header}");
        assert_eq!(
            bytes.len(),
            chemlm_data::embeddings::NPY_HEADER_LEN + 6 * 16 * 4
        );
        let row1 = f32::from_le_bytes(
            bytes[chemlm_data::embeddings::NPY_HEADER_LEN + 64
                ..chemlm_data::embeddings::NPY_HEADER_LEN + 68]
                .try_into()
                .unwrap(),
        );
        assert!(row1.is_nan(), "bad line must be a NaN row");

        let mut strict = args(dir.path(), &input, "s.csv");
        strict.strict = true;
        let err = run(&strict, true).unwrap_err().to_string();
        assert!(err.contains("in.smi:2"), "{err}");
        assert!(!dir.path().join("s.csv").exists());
    }
}
