//! Pretraining corpus preparation: read molecules, canonicalize, (convert to SELFIES,) filter,
//! deduplicate, tokenize, and write train/validation token shards with a manifest and the
//! tokenizer.
//!
//! The pipeline streams. A reader thread decompresses and parses the input into chunks; each
//! chunk is processed in parallel (canonicalization and tokenization, rayon), then merged in input
//! order on one thread (deduplication, vocabulary counts, writing), so the output does not depend
//! on the number of threads. When the vocabulary is built from the corpus, ids are first written
//! as provisional ids to temporary files and renumbered in a final pass once the counts are
//! known, so the corpus is read once and never held in memory.
//!
//! Every bad record (unparsable SMILES, characters the tokenizer does not cover, empty or missing
//! fields) goes to the observer with its file and line and is counted; nothing is dropped
//! silently. Sequences longer than `max_len` and duplicates are counted too.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64_with_seed};

use crate::atomic::{temp_path, write_file};
use crate::convert;
use crate::download::sha256_bytes;
use crate::error::DataError;
use crate::reader::{BadRecord, MoleculeReader, ReadOptions, RecordChunk};
use crate::shards::{
    write_manifest, ShardFiles, ShardManifest, ShardWriter, TokenDtype, SHARD_FORMAT,
    TOKENIZER_FILE,
};
use crate::tokenizer::{
    Tokenizer, TokenizerKind, Vocab, VocabBuilder, VocabConfig, SPECIAL_TOKENS,
};

/// Where the vocabulary comes from.
#[derive(Clone, Debug)]
pub enum VocabSource {
    /// Built from this corpus.
    Build(VocabConfig),
    /// A given tokenizer (e.g. `--vocab tokenizer.json`); unknown tokens become `<unk>`.
    Fixed(Tokenizer),
}

/// Parameters of [`prepare`].
#[derive(Clone, Debug)]
pub struct PrepareConfig {
    /// Input files, read in order; standard input when empty.
    pub inputs: Vec<PathBuf>,
    /// Layout and molecule column of the inputs.
    pub read: ReadOptions,
    /// Token language.
    pub kind: TokenizerKind,
    /// With `kind = Selfies`: the inputs are SELFIES already (no SMILES parsing or conversion).
    pub input_is_selfies: bool,
    /// Replace each SMILES by its canonical form (drops unparsable molecules as bad records).
    pub canonicalize: bool,
    /// Keep only the first occurrence of each (canonical) string.
    pub dedupe: bool,
    /// Longest sequence kept, in tokens including `<bos>` and `<eos>`; longer ones are counted
    /// and skipped.
    pub max_len: Option<usize>,
    pub vocab: VocabSource,
    /// Fraction of molecules for the validation split, chosen by a seeded hash of the molecule
    /// string (stable under reordering, threads and reruns).
    pub valid_fraction: f64,
    pub seed: u64,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Records per parallel chunk.
    pub chunk_size: usize,
    /// Sequences per shard file pair (default: one pair per split).
    pub shard_sequences: Option<u64>,
    /// While the vocabulary is being built, provisional ids are kept in memory up to this many
    /// per split (4 bytes each), then spilled to a temporary file in the output directory.
    pub memory_tokens: usize,
    /// Output directory.
    pub out_dir: PathBuf,
}

impl PrepareConfig {
    /// Defaults (as the CLI): SMILES, canonicalize, no dedupe, no length limit, vocabulary built
    /// with min_freq 1, 1 % validation, seed 0.
    pub fn new(inputs: Vec<PathBuf>, out_dir: PathBuf) -> Self {
        Self {
            inputs,
            read: ReadOptions::default(),
            kind: TokenizerKind::Smiles,
            input_is_selfies: false,
            canonicalize: true,
            dedupe: false,
            max_len: None,
            vocab: VocabSource::Build(VocabConfig::default()),
            valid_fraction: 0.01,
            seed: 0,
            threads: None,
            chunk_size: 1 << 15,
            shard_sequences: None,
            memory_tokens: 256 << 20,
            out_dir,
        }
    }
}

/// Receives bad records and progress while [`prepare`] runs.
pub trait PrepareObserver {
    /// A record that was skipped because it is bad.
    fn bad_record(&mut self, source: &str, line: u64, reason: &str);
    /// `records` input records have been processed so far.
    fn progress(&mut self, records: u64) {
        let _ = records;
    }
}

