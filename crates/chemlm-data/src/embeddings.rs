//! Streaming writers of embedding matrices, one row per molecule (the output of `chemlm embed`,
//! usable by any front-end): NumPy `.npy` (float32 `[rows, dim]`, little-endian, C order; a bad
//! molecule is a NaN row) and CSV (one line of numbers per molecule; a bad molecule is an empty
//! line). Rows are written as they come; the `.npy` header, whose shape needs the final row
//! count, is written first with room to spare and rewritten at the end.

use std::io::{Seek, SeekFrom, Write};

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
}
