//! MOSES-style metrics of generated molecules (Polykovskiy et al. 2020, `molsets` package):
//! validity, uniqueness@k, novelty, internal diversity (IntDiv1/IntDiv2 on 1024-bit ECFP4),
//! scaffold and fragment similarity to a reference set (cosine of count vectors), and the
//! Wasserstein-1 distance of property distributions (molecular weight, Crippen logP, ring count).
//!
//! Chemistry goes through `chemlm-chem` (RDKit-compatible canonical SMILES, Morgan bits, Murcko
//! scaffolds, MolWt, MolLogP, RingCount); the set formulas are in [`formulas`]. Fragments are
//! RDKit's BRICS pieces string for string, environment-labelled dummies included (`[4*]CC`, see
//! `Molecule::brics_fragments`), so Frag equals MOSES's.
//! SNN, FCD, Filters, SA and QED are not computed (no ChemNet, no filter lists here).

pub mod formulas;
pub mod plot;

use chemlm_chem::{Fingerprint, Molecule};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What one valid molecule contributes to the metrics.
#[derive(Debug, Clone)]
pub struct MolDescriptors {
    /// RDKit canonical SMILES.
    pub canonical: String,
    /// Murcko scaffold with at least two rings (MOSES `compute_scaffold(min_rings=2)`), else None.
    pub scaffold: Option<String>,
    /// BRICS pieces (empty if fragmentation failed).
    pub fragments: Vec<String>,
    /// Average molecular weight (RDKit `MolWt`).
    pub mw: f64,
    /// Crippen logP, when the Crippen model types the molecule.
    pub logp: Option<f64>,
    /// Ring count (RDKit `RingCount`).
    pub rings: usize,
}

/// Parses and describes one SMILES; `None` when it is not a valid molecule (empty, does not
/// parse, or fails sanitization — MOSES `get_mol`).
pub fn describe(smiles: &str) -> Option<MolDescriptors> {
    let s = smiles.trim();
    if s.is_empty() {
        return None;
    }
    let mol = Molecule::from_smiles(s).ok()?;
    let canonical = mol.canonical_smiles().ok()?;
    if canonical.is_empty() {
        return None;
    }
    let scaffold = mol
        .murcko_scaffold(false)
        .ok()
        .filter(|sc| !sc.is_empty() && Molecule::from_smiles(sc).is_ok_and(|m| m.num_rings() >= 2));
    Some(MolDescriptors {
        canonical,
        scaffold,
        fragments: mol.brics_fragments().unwrap_or_default(),
        mw: mol.molecular_weight(),
        logp: mol.logp().ok(),
        rings: mol.num_rings(),
    })
}

/// ECFP4 as MOSES uses it: Morgan radius 2, 1024 bits.
pub fn moses_fingerprint(canonical: &str) -> Option<Fingerprint> {
    Molecule::from_smiles(canonical).ok()?.morgan(2, 1024).ok()
}

/// Counters and property samples of a reference set (e.g. the MOSES test set).
#[derive(Debug, Clone, Default)]
pub struct ReferenceStats {
    /// Valid reference molecules.
    pub molecules: usize,
    /// Scaffold counts.
    pub scaffolds: HashMap<String, u64>,
    /// Fragment counts.
    pub fragments: HashMap<String, u64>,
    /// Molecular weights.
    pub mw: Vec<f64>,
    /// logP values (molecules the Crippen model types).
    pub logp: Vec<f64>,
    /// Ring counts.
    pub rings: Vec<f64>,
}

impl ReferenceStats {
    /// Statistics of already-described molecules.
    pub fn from_descriptors(mols: &[MolDescriptors]) -> Self {
        let mut r = ReferenceStats {
            molecules: mols.len(),
            ..Default::default()
        };
        for m in mols {
            if let Some(s) = &m.scaffold {
                *r.scaffolds.entry(s.clone()).or_insert(0) += 1;
            }
            for f in &m.fragments {
                *r.fragments.entry(f.clone()).or_insert(0) += 1;
            }
            r.mw.push(m.mw);
            if let Some(l) = m.logp {
                r.logp.push(l);
            }
            r.rings.push(m.rings as f64);
        }
        r
    }

    /// Describes `smiles` on all threads (invalid entries are skipped) and collects statistics.
    pub fn from_smiles(smiles: &[String]) -> Self {
        let mols: Vec<MolDescriptors> = smiles.par_iter().filter_map(|s| describe(s)).collect();
        Self::from_descriptors(&mols)
    }
}