/// An observer that ignores everything (bad records are still counted in the summary).
pub struct IgnoreObserver;

impl PrepareObserver for IgnoreObserver {
    fn bad_record(&mut self, _: &str, _: u64, _: &str) {}
}

/// Counts of one output split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SplitCounts {
    pub sequences: u64,
    pub tokens: u64,
}

/// Wall-clock seconds of the pipeline's parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PrepareTimings {
    /// Waiting for the reader thread (decompression and CSV parsing not overlapped).
    pub read_wait: f64,
    /// Parallel canonicalization/conversion/tokenization.
    pub process: f64,
    /// In-order merge: dedupe, counts, writing.
    pub merge: f64,
    /// Vocabulary, renumbering pass, tokenizer and manifest.
    pub finish: f64,
    pub total: f64,
}

/// What [`prepare`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PrepareSummary {
    /// Input records seen (good and bad).
    pub records: u64,
    /// Bad records (reported to the observer).
    pub bad: u64,
    /// Duplicates skipped.
    pub duplicates: u64,
    /// Sequences longer than `max_len`, skipped.
    pub too_long: u64,
    pub train: SplitCounts,
    pub valid: SplitCounts,
    pub vocab_size: usize,
    /// Token occurrences written as `<unk>`.
    pub unk_tokens: u64,
    pub dtype: Option<TokenDtype>,
    /// Not serialized: the manifest stays identical across reruns.
    #[serde(skip)]
    pub timings: PrepareTimings,
}

/// Tags ids that index a piece-local token table instead of the global one.
const LOCAL: u32 = 1 << 31;

/// The result of processing a contiguous range of a chunk.
#[derive(Default)]
struct Piece {
    ids: Vec<u32>,
    lens: Vec<u32>,
    keys: Vec<u128>,
    valid: Vec<bool>,
    bad: Vec<BadRecord>,
    too_long: u64,
    /// Tokens not yet in the global table, indexed by `id & !LOCAL`.
    local_tokens: Vec<String>,
    /// Occurrences per global id, then per local id (vocabulary building only).
    counts: Vec<u64>,
    local_counts: Vec<u64>,
}

enum Mode<'a> {
    /// Provisional ids from the global table (read-only while pieces are processed).
    Build {
        global: &'a FxHashMap<String, u32>,
        bytes: &'a [u32; 256],
        size: usize,
    },
    Fixed(&'a Vocab),
}

struct Ctx<'a> {
    kind: TokenizerKind,
    canonicalize: bool,
    to_selfies: bool,
    dedupe: bool,
    max_len: usize,
    valid_threshold: u64,
    seed: u64,
    bos: u32,
    eos: u32,
    mode: Mode<'a>,
}

