//! The `chemlm data seq2seq` pipeline (see the module docs of [`super`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::shards::{PairedSplit, Seq2SeqManifest, ESCAPE_FILE, SEQ2SEQ_FORMAT, SHARD_DIR};
use super::smiles::{canonical_molecules, group_salts};
use super::sources::{self, RawPair};
use super::{Example, Split, Task};
use crate::atomic::{write_file, write_json, AtomicFile};
use crate::download::sha256_bytes;
use crate::error::DataError;
use crate::shards::{ShardWriter, TokenDtype, MANIFEST_FILE, TOKENIZER_FILE};
use crate::tokenizer::escape::{coverage, CharEscape};
use crate::tokenizer::sentencepiece::{train_unigram, Seq2SeqTokenizer, UnigramConfig};

/// Where the tokenizer comes from.
#[derive(Clone, Debug)]
pub enum TokenizerSource {
    /// A new Unigram vocabulary trained on the training split's sources and targets.
    Train(UnigramConfig),
    /// A given `tokenizer.json` (e.g. T5's); `repair` escapes the characters it loses.
    File { path: PathBuf, repair: bool },
}

/// What to do with training pairs that leak test molecules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeakMode {
    /// Leave them out of the training split (and count them).
    Drop,
    /// Keep them, only count them.
    Report,
}

/// Which output split USPTO-MIT *valid* goes to (the MIT train split is not available).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MitValid {
    /// Forward training data (default).
    Train,
    /// Forward validation data.
    Valid,
}

impl MitValid {
    /// The output split.
    pub fn split(self) -> Split {
        match self {
            MitValid::Train => Split::Train,
            MitValid::Valid => Split::Valid,
        }
    }
}

/// Parameters of [`build`].
#[derive(Clone, Debug)]
pub struct Seq2SeqConfig {
    /// `CHEMLM_DATA_DIR`.
    pub data_dir: PathBuf,
    pub out_dir: PathBuf,
    pub tasks: Vec<Task>,
    /// Canonical SMILES (RDKit-compatible) for every SMILES field; unparsable ones are bad records.
    pub canonicalize: bool,
    /// Write salts GT4SD's way (`[Na+]~[OH-]`, see [`super::smiles`]).
    pub group_salts: bool,
    /// Per-task weight of the training split (default 1): 2 repeats every pair, 0.5 keeps a seeded
    /// half, 0 leaves the task out of training. Validation and test are never resampled.
    pub weights: Vec<(Task, f64)>,
    pub tokenizer: TokenizerSource,
    /// Largest source or target length in tokens (with `</s>`); longer training and validation pairs
    /// are dropped and counted. Test pairs are always kept (counted as `too_long` but written).
    pub max_length: Option<usize>,
    /// Seed of the resampling, the training-split order and the tokenizer sample.
    pub seed: u64,
    /// At most this many records per source file and split (for quick runs and tests).
    pub limit: Option<usize>,
    pub leak_mode: LeakMode,
    pub mit_valid: MitValid,
    /// Train the tokenizer on at most this many training texts (seeded sample; default 50,000:
    /// the trainer is sequential and its cost grows faster than linearly with the sample).
    pub tokenizer_sample: Option<usize>,
}

impl Seq2SeqConfig {
    /// All tasks, no canonicalisation, no salt grouping, weights 1, a trained 8000-piece vocabulary
    /// (on a 50,000-text sample), no length limit, seed 0, leaks dropped, MIT valid as training data.
    pub fn new(data_dir: PathBuf, out_dir: PathBuf) -> Self {
        Self {
            data_dir,
            out_dir,
            tasks: Task::ALL.to_vec(),
            canonicalize: false,
            group_salts: false,
            weights: Vec::new(),
            tokenizer: TokenizerSource::Train(UnigramConfig::default()),
            max_length: None,
            seed: 0,
            limit: None,
            leak_mode: LeakMode::Drop,
            mit_valid: MitValid::Train,
            tokenizer_sample: Some(50_000),
        }
    }

    fn weight(&self, t: Task) -> f64 {
        self.weights
            .iter()
            .rev()
            .find(|(u, _)| *u == t)
            .map_or(1.0, |w| w.1)
    }
}

