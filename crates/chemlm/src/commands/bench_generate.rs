//! `chemlm bench generate`: MOSES metrics of a model's samples (or of a SMILES file) against a
//! reference set, printed beside MOSES's published CharRNN and VAE figures; writes the metrics as
//! JSON and the property histograms as PNG/SVG.

use super::generate::{generate, write_lines, SamplingArgs};
use anyhow::{bail, Context, Result};
use chemlm_data::{find_dataset, open_input, Resolver};
use chemlm_train::genmetrics::{self, plot::plot_property_histograms, GenMetrics, ReferenceStats};
use clap::Args;
use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug, Clone)]
pub struct BenchGenerateArgs {
    /// Model directory to sample from (or give --generated).
    #[arg(
        long,
        required_unless_present = "generated",
        conflicts_with = "generated"
    )]
    pub model: Option<PathBuf>,
    /// Already generated SMILES, one per line (empty line = invalid sample).
    #[arg(long)]
    pub generated: Option<PathBuf>,
    /// Molecules to sample (MOSES uses 30 000; 10 000 is enough for unique@10k).
    #[arg(long, default_value_t = 10_000)]
    pub num: usize,
    /// Reference set: a registry name (moses-test, moses-test-scaffolds) or a SMILES/CSV file.
    #[arg(long, default_value = "moses-test")]
    pub reference: String,
    /// Training set for novelty: a registry name or a file ("none" to skip).
    #[arg(long, default_value = "moses-train")]
    pub train: String,
    /// Use only the first N reference molecules (0 = all).
    #[arg(long, default_value_t = 0)]
    pub reference_limit: usize,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Output directory: generated.smi, metrics.json, properties.png/.svg.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// SMILES of a registry data set or a file: the first comma/whitespace field of each line, a
/// `SMILES`/`smiles` header skipped.
pub fn read_smiles_source(name: &str, limit: usize) -> Result<Vec<String>> {
    let path = if Path::new(name).is_file() {
        PathBuf::from(name)
    } else {
        let info = find_dataset(name).with_context(|| format!("{name}: not a file"))?;
        Resolver::from_env()
            .resolve(info)
            .with_context(|| format!("data set {name} (set CHEMLM_DATA_DIR)"))?
    };
    let reader = open_input(Some(&path))?;
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", path.display(), i + 1))?;
        let field = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .unwrap_or("")
            .trim();
        if i == 0 && field.eq_ignore_ascii_case("smiles") {
            continue;
        }
        out.push(field.to_string());
        if limit > 0 && out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

fn fmt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "—".into())
}

/// The comparison table (Markdown).
pub fn table(label: &str, m: &GenMetrics) -> String {
    let mut s = String::new();
    s.push_str("| model | Valid | Unique@1k | Unique@10k | Frag/Test | Scaf/Test | IntDiv | IntDiv2 | Novelty | W1 MW | W1 logP | W1 rings |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    s.push_str(&format!(
        "| {label} | {:.3} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        m.valid,
        fmt(m.unique_at_1k),
        fmt(m.unique_at_10k),
        fmt(m.frag),
        fmt(m.scaf),
        fmt(m.int_div1),
        fmt(m.int_div2),
        fmt(m.novelty),
        fmt(m.w1_mw),
        fmt(m.w1_logp),
        fmt(m.w1_rings),
    ));
    for b in genmetrics::MOSES_BASELINES {
        let v = b.values;
        s.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | — | — | — |\n",
            b.name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
        ));
    }
    s
}

pub fn run(a: &BenchGenerateArgs, quiet: bool) -> Result<()> {
    if let Some(o) = &a.out {
        std::fs::create_dir_all(o).with_context(|| format!("creating {}", o.display()))?;
    }
    let (smiles, label) = match (&a.model, &a.generated) {
        (Some(dir), _) => {
            let (gen, secs) = generate(dir, a.num, a.sampling.batch, &a.sampling.config(), quiet)?;
            eprintln!(
                "sampled {} molecules in {secs:.1} s ({:.1}/s)",
                gen.len(),
                gen.len() as f64 / secs.max(1e-9)
            );
            let smiles: Vec<String> = gen.into_iter().map(|g| g.smiles).collect();
            if let Some(o) = &a.out {
                write_lines(&o.join("generated.smi"), smiles.iter().map(String::as_str))?;
            }
            (smiles, dir.display().to_string())
        }
        (None, Some(p)) => {
            let reader = open_input(Some(p))?;
            let mut v = Vec::new();
            for (i, l) in reader.lines().enumerate() {
                let l = l.with_context(|| format!("{}:{}", p.display(), i + 1))?;
                v.push(l.split_whitespace().next().unwrap_or("").to_string());
                if v.len() >= a.num {
                    break;
                }
            }
            (v, p.display().to_string())
        }
        (None, None) => bail!("give --model DIR or --generated FILE"),
    };
    let t0 = Instant::now();
    let reference = read_smiles_source(&a.reference, a.reference_limit)?;
    let ref_stats = ReferenceStats::from_smiles(&reference);
    eprintln!(
        "reference {}: {} molecules ({} valid) described in {:.1} s",
        a.reference,
        reference.len(),
        ref_stats.molecules,
        t0.elapsed().as_secs_f64()
    );
    let train: Option<HashSet<String>> = if a.train == "none" {
        None
    } else {
        Some(read_smiles_source(&a.train, 0)?.into_iter().collect())
    };
    let t1 = Instant::now();
    let ev = genmetrics::evaluate(&smiles, &ref_stats, train.as_ref());
    eprintln!(
        "metrics of {} samples in {:.1} s",
        smiles.len(),
        t1.elapsed().as_secs_f64()
    );
    let tbl = table(&label, &ev.metrics);
    println!("{tbl}");
    if let Some(o) = &a.out {
        let json = serde_json::to_string_pretty(&ev.metrics)?;
        chemlm_models::io::write_atomic(&o.join("metrics.json"), json.as_bytes())?;
        chemlm_models::io::write_atomic(&o.join("metrics.md"), tbl.as_bytes())?;
        plot_property_histograms(&ev.generated, &ref_stats, &o.join("properties"))?;
        eprintln!(
            "wrote {}/{{metrics.json,metrics.md,properties.png,properties.svg}}",
            o.display()
        );
    }
    Ok(())
}
