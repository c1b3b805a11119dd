//! Streaming readers for molecule files: CSV, TSV and SMILES (`.smi`: whitespace-separated, the
//! first field is the molecule), plain or gzip (detected by magic bytes, not by name), from a
//! file or standard input. Every record keeps its 1-based line number so errors can name it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::error::DataError;

const BUF: usize = 1 << 20;

/// Opens `path` (standard input when `None`) for buffered reading, decompressing gzip when the
/// data starts with the gzip magic bytes (`1f 8b`), whatever the file is called.
///
/// Text arrives as users' editors write it: a UTF-8 byte-order mark at the start is dropped, and
/// `\r\n` (Windows) and a lone `\r` (classic Mac) both end a line as `\n` does, so every reader
/// downstream sees plain `\n` lines (see [`LineEnds`]).
pub fn open_input(path: Option<&Path>) -> Result<Box<dyn BufRead + Send>, DataError> {
    let name = path.unwrap_or(Path::new("<stdin>"));
    let raw: Box<dyn Read + Send> = match path {
        Some(p) => Box::new(File::open(p).map_err(|e| DataError::io(p, e))?),
        None => Box::new(io::stdin()),
    };
    let mut buf = BufReader::with_capacity(BUF, raw);
    let is_gzip = buf
        .fill_buf()
        .map_err(|e| DataError::io(name, e))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        let gz = BufReader::with_capacity(BUF, MultiGzDecoder::new(buf));
        Box::new(BufReader::with_capacity(BUF, LineEnds::new(gz)))
    } else {
        Box::new(BufReader::with_capacity(BUF, LineEnds::new(buf)))
    })
}

/// A reader that drops a leading UTF-8 byte-order mark and turns `\r\n` and lone `\r` into `\n`.
pub struct LineEnds<R> {
    inner: R,
    /// Whether the BOM question is settled (the first three bytes were seen or the input ended).
    decided: bool,
    /// Bytes taken from `inner` while deciding, still to be handed out.
    pending: Vec<u8>,
    /// The last byte was a `\r` (already emitted as `\n`): a `\n` right after it is dropped.
    after_cr: bool,
}

impl<R: BufRead> LineEnds<R> {
    pub fn new(inner: R) -> Self {
        LineEnds {
            inner,
            decided: false,
            pending: Vec::new(),
            after_cr: false,
        }
    }
}

/// Copies `src` into `out` with line ends normalised; returns (written, consumed).
fn convert_line_ends(src: &[u8], out: &mut [u8], after_cr: &mut bool) -> (usize, usize) {
    let (mut n, mut used) = (0, 0);
    for &b in src {
        if n == out.len() {
            break;
        }
        used += 1;
        if std::mem::take(after_cr) && b == b'\n' {
            continue;
        }
        if b == b'\r' {
            out[n] = b'\n';
            *after_cr = true;
        } else {
            out[n] = b;
        }
        n += 1;
    }
    (n, used)
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R: BufRead> Read for LineEnds<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        // Settle the BOM from the first bytes, however the input is chunked.
        while !self.decided {
            if self.pending.len() == BOM.len() || !BOM.starts_with(&self.pending) {
                if self.pending == BOM {
                    self.pending.clear();
                }
                self.decided = true;
                break;
            }
            let buf = self.inner.fill_buf()?;
            match buf.first() {
                Some(&b) => {
                    self.inner.consume(1);
                    self.pending.push(b);
                }
                None => self.decided = true,
            }
        }
        loop {
            if !self.pending.is_empty() {
                let (n, used) = convert_line_ends(&self.pending, out, &mut self.after_cr);
                self.pending.drain(..used);
                if n > 0 {
                    return Ok(n);
                }
                continue;
            }
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(0);
            }
            let (n, used) = convert_line_ends(buf, out, &mut self.after_cr);
            self.inner.consume(used);
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

/// Reads one `\n`-terminated line into `buf` and returns it without its line end: `Ok(None)` at
/// the end, `Ok(Some(Err(reason)))` for a line that is not UTF-8 (only that line is bad; the
/// reader goes on), `Err` for an I/O failure.
pub fn read_text_line(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
) -> io::Result<Option<Result<String, String>>> {
    buf.clear();
    if r.read_until(b'\n', buf)? == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(match std::str::from_utf8(buf) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(format!("not UTF-8 text ({e})")),
    }))
}