fn process_piece(chunk: &RecordChunk, range: Range<usize>, ctx: &Ctx) -> Piece {
    let mut p = Piece::default();
    let mut local: FxHashMap<String, u32> = FxHashMap::default();
    let mut local_tokens: Vec<String> = Vec::new();
    for r in range {
        let (line, raw) = chunk.get(r);
        let canon;
        let mut text: &str = raw;
        if ctx.canonicalize {
            match convert::canonical_smiles(text) {
                Ok(c) => {
                    canon = c;
                    text = &canon;
                }
                Err(e) => {
                    p.bad.push(BadRecord { line, reason: e });
                    continue;
                }
            }
        }
        let selfies;
        if ctx.to_selfies {
            match convert::smiles_to_selfies(text) {
                Ok(s) => {
                    selfies = s;
                    text = &selfies;
                }
                Err(e) => {
                    p.bad.push(BadRecord { line, reason: e });
                    continue;
                }
            }
        }
        let start = p.ids.len();
        p.ids.push(ctx.bos);
        let ids = &mut p.ids;
        let scanned = match &ctx.mode {
            Mode::Fixed(v) => ctx.kind.scan(text, |t| ids.push(v.id_or_unk(t))),
            Mode::Build { global, bytes, .. } => ctx.kind.scan(text, |t| {
                let id = if t.len() == 1 {
                    bytes[t.as_bytes()[0] as usize]
                } else {
                    global.get(t).copied().unwrap_or(u32::MAX)
                };
                let id = if id != u32::MAX {
                    id
                } else {
                    // Rare: a token this chunk sees before the global table does.
                    match local.get(t) {
                        Some(&i) => i,
                        None => {
                            let n = LOCAL | local_tokens.len() as u32;
                            local_tokens.push(t.to_owned());
                            local.insert(t.to_owned(), n);
                            n
                        }
                    }
                };
                ids.push(id);
            }),
        };
        if let Err(e) = scanned {
            p.ids.truncate(start);
            p.bad.push(BadRecord {
                line,
                reason: e.to_string(),
            });
            continue;
        }
        p.ids.push(ctx.eos);
        let len = p.ids.len() - start;
        if len > ctx.max_len {
            p.ids.truncate(start);
            p.too_long += 1;
            continue;
        }
        p.lens.push(len as u32);
        let bytes = text.as_bytes();
        p.keys.push(if ctx.dedupe { xxh3_128(bytes) } else { 0 });
        p.valid.push(
            ctx.valid_threshold > 0 && xxh3_64_with_seed(bytes, ctx.seed) < ctx.valid_threshold,
        );
    }
    p.local_tokens = local_tokens;
    if let Mode::Build { size, .. } = ctx.mode {
        // Counted here, in parallel; the merge adds pieces up and takes duplicates back out.
        p.counts = vec![0; size];
        p.local_counts = vec![0; p.local_tokens.len()];
        for &id in &p.ids {
            if id & LOCAL == 0 {
                p.counts[id as usize] += 1;
            } else {
                p.local_counts[(id & !LOCAL) as usize] += 1;
            }
        }
    }
    p
}

/// Provisional ids of one split until the vocabulary is known: in memory up to a budget, then
/// spilled to a temporary file (so a corpus of any size streams with bounded memory).
struct ProvSink {
    path: PathBuf,
    /// The first sequences' ids, while they fit the budget.
    mem: Vec<u32>,
    mem_limit: usize,
    /// Sequences held in `mem`; the rest are in the file.
    mem_seqs: usize,
    writer: Option<BufWriter<File>>,
    spilled: bool,
    lens: Vec<u32>,
    bytes: Vec<u8>,
}

impl ProvSink {
    fn new(path: PathBuf, mem_limit: usize) -> Self {
        Self {
            path,
            mem: Vec::new(),
            mem_limit,
            mem_seqs: 0,
            writer: None,
            spilled: false,
            lens: Vec::new(),
            bytes: Vec::new(),
        }
    }

    fn push_many(&mut self, flat: &[u32], lens: &[u32]) -> Result<(), DataError> {
        self.lens.extend_from_slice(lens);
        if !self.spilled && self.mem.len() + flat.len() <= self.mem_limit {
            self.mem.extend_from_slice(flat);
            self.mem_seqs += lens.len();
            return Ok(());
        }
        if self.writer.is_none() {
            let f = File::create(&self.path).map_err(|e| DataError::io(&self.path, e))?;
            self.writer = Some(BufWriter::with_capacity(1 << 22, f));
            self.spilled = true;
        }
        self.bytes.clear();
        self.bytes
            .extend(flat.iter().flat_map(|&id| id.to_le_bytes()));
        if let Some(w) = self.writer.as_mut() {
            w.write_all(&self.bytes)
                .map_err(|e| DataError::io(&self.path, e))?;
        }
        Ok(())
    }

    /// Flushes the spill file and maps it back (`None` when nothing was spilled).
    fn finish(&mut self) -> Result<Option<memmap2::Mmap>, DataError> {
        let Some(w) = self.writer.take() else {
            return Ok(None);
        };
        let f = w
            .into_inner()
            .map_err(|e| DataError::io(&self.path, e.into_error()))?;
        drop(f);
        let f = File::open(&self.path).map_err(|e| DataError::io(&self.path, e))?;
        let len = f
            .metadata()
            .map_err(|e| DataError::io(&self.path, e))?
            .len();
        if len == 0 {
            return Ok(None);
        }
        // SAFETY: a private temporary file that only this process writes, finished above and
        // removed when the sink is dropped; nothing modifies it while mapped.
        let m = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| DataError::io(&self.path, e))?;
        Ok(Some(m))
    }
}