/// Receives bad records and progress messages while [`build`] runs.
pub trait Seq2SeqObserver {
    /// A record that was skipped.
    fn bad_record(&mut self, file: &str, line: u64, reason: &str);
    /// A stage of the pipeline starts (for progress display).
    fn stage(&mut self, what: &str) {
        let _ = what;
    }
    /// Something the user should know that is not a bad record (round-trip failures, leaks).
    fn warning(&mut self, what: &str) {
        let _ = what;
    }
}

/// Counts of one task in one split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TaskCounts {
    /// Pairs read (bad ones included).
    pub records: u64,
    /// Bad records.
    pub bad: u64,
    /// Training pairs that leak a test molecule (dropped under [`LeakMode::Drop`]).
    pub leaks: u64,
    /// Pairs over `max_length`.
    pub too_long: u64,
    /// Pairs written (after resampling).
    pub written: u64,
}

/// Totals of one output split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SplitTotals {
    pub pairs: u64,
    pub source_tokens: u64,
    pub target_tokens: u64,
    pub max_source_len: u32,
    pub max_target_len: u32,
}

/// Leak check results.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LeakSummary {
    pub mode: Option<LeakMode>,
    /// Distinct canonical molecules of the ChEBI-20 test split.
    pub chebi_test_molecules: u64,
    /// Distinct canonical products of the USPTO test splits (USPTO-50K and USPTO-MIT).
    pub uspto_test_products: u64,
    /// Training pairs whose molecule is a ChEBI-20 test molecule.
    pub chebi_test: u64,
    /// Training pairs whose molecule is a USPTO test product (and not a ChEBI-20 test molecule).
    pub uspto_test_product: u64,
    /// Sum of both.
    pub total: u64,
}

/// Tokenizer and round-trip results.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TokenizerSummary {
    /// `trained` or the path of the given file.
    pub source: String,
    pub vocab_size: usize,
    pub pad_id: u32,
    pub eos_id: u32,
    pub unk_id: u32,
    /// Characters of the data the tokenizer (without escape) loses.
    pub lost_chars: String,
    /// Whether it alters whitespace (runs, leading/trailing spaces, tabs, newlines).
    pub whitespace_altered: bool,
    /// Texts (sources and targets) that did not round-trip before any escape.
    pub round_trip_failures_before_repair: u64,
    /// The escape applied, if any.
    pub escape: Option<CharEscape>,
    /// Texts that still do not round-trip (0 is the goal; each is warned about).
    pub round_trip_failures: u64,
    /// A few of them.
    pub failure_examples: Vec<String>,
    /// Texts checked.
    pub texts_checked: u64,
}

/// What [`build`] did; also written to `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Seq2SeqSummary {
    /// Task → split → counts.
    pub tasks: BTreeMap<String, BTreeMap<String, TaskCounts>>,
    pub splits: BTreeMap<String, SplitTotals>,
    pub bad_records: u64,
    pub leaks: LeakSummary,
    pub tokenizer: TokenizerSummary,
    /// Records read per source file and split.
    pub inputs: Vec<(String, String, u64)>,
    pub config: serde_json::Value,
    /// Wall-clock seconds (not in `summary.json`, which stays identical across reruns).
    #[serde(skip)]
    pub seconds: f64,
}

impl Seq2SeqSummary {
    fn counts(&mut self, t: Task, s: Split) -> &mut TaskCounts {
        self.tasks
            .entry(t.name().into())
            .or_default()
            .entry(s.name().into())
            .or_default()
    }
}

/// A pair after chemistry: texts ready, leak key known.
struct Pair {
    task: Task,
    split: Split,
    input: String,
    output: String,
    /// Canonical SMILES of the molecule the pair is about (the product for reactions).
    key: Option<String>,
}

/// Canonical forms of every distinct SMILES string, in parallel.
fn canonical_table(strings: BTreeSet<&str>) -> HashMap<String, Result<String, String>> {
    let v: Vec<&str> = strings.into_iter().collect();
    v.par_iter()
        .map(|s| (s.to_string(), canonical_molecules(s)))
        .collect()
}

