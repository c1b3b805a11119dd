//! `chemlm`: the command-line program. Thin: parses flags, sets up logging, and calls the libraries.

mod commands;
mod hub;
mod io;
mod output;
mod runtime;

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
    /// Where models run: cpu, cuda, cuda:N, or auto (a GPU when this build has CUDA, see
    /// `--features cuda`, and one is present; else the CPU).
    #[arg(long, global = true, env = "CHEMLM_DEVICE", default_value = "auto")]
    device: chemlm_models::DeviceSpec,
    /// Compute precision: f32, bf16 or f16 (autocast: f32 weights and optimizer state, half
    /// precision matmuls; f16 training adds loss scaling). Default: f32, or a training config's
    /// `precision`.
    #[arg(long, global = true, env = "CHEMLM_PRECISION")]
    precision: Option<chemlm_models::Precision>,
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
    /// Translate each line with an encoder-decoder (T5) model after a task prompt (reactions,
    /// retrosynthesis, text↔molecule, paragraph→actions): greedy, beam search or sampling.
    Seq2seq(commands::seq2seq::Seq2SeqArgs),
    /// Sample molecules from a causal LM (KV cache; SMILES out, decoded from SELFIES).
    Generate(commands::generate::GenerateArgs),
    /// Distil a masked-LM teacher into a smaller student (DeLiCaTe: soft targets, hidden states).
    Distill(commands::distill::DistillArgs),
    /// Mean-pooled molecule embeddings from a model.
    Embed(commands::embed::EmbedCommand),
    /// Rank a library against known actives (streaming, top-k, multi-threaded).
    Screen(commands::screen::ScreenCommand),
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
    /// Neural force fields (SchNet, PaiNN): init, train on energies and forces, eval, predict,
    /// molecular dynamics, size scaling.
    #[command(subcommand)]
    Ff(commands::ff::FfCommand),
    /// Benchmark protocols (virtual screening on DUD-E).
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// Model analyses: attention maps against bond topology and 3-D geometry (QM9).
    #[command(subcommand)]
    Analyze(commands::analyze::AnalyzeCommand),
    /// Serve models over HTTP: /embed, /predict, /generate, /canon, /selfies (dynamic batching,
    /// Prometheus /metrics, OpenAPI at /openapi.json).
    Serve(commands::serve::ServeArgs),
}

