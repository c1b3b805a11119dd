//! Sharded, embarrassingly parallel runs (`--shard I/N`): the one place that says which input
//! lines (or samples) shard `I` of `N` works on, so every command splits its input the same way.
//!
//! Shards are 1-based, as GNU `split -n l/K/N` and Slurm's `--array=1-N` count them, and take
//! contiguous blocks: with `L` lines, shard `I` takes the 0-based lines
//! `[floor((I-1)·L/N), floor(I·L/N))`. Every line lies in exactly one shard, the blocks follow each
//! other in shard order, and their sizes differ by at most one; so per-line outputs concatenated
//! in shard order (`cat out.1 out.2 …`) are the output of one run over the whole input.
//!
//! Commands whose numbers depend on which molecules share a batch (a model's forward pass pads a
//! batch to its longest member, and a matrix product of another shape may round differently) cut
//! blocks on whole processing windows instead of lines ([`ShardSpec::aligned_range`]): every
//! molecule is then computed with the same neighbours as in one run, so the bytes agree too.
//!
//! Lines are counted in a first pass ([`count_lines`]) over the same normalised text the readers
//! see (gzip decompressed, a byte-order mark dropped, `\r\n` and `\r` as `\n`), so a shard's block
//! means the same lines to every reader. [`open_shard`] then hands out a reader over just the
//! block, with the number of lines before it so that messages can name the true line number in
//! the whole file.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use crate::error::DataError;
use crate::reader::open_input;

/// Shard `index` of `count` (1-based): the `--shard I/N` of the commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShardSpec {
    index: u64,
    count: u64,
}

/// Why a `--shard` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardSpecError {
    #[error("expected I/N (shard I of N, 1-based, e.g. 3/8), got {0:?}")]
    Syntax(String),
    #[error("the shard count N must be at least 1, got {0:?}")]
    ZeroCount(String),
    #[error(
        "the shard index I must lie in 1..=N (shards count from 1, as Slurm's --array=1-N), got {0:?}"
    )]
    IndexOutOfRange(String),
}

impl ShardSpec {
    /// Shard `index` of `count`; `index` is 1-based.
    pub fn new(index: u64, count: u64) -> Result<Self, ShardSpecError> {
        let text = format!("{index}/{count}");
        if count == 0 {
            return Err(ShardSpecError::ZeroCount(text));
        }
        if index == 0 || index > count {
            return Err(ShardSpecError::IndexOutOfRange(text));
        }
        Ok(Self { index, count })
    }

    /// The 1-based index `I`.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of shards `N`.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether this is the first shard (the one that holds a header line).
    pub fn is_first(&self) -> bool {
        self.index == 1
    }

    /// The 0-based items (lines, samples) `[floor((I-1)·total/N), floor(I·total/N))` of this
    /// shard. Computed in 128 bits, so no total overflows.
    pub fn range(&self, total: u64) -> Range<u64> {
        let at = |i: u64| ((i as u128 * total as u128) / self.count as u128) as u64;
        at(self.index - 1)..at(self.index)
    }

    /// The block of [`ShardSpec::range`] cut on whole units of `unit` items (processing windows,
    /// batches) rather than single items: the units `range(ceil(total / unit))`, as items, the
    /// last one cut at `total`. Every unit then lies in exactly one shard, computed as in one run.
    /// A `unit` of 0 is taken as 1.
    pub fn aligned_range(&self, total: u64, unit: u64) -> Range<u64> {
        let unit = unit.max(1);
        let units = total.div_ceil(unit);
        let r = self.range(units);
        let at = |u: u64| (u as u128 * unit as u128).min(total as u128) as u64;
        at(r.start)..at(r.end)
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for ShardSpec {
    type Err = ShardSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || ShardSpecError::Syntax(s.to_string());
        let (i, n) = s.trim().split_once('/').ok_or_else(syntax)?;
        let num = |t: &str| -> Result<u64, ShardSpecError> {
            let t = t.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            t.parse().map_err(|_| syntax())
        };
        let (i, n) = (num(i)?, num(n)?);
        if n == 0 {
            return Err(ShardSpecError::ZeroCount(s.to_string()));
        }
        if i == 0 || i > n {
            return Err(ShardSpecError::IndexOutOfRange(s.to_string()));
        }
        Ok(Self { index: i, count: n })
    }
}

/// Number of lines of `path` (plain or gzip) as the readers see them: `\n`-terminated lines plus
/// a last line without a line end. An empty file has none.
pub fn count_lines(path: &Path) -> Result<u64, DataError> {
    let mut r = open_input(Some(path))?;
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let buf = r.fill_buf().map_err(|e| DataError::io(path, e))?;
        if buf.is_empty() {
            break;
        }
        lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[buf.len() - 1];
        let n = buf.len();
        r.consume(n);
    }
    Ok(lines + u64::from(last != b'\n'))
}

