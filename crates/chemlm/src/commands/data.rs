//! `chemlm data …`: prepare pretraining shards, split data sets, list the registry, build the
//! multi-task seq2seq (T5) data.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chemlm_data::dataset::{LabeledCsvOptions, LabeledDataset};
use chemlm_data::download::sha256_file;
use chemlm_data::prepare::{prepare, PrepareConfig, PrepareObserver, VocabSource};
use chemlm_data::reader::{count_rows, read_header, ReadOptions, TableFormat};
use chemlm_data::registry::{registry, Location, Resolver, TaskType};
use chemlm_data::seq2seq::build::{
    build as build_seq2seq, LeakMode, MitValid, Seq2SeqConfig, Seq2SeqObserver, TokenizerSource,
};
use chemlm_data::seq2seq::{parse_tasks, parse_weights};
use chemlm_data::split::{make_split, SplitMethod, SplitRequest, SplitSizes, SplitSource};
use chemlm_data::tokenizer::sentencepiece::UnigramConfig;
use chemlm_data::tokenizer::{Tokenizer, TokenizerKind, VocabConfig};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Subcommand)]
pub enum DataCommand {
    /// Prepare a pretraining corpus: canonicalize, filter, dedupe, tokenize and write token
    /// shards (train/valid), manifest.json and tokenizer.json.
    Prepare(PrepareArgs),
    /// Merge the partial sets of `data prepare --shard I/N` runs (one complete set, any order)
    /// into exactly the data set one run over the whole input writes.
    Merge(MergeArgs),
    /// Split a data set (registry name or CSV) and write the split (indices + hash) as JSON.
    Split(SplitArgs),
    /// List the registered data sets: file, present, rows, tasks, type, metric.
    Info(InfoArgs),
    /// Build the multi-task text+chemistry pairs for T5 (forward, retro, text2mol, mol2text,
    /// actions with the paper's prompts) from CHEMLM_DATA_DIR: JSONL per split, tokenizer.json,
    /// paired token shards, summary.json.
    Seq2seq(Seq2SeqArgs),
}

#[derive(Args)]
pub struct Seq2SeqArgs {
    /// Output directory: {train,valid,test}.jsonl, tokenizer.json, manifest.json, shards/,
    /// summary.json.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Data directory (default: $CHEMLM_DATA_DIR).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Tasks to build (comma-separated).
    #[arg(long, default_value = "forward,retro,text2mol,mol2text,actions")]
    pub tasks: String,
    /// Canonical SMILES everywhere; unparsable molecules are reported and skipped.
    #[arg(long)]
    pub canonicalize: bool,
    /// Write salts GT4SD's way: ions of one compound joined by '~' ([Na+]~[OH-]).
    #[arg(long)]
    pub group_salts: bool,
    /// Training-split weight per task, e.g. forward=1,retro=0.5,actions=10 (others: 1).
    #[arg(long)]
    pub weights: Option<String>,
    /// Use this tokenizer.json (e.g. T5's) instead of training one.
    #[arg(long, conflicts_with = "train_tokenizer")]
    pub tokenizer: Option<PathBuf>,
    /// With --tokenizer: do not escape the characters it loses (they are only reported).
    #[arg(long, requires = "tokenizer")]
    pub no_repair: bool,
    /// Train a new SentencePiece Unigram vocabulary on the training split (the default).
    #[arg(long)]
    pub train_tokenizer: bool,
    /// Pieces of the trained vocabulary, special tokens included, extra ids excluded.
    #[arg(long, default_value_t = 8000)]
    pub vocab_size: usize,
    /// T5 sentinel tokens <extra_id_*> appended to a trained vocabulary.
    #[arg(long, default_value_t = 100)]
    pub extra_ids: usize,
    /// Train the vocabulary on at most this many training texts (seeded sample). Training is
    /// sequential (for reproducibility): on the full data 50,000 texts take about 1.5 min on one
    /// core, 200,000 about 16 min.
    #[arg(long, default_value_t = 50_000)]
    pub tokenizer_sample: usize,
    /// Drop training/validation pairs whose source or target is longer (tokens, with </s>).
    #[arg(long)]
    pub max_length: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// At most this many records per source file and split (quick runs).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Training pairs about a test molecule: drop (default) or report (keep them).
    #[arg(long, default_value = "drop", value_parser = ["drop", "report"])]
    pub leaks: String,
    /// Output split of USPTO-MIT valid (its train split is not available): train or valid.
    #[arg(long, default_value = "train", value_parser = ["train", "valid"])]
    pub mit_valid: String,
}

