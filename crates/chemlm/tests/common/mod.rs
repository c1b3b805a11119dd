//! Helpers shared by the binary's integration tests: run `chemlm`, require success, and build
//! the small data set and random model most command tests start from.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with `args`, on its defaults whatever device or precision the calling
/// environment asks for.
pub fn chemlm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chemlm"))
        .args(args)
        .env_remove("CHEMLM_DEVICE")
        .env_remove("CHEMLM_PRECISION")
        .output()
        .expect("run chemlm")
}

/// Runs the binary and requires success; returns its output.
pub fn ok(args: &[&str]) -> Output {
    let o = chemlm(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A committed fixture, e.g. `moses-mini.smi`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// `path` as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Prepares the MOSES fixture as `kind` (`smiles` or `selfies`) into `dir/data` and writes a
/// randomly initialised `preset` model on its tokenizer into `dir/model`; returns the model
/// directory.
pub fn tiny_model(dir: &Path, kind: &str, preset: &str) -> PathBuf {
    let (data, model) = (dir.join("data"), dir.join("model"));
    let moses = fixture("moses-mini.smi");
    ok(&[
        "--quiet",
        "data",
        "prepare",
        "--input",
        arg(&moses),
        "--kind",
        kind,
        "--out",
        arg(&data),
    ]);
    let tok = data.join("tokenizer.json");
    ok(&[
        "--quiet",
        "model",
        "init",
        "--preset",
        preset,
        "--tokenizer",
        arg(&tok),
        "--out",
        arg(&model),
    ]);
    model
}
