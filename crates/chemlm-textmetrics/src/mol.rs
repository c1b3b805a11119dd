//! MolT5's evaluation protocol (Edwards et al. 2022, `evaluation/*.py` in blender-nlp/MolT5),
//! which the Text+Chem T5 paper and GT4SD follow, for both directions.
//!
//! Molecule→text ([`mol2text_metrics`]): captions are tokenized (MolT5 uses SciBERT's WordPiece
//! tokenizer; the caller passes its tokenizer, [`crate::tokenize::bert_basic`] is the default),
//! BLEU-2 and BLEU-4 are nltk `corpus_bleu` with one reference each, METEOR is nltk
//! `meteor_score([gt_tokens], out_tokens)` averaged over pairs, ROUGE-1/2/L are `rouge-score`
//! on the raw strings (MolT5 calls `scorer.score(output, ground_truth)`), F-measures averaged.
//!
//! Text→molecule ([`text2mol_metrics`]): BLEU is `corpus_bleu` on characters (`list(smiles)`),
//! BLEU-4 weights; Levenshtein is the character edit distance averaged over all pairs; validity
//! is the share of outputs RDKit would parse and sanitize; MACCS / RDK / Morgan Tanimoto are
//! averaged over the valid pairs, with RDKit's `MACCSkeys.GenMACCSKeys`, `Chem.RDKFingerprint`
//! (paths of 1–7 bonds, 2048 bits) and `AllChem.GetMorganFingerprint(m, 2)` (unfolded counts,
//! count Tanimoto `Σmin / (Σa + Σb − Σmin)`), all through chematic's RDKit-exact ports.
//!
//! Two documented departures: exact match compares RDKit canonical SMILES (MolT5 compares
//! standard InChI strings, which we cannot compute; InChI also merges tautomers, so our count can
//! be slightly lower), and an empty output is invalid (RDKit parses `""` to an empty molecule,
//! which MolT5 counts as valid with similarity 0).

use crate::bleu::{self, BLEU2, BLEU4};
use crate::error::MetricsError;
use crate::levenshtein;
use crate::meteor::Meteor;
use crate::rouge::{RougeScorer, RougeScores};
use chemlm_chem::Fingerprint;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Molecule→text scores (MolT5 / Text+Chem T5 table columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mol2TextReport {
    pub n: usize,
    pub bleu2: f64,
    pub bleu4: f64,
    /// Mean ROUGE over pairs as MolT5 computes it, `scorer.score(output, ground_truth)`: its
    /// "precision" is over the reference and its "recall" over the prediction (swapped from the
    /// usual reading); the paper's columns are the F-measures, which the swap does not change.
    pub rouge: RougeScores,
    pub meteor: f64,
}

/// Molecule→text metrics of `predictions` against `references` (one each), captions tokenized by
/// `tokenize` for BLEU and METEOR; `use_stemmer` is rouge-score's option (MolT5: false).
pub fn mol2text_metrics<S: AsRef<str>>(
    predictions: &[S],
    references: &[S],
    tokenize: &dyn Fn(&str) -> Vec<String>,
    meteor: &Meteor<'_>,
    use_stemmer: bool,
) -> Result<Mol2TextReport, MetricsError> {
    check_pairs("molecule→text", predictions.len(), references.len())?;
    let hyps: Vec<Vec<String>> = predictions.iter().map(|p| tokenize(p.as_ref())).collect();
    let refs: Vec<Vec<Vec<String>>> = references
        .iter()
        .map(|r| vec![tokenize(r.as_ref())])
        .collect();
    let scores = bleu::corpus_bleu_multi(&refs, &hyps, &[&BLEU2, &BLEU4])?;
    let mut meteor_sum = 0.0;
    for (r, h) in refs.iter().zip(&hyps) {
        meteor_sum += meteor.score(r, h)?;
    }
    // MolT5: scorer.score(output, ground_truth).
    let rouge = RougeScorer::new(use_stemmer).mean_scores(predictions, references)?;
    Ok(Mol2TextReport {
        n: predictions.len(),
        bleu2: scores[0],
        bleu4: scores[1],
        rouge,
        meteor: meteor_sum / predictions.len() as f64,
    })
}

/// Text→molecule scores of one (prediction, reference) pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Text2MolItem {
    /// The prediction parses and sanitizes as RDKit's `MolFromSmiles` would.
    pub valid: bool,
    /// Both valid with equal canonical SMILES.
    pub exact: bool,
    /// Character edit distance between the two strings.
    pub levenshtein: usize,
    /// Fingerprint Tanimoto similarities, when both molecules are valid.
    pub maccs: Option<f64>,
    pub rdk: Option<f64>,
    pub morgan: Option<f64>,
}

/// Text→molecule report (MolT5's columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Text2MolReport {
    pub n: usize,
    /// Character-level corpus BLEU-4.
    pub bleu: f64,
    /// Share of pairs whose canonical SMILES agree.
    pub exact_match: f64,
    /// Share of pairs whose strings are identical.
    pub string_match: f64,
    /// Mean character edit distance.
    pub levenshtein: f64,
    /// Share of valid predictions.
    pub validity: f64,
    /// Pairs with a valid prediction and a valid reference (the fingerprint averages' base).
    pub n_fingerprint_pairs: usize,
    /// References that are themselves invalid (left out of the fingerprint averages).
    pub invalid_references: usize,
    /// Mean Tanimoto over `n_fingerprint_pairs` (None when there is none).
    pub maccs_fts: Option<f64>,
    pub rdk_fts: Option<f64>,
    pub morgan_fts: Option<f64>,
}

/// A molecule checked as RDKit's `MolFromSmiles` checks it, with what the metrics need.
struct Parsed {
    canonical: String,
    maccs: Fingerprint,
    rdk: chematic::fp::BitVec2048,
    morgan: HashMap<u32, u32>,
}