/// The layout of a molecule file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// Comma-separated with a header row (RFC 4180 quoting).
    Csv,
    /// Tab-separated with a header row, no quoting.
    Tsv,
    /// One molecule per line, first whitespace-separated field; no header unless asked for.
    Smi,
}

impl TableFormat {
    /// Guesses from the file name, ignoring a trailing `.gz`: `.csv` → CSV, `.tsv`/`.tab` → TSV,
    /// anything else (`.smi`, `.txt`, standard input) → SMI.
    pub fn from_path(path: Option<&Path>) -> Self {
        let Some(p) = path else {
            return TableFormat::Smi;
        };
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".csv") {
            TableFormat::Csv
        } else if name.ends_with(".tsv") || name.ends_with(".tab") {
            TableFormat::Tsv
        } else {
            TableFormat::Smi
        }
    }
}

impl std::str::FromStr for TableFormat {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, DataError> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(TableFormat::Csv),
            "tsv" => Ok(TableFormat::Tsv),
            "smi" | "smiles" | "txt" => Ok(TableFormat::Smi),
            _ => Err(DataError::Invalid(format!(
                "unknown table format {s:?} (csv, tsv or smi)"
            ))),
        }
    }
}

/// How to read a molecule file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The layout; guessed from the name when `None`.
    pub format: Option<TableFormat>,
    /// The molecule column of a CSV/TSV, by header name (exact, else case-insensitive). When
    /// `None`: a column called `smiles` (any case) if there is one, else the first column.
    pub column: Option<String>,
    /// Whether the first line is a header. Default: yes for CSV/TSV, no for SMI.
    pub header: Option<bool>,
}

/// One molecule string and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoleculeRecord {
    /// 1-based line number in the source.
    pub line: u64,
    /// The molecule text, trimmed of surrounding whitespace.
    pub text: String,
}

/// A record that could not be read (empty field, missing column, invalid UTF-8...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// 1-based line number.
    pub line: u64,
    pub reason: String,
}

/// Many records in one string buffer: the reader's unit of work for parallel processing, with
/// one allocation per chunk instead of one per molecule.
#[derive(Clone, Debug, Default)]
pub struct RecordChunk {
    text: String,
    ends: Vec<usize>,
    lines: Vec<u64>,
}

impl RecordChunk {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Empties the chunk, keeping its buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.lines.clear();
    }

    /// Appends a record.
    pub fn push(&mut self, line: u64, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
        self.lines.push(line);
    }

    /// The `i`-th record as (line, text).
    pub fn get(&self, i: usize) -> (u64, &str) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (self.lines[i], &self.text[start..self.ends[i]])
    }

    /// All records in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &str)> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
}

enum Inner {
    Csv {
        reader: csv::Reader<Box<dyn BufRead + Send>>,
        record: csv::ByteRecord,
    },
    Lines {
        reader: Box<dyn BufRead + Send>,
        buf: Vec<u8>,
        line: u64,
    },
}

/// What one read step produced.
enum Step<'a> {
    End,
    Bad(BadRecord),
    Good(u64, &'a str),
}

/// A streaming reader of one molecule column.
pub struct MoleculeReader {
    source: String,
    inner: Inner,
    column: usize,
    headers: Option<Vec<String>>,
    /// Added to the line numbers from `offset_from` on (see [`MoleculeReader::with_line_offset`]).
    line_offset: u64,
    offset_from: u64,
}

impl MoleculeReader {
    /// Opens `path` (standard input when `None`).
    pub fn open(path: Option<&Path>, opts: &ReadOptions) -> Result<Self, DataError> {
        let format = opts.format.unwrap_or_else(|| TableFormat::from_path(path));
        let source = path.map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
        Self::from_reader(source, open_input(path)?, format, opts)
    }

