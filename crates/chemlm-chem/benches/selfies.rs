//! SELFIES benchmarks: parity with the Python `selfies` package and throughput.
//!
//! Driven by `benches/selfies/parity.sh` and `benches/selfies/throughput.sh`, which run the
//! Python reference on the same input first. Modes (after `cargo bench -p chemlm-chem --bench
//! selfies --`):
//!
//! - `parity DUMP.tsv [MISMATCHES.tsv]`: DUMP is `source, smiles, python selfies, python decoded`
//!   per line (`!ERROR` where Python raised). Reports encoder string equality, decoder string
//!   equality, equality of decoded molecules (canonical SMILES) and encode -> decode round trips.
//! - `decode-parity STRINGS.tsv`: lines `selfies, python decoded`; reports decoder string
//!   equality (for random symbol strings) and prints the differences.
//! - `throughput SMILES.txt [THREADS]`: encodes then decodes every line on a rayon pool of
//!   THREADS (default 2) and prints molecules/s and peak memory (VmHWM) as one JSON line.
//! - no arguments: throughput on the first 100,000 MOSES test molecules under
//!   `$CHEMLM_DATA_DIR` (skipped with a message if absent).

use chemlm_chem::canonicalize;
use chemlm_chem::selfies::{self, Constraints};
use rayon::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let result = match args.first().map(String::as_str) {
        Some("parity") => parity(&args[1..]),
        Some("decode-parity") => decode_parity(&args[1..]),
        Some("throughput") => throughput(&args[1..]),
        Some(other) => Err(format!(
            "unknown mode {other:?} (parity | decode-parity | throughput)"
        )),
        None => default_run(),
    };
    if let Err(e) = result {
        eprintln!("selfies bench: {e}");
        std::process::exit(1);
    }
}

const ERR: &str = "!ERROR";

struct Row {
    source: String,
    smiles: String,
    py_selfies: String,
    py_decoded: String,
}

/// What the Rust side computes for one molecule.
struct Outcome {
    rs_selfies: Option<String>,
    rs_decoded: Option<String>,
    /// Rust decoder on Python's string.
    rs_decoded_py: Option<String>,
    canon_input: Option<String>,
    canon_rs: Option<String>,
    canon_py: Option<String>,
}

fn parity(args: &[String]) -> Result<(), String> {
    let path = args.first().ok_or("parity needs DUMP.tsv")?;
    let mismatch_path = args.get(1).cloned();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 4 {
            return Err(format!("{path}:{}: expected 4 tab-separated fields", i + 1));
        }
        rows.push(Row {
            source: f[0].into(),
            smiles: f[1].into(),
            py_selfies: f[2].into(),
            py_decoded: f[3].into(),
        });
    }
    let t = Instant::now();
    let outcomes: Vec<Outcome> = rows
        .par_iter()
        .map(|r| {
            let rs_selfies = selfies::encoder(&r.smiles).ok();
            let rs_decoded = rs_selfies.as_deref().and_then(|s| selfies::decoder(s).ok());
            let py_ok = r.py_selfies != ERR;
            let rs_decoded_py = py_ok
                .then(|| selfies::decoder(&r.py_selfies).ok())
                .flatten();
            let canon = |s: &str| canonicalize(s).ok();
            Outcome {
                canon_input: py_ok.then(|| canon(&r.smiles)).flatten(),
                canon_rs: rs_decoded.as_deref().and_then(canon),
                canon_py: (py_ok && r.py_decoded != ERR)
                    .then(|| canon(&r.py_decoded))
                    .flatten(),
                rs_selfies,
                rs_decoded,
                rs_decoded_py,
            }
        })
        .collect();
    let elapsed = t.elapsed().as_secs_f64();

    let mut c = Counts::default();
    let mut mismatches = String::new();
    for (r, o) in rows.iter().zip(&outcomes) {
        c.total += 1;
        let py_ok = r.py_selfies != ERR;
        let rs_ok = o.rs_selfies.is_some();
        match (py_ok, rs_ok) {
            (true, true) => c.both_encode += 1,
            (false, false) => c.both_refuse += 1,
            (true, false) => {
                c.only_python += 1;
                note(&mut mismatches, "only-python-encodes", r, o);
            }
            (false, true) => {
                c.only_rust += 1;
                note(&mut mismatches, "only-rust-encodes", r, o);
            }
        }
        if !py_ok {
            continue;
        }
        c.py_encoded += 1;
        if o.rs_selfies.as_deref() == Some(r.py_selfies.as_str()) {
            c.enc_equal += 1;
        } else if rs_ok {
            note(&mut mismatches, "encoding-differs", r, o);
        }
        if o.rs_decoded_py.as_deref() == Some(r.py_decoded.as_str()) {
            c.dec_equal += 1;
        } else {
            note(&mut mismatches, "decoding-differs", r, o);
        }
        if o.rs_decoded.as_deref() == Some(r.py_decoded.as_str()) {
            c.roundtrip_string_equal += 1;
        }
        if let Some(canon_py) = &o.canon_py {
            c.py_canon_ok += 1;
            if o.canon_rs.as_ref() == Some(canon_py) {
                c.mol_equal += 1;
            } else {
                note(&mut mismatches, "decoded-molecule-differs", r, o);
            }
        }
        if let Some(ci) = &o.canon_input {
            c.input_canon_ok += 1;
            if o.canon_rs.as_ref() == Some(ci) {
                c.rs_roundtrip += 1;
            }
            if o.canon_py.as_ref() == Some(ci) {
                c.py_roundtrip += 1;
            }
        }
    }
    if let Some(p) = mismatch_path {
        std::fs::write(&p, &mismatches).map_err(|e| format!("{p}: {e}"))?;
        eprintln!("mismatches written to {p}");
    }
    c.report(elapsed);
    Ok(())
}