/// None when RDKit would reject the SMILES (syntax, valence, kekulization) or chematic's ports
/// do not model it.
fn parse(smiles: &str) -> Option<Parsed> {
    let mol = crate::smiles::parse_rdkit(smiles)?;
    let canonical = mol.canonical_smiles().ok()?;
    // The same string chemlm-chem parses (trimmed, ClinTox's doubled backslashes collapsed), read
    // again by the backend for the two fingerprints chemlm-chem does not expose.
    let text = smiles.trim().replace("\\\\", "\\");
    let backend = chematic::smiles::parse_rdkit(&text).ok()?;
    let rdk = chematic::fp::rdkit_rdk_fp(&backend);
    let config = chematic::fp::RdkitMorganConfig {
        radius: chematic::fp::RdkitMorganRadius::R2,
        fp_size: chematic::fp::RdkitMorganFpSize::B2048,
        include_chirality: false,
    };
    let morgan = chematic::fp::rdkit_morgan_fingerprint(&backend, &config)
        .ok()?
        .sparse_counts
        .into_iter()
        .collect();
    Some(Parsed {
        canonical,
        maccs: mol.maccs(),
        rdk,
        morgan,
    })
}

/// RDKit's `TanimotoSimilarity` of two bit vectors: 0 when both are empty (a molecule without
/// bonds, such as `[Na+].[Cl-]`, has an empty RDK fingerprint).
fn bit_tanimoto(a: &chematic::fp::BitVec2048, b: &chematic::fp::BitVec2048) -> f64 {
    let inter = a.intersection_popcount(b);
    let union = a.popcount() + b.popcount() - inter;
    if union == 0 {
        0.0
    } else {
        f64::from(inter) / f64::from(union)
    }
}

/// RDKit's `TanimotoSimilarity` of two sparse count vectors.
fn count_tanimoto(a: &HashMap<u32, u32>, b: &HashMap<u32, u32>) -> f64 {
    let sa: f64 = a.values().map(|&v| f64::from(v)).sum();
    let sb: f64 = b.values().map(|&v| f64::from(v)).sum();
    let inter: f64 = a
        .iter()
        .filter_map(|(k, &v)| b.get(k).map(|&w| f64::from(v.min(w))))
        .sum();
    let denom = sa + sb - inter;
    if denom.abs() < 1e-6 {
        0.0
    } else {
        inter / denom
    }
}

fn item(
    pred: &str,
    pred_mol: Option<&Parsed>,
    reference: &str,
    ref_mol: Option<&Parsed>,
) -> Text2MolItem {
    let both = pred_mol.zip(ref_mol);
    Text2MolItem {
        valid: pred_mol.is_some(),
        exact: both.is_some_and(|(p, r)| p.canonical == r.canonical),
        levenshtein: levenshtein::distance(pred, reference),
        maccs: both.map(|(p, r)| p.maccs.tanimoto(&r.maccs)),
        rdk: both.map(|(p, r)| bit_tanimoto(&p.rdk, &r.rdk)),
        morgan: both.map(|(p, r)| count_tanimoto(&p.morgan, &r.morgan)),
    }
}

/// Text→molecule scores of one pair.
pub fn text2mol_item(prediction: &str, reference: &str) -> Text2MolItem {
    item(
        prediction,
        parse(prediction).as_ref(),
        reference,
        parse(reference).as_ref(),
    )
}

/// Text→molecule metrics of `predictions` against `references` (SMILES, one each).
pub fn text2mol_metrics<S: AsRef<str>>(
    predictions: &[S],
    references: &[S],
) -> Result<Text2MolReport, MetricsError> {
    check_pairs("text→molecule", predictions.len(), references.len())?;
    let mut items = Vec::with_capacity(predictions.len());
    let mut invalid_references = 0;
    for (p, r) in predictions.iter().zip(references) {
        let (p, r) = (p.as_ref(), r.as_ref());
        let rm = parse(r);
        invalid_references += usize::from(rm.is_none());
        items.push(item(p, parse(p).as_ref(), r, rm.as_ref()));
    }
    let refs: Vec<Vec<Vec<char>>> = references
        .iter()
        .map(|r| vec![r.as_ref().chars().collect()])
        .collect();
    let hyps: Vec<Vec<char>> = predictions
        .iter()
        .map(|p| p.as_ref().chars().collect())
        .collect();
    let n = predictions.len();
    let share = |count: usize| count as f64 / n as f64;
    let mean_of = |f: &dyn Fn(&Text2MolItem) -> Option<f64>| {
        let values: Vec<f64> = items.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    Ok(Text2MolReport {
        n,
        bleu: bleu::corpus_bleu(&refs, &hyps, &BLEU4)?,
        exact_match: share(items.iter().filter(|i| i.exact).count()),
        string_match: share(
            predictions
                .iter()
                .zip(references)
                .filter(|(p, r)| p.as_ref() == r.as_ref())
                .count(),
        ),
        levenshtein: items.iter().map(|i| i.levenshtein as f64).sum::<f64>() / n as f64,
        validity: share(items.iter().filter(|i| i.valid).count()),
        n_fingerprint_pairs: items.iter().filter(|i| i.maccs.is_some()).count(),
        invalid_references,
        maccs_fts: mean_of(&|i| i.maccs),
        rdk_fts: mean_of(&|i| i.rdk),
        morgan_fts: mean_of(&|i| i.morgan),
    })
}

fn check_pairs(what: &'static str, left: usize, right: usize) -> Result<(), MetricsError> {
    if left != right {
        return Err(MetricsError::LengthMismatch { what, left, right });
    }
    if left == 0 {
        return Err(MetricsError::EmptyCorpus(what));
    }
    Ok(())
}