    /// Reads from an already opened stream; `source` names it in errors.
    pub fn from_reader(
        source: impl Into<String>,
        reader: Box<dyn BufRead + Send>,
        format: TableFormat,
        opts: &ReadOptions,
    ) -> Result<Self, DataError> {
        let source = source.into();
        match format {
            TableFormat::Csv | TableFormat::Tsv => {
                let has_header = opts.header.unwrap_or(true);
                let mut b = csv::ReaderBuilder::new();
                b.has_headers(false).flexible(true);
                if format == TableFormat::Tsv {
                    b.delimiter(b'\t').quoting(false);
                }
                let mut reader = b.from_reader(reader);
                let mut record = csv::ByteRecord::new();
                let mut headers = None;
                let mut column = 0;
                if has_header {
                    let ok = reader
                        .read_byte_record(&mut record)
                        .map_err(|e| csv_error(&source, e))?;
                    if !ok {
                        return Err(DataError::Record {
                            source_name: source,
                            line: 1,
                            reason: "empty file: no header".into(),
                        });
                    }
                    let h: Vec<String> = record
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).trim().to_string())
                        .collect();
                    column = pick_column(&source, &h, opts.column.as_deref())?;
                    headers = Some(h);
                } else if let Some(c) = &opts.column {
                    column = c.parse().map_err(|_| {
                        DataError::Invalid(format!(
                            "{source}: without a header the column must be a 0-based index, got {c:?}"
                        ))
                    })?;
                }
                Ok(Self {
                    source,
                    inner: Inner::Csv { reader, record },
                    column,
                    headers,
                    line_offset: 0,
                    offset_from: 1,
                })
            }
            TableFormat::Smi => {
                let mut me = Self {
                    source,
                    inner: Inner::Lines {
                        reader,
                        buf: Vec::with_capacity(256),
                        line: 0,
                    },
                    column: 0,
                    headers: None,
                    line_offset: 0,
                    offset_from: 1,
                };
                if opts.header.unwrap_or(false) {
                    // The header line carries no molecule; read and drop it.
                    let _ = me.step()?;
                }
                Ok(me)
            }
        }
    }

    /// Reports line `k >= from` of the stream as line `k + offset`, so that the records of a
    /// shard's block keep the line numbers of the whole file: `from` is 1 for a block read alone,
    /// 2 for a block read after the file's header line (line 1 of both).
    pub fn with_line_offset(mut self, offset: u64, from: u64) -> Self {
        self.line_offset = offset;
        self.offset_from = from;
        self
    }

    /// The name used in errors (the path, or `<stdin>`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The header row of a CSV/TSV.
    pub fn headers(&self) -> Option<&[String]> {
        self.headers.as_deref()
    }

    /// Index of the molecule column.
    pub fn column(&self) -> usize {
        self.column
    }

    fn step(&mut self) -> Result<Step<'_>, DataError> {
        let (offset, from) = (self.line_offset, self.offset_from);
        let shift = move |line: u64| if line >= from { line + offset } else { line };
        match &mut self.inner {
            Inner::Csv { reader, record } => {
                let more = reader.read_byte_record(record).map_err(|e| {
                    let e = csv_error(&self.source, e);
                    match e {
                        DataError::Record {
                            source_name,
                            line,
                            reason,
                        } => DataError::Record {
                            source_name,
                            line: shift(line),
                            reason,
                        },
                        other => other,
                    }
                })?;
                if !more {
                    return Ok(Step::End);
                }
                let line = shift(record.position().map_or(0, |p| p.line()));
                let Some(field) = record.get(self.column) else {
                    return Ok(Step::Bad(BadRecord {
                        line,
                        reason: format!(
                            "row has {} fields, no column {}",
                            record.len(),
                            self.column + 1
                        ),
                    }));
                };
                Ok(field_step(line, field))
            }
            Inner::Lines { reader, buf, line } => {
                buf.clear();
                let n = reader
                    .read_until(b'\n', buf)
                    .map_err(|e| DataError::io(&self.source, e))?;
                if n == 0 {
                    return Ok(Step::End);
                }
                *line += 1;
                let line = shift(*line);
                let field = buf
                    .split(|b| b.is_ascii_whitespace())
                    .find(|f| !f.is_empty())
                    .unwrap_or(&[]);
                Ok(field_step(line, field))
            }
        }
    }

    /// The next record: `Ok(None)` at the end, `Ok(Some(Err(bad)))` for a record that cannot be
    /// read (the reader can go on), `Err` for an I/O failure (it cannot).
    pub fn next_record(&mut self) -> Result<Option<Result<MoleculeRecord, BadRecord>>, DataError> {
        Ok(match self.step()? {
            Step::End => None,
            Step::Bad(b) => Some(Err(b)),
            Step::Good(line, text) => Some(Ok(MoleculeRecord {
                line,
                text: text.to_string(),
            })),
        })
    }

    /// Appends up to `max` records to `chunk` and bad ones to `bad`; returns how many records
    /// (good and bad) were consumed, 0 at the end of the input.
    pub fn read_chunk(
        &mut self,
        max: usize,
        chunk: &mut RecordChunk,
        bad: &mut Vec<BadRecord>,
    ) -> Result<usize, DataError> {
        let mut n = 0;
        while n < max {
            match self.step()? {
                Step::End => break,
                Step::Bad(b) => bad.push(b),
                Step::Good(line, text) => chunk.push(line, text),
            }
            n += 1;
        }
        Ok(n)
    }
}

