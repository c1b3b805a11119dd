//! JSON-lines files (`metrics.jsonl`, seq2seq splits): read or refused naming a line in the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.jsonl");
    std::fs::write(&path, data).expect("write input");
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    let check = |e: chemlm_train::TrainError| {
        let e = e.to_string();
        let n: usize = e
            .split("line ")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no line number in {e}"));
        assert!((1..=lines).contains(&n), "{e}");
    };
    if let Err(e) = chemlm_train::metrics::read_metrics(&path) {
        check(e);
    }
    if let Err(e) = chemlm_train::seq2seq::bench::read_examples(&path) {
        check(e);
    }
});
