//! The JSON endpoints. Every molecule list is answered item by item: a bad molecule is
//! `{"error": reason}` in its place and the others are answered; a request that cannot be
//! answered at all is an HTTP error with `{"error": reason}`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chemlm_models::generate::SamplingConfig;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::batcher::{Batcher, SubmitError};
use crate::metrics::Metrics;
use crate::models::ServedModel;

/// What the handlers share.
pub struct AppState {
    pub models: BTreeMap<String, Arc<ServedModel>>,
    /// The model used when a request names none (the first `--model`).
    pub default_model: Option<String>,
    pub metrics: Arc<Metrics>,
    /// Molecules per request (embed, predict, canon, selfies).
    pub max_molecules: usize,
    /// Samples per `/generate` request.
    pub max_generate: usize,
}

/// A request that cannot be answered: its status and reason, sent as `{"error": reason}`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// An [`ApiError`].
pub fn error(status: StatusCode, reason: impl Into<String>) -> ApiError {
    ApiError(status, reason.into())
}

type ApiResult = Result<Response, ApiError>;

/// The JSON body, or why it is not one (malformed JSON, wrong fields, wrong content type) as a
/// JSON error like every other.
fn parse<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(v)| v)
        .map_err(|e| error(e.status(), e.body_text()))
}

/// `{"model"?: NAME, "smiles": [...]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoleculesRequest {
    pub model: Option<String>,
    pub smiles: Vec<String>,
}

/// `/generate`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    pub model: Option<String>,
    pub n: usize,
    pub temperature: Option<f64>,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub seed: Option<u64>,
    pub max_new_tokens: Option<usize>,
}

impl AppState {
    fn model(&self, name: Option<&str>) -> Result<&Arc<ServedModel>, ApiError> {
        let name = match name.or(self.default_model.as_deref()) {
            Some(n) => n,
            None => return Err(error(StatusCode::NOT_FOUND, "this server holds no model")),
        };
        self.models.get(name).ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!(
                    "no model {name:?}; this server holds {:?}",
                    self.models.keys().collect::<Vec<_>>()
                ),
            )
        })
    }

    fn check_size(&self, n: usize) -> Result<(), ApiError> {
        if n > self.max_molecules {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "{n} molecules in one request; the limit is {} (split the list)",
                    self.max_molecules
                ),
            ));
        }
        Ok(())
    }
}

/// Runs `smiles` through a model's batching queue.
async fn batched<T: Send + 'static>(
    batcher: &Batcher<T>,
    smiles: Vec<String>,
) -> Result<Vec<Result<T, String>>, ApiError> {
    let rx = batcher.submit(smiles).map_err(|e| match e {
        SubmitError::Busy => error(
            StatusCode::TOO_MANY_REQUESTS,
            "the model's queue is full; retry shortly",
        ),
        SubmitError::Closed => error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    })?;
    match rx.await {
        Ok(Ok(rows)) => Ok(rows),
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e)),
        Err(_) => Err(error(StatusCode::SERVICE_UNAVAILABLE, "shutting down")),
    }
}

fn items<T: serde::Serialize>(rows: Vec<Result<T, String>>, key: &str) -> Vec<Value> {
    rows.into_iter()
        .map(|r| match r {
            Ok(v) => json!({ key: v }),
            Err(e) => json!({ "error": e }),
        })
        .collect()
}

pub async fn embed(
    State(st): State<Arc<AppState>>,
    body: Result<Json<MoleculesRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    let m = st.model(req.model.as_deref())?.clone();
    st.check_size(req.smiles.len())?;
    let rows = batched(&m.embed, req.smiles).await?;
    Ok(Json(json!({ "model": m.name, "results": items(rows, "embedding") })).into_response())
}

pub async fn predict(
    State(st): State<Arc<AppState>>,
    body: Result<Json<MoleculesRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    let m = st.model(req.model.as_deref())?.clone();
    st.check_size(req.smiles.len())?;
    let Some(p) = &m.predict else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("model {} is not a fine-tuned model: no predictions", m.name),
        ));
    };
    let rows = batched(p, req.smiles).await?;
    Ok(Json(json!({
        "model": m.name,
        "tasks": m.info.get("tasks"),
        "results": items(rows, "prediction"),
    }))
    .into_response())
}

