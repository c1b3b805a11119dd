//! Canonicalization and Morgan fingerprint throughput of chemlm-chem, to compare with RDKit from
//! Python on the same input (`benches/chem/run.sh` runs both and prints the ratio).
//!
//! ```text
//! cargo bench -p chemlm-chem --bench canon -- [--input FILE] [--limit N] [--threads T]
//!     [--task canon|morgan|all|brics] [--out FILE] [--repeat K] [--slowest N]
//! ```
//! Input: one SMILES per line (first whitespace-separated field), or a CSV(.gz) whose header is
//! `SMILES`/`smiles` in the first column; default `$CHEMLM_DATA_DIR/moses/test.csv.gz`, first
//! 100,000 molecules. Each task parses the SMILES and computes the result, as
//! `Chem.MolToSmiles(Chem.MolFromSmiles(s))` does in RDKit. `--out` writes one result per input
//! line (canonical SMILES, or space-separated Morgan on-bits; empty when the molecule failed),
//! for the parity check against RDKit's output. Timings are the best of `--repeat` passes (default
//! 3). `--slowest N` lists the N slowest molecules. `--task brics` (not part of `all`) times
//! `Molecule::brics_fragments` against RDKit's `MolToSmiles(FragmentOnBRICSBonds(m))`; its output
//! line is the sorted pieces joined by `.`.

use chemlm_chem::Molecule;
use flate2::read::GzDecoder;
use rayon::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

struct Args {
    input: PathBuf,
    limit: usize,
    threads: usize,
    task: String,
    out: Option<PathBuf>,
    slowest: usize,
    repeat: usize,
}

fn parse_args() -> Result<Args, String> {
    let data = std::env::var_os("CHEMLM_DATA_DIR").map(PathBuf::from);
    let mut args = Args {
        input: data
            .map(|d| d.join("moses/test.csv.gz"))
            .unwrap_or_default(),
        limit: 100_000,
        threads: 2,
        task: "all".into(),
        out: None,
        slowest: 0,
        repeat: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--input" => args.input = PathBuf::from(value()?),
            "--limit" => args.limit = value()?.parse().map_err(|e| format!("--limit: {e}"))?,
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
            }
            "--task" => args.task = value()?,
            "--out" => args.out = Some(PathBuf::from(value()?)),
            "--repeat" => {
                args.repeat = value()?
                    .parse::<usize>()
                    .map_err(|e| format!("--repeat: {e}"))?
                    .max(1)
            }
            "--slowest" => {
                args.slowest = value()?.parse().map_err(|e| format!("--slowest: {e}"))?
            }
            "--bench" => {} // added by `cargo bench`
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.input.as_os_str().is_empty() {
        return Err("no --input and CHEMLM_DATA_DIR is not set".into());
    }
    if !matches!(args.task.as_str(), "canon" | "morgan" | "all" | "brics") {
        return Err(format!(
            "--task {}: expected canon, morgan, all or brics",
            args.task
        ));
    }
    Ok(args)
}

fn read_smiles(path: &PathBuf, limit: usize) -> Result<Vec<String>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut out = Vec::new();
    for (i, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        let field = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap_or("");
        if i == 0 && field.eq_ignore_ascii_case("smiles") {
            continue;
        }
        out.push(field.to_string());
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn canon(s: &str) -> Option<String> {
    Molecule::from_smiles(s).ok()?.canonical_smiles().ok()
}

fn morgan(s: &str) -> Option<String> {
    let fp = Molecule::from_smiles(s).ok()?.morgan(2, 2048).ok()?;
    let bits: Vec<String> = fp.on_bits().iter().map(|b| b.to_string()).collect();
    Some(bits.join(" "))
}

fn brics(s: &str) -> Option<String> {
    let mut pieces = Molecule::from_smiles(s).ok()?.brics_fragments().ok()?;
    pieces.sort();
    Some(pieces.join("."))
}

/// One benchmarked job: SMILES in, printable result out (`None` when the molecule failed).
type Task = fn(&str) -> Option<String>;

/// CPU time used so far by all threads of this process, in seconds (sum of
/// `/proc/self/task/*/schedstat`, nanoseconds on CPU). On a shared machine, molecules per CPU-second
/// compares implementations fairly even when other jobs steal wall time.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ns = 0u64;
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
            ns += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    ns as f64 * 1e-9
}