/// Reads and drops `n` lines of `r`; returns how many there were (fewer at the end).
fn skip_lines(r: &mut dyn BufRead, n: u64) -> io::Result<u64> {
    let mut done = 0;
    while done < n {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let mut used = buf.len();
        for (i, &b) in buf.iter().enumerate() {
            if b == b'\n' {
                done += 1;
                if done == n {
                    used = i + 1;
                    break;
                }
            }
        }
        r.consume(used);
    }
    Ok(done)
}

/// A reader that ends after `left` lines of its inner reader. It hands out at most one line per
/// [`BufRead::fill_buf`], so the line count is kept exactly whatever the caller consumes.
pub struct TakeLines<R> {
    inner: R,
    left: u64,
    /// Length of the slice the last `fill_buf` returned, and whether it ends a line.
    offered: usize,
    offered_ends_line: bool,
}

impl<R: BufRead> TakeLines<R> {
    /// At most `lines` lines of `inner`.
    pub fn new(inner: R, lines: u64) -> Self {
        Self {
            inner,
            left: lines,
            offered: 0,
            offered_ends_line: false,
        }
    }
}

impl<R: BufRead> BufRead for TakeLines<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.left == 0 {
            self.offered = 0;
            return Ok(&[]);
        }
        let buf = self.inner.fill_buf()?;
        let (len, ends) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        self.offered = len;
        self.offered_ends_line = ends;
        Ok(&buf[..len])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.offered);
        if amt == 0 {
            return;
        }
        // The line end is the last byte offered: a line is done only when all of it is taken.
        if amt == self.offered && self.offered_ends_line {
            self.left -= 1;
        }
        self.offered -= amt;
        self.inner.consume(amt);
    }
}

impl<R: BufRead> Read for TakeLines<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// One shard's block of an input file, ready to read.
pub struct ShardInput {
    /// The block's lines and nothing else (normalised as [`open_input`] does).
    pub reader: Box<dyn BufRead + Send>,
    /// Lines of the file before the block: line `k` (1-based) of `reader` is line
    /// `first_line + k` of the file.
    pub first_line: u64,
    /// Lines in the block.
    pub lines: u64,
    /// Lines in the whole file.
    pub total_lines: u64,
}

/// Opens the block of `path` that `spec` names, cut on whole units of `unit` lines (1: single
/// lines; see [`ShardSpec::aligned_range`]). Reads the file twice: once to count its lines, then
/// up to the block. Standard input cannot be read twice, so a shard needs a file.
pub fn open_shard(path: &Path, spec: ShardSpec, unit: u64) -> Result<ShardInput, DataError> {
    let total_lines = count_lines(path)?;
    let range = spec.aligned_range(total_lines, unit);
    let mut r = open_input(Some(path))?;
    let skipped = skip_lines(&mut *r, range.start).map_err(|e| DataError::io(path, e))?;
    if skipped != range.start {
        return Err(DataError::Invalid(format!(
            "{}: the file changed while it was read ({total_lines} lines counted, {skipped} found)",
            path.display()
        )));
    }
    Ok(ShardInput {
        reader: Box::new(TakeLines::new(r, range.end - range.start)),
        first_line: range.start,
        lines: range.end - range.start,
        total_lines,
    })
}