#[derive(Args)]
pub struct PrepareArgs {
    /// Input files (CSV/TSV/SMI, plain or gzip), read in order; standard input when omitted.
    #[arg(long, short, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Token language.
    #[arg(long, default_value = "smiles", value_parser = parse_kind)]
    pub kind: TokenizerKind,
    /// Output directory.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Canonicalize SMILES (RDKit-compatible); unparsable molecules are reported and skipped.
    #[arg(long, overrides_with = "no_canonicalize")]
    pub canonicalize: bool,
    /// Keep SMILES as written (much faster; no validity check).
    #[arg(long, overrides_with = "canonicalize")]
    pub no_canonicalize: bool,
    /// Keep only the first occurrence of each (canonical) molecule.
    #[arg(long)]
    pub dedupe: bool,
    /// Skip sequences longer than this many tokens (including <bos> and <eos>).
    #[arg(long)]
    pub max_len: Option<usize>,
    /// Leave tokens seen fewer times out of the vocabulary (they become <unk>).
    #[arg(long, default_value_t = 1)]
    pub min_freq: u64,
    /// Largest vocabulary, special tokens included.
    #[arg(long)]
    pub max_vocab: Option<usize>,
    /// Use this tokenizer.json instead of building a vocabulary.
    #[arg(long)]
    pub vocab: Option<PathBuf>,
    /// Fraction of molecules in the validation split (by a seeded hash of the molecule).
    #[arg(long, default_value_t = 0.01)]
    pub valid_fraction: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Molecule column of CSV/TSV input (default: `smiles` in any case, else the first).
    #[arg(long)]
    pub smiles_col: Option<String>,
    /// Input layout (default: from the file name; stdin is SMI).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<TableFormat>,
    /// With --kind selfies: the input is SELFIES already.
    #[arg(long)]
    pub input_is_selfies: bool,
    /// Sequences per shard file (default: one file pair per split).
    #[arg(long)]
    pub shard_size: Option<u64>,
    /// Prepare only shard I of N (1-based, e.g. ${SLURM_ARRAY_TASK_ID}/8) of the one --input
    /// file's lines (one record per line) into a partial set; `chemlm data merge --out DIR
    /// PART…` then writes byte for byte the data set of one run (deduplication, vocabulary and
    /// counts over the whole input). Warnings name the line in the whole file.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<chemlm_data::ShardSpec>,
}

#[derive(Args)]
pub struct MergeArgs {
    /// Output directory: the merged data set.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The partial sets (`data prepare --shard I/N --out PART`), in any order.
    #[arg(required = true, num_args = 1..)]
    pub parts: Vec<PathBuf>,
}

#[derive(Args)]
pub struct SplitArgs {
    /// Registered data set (see `chemlm data info`).
    #[arg(long, conflicts_with = "input", required_unless_present = "input")]
    pub dataset: Option<String>,
    /// A CSV/TSV with a header instead of a registered data set.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// SMILES column of --input.
    #[arg(long)]
    pub smiles_col: Option<String>,
    /// Label columns of --input (comma-separated; default: all others).
    #[arg(long, value_delimiter = ',')]
    pub target_cols: Option<Vec<String>>,
    /// random, scaffold, scaffold_balanced, stratified or kfold.
    #[arg(long, default_value = "scaffold")]
    pub split: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Train, validation and test fractions.
    #[arg(long, value_delimiter = ',', default_value = "0.8,0.1,0.1")]
    pub sizes: Vec<f64>,
    /// Folds for --split kfold.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// For kfold: no validation fold (train on k-1 folds, test on one), as DeLiCaTe's 5-fold CV.
    #[arg(long)]
    pub no_valid: bool,
    /// Task to stratify on (default: the first).
    #[arg(long)]
    pub stratify_col: Option<String>,
    /// Output directory; the split goes to DIR/{name}-{split}-seed{seed}.json.
    #[arg(long, short)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct InfoArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Check each present file's SHA-256 against the registry.
    #[arg(long)]
    pub verify: bool,
}