/// Runs `f` over all inputs on the pool, keeping input order; returns the results, the wall-clock
/// seconds and the CPU seconds taken.
fn run(pool: &rayon::ThreadPool, smiles: &[String], f: Task) -> (Vec<Option<String>>, f64, f64) {
    let cpu = cpu_seconds();
    let start = Instant::now();
    let out: Vec<Option<String>> =
        pool.install(|| smiles.par_iter().with_min_len(256).map(|s| f(s)).collect());
    let wall = start.elapsed().as_secs_f64();
    (out, wall, cpu_seconds() - cpu)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("canon bench: {e}");
            std::process::exit(2);
        }
    };
    let smiles = match read_smiles(&args.input, args.limit) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("canon bench: {e}");
            std::process::exit(2);
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("canon bench: thread pool: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "chemlm-chem: {} molecules from {}, {} threads",
        smiles.len(),
        args.input.display(),
        args.threads
    );
    let tasks: Vec<(&str, Task)> = match args.task.as_str() {
        "canon" => vec![("canon", canon)],
        "morgan" => vec![("morgan", morgan)],
        "brics" => vec![("brics", brics)],
        _ => vec![("canon", canon), ("morgan", morgan)],
    };
    for (name, f) in tasks {
        // One untimed warm-up pass over a slice (page cache, allocator, lazy tables).
        let _warm = run(&pool, &smiles[..smiles.len().min(2000)], f);
        // Best of `repeat` timed passes: on a shared machine the fastest pass is the one least
        // disturbed by other jobs.
        let (mut out, mut secs, mut cpu) = run(&pool, &smiles, f);
        for _ in 1..args.repeat {
            let (o, s, c) = run(&pool, &smiles, f);
            if s < secs {
                (out, secs, cpu) = (o, s, c);
            }
        }
        let failed = out.iter().filter(|o| o.is_none()).count();
        let n = smiles.len() as f64;
        println!(
            "RESULT chemlm {name} threads={} molecules={} failed={failed} best_of={} seconds={secs:.3} mol_per_s={:.0} cpu_s={cpu:.3} mol_per_cpu_s={:.0} peak_rss_mib={:.1}",
            args.threads,
            smiles.len(),
            args.repeat,
            n / secs,
            n / cpu,
            peak_rss_mib()
        );
        if args.slowest > 0 {
            print_slowest(&pool, &smiles, f, args.slowest);
        }
        if let Some(path) = &args.out {
            let path = if args.task == "all" {
                path.with_extension(format!("{name}.txt"))
            } else {
                path.clone()
            };
            if let Err(e) = write_lines(&path, &out) {
                eprintln!("canon bench: {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    }
}

/// Times every molecule on its own and prints the `n` slowest: where the time goes when the
/// throughput of a data set is far from the typical molecule's.
fn print_slowest(pool: &rayon::ThreadPool, smiles: &[String], f: Task, n: usize) {
    let mut times: Vec<(f64, usize)> = pool.install(|| {
        smiles
            .par_iter()
            .enumerate()
            .map(|(i, s)| {
                let t = Instant::now();
                let _ = f(s);
                (t.elapsed().as_secs_f64(), i)
            })
            .collect()
    });
    let total: f64 = times.iter().map(|t| t.0).sum();
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top: f64 = times.iter().take(n).map(|t| t.0).sum();
    println!(
        "slowest {n} molecules take {:.1} % of the {total:.2} s spent:",
        100.0 * top / total
    );
    for &(secs, i) in times.iter().take(n) {
        println!("  {:>9.3} ms  line {:>7}  {}", secs * 1e3, i + 1, smiles[i]);
    }
}

fn write_lines(path: &PathBuf, lines: &[Option<String>]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    for l in lines {
        writeln!(w, "{}", l.as_deref().unwrap_or(""))?;
    }
    w.flush()?;
    drop(w);
    std::fs::rename(tmp, path)
}
