//! `chemlm bench validity FILE`: chemlm's verdict on SMILES validity against RDKit's, recorded in
//! `smiles<TAB>1|0` lines by `scripts/gen_validity_fuzz.py` (1 = `Chem.MolFromSmiles` accepts).
//! chemlm accepts a string when it parses and canonicalizes (RDKit's sanitization included).
//! Prints one JSON summary with the disagreement counts and the first examples of each kind.

use anyhow::{Context, Result};
use clap::Args;
use rayon::prelude::*;
use std::path::PathBuf;

/// Arguments of `chemlm bench validity`.
#[derive(Args, Debug, Clone)]
pub struct BenchValidityArgs {
    /// `smiles<TAB>1|0` lines (RDKit's verdicts).
    pub file: PathBuf,
    /// Examples of each disagreement kind to print.
    #[arg(long, default_value_t = 20)]
    pub examples: usize,
}

/// `(smiles, chemlm's output or reason)` of the strings where the verdicts differ.
type Cases = Vec<(String, String)>;

/// Disagreements of chemlm with RDKit over `(smiles, rdkit_valid)` pairs: (chemlm accepts what
/// RDKit rejects, chemlm rejects what RDKit accepts).
pub fn disagreements(rows: &[(String, bool)]) -> (Cases, Cases) {
    let verdicts: Vec<std::result::Result<String, String>> = rows
        .par_iter()
        .map(|(s, _)| chemlm_chem::canonicalize(s).map_err(|e| e.to_string()))
        .collect();
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for ((s, rdkit), v) in rows.iter().zip(verdicts) {
        match (rdkit, v) {
            (false, Ok(out)) => accepted.push((s.clone(), out)),
            (true, Err(reason)) => rejected.push((s.clone(), reason)),
            _ => {}
        }
    }
    (accepted, rejected)
}

pub fn run(a: &BenchValidityArgs, _quiet: bool) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((s, v)) = line.rsplit_once('\t') else {
            anyhow::bail!("{}:{}: expected `smiles<TAB>1|0`", a.file.display(), i + 1);
        };
        rows.push((s.to_string(), v.trim() == "1"));
    }
    let t0 = std::time::Instant::now();
    let (accepted, rejected) = disagreements(&rows);
    let ex = |v: &[(String, String)]| -> Vec<serde_json::Value> {
        v.iter()
            .take(a.examples)
            .map(|(s, o)| serde_json::json!([s, o]))
            .collect()
    };
    println!(
        "{}",
        serde_json::json!({
            "bench": "validity",
            "strings": rows.len(),
            "rdkit_valid": rows.iter().filter(|r| r.1).count(),
            "disagreements": accepted.len() + rejected.len(),
            "accepted_but_rdkit_rejects": accepted.len(),
            "rejected_but_rdkit_accepts": rejected.len(),
            "seconds": t0.elapsed().as_secs_f64(),
            "examples_accepted": ex(&accepted),
            "examples_rejected": ex(&rejected),
        })
    );
    Ok(())
}