fn parse_kind(s: &str) -> Result<TokenizerKind, String> {
    s.parse().map_err(|e: chemlm_data::DataError| e.to_string())
}

fn parse_format(s: &str) -> Result<TableFormat, String> {
    s.parse().map_err(|e: chemlm_data::DataError| e.to_string())
}

pub fn run(c: &DataCommand, quiet: bool) -> Result<()> {
    match c {
        DataCommand::Prepare(a) => run_prepare(a, quiet),
        DataCommand::Merge(a) => run_merge(a),
        DataCommand::Split(a) => run_split(a),
        DataCommand::Info(a) => run_info(a),
        DataCommand::Seq2seq(a) => run_seq2seq(a, quiet),
    }
}

/// Prints bad records as warnings (above the progress bar) and drives the bar.
struct CliObserver {
    bar: Option<ProgressBar>,
}

impl PrepareObserver for CliObserver {
    fn bad_record(&mut self, source: &str, line: u64, reason: &str) {
        let msg = format!("warning: {source}:{line}: {reason}");
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{msg}")),
            None => eprintln!("{msg}"),
        }
    }
    fn progress(&mut self, records: u64) {
        if let Some(b) = &self.bar {
            b.set_position(records);
        }
    }
}

fn run_prepare(a: &PrepareArgs, quiet: bool) -> Result<()> {
    let mut cfg = PrepareConfig::new(a.input.clone(), a.out.clone());
    cfg.kind = a.kind;
    cfg.input_is_selfies = a.input_is_selfies;
    cfg.canonicalize = !a.no_canonicalize && !a.input_is_selfies;
    cfg.dedupe = a.dedupe;
    cfg.max_len = a.max_len;
    cfg.valid_fraction = a.valid_fraction;
    cfg.seed = a.seed;
    cfg.threads = a.threads;
    cfg.shard_sequences = a.shard_size;
    cfg.shard = a.shard;
    cfg.read = ReadOptions {
        format: a.format,
        column: a.smiles_col.clone(),
        header: None,
    };
    cfg.vocab = match &a.vocab {
        Some(p) => VocabSource::Fixed(Tokenizer::load(p)?),
        None => VocabSource::Build(VocabConfig {
            min_freq: a.min_freq,
            max_size: a.max_vocab,
        }),
    };
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {human_pos} molecules  {per_sec}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    });
    let mut obs = CliObserver { bar };
    let s = prepare(&cfg, &mut obs).with_context(|| format!("preparing {}", a.out.display()))?;
    if let Some(b) = obs.bar.take() {
        b.finish_and_clear();
    }
    let t = s.timings;
    let mut out = std::io::stdout().lock();
    if let Some(spec) = a.shard {
        writeln!(
            out,
            "shard {spec}: {} records: {} sequences kept; {} bad, {} duplicates, {} too long; \
             partial set {} (merge the shards with chemlm data merge)",
            s.records,
            s.train.sequences + s.valid.sequences,
            s.bad,
            s.duplicates,
            s.too_long,
            a.out.display()
        )?;
        if s.bad > 0 {
            eprintln!("{} bad records were skipped (see warnings above)", s.bad);
        }
        return Ok(());
    }
    writeln!(
        out,
        "{} records: {} train sequences ({} tokens), {} valid ({} tokens); {} bad, {} duplicates, {} too long",
        s.records, s.train.sequences, s.train.tokens, s.valid.sequences, s.valid.tokens, s.bad, s.duplicates, s.too_long
    )?;
    writeln!(
        out,
        "vocabulary {} tokens ({:?} ids), {} <unk> tokens; wrote {}",
        s.vocab_size,
        s.dtype.unwrap_or(chemlm_data::shards::TokenDtype::U32),
        s.unk_tokens,
        a.out.display()
    )?;
    writeln!(
        out,
        "{:.2} s ({:.0} molecules/s): read wait {:.2}, process {:.2}, merge {:.2}, finish {:.2}",
        t.total,
        s.records as f64 / t.total.max(1e-9),
        t.read_wait,
        t.process,
        t.merge,
        t.finish
    )?;
    if s.bad > 0 {
        eprintln!("{} bad records were skipped (see warnings above)", s.bad);
    }
    Ok(())
}

