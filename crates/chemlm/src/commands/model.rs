//! `chemlm model …`: inspect presets and saved models, and create freshly initialised model
//! directories.

use anyhow::{Context, Result};
use chemlm_models::{count_parameters, presets, Model, ModelConfig};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Print architecture, parameter counts and training FLOPs per token as JSON.
    Info(InfoArgs),
    /// List the shipped presets with their sizes.
    Presets,
    /// Copy a model (a `hf:ORG/NAME[@REV]` Hub model or a directory in Hugging Face layout) into a
    /// plain chemlm model directory for offline use: config.json, model.safetensors (one file,
    /// f32, from safetensors shards or pytorch_model.bin), tokenizer.json and its special-token
    /// files.
    Import(ImportArgs),
    /// Write a randomly initialised model directory (config.json, model.safetensors,
    /// tokenizer.json) from a preset, its vocabulary sized to the tokenizer.
    Init(InitArgs),
}

/// Which model `info` describes.
#[derive(Args)]
pub struct InfoArgs {
    /// A shipped preset (see `chemlm model presets`).
    #[arg(long, conflicts_with = "model", required_unless_present = "model")]
    pub preset: Option<String>,
    /// A model directory holding config.json.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// `hf:ORG/NAME[@REVISION]` or a local directory.
    pub source: PathBuf,
    /// The directory to write (must not exist yet).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct InitArgs {
    /// Preset name (see `model presets`).
    #[arg(
        long,
        required_unless_present = "model_config",
        conflicts_with = "model_config"
    )]
    pub preset: Option<String>,
    /// Model config file (TOML or config.json) instead of a preset, e.g.
    /// configs/molformer-small-full.toml.
    #[arg(long)]
    pub model_config: Option<PathBuf>,
    /// tokenizer.json to copy into the model; sets the vocabulary size.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The JSON `info` prints for one config (the library's description plus where it came from).
pub fn describe(config: &ModelConfig, source: &str) -> Result<serde_json::Value> {
    let mut v = chemlm_models::params::describe(config)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("source".into(), serde_json::Value::from(source));
    }
    Ok(v)
}

/// Writes to stdout; a closed pipe (`| head`) ends quietly instead of panicking like `println!`.
fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

pub fn run(c: &ModelCommand, _quiet: bool) -> Result<()> {
    match c {
        ModelCommand::Info(a) => {
            let (config, source) = match (&a.preset, &a.model) {
                (Some(p), _) => (presets::preset(p)?, format!("preset:{p}")),
                (None, Some(dir)) => {
                    let path = dir.join(chemlm_models::io::CONFIG_FILE);
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    (
                        ModelConfig::from_json(&text, &path.display().to_string())?,
                        dir.display().to_string(),
                    )
                }
                (None, None) => anyhow::bail!("give --preset NAME or --model DIR"),
            };
            print_stdout(&format!(
                "{}\n",
                serde_json::to_string_pretty(&describe(&config, &source)?)?
            ))?;
        }
        ModelCommand::Presets => {
            let mut text = String::new();
            for name in presets::preset_names() {
                let cfg = presets::preset(name)?;
                let p = count_parameters(&cfg)?;
                text += &format!(
                    "{name:<16} {:<10} {:>3} layers x {:<4} total {:>12}  non-embedding {:>12}\n",
                    cfg.architecture(),
                    cfg.num_layers(),
                    cfg.hidden_size(),
                    p.total,
                    p.non_embedding
                );
            }
            print_stdout(&text)?;
        }
        ModelCommand::Import(a) => import(&a.source, &a.out)?,
        ModelCommand::Init(a) => {
            let mut cfg = match (&a.preset, &a.model_config) {
                (Some(p), _) => presets::preset(p)?,
                (None, Some(path)) => chemlm_train::run_dir::read_model_config(path)?,
                (None, None) => anyhow::bail!("give --preset or --model-config"),
            };
            if let Some(t) = &a.tokenizer {
                let tok = chemlm_data::Tokenizer::load(t)?;
                cfg.set_vocab_size(tok.vocab_size());
                cfg.set_special_token_ids(chemlm_train::run_dir::tokenizer_ids(&tok));
            }
            let model = Model::new(&cfg, &crate::runtime::device()?, a.seed)?;
            model.save(&a.out, a.tokenizer.as_deref())?;
            eprintln!(
                "wrote {} ({} parameters)",
                a.out.display(),
                count_parameters(&cfg)?.all
            );
        }
    }
    Ok(())
}