impl Drop for ProvSink {
    fn drop(&mut self) {
        if self.spilled {
            self.writer.take();
            let _ = fs::remove_file(&self.path);
        }
    }
}

enum Sink {
    Prov(ProvSink),
    Shard(Box<ShardWriter>),
}

impl Sink {
    fn push_many(&mut self, flat: &[u32], lens: &[u32]) -> Result<(), DataError> {
        if lens.is_empty() {
            return Ok(());
        }
        match self {
            Sink::Prov(p) => p.push_many(flat, lens),
            Sink::Shard(w) => w.push_many(flat, lens),
        }
    }
}

/// Hash threshold below which a molecule goes to validation.
enum ValidRule {
    None,
    All,
    Below(u64),
}

impl ValidRule {
    fn new(fraction: f64) -> Self {
        if fraction <= 0.0 {
            ValidRule::None
        } else if fraction >= 1.0 {
            ValidRule::All
        } else {
            ValidRule::Below((fraction * 18_446_744_073_709_551_616.0) as u64)
        }
    }
}

/// One message from the reader thread: input index, records, bad records, records consumed.
type ReadMsg = Result<(usize, RecordChunk, Vec<BadRecord>, usize), DataError>;

/// Running state of the in-order merge.
struct Merge {
    global: FxHashMap<String, u32>,
    tokens_by_id: Vec<String>,
    counts: Vec<u64>,
    byte_table: Box<[u32; 256]>,
    seen: FxHashSet<u128>,
    train: Sink,
    valid: Sink,
    summary: PrepareSummary,
    unk: u32,
    bufs: [(Vec<u32>, Vec<u32>); 2],
}

impl Merge {
    fn piece(&mut self, mut p: Piece, dedupe: bool, building: bool) -> Result<(), DataError> {
        for (c, &n) in self.counts.iter_mut().zip(&p.counts) {
            *c += n;
        }
        if !p.local_tokens.is_empty() {
            let remap: Vec<u32> = p
                .local_tokens
                .iter()
                .map(|t| match self.global.get(t) {
                    Some(&i) => i,
                    None => {
                        let i = self.tokens_by_id.len() as u32;
                        self.global.insert(t.clone(), i);
                        self.tokens_by_id.push(t.clone());
                        self.counts.push(0);
                        if t.len() == 1 {
                            self.byte_table[t.as_bytes()[0] as usize] = i;
                        }
                        i
                    }
                })
                .collect();
            for (&g, &n) in remap.iter().zip(&p.local_counts) {
                self.counts[g as usize] += n;
            }
            for id in p.ids.iter_mut() {
                if *id & LOCAL != 0 {
                    *id = remap[(*id & !LOCAL) as usize];
                }
            }
        }
        for b in self.bufs.iter_mut() {
            b.0.clear();
            b.1.clear();
        }
        let mut off = 0;
        for r in 0..p.lens.len() {
            let len = p.lens[r] as usize;
            let seq = &p.ids[off..off + len];
            off += len;
            if dedupe && !self.seen.insert(p.keys[r]) {
                self.summary.duplicates += 1;
                if building {
                    for &id in seq {
                        self.counts[id as usize] -= 1;
                    }
                }
                continue;
            }
            if !building {
                self.summary.unk_tokens += seq.iter().filter(|&&i| i == self.unk).count() as u64;
            }
            let (flat, lens) = &mut self.bufs[p.valid[r] as usize];
            flat.extend_from_slice(seq);
            lens.push(len as u32);
            let c = if p.valid[r] {
                &mut self.summary.valid
            } else {
                &mut self.summary.train
            };
            c.sequences += 1;
            c.tokens += len as u64;
        }
        self.summary.too_long += p.too_long;
        self.train.push_many(&self.bufs[0].0, &self.bufs[0].1)?;
        self.valid.push_many(&self.bufs[1].0, &self.bufs[1].1)
    }
}