impl Iterator for MoleculeReader {
    type Item = Result<MoleculeRecord, DataError>;

    /// Records in order; a bad record is a [`DataError::Record`] and iteration can go on.
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(None) => None,
            Ok(Some(Ok(r))) => Some(Ok(r)),
            Ok(Some(Err(b))) => Some(Err(DataError::Record {
                source_name: self.source.clone(),
                line: b.line,
                reason: b.reason,
            })),
            Err(e) => Some(Err(e)),
        }
    }
}

fn field_step(line: u64, field: &[u8]) -> Step<'_> {
    match std::str::from_utf8(field) {
        Err(e) => Step::Bad(BadRecord {
            line,
            reason: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        }),
        Ok(s) => {
            let s = s.trim();
            if s.is_empty() {
                Step::Bad(BadRecord {
                    line,
                    reason: "empty molecule field".into(),
                })
            } else {
                Step::Good(line, s)
            }
        }
    }
}

fn csv_error(source: &str, e: csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line());
    DataError::Record {
        source_name: source.to_string(),
        line,
        reason: e.to_string(),
    }
}

/// The header row of a CSV/TSV file (plain or gzip).
pub fn read_header(path: &Path) -> Result<Vec<String>, DataError> {
    let source = path.display().to_string();
    let mut r = table_reader(path, true)?;
    let h = r.byte_headers().map_err(|e| csv_error(&source, e))?;
    Ok(h.iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect())
}

/// Number of data rows (header excluded) of a CSV/TSV file, quoted newlines respected.
pub fn count_rows(path: &Path) -> Result<u64, DataError> {
    let source = path.display().to_string();
    let mut r = table_reader(path, true)?;
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while r
        .read_byte_record(&mut rec)
        .map_err(|e| csv_error(&source, e))?
    {
        n += 1;
    }
    Ok(n)
}

fn table_reader(
    path: &Path,
    headers: bool,
) -> Result<csv::Reader<Box<dyn BufRead + Send>>, DataError> {
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(headers).flexible(true);
    if TableFormat::from_path(Some(path)) == TableFormat::Tsv {
        b.delimiter(b'\t').quoting(false);
    }
    Ok(b.from_reader(open_input(Some(path))?))
}