fn run_merge(a: &MergeArgs) -> Result<()> {
    let s = chemlm_data::merge_parts(&a.parts, &a.out, a.threads)
        .with_context(|| format!("merging into {}", a.out.display()))?;
    println!(
        "{} partial sets, {} records: {} train sequences ({} tokens), {} valid ({} tokens); {} bad, {} duplicates, {} too long",
        a.parts.len(), s.records, s.train.sequences, s.train.tokens, s.valid.sequences, s.valid.tokens, s.bad, s.duplicates, s.too_long
    );
    println!(
        "vocabulary {} tokens, {} <unk> tokens; wrote {}",
        s.vocab_size,
        s.unk_tokens,
        a.out.display()
    );
    Ok(())
}

/// Prints bad records and warnings of `data seq2seq`, and its stages.
struct Seq2SeqCli {
    quiet: bool,
}

impl Seq2SeqObserver for Seq2SeqCli {
    fn bad_record(&mut self, file: &str, line: u64, reason: &str) {
        eprintln!("warning: {file}:{line}: {reason}");
    }
    fn stage(&mut self, what: &str) {
        if !self.quiet {
            eprintln!("{what} ...");
        }
    }
    fn warning(&mut self, what: &str) {
        eprintln!("warning: {what}");
    }
}

fn run_seq2seq(a: &Seq2SeqArgs, quiet: bool) -> Result<()> {
    let data_dir = a
        .data_dir
        .clone()
        .or_else(chemlm_data::registry::data_dir)
        .context("give --data-dir or set CHEMLM_DATA_DIR")?;
    let mut cfg = Seq2SeqConfig::new(data_dir, a.out.clone());
    cfg.tasks = parse_tasks(&a.tasks)?;
    cfg.canonicalize = a.canonicalize;
    cfg.group_salts = a.group_salts;
    cfg.weights = match &a.weights {
        Some(w) => parse_weights(w)?,
        None => Vec::new(),
    };
    cfg.tokenizer = match &a.tokenizer {
        Some(p) => TokenizerSource::File {
            path: p.clone(),
            repair: !a.no_repair,
        },
        None => TokenizerSource::Train(UnigramConfig {
            vocab_size: a.vocab_size,
            extra_ids: a.extra_ids,
            ..Default::default()
        }),
    };
    cfg.tokenizer_sample = Some(a.tokenizer_sample);
    cfg.max_length = a.max_length;
    cfg.seed = a.seed;
    cfg.limit = a.limit;
    cfg.leak_mode = if a.leaks == "report" {
        LeakMode::Report
    } else {
        LeakMode::Drop
    };
    cfg.mit_valid = if a.mit_valid == "valid" {
        MitValid::Valid
    } else {
        MitValid::Train
    };
    let s = build_seq2seq(&cfg, &mut Seq2SeqCli { quiet })
        .with_context(|| format!("building {}", a.out.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<9} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6}",
        "task", "split", "read", "written", "bad", "leaks", "long"
    )?;
    for (task, splits) in &s.tasks {
        for (split, c) in splits {
            writeln!(
                out,
                "{task:<9} {split:>8} {:>8} {:>8} {:>6} {:>6} {:>6}",
                c.records, c.written, c.bad, c.leaks, c.too_long
            )?;
        }
    }
    for (split, t) in &s.splits {
        writeln!(
            out,
            "{split}: {} pairs, {} source / {} target tokens (longest {} / {})",
            t.pairs, t.source_tokens, t.target_tokens, t.max_source_len, t.max_target_len
        )?;
    }
    let tk = &s.tokenizer;
    writeln!(
        out,
        "tokenizer: {} ({} ids; pad {} eos {} unk {}); lost characters {:?}{}; round trip: {} of {} texts fail{}",
        tk.source,
        tk.vocab_size,
        tk.pad_id,
        tk.eos_id,
        tk.unk_id,
        tk.lost_chars,
        if tk.whitespace_altered { ", whitespace altered" } else { "" },
        tk.round_trip_failures,
        tk.texts_checked,
        match &tk.escape {
            Some(e) => format!(" (after escaping with {:?})", e.escape),
            None => String::new(),
        }
    )?;
    writeln!(
        out,
        "leaks: {} training pairs about a test molecule ({} ChEBI-20 test, {} USPTO test products), {}",
        s.leaks.total,
        s.leaks.chebi_test,
        s.leaks.uspto_test_product,
        if cfg.leak_mode == LeakMode::Drop { "dropped" } else { "kept" }
    )?;
    writeln!(
        out,
        "{} bad records; {:.1} s; wrote {}",
        s.bad_records,
        s.seconds,
        a.out.display()
    )?;
    if s.bad_records > 0 {
        eprintln!(
            "{} bad records were skipped (see warnings above)",
            s.bad_records
        );
    }
    Ok(())
}

