//! `chemlm tpe --config hpo.toml`: Training Performance Estimation over hyperparameter
//! candidates — rank by TSE after a small budget, verify against converged validation loss.

use super::scale::load_corpus;
use anyhow::{Context, Result};
use chemlm_train::tpe::{run_tpe, HpoConfig};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct TpeArgs {
    /// HPO TOML (see configs/hpo-*.toml).
    #[arg(long)]
    pub config: PathBuf,
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "—".into())
}

pub fn run(a: &TpeArgs, _quiet: bool) -> Result<()> {
    let text = std::fs::read_to_string(&a.config)
        .with_context(|| format!("reading {}", a.config.display()))?;
    let mut cfg = HpoConfig::from_toml(&text, &a.config)?;
    cfg.train.precision = crate::runtime::train_precision(cfg.train.precision);
    let corpus = load_corpus(&cfg.data, cfg.train_molecules, cfg.valid_molecules)?;
    let rep = run_tpe(&cfg, &corpus, &crate::runtime::device()?, |i, n, name| {
        eprintln!("[{}/{n}] training {name}", i + 1)
    })?;
    let mut md = String::new();
    md.push_str(&format!(
        "| candidate | TSE | TSE-E | TSE-EMA | valid loss ({} epochs) | small-budget s | full s |\n|---|---|---|---|---|---|---|\n",
        if cfg.verify { cfg.full_epochs } else { cfg.small_epochs }
    ));
    for c in &rep.candidates {
        md.push_str(&format!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.1} | {:.1} |\n",
            c.name,
            c.estimates.tse,
            c.estimates.tse_e,
            c.estimates.tse_ema,
            c.run.valid_loss,
            c.small_seconds,
            c.run.wall_seconds
        ));
    }
    md.push_str(&format!(
        "\nSpearman ρ vs converged validation loss: TSE {}, TSE-E {}, TSE-EMA {}\n\
         TSE-EMA picks {}; best by validation loss: {}\n\
         compute saved (train all small + pick full vs all full): {} of FLOPs, {} of wall time\n",
        opt(rep.spearman_tse),
        opt(rep.spearman_tse_e),
        opt(rep.spearman_tse_ema),
        rep.picked,
        rep.best.as_deref().unwrap_or("—"),
        opt(rep.compute_saved_flops),
        opt(rep.compute_saved_seconds),
    ));
    println!("{md}");
    let json = serde_json::to_string_pretty(&rep)?;
    chemlm_models::io::write_atomic(&cfg.out.join("report.json"), json.as_bytes())?;
    chemlm_models::io::write_atomic(&cfg.out.join("report.md"), md.as_bytes())?;
    eprintln!("wrote {}/report.{{json,md}}", cfg.out.display());
    Ok(())
}