fn process(
    raw: Vec<RawPair>,
    cfg: &Seq2SeqConfig,
    obs: &mut dyn Seq2SeqObserver,
    summary: &mut Seq2SeqSummary,
) -> Vec<Pair> {
    // Which strings need canonical forms: every SMILES field with `canonicalize`, else only the
    // molecule each pair is about (for the leak check).
    let mut need: BTreeSet<&str> = BTreeSet::new();
    for r in &raw {
        if r.task.source_is_smiles()
            && (cfg.canonicalize || r.task == Task::Retro || r.task == Task::Mol2Text)
        {
            need.insert(&r.input);
        }
        if r.task.target_is_smiles()
            && (cfg.canonicalize || r.task == Task::Forward || r.task == Task::Text2Mol)
        {
            need.insert(&r.output);
        }
    }
    let table = canonical_table(need);
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        summary.counts(r.task, r.split).records += 1;
        let canon = |s: &str| table.get(s).cloned();
        let mut input = r.input.clone();
        let mut output = r.output.clone();
        let mut failed: Option<String> = None;
        if cfg.canonicalize {
            if r.task.source_is_smiles() {
                match canon(&r.input) {
                    Some(Ok(c)) => input = c,
                    Some(Err(e)) => failed = Some(format!("source: {e}")),
                    None => {}
                }
            }
            if failed.is_none() && r.task.target_is_smiles() {
                match canon(&r.output) {
                    Some(Ok(c)) => output = c,
                    Some(Err(e)) => failed = Some(format!("target: {e}")),
                    None => {}
                }
            }
        }
        if let Some(reason) = failed {
            summary.counts(r.task, r.split).bad += 1;
            summary.bad_records += 1;
            obs.bad_record(&r.file, r.line, &format!("{}: {reason}", r.task));
            continue;
        }
        let main = match r.task {
            Task::Forward | Task::Text2Mol => Some(&r.output),
            Task::Retro | Task::Mol2Text => Some(&r.input),
            Task::Actions => None,
        };
        let key = main.map(|m| match canon(m) {
            Some(Ok(c)) => c,
            _ => m.clone(),
        });
        if cfg.group_salts && r.task.is_reaction() {
            input = group_salts(&input);
            output = group_salts(&output);
        }
        out.push(Pair {
            task: r.task,
            split: r.split,
            input,
            output,
            key,
        });
    }
    out
}

/// Marks (and under `Drop` removes) training pairs about a protected test molecule.
fn leak_check(pairs: &mut Vec<Pair>, cfg: &Seq2SeqConfig, summary: &mut Seq2SeqSummary) {
    let mut chebi: BTreeSet<&str> = BTreeSet::new();
    let mut uspto: BTreeSet<&str> = BTreeSet::new();
    for p in pairs.iter().filter(|p| p.split == Split::Test) {
        if let Some(k) = &p.key {
            match p.task {
                Task::Text2Mol | Task::Mol2Text => chebi.insert(k),
                Task::Forward | Task::Retro => uspto.insert(k),
                Task::Actions => false,
            };
        }
    }
    let mut leaks = LeakSummary {
        mode: Some(cfg.leak_mode),
        chebi_test_molecules: chebi.len() as u64,
        uspto_test_products: uspto.len() as u64,
        ..Default::default()
    };
    let mut leaking = vec![false; pairs.len()];
    let mut per_task: Vec<Task> = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        if p.split != Split::Train {
            continue;
        }
        let Some(k) = p.key.as_deref() else { continue };
        if chebi.contains(k) {
            leaks.chebi_test += 1;
        } else if uspto.contains(k) {
            leaks.uspto_test_product += 1;
        } else {
            continue;
        }
        leaking[i] = true;
        per_task.push(p.task);
    }
    leaks.total = leaks.chebi_test + leaks.uspto_test_product;
    for t in per_task {
        summary.counts(t, Split::Train).leaks += 1;
    }
    summary.leaks = leaks;
    if cfg.leak_mode == LeakMode::Drop {
        let mut i = 0;
        pairs.retain(|_| {
            i += 1;
            !leaking[i - 1]
        });
    }
}