fn split_method(a: &SplitArgs, task_names: &[String]) -> Result<SplitMethod> {
    Ok(match a.split.as_str() {
        "random" => SplitMethod::Random,
        "scaffold" => SplitMethod::Scaffold { balanced: false },
        "scaffold_balanced" | "balanced_scaffold" => SplitMethod::Scaffold { balanced: true },
        "stratified" => SplitMethod::Stratified {
            task: match &a.stratify_col {
                Some(t) => t.clone(),
                None => task_names
                    .first()
                    .cloned()
                    .context("stratified split needs a label column")?,
            },
        },
        "kfold" | "cv" => SplitMethod::KFold {
            k: a.folds,
            valid: !a.no_valid,
        },
        other => bail!(
            "unknown split {other:?}: random, scaffold, scaffold_balanced, stratified or kfold"
        ),
    })
}

fn run_split(a: &SplitArgs) -> Result<()> {
    let resolver = Resolver::from_env();
    let ds = match (&a.dataset, &a.input) {
        (Some(name), _) => {
            let info = chemlm_data::find_dataset(name)?;
            LabeledDataset::load(info, &resolver)?
        }
        (None, Some(p)) => LabeledDataset::from_csv(
            p,
            &LabeledCsvOptions {
                smiles_column: a.smiles_col.clone(),
                target_columns: a.target_cols.clone(),
                task_type: None,
                name: None,
            },
        )?,
        (None, None) => bail!("give --dataset NAME or --input FILE"),
    };
    let [train, valid, test] = a.sizes.as_slice() else {
        bail!("--sizes needs three fractions (train,valid,test)");
    };
    let method = split_method(a, &ds.task_names)?;
    let labels = match &method {
        SplitMethod::Stratified { task } => {
            let t = ds
                .task_names
                .iter()
                .position(|n| n == task)
                .with_context(|| format!("no label column {task:?} in {}", ds.name))?;
            if ds.task_type != TaskType::Classification {
                bail!(
                    "stratified splits need a classification task; {} is {:?}",
                    ds.name,
                    ds.task_type
                );
            }
            Some(ds.classes(t))
        }
        _ => None,
    };
    let request = SplitRequest {
        method,
        sizes: SplitSizes::new(*train, *valid, *test)?,
        seed: a.seed,
    };
    let source = SplitSource {
        dataset: a.dataset.as_ref().map(|_| ds.name.clone()),
        path: ds.path.display().to_string(),
        sha256: sha256_file(&ds.path)?,
    };
    let t0 = Instant::now();
    let split = make_split(&ds.smiles, labels.as_deref(), &request, Some(source))?;
    let path = a.out.join(format!(
        "{}-{}-seed{}.json",
        ds.name,
        request.method.name(),
        a.seed
    ));
    split.save(&path)?;
    for e in &split.excluded {
        eprintln!(
            "warning: {}:{}: excluded from the split: {}",
            ds.path.display(),
            ds.lines.get(e.index).copied().unwrap_or(0),
            e.reason
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} rows, {} split (seed {}), {} excluded, {:.2} s",
        ds.name,
        ds.len(),
        request.method.name(),
        a.seed,
        split.excluded.len(),
        t0.elapsed().as_secs_f64()
    )?;
    for (i, f) in split.folds.iter().enumerate() {
        writeln!(
            out,
            "  fold {i}: train {} / valid {} / test {}",
            f.train.len(),
            f.valid.len(),
            f.test.len()
        )?;
    }
    writeln!(
        out,
        "  sha256 {}\n  wrote {}",
        split.folds_sha256,
        path.display()
    )?;
    Ok(())
}

