//! `chemlm bench text-chem`: the Text+Chem T5 evaluation (see
//! `chemlm_train::seq2seq::bench`) of a T5 model directory on the test split of a `chemlm data
//! seq2seq` directory. Writes `OUT/results.json` and `OUT/results.md` (our numbers beside the
//! published ones) and prints the table.

use super::seq2seq::DecodeArgs;
use anyhow::{bail, Context, Result};
use chemlm_data::seq2seq::{parse_tasks, Task};
use chemlm_models::Model;
use chemlm_textmetrics::wordnet::WordNet;
use chemlm_train::seq2seq::bench::{self, Engine, TextChemConfig};
use chemlm_train::seq2seq::translate::load_tokenizer;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct BenchTextChemArgs {
    /// T5 model directory (ours, or a Hugging Face / GT4SD checkpoint directory as it is).
    #[arg(long)]
    pub model: PathBuf,
    /// Output of `chemlm data seq2seq` whose `<split>.jsonl` is evaluated.
    #[arg(long)]
    pub data: PathBuf,
    /// Split to evaluate.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Comma-separated tasks (default: all five).
    #[arg(long)]
    pub tasks: Option<String>,
    /// At most this many examples per task.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Forward-reaction model for retrosynthesis round-trip accuracy (default: --model itself,
    /// which is multi-task; give `none` to skip).
    #[arg(long)]
    pub forward_model: Option<String>,
    #[command(flatten)]
    pub decode: DecodeArgs,
    /// Output directory (results.json, results.md).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn load(
    dir: &std::path::Path,
) -> Result<(
    Model,
    chemlm_data::tokenizer::sentencepiece::Seq2SeqTokenizer,
)> {
    let model = Model::load(dir, &crate::runtime::device()?)
        .with_context(|| format!("cannot load model {}", dir.display()))?;
    if model.as_t5().is_none() {
        bail!("{} is not an encoder-decoder (T5) model", dir.display());
    }
    let tok = load_tokenizer(dir)?;
    Ok((model, tok))
}

pub fn run(a: &BenchTextChemArgs, quiet: bool) -> Result<()> {
    let tasks = match &a.tasks {
        Some(t) => parse_tasks(t)?,
        None => Task::ALL.to_vec(),
    };
    let path = a.data.join(format!("{}.jsonl", a.split));
    let examples = bench::read_examples(&path)?;
    let wordnet = if tasks.contains(&Task::Mol2Text) {
        Some(WordNet::from_env().context("mol2text's METEOR needs WordNet 3.0")?)
    } else {
        None
    };
    let (model, tok) = load(&a.model)?;
    let engine = Engine {
        model: model.as_t5().context("not T5")?,
        tokenizer: &tok,
    };
    let fwd_dir = match a.forward_model.as_deref() {
        Some("none") => None,
        Some(p) => Some(PathBuf::from(p)),
        None => Some(a.model.clone()),
    };
    let fwd_loaded = match (&fwd_dir, tasks.contains(&Task::Retro)) {
        (Some(d), true) if d != &a.model => Some(load(d)?),
        _ => None,
    };
    let fwd_engine = match (&fwd_dir, &fwd_loaded) {
        (_, Some((m, t))) => Some(Engine {
            model: m.as_t5().context("not T5")?,
            tokenizer: t,
        }),
        (Some(_), None) => Some(Engine {
            model: engine.model,
            tokenizer: engine.tokenizer,
        }),
        (None, _) => None,
    };
    let cfg = TextChemConfig {
        tasks,
        limit: a.limit,
        translate: a.decode.translate_config()?,
        unk_as: a.decode.unk_as.clone(),
    };
    let bar = crate::io::progress(quiet, "text-chem");
    let results = bench::evaluate(
        &engine,
        fwd_engine.as_ref(),
        &examples,
        &cfg,
        wordnet.as_ref(),
        &mut |n| bar.inc(n as u64),
    )?;
    bar.finish_and_clear();
    let md = bench::markdown(
        &results,
        &a.model.display().to_string(),
        &format!("{} ({})", a.split, path.display()),
    );
    println!("{md}");
    for r in &results {
        if r.failed > 0 {
            eprintln!(
                "warning: {}: {} of {} inputs could not be translated (scored as empty outputs)",
                r.task.name(),
                r.failed,
                r.n
            );
        }
    }
    if let Some(out) = &a.out {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let json = serde_json::to_string_pretty(&results)?;
        chemlm_models::io::write_atomic(&out.join("results.json"), json.as_bytes())?;
        chemlm_models::io::write_atomic(&out.join("results.md"), md.as_bytes())?;
    }
    Ok(())
}
