//! `chemlm bench serve`: `/embed` under load against the same model in batch (issue 21 §3).
//!
//! The server runs in this process on 127.0.0.1 (a free port); `C` client threads each send
//! `--requests` requests of `--per-request` molecules (drawn in turn from `--input`) and wait for
//! each answer before the next, for every concurrency `C` of `--concurrency`. Reported per `C`:
//! molecules/s, p50 and p99 request latency; and the batch reference: the same number of molecules
//! through the library's `Embedder` in passes of `--batch-molecules` (what `chemlm embed` does).
//! The run is bounded in requests, so it stops by itself.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chemlm_models::embedder::{EmbedOptions, Embedder};
use chemlm_serve::batcher::BatchPolicy;
use chemlm_serve::ServeConfig;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct BenchServeArgs {
    /// Model directory to serve.
    #[arg(long)]
    pub model: PathBuf,
    /// SMILES file (first field per line); invalid lines are skipped.
    #[arg(long)]
    pub input: PathBuf,
    /// Client counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    pub concurrency: Vec<usize>,
    /// Requests per client.
    #[arg(long, default_value_t = 20)]
    pub requests: usize,
    /// Molecules per request.
    #[arg(long, default_value_t = 4)]
    pub per_request: usize,
    /// The server's molecules per merged pass (and the batch reference's pass size).
    #[arg(long, default_value_t = 64)]
    pub batch_molecules: usize,
    /// The server's batching wait, ms.
    #[arg(long, default_value_t = 5)]
    pub batch_wait_ms: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn run(a: &BenchServeArgs, _quiet: bool) -> Result<()> {
    if a.concurrency.is_empty() || a.requests == 0 || a.per_request == 0 {
        bail!("--concurrency, --requests and --per-request must be positive");
    }
    let text = std::fs::read_to_string(&a.input)
        .with_context(|| format!("reading {}", a.input.display()))?;
    let all: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| chemlm_chem::Molecule::from_smiles(s).is_ok())
        .map(String::from)
        .collect();
    if all.is_empty() {
        bail!("{}: no valid molecules", a.input.display());
    }
    let device = crate::runtime::device()?;
    let cfg = ServeConfig {
        models: vec![("m".into(), a.model.clone())],
        batch: BatchPolicy {
            max_molecules: a.batch_molecules.max(1),
            max_wait: Duration::from_millis(a.batch_wait_ms),
            queue: 4096,
        },
        ..ServeConfig::default()
    };
    let state = chemlm_serve::load(&cfg, &device)?;
    let rt = tokio::runtime::Runtime::new()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = chemlm_serve::router(state, &cfg);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(chemlm_serve::serve(listener, app, async {
        let _ = stop_rx.await;
    }));
    let all = Arc::new(all);
    let load = load_average();
    println!("| clients | molecules/s | p50 ms | p99 ms |\n|---:|---:|---:|---:|");
    let mut best = 0f64;
    for &c in &a.concurrency {
        let t0 = Instant::now();
        let handles: Vec<_> = (0..c)
            .map(|k| {
                let (url, all) = (url.clone(), all.clone());
                let (n, per) = (a.requests, a.per_request);
                std::thread::spawn(move || -> Result<Vec<f64>> {
                    let agent = ureq::Agent::new_with_defaults();
                    let mut lat = Vec::with_capacity(n);
                    for r in 0..n {
                        let start = (k * n + r) * per;
                        let mols: Vec<&str> = (0..per)
                            .map(|i| all[(start + i) % all.len()].as_str())
                            .collect();
                        let body = serde_json::json!({ "smiles": mols }).to_string();
                        let t = Instant::now();
                        let mut resp = agent
                            .post(format!("{url}/embed"))
                            .content_type("application/json")
                            .send(body.as_bytes())?;
                        let _ = resp.body_mut().read_to_string()?;
                        lat.push(t.elapsed().as_secs_f64());
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut lat = Vec::new();
        for h in handles {
            lat.extend(
                h.join()
                    .map_err(|_| anyhow::anyhow!("a client thread panicked"))??,
            );
        }
        let secs = t0.elapsed().as_secs_f64();
        lat.sort_by(f64::total_cmp);
        let rate = (c * a.requests * a.per_request) as f64 / secs;
        best = best.max(rate);
        println!(
            "| {c} | {rate:.0} | {:.1} | {:.1} |",
            1e3 * percentile(&lat, 0.5),
            1e3 * percentile(&lat, 0.99)
        );
    }
    let _ = stop_tx.send(());
    let _ = rt.block_on(server);
    // The batch reference: the most molecules one concurrency level sent, in passes.
    let n = a.concurrency.iter().max().copied().unwrap_or(1) * a.requests * a.per_request;
    let mols: Vec<&str> = (0..n).map(|i| all[i % all.len()].as_str()).collect();
    let embedder = Embedder::load(
        &a.model,
        &device,
        EmbedOptions {
            batch_size: a.batch_molecules.max(1),
            ..EmbedOptions::default()
        },
    )?;
    let t0 = Instant::now();
    embedder.embed(&mols)?;
    let batch_rate = n as f64 / t0.elapsed().as_secs_f64();
    println!(
        "\nbatch (Embedder, passes of {}): {batch_rate:.0} molecules/s; best served: {best:.0} molecules/s = {:.0} % of batch",
        a.batch_molecules,
        100.0 * best / batch_rate
    );
    eprintln!("load average before: {load}; after: {}", load_average());
    Ok(())
}

/// The 1-minute load average (for the benchmark record).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".into())
}
