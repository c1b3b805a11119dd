//! DUD-E retrospective benchmark of a similarity scorer.
//!
//! Protocol (Riniker & Landrum, "Open-source platform to benchmark fingerprints for ligand-based
//! virtual screening", J. Cheminform. 2013, 5:26): for each target, draw `queries` actives at random
//! (default 5) as the query set, rank the remaining actives together with all decoys by MAX-fused
//! Tanimoto similarity to the queries (the queries themselves are left out of the ranked set), and
//! compute ROC-AUC, BEDROC (α = 20), EF 1 % and EF 5 %; repeat `repeats` times (default 50) with
//! different draws and average. Draws come from a ChaCha8 generator seeded with `seed` and the
//! target name, so results are reproducible and independent of which other targets are run.
//! Molecules that cannot be parsed are dropped (as RDKit-based platforms do) and counted.

use std::path::{Path, PathBuf};

use chemlm_chem::Fingerprint;
use chemlm_train::eval::{bedroc, enrichment_factor, roc_auc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::embedding::{normalize, Embedder};
use crate::error::ScreenError;
use crate::scorer::{Aggregate, FingerprintKind};

/// Benchmark settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DudeConfig {
    pub fingerprint: FingerprintKind,
    pub aggregate: Aggregate,
    /// Actives drawn as queries per repetition.
    pub queries: usize,
    /// Repetitions (independent draws) per target.
    pub repeats: usize,
    pub seed: u64,
    /// BEDROC α.
    pub alpha: f64,
}

impl Default for DudeConfig {
    fn default() -> Self {
        Self {
            fingerprint: FingerprintKind::Ecfp4,
            aggregate: Aggregate::Max,
            queries: 5,
            repeats: 50,
            seed: 42,
            alpha: 20.0,
        }
    }
}

/// Mean (over repetitions) metrics of one target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetResult {
    pub target: String,
    pub actives: usize,
    pub decoys: usize,
    /// Lines dropped because the molecule could not be fingerprinted.
    pub invalid: usize,
    pub roc_auc: f64,
    pub bedroc: f64,
    pub ef1: f64,
    pub ef5: f64,
}

