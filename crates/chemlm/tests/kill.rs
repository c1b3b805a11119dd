//! Issue 17 §2 kill tests: `kill -9` during `canon`, `data prepare`, `finetune`, `screen` and
//! `generate` leaves the previous output intact (never a half-written one), and the next run of
//! the same command leaves no temporary file or directory behind.
//!
//! Each command is killed twice: once as soon as its temporary output exists (so the kill
//! certainly lands mid-write and leaves a stale temporary for the next run to sweep; `screen` and
//! `generate` write only at the end, so for them the first kill lands at whatever point the
//! temporary appears or the work is under way), and once after a fixed delay.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{fixture, ok, tiny_model};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chemlm"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chemlm")
}

/// Names of temporaries (`.NAME.tmp-PID…`) anywhere under `dir`.
fn temps(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().contains(".tmp-") {
                found.push(p.clone());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            }
        }
    }
    found
}

/// Every file under `dir` with its bytes: what "the old output is intact" compares.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                files.insert(e.path(), std::fs::read(e.path()).unwrap_or_default());
            }
        }
    }
    files
}

/// How the test decides when to kill.
enum When {
    /// As soon as a temporary exists under the directory (or the timeout passes).
    TempAppears(Duration),
    /// After a fixed delay.
    After(Duration),
}

