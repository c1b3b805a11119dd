//! Labelled CSV data sets: read or refused, rows mapped to lines inside the file, no panic.
#![no_main]
use chemlm_data::{LabeledCsvOptions, LabeledDataset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.csv");
    std::fs::write(&path, data).expect("write input");
    if let Ok(ds) = LabeledDataset::from_csv(&path, &LabeledCsvOptions::default()) {
        let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
        for i in 0..ds.len() {
            assert!(ds.line_of(i) <= lines);
        }
    }
});