/// Finds the column called `wanted` (exact, then case-insensitive), or the default column.
pub fn pick_column(
    source: &str,
    headers: &[String],
    wanted: Option<&str>,
) -> Result<usize, DataError> {
    let find_ci = |name: &str| {
        let hits: Vec<usize> = (0..headers.len())
            .filter(|&i| headers[i].eq_ignore_ascii_case(name))
            .collect();
        (hits.len() == 1).then(|| hits[0])
    };
    match wanted {
        Some(w) => headers
            .iter()
            .position(|h| h == w)
            .or_else(|| find_ci(w))
            .ok_or_else(|| DataError::MissingColumn {
                source_name: source.to_string(),
                column: w.to_string(),
                available: headers.join(", "),
            }),
        None => Ok(find_ci("smiles").unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn reader(bytes: &[u8], format: TableFormat, opts: &ReadOptions) -> MoleculeReader {
        let r: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(bytes.to_vec()));
        MoleculeReader::from_reader("mem", r, format, opts).unwrap()
    }

    fn collect(r: MoleculeReader) -> Vec<Result<(u64, String), String>> {
        r.map(|x| x.map(|m| (m.line, m.text)).map_err(|e| e.to_string()))
            .collect()
    }

    fn normalised(bytes: &[u8], chunk: usize) -> Vec<u8> {
        // A tiny inner buffer exercises `\r` and the BOM split across reads.
        let inner = BufReader::with_capacity(chunk, io::Cursor::new(bytes.to_vec()));
        let mut out = Vec::new();
        LineEnds::new(inner).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn bom_and_every_line_end_become_plain_lines() {
        for chunk in [1, 2, 3, 64] {
            assert_eq!(normalised(b"\xEF\xBB\xBFCCO\nCCN\n", chunk), b"CCO\nCCN\n");
            assert_eq!(normalised(b"CCO\rCCN\rCCC\n", chunk), b"CCO\nCCN\nCCC\n");
            assert_eq!(normalised(b"CCO\r\nCCN\r\n", chunk), b"CCO\nCCN\n");
            assert_eq!(normalised(b"A\r\r\nB\r", chunk), b"A\n\nB\n");
            // A BOM later in the file is data, not a marker.
            assert_eq!(normalised(b"C\n\xEF\xBB\xBF", chunk), b"C\n\xEF\xBB\xBF");
        }
    }

    #[test]
    fn a_non_utf8_line_is_bad_alone() {
        let mut r: Box<dyn BufRead> = Box::new(io::Cursor::new(b"CCO\nCC\xe9O\nCCC".to_vec()));
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(l) = read_text_line(&mut *r, &mut buf).unwrap() {
            got.push(l.map_err(|e| e.starts_with("not UTF-8")));
        }
        assert_eq!(
            got,
            vec![Ok("CCO".to_string()), Err(true), Ok("CCC".to_string())]
        );
    }

    #[test]
    fn csv_by_name_with_quotes_and_lines() {
        let data = b"id,Smiles,y\n1,CCO,0.5\n2,\"C(Cl)\nCl\",1\n3,,2\n4\n5, c1ccccc1 ,3\n";
        let r = reader(data, TableFormat::Csv, &ReadOptions::default());
        assert_eq!(r.column(), 1);
        let got = collect(r);
        assert_eq!(got[0], Ok((2, "CCO".to_string())));
        assert_eq!(got[1], Ok((3, "C(Cl)\nCl".to_string())));
        assert_eq!(got[2], Err("mem:5: empty molecule field".to_string()));
        assert_eq!(
            got[3],
            Err("mem:6: row has 1 fields, no column 2".to_string())
        );
        assert_eq!(got[4], Ok((7, "c1ccccc1".to_string())));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn column_choice() {
        let opts = ReadOptions {
            column: Some("y".into()),
            ..Default::default()
        };
        let r = reader(b"smiles,y\nC,N\n", TableFormat::Csv, &opts);
        assert_eq!(collect(r), [Ok((2, "N".to_string()))]);
        let opts = ReadOptions {
            column: Some("nope".into()),
            ..Default::default()
        };
        let r: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(b"smiles,y\n".to_vec()));
        let err = MoleculeReader::from_reader("f.csv", r, TableFormat::Csv, &opts)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "f.csv: no column \"nope\"; columns are: smiles, y"
        );
        // Default without a `smiles` column: the first one (chemprop's convention).
        let r = reader(
            b"mol,Class\nCC,1\n",
            TableFormat::Csv,
            &ReadOptions::default(),
        );
        assert_eq!(collect(r), [Ok((2, "CC".to_string()))]);
    }

    #[test]
    fn tsv_and_smi() {
        let r = reader(
            b"x\tsmiles\na\tCC\n",
            TableFormat::Tsv,
            &ReadOptions::default(),
        );
        assert_eq!(collect(r), [Ok((2, "CC".to_string()))]);
        let r = reader(
            b"CCO mol1\n\n  c1ccccc1\tbenzene\r\nC",
            TableFormat::Smi,
            &ReadOptions::default(),
        );
        let got = collect(r);
        assert_eq!(got[0], Ok((1, "CCO".to_string())));
        assert_eq!(got[1], Err("mem:2: empty molecule field".to_string()));
        assert_eq!(got[2], Ok((3, "c1ccccc1".to_string())));
        assert_eq!(got[3], Ok((4, "C".to_string())));
        let opts = ReadOptions {
            header: Some(true),
            ..Default::default()
        };
        let r = reader(b"SMILES\nCC\n", TableFormat::Smi, &opts);
        assert_eq!(collect(r), [Ok((2, "CC".to_string()))]);
    }

    #[test]
    fn invalid_utf8_is_a_bad_record() {
        let r = reader(
            b"CC\n\xff\xfe\nCO\n",
            TableFormat::Smi,
            &ReadOptions::default(),
        );
        let got = collect(r);
        assert_eq!(got.len(), 3);
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .starts_with("mem:2: invalid UTF-8"));
    }

    #[test]
    fn gzip_by_magic_and_format_by_name() {
        let dir = tempfile::tempdir().unwrap();
        // A gzip file without a .gz name is still decompressed.
        let p = dir.path().join("mols.csv");
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"SMILES\nCCN\nCCC\n").unwrap();
        std::fs::write(&p, enc.finish().unwrap()).unwrap();
        let r = MoleculeReader::open(Some(&p), &ReadOptions::default()).unwrap();
        assert_eq!(collect(r), [Ok((2, "CCN".into())), Ok((3, "CCC".into()))]);
        assert_eq!(
            TableFormat::from_path(Some(Path::new("a/train.CSV.gz"))),
            TableFormat::Csv
        );
        assert_eq!(
            TableFormat::from_path(Some(Path::new("x.tsv"))),
            TableFormat::Tsv
        );
        assert_eq!(
            TableFormat::from_path(Some(Path::new("x.smi.gz"))),
            TableFormat::Smi
        );
        assert_eq!(TableFormat::from_path(None), TableFormat::Smi);
        let missing =
            MoleculeReader::open(Some(&dir.path().join("none.smi")), &ReadOptions::default());
        assert!(missing.err().unwrap().to_string().contains("none.smi"));
    }

    #[test]
    fn chunks() {
        let mut r = reader(
            b"C\nCC\n\nCCC\nCCCC\n",
            TableFormat::Smi,
            &ReadOptions::default(),
        );
        let (mut chunk, mut bad) = (RecordChunk::default(), Vec::new());
        assert_eq!(r.read_chunk(3, &mut chunk, &mut bad).unwrap(), 3);
        assert_eq!(chunk.iter().collect::<Vec<_>>(), [(1, "C"), (2, "CC")]);
        assert_eq!(bad[0].line, 3);
        chunk.clear();
        assert_eq!(r.read_chunk(3, &mut chunk, &mut bad).unwrap(), 2);
        assert_eq!(chunk.get(1), (5, "CCCC"));
        assert_eq!(r.read_chunk(3, &mut chunk, &mut bad).unwrap(), 0);
    }
}