/// Runs the pipeline. See the module docs.
pub fn prepare(
    cfg: &PrepareConfig,
    obs: &mut dyn PrepareObserver,
) -> Result<PrepareSummary, DataError> {
    let t0 = Instant::now();
    if !(0.0..=1.0).contains(&cfg.valid_fraction) {
        return Err(DataError::Invalid(format!(
            "valid fraction must be in [0, 1], got {}",
            cfg.valid_fraction
        )));
    }
    if cfg.kind == TokenizerKind::Smiles && cfg.input_is_selfies {
        return Err(DataError::Invalid(
            "SELFIES input needs --kind selfies".into(),
        ));
    }
    let to_selfies = cfg.kind == TokenizerKind::Selfies && !cfg.input_is_selfies;
    if to_selfies && !convert::SELFIES_CONVERSION {
        return Err(DataError::Invalid(
            "this build cannot convert SMILES to SELFIES; give SELFIES input (input_is_selfies) \
             or build chemlm-data with the `selfies` feature"
                .into(),
        ));
    }
    if let VocabSource::Fixed(t) = &cfg.vocab {
        if t.kind() != cfg.kind {
            return Err(DataError::Invalid(format!(
                "the given tokenizer is for {}, not {}",
                t.kind(),
                cfg.kind
            )));
        }
    }
    // Everything is written into a hidden sibling and swapped in whole at the end, so a data set
    // prepared earlier stays usable through any failure or kill of this run; a directory of
    // other files is never swept away with it.
    let dest = &cfg.out_dir;
    let holds_data = dest.join(crate::shards::MANIFEST_FILE).exists();
    if !holds_data && fs::read_dir(dest).is_ok_and(|mut d| d.next().is_some()) {
        return Err(DataError::Invalid(format!(
            "{}: not empty and holds no prepared data set (no {}); give a new or empty directory",
            dest.display(),
            crate::shards::MANIFEST_FILE
        )));
    }
    let staged = chemlm_fs::AtomicDir::create(dest)?;
    let out = staged.path();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .map_err(|e| DataError::Invalid(format!("thread pool: {e}")))?;
    let building = matches!(cfg.vocab, VocabSource::Build(_));
    let (sink_for, special) = match &cfg.vocab {
        VocabSource::Build(_) => (None, None),
        VocabSource::Fixed(t) => (
            Some(TokenDtype::for_vocab(t.vocab_size())),
            Some(t.special_ids()),
        ),
    };
    let make_sink = |split: &str| -> Result<Sink, DataError> {
        Ok(match sink_for {
            None => Sink::Prov(ProvSink::new(
                temp_path(&out.join(format!("{split}.prov"))),
                cfg.memory_tokens,
            )),
            Some(dtype) => {
                let mut w = ShardWriter::new(out, split, dtype);
                if let Some(n) = cfg.shard_sequences {
                    w = w.with_shard_size(n);
                }
                Sink::Shard(Box::new(w))
            }
        })
    };
    let mut m = Merge {
        global: SPECIAL_TOKENS
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect(),
        tokens_by_id: SPECIAL_TOKENS.iter().map(|t| t.to_string()).collect(),
        counts: vec![0; SPECIAL_TOKENS.len()],
        byte_table: Box::new([u32::MAX; 256]),
        seen: FxHashSet::default(),
        train: make_sink("train")?,
        valid: make_sink("valid")?,
        summary: PrepareSummary::default(),
        unk: special.map_or(4, |s| s.unk),
        bufs: Default::default(),
    };
    let (bos, eos) = special.map_or((0, 1), |s| (s.bos, s.eos));
    let valid_rule = ValidRule::new(cfg.valid_fraction);
    let sources: Vec<String> = if cfg.inputs.is_empty() {
        vec!["<stdin>".into()]
    } else {
        cfg.inputs.iter().map(|p| p.display().to_string()).collect()
    };
    let threads = pool.current_num_threads();
    let mut timings = PrepareTimings::default();

    std::thread::scope(|scope| -> Result<(), DataError> {
        let (tx, rx) = mpsc::sync_channel::<ReadMsg>(2);
        scope.spawn(move || {
            let inputs: Vec<Option<&Path>> = if cfg.inputs.is_empty() {
                vec![None]
            } else {
                cfg.inputs.iter().map(|p| Some(p.as_path())).collect()
            };
            for (k, input) in inputs.into_iter().enumerate() {
                let mut r = match MoleculeReader::open(input, &cfg.read) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let (mut chunk, mut bad) = (RecordChunk::default(), Vec::new());
                    match r.read_chunk(cfg.chunk_size.max(1), &mut chunk, &mut bad) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send(Ok((k, chunk, bad, n))).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            }
        });
        loop {
            let t = Instant::now();
            let Ok(msg) = rx.recv() else { break };
            timings.read_wait += t.elapsed().as_secs_f64();
            let (k, chunk, mut bad, n) = msg?;
            m.summary.records += n as u64;
            let t = Instant::now();
            let ctx = Ctx {
                kind: cfg.kind,
                canonicalize: cfg.canonicalize && !cfg.input_is_selfies,
                to_selfies,
                dedupe: cfg.dedupe,
                max_len: cfg.max_len.unwrap_or(usize::MAX),
                valid_threshold: match valid_rule {
                    ValidRule::None => 0,
                    ValidRule::All => u64::MAX,
                    ValidRule::Below(x) => x,
                },
                seed: cfg.seed,
                bos,
                eos,
                mode: match &cfg.vocab {
                    VocabSource::Fixed(tok) => Mode::Fixed(tok.vocab()),
                    VocabSource::Build(_) => Mode::Build {
                        global: &m.global,
                        bytes: &m.byte_table,
                        size: m.tokens_by_id.len(),
                    },
                },
            };
            let pieces_n = (threads * 4).min(chunk.len().max(1));
            let per = chunk.len().div_ceil(pieces_n).max(1);
            let ranges: Vec<Range<usize>> = (0..chunk.len())
                .step_by(per)
                .map(|s| s..(s + per).min(chunk.len()))
                .collect();
            let mut pieces: Vec<Piece> = pool.install(|| {
                ranges
                    .into_par_iter()
                    .map(|r| process_piece(&chunk, r, &ctx))
                    .collect()
            });
            if let ValidRule::All = valid_rule {
                pieces.iter_mut().for_each(|p| p.valid.fill(true));
            }
            timings.process += t.elapsed().as_secs_f64();
            let t = Instant::now();
            for p in pieces {
                bad.extend(p.bad.iter().cloned());
                m.piece(p, cfg.dedupe, building)?;
            }
            bad.sort_by_key(|b| b.line);
            m.summary.bad += bad.len() as u64;
            for b in &bad {
                obs.bad_record(&sources[k], b.line, &b.reason);
            }
            obs.progress(m.summary.records);
            timings.merge += t.elapsed().as_secs_f64();
        }
        Ok(())
    })?;

    let t = Instant::now();
    let Merge {
        tokens_by_id,
        counts,
        train,
        valid,
        mut summary,
        ..
    } = m;
    let (tokenizer, splits) = match &cfg.vocab {
        VocabSource::Fixed(tok) => {
            let mut splits = Vec::new();
            for (name, sink) in [("train", train), ("valid", valid)] {
                if let Sink::Shard(w) = sink {
                    splits.push((name.to_string(), (*w).finish()?));
                }
            }
            (tok.clone(), splits)
        }
        VocabSource::Build(vc) => {
            let mut vb = VocabBuilder::new();
            for (t, &c) in tokens_by_id.iter().zip(&counts).skip(SPECIAL_TOKENS.len()) {
                vb.add_count(t, c);
            }
            let vocab = vb.build(vc)?;
            let unk = vocab.special_ids().unk;
            let remap: Vec<u32> = tokens_by_id.iter().map(|t| vocab.id_or_unk(t)).collect();
            summary.unk_tokens = remap
                .iter()
                .zip(&counts)
                .skip(SPECIAL_TOKENS.len())
                .filter(|(&r, _)| r == unk)
                .map(|(_, &c)| c)
                .sum();
            let dtype = TokenDtype::for_vocab(vocab.len());
            let mut splits = Vec::new();
            for (name, sink) in [("train", train), ("valid", valid)] {
                let Sink::Prov(mut prov) = sink else { continue };
                let mut w = ShardWriter::new(out, name, dtype);
                if let Some(n) = cfg.shard_sequences {
                    w = w.with_shard_size(n);
                }
                let map = prov.finish()?;
                let (mem_lens, file_lens) = prov.lens.split_at(prov.mem_seqs);
                renumber(&pool, Ids::Mem(&prov.mem), mem_lens, &remap, &mut w)?;
                let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
                renumber(&pool, Ids::Le(bytes), file_lens, &remap, &mut w)?;
                drop(map);
                drop(prov);
                splits.push((name.to_string(), w.finish()?));
            }
            (Tokenizer::new(cfg.kind, vocab), splits)
        }
    };
    summary.vocab_size = tokenizer.vocab_size();
    let dtype = TokenDtype::for_vocab(tokenizer.vocab_size());
    summary.dtype = Some(dtype);
    let tok_json = tokenizer.to_hf_json();
    write_file(&out.join(TOKENIZER_FILE), tok_json.as_bytes())?;
    timings.finish = t.elapsed().as_secs_f64();
    timings.total = t0.elapsed().as_secs_f64();
    summary.timings = timings;
    let manifest = ShardManifest {
        format: SHARD_FORMAT.to_string(),
        kind: cfg.kind,
        dtype,
        byte_order: "little".into(),
        vocab_size: tokenizer.vocab_size(),
        special_ids: tokenizer.special_ids(),
        with_bos_eos: true,
        tokenizer: TOKENIZER_FILE.into(),
        tokenizer_sha256: sha256_bytes(tok_json.as_bytes()),
        splits: splits
            .into_iter()
            .collect::<std::collections::BTreeMap<String, Vec<ShardFiles>>>(),
        prepare: prepare_record(cfg, &summary),
        created_by: format!("chemlm-data {}", env!("CARGO_PKG_VERSION")),
    };
    write_manifest(out, &manifest)?;
    staged.commit()?;
    Ok(summary)
}

