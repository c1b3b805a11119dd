//! `chemlm`: the command-line program. Thin: parses flags, sets up logging, and calls the libraries.

mod commands;
mod io;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "chemlm",
    version,
    about = "Chemical language models: data, pretraining, fine-tuning, compression, generation"
)]
struct Cli {
    /// Turn off progress bars.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job end to end on the bundled fixtures: prepare, pretrain, fine-tune, baselines,
    /// predict (each step's command line is printed).
    Quickstart(commands::quickstart::QuickstartArgs),
    /// Canonical SMILES, one line per input line.
    Canon(commands::chem::CanonArgs),
    /// SELFIES encoding and decoding.
    #[command(subcommand)]
    Selfies(commands::chem::SelfiesCommand),
    /// Tokenize SMILES or SELFIES (space-separated tokens per line).
    Tokenize(commands::chem::TokenizeArgs),
    /// Bemis–Murcko scaffolds.
    Scaffold(commands::chem::ScaffoldArgs),
    /// Morgan (ECFP) fingerprints as on-bit indices.
    Fingerprint(commands::chem::FingerprintArgs),
    /// Tanimoto similarity of each molecule to a query.
    Similarity(commands::chem::SimilarityArgs),
    /// Data sets: prepare pretraining shards, split, list the registry.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Model presets and saved models.
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Pretrain a language model (masked or causal LM) on token shards.
    Pretrain(commands::pretrain::PretrainArgs),
    /// Sample molecules from a causal LM (KV cache; SMILES out, decoded from SELFIES).
    Generate(commands::generate::GenerateArgs),
    /// Distil a masked-LM teacher into a smaller student (DeLiCaTe: soft targets, hidden states).
    Distill(commands::distill::DistillArgs),
    /// Mean-pooled molecule embeddings from a model.
    Embed(commands::embed::EmbedArgs),
    /// Rank a library against known actives (streaming, top-k, multi-threaded).
    Screen(commands::screen::ScreenArgs),
    /// ECFP4 baselines (logistic / ridge regression, MLP) on a dataset with seeded splits.
    Baseline(commands::baseline::BaselineArgs),
    /// Fine-tune a pretrained encoder + MLP head on a labelled data set (seeds, splits, results).
    Finetune(commands::finetune::FinetuneArgs),
    /// Property predictions from a fine-tuned model, one line per input line.
    Predict(commands::predict::PredictArgs),
    /// Neural scaling: sweep a model × data (× compute) grid, fit power laws.
    #[command(subcommand)]
    Scale(commands::scale::ScaleCommand),
    /// Training Performance Estimation over hyperparameter candidates.
    Tpe(commands::tpe::TpeArgs),
    /// Benchmark protocols (virtual screening on DUD-E).
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    run_command(cli.command, cli.quiet)
}

/// Runs one parsed command. `quickstart` re-enters here with the command lines it prints, so its
/// steps are exactly what those lines do.
fn run_command(command: Command, quiet: bool) -> anyhow::Result<()> {
    match command {
        Command::Quickstart(a) => commands::quickstart::run(&a, &|argv: &[String]| {
            let cli = Cli::try_parse_from(
                std::iter::once("chemlm").chain(argv.iter().map(String::as_str)),
            )?;
            run_command(cli.command, quiet || cli.quiet)
        }),
        Command::Canon(a) => commands::chem::canon(&a, quiet),
        Command::Selfies(c) => commands::chem::selfies(&c, quiet),
        Command::Tokenize(a) => commands::chem::tokenize(&a, quiet),
        Command::Scaffold(a) => commands::chem::scaffold(&a, quiet),
        Command::Fingerprint(a) => commands::chem::fingerprint(&a, quiet),
        Command::Similarity(a) => commands::chem::similarity(&a, quiet),
        Command::Data(c) => commands::data::run(&c, quiet),
        Command::Model(c) => commands::model::run(&c, quiet),
        Command::Pretrain(a) => commands::pretrain::run(&a, quiet),
        Command::Distill(a) => commands::distill::run(&a, quiet),
        Command::Embed(a) => commands::embed::run(&a, quiet),
        Command::Generate(a) => commands::generate::run(&a, quiet),
        Command::Screen(a) => commands::screen::run(&a, quiet),
        Command::Baseline(a) => commands::baseline::run(&a, quiet),
        Command::Finetune(a) => commands::finetune::run(&a, quiet),
        Command::Predict(a) => commands::predict::run(&a, quiet),
        Command::Scale(c) => commands::scale::run(&c, quiet),
        Command::Tpe(a) => commands::tpe::run(&a, quiet),
        Command::Bench(c) => commands::bench::run(&c, quiet),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's first command, scaled down: every step runs and leaves its outputs, the
    /// fine-tuned model predicts one line per input line, and the fixture's bad lines are empty.
    #[test]
    fn quickstart_runs_end_to_end() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("qs");
        let (molecules, labels) = (
            root.join("fixtures/moses-mini.smi"),
            root.join("fixtures/qm9-mini.csv"),
        );
        let argv = [
            "chemlm",
            "--quiet",
            "quickstart",
            "--out",
            out.to_str().unwrap(),
            "--molecules",
            molecules.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--steps",
            "12",
            "--epochs",
            "2",
            "--seeds",
            "0",
        ];
        let cli = Cli::try_parse_from(argv).unwrap();
        run_command(cli.command, cli.quiet).unwrap();
        for f in [
            "data/tokenizer.json",
            "pretrain/model/model.safetensors",
            "pretrain/metrics.jsonl",
            "finetune/results.md",
            "finetune/config.json",
            "baseline",
        ] {
            assert!(out.join(f).exists(), "missing {f}");
        }
        let preds = std::fs::read_to_string(out.join("predictions.txt")).unwrap();
        let lines: Vec<&str> = preds.lines().collect();
        assert_eq!(lines.len(), 303);
        for (i, l) in lines.iter().enumerate() {
            let bad = [10, 100, 200].contains(&i);
            assert_eq!(l.trim().is_empty(), bad, "line {}: {l:?}", i + 1);
            if !bad {
                let v: f64 = l.split_whitespace().last().unwrap().parse().unwrap();
                assert!(v.is_finite());
            }
        }
    }

    #[test]
    fn quickstart_names_a_missing_fixture() {
        let cli =
            Cli::try_parse_from(["chemlm", "quickstart", "--labels", "/nonexistent.csv"]).unwrap();
        let err = run_command(cli.command, true).unwrap_err().to_string();
        assert!(
            err.contains("/nonexistent.csv") || err.contains("fixtures"),
            "{err}"
        );
    }
}