fn main() -> anyhow::Result<()> {
    chemlm_models::alloc::tune_allocator();
    let cli = Cli::parse();
    // The main thread runs the work; as a rayon worker it splits each op locally. Not when it
    // serves HTTP: it then waits in the event loop and the batch workers run the forward passes,
    // so every rayon worker must be a thread of its own.
    let serving = matches!(
        cli.command,
        Command::Serve(_) | Command::Bench(commands::bench::BenchCommand::Serve(_))
    );
    chemlm_models::threads::init_global_pool_with(!serving);
    // Under mpirun/srun, rank 0 speaks for the job; the other ranks log warnings and errors.
    let launched = chemlm_train::dist::launcher_env();
    if let Some((_, world, launcher)) = launched {
        if !matches!(cli.command, Command::Pretrain(_)) {
            anyhow::bail!(
                "started by {launcher} as one of {world} processes: only `chemlm pretrain` runs \
                 data-parallel; split other work with --shard I/N (one process each)"
            );
        }
    }
    let default_level = match launched {
        Some((rank, _, _)) if rank > 0 => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        // No colour codes in logs redirected to a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    runtime::configure(cli.device, cli.precision);
    // Ctrl-C / SIGTERM remove every temporary output of the run before exiting; the server
    // handles them itself (it finishes the requests in flight first).
    if !matches!(cli.command, Command::Serve(_)) {
        output::install_handler();
    }
    run_command(cli.command, cli.quiet)
}

/// Downloads every `hf:ORG/NAME[@REV]` model argument and puts its snapshot directory in its
/// place (see [`hub`]). Fine-tuned runs (`predict`) and force fields are local directories only.
fn resolve_hub_sources(command: &mut Command, quiet: bool) -> anyhow::Result<()> {
    use commands::bench::BenchCommand as B;
    use commands::model::ModelCommand as M;
    match command {
        Command::Model(M::Info(a)) => hub::resolve_opt(&mut a.model, quiet),
        Command::Model(M::Import(a)) => hub::resolve(&mut a.source, quiet),
        Command::Pretrain(a) => hub::resolve_opt(&mut a.init, quiet),
        Command::Distill(a) => hub::resolve(&mut a.teacher, quiet),
        Command::Embed(c) => match &mut c.args {
            Some(a) => hub::resolve(&mut a.model, quiet),
            None => Ok(()),
        },
        Command::Generate(a) => hub::resolve(&mut a.model, quiet),
        Command::Seq2seq(a) => hub::resolve(&mut a.model, quiet),
        Command::Screen(c) => match &mut c.args {
            Some(a) => hub::resolve_opt(&mut a.model, quiet),
            None => Ok(()),
        },
        Command::Finetune(a) => hub::resolve(&mut a.model, quiet),
        Command::Bench(B::Screen(a)) => hub::resolve_opt(&mut a.model, quiet),
        Command::Bench(B::Generate(a)) => hub::resolve_opt(&mut a.model, quiet),
        Command::Bench(B::Moleculenet(a)) => hub::resolve(&mut a.model, quiet),
        Command::Bench(B::Seq2seq(a)) => hub::resolve(&mut a.model, quiet),
        Command::Analyze(commands::analyze::AnalyzeCommand::Attention(a)) => {
            hub::resolve(&mut a.model, quiet)
        }
        Command::Bench(B::TextChem(a)) => {
            hub::resolve(&mut a.model, quiet)?;
            hub::resolve_str(&mut a.forward_model, quiet)
        }
        _ => Ok(()),
    }
}

/// Runs one parsed command. `quickstart` re-enters here with the command lines it prints, so its
/// steps are exactly what those lines do.
fn run_command(mut command: Command, quiet: bool) -> anyhow::Result<()> {
    resolve_hub_sources(&mut command, quiet)?;
    // Model forward passes of this thread (inference commands; trainers set their own) run in
    // the chosen precision.
    let _autocast = chemlm_models::autocast(runtime::precision());
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
        Command::Embed(c) => commands::embed::run_command(&c, quiet),
        Command::Generate(a) => commands::generate::run(&a, quiet),
        Command::Seq2seq(a) => commands::seq2seq::run(&a, quiet),
        Command::Screen(c) => commands::screen::run_command(&c, quiet),
        Command::Baseline(a) => commands::baseline::run(&a, quiet),
        Command::Finetune(a) => commands::finetune::run(&a, quiet),
        Command::Predict(a) => commands::predict::run(&a, quiet),
        Command::Scale(c) => commands::scale::run(&c, quiet),
        Command::Tpe(a) => commands::tpe::run(&a, quiet),
        Command::Ff(c) => commands::ff::run(&c, quiet),
        Command::Bench(c) => commands::bench::run(&c, quiet),
        Command::Analyze(c) => commands::analyze::run(&c, quiet),
        Command::Serve(a) => commands::serve::run(&a, quiet),
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

    fn run_argv(argv: &[&str]) -> anyhow::Result<()> {
        let cli = Cli::try_parse_from(std::iter::once("chemlm").chain(argv.iter().copied()))?;
        run_command(cli.command, true)
    }

    fn weights(dir: &std::path::Path) -> Vec<(String, Vec<f32>)> {
        let t = candle_core::safetensors::load(
            dir.join("model.safetensors"),
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let mut v: Vec<(String, Vec<f32>)> = t
            .into_iter()
            .map(|(k, x)| (k, x.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The Text+Chem T5 path on real data, scaled down: `data seq2seq` → `pretrain` (t5-tiny,
    /// seq2seq objective) → a killed-and-resumed run equals an uninterrupted one → `seq2seq`
    /// writes one line per input line (bad lines empty) → `bench text-chem` writes its results.
    #[test]
    fn t5_text_chem_end_to_end() {
        let data_dir = std::env::var("CHEMLM_DATA_DIR")
            .expect("CHEMLM_DATA_DIR must point at the shared data (see README)");
        let dir = tempfile::tempdir().unwrap();
        let p = |s: &str| dir.path().join(s).to_str().unwrap().to_string();
        run_argv(&[
            "data",
            "seq2seq",
            "--data-dir",
            &data_dir,
            "--out",
            &p("data"),
            "--limit",
            "12",
            "--vocab-size",
            "300",
            "--extra-ids",
            "4",
        ])
        .unwrap();
        let data = p("data");
        let train = |out: &str, steps: &str, resume: bool| {
            let mut argv = vec![
                "pretrain",
                "--preset",
                "t5-tiny",
                "--data",
                &data,
                "--out",
                out,
                "--steps",
                steps,
                "--checkpoint-every",
                "2",
                "--eval-every",
                "2",
                "--schedule",
                "constant",
                "--warmup",
                "0",
                "--lr",
                "1e-3",
                "--max-sequences",
                "4",
                "--batch-tokens",
                "4096",
                "--objective",
                "seq2seq",
                "--lr-decay",
                "0.9",
                "--lr-decay-each-epoch",
            ];
            if resume {
                argv.push("--resume");
            }
            run_argv(&argv)
        };
        let (full, cut) = (p("full"), p("cut"));
        train(&full, "4", false).unwrap();
        train(&cut, "2", false).unwrap();
        // A finished run is not overwritten without --resume.
        assert!(train(&cut, "4", false).is_err());
        train(&cut, "4", true).unwrap();
        let a = weights(&dir.path().join("full/model"));
        let b = weights(&dir.path().join("cut/model"));
        assert_eq!(a.len(), b.len());
        for ((na, va), (nb, vb)) in a.iter().zip(&b) {
            assert_eq!(na, nb);
            assert_eq!(va, vb, "{na} differs after resume");
        }
        // The masked-LM objective is refused for T5.
        let err = run_argv(&[
            "pretrain",
            "--preset",
            "t5-tiny",
            "--data",
            &p("data"),
            "--out",
            &p("x"),
            "--objective",
            "mlm",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("seq2seq"), "{err}");

        let model = p("full/model");
        std::fs::write(
            dir.path().join("in.txt"),
            b"CCO.CC(=O)Cl\n\nc1ccccc1\xe9\nCCN\n",
        )
        .unwrap();
        run_argv(&[
            "seq2seq",
            "--model",
            &model,
            "--task",
            "forward",
            "--beams",
            "3",
            "--num-return",
            "2",
            "--max-length",
            "8",
            "-i",
            &p("in.txt"),
            "-o",
            &p("out.txt"),
        ])
        .unwrap();
        let out = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(lines.len(), 5, "{out:?}");
        assert!(lines[1].is_empty() && lines[2].is_empty() && lines[4].is_empty());
        assert_eq!(lines[0].split('\t').count(), 2, "{out:?}");
        // --strict stops at the first bad line and leaves no output behind.
        let err = run_argv(&[
            "seq2seq",
            "--model",
            &model,
            "--task",
            "forward",
            "--max-length",
            "4",
            "--strict",
            "-i",
            &p("in.txt"),
            "-o",
            &p("strict.txt"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("in.txt:2"), "{err}");
        assert!(!dir.path().join("strict.txt").exists());

        run_argv(&[
            "bench",
            "text-chem",
            "--model",
            &model,
            "--data",
            &p("data"),
            "--limit",
            "3",
            "--tasks",
            "forward,retro,text2mol,actions",
            "--beams",
            "2",
            "--num-return",
            "2",
            "--max-length",
            "6",
            "--out",
            &p("bench"),
        ])
        .unwrap();
        let res: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("bench/results.json")).unwrap(),
        )
        .unwrap();
        let tasks: Vec<&str> = res
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["task"].as_str().unwrap())
            .collect();
        assert_eq!(tasks, ["forward", "retro", "text2mol", "actions"]);
        assert!(std::fs::read_to_string(dir.path().join("bench/results.md"))
            .unwrap()
            .contains("| retro | 3 | roundtrip_top2 |"));
    }

    /// A released GT4SD checkpoint directory as transformers 4 wrote it (config.json,
    /// pytorch_model.bin, T5-layout tokenizer.json, side files), read with no conversion: the
    /// texts `chemlm seq2seq` prints equal transformers' greedy outputs decoded by `tokenizers`
    /// (tests/golden/gt4sd-layout, scripts/gen_gt4sd_layout_golden.py).
    #[test]
    fn gt4sd_checkpoint_layout_translates_as_transformers() {
        let golden =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/gt4sd-layout");
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(golden.join("expected.json")).unwrap())
                .unwrap();
        let cases = expected.as_array().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        let inputs: Vec<&str> = cases.iter().map(|c| c["input"].as_str().unwrap()).collect();
        std::fs::write(&input, inputs.join("\n") + "\n").unwrap();
        let out = dir.path().join("out.txt");
        run_argv(&[
            "seq2seq",
            "--model",
            golden.to_str().unwrap(),
            "--task",
            "forward",
            "--max-length",
            "12",
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), cases.len());
        for (line, c) in lines.iter().zip(cases) {
            assert_eq!(*line, c["text"].as_str().unwrap(), "input {}", c["input"]);
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

    /// `chemlm ff`: a tiny SchNet and PaiNN are created, trained on aspirin frames (with a
    /// resume that continues the same run), evaluated on the run's test split, used to predict
    /// an extended XYZ file that reads back with the predicted labels, and to run NVE and
    /// Langevin dynamics whose trajectory, log and plot appear.
    #[test]
    fn ff_init_train_resume_eval_predict_md() {
        let data_dir = std::env::var("CHEMLM_DATA_DIR")
            .expect("CHEMLM_DATA_DIR must point at the shared data (see README)");
        let ff = std::path::Path::new(&data_dir).join("forcefield");
        let npz = ff
            .join("aspirin_ccsd-train.npz")
            .to_str()
            .unwrap()
            .to_string();
        let xyz = ff
            .join("aspirin_ccsd-train.extxyz.gz")
            .to_str()
            .unwrap()
            .to_string();
        let dir = tempfile::tempdir().unwrap();
        let p = |s: &str| dir.path().join(s).to_str().unwrap().to_string();
        for arch in ["schnet", "painn", "allegro", "spookynet"] {
            let init = p(&format!("{arch}-init"));
            run_argv(&[
                "ff",
                "init",
                "--arch",
                arch,
                "--n-atom-basis",
                "8",
                "--n-interactions",
                "1",
                "--n-rbf",
                "6",
                "--out",
                &init,
            ])
            .unwrap();
            let run = p(&format!("{arch}-run"));
            let train = |epochs: &str, resume: bool| {
                let mut argv = vec![
                    "ff", "train", "--init", &init, "--data", &npz, "--limit", "24", "--split",
                    "16,4,4", "--epochs", epochs, "--out", &run,
                ];
                if resume {
                    argv.push("--resume");
                }
                run_argv(&argv)
            };
            train("1", false).unwrap();
            // A finished run is not trained over by accident.
            assert!(train("2", false).is_err());
            train("2", true).unwrap();
            let metrics =
                std::fs::read_to_string(dir.path().join(format!("{arch}-run/metrics.jsonl")))
                    .unwrap();
            assert_eq!(metrics.lines().count(), 2, "{metrics}");
            let best = format!("{run}/best");
            for f in ["config.json", "model.safetensors"] {
                assert!(std::path::Path::new(&best).join(f).exists());
            }
            assert!(std::path::Path::new(&run).join("loss.png").exists());
            assert!(std::path::Path::new(&run)
                .join("test_metrics.json")
                .exists());
            let json = p(&format!("{arch}-eval.json"));
            run_argv(&[
                "ff",
                "eval",
                "--model",
                &best,
                "--data",
                &npz,
                "--limit",
                "24",
                "--split-file",
                &format!("{run}/split.json"),
                "--part",
                "test",
                "--json",
                &json,
            ])
            .unwrap();
            let m: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            assert_eq!(m["n_structures"], 4);
            let out = p(&format!("{arch}-pred.extxyz"));
            run_argv(&[
                "ff", "predict", "--model", &best, "-i", &xyz, "--limit", "3", "-o", &out,
            ])
            .unwrap();
            let back = chemlm_atoms::io::read_structures_strict(
                std::path::Path::new(&out),
                &chemlm_atoms::io::ReadOptions::default(),
            )
            .unwrap();
            assert_eq!(back.len(), 3);
            assert!(back
                .iter()
                .all(|s| s.energy.is_some() && s.forces.is_some()));
            for ens in ["nve", "langevin"] {
                let traj = p(&format!("{arch}-{ens}.extxyz"));
                run_argv(&[
                    "ff",
                    "md",
                    "--model",
                    &best,
                    "-i",
                    &xyz,
                    "--steps",
                    "20",
                    "--dt",
                    "0.5",
                    "--ensemble",
                    ens,
                    "--traj-every",
                    "5",
                    "--log-every",
                    "5",
                    "-o",
                    &traj,
                ])
                .unwrap();
                let frames = chemlm_atoms::io::read_structures_strict(
                    std::path::Path::new(&traj),
                    &chemlm_atoms::io::ReadOptions::default(),
                )
                .unwrap();
                assert_eq!(frames.len(), 5, "steps 0, 5, 10, 15, 20");
                let log = std::fs::read_to_string(p(&format!("{arch}-{ens}.log.jsonl"))).unwrap();
                assert_eq!(log.lines().count(), 5);
                assert!(dir.path().join(format!("{arch}-{ens}.png")).exists());
            }
        }
        // Nothing half-written is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty());
    }

    /// A force-field scaling sweep through `chemlm scale sweep` (kind = "ff"): every cell
    /// trained and written, a rerun skips them, `scale fit` fits the rows.
    #[test]
    fn ff_scale_sweep_and_fit() {
        let data_dir = std::env::var("CHEMLM_DATA_DIR")
            .expect("CHEMLM_DATA_DIR must point at the shared data (see README)");
        let npz = std::path::Path::new(&data_dir).join("forcefield/aspirin_ccsd-train.npz");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sweep");
        let cfg = dir.path().join("sweep.toml");
        std::fs::write(
            &cfg,
            format!(
                r#"
kind = "ff"
data = [{npz:?}]
out = {out:?}
valid_structures = 6
data_sizes = [8, 16]
steps = 4
[[models]]
name = "schnet-w8"
arch = "schnet"
width = 8
depth = 1
basis = 6
[[models]]
name = "allegro-w8"
arch = "allegro"
width = 8
depth = 1
basis = 4
[train]
max_epochs = 5
batch_size = 4
"#
            ),
        )
        .unwrap();
        let cfg_s = cfg.to_str().unwrap();
        run_argv(&["--quiet", "scale", "sweep", "--config", cfg_s]).unwrap();
        let results = out.join("results.jsonl");
        let rows = chemlm_train::scaling::read_results(&results).unwrap();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| r.kind.as_deref() == Some("ff")));
        assert!(rows.iter().all(|r| r.result.valid_loss.is_finite()));
        let sizes: Vec<usize> = rows.iter().map(|r| r.result.train_molecules).collect();
        assert_eq!(sizes, vec![8, 16, 8, 16]);
        // The step budget (4 steps of 4 structures) sets the epochs: 2 for 8 structures, 1 for 16.
        for (cell, epochs) in [("schnet-w8_n8", 2), ("schnet-w8_n16", 1)] {
            let m =
                std::fs::read_to_string(out.join("runs").join(cell).join("metrics.jsonl")).unwrap();
            assert_eq!(m.lines().count(), epochs, "{cell}");
        }
        // A preset takes nequip's data-derived settings: aspirin's elements and ⟨N⟩.
        let c: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("runs/allegro-w8_n8/best/config.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(c["type_names"], serde_json::json!(["H", "C", "O"]));
        let avg = c["avg_num_neighbors"].as_f64().unwrap();
        assert!((10.0..20.0).contains(&avg), "{avg}");
        // Resumable: a second run trains nothing.
        run_argv(&["--quiet", "scale", "sweep", "--config", cfg_s]).unwrap();
        assert_eq!(
            chemlm_train::scaling::read_results(&results).unwrap().len(),
            4
        );
        run_argv(&[
            "scale",
            "fit",
            results.to_str().unwrap(),
            "--bootstrap",
            "20",
        ])
        .unwrap();
        assert!(out.join("fit.json").exists());
        // One architecture of the mixed sweep: only its rows are fitted.
        let only = dir.path().join("fit-schnet");
        run_argv(&[
            "--quiet",
            "scale",
            "fit",
            results.to_str().unwrap(),
            "--bootstrap",
            "20",
            "--model-prefix",
            "schnet-",
            "--out",
            only.to_str().unwrap(),
        ])
        .unwrap();
        let fits: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(only.join("fit.json")).unwrap()).unwrap();
        let data_axis = fits
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["axis"] == "data")
            .unwrap();
        let schnet: Vec<f64> = rows
            .iter()
            .filter(|r| r.model == "schnet-w8")
            .map(|r| r.result.valid_loss)
            .collect();
        let fitted: Vec<f64> = data_axis["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[1].as_f64().unwrap())
            .collect();
        assert_eq!(fitted, schnet);
        assert!(run_argv(&[
            "scale",
            "fit",
            results.to_str().unwrap(),
            "--model-prefix",
            "painn-",
        ])
        .is_err());
    }
}
