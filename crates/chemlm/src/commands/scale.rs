//! `chemlm scale sweep|fit`: neural-scaling grids of real training runs and power-law fits.

use anyhow::{bail, Context, Result};
use chemlm_data::ShardSet;
use chemlm_train::scaling::plot::{plot_scaling, Series};
use chemlm_train::scaling::{
    fit_with_bootstrap, read_results, run_sweep, Corpus, FitWithCi, SweepConfig, SweepRow,
};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ScaleCommand {
    /// Train every cell of a model-size × data-size (× FLOPs budget) grid; resumable.
    Sweep(SweepArgs),
    /// Fit L = a·R^-b (+ c) in parameters, data and compute; bootstrap CIs; log-log plots.
    Fit(FitArgs),
}

#[derive(Args)]
pub struct SweepArgs {
    /// Sweep TOML (see configs/sweep-*.toml).
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Args)]
pub struct FitArgs {
    /// results.jsonl written by `chemlm scale sweep`.
    pub results: PathBuf,
    /// Also fit an irreducible loss c.
    #[arg(long)]
    pub offset: bool,
    /// Bootstrap resamples for the 95 % intervals.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where fit.json and the plots go (default: beside results.jsonl).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Fit only the rows whose model name starts with this (one architecture of a sweep
    /// over several: their losses lie on different curves and are not pooled into one law).
    #[arg(long)]
    pub model_prefix: Option<String>,
}

/// The first `train_n` training and `valid_n` validation sequences of a shard directory.
pub fn load_corpus(dir: &Path, train_n: usize, valid_n: usize) -> Result<Corpus> {
    let shards =
        ShardSet::open(dir).with_context(|| format!("opening shards {}", dir.display()))?;
    let tok = shards.tokenizer()?;
    let take = |split: &str, n: usize| -> Result<Vec<Vec<u32>>> {
        let d = shards
            .split(split)
            .with_context(|| format!("{}: split {split}", dir.display()))?;
        if d.len() < n {
            bail!(
                "{}: split {split} has {} sequences, {n} requested",
                dir.display(),
                d.len()
            );
        }
        Ok((0..n).map(|i| d.get(i)).collect())
    };
    Ok(Corpus {
        train: take("train", train_n)?,
        valid: take("valid", valid_n)?,
        pad_id: tok.special_ids().pad,
        vocab_size: tok.vocab_size(),
    })
}

/// One fitted axis: name, points, plot caption, per-model series, x-axis label.
type Axis = (
    &'static str,
    Vec<(f64, f64)>,
    String,
    Vec<Series>,
    &'static str,
);

/// A force-field sweep (`kind = "ff"`): structures from files, one `ff train` run per cell.
fn ff_sweep(text: &str, origin: &Path, quiet: bool) -> Result<()> {
    use chemlm_ff::train::sweep::{run_ff_sweep, FfSweepConfig};
    let cfg = FfSweepConfig::from_toml(text, &origin.display().to_string())?;
    let frames = chemlm_ff::train::load_frames(&cfg.data, &Default::default())?;
    for b in &frames.bad {
        eprintln!("warning: skipped {b}");
    }
    if !frames.bad.is_empty() {
        eprintln!("{} bad frames skipped", frames.bad.len());
    }
    let rows = run_ff_sweep(
        &cfg,
        frames.structures,
        &crate::runtime::device()?,
        quiet,
        |i, n, cell, row| {
            match row {
        None => eprintln!(
            "[{}/{n}] {}: already in results.jsonl, skipped",
            i + 1,
            cell.id
        ),
        Some(r) if !quiet => eprintln!(
            "[{}/{n}] {}: valid loss {:.4}, {} parameters, {} structures, {} epochs' samples, {:.0} s",
            i + 1,
            cell.id,
            r.result.valid_loss,
            r.result.parameters,
            r.result.train_molecules,
            r.result.tokens_seen,
            r.result.wall_seconds
        ),
        Some(_) => {}
    }
        },
    )?;
    eprintln!(
        "{} cells in {}",
        rows.len(),
        cfg.out.join("results.jsonl").display()
    );
    Ok(())
}