fn run_info(a: &InfoArgs) -> Result<()> {
    let resolver = Resolver {
        allow_download: false,
        ..Resolver::from_env()
    };
    let mut rows = Vec::new();
    for d in registry() {
        let loc = resolver.locate(d);
        let (present, count, checksum) = match &loc {
            Some(l) => {
                let n = count_rows(l.path())?;
                let ok = if a.verify {
                    Some(sha256_file(l.path())? == d.sha256)
                } else {
                    None
                };
                let w = match l {
                    Location::DataDir(_) => "data-dir",
                    Location::Cache(_) => "cache",
                };
                (w, Some(n), ok)
            }
            None => ("no", None, None),
        };
        let tasks = match (&loc, d.known_task_count()) {
            (_, Some(n)) => n,
            (Some(l), None) => d.task_columns(&read_header(l.path())?).len(),
            (None, None) => 0,
        };
        rows.push(serde_json::json!({
            "name": d.name,
            "file": d.file,
            "present": present,
            "rows": count,
            "expected_rows": d.rows,
            "tasks": tasks,
            "type": d.task_type,
            "metric": d.metric.map(|m| m.name()),
            "missing_labels": d.missing_labels,
            "sha256_ok": checksum,
            "downloadable": d.url.is_some(),
        }));
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "data dir: {}\ncache:    {}",
        resolver
            .data_dir
            .as_ref()
            .map_or("(CHEMLM_DATA_DIR not set)".into(), |p| p
                .display()
                .to_string()),
        resolver
            .cache_dir
            .as_ref()
            .map_or("(none)".into(), |p| p.display().to_string())
    )?;
    writeln!(
        out,
        "{:<22} {:<30} {:<9} {:>9} {:>5} {:<15} {:<8} {:<8}{}",
        "name",
        "file",
        "present",
        "rows",
        "tasks",
        "type",
        "metric",
        "missing",
        if a.verify { " sha256" } else { "" }
    )?;
    for r in &rows {
        let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
        writeln!(
            out,
            "{:<22} {:<30} {:<9} {:>9} {:>5} {:<15} {:<8} {:<8}{}",
            s("name"),
            s("file"),
            s("present"),
            r["rows"].as_u64().map_or("-".into(), |n| n.to_string()),
            r["tasks"].as_u64().unwrap_or(0).to_string(),
            s("type"),
            s("metric"),
            if r["missing_labels"].as_bool() == Some(true) {
                "yes"
            } else {
                "no"
            },
            match r["sha256_ok"].as_bool() {
                Some(true) => " ok",
                Some(false) => " MISMATCH",
                None if a.verify => " -",
                None => "",
            }
        )?;
    }
    Ok(())
}
