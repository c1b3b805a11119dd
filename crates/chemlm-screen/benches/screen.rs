//! Screening throughput: the same streaming engine `chemlm screen` runs (gzip input, chunked
//! parallel ECFP4 scoring, top-k heap).
//!
//! `cargo bench -p chemlm-screen --bench screen -- --library FILE --actives FILE [--threads N]
//! [--top K]` prints one JSON line: molecules, seconds, molecules/s, peak resident memory
//! (VmHWM) and the top hit. `benches/screen/run.sh` runs it beside the RDKit reference
//! (`benches/screen/rdkit_screen.py`) and prints the ratio.

use std::path::PathBuf;
use std::time::Instant;

use chemlm_screen::{
    read_molecule_list, screen, Aggregate, FingerprintKind, FingerprintScorer, ScreenOptions,
};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut library, mut actives) = (None::<PathBuf>, None::<PathBuf>);
    let (mut threads, mut top) = (2usize, 1000usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--library" => library = args.next().map(PathBuf::from),
            "--actives" => actives = args.next().map(PathBuf::from),
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            "--top" => top = args.next().ok_or("--top K")?.parse()?,
            _ => {} // `cargo bench` adds `--bench`
        }
    }
    let (Some(library), Some(actives)) = (library, actives) else {
        eprintln!("usage: screen --library FILE --actives FILE [--threads N] [--top K]");
        return Ok(());
    };
    let queries = read_molecule_list(&actives)?;
    let smiles: Vec<&str> = queries.iter().map(|e| e.smiles.as_str()).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let start = Instant::now();
    let scorer = FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Max, &smiles)?;
    let reader = chemlm_data::open_input(Some(&library))?;
    let opts = ScreenOptions {
        top,
        ..Default::default()
    };
    let mut invalid = 0u64;
    let s = pool.install(|| screen(reader, "library", &scorer, &opts, |_| invalid += 1, |_| {}))?;
    let secs = start.elapsed().as_secs_f64();
    let molecules = s.scored + s.invalid;
    println!(
        "{}",
        serde_json::json!({
            "task": "screen ecfp4 max",
            "threads": threads,
            "actives": smiles.len(),
            "molecules": molecules,
            "invalid": invalid,
            "seconds": secs,
            "mol_per_s": molecules as f64 / secs,
            "vmhwm_kib": vm_hwm_kib(),
            "top1_score": s.hits.first().map(|h| h.score),
            "top1_line": s.hits.first().map(|h| h.line),
            "topk_min_score": s.hits.last().map(|h| h.score),
        })
    );
    Ok(())
}