/// Indices of the training split after per-task resampling, in a seeded shuffled order.
fn mix(pairs: &[Pair], cfg: &Seq2SeqConfig) -> Vec<usize> {
    let mut out = Vec::new();
    for (k, &t) in Task::ALL.iter().enumerate() {
        let items: Vec<usize> = (0..pairs.len())
            .filter(|&i| pairs[i].split == Split::Train && pairs[i].task == t)
            .collect();
        let w = cfg.weight(t);
        let whole = w.floor() as usize;
        for _ in 0..whole {
            out.extend_from_slice(&items);
        }
        let extra = ((w - w.floor()) * items.len() as f64).round() as usize;
        if extra > 0 {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
            rng.set_stream(1 + k as u64);
            let mut pick = items.clone();
            pick.shuffle(&mut rng);
            pick.truncate(extra);
            pick.sort_unstable();
            out.extend(pick);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    out.shuffle(&mut rng);
    out
}

fn get_tokenizer(
    cfg: &Seq2SeqConfig,
    pairs: &[Pair],
    texts: &[String],
    obs: &mut dyn Seq2SeqObserver,
    summary: &mut TokenizerSummary,
) -> Result<Seq2SeqTokenizer, DataError> {
    match &cfg.tokenizer {
        TokenizerSource::Train(uc) => {
            obs.stage("training the Unigram vocabulary");
            let mut train: Vec<&str> = Vec::new();
            for p in pairs.iter().filter(|p| p.split == Split::Train) {
                train.push(&p.input);
                train.push(&p.output);
            }
            train.extend(cfg.tasks.iter().map(|t| t.prompt()));
            if let Some(n) = cfg.tokenizer_sample.filter(|&n| n < train.len()) {
                let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
                rng.set_stream(100);
                train.shuffle(&mut rng);
                train.truncate(n);
            }
            let mut uc = uc.clone();
            for t in texts {
                uc.alphabet.extend(t.chars());
            }
            summary.source = "trained".into();
            train_unigram(&train, &uc)
        }
        TokenizerSource::File { path, repair } => {
            summary.source = path.display().to_string();
            let tok = Seq2SeqTokenizer::from_file(path)?;
            obs.stage("checking which characters the tokenizer loses");
            let report = coverage(&tok, texts)?;
            summary.lost_chars = report.lost_string();
            summary.whitespace_altered = report.whitespace_altered;
            summary.round_trip_failures_before_repair = report.failing_texts;
            if !*repair || report.failing_texts == 0 {
                return Ok(tok);
            }
            let esc = CharEscape::for_tokenizer(&tok, texts)?;
            Ok(tok.with_escape(esc))
        }
    }
}

/// Runs the pipeline; see the module docs of [`super`] and [`super::shards`] for the output.
pub fn build(
    cfg: &Seq2SeqConfig,
    obs: &mut dyn Seq2SeqObserver,
) -> Result<Seq2SeqSummary, DataError> {
    let t0 = Instant::now();
    if cfg.tasks.is_empty() {
        return Err(DataError::Invalid("no task chosen".into()));
    }
    if cfg.max_length == Some(0) {
        return Err(DataError::Invalid("max length must be at least 1".into()));
    }
    let mut summary = Seq2SeqSummary {
        config: config_record(cfg),
        ..Default::default()
    };
    obs.stage("reading");
    let raw = sources::load(&cfg.data_dir, &cfg.tasks, cfg.limit, cfg.mit_valid)?;
    for b in &raw.bad {
        obs.bad_record(&b.file, b.line, &b.reason);
        summary.bad_records += 1;
        for &t in &b.tasks {
            let s = b.split.unwrap_or(Split::Train);
            let c = summary.counts(t, s);
            c.records += 1;
            c.bad += 1;
        }
    }
    summary.inputs = raw
        .records
        .iter()
        .map(|(f, s, n)| (f.clone(), s.name().to_string(), *n))
        .collect();
    obs.stage(if cfg.canonicalize {
        "canonicalising SMILES"
    } else {
        "checking molecules"
    });
    let mut pairs = process(raw.pairs, cfg, obs, &mut summary);
    leak_check(&mut pairs, cfg, &mut summary);
    if summary.leaks.total > 0 {
        obs.warning(&format!(
            "{} training pairs are about a test molecule ({} ChEBI-20 test, {} USPTO test products): {}",
            summary.leaks.total,
            summary.leaks.chebi_test,
            summary.leaks.uspto_test_product,
            match cfg.leak_mode {
                LeakMode::Drop => "left out of training",
                LeakMode::Report => "kept (--leaks report)",
            }
        ));
    }
    let examples: Vec<Example> = pairs
        .iter()
        .map(|p| Example {
            task: p.task,
            source: format!("{}{}", p.task.prompt(), p.input),
            target: p.output.clone(),
        })
        .collect();
    let texts: Vec<String> = examples
        .iter()
        .flat_map(|e| [e.source.clone(), e.target.clone()])
        .collect();
    let tok = get_tokenizer(cfg, &pairs, &texts, obs, &mut summary.tokenizer)?;
    let sp = tok.specials();
    summary.tokenizer.vocab_size = tok.vocab_size();
    (
        summary.tokenizer.pad_id,
        summary.tokenizer.eos_id,
        summary.tokenizer.unk_id,
    ) = (sp.pad, sp.eos, sp.unk);
    summary.tokenizer.escape = tok.escape().cloned();
    obs.stage("tokenizing");
    let ids = tok.encode_batch(&texts)?;
    // Round trip of every source and target.
    let failures: Vec<usize> = ids
        .par_iter()
        .enumerate()
        .filter_map(|(i, v)| match tok.decode(v, true) {
            Ok(s) if s == texts[i] => None,
            _ => Some(i),
        })
        .collect();
    summary.tokenizer.texts_checked = texts.len() as u64;
    summary.tokenizer.round_trip_failures = failures.len() as u64;
    summary.tokenizer.failure_examples =
        failures.iter().take(5).map(|&i| texts[i].clone()).collect();
    if summary.tokenizer.source == "trained" {
        summary.tokenizer.round_trip_failures_before_repair = failures.len() as u64;
    }
    for &i in failures.iter().take(20) {
        obs.warning(&format!(
            "tokenizer round trip changes {} {:?}",
            if i % 2 == 0 { "source" } else { "target" },
            texts[i]
        ));
    }
    if failures.len() > 20 {
        obs.warning(&format!(
            "... {} round-trip failures in all",
            failures.len()
        ));
    }
    // Length filter (train and valid), then mixing.
    let limit = cfg.max_length.unwrap_or(usize::MAX);
    let mut keep = vec![true; pairs.len()];
    for (i, p) in pairs.iter().enumerate() {
        let (s, t) = (&ids[2 * i], &ids[2 * i + 1]);
        if s.len() > limit || t.len() > limit {
            summary.counts(p.task, p.split).too_long += 1;
            keep[i] = p.split == Split::Test;
        }
    }
    let order_train: Vec<usize> = mix(&pairs, cfg).into_iter().filter(|&i| keep[i]).collect();
    let out = &cfg.out_dir;
    std::fs::create_dir_all(out.join(SHARD_DIR)).map_err(|e| DataError::io(out, e))?;
    obs.stage("writing");
    let tok_json = tok.to_json()?;
    write_file(&out.join(TOKENIZER_FILE), tok_json.as_bytes())?;
    let escape_file = match tok.escape() {
        Some(e) => {
            write_json(&out.join(ESCAPE_FILE), e)?;
            Some(ESCAPE_FILE.to_string())
        }
        None => {
            let p = out.join(ESCAPE_FILE);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| DataError::io(&p, e))?;
            }
            None
        }
    };
    let dtype = TokenDtype::for_vocab(tok.vocab_size());
    let mut splits = BTreeMap::new();
    for split in Split::ALL {
        let order: Vec<usize> = match split {
            Split::Train => order_train.clone(),
            _ => (0..pairs.len())
                .filter(|&i| pairs[i].split == split && keep[i])
                .collect(),
        };
        let (paired, totals) = write_split(out, split, &order, &pairs, &examples, &ids, dtype)?;
        for &i in &order {
            summary.counts(pairs[i].task, split).written += 1;
        }
        splits.insert(split.name().to_string(), paired);
        summary.splits.insert(split.name().to_string(), totals);
    }
    summary.seconds = t0.elapsed().as_secs_f64();
    write_json(&out.join("summary.json"), &summary)?;
    let manifest = Seq2SeqManifest {
        format: SEQ2SEQ_FORMAT.into(),
        dtype,
        byte_order: "little".into(),
        vocab_size: tok.vocab_size(),
        pad_id: sp.pad,
        eos_id: sp.eos,
        unk_id: sp.unk,
        decoder_start_id: sp.pad,
        with_eos: true,
        tokenizer: TOKENIZER_FILE.into(),
        tokenizer_sha256: sha256_bytes(tok_json.as_bytes()),
        escape: escape_file,
        shard_dir: SHARD_DIR.into(),
        tasks: Task::ALL.iter().map(|t| t.name().to_string()).collect(),
        splits,
        created_by: format!("chemlm-data {}", env!("CARGO_PKG_VERSION")),
    };
    write_json(&out.join(MANIFEST_FILE), &manifest)?;
    Ok(summary)
}

