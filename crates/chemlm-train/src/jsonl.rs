//! JSON-lines files chemlm writes and reads back (`metrics.jsonl`, seq2seq `<split>.jsonl`):
//! one reader, so every such file reports a bad entry — malformed JSON or bytes that are not
//! UTF-8 — with its file and line instead of failing as a whole stream.

use std::io::BufRead;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Result, TrainError};

/// Reads every non-blank line of `path` as a `T`; the first bad line is an error naming it.
pub fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let f = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut reader = std::io::BufReader::new(f);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for line_no in 1.. {
        buf.clear();
        if reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| TrainError::io(path, e))?
            == 0
        {
            break;
        }
        let line = std::str::from_utf8(&buf).map_err(|e| {
            TrainError::format(
                path,
                format!("line {line_no}: not UTF-8 (byte {})", e.valid_up_to()),
            )
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let rec = serde_json::from_str(line)
            .map_err(|e| TrainError::format(path, format!("line {line_no}: {e}")))?;
        out.push(rec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.jsonl");
        std::fs::write(&p, b"1\n\n2\r\n\xe93\n").unwrap();
        let e = read_jsonl::<u32>(&p).unwrap_err().to_string();
        assert!(
            e.contains("m.jsonl") && e.contains("line 4: not UTF-8"),
            "{e}"
        );
        std::fs::write(&p, b"1\n\n2\r\n{3\n").unwrap();
        let e = read_jsonl::<u32>(&p).unwrap_err().to_string();
        assert!(e.contains("line 4:"), "{e}");
        std::fs::write(&p, b"1\n\n2\r\n3").unwrap();
        assert_eq!(read_jsonl::<u32>(&p).unwrap(), [1, 2, 3]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 500,
            failure_persistence: None,
            // Fixed, so that CI runs the same cases every time.
            rng_seed: proptest::test_runner::RngSeed::Fixed(17),
            ..Default::default()
        })]

        /// Issue 17 §2: any bytes are read or refused with a line number inside the file.
        #[test]
        fn any_bytes_are_read_or_refused_with_their_line(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(b'\n'),
                    proptest::prelude::Just(b'{'),
                    proptest::prelude::Just(b'"'),
                    proptest::prelude::any::<u8>(),
                ],
                0..200,
            )
        ) {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("m.jsonl");
            std::fs::write(&p, &bytes).unwrap();
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
            if let Err(e) = read_jsonl::<crate::metrics::MetricLine>(&p) {
                let e = e.to_string();
                let n: usize = e
                    .split("line ")
                    .nth(1)
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("no line in {e}"));
                proptest::prop_assert!(n >= 1 && n <= lines, "{e}");
            }
        }
    }
}
