//! `chemlm screen`: rank a molecule library by similarity to known actives (ECFP Tanimoto or
//! cosine of a model's embeddings) or by a fine-tuned model's predicted activity, keeping the top
//! hits.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chemlm_screen::hits::write_hits_csv;
use chemlm_screen::{
    read_molecule_list, screen, Aggregate, EmbeddingScorer, FingerprintKind, FingerprintScorer,
    ModelEmbedder, PredictionScorer, Scorer, ScreenError, ScreenOptions,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `chemlm screen`.
#[derive(Args, Debug, Clone)]
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
    let reader = chemlm_data::open_input(Some(&a.library))?;
    let opts = ScreenOptions {
        top: a.top,
        chunk_size: a.chunk_size,
        batch_size: a.batch_size,
        skip_header: a.skip_header,
    };
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
    write_out(&a.out, &summary.hits, &names)?;
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