fn write_split(
    out: &Path,
    split: Split,
    order: &[usize],
    pairs: &[Pair],
    examples: &[Example],
    ids: &[Vec<u32>],
    dtype: TokenDtype,
) -> Result<(PairedSplit, SplitTotals), DataError> {
    let name = split.name();
    let mut jsonl = AtomicFile::create(&out.join(format!("{name}.jsonl")))?;
    let sd = out.join(SHARD_DIR);
    let mut src = ShardWriter::new(&sd, &format!("{name}.source"), dtype);
    let mut tgt = ShardWriter::new(&sd, &format!("{name}.target"), dtype);
    let mut tasks = Vec::with_capacity(order.len());
    let mut totals = SplitTotals::default();
    let mut line = String::new();
    for &i in order {
        line.clear();
        line.push_str(
            &serde_json::to_string(&examples[i])
                .map_err(|e| DataError::Invalid(format!("cannot serialize an example: {e}")))?,
        );
        line.push('\n');
        jsonl.write_all(line.as_bytes())?;
        let (s, t) = (&ids[2 * i], &ids[2 * i + 1]);
        src.push(s)?;
        tgt.push(t)?;
        tasks.push(pairs[i].task.index());
        totals.pairs += 1;
        totals.source_tokens += s.len() as u64;
        totals.target_tokens += t.len() as u64;
        totals.max_source_len = totals.max_source_len.max(s.len() as u32);
        totals.max_target_len = totals.max_target_len.max(t.len() as u32);
    }
    jsonl.commit()?;
    let tasks_name = format!("{name}.tasks");
    write_file(&sd.join(&tasks_name), &tasks)?;
    Ok((
        PairedSplit {
            pairs: totals.pairs,
            source: src.finish()?,
            target: tgt.finish()?,
            tasks: tasks_name,
            tasks_sha256: sha256_bytes(&tasks),
        },
        totals,
    ))
}

