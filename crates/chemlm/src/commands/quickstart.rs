//! `chemlm quickstart`: the main job end to end on the bundled fixtures, in under a minute on a
//! laptop CPU. It runs the same commands a user would type, so each step's command line is
//! printed and can be re-run or scaled up on its own:
//!
//! 1. `data prepare`: canonicalise and tokenize the unlabelled molecules and the labelled set's
//!    SMILES (labels unused) into token shards, so the vocabulary covers the fine-tuning molecules
//!    (the three deliberately bad fixture lines are reported and skipped);
//! 2. `pretrain`: masked-LM pretraining of a tiny MoLFormer (linear attention, rotary positions);
//! 3. `finetune`: the pretrained encoder plus an MLP head, fully fine-tuned on a labelled set on a
//!    scaffold split, with early stopping and a results table;
//! 4. `baseline`: ECFP4 + ridge / MLP on the same split, for comparison;
//! 5. `predict`: the fine-tuned model on the unlabelled molecules, one line per input line.
//!
//! The steps are dispatched through the CLI parser itself (the caller passes `exec`), so the
//! quickstart cannot drift from what the printed commands do.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone)]
pub struct QuickstartArgs {
    /// Output directory; each step writes a sub-directory.
    #[arg(long, default_value = "runs/quickstart")]
    pub out: PathBuf,
    /// Unlabelled molecules to pretrain on and to predict (SMILES, one per line).
    #[arg(long, default_value = "fixtures/moses-mini.smi")]
    pub molecules: PathBuf,
    /// Labelled CSV to fine-tune on (a `smiles` column and the target column).
    #[arg(long, default_value = "fixtures/qm9-mini.csv")]
    pub labels: PathBuf,
    /// Target column of --labels (the QM9 HOMO–LUMO gap, Hartree, by default).
    #[arg(long, default_value = "gap")]
    pub target: String,
    /// Model preset to pretrain.
    #[arg(long, default_value = "molformer-tiny")]
    pub preset: String,
    /// Pretraining updates.
    #[arg(long, default_value_t = 300)]
    pub steps: u64,
    /// Fine-tuning epochs (early stopping on the validation RMSE).
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    /// Split seeds of the fine-tuning and baseline runs.
    #[arg(long, default_value = "0,1,2")]
    pub seeds: String,
}

/// The command lines of the five steps (without the program name).
pub fn steps(a: &QuickstartArgs) -> Vec<(&'static str, Vec<String>)> {
    let out = |sub: &str| a.out.join(sub).display().to_string();
    let molecules = a.molecules.display().to_string();
    let labels = a.labels.display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let dataset = |v: &mut Vec<String>| {
        v.extend(s(&["--dataset", &labels, "--smiles-col", "smiles"]));
        v.extend(s(&["--target-cols", &a.target, "--task", "regression"]));
        v.extend(s(&["--split", "scaffold", "--seeds", &a.seeds]));
    };
    let steps_s = a.steps.to_string();
    let epochs = a.epochs.to_string();
    let mut finetune = s(&["finetune", "--model", &out("pretrain/model")]);
    dataset(&mut finetune);
    finetune.extend(s(&[
        "--regime", "finetune", "--lr", "3e-4", "--epochs", &epochs,
    ]));
    finetune.extend(s(&["--out", &out("finetune")]));
    let mut baseline = s(&["baseline", "--model", "all"]);
    dataset(&mut baseline);
    baseline.extend(s(&["--out", &out("baseline")]));
    vec![
        (
            "tokenize the molecules into shards",
            s(&[
                "data",
                "prepare",
                "--input",
                &molecules,
                &labels,
                "--kind",
                "smiles",
                "--canonicalize",
                "--valid-fraction",
                "0.1",
                "--out",
                &out("data"),
            ]),
        ),
        (
            "masked-LM pretraining",
            s(&[
                "pretrain",
                "--preset",
                &a.preset,
                "--data",
                &out("data"),
                "--steps",
                &steps_s,
                "--warmup",
                "30",
                "--lr",
                "1e-3",
                "--batch-tokens",
                "2048",
                "--eval-every",
                "100",
                "--checkpoint-every",
                "100",
                "--out",
                &out("pretrain"),
            ]),
        ),
        ("fine-tune encoder + head on a scaffold split", finetune),
        ("ECFP4 baselines on the same splits", baseline),
        (
            "predict the unlabelled molecules",
            s(&[
                "predict",
                "--model",
                &out("finetune"),
                "--input",
                &molecules,
                "--output",
                &out("predictions.txt"),
            ]),
        ),
    ]
}

/// Runs the steps in order through `exec` (which parses and runs one command line).
pub fn run(a: &QuickstartArgs, exec: &dyn Fn(&[String]) -> Result<()>) -> Result<()> {
    for (flag, path) in [("--molecules", &a.molecules), ("--labels", &a.labels)] {
        if !path.is_file() {
            bail!(
                "{flag} {}: no such file (the defaults are the repository's fixtures: run from \
                 the repository root, or pass {flag})",
                path.display()
            );
        }
    }
    // `pretrain` rightly refuses to train over a finished run, which would stop a second
    // quickstart at step 2; say so up front instead.
    if a.out.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{} is not empty (an earlier quickstart?): remove it or pass another --out",
            a.out.display()
        );
    }
    let all = steps(a);
    let n = all.len();
    for (i, (what, argv)) in all.iter().enumerate() {
        eprintln!("\n== [{}/{n}] {what}: chemlm {}", i + 1, argv.join(" "));
        exec(argv)
            .with_context(|| format!("quickstart step {}: chemlm {}", i + 1, argv.join(" ")))?;
    }
    summary(&a.out)
}

fn summary(out: &Path) -> Result<()> {
    let results = out.join("finetune").join("results.md");
    let text = std::fs::read_to_string(&results)
        .with_context(|| format!("reading {}", results.display()))?;
    eprintln!("\n== done; everything is under {}", out.display());
    eprintln!(
        "   pretrained model: {}",
        out.join("pretrain/model").display()
    );
    eprintln!("   fine-tuned run:   {}", out.join("finetune").display());
    eprintln!("   baselines:        {}", out.join("baseline").display());
    eprintln!(
        "   predictions:      {}",
        out.join("predictions.txt").display()
    );
    println!("\n{text}");
    Ok(())
}
