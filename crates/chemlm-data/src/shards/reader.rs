//! Reading token shards through memory maps: opening a split costs one pass over its offsets
//! (to validate them), and a sequence read is a copy out of the page cache.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::format::{ShardFiles, ShardManifest, TokenDtype, MANIFEST_FILE, SHARD_FORMAT};
use crate::download::sha256_file;
use crate::error::DataError;
use crate::tokenizer::Tokenizer;

/// A shard directory: its manifest and access to its splits and tokenizer.
#[derive(Clone, Debug)]
pub struct ShardSet {
    dir: PathBuf,
    manifest: ShardManifest,
}

impl ShardSet {
    /// Reads `dir/manifest.json`.
    pub fn open(dir: &Path) -> Result<Self, DataError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
        let manifest: ShardManifest = serde_json::from_str(&text)
            .map_err(|e| DataError::format(&path, format!("invalid manifest: {e}")))?;
        if manifest.format != SHARD_FORMAT {
            return Err(DataError::format(
                &path,
                format!("format {:?}, expected {SHARD_FORMAT:?}", manifest.format),
            ));
        }
        if manifest.byte_order != "little" {
            return Err(DataError::format(
                &path,
                "only little-endian shards are supported",
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &ShardManifest {
        &self.manifest
    }

    /// The tokenizer the shards were written with (its SHA-256 is checked).
    pub fn tokenizer(&self) -> Result<Tokenizer, DataError> {
        let p = self.dir.join(&self.manifest.tokenizer);
        let actual = sha256_file(&p)?;
        if actual != self.manifest.tokenizer_sha256 {
            return Err(DataError::Checksum {
                what: p.display().to_string(),
                expected: self.manifest.tokenizer_sha256.clone(),
                actual,
            });
        }
        Tokenizer::load(&p)
    }

    /// Memory-maps a split (`train`, `valid`).
    pub fn split(&self, name: &str) -> Result<TokenDataset, DataError> {
        let files = self.manifest.splits.get(name).ok_or_else(|| {
            DataError::format(
                self.dir.join(MANIFEST_FILE),
                format!(
                    "no split {name:?}; splits are: {}",
                    self.manifest
                        .splits
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        TokenDataset::open(&self.dir, files, self.manifest.dtype)
    }

    /// Checks the SHA-256 of every shard file (reads everything; for audits, not every start).
    pub fn verify(&self) -> Result<(), DataError> {
        for files in self.manifest.splits.values() {
            for f in files {
                for (name, expected) in [
                    (&f.tokens, &f.tokens_sha256),
                    (&f.offsets, &f.offsets_sha256),
                ] {
                    let p = self.dir.join(name);
                    let actual = sha256_file(&p)?;
                    if &actual != expected {
                        return Err(DataError::Checksum {
                            what: p.display().to_string(),
                            expected: expected.clone(),
                            actual,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// A read-only memory map that also covers empty files (which cannot be mapped).
#[derive(Debug)]
struct Mapped(Option<Mmap>);

impl Mapped {
    fn open(path: &Path) -> Result<Self, DataError> {
        let f = File::open(path).map_err(|e| DataError::io(path, e))?;
        let len = f.metadata().map_err(|e| DataError::io(path, e))?.len();
        if len == 0 {
            return Ok(Self(None));
        }
        // SAFETY: the map is read-only and we own no writer. Shard files are written once under
        // a temporary name and renamed into place, never modified afterwards; truncating one
        // while it is mapped is outside the contract (as for any memory-mapped data format).
        let m = unsafe { Mmap::map(&f) }.map_err(|e| DataError::io(path, e))?;
        Ok(Self(Some(m)))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_deref().unwrap_or(&[])
    }
}

#[derive(Debug)]
struct Shard {
    tokens: Mapped,
    offsets: Mapped,
    n: usize,
}

impl Shard {
    #[inline]
    fn offset(&self, i: usize) -> usize {
        let b = &self.offsets.bytes()[8 * i..8 * i + 8];
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        u64::from_le_bytes(a) as usize
    }
}

/// One split of a shard directory as a random-access list of token sequences.
#[derive(Debug)]
pub struct TokenDataset {
    shards: Vec<Shard>,
    /// `starts[k]` = index of shard k's first sequence; one extra entry = total.
    starts: Vec<usize>,
    dtype: TokenDtype,
    total_tokens: u64,
}

impl TokenDataset {
    /// Maps the given shard files of `dir`, validating sizes and offsets.
    pub fn open(dir: &Path, files: &[ShardFiles], dtype: TokenDtype) -> Result<Self, DataError> {
        let mut shards = Vec::with_capacity(files.len());
        let mut starts = vec![0usize];
        let mut total_tokens = 0u64;
        for f in files {
            let tp = dir.join(&f.tokens);
            let op = dir.join(&f.offsets);
            let tokens = Mapped::open(&tp)?;
            let offsets = Mapped::open(&op)?;
            let n = f.sequences as usize;
            if offsets.bytes().len() != 8 * (n + 1) {
                return Err(DataError::format(
                    &op,
                    format!(
                        "{} bytes, expected {} for {n} sequences",
                        offsets.bytes().len(),
                        8 * (n + 1)
                    ),
                ));
            }
            if tokens.bytes().len() as u64 != f.tokens_count * dtype.size() as u64 {
                return Err(DataError::format(
                    &tp,
                    format!(
                        "{} bytes, expected {} ({} tokens of {:?})",
                        tokens.bytes().len(),
                        f.tokens_count * dtype.size() as u64,
                        f.tokens_count,
                        dtype
                    ),
                ));
            }
            let shard = Shard { tokens, offsets, n };
            let mut prev = shard.offset(0);
            if prev != 0 {
                return Err(DataError::format(&op, "first offset is not 0"));
            }
            for i in 1..=n {
                let o = shard.offset(i);
                if o < prev {
                    return Err(DataError::format(&op, format!("offset {i} decreases")));
                }
                prev = o;
            }
            if prev as u64 != f.tokens_count {
                return Err(DataError::format(
                    &op,
                    "last offset does not match the token count",
                ));
            }
            total_tokens += f.tokens_count;
            starts.push(starts[starts.len() - 1] + n);
            shards.push(shard);
        }
        Ok(Self {
            shards,
            starts,
            dtype,
            total_tokens,
        })
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.starts[self.starts.len() - 1]
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total number of token ids.
    pub fn total_tokens(&self) -> u64 {
        self.total_tokens
    }

    /// Stored id width.
    pub fn dtype(&self) -> TokenDtype {
        self.dtype
    }

    #[inline]
    fn locate(&self, i: usize) -> (&Shard, usize) {
        assert!(
            i < self.len(),
            "sequence {i} out of range 0..{}",
            self.len()
        );
        let k = if self.shards.len() == 1 {
            0
        } else {
            self.starts.partition_point(|&s| s <= i) - 1
        };
        (&self.shards[k], i - self.starts[k])
    }

    /// Length (in tokens) of sequence `i`. Panics if `i >= len()`.
    #[inline]
    pub fn seq_len(&self, i: usize) -> usize {
        let (s, j) = self.locate(i);
        s.offset(j + 1) - s.offset(j)
    }

    /// All sequence lengths.
    pub fn lengths(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len());
        for s in &self.shards {
            let mut prev = 0;
            for j in 1..=s.n {
                let o = s.offset(j);
                out.push((o - prev) as u32);
                prev = o;
            }
        }
        out
    }

    /// Appends sequence `i`'s ids to `out`. Panics if `i >= len()`.
    #[inline]
    pub fn extend_with(&self, i: usize, out: &mut Vec<u32>) {
        let (s, j) = self.locate(i);
        let (a, b) = (s.offset(j), s.offset(j + 1));
        let bytes = s.tokens.bytes();
        match self.dtype {
            TokenDtype::U16 => out.extend(
                bytes[2 * a..2 * b]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32),
            ),
            TokenDtype::U32 => out.extend(
                bytes[4 * a..4 * b]
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
        }
    }

    /// Sequence `i`'s ids. Panics if `i >= len()`.
    pub fn get(&self, i: usize) -> Vec<u32> {
        let mut v = Vec::with_capacity(self.seq_len(i));
        self.extend_with(i, &mut v);
        v
    }
}
