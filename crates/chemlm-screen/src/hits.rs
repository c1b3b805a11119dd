//! The hits CSV: `rank,score,smiles,id,line,nearest_active`, written to a temporary file next to the
//! target and renamed into place, so an interrupted run never leaves a truncated result.

use std::io::Write;
use std::path::Path;

use crate::error::ScreenError;
use crate::stream::Hit;

/// Column names of the hits CSV, in order.
pub const HEADER: [&str; 6] = ["rank", "score", "smiles", "id", "line", "nearest_active"];

/// Writes `path` atomically through [`chemlm_fs`] (temporary sibling + rename; a stale
/// temporary of a killed run is swept first).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ScreenError> {
    chemlm_fs::write_with(path, write).map_err(|e| ScreenError::Io {
        path: e.path,
        source: e.source,
    })
}

/// The [`HEADER`] columns of one hit; `nearest` is named from `query_names` (empty without one).
fn row(h: &Hit, query_names: &[String]) -> Vec<String> {
    let nearest = h.nearest.and_then(|i| query_names.get(i)).cloned();
    vec![
        h.rank.to_string(),
        format!("{:.6}", h.score),
        h.smiles.clone(),
        h.id.clone().unwrap_or_default(),
        h.line.to_string(),
        nearest.unwrap_or_default(),
    ]
}

/// Writes the hits; `nearest_active` is the nearest query's name from `query_names` (its id, or
/// its SMILES when it has none), empty when the scorer gave none.
pub fn write_hits_csv(
    path: &Path,
    hits: &[Hit],
    query_names: &[String],
) -> Result<(), ScreenError> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(HEADER)?;
        for h in hits {
            csv.write_record(row(h, query_names))?;
        }
        csv.flush()
    })
}

/// Marks the first line of a shard's hits file (`chemlm screen --shard I/N`), followed by its
/// [`ShardInfo`] as JSON.
pub const SHARD_MAGIC: &str = "#chemlm-screen-shard ";

/// Format tag in [`ShardInfo::format`].
pub const SHARD_FORMAT: &str = "chemlm-screen-shard/1";

/// Columns of a shard's hits: those of [`HEADER`], then what an exact merge needs that the
/// rounded `score` and the query's name do not carry: the score's IEEE-754 bits (hexadecimal) and
/// the nearest query's index (empty when none).
pub const SHARD_HEADER: [&str; 8] = [
    "rank",
    "score",
    "smiles",
    "id",
    "line",
    "nearest_active",
    "score_bits",
    "nearest_index",
];

/// What a shard's hits file says about the screen it comes from, so that `chemlm screen merge`
/// can refuse shards of different screens or an incomplete set.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    /// [`SHARD_FORMAT`].
    pub format: String,
    /// `I/N`.
    pub shard: String,
    /// The library as named on the command line (for messages; not compared).
    pub library: String,
    /// Lines of the whole library.
    pub library_lines: u64,
    /// The shard's block: lines `first_line + 1 ..= first_line + lines`.
    pub first_line: u64,
    pub lines: u64,
    /// Hits kept (`--top`).
    pub top: usize,
    /// Everything that decides the scores (scorer, model, options), as `name → value`.
    pub settings: std::collections::BTreeMap<String, String>,
    /// The query molecules' names, in order (`nearest_index` points here).
    pub queries: Vec<String>,
    /// Counts of the shard.
    pub scored: u64,
    pub invalid: u64,
}

/// Writes a shard's hits (see [`SHARD_HEADER`]) atomically: the [`ShardInfo`] line, the CSV.
pub fn write_shard_hits_csv(
    path: &Path,
    info: &ShardInfo,
    hits: &[Hit],
) -> Result<(), ScreenError> {
    let json = serde_json::to_string(info).map_err(|e| ScreenError::Invalid(e.to_string()))?;
    write_atomic(path, |w| {
        writeln!(w, "{SHARD_MAGIC}{json}")?;
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(SHARD_HEADER)?;
        for h in hits {
            // The one-run columns, then the exact score and the nearest query's index.
            let mut fields = row(h, &info.queries);
            fields.push(format!("{:016x}", h.score.to_bits()));
            fields.push(h.nearest.map(|i| i.to_string()).unwrap_or_default());
            csv.write_record(&fields)?;
        }
        csv.flush()
    })
}

