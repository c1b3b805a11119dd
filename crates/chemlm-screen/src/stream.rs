//! Streaming screen of a molecule library.
//!
//! The library is read in chunks of lines; each chunk is scored in parallel (rayon, in batches so
//! model scorers can batch their forward passes) and the results are folded into a [`TopK`] heap on
//! the calling thread. Memory is one chunk plus `k` hits, whatever the library size. Library format:
//! one molecule per line, whitespace-separated, first field the SMILES, optional second field an id
//! (`.smi`/`.ism`); a single-column CSV with a `SMILES` header (MOSES) works too.

use std::io::BufRead;
use std::path::Path;

use rayon::prelude::*;

use crate::error::ScreenError;
use crate::scorer::{Score, Scorer};
use crate::topk::TopK;

/// First-line field values recognised as a column header and skipped without complaint.
pub const HEADER_WORDS: &[&str] = &["smiles", "smi", "canonical_smiles", "mol", "molecule"];

/// A library line that could not be scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    pub reason: String,
}

/// One molecule of a small list (actives file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub line: u64,
    pub smiles: String,
    pub id: Option<String>,
}

/// A kept hit, best first in [`ScreenSummary::hits`].
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// 1-based rank.
    pub rank: usize,
    pub score: f64,
    pub smiles: String,
    pub id: Option<String>,
    /// 1-based line number in the library.
    pub line: u64,
    /// Index of the nearest query molecule, when the scorer reports one.
    pub nearest: Option<usize>,
}

/// Settings of a screen.
#[derive(Debug, Clone)]
pub struct ScreenOptions {
    /// How many hits to keep.
    pub top: usize,
    /// Lines read per chunk (bounds memory; large enough to keep all threads busy).
    pub chunk_size: usize,
    /// Molecules per [`Scorer::score_batch`] call.
    pub batch_size: usize,
    /// Skip line 1 unconditionally. Without it, a line 1 that fails to parse and whose first field
    /// is a known header word ([`HEADER_WORDS`]) is skipped anyway.
    pub skip_header: bool,
    /// Lines of the library before the reader's first line (a shard's block starts there, see
    /// [`chemlm_data::open_shard`]): line numbers, the header rule and the chunk boundaries are
    /// those of the whole library.
    pub first_line: u64,
}

impl Default for ScreenOptions {
    fn default() -> Self {
        Self {
            top: 1000,
            chunk_size: 16_384,
            batch_size: 256,
            skip_header: false,
            first_line: 0,
        }
    }
}

/// Counts and hits of a finished screen.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenSummary {
    /// Lines read (including a skipped header).
    pub lines: u64,
    /// Molecules scored.
    pub scored: u64,
    /// Lines reported as invalid.
    pub invalid: u64,
    pub header_skipped: bool,
    /// Best first.
    pub hits: Vec<Hit>,
}

/// Splits a line into `(smiles, id)`; `None` when it has no fields.
fn fields(line: &str) -> Option<(&str, Option<&str>)> {
    let mut it = line.split_whitespace();
    let smiles = it.next()?;
    Some((smiles, it.next()))
}

