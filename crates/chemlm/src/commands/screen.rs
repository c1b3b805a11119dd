//! `chemlm screen`: rank a molecule library by similarity to known actives (ECFP Tanimoto or
//! cosine of a model's embeddings) or by a fine-tuned model's predicted activity, keeping the top
//! hits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chemlm_screen::hits::{
    merge_shard_hits, write_hits_csv, write_shard_hits_csv, ShardInfo, SHARD_FORMAT,
};
use chemlm_screen::{
    read_molecule_list, screen, shard_unit, Aggregate, EmbeddingScorer, FingerprintKind,
    FingerprintScorer, ModelEmbedder, PredictionScorer, Scorer, ScreenError, ScreenOptions,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

/// `chemlm screen …` or `chemlm screen merge …`.
#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ScreenCommand {
    #[command(subcommand)]
    pub merge: Option<ScreenMerge>,
    #[command(flatten)]
    pub args: Option<ScreenArgs>,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum ScreenMerge {
    /// Merge the hits of `chemlm screen --shard I/N` runs (one complete set, any order) into
    /// exactly the file one screen of the whole library writes: same hits, ranks and bytes, ties
    /// broken by the earlier library line as one run breaks them.
    Merge(ScreenMergeArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ScreenMergeArgs {
    /// Hits to keep (default: the shards' --top; no shard may have kept fewer).
    #[arg(long)]
    pub top: Option<usize>,
    /// Merged hits CSV, written atomically.
    #[arg(long)]
    pub out: PathBuf,
    /// The shards' hits files.
    #[arg(required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
}

/// Arguments of `chemlm screen`.
#[derive(Args, Debug, Clone)]
#[group(id = "screen-args")]
pub struct ScreenArgs {
    /// Library to screen: `smiles [id]` per line (plain or gzip); a first line `SMILES` is skipped.
    #[arg(long)]
    pub library: PathBuf,
    /// Known actives (query molecules): `smiles [id]` per line (not needed with --scorer model).
    #[arg(long)]
    pub actives: Option<PathBuf>,
    /// Fingerprint for Tanimoto similarity: ecfp4 or ecfp6 (2048 bits); used without --model.
    #[arg(long, default_value = "ecfp4")]
    pub fingerprint: FingerprintKind,
    /// Model directory: with --scorer similarity, cosine similarity of its mean-pooled
    /// embeddings to the actives' replaces fingerprints; with --scorer model, a fine-tuned model
    /// (`chemlm finetune` output) whose predicted activity is the score.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// similarity (to the actives) or model (a fine-tuned model's prediction).
    #[arg(long, default_value = "similarity")]
    pub scorer: ScorerKind,
    /// Output (task) of the fine-tuned model used as the score, with --scorer model.
    #[arg(long, default_value_t = 0)]
    pub task: usize,
    /// Canonicalise SMILES before embedding (as the model's pretraining data was, e.g. MOSES).
    #[arg(long)]
    pub canonicalize: bool,
    /// Molecules per scorer call (a model runs them in forward passes of 32).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// How similarities to several actives are fused: max or mean.
    #[arg(long, default_value = "max")]
    pub aggregate: Aggregate,
    /// Number of hits to keep.
    #[arg(long, default_value_t = 1000)]
    pub top: usize,
    /// Hits CSV (rank,score,smiles,id,line,nearest_active), written atomically.
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Always skip the first library line (a header).
    #[arg(long)]
    pub skip_header: bool,
    /// Lines read and scored per chunk (bounds memory).
    #[arg(long, default_value_t = 16_384)]
    pub chunk_size: usize,
    /// Screen only shard I of N (1-based, e.g. ${SLURM_ARRAY_TASK_ID}/8) of the library: a
    /// block of its lines (of whole --chunk-size chunks with a model, so batches hold the same
    /// molecules as in one run). Writes the shard's top hits with what an exact merge needs;
    /// `chemlm screen merge --out FILE SHARD_FILE…` then writes one run's file, byte for byte.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<chemlm_data::ShardSpec>,
}

/// How library molecules are scored.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScorerKind {
    /// Fused similarity to the actives (fingerprints, or embeddings with --model).
    Similarity,
    /// A fine-tuned model's predicted activity (--model).
    Model,
}

fn progress(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} screen: {human_pos} molecules [{elapsed_precise}, {per_sec}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// Maps a bad-query error to the actives file and line.
fn query_error(path: &Path, lines: &[u64], e: ScreenError) -> anyhow::Error {
    match e {
        ScreenError::BadQuery { index, reason, .. } => {
            anyhow::anyhow!("{}:{}: {reason}", path.display(), lines[index])
        }
        other => other.into(),
    }
}

/// The scorer the arguments ask for and the display names of its query molecules.
fn build_scorer(a: &ScreenArgs) -> Result<(Box<dyn Scorer>, Vec<String>)> {
    if a.scorer == ScorerKind::Model {
        let Some(dir) = &a.model else {
            bail!("--scorer model needs --model DIR (a fine-tuned model)");
        };
        return Ok((
            Box::new(PredictionScorer::load(
                dir,
                a.task,
                &crate::runtime::device()?,
            )?),
            Vec::new(),
        ));
    }
    let Some(path) = &a.actives else {
        bail!("similarity screening needs --actives FILE");
    };
    let actives = read_molecule_list(path)?;
    if actives.is_empty() {
        bail!("{}: no molecules", path.display());
    }
    let smiles: Vec<&str> = actives.iter().map(|e| e.smiles.as_str()).collect();
    let lines: Vec<u64> = actives.iter().map(|e| e.line).collect();
    let scorer: Box<dyn Scorer> = match &a.model {
        Some(dir) => {
            let embedder = ModelEmbedder::load(dir, a.canonicalize, &crate::runtime::device()?)?;
            Box::new(
                EmbeddingScorer::new(embedder, a.aggregate, &smiles)
                    .map_err(|e| query_error(path, &lines, e))?,
            )
        }
        None => Box::new(
            FingerprintScorer::new(a.fingerprint, a.aggregate, &smiles)
                .map_err(|e| query_error(path, &lines, e))?,
        ),
    };
    let names = actives
        .iter()
        .map(|e| e.id.clone().unwrap_or_else(|| e.smiles.clone()))
        .collect();
    Ok((scorer, names))
}

/// Runs `chemlm screen` or `chemlm screen merge`.
pub fn run_command(c: &ScreenCommand, quiet: bool) -> Result<()> {
    match (&c.merge, &c.args) {
        (Some(ScreenMerge::Merge(m)), _) => merge(m),
        (None, Some(a)) => run(a, quiet),
        (None, None) => bail!("chemlm screen needs --library and --out (see --help)"),
    }
}

/// `chemlm screen merge`: see [`ScreenMerge`].
fn merge(m: &ScreenMergeArgs) -> Result<()> {
    let merged = merge_shard_hits(&m.shards, m.top)?;
    write_out(&m.out, &merged.hits, &merged.queries)?;
    eprintln!(
        "screen merge: {} shards of {} ({} lines): {} molecules scored, {} invalid; top {} written to {}",
        m.shards.len(),
        merged.info.library,
        merged.info.library_lines,
        merged.scored,
        merged.invalid,
        merged.hits.len(),
        m.out.display()
    );
    Ok(())
}

/// What decides a screen's scores, recorded in a shard's hits so that a merge refuses shards of
/// different screens.
fn settings(a: &ScreenArgs, scorer: &dyn Scorer) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    s.insert("scorer".into(), scorer.describe());
    s.insert(
        "model".into(),
        a.model
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
    if a.scorer == ScorerKind::Model {
        s.insert("task".into(), a.task.to_string());
    }
    if a.model.is_some() {
        s.insert("canonicalize".into(), a.canonicalize.to_string());
        // Model scores depend on which molecules share a batch.
        s.insert("batch_size".into(), a.batch_size.to_string());
        s.insert("chunk_size".into(), a.chunk_size.to_string());
    }
    s.insert("skip_header".into(), a.skip_header.to_string());
    s
}

/// Runs `chemlm screen`.
pub fn run(a: &ScreenArgs, quiet: bool) -> Result<()> {
    if a.top == 0 {
        bail!("--top must be at least 1");
    }
    let (scorer, names) = build_scorer(a)?;
    let threads = a.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    let source = a.library.display().to_string();
    let mut opts = ScreenOptions {
        top: a.top,
        chunk_size: a.chunk_size,
        batch_size: a.batch_size,
        skip_header: a.skip_header,
        first_line: 0,
    };
    let input = crate::io::open_lines(
        Some(&a.library),
        a.shard,
        shard_unit(scorer.as_ref(), &opts),
    )?;
    opts.first_line = input.first_line;
    let reader = input.reader;
    let bar = progress(quiet);
    let start = Instant::now();
    let summary = pool.install(|| {
        screen(
            reader,
            &source,
            scorer.as_ref(),
            &opts,
            |b| bar.suspend(|| eprintln!("warning: {source}:{}: {}", b.line, b.reason)),
            |n| bar.inc(n),
        )
    })?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    match a.shard {
        Some(spec) => {
            let info = ShardInfo {
                format: SHARD_FORMAT.into(),
                shard: spec.to_string(),
                library: source.clone(),
                library_lines: input.total_lines,
                first_line: input.first_line,
                lines: input.lines,
                top: a.top,
                settings: settings(a, scorer.as_ref()),
                queries: names.clone(),
                scored: summary.scored,
                invalid: summary.invalid,
            };
            write_shard_hits_csv(&a.out, &info, &summary.hits)
                .with_context(|| format!("cannot write {}", a.out.display()))?;
            eprintln!(
                "shard {spec}: library lines {}..={} of {}",
                input.first_line + 1,
                input.first_line + input.lines,
                input.total_lines
            );
        }
        None => write_out(&a.out, &summary.hits, &names)?,
    }
    let molecules = summary.scored + summary.invalid;
    eprintln!(
        "screen ({}, {} actives, {} threads): {} molecules scored, {} invalid{} in {:.1} s ({:.0} molecules/s); top {} written to {}",
        scorer.describe(),
        names.len(),
        pool.current_num_threads(),
        summary.scored,
        summary.invalid,
        if summary.header_skipped { ", header skipped" } else { "" },
        secs,
        molecules as f64 / secs.max(1e-9),
        summary.hits.len(),
        a.out.display()
    );
    Ok(())
}

fn write_out(path: &Path, hits: &[chemlm_screen::Hit], names: &[String]) -> Result<()> {
    write_hits_csv(path, hits, names).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// End to end on the committed fixture: CSV layout, ranks, and that bad lines do not stop it.
    #[test]
    fn screen_writes_ranked_csv() {
        let dir = tempfile::tempdir().unwrap();
        let actives = dir.path().join("actives.smi");
        std::fs::write(
            &actives,
            "CC(=O)Oc1ccccc1C(=O)O aspirin\nCn1cnc2c1c(=O)n(C)c(=O)n2C\n",
        )
        .unwrap();
        let out = dir.path().join("hits.csv");
        let args = ScreenArgs {
            library: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/moses-mini.smi"),
            actives: Some(actives),
            fingerprint: FingerprintKind::Ecfp4,
            model: None,
            scorer: ScorerKind::Similarity,
            task: 0,
            canonicalize: false,
            batch_size: 256,
            aggregate: Aggregate::Max,
            top: 5,
            out: out.clone(),
            threads: Some(2),
            skip_header: false,
            chunk_size: 50,
            shard: None,
        };
        run(&args, true).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(
            rows[0],
            ["rank", "score", "smiles", "id", "line", "nearest_active"]
        );
        assert_eq!(rows.len(), 6);
        let scores: Vec<f64> = rows[1..].iter().map(|r| r[1].parse().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]));
        for (i, r) in rows[1..].iter().enumerate() {
            assert_eq!(r[0], (i + 1).to_string());
            assert!(["aspirin", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"].contains(&r[5]));
        }
    }
}
