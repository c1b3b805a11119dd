//! Molecule readers (CSV, TSV, SMI): any bytes give records in line order with true line
//! numbers, bad records reported, no panic.
#![no_main]
use chemlm_data::{DataError, MoleculeReader, ReadOptions, TableFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = 1u64;
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' || (*b == b'\r' && data.get(i + 1) != Some(&b'\n')) {
            lines += 1;
        }
    }
    for format in [TableFormat::Csv, TableFormat::Tsv, TableFormat::Smi] {
        let opts = ReadOptions {
            format: Some(format),
            ..ReadOptions::default()
        };
        let cursor = Box::new(std::io::Cursor::new(data.to_vec()));
        let Ok(reader) = MoleculeReader::from_reader("fuzz", cursor, format, &opts) else {
            continue;
        };
        let mut last = 0;
        for item in reader {
            let line = match item {
                Ok(r) => r.line,
                Err(DataError::Record { line, .. }) => line,
                Err(_) => break,
            };
            assert!(
                line >= last && line <= lines,
                "{format:?}: line {line} after {last} of {lines}"
            );
            last = line;
        }
    }
});
