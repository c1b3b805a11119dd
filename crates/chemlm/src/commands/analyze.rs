//! `chemlm analyze attention`: do a model's attention maps follow molecular structure? (MoLFormer's
//! QM9 analysis; the work is in `chemlm_analysis`, this module parses, calls and prints.)

use anyhow::{bail, Context, Result};
use chemlm_analysis::attention::MoleculeInput;
use chemlm_analysis::{analyze_attention, AttentionOptions, AttentionReport};
use chemlm_data::Tokenizer;
use chemlm_models::Model;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AnalyzeCommand {
    /// Compare each layer's and head's attention among atom tokens with bond topology (cosine
    /// with the 1/2/3/4+-bonds-apart matrices) and 3-D distances (Spearman) on QM9 geometries;
    /// writes report.json, heatmap.png/.svg and example.png/.svg.
    Attention(AttentionArgs),
}

#[derive(Args)]
pub struct AttentionArgs {
    /// Model directory or `hf:ORG/NAME` (config.json, weights, tokenizer.json; SMILES tokenizer).
    #[arg(long)]
    pub model: PathBuf,
    /// Data set: `qm9` (the QM9 DFT geometries, `$CHEMLM_DATA_DIR/qm9/qm9_xyz.csv.gz`).
    #[arg(long, default_value = "qm9", value_parser = ["qm9"])]
    pub dataset: String,
    /// A geometry CSV in the QM9 layout (gdb_idx, smiles, n_atoms, elements, xyz_angstrom, …)
    /// instead of the data set's file.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Molecules analysed, drawn at random (seeded) from the file; 0 = all.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Seed of the molecule sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Molecules per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Feed the SMILES as written in the file instead of canonicalised (MoLFormer's pipeline
    /// canonicalises, and MOSES-pretrained models saw canonical SMILES).
    #[arg(long)]
    pub no_canonicalize: bool,
    /// QM9 gdb index of the molecule in the example figure (default: MoLFormer's Figure 4
    /// molecule); the first analysed molecule with 6+ atoms when absent from the sample.
    #[arg(long, default_value = "62509")]
    pub example: String,
    /// Output directory (created).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(c: &AnalyzeCommand, quiet: bool) -> Result<()> {
    match c {
        AnalyzeCommand::Attention(a) => attention(a, quiet),
    }
}

fn data_path(a: &AttentionArgs) -> Result<PathBuf> {
    if let Some(p) = &a.data {
        return Ok(p.clone());
    }
    let Some(dir) = chemlm_data::registry::data_dir() else {
        bail!(
            "the QM9 geometries are not downloadable (derived from PyPI qm9pack): set \
             CHEMLM_DATA_DIR to a directory with qm9/qm9_xyz.csv.gz, or pass --data FILE"
        );
    };
    let p = dir.join("qm9/qm9_xyz.csv.gz");
    if !p.is_file() {
        bail!(
            "{} not found (CHEMLM_DATA_DIR={})",
            p.display(),
            dir.display()
        );
    }
    Ok(p)
}

