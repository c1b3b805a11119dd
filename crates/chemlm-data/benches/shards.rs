//! Corpus preparation throughput: read (gzip CSV) → [canonicalize] → tokenize → build vocabulary
//! → write token shards, i.e. `chemlm data prepare`, on MOSES train by default.
//!
//! `cargo bench -p chemlm-data --bench shards -- [--input FILE] [--threads N] [--canonicalize]
//! [--limit N]` prints one JSON line: molecules, seconds, molecules/s, the pipeline's timing
//! breakdown and peak resident memory (VmHWM). `benches/data/run.sh` runs it beside the Python
//! reference (`benches/data/prepare_ref.py`) and prints the ratio.

use std::path::PathBuf;
use std::time::Instant;

use chemlm_data::prepare::{prepare, IgnoreObserver, PrepareConfig};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut input: Option<PathBuf> = None;
    let mut threads = 2usize;
    let mut canonicalize = false;
    let mut limit: Option<usize> = None;
    let mut out: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--input" => input = args.next().map(PathBuf::from),
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(2),
            "--canonicalize" => canonicalize = true,
            "--limit" => limit = args.next().and_then(|v| v.parse().ok()),
            "--out" => out = args.next().map(PathBuf::from),
            _ => {} // `cargo bench` adds `--bench`
        }
    }
    let input = input.unwrap_or_else(|| {
        let data = std::env::var_os("CHEMLM_DATA_DIR").unwrap_or_else(|| "../shared/data".into());
        PathBuf::from(data).join("moses/train.csv.gz")
    });
    if !input.is_file() {
        eprintln!(
            "skipped: {} not found (set CHEMLM_DATA_DIR)",
            input.display()
        );
        return;
    }
    // `--limit N`: the first N data rows, copied to a temporary plain CSV first (not timed).
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = match limit {
        None => input,
        Some(n) => {
            let mut r = chemlm_data::open_input(Some(&input)).expect("open input");
            let mut text = String::new();
            let mut line = String::new();
            for _ in 0..=n {
                line.clear();
                if std::io::BufRead::read_line(&mut r, &mut line).expect("read") == 0 {
                    break;
                }
                text.push_str(&line);
            }
            let p = tmp.path().join("input.csv");
            std::fs::write(&p, text).expect("write sample");
            p
        }
    };
    let out_dir = out.unwrap_or_else(|| tmp.path().join("shards"));
    let mut cfg = PrepareConfig::new(vec![input.clone()], out_dir.clone());
    cfg.threads = Some(threads);
    cfg.canonicalize = canonicalize;
    let t = Instant::now();
    let s = prepare(&cfg, &mut IgnoreObserver).expect("prepare");
    let secs = t.elapsed().as_secs_f64();
    let bytes: u64 = std::fs::read_dir(&out_dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let line = serde_json::json!({
        "impl": "rust",
        "task": if canonicalize { "canonicalize+tokenize+shards" } else { "tokenize+shards" },
        "input": input.display().to_string(),
        "threads": threads,
        "molecules": s.records,
        "bad": s.bad,
        "tokens": s.train.tokens + s.valid.tokens,
        "vocab_size": s.vocab_size,
        "seconds": secs,
        "mol_per_s": s.records as f64 / secs,
        "timings": s.timings,
        "output_bytes": bytes,
        "vmhwm_kib": vm_hwm_kib(),
    });
    println!("{line}");
}