fn decode_parity(args: &[String]) -> Result<(), String> {
    let path = args.first().ok_or("decode-parity needs STRINGS.tsv")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let rows: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('\t')).collect();
    let got: Vec<String> = rows
        .par_iter()
        .map(|(s, _)| selfies::decoder(s).unwrap_or_else(|_| ERR.to_string()))
        .collect();
    let mut equal = 0;
    for ((s, want), got) in rows.iter().zip(&got) {
        if got == want {
            equal += 1;
        } else {
            eprintln!("differs: {s}\tpython={want}\trust={got}");
        }
    }
    println!(
        "decoder string equal: {equal} of {} = {}",
        rows.len(),
        pct(equal, rows.len())
    );
    Ok(())
}

fn note(out: &mut String, kind: &str, r: &Row, o: &Outcome) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "{kind}\t{}\t{}\tpy={}\trs={}\tpy_dec={}\trs_dec={}\trs_dec_of_py={}",
        r.source,
        r.smiles,
        r.py_selfies,
        o.rs_selfies.as_deref().unwrap_or(ERR),
        r.py_decoded,
        o.rs_decoded.as_deref().unwrap_or(ERR),
        o.rs_decoded_py.as_deref().unwrap_or(ERR),
    );
}

#[derive(Default)]
struct Counts {
    total: usize,
    both_encode: usize,
    both_refuse: usize,
    only_python: usize,
    only_rust: usize,
    py_encoded: usize,
    enc_equal: usize,
    dec_equal: usize,
    roundtrip_string_equal: usize,
    py_canon_ok: usize,
    mol_equal: usize,
    input_canon_ok: usize,
    rs_roundtrip: usize,
    py_roundtrip: usize,
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "n/a".into()
    } else {
        format!("{:.4} %", 100.0 * a as f64 / b as f64)
    }
}