/// Runs `args`, kills it with SIGKILL as `when` says, and returns whether it was still running
/// (a run that finished first is not a kill).
fn kill9(args: &[&str], dir: &Path, when: When) -> bool {
    let mut child = spawn(args);
    let t0 = Instant::now();
    let limit = match when {
        When::TempAppears(d) | When::After(d) => d,
    };
    while t0.elapsed() < limit {
        if matches!(when, When::TempAppears(_)) && !temps(dir).is_empty() {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    killed
}

/// The whole check for one command: `run` is the command line, `intact` says whether the
/// destination still holds the old output, `next` is the run that follows the kills.
/// `wait` bounds the wait for the first kill's temporary.
fn check(
    name: &str,
    (run, wait): (&[&str], Duration),
    dir: &Path,
    intact: &dyn Fn() -> bool,
    next: &[&str],
) {
    let first = kill9(run, dir, When::TempAppears(wait));
    assert!(first, "{name}: finished before it could be killed");
    assert!(intact(), "{name}: old output damaged by kill -9 mid-write");
    let second = kill9(run, dir, When::After(Duration::from_millis(700)));
    assert!(second, "{name}: finished within 0.7 s");
    assert!(
        intact(),
        "{name}: old output damaged by kill -9 after 0.7 s"
    );
    ok(next);
    let left = temps(dir);
    assert!(left.is_empty(), "{name}: temporaries left: {left:?}");
    assert!(!intact(), "{name}: the next run did not replace the output");
}

/// First-kill wait for commands whose temporary appears at the start.
const LONG: Duration = Duration::from_secs(60);
/// First-kill wait for commands that write only at the end (the kill lands mid-work).
const SHORT: Duration = Duration::from_millis(1500);

/// The MOSES fixture's SMILES, repeated to `n` lines.
fn library(n: usize) -> String {
    let text = std::fs::read_to_string(fixture("moses-mini.smi")).unwrap();
    let smiles: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut out = String::new();
    for i in 0..n {
        out.push_str(smiles[i % smiles.len()]);
        out.push('\n');
    }
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn kill9_canon() {
    let d = tempfile::tempdir().unwrap();
    let (input, small, out) = (
        d.path().join("big.smi"),
        d.path().join("small.smi"),
        d.path().join("out.smi"),
    );
    std::fs::write(&input, library(600_000)).unwrap();
    std::fs::write(&small, "OCC\n").unwrap();
    std::fs::write(&out, "old\n").unwrap();
    let intact = || std::fs::read_to_string(&out).unwrap() == "old\n";
    let run = ["--quiet", "canon", "-i", s(&input), "-o", s(&out)];
    let next = ["--quiet", "canon", "-i", s(&small), "-o", s(&out)];
    check("canon", (&run, LONG), d.path(), &intact, &next);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "CCO\n");
}

#[test]
fn kill9_data_prepare() {
    let d = tempfile::tempdir().unwrap();
    let (input, data) = (d.path().join("big.smi"), d.path().join("data"));
    std::fs::write(&input, library(300_000)).unwrap();
    let (fixture, input, data_s) = (path(&fixture("moses-mini.smi")), path(&input), path(&data));
    let prepare = |inp: &str| {
        let mut a = vec!["--quiet", "data", "prepare", "--input", inp];
        a.extend([
            "--kind",
            "smiles",
            "--valid-fraction",
            "0.1",
            "--out",
            &data_s,
        ]);
        owned(&a)
    };
    ok(&strs(&prepare(&fixture)));
    let before = snapshot(&data);
    let intact = || snapshot(&data) == before;
    // The next run prepares the big input, whose files differ from the fixture's.
    let big = prepare(&input);
    check(
        "data prepare",
        (&strs(&big), LONG),
        d.path(),
        &intact,
        &strs(&big),
    );
}

#[test]
fn kill9_finetune() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| path(&d.path().join(n));
    let model = path(&tiny_model(d.path(), "smiles", "molformer-tiny"));
    let (csv, ft) = (p("y.csv"), p("ft"));
    let rows: Vec<String> = library(300)
        .lines()
        .enumerate()
        .map(|(i, m)| format!("{m},{}", (i % 7) as f64 / 7.0))
        .collect();
    std::fs::write(&csv, format!("smiles,y\n{}\n", rows.join("\n"))).unwrap();
    let finetune = |epochs: &str, seeds: &str| {
        let mut a = vec!["--quiet", "finetune", "--model", &model, "--dataset", &csv];
        a.extend([
            "--smiles-col",
            "smiles",
            "--target-cols",
            "y",
            "--task",
            "regression",
        ]);
        a.extend([
            "--epochs",
            epochs,
            "--patience",
            epochs,
            "--seeds",
            seeds,
            "--overwrite",
            "--out",
            &ft,
        ]);
        owned(&a)
    };
    ok(&strs(&finetune("1", "0")));
    let ft_dir = d.path().join("ft");
    let before = snapshot(&ft_dir);
    let intact = || snapshot(&ft_dir) == before;
    // Long enough to be killed mid-training (200 epochs of this tiny model on 300
    // molecules finished within 0.7 s on an idle machine); the next run differs in its seed.
    let (run, next) = (finetune("20000", "1"), finetune("1", "2"));
    check(
        "finetune",
        (&strs(&run), LONG),
        d.path(),
        &intact,
        &strs(&next),
    );
}

#[test]
fn kill9_screen() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| path(&d.path().join(n));
    let (lib, small, act, hits) = (p("lib.smi"), p("small.smi"), p("act.smi"), p("hits.csv"));
    std::fs::write(&lib, library(1_500_000)).unwrap();
    std::fs::write(&small, library(50)).unwrap();
    std::fs::write(&act, "CC(C)Cc1ccc(cc1)C(C)C(=O)O ibuprofen\n").unwrap();
    std::fs::write(&hits, "old\n").unwrap();
    let intact = || std::fs::read_to_string(&hits).unwrap() == "old\n";
    let screen = |library: &str| {
        owned(&[
            "--quiet",
            "screen",
            "--library",
            library,
            "--actives",
            &act,
            "--out",
            &hits,
        ])
    };
    let (run, next) = (screen(&lib), screen(&small));
    check(
        "screen",
        (&strs(&run), SHORT),
        d.path(),
        &intact,
        &strs(&next),
    );
    let written = std::fs::read_to_string(&hits).unwrap();
    assert!(written.starts_with("rank,score,smiles"), "{written}");
}

#[test]
fn kill9_generate() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| path(&d.path().join(n));
    let model = path(&tiny_model(d.path(), "selfies", "gpt-small"));
    let out = p("gen.smi");
    std::fs::write(&out, "old\n").unwrap();
    let intact = || std::fs::read_to_string(&out).unwrap() == "old\n";
    let generate = |num: &str| {
        let mut a = vec!["--quiet", "generate", "--model", &model, "--num", num];
        a.extend(["--batch", "32", "--max-len", "48", "--out", &out]);
        owned(&a)
    };
    let (run, next) = (generate("20000"), generate("40"));
    check(
        "generate",
        (&strs(&run), SHORT),
        d.path(),
        &intact,
        &strs(&next),
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 40);
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn owned(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
