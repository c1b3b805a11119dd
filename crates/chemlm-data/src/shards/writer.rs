//! Writing token shards: every file goes to a temporary name and is renamed into place when its
//! shard is complete; the manifest is written last.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::format::{ShardFiles, ShardManifest, TokenDtype, MANIFEST_FILE};
use crate::atomic::{write_json, AtomicFile};
use crate::error::DataError;

struct OpenShard {
    tokens: AtomicFile,
    offsets: AtomicFile,
    tokens_hash: Sha256,
    offsets_hash: Sha256,
    files: ShardFiles,
}

impl OpenShard {
    fn create(dir: &Path, split: &str, index: usize) -> Result<Self, DataError> {
        let tokens_name = format!("{split}-{index:05}.tokens");
        let offsets_name = format!("{split}-{index:05}.offsets");
        let mut me = Self {
            tokens: AtomicFile::create(&dir.join(&tokens_name))?,
            offsets: AtomicFile::create(&dir.join(&offsets_name))?,
            tokens_hash: Sha256::new(),
            offsets_hash: Sha256::new(),
            files: ShardFiles {
                tokens: tokens_name,
                offsets: offsets_name,
                sequences: 0,
                tokens_count: 0,
                min_len: 0,
                max_len: 0,
                tokens_sha256: String::new(),
                offsets_sha256: String::new(),
            },
        };
        me.write_offset(0)?;
        Ok(me)
    }

    fn write_offset(&mut self, off: u64) -> Result<(), DataError> {
        let b = off.to_le_bytes();
        self.offsets_hash.update(b);
        self.offsets.write_all(&b)
    }

    fn finish(self) -> Result<ShardFiles, DataError> {
        let mut files = self.files;
        files.tokens_sha256 = hex::encode(self.tokens_hash.finalize());
        files.offsets_sha256 = hex::encode(self.offsets_hash.finalize());
        self.tokens.commit()?;
        self.offsets.commit()?;
        Ok(files)
    }
}

/// Writes the sequences of one split into shard files.
pub struct ShardWriter {
    dir: PathBuf,
    split: String,
    dtype: TokenDtype,
    shard_sequences: u64,
    current: Option<OpenShard>,
    done: Vec<ShardFiles>,
    bytes: Vec<u8>,
}

impl ShardWriter {
    /// A writer for split `split` (e.g. `train`) in `dir`, storing ids as `dtype`.
    pub fn new(dir: &Path, split: &str, dtype: TokenDtype) -> Self {
        Self {
            dir: dir.to_path_buf(),
            split: split.to_string(),
            dtype,
            shard_sequences: u64::MAX,
            current: None,
            done: Vec::new(),
            bytes: Vec::with_capacity(1 << 16),
        }
    }

    /// Starts a new shard pair every `sequences` sequences (default: one pair per split).
    pub fn with_shard_size(mut self, sequences: u64) -> Self {
        self.shard_sequences = sequences.max(1);
        self
    }

    /// Sequences written so far.
    pub fn sequences(&self) -> u64 {
        self.done.iter().map(|f| f.sequences).sum::<u64>()
            + self.current.as_ref().map_or(0, |c| c.files.sequences)
    }

    /// Appends one sequence. Fails if an id does not fit the dtype.
    pub fn push(&mut self, ids: &[u32]) -> Result<(), DataError> {
        let len = u32::try_from(ids.len())
            .map_err(|_| DataError::Invalid("sequence longer than 2^32 tokens".into()))?;
        self.push_many(ids, &[len])
    }

    /// Appends many sequences at once: `flat` holds them back to back, `lens` their lengths.
    /// Much cheaper per sequence than [`ShardWriter::push`] (one conversion, hash update and
    /// write per call).
    pub fn push_many(&mut self, flat: &[u32], lens: &[u32]) -> Result<(), DataError> {
        let total: usize = lens.iter().map(|&l| l as usize).sum();
        if total != flat.len() {
            return Err(DataError::Invalid(format!(
                "push_many: lengths add up to {total}, {} ids given",
                flat.len()
            )));
        }
        let max = self.dtype.max_id();
        if self.dtype != TokenDtype::U32 {
            if let Some(&bad) = flat.iter().find(|&&id| id > max) {
                return Err(DataError::Invalid(format!(
                    "token id {bad} does not fit the shard dtype {:?}",
                    self.dtype
                )));
            }
        }
        let (mut seq, mut tok) = (0usize, 0usize);
        while seq < lens.len() {
            if self
                .current
                .as_ref()
                .is_some_and(|c| c.files.sequences >= self.shard_sequences)
            {
                if let Some(c) = self.current.take() {
                    self.done.push(c.finish()?);
                }
            }
            if self.current.is_none() {
                self.current = Some(OpenShard::create(&self.dir, &self.split, self.done.len())?);
            }
            let Some(cur) = self.current.as_mut() else {
                return Err(DataError::Invalid("no open shard".into()));
            };
            let room = (self.shard_sequences - cur.files.sequences).min((lens.len() - seq) as u64)
                as usize;
            let part = &lens[seq..seq + room];
            let ntok: usize = part.iter().map(|&l| l as usize).sum();
            let ids = &flat[tok..tok + ntok];
            self.bytes.clear();
            self.bytes.reserve(ids.len() * self.dtype.size());
            match self.dtype {
                TokenDtype::U16 => self
                    .bytes
                    .extend(ids.iter().flat_map(|&id| (id as u16).to_le_bytes())),
                TokenDtype::U32 => self
                    .bytes
                    .extend(ids.iter().flat_map(|&id| id.to_le_bytes())),
            }
            cur.tokens_hash.update(&self.bytes);
            cur.tokens.write_all(&self.bytes)?;
            self.bytes.clear();
            let f = &mut cur.files;
            for &l in part {
                if f.sequences == 0 {
                    f.min_len = l;
                    f.max_len = l;
                } else {
                    f.min_len = f.min_len.min(l);
                    f.max_len = f.max_len.max(l);
                }
                f.sequences += 1;
                f.tokens_count += l as u64;
                self.bytes.extend_from_slice(&f.tokens_count.to_le_bytes());
            }
            cur.offsets_hash.update(&self.bytes);
            cur.offsets.write_all(&self.bytes)?;
            seq += room;
            tok += ntok;
        }
        Ok(())
    }

    /// Closes the last shard and returns the description of every shard of the split. A split
    /// with no sequences still gets one (empty) shard pair, so readers find its files.
    pub fn finish(mut self) -> Result<Vec<ShardFiles>, DataError> {
        if self.current.is_none() && self.done.is_empty() {
            self.current = Some(OpenShard::create(&self.dir, &self.split, 0)?);
        }
        if let Some(c) = self.current.take() {
            self.done.push(c.finish()?);
        }
        Ok(self.done)
    }
}

/// Writes `manifest.json` atomically. Write it after every shard and the tokenizer are in place.
pub fn write_manifest(dir: &Path, manifest: &ShardManifest) -> Result<(), DataError> {
    write_json(&dir.join(MANIFEST_FILE), manifest)
}