/// The merged hits of a complete set of shards.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedHits {
    /// Best first, ranked `1..`: what one screen of the whole library keeps.
    pub hits: Vec<Hit>,
    /// The query names ([`write_hits_csv`]'s `query_names`).
    pub queries: Vec<String>,
    /// The first shard's description (settings, library).
    pub info: ShardInfo,
    /// Counts summed over the shards.
    pub scored: u64,
    pub invalid: u64,
}

fn bad_file(path: &Path, line: u64, reason: impl std::fmt::Display) -> ScreenError {
    ScreenError::Invalid(format!("{}:{line}: {reason}", path.display()))
}

/// Reads one shard's hits file.
fn read_shard(path: &Path) -> Result<(ShardInfo, Vec<Hit>), ScreenError> {
    use std::io::BufRead;
    let io = |e: std::io::Error| ScreenError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut r = chemlm_data::open_input(Some(path))?;
    let mut first = String::new();
    r.read_line(&mut first).map_err(io)?;
    let Some(json) = first.trim_end().strip_prefix(SHARD_MAGIC) else {
        return Err(bad_file(
            path,
            1,
            "not the hits of a shard (chemlm screen --shard I/N writes them; plain hits files \
             cannot be merged exactly, their scores are rounded)",
        ));
    };
    let info: ShardInfo =
        serde_json::from_str(json).map_err(|e| bad_file(path, 1, format!("shard line: {e}")))?;
    if info.format != SHARD_FORMAT {
        return Err(bad_file(
            path,
            1,
            format!("format {:?}, expected {SHARD_FORMAT:?}", info.format),
        ));
    }
    let mut csv = csv::ReaderBuilder::new().has_headers(false).from_reader(r);
    let mut rec = csv::StringRecord::new();
    let more = csv
        .read_record(&mut rec)
        .map_err(|e| bad_file(path, 2, e))?;
    if !more || rec.iter().ne(SHARD_HEADER.iter().copied()) {
        return Err(bad_file(
            path,
            2,
            format!("expected the columns {}", SHARD_HEADER.join(",")),
        ));
    }
    let block = info.first_line + 1..=info.first_line + info.lines;
    let mut hits = Vec::new();
    loop {
        let line = 1 + csv.position().line();
        let more = csv
            .read_record(&mut rec)
            .map_err(|e| bad_file(path, line, e))?;
        if !more {
            break;
        }
        let field = |i: usize| rec.get(i).unwrap_or("");
        let bits = u64::from_str_radix(field(6), 16)
            .map_err(|_| bad_file(path, line, format!("score_bits {:?}", field(6))))?;
        let score = f64::from_bits(bits);
        if format!("{score:.6}") != field(1) {
            return Err(bad_file(
                path,
                line,
                format!("score {} does not match score_bits {}", field(1), field(6)),
            ));
        }
        let lib_line: u64 = field(4)
            .parse()
            .map_err(|_| bad_file(path, line, format!("line {:?}", field(4))))?;
        if !block.contains(&lib_line) {
            return Err(bad_file(
                path,
                line,
                format!(
                    "library line {lib_line} is outside shard {}'s lines {}..={}",
                    info.shard,
                    block.start(),
                    block.end()
                ),
            ));
        }
        let nearest = match field(7) {
            "" => None,
            s => match s.parse::<usize>() {
                Ok(i) if i < info.queries.len() => Some(i),
                _ => return Err(bad_file(path, line, format!("nearest_index {s:?}"))),
            },
        };
        let id = field(3);
        hits.push(Hit {
            rank: hits.len() + 1,
            score,
            smiles: field(2).to_string(),
            id: (!id.is_empty()).then(|| id.to_string()),
            line: lib_line,
            nearest,
        });
    }
    Ok((info, hits))
}