fn attention(a: &AttentionArgs, quiet: bool) -> Result<()> {
    if a.out.exists() && !a.out.is_dir() {
        bail!("--out {} exists and is not a directory", a.out.display());
    }
    let path = data_path(a)?;
    let read = chemlm_atoms::io::read_qm9(&path, &chemlm_atoms::io::ReadOptions::default())
        .with_context(|| format!("cannot read {}", path.display()))?;
    for e in &read.bad {
        eprintln!("warning: {e}");
    }
    let mut molecules = Vec::with_capacity(read.structures.len());
    for (k, s) in read.structures.iter().enumerate() {
        match MoleculeInput::from_structure(s, k + 1) {
            Some(m) => molecules.push(m),
            None => eprintln!(
                "warning: {}: record {}: no SMILES column value",
                path.display(),
                k + 1
            ),
        }
    }
    let model = Model::load(&a.model, &crate::runtime::device()?)
        .with_context(|| format!("cannot load model {}", a.model.display()))?;
    let tok = Tokenizer::load_dir(&a.model)
        .with_context(|| format!("cannot load the tokenizer of {}", a.model.display()))?;
    let opts = AttentionOptions {
        limit: (a.limit > 0).then_some(a.limit),
        seed: a.seed,
        batch_size: a.batch_size,
        canonicalize: !a.no_canonicalize,
        example_id: Some(a.example.clone()),
        ..AttentionOptions::default()
    };
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "attention maps: {bar:30} {pos}/{len} molecules [{elapsed_precise}, eta {eta}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    let name = a.model.display().to_string();
    let report = analyze_attention(&model, &name, &tok, &molecules, &opts, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    for s in &report.skipped_examples {
        eprintln!("warning: {}: gdb {}: {}", path.display(), s.id, s.reason);
    }
    if report.skipped > report.skipped_examples.len() {
        eprintln!(
            "warning: {} more skipped molecules (all reasons in report.json)",
            report.skipped - report.skipped_examples.len()
        );
    }
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let mut written = vec![chemlm_analysis::plot::write_report(&report, &a.out)?];
    written.extend(chemlm_analysis::plot::write_figures(&report, &a.out)?);
    print_summary(&report);
    for w in written {
        println!("wrote {}", w.display());
    }
    Ok(())
}

fn fmt(s: &chemlm_analysis::attention::Stat) -> String {
    match (s.mean, s.sem) {
        (Some(m), Some(e)) if e < 0.001 => format!("{m:.3}±{e:.4}"),
        (Some(m), Some(e)) => format!("{m:.3}±{e:.3}"),
        (Some(m), None) => format!("{m:.3}"),
        _ => "n/a".into(),
    }
}

fn print_summary(r: &AttentionReport) {
    println!(
        "{} ({}, {} attention): {} of {} molecules analysed, {} skipped {:?}; atom order: {} as \
         in the geometry, {} matched by graph",
        r.model,
        r.architecture,
        r.attention,
        r.analysed,
        r.molecules_selected,
        r.skipped,
        r.skip_reasons,
        r.atom_order_identity,
        r.atom_order_permuted
    );
    println!("head-mean attention vs structure (mean ± standard error over molecules):");
    let row = |label: &str, cells: [String; 6]| {
        println!(
            "{label:>6} {:>13} {:>13} {:>13} {:>13} {:>15} {:>13}",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        );
    };
    let stats_row = |label: &str, s: &chemlm_analysis::attention::HeadStats| {
        let c = &s.cosine;
        row(
            label,
            [
                fmt(&c[0]),
                fmt(&c[1]),
                fmt(&c[2]),
                fmt(&c[3]),
                fmt(&s.spearman_distance),
                fmt(&s.far_bond_auc),
            ],
        );
    };
    row(
        "layer",
        [
            "cos 1 bond",
            "cos 2 bonds",
            "cos 3 bonds",
            "cos 4+ bonds",
            "Spearman dist",
            "far-bond AUC",
        ]
        .map(String::from),
    );
    for l in &r.per_layer {
        stats_row(&l.layer.to_string(), &l.head_mean);
    }
    let u = &r.uniform_baseline;
    row(
        "unif.",
        [
            fmt(&u[0]),
            fmt(&u[1]),
            fmt(&u[2]),
            fmt(&u[3]),
            "0".into(),
            "0.5".into(),
        ],
    );
    stats_row("1/|Δt|", &r.sequence_baseline);
    println!(
        "(unif.: uniform attention; 1/|Δt|: attention 1/(token distance), the string alone; \
         far-bond AUC: bonded vs non-bonded atom pairs 3+ tokens apart, 0.5 = chance)"
    );
    let head = |h: Option<usize>| h.map_or("head mean".to_string(), |h| format!("head {h}"));
    if let Some((l, h, v)) = r.best_bonded {
        println!("most bonded-like: layer {l}, {}: cosine {v:.3}", head(h));
    }
    if let Some((l, h, v)) = r.best_distance {
        println!(
            "most distance-like: layer {l}, {}: Spearman {v:.3}",
            head(h)
        );
    }
    if let Some((l, h, v)) = r.best_far_bond {
        println!(
            "best at bonds the string hides: layer {l}, {}: far-bond AUC {v:.3}",
            head(h)
        );
    }
}
