//! `chemlm bench screen`: retrospective virtual-screening benchmark on DUD-E.
//!
//! Protocol (Riniker & Landrum 2013, see `chemlm_screen::dude`): per target, `--queries` actives
//! drawn at random are the query set; the other actives and all decoys are ranked by MAX-fused
//! similarity; ROC-AUC, BEDROC(α=20), EF 1 % and EF 5 % are averaged over `--repeats` seeded draws,
//! then over targets. `--scorer model --model DIR` ranks by cosine similarity of the model's
//! mean-pooled embeddings instead of fingerprints, on the same seeded query draws, so the two
//! tables are paired repetition by repetition.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chemlm_screen::dude::{
    average, bench_target, bench_target_embedded, list_targets, markdown_table, DudeConfig,
};
use chemlm_screen::hits::write_atomic;
use chemlm_screen::{Aggregate, Embedder, FingerprintKind, ModelEmbedder};
use clap::Args;

/// Arguments of `chemlm bench screen`.
#[derive(Args, Debug, Clone)]
pub struct BenchScreenArgs {
    /// Benchmark data set (only `dude`).
    #[arg(long, default_value = "dude")]
    pub dataset: String,
    /// Comma-separated targets (default: every target found).
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    /// Fingerprint: ecfp4 or ecfp6.
    #[arg(long, default_value = "ecfp4")]
    pub fingerprint: FingerprintKind,
    /// What ranks the molecules: ecfp4 / ecfp6 (Tanimoto, overrides --fingerprint) or model
    /// (cosine similarity of --model's embeddings). Default: --fingerprint.
    #[arg(long)]
    pub scorer: Option<BenchScorer>,
    /// Model directory for --scorer model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Canonicalise SMILES before embedding (--scorer model).
    #[arg(long)]
    pub canonicalize: bool,
    /// Fusion of similarities to the query actives: max or mean.
    #[arg(long, default_value = "max")]
    pub aggregate: Aggregate,
    /// Actives drawn as queries per repetition (left out of the ranked set).
    #[arg(long, default_value_t = 5)]
    pub queries: usize,
    /// Seeded repetitions per target.
    #[arg(long, default_value_t = 50)]
    pub repeats: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Data root holding `vs/dude/<target>/{actives,decoys}_final.ism.gz`.
    #[arg(long, env = "CHEMLM_DATA_DIR")]
    pub data_dir: PathBuf,
    /// JSON results file (written atomically).
    #[arg(long, default_value = "bench-screen-dude.json")]
    pub out: PathBuf,
}

/// What ranks the molecules in the benchmark.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchScorer {
    Ecfp4,
    Ecfp6,
    Model,
}

/// Runs `chemlm bench screen`: prints a markdown table to stdout and writes JSON results.
pub fn run(a: &BenchScreenArgs, quiet: bool) -> Result<()> {
    if a.dataset != "dude" {
        bail!("unknown --dataset '{}' (expected dude)", a.dataset);
    }
    let dir = a.data_dir.join("vs/dude");
    let targets = if a.targets.is_empty() {
        list_targets(&dir)?
    } else {
        a.targets.clone()
    };
    if targets.is_empty() {
        bail!("no DUD-E targets under {}", dir.display());
    }
    let fingerprint = match a.scorer {
        Some(BenchScorer::Ecfp4) => FingerprintKind::Ecfp4,
        Some(BenchScorer::Ecfp6) => FingerprintKind::Ecfp6,
        _ => a.fingerprint,
    };
    let embedder = match (a.scorer, &a.model) {
        (Some(BenchScorer::Model), Some(dir)) => Some(
            ModelEmbedder::load(dir, a.canonicalize, &crate::runtime::device()?)
                .with_context(|| format!("loading {}", dir.display()))?,
        ),
        (Some(BenchScorer::Model), None) => bail!("--scorer model needs --model DIR"),
        (_, Some(_)) => bail!("--model is only used with --scorer model"),
        _ => None,
    };
    let scorer_name = match &embedder {
        Some(e) => format!("{}/cosine/{}", e.describe(), a.aggregate),
        None => format!("{fingerprint}/tanimoto/{}", a.aggregate),
    };
    let cfg = DudeConfig {
        fingerprint,
        aggregate: a.aggregate,
        queries: a.queries,
        repeats: a.repeats,
        seed: a.seed,
        ..Default::default()
    };
    let start = Instant::now();
    let mut results = Vec::with_capacity(targets.len());
    for t in &targets {
        let r = match &embedder {
            Some(e) => bench_target_embedded(&dir, t, &cfg, e, 256),
            None => bench_target(&dir, t, &cfg),
        }
        .with_context(|| format!("DUD-E target {t}"))?;
        if !quiet {
            eprintln!(
                "{t}: ROC-AUC {:.3}  BEDROC {:.3}  EF1% {:.2}  EF5% {:.2}",
                r.roc_auc, r.bedroc, r.ef1, r.ef5
            );
        }
        results.push(r);
    }
    print!("{}", markdown_table(&results));
    let json = serde_json::json!({
        "dataset": "dude",
        "protocol": "Riniker & Landrum 2013: random query actives per repetition, left out of the ranked set; remaining actives + all decoys ranked by fused Tanimoto similarity; metrics averaged over repetitions, then targets",
        "scorer": scorer_name,
        "model": a.model,
        "config": cfg,
        "targets": results,
        "mean": average(&results),
        "seconds": start.elapsed().as_secs_f64(),
    });
    let text = serde_json::to_string_pretty(&json)?;
    write_atomic(&a.out, |w| w.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "bench screen ({scorer_name}): {} targets, results in {}",
        results.len(),
        a.out.display()
    );
    Ok(())
}
