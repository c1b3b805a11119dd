//! `chemlm.Model`: a model directory (or `hf:` Hub id, or a `chemlm finetune` run) loaded once,
//! then embeddings, predictions and generated molecules from the library's front doors
//! (`Embedder`, `FinetunedModel::predict`, `sample_molecules`).

use std::path::{Path, PathBuf};

use candle_core::Device;
use chemlm_data::{OovPolicy, Tokenizer};
use chemlm_models::embedder::{EmbedOptions, Embedder};
use chemlm_models::encode::Pooling;
use chemlm_models::generate::{sample_molecules, SamplingConfig};
use chemlm_models::{DeviceSpec, Model};
use chemlm_train::finetune::artifact::{resolve_run_dir, META_FILE};
use chemlm_train::finetune::FinetunedModel;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::{chemlm_err, split, Failures};

/// The directory a source names: `hf:ORG/NAME[@REV]` is downloaded into (or found in) the
/// Hugging Face cache; a fine-tuning run directory becomes its first fit's best model.
fn resolve(source: &str) -> PyResult<PathBuf> {
    let dir = chemlm_hub::resolve_model_dir(source).map_err(chemlm_err)?;
    // A fine-tuned model or run first (a run directory has a config.json of its own, the run's
    // settings); anything else is read as a plain model directory.
    Ok(resolve_run_dir(&dir).unwrap_or(dir))
}

#[pyclass(name = "Model", module = "chemlm._native", frozen)]
pub struct PyModel {
    dir: PathBuf,
    model: Model,
    tokenizer: Tokenizer,
    finetuned: Option<FinetunedModel>,
}

impl PyModel {
    fn open(dir: &Path, device: &Device) -> PyResult<Self> {
        if dir.join(META_FILE).is_file() {
            let fm = FinetunedModel::load(dir, device).map_err(chemlm_err)?;
            return Ok(Self {
                dir: dir.to_path_buf(),
                model: fm.model.clone(),
                tokenizer: fm.tokenizer.clone(),
                finetuned: Some(fm),
            });
        }
        let model = Model::load(dir, device).map_err(chemlm_err)?;
        let tokenizer =
            Tokenizer::load_dir(dir).map_err(|e| chemlm_err(format!("{}: {e}", dir.display())))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            model,
            tokenizer,
            finetuned: None,
        })
    }
}

#[pymethods]
impl PyModel {
    /// See `chemlm.Model.load`.
    #[staticmethod]
    #[pyo3(signature = (source, device = "auto"))]
    fn load(py: Python<'_>, source: &str, device: &str) -> PyResult<Self> {
        let spec: DeviceSpec = device
            .parse()
            .map_err(|e| PyValueError::new_err(format!("device {device:?}: {e}")))?;
        let source = source.to_string();
        py.detach(move || {
            let dev = spec.resolve().map_err(chemlm_err)?;
            let dir = resolve(&source)?;
            Self::open(&dir, &dev)
        })
    }

    /// The directory the model was loaded from.
    #[getter]
    fn path(&self) -> String {
        self.dir.display().to_string()
    }

