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
use crate::forcefield::{ServedForceField, StructureIn};
use crate::metrics::Metrics;
use crate::models::ServedModel;
use chemlm_train::seq2seq::{DecodeOptions, Prompt};

/// What the handlers share.
pub struct AppState {
    pub models: BTreeMap<String, Arc<ServedModel>>,
    pub force_fields: BTreeMap<String, Arc<ServedForceField>>,
    /// The library `/neighbors` searches (`--library`).
    pub library: Option<Arc<crate::library::Library>>,
    /// The model used when a request names none (the first language-model `--model`).
    pub default_model: Option<String>,
    /// The force field used when an `/energy-forces` request names none.
    pub default_force_field: Option<String>,
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

/// `/seq2seq`'s body: the texts, the task whose prompt goes before each (`none`: as they
/// are), and decoding options as `chemlm seq2seq`'s flags (greedy by default; the others keep
/// [`DecodeOptions`]' defaults).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seq2SeqRequest {
    pub model: Option<String>,
    pub inputs: Vec<String>,
    pub task: Option<String>,
    pub beams: Option<usize>,
    pub num_return: Option<usize>,
    pub length_penalty: Option<f64>,
    pub early_stopping: Option<String>,
    pub max_length: Option<usize>,
    pub sample: Option<bool>,
    pub temperature: Option<f64>,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub seed: Option<u64>,
}

impl Seq2SeqRequest {
    fn options(&self) -> DecodeOptions {
        let d = DecodeOptions::default();
        DecodeOptions {
            beams: self.beams.unwrap_or(d.beams),
            num_return: self.num_return.unwrap_or(d.num_return),
            length_penalty: self.length_penalty.unwrap_or(d.length_penalty),
            early_stopping: self.early_stopping.clone().unwrap_or(d.early_stopping),
            max_length: self.max_length.unwrap_or(d.max_length),
            sample: self.sample.unwrap_or(d.sample),
            temperature: self.temperature.unwrap_or(d.temperature),
            top_k: self.top_k.or(d.top_k),
            top_p: self.top_p.or(d.top_p),
            seed: self.seed.unwrap_or(d.seed),
            ..d
        }
    }
}

/// `/neighbors`' body: queries and how many neighbours each (default 10, at most 1,000).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborsRequest {
    pub smiles: Vec<String>,
    pub k: Option<usize>,
}

/// `/energy-forces`' body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyForcesRequest {
    pub model: Option<String>,
    pub structures: Vec<serde_json::Value>,
}

/// Atoms in one `/energy-forces` request (all structures together).
const MAX_ATOMS_PER_REQUEST: usize = 200_000;

/// `name`, or the default when the request names none, from one of the server's model maps;
/// `what` says which kind in the errors.
fn lookup<'a, T>(
    map: &'a BTreeMap<String, Arc<T>>,
    name: Option<&str>,
    default: Option<&str>,
    what: &str,
) -> Result<&'a Arc<T>, ApiError> {
    let Some(name) = name.or(default) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("this server holds no {what}"),
        ));
    };
    map.get(name).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            format!(
                "no {what} {name:?}; this server holds {:?}",
                map.keys().collect::<Vec<_>>()
            ),
        )
    })
}

impl AppState {
    fn force_field(&self, name: Option<&str>) -> Result<&Arc<ServedForceField>, ApiError> {
        lookup(
            &self.force_fields,
            name,
            self.default_force_field.as_deref(),
            "force field",
        )
    }

    fn model(&self, name: Option<&str>) -> Result<&Arc<ServedModel>, ApiError> {
        lookup(&self.models, name, self.default_model.as_deref(), "model")
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
    let Some(e) = &m.embed else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("model {} has no token vocabulary: no embeddings", m.name),
        ));
    };
    let rows = batched(e, req.smiles).await?;
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

fn depict_one(s: &str) -> Result<String, String> {
    chemlm_chem::Molecule::from_smiles(s)
        .map(|m| m.depict_svg())
        .map_err(|e| e.to_string())
}

pub async fn depict(
    State(st): State<Arc<AppState>>,
    body: Result<Json<MoleculesRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    per_molecule(&st, req.smiles, "svg", depict_one).await
}

pub async fn seq2seq(
    State(st): State<Arc<AppState>>,
    body: Result<Json<Seq2SeqRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    let m = st.model(req.model.as_deref())?.clone();
    st.check_size(req.inputs.len())?;
    let prompt = Prompt::parse(req.task.as_deref().unwrap_or("none"))
        .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    let opts = req.options();
    if opts.beams.max(opts.num_return) > 64 {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "at most 64 beams or returned candidates per input",
        ));
    }
    let cfg = opts
        .translate_config()
        .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
    let model = m.clone();
    let inputs = req.inputs;
    let rows =
        match tokio::task::spawn_blocking(move || model.translate(&inputs, prompt, cfg)).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => return Err(error(StatusCode::BAD_REQUEST, e)),
            Err(e) => return Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        };
    let results: Vec<Value> = rows
        .into_iter()
        .map(|r| match r {
            Ok(cands) => json!({ "candidates": cands.iter().map(|c| json!({
                "text": c.text, "score": c.score, "finished": c.finished,
            })).collect::<Vec<_>>() }),
            Err(e) => json!({ "error": e }),
        })
        .collect();
    Ok(Json(json!({ "model": m.name, "results": results })).into_response())
}