/// Targets present under `dir` (sub-directories holding `actives_final.ism.gz`), sorted.
pub fn list_targets(dir: &Path) -> Result<Vec<String>, ScreenError> {
    let rd = std::fs::read_dir(dir).map_err(|source| ScreenError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("actives_final.ism.gz").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    Ok(out)
}

/// The representations (fingerprints, unit embeddings) of one target's molecules.
pub struct TargetSet<R> {
    pub actives: Vec<R>,
    pub decoys: Vec<R>,
    /// Molecules dropped because they have no representation.
    pub invalid: usize,
}

/// Turns a batch of SMILES into representations, or the reason a molecule has none.
pub type Represent<'a, R> = dyn Fn(&[&str]) -> Vec<Result<R, String>> + Sync + 'a;

/// Computes `represent` for every molecule of a `.ism[.gz]` file, `batch` molecules per call,
/// batches in parallel; returns the representations and the number dropped.
fn represent_file<R: Send>(
    path: &Path,
    batch: usize,
    represent: &Represent<'_, R>,
) -> Result<(Vec<R>, usize), ScreenError> {
    let entries = crate::stream::read_molecule_list(path)?;
    let smiles: Vec<&str> = entries.iter().map(|e| e.smiles.as_str()).collect();
    let reps: Vec<Result<R, String>> = smiles
        .par_chunks(batch.max(1))
        .map(represent)
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    let invalid = reps.iter().filter(|r| r.is_err()).count();
    Ok((reps.into_iter().flatten().collect(), invalid))
}

/// Reads `dir/<target>/{actives,decoys}_final.ism.gz` and represents every molecule.
pub fn load_target<R: Send>(
    dir: &Path,
    target: &str,
    batch: usize,
    represent: &Represent<'_, R>,
) -> Result<TargetSet<R>, ScreenError> {
    let tdir: PathBuf = dir.join(target);
    let (actives, bad_a) = represent_file(&tdir.join("actives_final.ism.gz"), batch, represent)?;
    let (decoys, bad_d) = represent_file(&tdir.join("decoys_final.ism.gz"), batch, represent)?;
    Ok(TargetSet {
        actives,
        decoys,
        invalid: bad_a + bad_d,
    })
}

fn seed_for(seed: u64, target: &str) -> u64 {
    // FNV-1a of the name, mixed with the seed: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in target.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The protocol on already represented molecules: `similarity` between two representations,
/// fused over the drawn queries by `cfg.aggregate`. The same draws are made whatever the
/// representation, so fingerprint and embedding results are paired repetition by repetition.
pub fn evaluate_target<R: Sync>(
    target: &str,
    set: &TargetSet<R>,
    cfg: &DudeConfig,
    similarity: &(dyn Fn(&R, &R) -> f64 + Sync),
) -> Result<TargetResult, ScreenError> {
    let (actives, decoys) = (&set.actives, &set.decoys);
    if actives.len() <= cfg.queries || decoys.is_empty() || cfg.queries == 0 || cfg.repeats == 0 {
        return Err(ScreenError::Invalid(format!(
            "{target}: {} actives and {} decoys cannot support {} queries x {} repeats",
            actives.len(),
            decoys.len(),
            cfg.queries,
            cfg.repeats
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed_for(cfg.seed, target));
    let draws: Vec<Vec<usize>> = (0..cfg.repeats)
        .map(|_| rand::seq::index::sample(&mut rng, actives.len(), cfg.queries).into_vec())
        .collect();
    let fused = |q: &[usize], x: &R| -> f64 {
        let sims = q.iter().map(|&i| similarity(&actives[i], x));
        match cfg.aggregate {
            Aggregate::Max => sims.fold(f64::NEG_INFINITY, f64::max),
            Aggregate::Mean => sims.sum::<f64>() / q.len() as f64,
        }
    };
    let per_repeat: Vec<[f64; 4]> = draws
        .par_iter()
        .map(|q| -> Result<[f64; 4], ScreenError> {
            let mut labels = Vec::with_capacity(actives.len() + decoys.len());
            let mut scores = Vec::with_capacity(labels.capacity());
            for (i, x) in actives.iter().enumerate() {
                if !q.contains(&i) {
                    labels.push(true);
                    scores.push(fused(q, x));
                }
            }
            for x in decoys {
                labels.push(false);
                scores.push(fused(q, x));
            }
            Ok([
                roc_auc(&labels, &scores)?,
                bedroc(&labels, &scores, cfg.alpha)?,
                enrichment_factor(&labels, &scores, 0.01)?,
                enrichment_factor(&labels, &scores, 0.05)?,
            ])
        })
        .collect::<Result<_, ScreenError>>()?;
    let mean = |k: usize| per_repeat.iter().map(|m| m[k]).sum::<f64>() / per_repeat.len() as f64;
    Ok(TargetResult {
        target: target.to_string(),
        actives: actives.len(),
        decoys: decoys.len(),
        invalid: set.invalid,
        roc_auc: mean(0),
        bedroc: mean(1),
        ef1: mean(2),
        ef5: mean(3),
    })
}

/// Runs the protocol on one target directory `dir/<target>/{actives,decoys}_final.ism.gz` with
/// Tanimoto similarity of `cfg.fingerprint`.
pub fn bench_target(
    dir: &Path,
    target: &str,
    cfg: &DudeConfig,
) -> Result<TargetResult, ScreenError> {
    let kind = cfg.fingerprint;
    let fp = move |batch: &[&str]| -> Vec<Result<Fingerprint, String>> {
        batch.iter().map(|s| kind.fingerprint(s)).collect()
    };
    let set = load_target(dir, target, 256, &fp)?;
    evaluate_target(target, &set, cfg, &|a: &Fingerprint, b: &Fingerprint| {
        a.tanimoto(b)
    })
}

/// Runs the protocol with cosine similarity of `embedder`'s embeddings (each molecule embedded
/// once, `batch` per call).
pub fn bench_target_embedded(
    dir: &Path,
    target: &str,
    cfg: &DudeConfig,
    embedder: &dyn Embedder,
    batch: usize,
) -> Result<TargetResult, ScreenError> {
    let embed = |b: &[&str]| -> Vec<Result<Vec<f32>, String>> {
        let mut out = embedder.embed_batch(b);
        for v in out.iter_mut().flatten() {
            normalize(v);
        }
        out
    };
    let set = load_target(dir, target, batch, &embed)?;
    evaluate_target(target, &set, cfg, &|a: &Vec<f32>, b: &Vec<f32>| {
        a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() as f64
    })
}

/// The unweighted mean over targets, as a `TargetResult` named `mean`.
pub fn average(results: &[TargetResult]) -> Option<TargetResult> {
    if results.is_empty() {
        return None;
    }
    let n = results.len() as f64;
    let m = |f: fn(&TargetResult) -> f64| results.iter().map(f).sum::<f64>() / n;
    Some(TargetResult {
        target: "mean".into(),
        actives: results.iter().map(|r| r.actives).sum(),
        decoys: results.iter().map(|r| r.decoys).sum(),
        invalid: results.iter().map(|r| r.invalid).sum(),
        roc_auc: m(|r| r.roc_auc),
        bedroc: m(|r| r.bedroc),
        ef1: m(|r| r.ef1),
        ef5: m(|r| r.ef5),
    })
}

/// A markdown table of per-target results followed by the mean row.
pub fn markdown_table(results: &[TargetResult]) -> String {
    let mut s = String::from(
        "| target | actives | decoys | invalid | ROC-AUC | BEDROC(20) | EF 1% | EF 5% |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let row = |r: &TargetResult, bold: bool| {
        let b = if bold { "**" } else { "" };
        format!(
            "| {b}{}{b} | {} | {} | {} | {b}{:.3}{b} | {b}{:.3}{b} | {b}{:.2}{b} | {b}{:.2}{b} |\n",
            r.target, r.actives, r.decoys, r.invalid, r.roc_auc, r.bedroc, r.ef1, r.ef5
        )
    };
    for r in results {
        s.push_str(&row(r, false));
    }
    if let Some(m) = average(results) {
        s.push_str(&row(&m, true));
    }
    s
}
