//! Streaming writers of embedding matrices, one row per molecule (the output of `chemlm embed`,
//! usable by any front-end): NumPy `.npy` (float32 `[rows, dim]`, little-endian, C order; a bad
//! molecule is a NaN row) and CSV (one line of numbers per molecule; a bad molecule is an empty
//! line). Rows are written as they come; the `.npy` header, whose shape needs the final row
//! count, is written first with room to spare and rewritten at the end.

use std::io::{Seek, SeekFrom, Write};

use crate::error::DataError;

/// Bytes of the `.npy` header (magic, version, length, padded dict): a multiple of 64 as the
/// format asks, large enough for any shape.
pub const NPY_HEADER_LEN: usize = 128;

/// The `.npy` 1.0 header of a float32 `[rows, dim]` matrix.
pub fn npy_header(rows: u64, dim: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    let len = NPY_HEADER_LEN - 10;
    h.extend_from_slice(&(len as u16).to_le_bytes());
    let mut d = dict.into_bytes();
    d.resize(len - 1, b' ');
    d.push(b'\n');
    h.extend_from_slice(&d);
    h
}

/// File format of an embedding matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddingFormat {
    Npy,
    Csv,
}

impl EmbeddingFormat {
    /// From a file name's extension (`.npy`, `.csv`, any case); `None` otherwise.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("npy") => Some(Self::Npy),
            Some("csv") => Some(Self::Csv),
            _ => None,
        }
    }
}

/// Writes rows of `dim` floats to `w` in `format`.
pub struct EmbeddingWriter<W: Write + Seek> {
    w: W,
    format: EmbeddingFormat,
    rows: u64,
    dim: usize,
}

impl<W: Write + Seek> EmbeddingWriter<W> {
    /// Starts a matrix of `dim` columns (writes the provisional `.npy` header).
    pub fn new(mut w: W, format: EmbeddingFormat, dim: usize) -> std::io::Result<Self> {
        if format == EmbeddingFormat::Npy {
            w.write_all(&npy_header(0, dim))?;
        }
        Ok(Self {
            w,
            format,
            rows: 0,
            dim,
        })
    }

    /// One row; `None` = a molecule without an embedding (NaN row / empty CSV line).
    pub fn row(&mut self, v: Option<&[f32]>) -> std::io::Result<()> {
        if let Some(v) = v {
            if v.len() != self.dim {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("a row of {} values in a matrix of {}", v.len(), self.dim),
                ));
            }
        }
        match self.format {
            EmbeddingFormat::Csv => {
                if let Some(v) = v {
                    let s: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
                    self.w.write_all(s.join(",").as_bytes())?;
                }
                self.w.write_all(b"\n")?;
            }
            EmbeddingFormat::Npy => match v {
                Some(v) => {
                    for x in v {
                        self.w.write_all(&x.to_le_bytes())?;
                    }
                }
                None => {
                    for _ in 0..self.dim {
                        self.w.write_all(&f32::NAN.to_le_bytes())?;
                    }
                }
            },
        }
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the final `.npy` header and flushes; returns the underlying writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.format == EmbeddingFormat::Npy {
            self.w.seek(SeekFrom::Start(0))?;
            self.w.write_all(&npy_header(self.rows, self.dim))?;
        }
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Reads the `[rows, dim]` of a header [`npy_header`] wrote; `None` for anything else.
fn parse_npy_header(h: &[u8]) -> Option<(u64, usize)> {
    let text = std::str::from_utf8(h.get(10..NPY_HEADER_LEN)?).ok()?;
    let rest = text.split_once("'shape': (")?.1;
    let (rows, rest) = rest.split_once(", ")?;
    let dim = rest.split_once(')')?.0;
    let (rows, dim) = (rows.parse().ok()?, dim.parse().ok()?);
    (npy_header(rows, dim) == h).then_some((rows, dim))
}