fn sweep(a: &SweepArgs, quiet: bool) -> Result<()> {
    let text = std::fs::read_to_string(&a.config)
        .with_context(|| format!("reading {}", a.config.display()))?;
    let value: toml::Value =
        toml::from_str(&text).with_context(|| format!("parsing {}", a.config.display()))?;
    if value.get("kind").and_then(|k| k.as_str()) == Some(chemlm_ff::train::sweep::KIND) {
        return ff_sweep(&text, &a.config, quiet);
    }
    let mut cfg = SweepConfig::from_toml(&text, &a.config)?;
    cfg.train.precision = crate::runtime::train_precision(cfg.train.precision);
    let max_n = cfg.data_sizes.iter().copied().max().unwrap_or(0);
    let corpus = load_corpus(&cfg.data, max_n, cfg.valid_molecules)?;
    let rows = run_sweep(
        &cfg,
        &corpus,
        &crate::runtime::device()?,
        |i, n, cell, row| match row {
            None => eprintln!(
                "[{}/{n}] {}: already in results.jsonl, skipped",
                i + 1,
                cell.id
            ),
            Some(r) if !quiet => eprintln!(
                "[{}/{n}] {}: valid loss {:.4}, N = {}, {} tokens, {:.3e} FLOPs, {:.0} s",
                i + 1,
                cell.id,
                r.result.valid_loss,
                r.result.non_embedding_parameters,
                r.result.tokens_seen,
                r.result.flops,
                r.result.wall_seconds
            ),
            Some(_) => {}
        },
    )?;
    eprintln!(
        "{} cells in {}",
        rows.len(),
        cfg.out.join("results.jsonl").display()
    );
    Ok(())
}

#[derive(Serialize)]
struct AxisFit {
    axis: &'static str,
    points: Vec<(f64, f64)>,
    fit: Option<FitWithCi>,
    note: String,
}

/// Pareto frontier: points whose loss is lower than every point with less compute.
fn frontier(mut pts: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best = f64::INFINITY;
    pts.into_iter()
        .filter(|p| {
            let keep = p.1 < best;
            best = best.min(p.1);
            keep
        })
        .collect()
}

