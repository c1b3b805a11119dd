//! `chemlm bench parity DIR...`: reference parity of model directories on the chosen device and
//! precision (see `chemlm_models::parity`). Each DIR is a model directory with an
//! `io.safetensors` of reference inputs/outputs, or a folder of such directories (the golden
//! models under `crates/chemlm-models/tests/golden`). One JSON line per output; exits non-zero
//! when any output is outside the tolerance.

use anyhow::{bail, Context, Result};
use chemlm_models::parity::{check_reference, load_reference};
use chemlm_models::Model;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `chemlm bench parity`.
#[derive(Args, Debug, Clone)]
pub struct BenchParityArgs {
    /// Model directories with `io.safetensors`, or folders of them.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Largest absolute deviation accepted in f32.
    #[arg(long, default_value_t = 1e-4)]
    pub tol_f32: f64,
    /// Largest deviation accepted in bf16/f16, relative to the reference's largest magnitude
    /// (the golden tests hold bf16 to this on the CPU).
    #[arg(long, default_value_t = 0.05)]
    pub tol_half: f64,
}

/// `dir` itself when it has reference outputs, else its sub-directories that have them.
fn model_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.join("io.safetensors").exists() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("io.safetensors").exists())
        .collect();
    found.sort();
    if found.is_empty() {
        bail!(
            "{}: no io.safetensors here or one level down",
            dir.display()
        );
    }
    Ok(found)
}

pub fn run(a: &BenchParityArgs, _quiet: bool) -> Result<()> {
    let device = crate::runtime::device()?;
    let precision = crate::runtime::precision();
    let half = precision != chemlm_models::Precision::F32;
    let mut failed = Vec::new();
    for root in &a.dirs {
        for dir in model_dirs(root)? {
            let model =
                Model::load(&dir, &device).with_context(|| format!("loading {}", dir.display()))?;
            let io = load_reference(&dir, &model)?;
            for r in check_reference(&model, &io)
                .with_context(|| format!("running {}", dir.display()))?
            {
                let pass = if half {
                    r.relative() < a.tol_half
                } else {
                    r.max_abs_diff < a.tol_f32
                };
                writeln!(
                    std::io::stdout().lock(),
                    "{}",
                    serde_json::json!({
                        "bench": "parity",
                        "model": dir.display().to_string(),
                        "output": r.output,
                        "device": chemlm_models::device_name(&device),
                        "precision": precision.to_string(),
                        "max_abs_diff": r.max_abs_diff,
                        "max_abs_ref": r.max_abs_ref,
                        "relative": r.relative(),
                        "tolerance": if half { a.tol_half } else { a.tol_f32 },
                        "pass": pass,
                    })
                )?;
                if !pass {
                    failed.push(format!("{} {}", dir.display(), r.output));
                }
            }
        }
    }
    if !failed.is_empty() {
        bail!("outside tolerance: {}", failed.join(", "));
    }
    Ok(())
}