    /// `encoder`, `causal-lm`, `seq2seq` or `finetuned`.
    #[getter]
    fn kind(&self) -> &'static str {
        if self.finetuned.is_some() {
            "finetuned"
        } else if self.model.as_gpt_neo().is_some() {
            "causal-lm"
        } else if self.model.config().architecture() == "t5" {
            "seq2seq"
        } else {
            "encoder"
        }
    }

    /// JSON text of the model's description (the Python layer parses it).
    fn info_json(&self) -> PyResult<String> {
        let mut v = chemlm_models::params::describe(self.model.config()).map_err(chemlm_err)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("path".into(), self.dir.display().to_string().into());
            o.insert("kind".into(), self.kind().into());
            o.insert(
                "tokenizer".into(),
                format!("{:?}", self.tokenizer.kind()).to_lowercase().into(),
            );
            if let Some(fm) = &self.finetuned {
                o.insert("tasks".into(), fm.meta.task_names.clone().into());
                o.insert("classification".into(), fm.meta.classification.into());
                o.insert("dataset".into(), fm.meta.dataset.clone().into());
            }
        }
        Ok(v.to_string())
    }

    /// Mean-pooled embeddings `[n, hidden]` (float32, NaN rows for bad molecules), the failures,
    /// and the out-of-vocabulary summary.
    #[pyo3(signature = (smiles, batch_size = 64, canonicalize = false, oov = "unk"))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        smiles: Vec<String>,
        batch_size: usize,
        canonicalize: bool,
        oov: &str,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Failures, Option<String>)> {
        let oov = OovPolicy::parse(oov).ok_or_else(|| {
            PyValueError::new_err(format!("oov must be 'unk' or 'nearest', got {oov:?}"))
        })?;
        let opts = EmbedOptions {
            canonicalize,
            oov,
            pooling: Pooling::Mean,
            batch_size,
            require_sanitizable: false,
        };
        let embedder = Embedder::new(self.model.clone(), self.tokenizer.clone(), opts)
            .map_err(PyValueError::new_err)?;
        let dim = embedder.dim();
        let (rows, failures, oov) = py.detach(|| -> PyResult<_> {
            let refs: Vec<&str> = smiles.iter().map(String::as_str).collect();
            let rows = embedder.embed(&refs).map_err(chemlm_err)?;
            let (rows, failures) = split(rows);
            Ok((rows, failures, embedder.oov_tally().summary(10)))
        })?;
        let arr = to_matrix(rows, dim, f32::NAN)?;
        Ok((arr.into_pyarray(py), failures, oov))
    }

    /// Predictions `[n, tasks]` of a fine-tuned model (probabilities or original units; NaN rows
    /// for bad molecules) and the failures.
    #[pyo3(signature = (smiles, batch_size = 64))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        smiles: Vec<String>,
        batch_size: usize,
    ) -> PyResult<(Bound<'py, PyArray2<f64>>, Failures)> {
        let Some(fm) = &self.finetuned else {
            return Err(chemlm_err(format!(
                "{}: predict needs a fine-tuned model (a `chemlm finetune` run or its best/ directory); this is a {} model",
                self.dir.display(),
                self.kind()
            )));
        };
        if batch_size == 0 {
            return Err(PyValueError::new_err("batch_size must be positive"));
        }
        let tasks = fm.meta.head.n_out;
        let (rows, failures) = py.detach(|| -> PyResult<_> {
            let refs: Vec<&str> = smiles.iter().map(String::as_str).collect();
            Ok(split(fm.predict(&refs, batch_size).map_err(chemlm_err)?))
        })?;
        Ok((to_matrix(rows, tasks, f64::NAN)?.into_pyarray(py), failures))
    }

    /// `n` sampled molecules (SMILES; None where the sample is not decodable).
    #[pyo3(signature = (n, temperature = 1.0, top_k = None, top_p = None, seed = 0, max_new_tokens = 128, batch_size = 64))]
    #[allow(clippy::too_many_arguments)]
    fn generate(
        &self,
        py: Python<'_>,
        n: usize,
        temperature: f64,
        top_k: Option<usize>,
        top_p: Option<f64>,
        seed: u64,
        max_new_tokens: usize,
        batch_size: usize,
    ) -> PyResult<Vec<Option<String>>> {
        let cfg = SamplingConfig {
            temperature,
            top_k,
            top_p,
            max_new_tokens,
            seed,
        };
        let gen = py
            .detach(|| {
                sample_molecules(
                    &self.model,
                    &self.tokenizer,
                    n,
                    batch_size,
                    &cfg,
                    &mut |_| {},
                )
            })
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(gen
            .into_iter()
            .map(|g| (!g.smiles.is_empty()).then_some(g.smiles))
            .collect())
    }

    fn __repr__(&self) -> String {
        format!(
            "chemlm.Model({:?}, kind={:?}, architecture={:?})",
            self.dir.display().to_string(),
            self.kind(),
            self.model.config().architecture()
        )
    }
}

/// Rows of equal length into a matrix; a missing row is `fill`.
fn to_matrix<T: Copy>(rows: Vec<Option<Vec<T>>>, dim: usize, fill: T) -> PyResult<Array2<T>> {
    let n = rows.len();
    let mut flat = Vec::with_capacity(n * dim);
    for r in rows {
        match r {
            Some(v) if v.len() == dim => flat.extend(v),
            Some(v) => {
                return Err(chemlm_err(format!(
                    "a row of {} values where {dim} were expected",
                    v.len()
                )))
            }
            None => flat.extend(std::iter::repeat_n(fill, dim)),
        }
    }
    Array2::from_shape_vec((n, dim), flat).map_err(|e| PyValueError::new_err(e.to_string()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyModel>()
}