/// Joins embedding matrices that [`EmbeddingWriter`] wrote (the outputs of `chemlm embed --shard
/// I/N`, in shard order) into `out`, exactly the file one writer would have written with all
/// their rows: `.csv` parts follow each other; `.npy` parts get one header with the summed row
/// count, then their rows. Parts of another format or width are refused, naming the file (and
/// line, for CSV). Written atomically. Returns the number of rows.
pub fn merge_files(parts: &[std::path::PathBuf], out: &std::path::Path) -> Result<u64, DataError> {
    use std::io::Read;
    let Some(format) = EmbeddingFormat::from_path(out) else {
        return Err(DataError::Invalid(format!(
            "{}: output must end in .npy or .csv",
            out.display()
        )));
    };
    if parts.is_empty() {
        return Err(DataError::Invalid("no files to merge".into()));
    }
    // First check every part, so nothing is written for a bad set.
    let mut rows = 0u64;
    let mut width: Option<(usize, std::path::PathBuf)> = None;
    let mut same_width = |n: usize, p: &std::path::Path, line: Option<u64>| {
        match &width {
            None => width = Some((n, p.to_path_buf())),
            Some((w, first)) if *w != n => {
                let at = line.map_or(String::new(), |l| format!(":{l}"));
                return Err(DataError::Invalid(format!(
                    "{}{at}: rows of {n} values, but {} has {w}; the parts come from different \
                     models",
                    p.display(),
                    first.display()
                )));
            }
            Some(_) => {}
        }
        Ok(())
    };
    for p in parts {
        if EmbeddingFormat::from_path(p) != Some(format) {
            return Err(DataError::Invalid(format!(
                "{}: not a .{} file like {}",
                p.display(),
                if format == EmbeddingFormat::Npy {
                    "npy"
                } else {
                    "csv"
                },
                out.display()
            )));
        }
        let mut f = std::fs::File::open(p).map_err(|e| DataError::io(p, e))?;
        match format {
            EmbeddingFormat::Npy => {
                let len = f.metadata().map_err(|e| DataError::io(p, e))?.len();
                let mut h = vec![0u8; NPY_HEADER_LEN];
                let shape = f.read_exact(&mut h).ok().and_then(|_| parse_npy_header(&h));
                let Some((r, dim)) = shape else {
                    return Err(DataError::format(
                        p,
                        "not a float32 matrix written by chemlm embed",
                    ));
                };
                if len != NPY_HEADER_LEN as u64 + r * dim as u64 * 4 {
                    return Err(DataError::format(
                        p,
                        format!("truncated: {len} bytes for a ({r}, {dim}) matrix"),
                    ));
                }
                same_width(dim, p, None)?;
                rows += r;
            }
            EmbeddingFormat::Csv => {
                // Streamed: an embedding CSV can be larger than memory.
                let mut r = std::io::BufReader::with_capacity(1 << 20, f);
                let (mut line, mut i) = (Vec::new(), 0u64);
                loop {
                    line.clear();
                    let n = std::io::BufRead::read_until(&mut r, b'\n', &mut line)
                        .map_err(|e| DataError::io(p, e))?;
                    if n == 0 {
                        break;
                    }
                    i += 1;
                    if line.pop() != Some(b'\n') {
                        return Err(DataError::format(
                            p,
                            format!("truncated: line {i} has no line end"),
                        ));
                    }
                    rows += 1;
                    if !line.is_empty() {
                        let n = line.iter().filter(|&&b| b == b',').count() + 1;
                        same_width(n, p, Some(i))?;
                    }
                }
            }
        }
    }
    let dim = width.map_or(0, |(w, _)| w);
    chemlm_fs::write_with(out, |w| {
        if format == EmbeddingFormat::Npy {
            w.write_all(&npy_header(rows, dim))?;
        }
        for p in parts {
            let mut f = std::fs::File::open(p)?;
            if format == EmbeddingFormat::Npy {
                f.seek(SeekFrom::Start(NPY_HEADER_LEN as u64))?;
            }
            std::io::copy(&mut f, w)?;
        }
        Ok(())
    })?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn npy_rows_and_final_shape() {
        let mut w = EmbeddingWriter::new(Cursor::new(Vec::new()), EmbeddingFormat::Npy, 2).unwrap();
        w.row(Some(&[1.0, 2.0])).unwrap();
        w.row(None).unwrap();
        assert!(w.row(Some(&[1.0])).is_err());
        let bytes = w.finish().unwrap().into_inner();
        assert_eq!(bytes.len(), NPY_HEADER_LEN + 2 * 2 * 4);
        assert_eq!(bytes.len() % 16, 0);
        let header = String::from_utf8_lossy(&bytes[10..NPY_HEADER_LEN]);
        assert!(header.contains("'shape': (2, 2)"), "{header}");
        assert!(header.ends_with('\n'));
        let f = |i: usize| {
            let o = NPY_HEADER_LEN + 4 * i;
            f32::from_le_bytes(bytes[o..o + 4].try_into().unwrap())
        };
        assert_eq!((f(0), f(1)), (1.0, 2.0));
        assert!(f(2).is_nan() && f(3).is_nan());
    }

    #[test]
    fn csv_rows_and_empty_lines() {
        let mut w = EmbeddingWriter::new(Cursor::new(Vec::new()), EmbeddingFormat::Csv, 2).unwrap();
        w.row(Some(&[0.5, -1.0])).unwrap();
        w.row(None).unwrap();
        let text = String::from_utf8(w.finish().unwrap().into_inner()).unwrap();
        assert_eq!(text, "0.5,-1\n\n");
        assert_eq!(
            EmbeddingFormat::from_path(std::path::Path::new("x.NPY")),
            Some(EmbeddingFormat::Npy)
        );
        assert_eq!(
            EmbeddingFormat::from_path(std::path::Path::new("x.txt")),
            None
        );
    }

    /// Parts written by separate writers and merged are the bytes of one writer over all rows;
    /// parts of another width or format are refused with the file's name.
    #[test]
    fn merged_parts_equal_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Option<Vec<f32>>> = (0..7)
            .map(|i| (i % 3 != 1).then(|| vec![i as f32 * 0.5, -(i as f32), 1e-7 * i as f32]))
            .collect();
        for (ext, format) in [("npy", EmbeddingFormat::Npy), ("csv", EmbeddingFormat::Csv)] {
            let write = |name: &str, rows: &[Option<Vec<f32>>], dim: usize| {
                let p = dir.path().join(name);
                let f = std::fs::File::create(&p).unwrap();
                let mut w = EmbeddingWriter::new(f, format, dim).unwrap();
                for r in rows {
                    w.row(r.as_deref()).unwrap();
                }
                w.finish().unwrap();
                p
            };
            let whole = write(&format!("whole.{ext}"), &rows, 3);
            let parts = vec![
                write(&format!("p1.{ext}"), &rows[..3], 3),
                write(&format!("p2.{ext}"), &[], 3),
                write(&format!("p3.{ext}"), &rows[3..], 3),
            ];
            let out = dir.path().join(format!("merged.{ext}"));
            assert_eq!(merge_files(&parts, &out).unwrap(), 7);
            assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
            let other = write(&format!("wide.{ext}"), &[Some(vec![1.0; 4])], 4);
            let e = merge_files(&[parts[0].clone(), other], &out)
                .unwrap_err()
                .to_string();
            assert!(e.contains("wide.") && e.contains("4 values"), "{e}");
        }
        let e = merge_files(
            &[dir.path().join("p1.npy"), dir.path().join("p1.csv")],
            &dir.path().join("m.npy"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("p1.csv"), "{e}");
    }
}