fn fit(a: &FitArgs) -> Result<()> {
    let mut rows = read_results(&a.results)?;
    if let Some(prefix) = &a.model_prefix {
        rows.retain(|r| r.model.starts_with(prefix.as_str()));
        if rows.is_empty() {
            bail!(
                "{}: no results of a model named {prefix}…",
                a.results.display()
            );
        }
    }
    if rows.is_empty() {
        bail!("{}: no results", a.results.display());
    }
    let out = a
        .out
        .clone()
        .or_else(|| a.results.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&out)?;
    let ff = rows
        .iter()
        .all(|r| r.kind.as_deref() == Some(chemlm_ff::train::sweep::KIND));
    if !ff && rows.iter().any(|r| r.kind.is_some()) {
        bail!(
            "{}: mixes language-model and force-field rows; fit them separately",
            a.results.display()
        );
    }
    let (unit, params_label, paper) = if ff {
        ("structures", "parameters", "0.26 (GNN)")
    } else {
        ("molecules", "non-embedding parameters", "0.17")
    };
    let max_n = rows
        .iter()
        .map(|r| r.result.train_molecules)
        .max()
        .unwrap_or(0);
    let max_p = rows
        .iter()
        .map(|r| r.result.non_embedding_parameters)
        .max()
        .unwrap_or(0);
    let by_model = |filter: &dyn Fn(&SweepRow) -> bool, x: &dyn Fn(&SweepRow) -> f64| {
        let mut m: BTreeMap<(usize, String), Vec<(f64, f64)>> = BTreeMap::new();
        for r in rows.iter().filter(|r| filter(r)) {
            m.entry((r.result.non_embedding_parameters, r.model.clone()))
                .or_default()
                .push((x(r), r.result.valid_loss));
        }
        m.into_iter()
            .map(|((_, label), points)| Series { label, points })
            .collect::<Vec<_>>()
    };
    // Parameters: each size at the largest data size (and any budget: best loss).
    let params: Vec<(f64, f64)> = {
        let mut m: BTreeMap<usize, f64> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.result.train_molecules == max_n) {
            let e = m
                .entry(r.result.non_embedding_parameters)
                .or_insert(f64::INFINITY);
            *e = e.min(r.result.valid_loss);
        }
        m.into_iter().map(|(p, l)| (p as f64, l)).collect()
    };
    let data: Vec<(f64, f64)> = {
        let mut m: BTreeMap<usize, f64> = BTreeMap::new();
        for r in rows
            .iter()
            .filter(|r| r.result.non_embedding_parameters == max_p)
        {
            let e = m.entry(r.result.train_molecules).or_insert(f64::INFINITY);
            *e = e.min(r.result.valid_loss);
        }
        m.into_iter().map(|(n, l)| (n as f64, l)).collect()
    };
    let compute = frontier(
        rows.iter()
            .map(|r| (r.result.flops, r.result.valid_loss))
            .collect(),
    );
    let axes: [Axis; 3] = [
        (
            "parameters",
            params,
            format!("{params_label} N, data = {max_n} {unit}"),
            by_model(&|r| r.result.train_molecules == max_n, &|r| {
                r.result.non_embedding_parameters as f64
            }),
            params_label,
        ),
        (
            "data",
            data,
            format!("training {unit} D, largest model"),
            by_model(&|r| r.result.non_embedding_parameters == max_p, &|r| {
                r.result.train_molecules as f64
            }),
            if ff {
                "training structures"
            } else {
                "training molecules"
            },
        ),
        (
            "compute",
            compute,
            if ff {
                "training FLOPs proxy C (6·N·atoms·samples), compute-efficient frontier".to_string()
            } else {
                "training FLOPs C, compute-efficient frontier of all cells".to_string()
            },
            by_model(&|_| true, &|r| r.result.flops),
            "training FLOPs",
        ),
    ];
    let mut fits = Vec::new();
    println!(
        "| axis | points | a | b (exponent) | 95% CI of b | c | paper ({}) |",
        if ff { "Frey et al., GNN" } else { "ChemGPT" }
    );
    println!("|---|---|---|---|---|---|---|");
    for (i, (axis, points, note, series, xdesc)) in axes.into_iter().enumerate() {
        let f = fit_with_bootstrap(&points, a.offset, a.bootstrap, a.seed + i as u64).ok();
        match &f {
            Some(f) => println!(
                "| {axis} | {} | {:.4} | {:.4} | {:.4}–{:.4} | {:.4} | {} |",
                points.len(),
                f.law.a,
                f.law.b,
                f.b_ci.0,
                f.b_ci.1,
                f.law.c,
                match (ff, axis) {
                    (false, "parameters") => paper,
                    (true, "data") => paper,
                    _ => "—",
                }
            ),
            None => println!(
                "| {axis} | {} | not fittable (needs ≥ 2 distinct R) | | | | |",
                points.len()
            ),
        }
        let mut shown = series;
        if axis == "compute" {
            shown.push(Series {
                label: "frontier".into(),
                points: points.clone(),
            });
        }
        if let Err(e) = plot_scaling(
            &shown,
            f.as_ref(),
            xdesc,
            if ff {
                "held-out loss (weighted MSE, eV², eV²/Å²)"
            } else {
                "validation loss (nats/token)"
            },
            &format!("loss vs {axis}"),
            &out.join(format!("scaling-{axis}")),
        ) {
            eprintln!("warning: plot for {axis} not drawn: {e}");
        }
        fits.push(AxisFit {
            axis,
            points,
            fit: f,
            note,
        });
    }
    let json = serde_json::to_string_pretty(&fits)?;
    chemlm_models::io::write_atomic(&out.join("fit.json"), json.as_bytes())?;
    eprintln!(
        "wrote {}/fit.json and scaling-{{parameters,data,compute}}.{{png,svg}}",
        out.display()
    );
    Ok(())
}

pub fn run(c: &ScaleCommand, quiet: bool) -> Result<()> {
    match c {
        ScaleCommand::Sweep(a) => sweep(a, quiet),
        ScaleCommand::Fit(a) => fit(a),
    }
}
