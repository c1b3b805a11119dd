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
//!
//! Sharded runs: with [`PrepareConfig::shard`] (`--shard I/N`), a run reads only its block of the
//! input's lines ([`crate::sharding`]) and writes a *partial set* instead of token shards: its kept
//! sequences in input order with their provisional ids, dedupe keys and split, the table of those
//! ids, and the block's counts ([`PART_FILE`], [`PART_SEQUENCES_FILE`]). Nothing that depends on
//! the whole corpus is decided there. [`merge_parts`] replays the parts in shard order through the
//! same merge step as one run: deduplication across shards keeps the first occurrence in the whole
//! input, the vocabulary is built from the whole corpus' counts, and the validation split is a
//! hash of each molecule anyway; the merged directory is byte for byte the one run's.

use std::fs::{self, File};
use std::io::{BufRead, BufWriter, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64_with_seed};

use crate::atomic::{temp_path, write_file};
use crate::convert;
use crate::download::sha256_bytes;
use crate::error::DataError;
use crate::reader::{BadRecord, MoleculeReader, ReadOptions, RecordChunk, TableFormat};
use crate::sharding::ShardSpec;
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
    /// Prepare only this shard's block of the (single) input's lines, as a partial set for
    /// [`merge_parts`] (see [`crate::prepare`]'s module docs, "Sharded runs").
    pub shard: Option<ShardSpec>,
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
            shard: None,
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
    /// A sharded run's kept sequences, in input order (instead of the split sinks).
    part: Option<PartWriter>,
}

impl Merge {
    /// The global provisional id of `t`, added to the table when new.
    fn intern(&mut self, t: &str) -> u32 {
        match self.global.get(t) {
            Some(&i) => i,
            None => {
                let i = self.tokens_by_id.len() as u32;
                self.global.insert(t.to_owned(), i);
                self.tokens_by_id.push(t.to_owned());
                self.counts.push(0);
                if t.len() == 1 {
                    self.byte_table[t.as_bytes()[0] as usize] = i;
                }
                i
            }
        }
    }