pub async fn energy_forces(
    State(st): State<Arc<AppState>>,
    body: Result<Json<EnergyForcesRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    let ff = st.force_field(req.model.as_deref())?.clone();
    st.check_size(req.structures.len())?;
    // Each structure is read on its own, so a malformed one is that item's error.
    let structures: Vec<Result<chemlm_atoms::Structure, String>> = req
        .structures
        .into_iter()
        .map(|v| {
            serde_json::from_value::<StructureIn>(v)
                .map_err(|e| format!("not a structure: {e}"))
                .and_then(|s| s.to_structure())
        })
        .collect();
    let atoms: usize = structures.iter().flatten().map(|s| s.len()).sum();
    if atoms > MAX_ATOMS_PER_REQUEST {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{atoms} atoms in one request; the limit is {MAX_ATOMS_PER_REQUEST}"),
        ));
    }
    let model = ff.clone();
    let rows = tokio::task::spawn_blocking(move || model.energy_forces(&structures))
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let results: Vec<Value> = rows
        .into_iter()
        .map(|r| match r {
            Ok(p) => json!({ "energy": p.energy, "forces": p.forces }),
            Err(e) => json!({ "error": e }),
        })
        .collect();
    Ok(Json(json!({
        "model": ff.name,
        "units": { "energy": "eV", "forces": "eV/Å", "positions": "Å" },
        "results": results,
    }))
    .into_response())
}

pub async fn neighbors(
    State(st): State<Arc<AppState>>,
    body: Result<Json<NeighborsRequest>, JsonRejection>,
) -> ApiResult {
    let req = parse(body)?;
    let Some(lib) = st.library.clone() else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "this server holds no library (start it with --library FILE)",
        ));
    };
    st.check_size(req.smiles.len())?;
    let k = req.k.unwrap_or(10);
    if k == 0 || k > 1_000 {
        return Err(error(StatusCode::BAD_REQUEST, "k must be 1 to 1000"));
    }
    let smiles = req.smiles;
    let rows = tokio::task::spawn_blocking(move || {
        smiles
            .iter()
            .map(|s| lib.neighbors(s, k))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(json!({ "results": items(rows, "neighbors") })).into_response())
}

/// The web page (`page.html`): a form over the endpoints above.
pub async fn page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("page.html"),
    )
        .into_response()
}

pub async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

pub async fn info(State(st): State<Arc<AppState>>) -> Response {
    let mut models: Vec<Value> = st
        .models
        .values()
        .map(|m| {
            json!({
                "name": m.name,
                "path": m.dir.display().to_string(),
                "kind": m.kind,
                "embeddings": m.embed.is_some(),
                "config": m.info,
            })
        })
        .collect();
    models.extend(st.force_fields.values().map(|f| {
        json!({
            "name": f.name,
            "path": f.dir.display().to_string(),
            "kind": "force-field",
            "config": f.info,
        })
    }));
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "default_model": st.default_model,
        "default_force_field": st.default_force_field,
        "models": models,
        "max_molecules_per_request": st.max_molecules,
        "library": st.library.as_ref().map(|l| json!({
            "path": l.path.display().to_string(),
            "molecules": l.len(),
            "bad_lines": l.bad,
        })),
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
    ("get", "/", "The web page (HTML): SMILES in, canonical form, depiction, predictions, embeddings, samples, translations."),
    ("get", "/health", "Liveness: {\"status\": \"ok\"}."),
    ("get", "/info", "Loaded models, their kinds and sizes, limits."),
    ("get", "/metrics", "Prometheus metrics (text exposition)."),
    ("get", "/openapi.json", "This document."),
    ("post", "/embed", "Mean-pooled embeddings of {model?, smiles: [..]}; per-item results."),
    ("post", "/predict", "Predictions of a fine-tuned model for {model?, smiles: [..]}."),
    ("post", "/generate", "Samples {model?, n, temperature?, top_k?, top_p?, seed?, max_new_tokens?} from a causal LM."),
    ("post", "/canon", "Canonical SMILES of {smiles: [..]}; per-item results."),
    ("post", "/selfies", "SELFIES of {smiles: [..]}; per-item results."),
    ("post", "/depict", "2-D depictions (SVG) of {smiles: [..]}; per-item results."),
    ("post", "/neighbors", "The k most similar library molecules (Morgan r=2, 2048 bits, Tanimoto) of {smiles: [..], k?}; per-item results."),
    ("post", "/seq2seq", "Translations by a T5 of {model?, inputs: [..], task?, beams?, num_return?, max_length?, length_penalty?, early_stopping?, sample?, temperature?, top_k?, top_p?, seed?}; per-item candidates."),
    ("post", "/energy-forces", "Energy (eV) and forces (eV/Å) by a force field of {model?, structures: [{numbers, positions, cell?, pbc?}]}; per-item results."),
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