impl Counts {
    fn report(&self, elapsed: f64) {
        println!("SELFIES parity vs Python selfies 2.2.0 ({elapsed:.1} s for the Rust side)");
        println!(
            "  molecules                                   {}",
            self.total
        );
        println!(
            "  Python encodes / Rust encodes both          {} / {}",
            self.py_encoded, self.both_encode
        );
        println!(
            "  refused by both / only Python / only Rust   {} / {} / {}",
            self.both_refuse, self.only_python, self.only_rust
        );
        println!(
            "  (c) encoder string equal                    {} of {} = {}",
            self.enc_equal,
            self.py_encoded,
            pct(self.enc_equal, self.py_encoded)
        );
        println!(
            "      decoder string equal (Python's SELFIES) {} of {} = {}",
            self.dec_equal,
            self.py_encoded,
            pct(self.dec_equal, self.py_encoded)
        );
        println!(
            "      encode+decode string equal to Python's  {} of {} = {}",
            self.roundtrip_string_equal,
            self.py_encoded,
            pct(self.roundtrip_string_equal, self.py_encoded)
        );
        println!(
            "  (a) decoded molecule equal (canonical)      {} of {} = {}",
            self.mol_equal,
            self.py_canon_ok,
            pct(self.mol_equal, self.py_canon_ok)
        );
        println!(
            "  (b) round trip = input (canonical), Rust    {} of {} = {}",
            self.rs_roundtrip,
            self.input_canon_ok,
            pct(self.rs_roundtrip, self.input_canon_ok)
        );
        println!(
            "      round trip = input (canonical), Python  {} of {} = {}",
            self.py_roundtrip,
            self.input_canon_ok,
            pct(self.py_roundtrip, self.input_canon_ok)
        );
    }
}

fn default_run() -> Result<(), String> {
    let Some(dir) = std::env::var_os("CHEMLM_DATA_DIR") else {
        println!("selfies bench: CHEMLM_DATA_DIR not set, skipping (see benches/selfies/*.sh)");
        return Ok(());
    };
    let path = std::path::Path::new(&dir).join("moses/test.csv.gz");
    if !path.exists() {
        println!("selfies bench: {} absent, skipping", path.display());
        return Ok(());
    }
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let smiles: Vec<String> = text
        .lines()
        .skip(1)
        .take(100_000)
        .map(|l| l.split(',').next().unwrap_or("").to_string())
        .collect();
    run_throughput(&smiles, 2)
}

fn throughput(args: &[String]) -> Result<(), String> {
    let path = args.first().ok_or("throughput needs SMILES.txt")?;
    let threads: usize = match args.get(1) {
        Some(t) => t.parse().map_err(|e| format!("THREADS {t:?}: {e}"))?,
        None => 2,
    };
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut smiles = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        let first = line.split('\t').next().unwrap_or("").trim();
        if !first.is_empty() {
            smiles.push(first.to_string());
        }
    }
    run_throughput(&smiles, threads)
}

/// Best of three timed passes of each phase (the machine is shared); one warm-up pass first.
fn run_throughput(smiles: &[String], threads: usize) -> Result<(), String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let constraints = Constraints::default();
    let encode_all = || -> Vec<String> {
        pool.install(|| {
            smiles
                .par_iter()
                .with_min_len(256)
                .filter_map(|s| selfies::encoder_with(s, &constraints).ok())
                .collect()
        })
    };
    let mut encoded = encode_all();
    let mut best_enc = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        encoded = encode_all();
        best_enc = best_enc.min(t.elapsed().as_secs_f64());
    }
    let decode_all = || -> usize {
        pool.install(|| {
            encoded
                .par_iter()
                .with_min_len(256)
                .filter_map(|s| selfies::decoder_with(s, &constraints).ok())
                .map(|s| s.len())
                .sum()
        })
    };
    let mut checksum = decode_all();
    let mut best_dec = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        checksum = decode_all();
        best_dec = best_dec.min(t.elapsed().as_secs_f64());
    }
    let line = format!(
        "{{\"threads\": {threads}, \"molecules\": {}, \"encoded\": {}, \"encode_per_s\": {:.0}, \
         \"decode_per_s\": {:.0}, \"decoded_chars\": {checksum}, \"vm_hwm_kb\": {}}}",
        smiles.len(),
        encoded.len(),
        smiles.len() as f64 / best_enc,
        encoded.len() as f64 / best_dec,
        vm_hwm_kb()
    );
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{line}").map_err(|e| e.to_string())?;
    Ok(())
}

/// Peak resident memory of this process (`VmHWM` in /proc/self/status), 0 where unavailable.
fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