fn config_record(cfg: &Seq2SeqConfig) -> serde_json::Value {
    let tokenizer = match &cfg.tokenizer {
        TokenizerSource::Train(u) => serde_json::json!({
            "train": true, "vocab_size": u.vocab_size, "extra_ids": u.extra_ids,
            "max_piece_length": u.max_piece_length, "sample": cfg.tokenizer_sample,
        }),
        TokenizerSource::File { path, repair } => {
            serde_json::json!({"file": path.display().to_string(), "repair": repair})
        }
    };
    serde_json::json!({
        "tasks": cfg.tasks.iter().map(|t| t.name()).collect::<Vec<_>>(),
        "canonicalize": cfg.canonicalize,
        "group_salts": cfg.group_salts,
        "weights": Task::ALL.iter().filter(|t| cfg.tasks.contains(t))
            .map(|&t| (t.name().to_string(), cfg.weight(t))).collect::<BTreeMap<_, _>>(),
        "tokenizer": tokenizer,
        "max_length": cfg.max_length,
        "seed": cfg.seed,
        "limit": cfg.limit,
        "leak_mode": cfg.leak_mode,
        "mit_valid": cfg.mit_valid,
        "prompts": cfg.tasks.iter().map(|t| (t.name().to_string(), t.prompt())).collect::<BTreeMap<_, _>>(),
    })
}