/// Merges the hits files of `chemlm screen --shard I/N` runs into what one screen of the whole
/// library keeps: the best `top` (default: the shards' `--top`) by score, ties broken by the
/// earlier library line, as [`crate::TopK`] does. Exact, because each shard kept its best
/// `top` by the same order with exact scores: every hit of the whole screen's top is in its
/// shard's top.
///
/// The files may come in any order but must be one complete set (shards `1..=N` of one `N`, each
/// once, blocks covering the library) of one screen (same library length, settings and
/// queries); anything else is refused, naming the file and line.
pub fn merge_shard_hits(
    parts: &[std::path::PathBuf],
    top: Option<usize>,
) -> Result<MergedHits, ScreenError> {
    if parts.is_empty() {
        return Err(ScreenError::Invalid("no shard files to merge".into()));
    }
    let mut shards = Vec::with_capacity(parts.len());
    for p in parts {
        let (info, hits) = read_shard(p)?;
        let spec: chemlm_data::ShardSpec = info
            .shard
            .parse()
            .map_err(|e| bad_file(p, 1, format!("shard {:?}: {e}", info.shard)))?;
        shards.push((spec, p.as_path(), info, hits));
    }
    let (first_spec, first_path, first, _) = &shards[0];
    let (first_spec, first_path, first) = (*first_spec, *first_path, first.clone());
    for (spec, path, info, _) in &shards[1..] {
        let differ = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            bad_file(
                path,
                1,
                format!(
                    "{what} is {a}, but {} has {b}: the shards come from different screens",
                    first_path.display()
                ),
            )
        };
        if spec.count() != first_spec.count() {
            return Err(differ(
                "the shard count",
                &spec.count(),
                &first_spec.count(),
            ));
        }
        if info.library_lines != first.library_lines {
            return Err(differ(
                "the library's line count",
                &info.library_lines,
                &first.library_lines,
            ));
        }
        for key in first.settings.keys().chain(info.settings.keys()) {
            let (a, b) = (info.settings.get(key), first.settings.get(key));
            if a != b {
                let show = |v: Option<&String>| v.map_or("unset".to_string(), |s| format!("{s:?}"));
                return Err(differ(key, &show(a), &show(b)));
            }
        }
        if info.queries != first.queries {
            return Err(differ(
                "the list of actives",
                &format!("{:?}", info.queries),
                &format!("{:?}", first.queries),
            ));
        }
    }
    shards.sort_by_key(|s| s.0.index());
    for w in shards.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(bad_file(
                w[1].1,
                1,
                format!("shard {} again (also {})", w[1].0, w[0].1.display()),
            ));
        }
    }
    let have: Vec<u64> = shards.iter().map(|s| s.0.index()).collect();
    let missing: Vec<String> = (1..=first_spec.count())
        .filter(|i| !have.contains(i))
        .map(|i| format!("{i}/{}", first_spec.count()))
        .collect();
    if !missing.is_empty() {
        return Err(ScreenError::Invalid(format!(
            "incomplete set of shards: missing {}",
            missing.join(", ")
        )));
    }
    let mut next = 0;
    for (_, path, info, _) in &shards {
        if info.first_line != next {
            return Err(bad_file(
                path,
                1,
                format!(
                    "shard {} starts after line {}, but the shards before it end at line {next}",
                    info.shard, info.first_line
                ),
            ));
        }
        next += info.lines;
    }
    if next != first.library_lines {
        return Err(ScreenError::Invalid(format!(
            "the shards cover {next} of the library's {} lines",
            first.library_lines
        )));
    }
    let k = top.unwrap_or_else(|| shards.iter().map(|s| s.2.top).min().unwrap_or(0));
    if k == 0 {
        return Err(ScreenError::Invalid("--top must be at least 1".into()));
    }
    if let Some((_, path, info, _)) = shards.iter().find(|s| s.2.top < k) {
        return Err(bad_file(
            path,
            1,
            format!(
                "shard {} kept only its best {}; a merged top {k} needs every shard's --top to \
                 be at least {k}",
                info.shard, info.top
            ),
        ));
    }
    let (mut scored, mut invalid) = (0, 0);
    let mut all = Vec::new();
    for (_, _, info, hits) in shards {
        scored += info.scored;
        invalid += info.invalid;
        all.extend(hits);
    }
    // The order of `TopK`: higher score first, then the earlier line.
    all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.line.cmp(&b.line)));
    all.truncate(k);
    for (i, h) in all.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    Ok(MergedHits {
        hits: all,
        queries: first.queries.clone(),
        info: first,
        scored,
        invalid,
    })
}
