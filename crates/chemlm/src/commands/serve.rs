//! `chemlm serve`: models behind an HTTP API (the server is `chemlm_serve`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chemlm_serve::batcher::BatchPolicy;
use chemlm_serve::ServeConfig;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// A model to serve: `DIR`, `hf:ORG/NAME[@REV]` or a `chemlm finetune` run, optionally named
    /// `NAME=DIR` (default name: the directory's name). Repeat for several; the first is the
    /// default of requests that name none.
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0 = any free port; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Molecules merged into one forward pass.
    #[arg(long, default_value_t = 256)]
    pub batch_molecules: usize,
    /// Milliseconds a request waits for others to share its forward pass.
    #[arg(long, default_value_t = 5)]
    pub batch_wait_ms: u64,
    /// Requests that may wait per model; beyond that the server answers 429.
    #[arg(long, default_value_t = 256)]
    pub queue: usize,
    /// Largest request body, bytes (413 beyond).
    #[arg(long, default_value_t = 8 << 20)]
    pub max_body: usize,
    /// Molecules per request (413 beyond).
    #[arg(long, default_value_t = 10_000)]
    pub max_molecules: usize,
    /// Seconds one request may take (408 beyond).
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Molecule library (`smiles [id]` per line) that /neighbors and the web page search.
    #[arg(long)]
    pub library: Option<PathBuf>,
}

/// `NAME=DIR` or `DIR` (named after its last component).
pub fn parse_model(spec: &str) -> Result<(String, PathBuf)> {
    let (name, dir) = match spec.split_once('=') {
        Some((n, d)) if !n.contains('/') => (n.to_string(), d.to_string()),
        _ => {
            let d = spec.trim_end_matches('/');
            let name = d.rsplit(['/', ':']).next().unwrap_or(d).to_string();
            (name, spec.to_string())
        }
    };
    if name.is_empty() || dir.is_empty() {
        bail!("--model {spec:?}: expected DIR or NAME=DIR");
    }
    Ok((name, PathBuf::from(dir)))
}

pub fn run(a: &ServeArgs, quiet: bool) -> Result<()> {
    let mut models = Vec::new();
    for spec in &a.models {
        let (name, mut dir) = parse_model(spec)?;
        crate::hub::resolve(&mut dir, quiet)?;
        models.push((name, dir));
    }
    let cfg = ServeConfig {
        models,
        batch: BatchPolicy {
            max_molecules: a.batch_molecules.max(1),
            max_wait: Duration::from_millis(a.batch_wait_ms),
            queue: a.queue.max(1),
        },
        max_body_bytes: a.max_body,
        max_molecules: a.max_molecules.max(1),
        max_generate: 1_000,
        timeout: Duration::from_secs(a.timeout.max(1)),
        library: a.library.clone(),
    };
    let state = chemlm_serve::load(&cfg, &crate::runtime::device()?)?;
    for m in state.models.values() {
        eprintln!("serving {} ({:?}) from {}", m.name, m.kind, m.dir.display());
    }
    for f in state.force_fields.values() {
        eprintln!("serving {} (force field) from {}", f.name, f.dir.display());
    }
    if let Some(l) = &state.library {
        eprintln!(
            "library {}: {} molecules ({} bad lines skipped)",
            l.path.display(),
            l.len(),
            l.bad
        );
    }
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind((a.host.as_str(), a.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", a.host, a.port))?;
        // The address with the port chosen, for scripts that asked for port 0.
        println!("listening on http://{}", listener.local_addr()?);
        let app = chemlm_serve::router(state, &cfg);
        chemlm_serve::serve(listener, app, chemlm_serve::shutdown_signal()).await?;
        eprintln!("serve: shut down after finishing the requests in flight");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_specs() {
        assert_eq!(
            parse_model("runs/pre/model").unwrap(),
            ("model".into(), PathBuf::from("runs/pre/model"))
        );
        assert_eq!(
            parse_model("small=runs/x/").unwrap(),
            ("small".into(), PathBuf::from("runs/x/"))
        );
        assert_eq!(
            parse_model("hf:ibm/MoLFormer-XL-both-10pct").unwrap().0,
            "MoLFormer-XL-both-10pct"
        );
        assert!(parse_model("=x").is_err());
    }
}
