//! `chemlm serve`: chemlm models behind an HTTP API (issue 21).
//!
//! JSON endpoints for what the loaded models can do — `/embed` (language models), `/predict`
//! (fine-tuned runs), `/generate` (causal LMs), `/seq2seq` (T5), `/energy-forces` (force
//! fields), `/neighbors` (a screened library, `--library`) — and for the molecule tools,
//! `/canon`, `/selfies` and `/depict` (2-D SVG); plus
//! `/health`, `/info`, `/openapi.json`, Prometheus `/metrics`, and a web page at `/` that
//! calls them. The work is the
//! library's own front doors (`Embedder`, `FinetunedModel::predict`, `sample_molecules`), so a
//! served answer equals the command line's.
//!
//! Embedding and prediction requests are batched dynamically ([`batcher`]): concurrent requests
//! to one model are merged into one forward pass, up to a molecule budget or a latency bound, and
//! the rows are handed back to each request. The queue is bounded: when it is full the server
//! answers 429 at once instead of holding unbounded work. A bad molecule is that item's error;
//! the other items are answered. Request bodies and molecules per request are capped, every
//! request has a time limit, and shutdown (Ctrl-C, SIGTERM) finishes the requests in flight.

pub mod api;
pub mod batcher;
pub mod forcefield;
pub mod library;
pub mod metrics;
pub mod models;
pub mod server;

pub use models::{ModelKind, ServedModel};
pub use server::{load, router, serve, shutdown_signal, ServeConfig, ServeError};