pub async fn generate(
    State(st): State<Arc<AppState>>,
    body: Result<Json<GenerateRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    let m = st.model(req.model.as_deref())?.clone();
    if req.n > st.max_generate {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("n = {}; the limit is {}", req.n, st.max_generate),
        ));
    }
    let d = SamplingConfig::default();
    let cfg = SamplingConfig {
        temperature: req.temperature.unwrap_or(d.temperature),
        top_k: req.top_k,
        top_p: req.top_p,
        max_new_tokens: req.max_new_tokens.unwrap_or(d.max_new_tokens),
        seed: req.seed.unwrap_or(d.seed),
    };
    let n = req.n;
    let model = m.clone();
    match tokio::task::spawn_blocking(move || model.generate(n, &cfg)).await {
        Ok(Ok(mols)) => Ok(Json(json!({ "model": m.name, "molecules": mols })).into_response()),
        Ok(Err(e)) => Err(error(StatusCode::BAD_REQUEST, e)),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// Runs a per-molecule function off the async threads.
async fn per_molecule(
    st: &AppState,
    smiles: Vec<String>,
    key: &'static str,
    f: fn(&str) -> Result<String, String>,
) -> ApiResult {
    st.check_size(smiles.len())?;
    match tokio::task::spawn_blocking(move || smiles.iter().map(|s| f(s)).collect()).await {
        Ok(rows) => Ok(Json(json!({ "results": items::<String>(rows, key) })).into_response()),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

fn canon_one(s: &str) -> Result<String, String> {
    chemlm_chem::canonicalize(s).map_err(|e| e.to_string())
}

fn selfies_one(s: &str) -> Result<String, String> {
    chemlm_chem::selfies::encoder(s).map_err(|e| e.to_string())
}

pub async fn canon(
    State(st): State<Arc<AppState>>,
    body: Result<Json<MoleculesRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    per_molecule(&st, req.smiles, "smiles", canon_one).await
}

pub async fn selfies(
    State(st): State<Arc<AppState>>,
    body: Result<Json<MoleculesRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    per_molecule(&st, req.smiles, "selfies", selfies_one).await
}

pub async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

pub async fn info(State(st): State<Arc<AppState>>) -> Response {
    let models: Vec<Value> = st
        .models
        .values()
        .map(|m| {
            json!({
                "name": m.name,
                "path": m.dir.display().to_string(),
                "kind": m.kind,
                "config": m.info,
            })
        })
        .collect();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "default_model": st.default_model,
        "models": models,
        "max_molecules_per_request": st.max_molecules,
    }))
    .into_response()
}

pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
        .into_response()
}

/// The routes, for `/openapi.json` (and its test).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("get", "/health", "Liveness: {\"status\": \"ok\"}."),
    ("get", "/info", "Loaded models, their kinds and sizes, limits."),
    ("get", "/metrics", "Prometheus metrics (text exposition)."),
    ("get", "/openapi.json", "This document."),
    ("post", "/embed", "Mean-pooled embeddings of {model?, smiles: [..]}; per-item results."),
    ("post", "/predict", "Predictions of a fine-tuned model for {model?, smiles: [..]}."),
    ("post", "/generate", "Samples {model?, n, temperature?, top_k?, top_p?, seed?, max_new_tokens?} from a causal LM."),
    ("post", "/canon", "Canonical SMILES of {smiles: [..]}; per-item results."),
    ("post", "/selfies", "SELFIES of {smiles: [..]}; per-item results."),
];

pub async fn openapi() -> Response {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in ROUTES {
        let mut op = json!({ "summary": summary, "responses": { "200": { "description": "OK" } } });
        if *method == "post" {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } });
            op["responses"]["429"] = json!({ "description": "Queue full; retry" });
            op["responses"]["413"] = json!({ "description": "Request too large" });
        }
        paths.insert(path.to_string(), json!({ *method: op }));
    }
    Json(json!({
        "openapi": "3.0.3",
        "info": { "title": "chemlm serve", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
    }))
    .into_response()
}

/// Records every request (endpoint, status, latency) in the metrics.
pub async fn record(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let endpoint = if ROUTES.iter().any(|(_, p, _)| *p == path) {
        path
    } else {
        "other".to_string()
    };
    let t0 = Instant::now();
    let resp = next.run(req).await;
    st.metrics.request(
        &endpoint,
        resp.status().as_u16(),
        t0.elapsed().as_secs_f64(),
    );
    resp
}