/// Screens `reader` (named `source` in errors) with `scorer`, keeping the `opts.top` best.
///
/// `on_bad` is called for each invalid line as it is found (in line order); `on_progress` after each
/// chunk with the number of lines in it.
///
/// Chunks sit at fixed places of the library (chunk `k` holds lines `[k·chunk_size,
/// (k+1)·chunk_size)`), so a model scorer batches the same molecules together whether the
/// library is screened whole or as shards cut on chunks ([`shard_unit`]).
pub fn screen<R: BufRead>(
    mut reader: R,
    source: &str,
    scorer: &dyn Scorer,
    opts: &ScreenOptions,
    mut on_bad: impl FnMut(&BadLine),
    mut on_progress: impl FnMut(u64),
) -> Result<ScreenSummary, ScreenError> {
    let chunk_size = opts.chunk_size.max(1);
    let batch_size = opts.batch_size.max(1);
    let mut top: TopK<(String, Option<String>, Option<usize>)> = TopK::new(opts.top);
    let mut summary = ScreenSummary {
        lines: 0,
        scored: 0,
        invalid: 0,
        header_skipped: false,
        hits: Vec::new(),
    };
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); chunk_size];
    loop {
        let done = opts.first_line + summary.lines;
        let first_line = done + 1;
        let want = chunk_size - (done % chunk_size as u64) as usize;
        let mut n = 0;
        while n < want {
            bufs[n].clear();
            let got = reader
                .read_until(b'\n', &mut bufs[n])
                .map_err(|source_err| ScreenError::Read {
                    source_name: source.to_string(),
                    line: done + n as u64,
                    source: source_err,
                })?;
            if got == 0 {
                break;
            }
            n += 1;
        }
        if n == 0 {
            break;
        }
        summary.lines += n as u64;
        // Per line: Ok((smiles, id)) to score, or the reason it is bad before scoring.
        let parsed: Vec<Result<(&str, Option<&str>), String>> = bufs[..n]
            .iter()
            .map(|b| match std::str::from_utf8(b) {
                Ok(text) => fields(text).ok_or_else(|| "empty line".to_string()),
                Err(e) => Err(format!("not UTF-8: {e}")),
            })
            .collect();
        let to_score: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|(s, _)| *s))
            .collect();
        let scores: Vec<Result<Score, String>> = to_score
            .par_chunks(batch_size)
            .map(|batch| scorer.score_batch(batch))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        let mut scores = scores.into_iter();
        for (i, p) in parsed.iter().enumerate() {
            let line = first_line + i as u64;
            let result = match p {
                Ok((smiles, id)) => match scores.next() {
                    Some(r) => r.map(|s| (s, *smiles, *id)),
                    None => Err("scorer returned too few scores".to_string()),
                },
                Err(reason) => Err(reason.clone()),
            };
            if line == 1 && opts.skip_header {
                summary.header_skipped = true;
                continue;
            }
            match result {
                Ok((score, smiles, id)) => {
                    summary.scored += 1;
                    if top.would_accept(score.value, line) {
                        top.push(
                            score.value,
                            line,
                            (smiles.to_string(), id.map(str::to_string), score.nearest),
                        );
                    }
                }
                Err(reason) => {
                    let is_header = line == 1
                        && matches!(p, Ok((s, _)) if HEADER_WORDS.contains(&s.to_ascii_lowercase().as_str()));
                    if is_header {
                        summary.header_skipped = true;
                        continue;
                    }
                    summary.invalid += 1;
                    on_bad(&BadLine { line, reason });
                }
            }
        }
        on_progress(n as u64);
    }
    summary.hits = top
        .into_sorted_vec()
        .into_iter()
        .enumerate()
        .map(|(i, (score, line, (smiles, id, nearest)))| Hit {
            rank: i + 1,
            score,
            smiles,
            id,
            line,
            nearest,
        })
        .collect();
    Ok(summary)
}

/// Lines per unit of a sharded screen with `scorer` (see [`chemlm_data::ShardSpec::aligned_range`]):
/// single lines when a molecule's score does not depend on its batch
/// ([`Scorer::batch_invariant`]), else whole chunks, which hold the same molecules as in one run.
pub fn shard_unit(scorer: &dyn Scorer, opts: &ScreenOptions) -> u64 {
    if scorer.batch_invariant() {
        1
    } else {
        opts.chunk_size.max(1) as u64
    }
}

/// Reads a small molecule list (e.g. the actives): `smiles [id]` per line, blank lines and lines
/// starting with `#` skipped. Returns the entries; the molecules are not parsed here.
pub fn read_molecule_list(path: &Path) -> Result<Vec<ListEntry>, ScreenError> {
    let reader = chemlm_data::open_input(Some(path))?;
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| ScreenError::Read {
            source_name: path.display().to_string(),
            line: i as u64,
            source,
        })?;
        if line.trim_start().starts_with('#') {
            continue;
        }
        if let Some((smiles, id)) = fields(&line) {
            out.push(ListEntry {
                line: i as u64 + 1,
                smiles: smiles.to_string(),
                id: id.map(str::to_string),
            });
        }
    }
    Ok(out)
}