/// Opens `path` whole, or only `spec`'s block of it (see [`open_shard`]); standard input when
/// `path` is `None` (refused with a shard). The common entry point of the line commands.
pub fn open_input_shard(
    path: Option<&Path>,
    spec: Option<ShardSpec>,
    unit: u64,
) -> Result<ShardInput, DataError> {
    match (path, spec) {
        (Some(p), Some(s)) => open_shard(p, s, unit),
        (None, Some(s)) => Err(DataError::Invalid(format!(
            "shard {s} needs an input file: its lines are counted in a first pass, and standard \
             input cannot be read twice"
        ))),
        (p, None) => Ok(ShardInput {
            reader: open_input(p)?,
            first_line: 0,
            lines: u64::MAX,
            total_lines: u64::MAX,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn parses_and_prints() {
        let s: ShardSpec = "3/8".parse().unwrap();
        assert_eq!((s.index(), s.count()), (3, 8));
        assert_eq!(s.to_string(), "3/8");
        assert_eq!(
            " 1/1 ".parse::<ShardSpec>().unwrap(),
            ShardSpec::new(1, 1).unwrap()
        );
        for bad in [
            "", "3", "3/", "/8", "a/8", "3/b", "-1/4", "+1/4", "1.5/4", "1/4/2", "3 8",
        ] {
            assert!(
                matches!(bad.parse::<ShardSpec>(), Err(ShardSpecError::Syntax(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            "0/0".parse::<ShardSpec>(),
            Err(ShardSpecError::ZeroCount("0/0".into()))
        );
        assert_eq!(
            "1/0".parse::<ShardSpec>(),
            Err(ShardSpecError::ZeroCount("1/0".into()))
        );
        for bad in ["0/4", "5/4"] {
            assert_eq!(
                bad.parse::<ShardSpec>(),
                Err(ShardSpecError::IndexOutOfRange(bad.into()))
            );
        }
        assert!(ShardSpec::new(0, 3).is_err() && ShardSpec::new(4, 3).is_err());
        assert!(ShardSpec::new(1, 0).is_err());
        let e = "0/4".parse::<ShardSpec>().unwrap_err().to_string();
        assert!(e.contains("1..=N") && e.contains("0/4"), "{e}");
    }

    /// Every item lies in exactly one shard, blocks follow each other in shard order and differ
    /// in size by at most one (or one unit).
    #[test]
    fn ranges_partition_every_total() {
        for n in 1..=13u64 {
            for total in (0..=60u64).chain([1000, 1001, 65_537]) {
                let ranges: Vec<Range<u64>> = (1..=n)
                    .map(|i| ShardSpec::new(i, n).unwrap().range(total))
                    .collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[n as usize - 1].end, total);
                for w in ranges.windows(2) {
                    assert_eq!(w[0].end, w[1].start, "n={n} total={total}");
                }
                let sizes: Vec<u64> = ranges.iter().map(|r| r.end - r.start).collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "n={n} total={total} {sizes:?}");
                let mut owner = vec![0u32; total.min(2000) as usize];
                for r in &ranges {
                    for i in r.start..r.end.min(owner.len() as u64) {
                        owner[i as usize] += 1;
                    }
                }
                assert!(owner.iter().all(|&c| c == 1), "n={n} total={total}");
                for unit in [1, 2, 3, 7, 64] {
                    let al: Vec<Range<u64>> = (1..=n)
                        .map(|i| ShardSpec::new(i, n).unwrap().aligned_range(total, unit))
                        .collect();
                    assert_eq!(al[0].start, 0);
                    assert_eq!(al[n as usize - 1].end, total);
                    for (k, r) in al.iter().enumerate() {
                        assert!(r.start <= r.end);
                        assert!(r.start % unit == 0 || r.start == total, "{r:?}");
                        assert!(r.end % unit == 0 || r.end == total, "{r:?}");
                        if k > 0 {
                            assert_eq!(al[k - 1].end, r.start);
                        }
                    }
                }
            }
        }
        // No overflow near the top of u64.
        let r = ShardSpec::new(2, 3).unwrap().range(u64::MAX);
        assert_eq!(r, (u64::MAX / 3)..(((u64::MAX as u128 * 2) / 3) as u64));
        assert_eq!(ShardSpec::new(1, 1).unwrap().range(7), 0..7);
        // More shards than lines: the extra shards are empty.
        let sizes: Vec<u64> = (1..=5)
            .map(|i| {
                let r = ShardSpec::new(i, 5).unwrap().range(2);
                r.end - r.start
            })
            .collect();
        assert_eq!(sizes, [0, 0, 1, 0, 1]);
    }

    #[test]
    fn counts_lines_as_the_readers_see_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.smi");
        for (bytes, n) in [
            (&b""[..], 0),
            (b"\n", 1),
            (b"A", 1),
            (b"A\nB", 2),
            (b"A\nB\n", 2),
            (b"A\r\nB\rC", 3),
            (b"\xEF\xBB\xBFA\n\n", 2),
        ] {
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(count_lines(&p).unwrap(), n, "{bytes:?}");
        }
        let gz = dir.path().join("x.smi.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"A\nB\nC\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(count_lines(&gz).unwrap(), 3);
    }

    /// The blocks of a file, read through `open_shard`, are its lines in order, each once, with
    /// the right first line number; also for a gzip file and a last line without a line end.
    #[test]
    fn shards_read_back_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        for (name, gzip) in [("a.smi", false), ("a.smi.gz", true)] {
            let p = dir.path().join(name);
            let text: String = (0..23).map(|i| format!("L{i}\n")).collect::<String>() + "last";
            let bytes = if gzip {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(text.as_bytes()).unwrap();
                enc.finish().unwrap()
            } else {
                text.clone().into_bytes()
            };
            std::fs::write(&p, bytes).unwrap();
            for n in [1, 2, 4, 7, 30] {
                for unit in [1, 5] {
                    let mut all = String::new();
                    let mut next = 0;
                    for i in 1..=n {
                        let mut s = open_shard(&p, ShardSpec::new(i, n).unwrap(), unit).unwrap();
                        assert_eq!(s.total_lines, 24);
                        assert_eq!(s.first_line, next);
                        let mut got = String::new();
                        s.reader.read_to_string(&mut got).unwrap();
                        assert_eq!(got.lines().count() as u64, s.lines);
                        if let Some(first) = got.lines().next() {
                            let want = if s.first_line == 23 {
                                "last".to_string()
                            } else {
                                format!("L{}", s.first_line)
                            };
                            assert_eq!(first, want);
                        }
                        next += s.lines;
                        all.push_str(&got);
                    }
                    assert_eq!(all, text, "n={n} unit={unit}");
                }
            }
        }
        let e = open_input_shard(None, Some(ShardSpec::new(1, 2).unwrap()), 1)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("needs an input file"), "{e}");
    }

    #[test]
    fn take_lines_stops_after_n_lines_whatever_is_consumed() {
        let data = b"ab\ncd\nef\ngh\n".to_vec();
        let mut t = TakeLines::new(io::Cursor::new(data.clone()), 2);
        let mut out = Vec::new();
        // Byte-at-a-time reads keep the count too.
        let mut b = [0u8; 1];
        while t.read(&mut b).unwrap() == 1 {
            out.push(b[0]);
        }
        assert_eq!(out, b"ab\ncd\n");
        let mut t = TakeLines::new(io::Cursor::new(data), 3);
        let mut lines = Vec::new();
        let mut buf = Vec::new();
        while t.read_until(b'\n', &mut buf).unwrap() > 0 {
            lines.push(String::from_utf8(std::mem::take(&mut buf)).unwrap());
        }
        assert_eq!(lines, ["ab\n", "cd\n", "ef\n"]);
    }
}
