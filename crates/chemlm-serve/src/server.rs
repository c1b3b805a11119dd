//! Server assembly: load the models, build the router with its limits, serve until a shutdown
//! signal, then finish the requests in flight.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use candle_core::Device;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::api::{self, AppState};
use crate::batcher::BatchPolicy;
use crate::forcefield::{is_force_field, ServedForceField};
use crate::metrics::Metrics;
use crate::models::ServedModel;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("model {name}: {reason}")]
    Model { name: String, reason: String },
    #[error("library {}: {reason}", path.display())]
    Library { path: PathBuf, reason: String },
    #[error("two models are named {0}")]
    DuplicateName(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Everything `chemlm serve` is told.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// `(name, directory)` of each model; the first is the default.
    pub models: Vec<(String, PathBuf)>,
    pub batch: BatchPolicy,
    /// Request body limit (bytes): larger bodies get 413 before they are read whole.
    pub max_body_bytes: usize,
    /// Molecules per request.
    pub max_molecules: usize,
    /// Samples per `/generate` request.
    pub max_generate: usize,
    /// Time limit of one request (408 after it).
    pub timeout: Duration,
    /// A molecule library for `/neighbors` (`smiles [id]` per line).
    pub library: Option<PathBuf>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            batch: BatchPolicy::default(),
            max_body_bytes: 8 << 20,
            max_molecules: 10_000,
            max_generate: 1_000,
            timeout: Duration::from_secs(60),
            library: None,
        }
    }
}

/// Loads every model of `cfg` on `device` and returns the shared state. A directory whose
/// `config.json` names a force field is served for `/energy-forces`; the others are language
/// models.
pub fn load(cfg: &ServeConfig, device: &Device) -> Result<Arc<AppState>, ServeError> {
    let metrics = Arc::new(Metrics::default());
    let mut models = BTreeMap::new();
    let mut force_fields = BTreeMap::new();
    let (mut default_model, mut default_force_field) = (None, None);
    for (name, dir) in &cfg.models {
        if models.contains_key(name) || force_fields.contains_key(name) {
            return Err(ServeError::DuplicateName(name.clone()));
        }
        if is_force_field(dir) {
            let m = ServedForceField::load(name, dir, device)?;
            force_fields.insert(name.clone(), Arc::new(m));
            default_force_field.get_or_insert_with(|| name.clone());
        } else {
            let m = ServedModel::load(name, dir, device, cfg.batch, metrics.clone())?;
            models.insert(name.clone(), Arc::new(m));
            default_model.get_or_insert_with(|| name.clone());
        }
    }
    let library = match &cfg.library {
        Some(p) => Some(Arc::new(crate::library::Library::load(p)?)),
        None => None,
    };
    Ok(Arc::new(AppState {
        models,
        force_fields,
        library,
        default_model,
        default_force_field,
        metrics,
        max_molecules: cfg.max_molecules,
        max_generate: cfg.max_generate,
    }))
}

/// The routes with their limits and the metrics middleware.
pub fn router(state: Arc<AppState>, cfg: &ServeConfig) -> Router {
    Router::new()
        .route("/", get(api::page))
        .route("/health", get(api::health))
        .route("/info", get(api::info))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(api::openapi))
        .route("/embed", post(api::embed))
        .route("/predict", post(api::predict))
        .route("/generate", post(api::generate))
        .route("/canon", post(api::canon))
        .route("/selfies", post(api::selfies))
        .route("/depict", post(api::depict))
        .route("/neighbors", post(api::neighbors))
        .route("/seq2seq", post(api::seq2seq))
        .route("/energy-forces", post(api::energy_forces))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::record,
        ))
        .layer(DefaultBodyLimit::max(cfg.max_body_bytes))
        // Refuses a declared Content-Length over the limit before reading any of the body.
        .layer(RequestBodyLimitLayer::new(cfg.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            cfg.timeout,
        ))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
