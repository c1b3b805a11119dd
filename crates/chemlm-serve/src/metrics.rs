//! Prometheus metrics in the text exposition format: requests by endpoint and status, a latency
//! histogram per endpoint, the size of each merged forward pass, and the queue depth per model.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Upper bounds of the latency buckets, seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Upper bounds of the batch-size buckets, molecules.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], v: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; bounds.len()];
        }
        for (c, &b) in self.counts.iter_mut().zip(bounds) {
            if v <= b {
                *c += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (c, b) in self.counts.iter().zip(bounds) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    batches: BTreeMap<String, Histogram>,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// Requests waiting in each model's batching queue (model name → depth).
    pub queue_depth: Mutex<BTreeMap<String, std::sync::Arc<AtomicUsize>>>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One answered request.
    pub fn request(&self, endpoint: &str, status: u16, seconds: f64) {
        let mut m = self.lock();
        *m.requests
            .entry((endpoint.to_string(), status))
            .or_default() += 1;
        m.latency
            .entry(endpoint.to_string())
            .or_default()
            .observe(&LATENCY_BUCKETS, seconds);
    }

    /// One merged forward pass of `molecules` molecules for `model`.
    pub fn batch(&self, model: &str, molecules: usize) {
        self.lock()
            .batches
            .entry(model.to_string())
            .or_default()
            .observe(&BATCH_BUCKETS, molecules as f64);
    }

    /// Registers the queue-depth gauge of a model.
    pub fn register_queue(&self, model: &str, depth: std::sync::Arc<AtomicUsize>) {
        self.queue_depth
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(model.to_string(), depth);
    }

    /// The text exposition (`text/plain; version=0.0.4`).
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP chemlm_requests_total Requests answered, by endpoint and HTTP status.\n",
        );
        out.push_str("# TYPE chemlm_requests_total counter\n");
        for ((e, s), n) in &m.requests {
            let _ = writeln!(
                out,
                "chemlm_requests_total{{endpoint=\"{e}\",status=\"{s}\"}} {n}"
            );
        }
        out.push_str("# HELP chemlm_request_seconds Request latency, by endpoint.\n");
        out.push_str("# TYPE chemlm_request_seconds histogram\n");
        for (e, h) in &m.latency {
            h.render(
                &mut out,
                "chemlm_request_seconds",
                &format!("endpoint=\"{e}\""),
                &LATENCY_BUCKETS,
            );
        }
        out.push_str(
            "# HELP chemlm_batch_molecules Molecules per merged forward pass, by model.\n",
        );
        out.push_str("# TYPE chemlm_batch_molecules histogram\n");
        for (model, h) in &m.batches {
            h.render(
                &mut out,
                "chemlm_batch_molecules",
                &format!("model=\"{model}\""),
                &BATCH_BUCKETS,
            );
        }
        drop(m);
        out.push_str("# HELP chemlm_queue_depth Requests waiting to be batched, by model.\n");
        out.push_str("# TYPE chemlm_queue_depth gauge\n");
        for (model, d) in self
            .queue_depth
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "chemlm_queue_depth{{model=\"{model}\"}} {}",
                d.load(Ordering::Relaxed)
            );
        }
        out
    }
}