/// The metrics of one generated set. Fields are `None` where not measurable (too few molecules,
/// no training set given, an empty side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenMetrics {
    /// Molecules generated (lines, including empty/invalid ones).
    pub generated: usize,
    /// Valid molecules.
    pub valid_count: usize,
    /// Valid / generated.
    pub valid: f64,
    /// Unique among the first 1000 valid.
    pub unique_at_1k: Option<f64>,
    /// Unique among the first 10000 valid.
    pub unique_at_10k: Option<f64>,
    /// Distinct valid molecules not in the training set / distinct valid molecules.
    pub novelty: Option<f64>,
    /// IntDiv (p = 1).
    pub int_div1: Option<f64>,
    /// IntDiv2 (p = 2).
    pub int_div2: Option<f64>,
    /// Fragment similarity to the reference.
    pub frag: Option<f64>,
    /// Scaffold similarity to the reference.
    pub scaf: Option<f64>,
    /// Wasserstein-1 of molecular weight vs the reference.
    pub w1_mw: Option<f64>,
    /// Wasserstein-1 of logP vs the reference.
    pub w1_logp: Option<f64>,
    /// Wasserstein-1 of the ring count vs the reference.
    pub w1_rings: Option<f64>,
}

/// Everything [`evaluate`] computed, for plots and further analysis.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The metrics.
    pub metrics: GenMetrics,
    /// Statistics of the valid generated molecules (same shape as the reference's).
    pub generated: ReferenceStats,
}

/// MOSES metrics of `generated` SMILES (in generation order) against `reference`, with novelty
/// against `train` (canonical SMILES as MOSES's train file holds them) when given.
pub fn evaluate(
    generated: &[String],
    reference: &ReferenceStats,
    train: Option<&HashSet<String>>,
) -> Evaluation {
    let described: Vec<Option<MolDescriptors>> =
        generated.par_iter().map(|s| describe(s)).collect();
    let valid: Vec<MolDescriptors> = described.into_iter().flatten().collect();
    let canon: Vec<String> = valid.iter().map(|m| m.canonical.clone()).collect();
    let fps: Vec<Fingerprint> = canon
        .par_iter()
        .filter_map(|c| moses_fingerprint(c))
        .collect();
    let stats = ReferenceStats::from_descriptors(&valid);
    let metrics = GenMetrics {
        generated: generated.len(),
        valid_count: valid.len(),
        valid: if generated.is_empty() {
            0.0
        } else {
            valid.len() as f64 / generated.len() as f64
        },
        unique_at_1k: formulas::fraction_unique(&canon, 1000),
        unique_at_10k: formulas::fraction_unique(&canon, 10_000),
        novelty: train.and_then(|t| formulas::novelty(&canon, t)),
        int_div1: formulas::internal_diversity(&fps, 1),
        int_div2: formulas::internal_diversity(&fps, 2),
        frag: formulas::cosine_similarity(&reference.fragments, &stats.fragments),
        scaf: formulas::cosine_similarity(&reference.scaffolds, &stats.scaffolds),
        w1_mw: formulas::wasserstein1(&stats.mw, &reference.mw),
        w1_logp: formulas::wasserstein1(&stats.logp, &reference.logp),
        w1_rings: formulas::wasserstein1(&stats.rings, &reference.rings),
    };
    Evaluation {
        metrics,
        generated: stats,
    }
}

/// MOSES's published figures for its baselines (molecularsets/moses README, metrics table of
/// the current version: mean over 3 runs, 30k samples, test set as reference). `None` where the
/// table gives no value (property distances are shown as plots there).
#[derive(Debug, Clone, Copy)]
pub struct PublishedBaseline {
    /// Model name.
    pub name: &'static str,
    /// Valid, Unique@1k, Unique@10k, Frag/Test, Scaf/Test, IntDiv, IntDiv2, Novelty.
    pub values: [f64; 8],
}

/// CharRNN and VAE rows of the MOSES table, rounded to 3 places. Checked against the README at
/// molecularsets/moses@ffbc4dbad1afddc38b0bcd0a68801b56524c3ca9 (CharRNN 0.9748, 1.0, 0.9994, 0.9998,
/// 0.9242, 0.8562, 0.8503, 0.8419; VAE 0.9767, 1.0, 0.9984, 0.9994, 0.9386, 0.8558, 0.8498, 0.6949).
pub const MOSES_BASELINES: [PublishedBaseline; 2] = [
    PublishedBaseline {
        name: "CharRNN (MOSES)",
        values: [0.975, 1.000, 0.999, 1.000, 0.924, 0.856, 0.850, 0.842],
    },
    PublishedBaseline {
        name: "VAE (MOSES)",
        values: [0.977, 1.000, 0.998, 0.999, 0.939, 0.856, 0.850, 0.695],
    },
];
