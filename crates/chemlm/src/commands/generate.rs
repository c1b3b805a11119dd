//! `chemlm generate`: sample molecules from a causal LM (ChemGPT) with the KV cache and write
//! them as SMILES, one per line (decoded from SELFIES when the model's tokenizer is SELFIES).
//!
//! Line `i` of the output is sample `i` of the run whatever `--batch` is (each sample draws from
//! its own seeded stream). A sample that cannot be decoded into a molecule (unfinished, or a
//! SMILES-model string that is not SMILES) is written as an empty line, so MOSES validity stays
//! measurable; the count is reported at the end. Outputs are written atomically.

use anyhow::{bail, Context, Result};
use chemlm_data::Tokenizer;
use chemlm_models::generate::{sample_molecule_range, shard_samples, Generated, SamplingConfig};
use chemlm_models::Model;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Sampling flags shared by `chemlm generate` and `chemlm bench generate`.
#[derive(Args, Debug, Clone)]
pub struct SamplingArgs {
    /// Softmax temperature.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Keep only the k most likely tokens (0 = all).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Nucleus sampling threshold (1 = off).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    /// Seed of the per-molecule random streams.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sequences sampled together.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Most tokens per molecule after <bos> (capped by the model's positions).
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
}

impl SamplingArgs {
    /// The library's sampling settings for these flags (0 / 1 switch top-k / top-p off).
    pub fn config(&self) -> SamplingConfig {
        SamplingConfig {
            temperature: self.temperature,
            top_k: (self.top_k > 0).then_some(self.top_k),
            top_p: (self.top_p < 1.0).then_some(self.top_p),
            max_new_tokens: self.max_len,
            seed: self.seed,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Model directory (config.json, model.safetensors, tokenizer.json) of a causal LM.
    #[arg(long)]
    pub model: PathBuf,
    /// Molecules to sample.
    #[arg(long, default_value_t = 10_000)]
    pub num: usize,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Output SMILES file (one line per sample; empty line = not decodable).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the raw generated strings (SELFIES for a SELFIES model) here.
    #[arg(long)]
    pub selfies_out: Option<PathBuf>,
    /// Sample only shard I of N (1-based, e.g. ${SLURM_ARRAY_TASK_ID}/8) of the --num samples:
    /// a block of whole batches of --batch samples (so use the same --batch in every shard). The
    /// shards' outputs concatenated in shard order are byte for byte one run's output.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<chemlm_data::ShardSpec>,
}

/// Samples `num` molecules from the model directory `dir` (the library's
/// [`chemlm_models::generate::sample_molecules`] with a progress bar); returns them in sample
/// order and the seconds spent.
pub fn generate(
    dir: &Path,
    num: usize,
    batch: usize,
    cfg: &SamplingConfig,
    quiet: bool,
) -> Result<(Vec<Generated>, f64)> {
    generate_range(dir, 0..num, batch, cfg, quiet)
}

/// Samples `range` of a run's samples (see [`sample_molecule_range`]).
pub fn generate_range(
    dir: &Path,
    range: std::ops::Range<usize>,
    batch: usize,
    cfg: &SamplingConfig,
    quiet: bool,
) -> Result<(Vec<Generated>, f64)> {
    if batch == 0 {
        bail!("--batch must be positive");
    }
    cfg.validate().map_err(anyhow::Error::msg)?;
    let model = Model::load(dir, &crate::runtime::device()?)
        .with_context(|| format!("cannot load model {}", dir.display()))?;
    if model.as_gpt_neo().is_none() {
        bail!(
            "{}: generation needs a causal LM (gpt_neo), this model is {}",
            dir.display(),
            model.config().architecture()
        );
    }
    let tok_path = dir.join(chemlm_models::io::TOKENIZER_FILE);
    let tok = Tokenizer::load_dir(dir)
        .with_context(|| format!("cannot load the tokenizer of {}", tok_path.display()))?;
    let bar = bar(quiet, range.len() as u64);
    let t0 = Instant::now();
    let out = sample_molecule_range(&model, &tok, range, batch, cfg, &mut |done| {
        bar.set_position(done as u64)
    })
    .context("sampling molecules")?;
    bar.finish_and_clear();
    Ok((out, t0.elapsed().as_secs_f64()))
}

fn bar(quiet: bool, len: u64) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(
            "generate {bar:30} {human_pos}/{human_len} molecules [{elapsed_precise}<{eta_precise}, {per_sec}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Writes `lines` to `path` through a temporary file renamed into place.
pub fn write_lines<'a>(path: &Path, lines: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut out = crate::output::Output::create(path)?;
    {
        let mut w = crate::output::writer(&mut out)?;
        for l in lines {
            writeln!(w, "{l}").with_context(|| format!("writing {}", path.display()))?;
        }
        w.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    out.commit()
}

pub fn run(a: &GenerateArgs, quiet: bool) -> Result<()> {
    let cfg = a.sampling.config();
    let range = match a.shard {
        Some(spec) => {
            let r = shard_samples(a.num, a.sampling.batch, spec);
            eprintln!(
                "shard {spec}: samples [{}, {}) of {} ({} batches of {})",
                r.start,
                r.end,
                a.num,
                r.len().div_ceil(a.sampling.batch.max(1)),
                a.sampling.batch
            );
            r
        }
        None => 0..a.num,
    };
    let (gen, secs) = generate_range(&a.model, range, a.sampling.batch, &cfg, quiet)?;
    write_lines(&a.out, gen.iter().map(|g| g.smiles.as_str()))?;
    if let Some(p) = &a.selfies_out {
        write_lines(p, gen.iter().map(|g| g.raw.as_str()))?;
    }
    let bad = gen.iter().filter(|g| g.smiles.is_empty()).count();
    eprintln!(
        "{} molecules in {:.1} s ({:.1}/s); {} not decodable (empty lines); wrote {}",
        gen.len(),
        secs,
        gen.len() as f64 / secs.max(1e-9),
        bad,
        a.out.display()
    );
    Ok(())
}