/// Provisional ids, in memory or as little-endian bytes of a spill file.
enum Ids<'a> {
    Mem(&'a [u32]),
    Le(&'a [u8]),
}

/// Rewrites provisional ids with final ids, in parallel blocks, into the shard writer.
fn renumber(
    pool: &rayon::ThreadPool,
    src: Ids,
    lens: &[u32],
    remap: &[u32],
    w: &mut ShardWriter,
) -> Result<(), DataError> {
    const BLOCK: usize = 1 << 16; // sequences per block
    const PAR: usize = 1 << 14; // ids per parallel task
    let mut tok = 0usize;
    let mut ids: Vec<u32> = Vec::new();
    for block in lens.chunks(BLOCK) {
        let n: usize = block.iter().map(|&l| l as usize).sum();
        ids.clear();
        ids.resize(n, 0);
        pool.install(|| match src {
            Ids::Mem(m) => ids
                .par_chunks_mut(PAR)
                .zip(m[tok..tok + n].par_chunks(PAR))
                .for_each(|(d, s)| {
                    for (d, &p) in d.iter_mut().zip(s) {
                        *d = remap[p as usize];
                    }
                }),
            Ids::Le(b) => ids
                .par_chunks_mut(PAR)
                .zip(b[4 * tok..4 * (tok + n)].par_chunks(4 * PAR))
                .for_each(|(d, s)| {
                    for (d, c) in d.iter_mut().zip(s.chunks_exact(4)) {
                        *d = remap[u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize];
                    }
                }),
        });
        w.push_many(&ids, block)?;
        tok += n;
    }
    Ok(())
}

/// The `prepare` section of the manifest: parameters and counts.
fn prepare_record(cfg: &PrepareConfig, summary: &PrepareSummary) -> serde_json::Value {
    let vocab = match &cfg.vocab {
        VocabSource::Build(v) => {
            serde_json::json!({"built": true, "min_freq": v.min_freq, "max_size": v.max_size})
        }
        VocabSource::Fixed(_) => serde_json::json!({"built": false}),
    };
    serde_json::json!({
        "inputs": cfg.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "column": cfg.read.column,
        "kind": cfg.kind,
        "input_is_selfies": cfg.input_is_selfies,
        "canonicalize": cfg.canonicalize && !cfg.input_is_selfies,
        "dedupe": cfg.dedupe,
        "max_len": cfg.max_len,
        "vocab": vocab,
        "valid_fraction": cfg.valid_fraction,
        "valid_assignment": "xxh3_64(molecule string, seed) < valid_fraction * 2^64",
        "seed": cfg.seed,
        "summary": summary,
    })
}
