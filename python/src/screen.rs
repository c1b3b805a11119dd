//! `chemlm.screen`: ligand-based virtual screening of a library (a file or a list of SMILES)
//! against actives, by the same streaming engine as `chemlm screen` (`chemlm_screen::screen`).

use std::io::{BufRead, Cursor};
use std::path::Path;

use chemlm_screen::{
    screen as run_screen, Aggregate, EmbeddingScorer, FingerprintKind, FingerprintScorer,
    ModelEmbedder, PredictionScorer, Scorer, ScreenOptions,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::chemlm_err;

/// One hit: rank, score, smiles, id, line, index of the nearest active.
type HitRow = (usize, f64, String, Option<String>, u64, Option<usize>);

/// `(hits, molecules scored, bad lines as (line, reason))`.
type ScreenResult = (Vec<HitRow>, u64, Vec<(u64, String)>);

fn scorer(
    actives: &[String],
    fingerprint: &str,
    aggregate: &str,
    model: Option<&str>,
    predict_task: Option<usize>,
    canonicalize: bool,
) -> PyResult<Box<dyn Scorer>> {
    // As the command line's default `--device auto`: a GPU when built with CUDA and present.
    let dev = chemlm_models::DeviceSpec::Auto
        .resolve()
        .map_err(chemlm_err)?;
    if let Some(task) = predict_task {
        let Some(dir) = model else {
            return Err(PyValueError::new_err(
                "scoring by prediction needs a fine-tuned model",
            ));
        };
        return Ok(Box::new(
            PredictionScorer::load(Path::new(dir), task, &dev).map_err(chemlm_err)?,
        ));
    }
    if actives.is_empty() {
        return Err(PyValueError::new_err(
            "similarity screening needs at least one active",
        ));
    }
    let aggregate: Aggregate = aggregate.parse().map_err(PyValueError::new_err)?;
    let queries: Vec<&str> = actives.iter().map(String::as_str).collect();
    let bad_active = |e: chemlm_screen::ScreenError| PyValueError::new_err(format!("actives: {e}"));
    Ok(match model {
        Some(dir) => {
            let e = ModelEmbedder::load(Path::new(dir), canonicalize, &dev).map_err(chemlm_err)?;
            Box::new(EmbeddingScorer::new(e, aggregate, &queries).map_err(bad_active)?)
        }
        None => {
            let kind: FingerprintKind = fingerprint.parse().map_err(PyValueError::new_err)?;
            Box::new(FingerprintScorer::new(kind, aggregate, &queries).map_err(bad_active)?)
        }
    })
}

/// Screens `library_path` (a SMILES file, plain or gzip) or `library` (SMILES strings, each
/// optionally followed by an id) and returns the `top` best.
#[pyfunction]
#[pyo3(signature = (library_path, library, actives, top, fingerprint, aggregate, model, predict_task, canonicalize, skip_header))]
#[allow(clippy::too_many_arguments)]
fn screen(
    py: Python<'_>,
    library_path: Option<String>,
    library: Option<Vec<String>>,
    actives: Vec<String>,
    top: usize,
    fingerprint: &str,
    aggregate: &str,
    model: Option<String>,
    predict_task: Option<usize>,
    canonicalize: bool,
    skip_header: bool,
) -> PyResult<ScreenResult> {
    if top == 0 {
        return Err(PyValueError::new_err("top must be at least 1"));
    }
    let fingerprint = fingerprint.to_string();
    let aggregate = aggregate.to_string();
    py.detach(move || {
        let scorer = scorer(
            &actives,
            &fingerprint,
            &aggregate,
            model.as_deref(),
            predict_task,
            canonicalize,
        )?;
        let (reader, source): (Box<dyn BufRead>, String) = match (library_path, library) {
            (Some(p), _) => (
                chemlm_data::open_input(Some(Path::new(&p))).map_err(chemlm_err)?,
                p,
            ),
            (None, Some(lines)) => {
                // One molecule per line: a newline inside an item would split it in two.
                if let Some(i) = lines.iter().position(|l| l.contains(['\n', '\r'])) {
                    return Err(PyValueError::new_err(format!(
                        "library item {i} contains a line break"
                    )));
                }
                (
                    Box::new(Cursor::new(lines.join("\n").into_bytes())),
                    "<list>".into(),
                )
            }
            (None, None) => return Err(PyValueError::new_err("no library given")),
        };
        let opts = ScreenOptions {
            top,
            skip_header,
            ..ScreenOptions::default()
        };
        let mut bad = Vec::new();
        let summary = run_screen(
            reader,
            &source,
            scorer.as_ref(),
            &opts,
            |b| bad.push((b.line, b.reason.clone())),
            |_| {},
        )
        .map_err(chemlm_err)?;
        let hits = summary
            .hits
            .into_iter()
            .map(|h| (h.rank, h.score, h.smiles, h.id, h.line, h.nearest))
            .collect();
        Ok((hits, summary.scored, bad))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(screen, m)?)
}