/// Files beside `tokenizer.json` that name its special tokens; kept so a foreign tokenizer's
/// roles survive the copy.
const TOKENIZER_SIDE_FILES: [&str; 3] = [
    "tokenizer_config.json",
    "special_tokens_map.json",
    chemlm_train::seq2seq::translate::ESCAPE_FILE,
];

/// `model import`: loads `source` the way every command does, writes it into a temp directory
/// beside `out`, loads that back, and renames it into place, so `out` is either complete or
/// absent. A T5 takes its SentencePiece tokenizer (tokenizer.json, or spiece.model converted to
/// one); the other architectures their token vocabulary.
fn import(source: &std::path::Path, out: &std::path::Path) -> Result<()> {
    if out.exists() {
        anyhow::bail!("{} exists; give a new directory", out.display());
    }
    let dev = crate::runtime::device()?;
    let model = Model::load(source, &dev)
        .with_context(|| format!("cannot load model {}", source.display()))?;
    let tokenizer = ImportTokenizer::load(source, &model)?;
    let dir = chemlm_fs::AtomicDir::create(out)?;
    let tmp = dir.path().to_path_buf();
    let written = (|| -> Result<()> {
        tokenizer.save(&tmp, &model)?;
        // The source's own tokenizer side files, when it has them, then replace the ones
        // written from our roles (they are what the published tokenizer declares).
        for f in TOKENIZER_SIDE_FILES {
            let from = source.join(f);
            if from.exists() {
                std::fs::copy(&from, tmp.join(f))
                    .with_context(|| format!("cannot copy {}", from.display()))?;
            }
        }
        // What we wrote must load as what we read.
        Model::load(&tmp, &dev)?;
        if ImportTokenizer::load(&tmp, &model)? != tokenizer {
            anyhow::bail!("the written tokenizer does not read back the same");
        }
        Ok(())
    })();
    // On an error the guard removes the temporary directory.
    written
        .and_then(|()| Ok(dir.commit()?))
        .with_context(|| format!("cannot write {}", out.display()))?;
    let p = count_parameters(model.config())?;
    eprintln!(
        "wrote {} ({}, {} parameters, {})",
        out.display(),
        model.config().architecture(),
        p.all,
        tokenizer.describe(),
    );
    Ok(())
}

/// The tokenizer that goes with an imported model.
enum ImportTokenizer {
    Tokens(chemlm_data::Tokenizer),
    /// T5's, as tokenizer.json text (what is written and compared).
    SentencePiece(String, usize),
}

impl PartialEq for ImportTokenizer {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Tokens(a), Self::Tokens(b)) => a == b,
            (Self::SentencePiece(a, _), Self::SentencePiece(b, _)) => {
                let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
                parse(a) == parse(b)
            }
            _ => false,
        }
    }
}

impl ImportTokenizer {
    fn load(dir: &std::path::Path, model: &Model) -> Result<Self> {
        let what = || format!("cannot load the tokenizer of {}", dir.display());
        let size = if model.config().architecture() == "t5" {
            let tok = chemlm_data::Seq2SeqTokenizer::from_dir(dir).with_context(what)?;
            let size = tok.vocab_size();
            (Self::SentencePiece(tok.to_json()?, size), size)
        } else {
            let tok = chemlm_data::Tokenizer::load_dir(dir).with_context(what)?;
            let size = tok.vocab_size();
            (Self::Tokens(tok), size)
        };
        if size.1 > model.config().vocab_size() {
            anyhow::bail!(
                "{}: the tokenizer has {} tokens but the model only {}",
                dir.display(),
                size.1,
                model.config().vocab_size()
            );
        }
        Ok(size.0)
    }

    fn save(&self, dir: &std::path::Path, model: &Model) -> Result<()> {
        match self {
            Self::Tokens(tok) => chemlm_train::finetune::save_with_tokenizer(dir, model, tok)?,
            Self::SentencePiece(json, _) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join("tokenizer.json");
                chemlm_models::io::write_atomic(&path, json.as_bytes())?;
                model.save(dir, Some(&path))?;
            }
        }
        Ok(())
    }

    fn describe(&self) -> String {
        match self {
            Self::Tokens(t) => format!(
                "{} tokens{}",
                t.vocab_size(),
                if t.is_foreign() {
                    ", Hugging Face tokenizer"
                } else {
                    ""
                }
            ),
            Self::SentencePiece(_, n) => format!("{n} tokens, SentencePiece tokenizer"),
        }
    }
}
