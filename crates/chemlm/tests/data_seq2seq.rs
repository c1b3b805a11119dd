//! `chemlm data seq2seq` end to end on the real data (CHEMLM_DATA_DIR), a few records per file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn data_dir() -> PathBuf {
    std::env::var_os("CHEMLM_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

#[test]
fn data_seq2seq_writes_jsonl_shards_tokenizer_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s2s");
    let o = Command::new(env!("CARGO_BIN_EXE_chemlm"))
        .args(["--quiet", "data", "seq2seq", "--out"])
        .arg(&out)
        .arg("--data-dir")
        .arg(data_dir())
        .args([
            "--tasks",
            "forward,retro,text2mol,mol2text,actions",
            "--canonicalize",
            "--group-salts",
            "--weights",
            "actions=3",
            "--train-tokenizer",
            "--vocab-size",
            "300",
            "--extra-ids",
            "5",
            "--max-length",
            "5000",
            "--limit",
            "25",
            "--seed",
            "1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("round trip: 0 of"), "{stdout}");
    for f in [
        "train.jsonl",
        "valid.jsonl",
        "test.jsonl",
        "tokenizer.json",
        "manifest.json",
        "summary.json",
        "shards/train.source-00000.tokens",
        "shards/train.target-00000.offsets",
        "shards/test.tasks",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let shards = chemlm_data::seq2seq::Seq2SeqShards::open(&out).unwrap();
    let train = shards.split("train").unwrap();
    let lines = std::fs::read_to_string(out.join("train.jsonl")).unwrap();
    assert_eq!(train.len(), lines.lines().count());
    let actions = train
        .tasks()
        .iter()
        .filter(|&&t| t == chemlm_data::seq2seq::Task::Actions)
        .count();
    assert_eq!(actions, 75);
    // A bad option is refused.
    let bad = Command::new(env!("CARGO_BIN_EXE_chemlm"))
        .args(["data", "seq2seq", "--out"])
        .arg(dir.path().join("bad"))
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--tasks", "nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}