    fn piece(&mut self, mut p: Piece, dedupe: bool, building: bool) -> Result<(), DataError> {
        for (c, &n) in self.counts.iter_mut().zip(&p.counts) {
            *c += n;
        }
        if !p.local_tokens.is_empty() {
            let remap: Vec<u32> = p.local_tokens.iter().map(|t| self.intern(t)).collect();
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
            if let Some(part) = self.part.as_mut() {
                part.push(p.valid[r], p.keys[r], seq)?;
            } else {
                let (flat, lens) = &mut self.bufs[p.valid[r] as usize];
                flat.extend_from_slice(seq);
                lens.push(len as u32);
            }
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

    /// Fresh state: the special tokens in the table, sinks for the splits.
    fn new(train: Sink, valid: Sink, unk: u32) -> Self {
        Merge {
            global: SPECIAL_TOKENS
                .iter()
                .enumerate()
                .map(|(i, t)| (t.to_string(), i as u32))
                .collect(),
            tokens_by_id: SPECIAL_TOKENS.iter().map(|t| t.to_string()).collect(),
            counts: vec![0; SPECIAL_TOKENS.len()],
            byte_table: Box::new([u32::MAX; 256]),
            seen: FxHashSet::default(),
            train,
            valid,
            summary: PrepareSummary::default(),
            unk,
            bufs: Default::default(),
            part: None,
        }
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
    check_out_dir(dest)?;
    let staged = chemlm_fs::AtomicDir::create(dest)?;
    let out = staged.path();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .map_err(|e| DataError::Invalid(format!("thread pool: {e}")))?;
    let building = matches!(cfg.vocab, VocabSource::Build(_));
    let (sink_for, special) = sink_plan(&cfg.vocab);
    let mut m = Merge::new(
        split_sink(out, "train", sink_for, cfg),
        split_sink(out, "valid", sink_for, cfg),
        special.map_or(4, |s| s.unk),
    );
    // A shard reads its block of the one input (opened here: the block's place is needed for
    // the partial set's description) and writes a partial set instead of token shards.
    let shard = match cfg.shard {
        None => None,
        Some(spec) => {
            let block = open_shard_block(cfg, spec)?;
            m.part = Some(PartWriter::create(&out.join(PART_SEQUENCES_FILE))?);
            Some((spec, block))
        }
    };
    let (shard_info, mut shard_reader) = match shard {
        Some((spec, (reader, info))) => (Some((spec, info)), reader),
        None => (None, None),
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
        let shard_reader = shard_reader.take();
        let sharded = shard_info.is_some();
        scope.spawn(move || {
            if sharded {
                // The shard's block, or nothing for an empty block.
                let Some(mut r) = shard_reader else { return };
                loop {
                    let (mut chunk, mut bad) = (RecordChunk::default(), Vec::new());
                    match r.read_chunk(cfg.chunk_size.max(1), &mut chunk, &mut bad) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send(Ok((0, chunk, bad, n))).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                return;
            }
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

    if let Some((spec, block)) = shard_info {
        let summary = write_part(cfg, out, spec, &block, m, t0, timings)?;
        staged.commit()?;
        return Ok(summary);
    }
    let summary = finish_set(cfg, out, &pool, m, t0, timings)?;
    staged.commit()?;
    Ok(summary)
}

/// The end of a run over the whole input (or of [`merge_parts`]): the vocabulary (when built),
/// the renumbering pass into token shards, `tokenizer.json` and `manifest.json`, all in `out`.
fn finish_set(
    cfg: &PrepareConfig,
    out: &Path,
    pool: &rayon::ThreadPool,
    m: Merge,
    t0: Instant,
    mut timings: PrepareTimings,
) -> Result<PrepareSummary, DataError> {
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
                renumber(pool, Ids::Mem(&prov.mem), mem_lens, &remap, &mut w)?;
                let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
                renumber(pool, Ids::Le(bytes), file_lens, &remap, &mut w)?;
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
    Ok(summary)
}

/// A partial set's description file (what `prepare` with a shard writes instead of
/// `manifest.json`, so a partial set is never taken for a data set).
pub const PART_FILE: &str = "part.json";
/// A partial set's kept sequences, in input order.
pub const PART_SEQUENCES_FILE: &str = "sequences.part";
/// Format tag in [`PartManifest::format`].
pub const PART_FORMAT: &str = "chemlm-shards-part/1";

/// Refuses an output directory that is not empty and holds neither a data set nor a partial set
/// (a directory of other files is never swept away by the swap of [`chemlm_fs::AtomicDir`]).
/// With a fixed vocabulary, sequences go straight into token shards of the dtype its size needs
/// (and its special ids are known); while the vocabulary is being built, they wait as provisional
/// ids. One run and a merge of shard parts decide this the same way.
fn sink_plan(vocab: &VocabSource) -> (Option<TokenDtype>, Option<crate::tokenizer::SpecialIds>) {
    match vocab {
        VocabSource::Build(_) => (None, None),
        VocabSource::Fixed(t) => (
            Some(TokenDtype::for_vocab(t.vocab_size())),
            Some(t.special_ids()),
        ),
    }
}

/// Where split `split`'s sequences go under `out` (see [`sink_plan`]).
fn split_sink(out: &Path, split: &str, dtype: Option<TokenDtype>, cfg: &PrepareConfig) -> Sink {
    match dtype {
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
    }
}

fn check_out_dir(dest: &Path) -> Result<(), DataError> {
    let ours = dest.join(crate::shards::MANIFEST_FILE).exists() || dest.join(PART_FILE).exists();
    if !ours && fs::read_dir(dest).is_ok_and(|mut d| d.next().is_some()) {
        return Err(DataError::Invalid(format!(
            "{}: not empty and holds no prepared data set (no {}); give a new or empty directory",
            dest.display(),
            crate::shards::MANIFEST_FILE
        )));
    }
    Ok(())
}

/// The settings of a run that decide its output, recorded in every partial set so that
/// [`merge_parts`] refuses parts of different runs and rebuilds the run's manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartConfig {
    pub inputs: Vec<PathBuf>,
    pub format: Option<TableFormat>,
    pub column: Option<String>,
    pub header: Option<bool>,
    pub kind: TokenizerKind,
    pub input_is_selfies: bool,
    pub canonicalize: bool,
    pub dedupe: bool,
    pub max_len: Option<usize>,
    /// `None` for a given tokenizer (its SHA-256 is in [`PartManifest::tokenizer_sha256`]).
    pub vocab: Option<VocabConfig>,
    pub valid_fraction: f64,
    pub seed: u64,
    pub shard_sequences: Option<u64>,
}

impl PartConfig {
    fn of(cfg: &PrepareConfig) -> Self {
        Self {
            inputs: cfg.inputs.clone(),
            format: cfg.read.format,
            column: cfg.read.column.clone(),
            header: cfg.read.header,
            kind: cfg.kind,
            input_is_selfies: cfg.input_is_selfies,
            canonicalize: cfg.canonicalize,
            dedupe: cfg.dedupe,
            max_len: cfg.max_len,
            vocab: match &cfg.vocab {
                VocabSource::Build(v) => Some(*v),
                VocabSource::Fixed(_) => None,
            },
            valid_fraction: cfg.valid_fraction,
            seed: cfg.seed,
            shard_sequences: cfg.shard_sequences,
        }
    }
}

/// `part.json`: one shard's partial set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartManifest {
    /// [`PART_FORMAT`].
    pub format: String,
    /// `I/N`.
    pub shard: String,
    /// Lines of the whole input, and the shard's block: lines `first_line + 1 ..= first_line +
    /// lines`.
    pub input_lines: u64,
    pub first_line: u64,
    pub lines: u64,
    pub config: PartConfig,
    /// The table of the provisional ids in [`PART_SEQUENCES_FILE`] (vocabulary built from the
    /// corpus), or `None` when the ids are a given tokenizer's (`tokenizer.json` beside it).
    pub tokens: Option<Vec<String>>,
    pub tokenizer_sha256: Option<String>,
    /// Counts of the block (duplicates: within the block).
    pub records: u64,
    pub bad: u64,
    pub duplicates: u64,
    pub too_long: u64,
    /// Sequences in [`PART_SEQUENCES_FILE`] and the file's SHA-256.
    pub sequences: u64,
    pub sequences_sha256: String,
    pub created_by: String,
}

/// Writes a partial set's sequences: per kept sequence, in input order, a split byte (1 =
/// validation), the 128-bit dedupe key, the length and the ids, little-endian.
struct PartWriter {
    path: PathBuf,
    w: BufWriter<File>,
    hash: Sha256,
    sequences: u64,
    bytes: Vec<u8>,
}

impl PartWriter {
    fn create(path: &Path) -> Result<Self, DataError> {
        let f = File::create(path).map_err(|e| DataError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, f),
            hash: Sha256::new(),
            sequences: 0,
            bytes: Vec::new(),
        })
    }

    fn push(&mut self, valid: bool, key: u128, ids: &[u32]) -> Result<(), DataError> {
        self.bytes.clear();
        self.bytes.push(u8::from(valid));
        self.bytes.extend_from_slice(&key.to_le_bytes());
        self.bytes
            .extend_from_slice(&(ids.len() as u32).to_le_bytes());
        self.bytes.extend(ids.iter().flat_map(|i| i.to_le_bytes()));
        self.hash.update(&self.bytes);
        self.sequences += 1;
        self.w
            .write_all(&self.bytes)
            .map_err(|e| DataError::io(&self.path, e))
    }

    /// Flushes the file; returns the sequence count and the file's SHA-256.
    fn finish(self) -> Result<(u64, String), DataError> {
        let f = self
            .w
            .into_inner()
            .map_err(|e| DataError::io(&self.path, e.into_error()))?;
        f.sync_all().map_err(|e| DataError::io(&self.path, e))?;
        Ok((self.sequences, hex::encode(self.hash.finalize())))
    }
}

/// Where a shard's block lies in its input.
struct Block {
    input_lines: u64,
    first_line: u64,
    lines: u64,
}

/// Opens the block of shard `spec` of the one input of `cfg` as a molecule reader (`None` for
/// an empty block). A block after the first line of a file with a header line reads that line
/// first, for the column names; records keep the line numbers of the whole file.
fn open_shard_block(
    cfg: &PrepareConfig,
    spec: ShardSpec,
) -> Result<(Option<MoleculeReader>, Block), DataError> {
    let [path] = cfg.inputs.as_slice() else {
        return Err(DataError::Invalid(format!(
            "shard {spec} needs exactly one input file, got {}",
            cfg.inputs.len()
        )));
    };
    // Line-based: a record must be one line (no line break inside a quoted CSV field).
    let s = crate::sharding::open_shard(path, spec, 1)?;
    let block = Block {
        input_lines: s.total_lines,
        first_line: s.first_line,
        lines: s.lines,
    };
    if s.lines == 0 {
        return Ok((None, block));
    }
    let format = cfg
        .read
        .format
        .unwrap_or_else(|| TableFormat::from_path(Some(path)));
    let header = match format {
        TableFormat::Csv | TableFormat::Tsv => cfg.read.header.unwrap_or(true),
        TableFormat::Smi => cfg.read.header.unwrap_or(false),
    };
    let source = path.display().to_string();
    let reader = if s.first_line == 0 {
        MoleculeReader::from_reader(source, s.reader, format, &cfg.read)?
    } else if header {
        let mut first = Vec::new();
        crate::reader::open_input(Some(path))?
            .read_until(b'\n', &mut first)
            .map_err(|e| DataError::io(path, e))?;
        let r: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(first).chain(s.reader));
        MoleculeReader::from_reader(source, r, format, &cfg.read)?
            .with_line_offset(s.first_line - 1, 2)
    } else {
        MoleculeReader::from_reader(source, s.reader, format, &cfg.read)?
            .with_line_offset(s.first_line, 1)
    };
    Ok((Some(reader), block))
}

/// The end of a shard's run: `part.json` (and a given tokenizer) beside the sequences.
fn write_part(
    cfg: &PrepareConfig,
    out: &Path,
    spec: ShardSpec,
    block: &Block,
    mut m: Merge,
    t0: Instant,
    mut timings: PrepareTimings,
) -> Result<PrepareSummary, DataError> {
    let (sequences, sequences_sha256) = match m.part.take() {
        Some(w) => w.finish()?,
        None => return Err(DataError::Invalid("no partial set was written".into())),
    };
    let (tokens, tokenizer_sha256) = match &cfg.vocab {
        VocabSource::Build(_) => (Some(m.tokens_by_id), None),
        VocabSource::Fixed(tok) => {
            let json = tok.to_hf_json();
            write_file(&out.join(TOKENIZER_FILE), json.as_bytes())?;
            (None, Some(sha256_bytes(json.as_bytes())))
        }
    };
    let s = &m.summary;
    let part = PartManifest {
        format: PART_FORMAT.into(),
        shard: spec.to_string(),
        input_lines: block.input_lines,
        first_line: block.first_line,
        lines: block.lines,
        config: PartConfig::of(cfg),
        tokens,
        tokenizer_sha256,
        records: s.records,
        bad: s.bad,
        duplicates: s.duplicates,
        too_long: s.too_long,
        sequences,
        sequences_sha256,
        created_by: format!("chemlm-data {}", env!("CARGO_PKG_VERSION")),
    };
    crate::atomic::write_json(&out.join(PART_FILE), &part)?;
    timings.total = t0.elapsed().as_secs_f64();
    let mut summary = m.summary;
    summary.timings = timings;
    Ok(summary)
}

/// Reads `part.json` of the partial set `dir`.
pub fn read_part(dir: &Path) -> Result<PartManifest, DataError> {
    let path = dir.join(PART_FILE);
    let text = fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
    let part: PartManifest = serde_json::from_str(&text)
        .map_err(|e| DataError::format(&path, format!("not a partial set's {PART_FILE}: {e}")))?;
    if part.format != PART_FORMAT {
        return Err(DataError::format(
            &path,
            format!("format {:?}, expected {PART_FORMAT:?}", part.format),
        ));
    }
    Ok(part)
}

/// Checks that `parts` (directories with their `part.json`) are one complete set of shards of one
/// run, and puts them in shard order.
fn check_parts(
    mut parts: Vec<(PathBuf, PartManifest, ShardSpec)>,
) -> Result<Vec<(PathBuf, PartManifest, ShardSpec)>, DataError> {
    let Some((first_dir, first, first_spec)) = parts.first().cloned() else {
        return Err(DataError::Invalid("no partial sets to merge".into()));
    };
    let first_file = first_dir.join(PART_FILE);
    for (dir, p, spec) in &parts[1..] {
        let file = dir.join(PART_FILE);
        let differ = |what: &str| {
            DataError::format(
                &file,
                format!(
                    "{what} differs from {}'s: the parts come from different runs",
                    first_file.display()
                ),
            )
        };
        if spec.count() != first_spec.count() {
            return Err(differ("the shard count"));
        }
        if p.input_lines != first.input_lines {
            return Err(differ("the input's line count"));
        }
        if p.tokenizer_sha256 != first.tokenizer_sha256 {
            return Err(differ("the given tokenizer"));
        }
        if p.config != first.config {
            let (a, b) = (
                serde_json::to_value(&p.config).unwrap_or_default(),
                serde_json::to_value(&first.config).unwrap_or_default(),
            );
            let key = match (&a, &b) {
                (serde_json::Value::Object(a), serde_json::Value::Object(b)) => a
                    .iter()
                    .find(|(k, v)| b.get(*k) != Some(*v))
                    .map(|(k, v)| format!("the setting {k} ({v})")),
                _ => None,
            };
            return Err(differ(key.as_deref().unwrap_or("the settings")));
        }
    }
    parts.sort_by_key(|p| p.2.index());
    for w in parts.windows(2) {
        if w[0].2 == w[1].2 {
            return Err(DataError::format(
                w[1].0.join(PART_FILE),
                format!("shard {} again (also {})", w[1].2, w[0].0.display()),
            ));
        }
    }
    let missing: Vec<String> = (1..=first_spec.count())
        .filter(|i| !parts.iter().any(|p| p.2.index() == *i))
        .map(|i| format!("{i}/{}", first_spec.count()))
        .collect();
    if !missing.is_empty() {
        return Err(DataError::Invalid(format!(
            "incomplete set of partial sets: missing shard {}",
            missing.join(", ")
        )));
    }
    let mut next = 0;
    for (dir, p, _) in &parts {
        if p.first_line != next {
            return Err(DataError::format(
                dir.join(PART_FILE),
                format!(
                    "shard {} starts after line {}, the shards before it end at line {next}",
                    p.shard, p.first_line
                ),
            ));
        }
        next += p.lines;
    }
    if next != first.input_lines {
        return Err(DataError::Invalid(format!(
            "the partial sets cover {next} of the input's {} lines",
            first.input_lines
        )));
    }
    Ok(parts)
}

/// Merges the partial sets of a sharded `prepare` (`chemlm data prepare --shard I/N`, one
/// directory per shard, in any order) into `out_dir`: the data set one run over the whole input
/// writes, byte for byte (token shards, `tokenizer.json`, `manifest.json`). The sequences are
/// replayed in input order through the run's own merge step, so deduplication keeps the first
/// occurrence in the whole input, the vocabulary is built from the whole corpus' counts and the
/// validation split (a hash of each molecule) is what one run gives.
///
/// The parts must be one complete set of one run (same input line count, settings and given
/// tokenizer; shards `1..=N` each once); anything else is refused, naming the file.
pub fn merge_parts(
    parts: &[PathBuf],
    out_dir: &Path,
    threads: Option<usize>,
) -> Result<PrepareSummary, DataError> {
    let t0 = Instant::now();
    let mut read = Vec::with_capacity(parts.len());
    for dir in parts {
        let p = read_part(dir)?;
        let spec: ShardSpec = p.shard.parse().map_err(|e| {
            DataError::format(dir.join(PART_FILE), format!("shard {:?}: {e}", p.shard))
        })?;
        read.push((dir.clone(), p, spec));
    }
    let parts = check_parts(read)?;
    let (first_dir, first, _) = &parts[0];
    let c = &first.config;
    let vocab = match &c.vocab {
        Some(v) => VocabSource::Build(*v),
        None => VocabSource::Fixed(Tokenizer::load(&first_dir.join(TOKENIZER_FILE))?),
    };
    if let (VocabSource::Fixed(tok), Some(sha)) = (&vocab, &first.tokenizer_sha256) {
        if sha256_bytes(tok.to_hf_json().as_bytes()) != *sha {
            return Err(DataError::format(
                first_dir.join(TOKENIZER_FILE),
                "does not match the tokenizer the partial set was made with",
            ));
        }
    }
    let cfg = PrepareConfig {
        inputs: c.inputs.clone(),
        read: ReadOptions {
            format: c.format,
            column: c.column.clone(),
            header: c.header,
        },
        kind: c.kind,
        input_is_selfies: c.input_is_selfies,
        canonicalize: c.canonicalize,
        dedupe: c.dedupe,
        max_len: c.max_len,
        vocab,
        valid_fraction: c.valid_fraction,
        seed: c.seed,
        threads,
        shard_sequences: c.shard_sequences,
        out_dir: out_dir.to_path_buf(),
        shard: None,
        ..PrepareConfig::new(Vec::new(), PathBuf::new())
    };
    check_out_dir(out_dir)?;
    let staged = chemlm_fs::AtomicDir::create(out_dir)?;
    let out = staged.path();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .map_err(|e| DataError::Invalid(format!("thread pool: {e}")))?;
    let building = matches!(cfg.vocab, VocabSource::Build(_));
    let (sink_for, special) = sink_plan(&cfg.vocab);
    let mut m = Merge::new(
        split_sink(out, "train", sink_for, &cfg),
        split_sink(out, "valid", sink_for, &cfg),
        special.map_or(4, |s| s.unk),
    );
    let vocab_size = match &cfg.vocab {
        VocabSource::Fixed(t) => t.vocab_size(),
        VocabSource::Build(_) => usize::MAX,
    };
    let mut timings = PrepareTimings::default();
    let t = Instant::now();
    let (mut duplicates, mut too_long) = (0, 0);
    for (dir, p, _) in &parts {
        m.summary.records += p.records;
        m.summary.bad += p.bad;
        duplicates += p.duplicates;
        too_long += p.too_long;
        // The part's provisional ids → this merge's (the table grows as one run's does).
        let remap: Option<Vec<u32>> = p
            .tokens
            .as_ref()
            .map(|t| t.iter().map(|t| m.intern(t)).collect());
        let path = dir.join(PART_SEQUENCES_FILE);
        let corrupt = |what: &str| DataError::format(&path, what.to_string());
        let f = File::open(&path).map_err(|e| DataError::io(&path, e))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        let mut hash = Sha256::new();
        let mut left = p.sequences;
        let mut head = [0u8; 21];
        let mut raw = Vec::new();
        while left > 0 {
            let mut piece = Piece::default();
            while left > 0 && piece.lens.len() < 1 << 16 {
                r.read_exact(&mut head)
                    .map_err(|_| corrupt("shorter than part.json says"))?;
                hash.update(head);
                let len = u32::from_le_bytes([head[17], head[18], head[19], head[20]]) as usize;
                raw.resize(4 * len, 0);
                r.read_exact(&mut raw)
                    .map_err(|_| corrupt("shorter than part.json says"))?;
                hash.update(&raw);
                for c in raw.chunks_exact(4) {
                    let id = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    let id = match &remap {
                        Some(map) => *map
                            .get(id as usize)
                            .ok_or_else(|| corrupt("an id outside the part's token table"))?,
                        None if (id as usize) < vocab_size => id,
                        None => return Err(corrupt("an id outside the tokenizer")),
                    };
                    piece.ids.push(id);
                }
                piece.lens.push(len as u32);
                let mut key = [0u8; 16];
                key.copy_from_slice(&head[1..17]);
                piece.keys.push(u128::from_le_bytes(key));
                piece.valid.push(head[0] == 1);
                left -= 1;
            }
            if building {
                piece.counts = vec![0; m.tokens_by_id.len()];
                for &id in &piece.ids {
                    piece.counts[id as usize] += 1;
                }
            }
            m.piece(piece, cfg.dedupe, building)?;
        }
        let mut rest = [0u8; 1];
        if r.read(&mut rest).map_err(|e| DataError::io(&path, e))? != 0 {
            return Err(corrupt("longer than part.json says"));
        }
        if hex::encode(hash.finalize()) != p.sequences_sha256 {
            return Err(corrupt("its SHA-256 differs from part.json's"));
        }
    }
    m.summary.duplicates += duplicates;
    m.summary.too_long += too_long;
    timings.merge = t.elapsed().as_secs_f64();
    let summary = finish_set(&cfg, out, &pool, m, t0, timings)?;
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
