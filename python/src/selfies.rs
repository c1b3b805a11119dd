//! `chemlm.selfies`: the SELFIES port of `chemlm_chem::selfies`, with the process-wide semantic
//! constraints of the Python `selfies` package (a preset or a custom dictionary).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use chemlm_chem::selfies::{self, Constraints};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::{map_strings, DecoderError, EncoderError, Failures};

/// The constraints `encoder`/`decoder` use, as `selfies.set_semantic_constraints` sets them.
/// (The Rust crate's own process-wide switch only knows presets; Python also allows a dict.)
static CURRENT: RwLock<Option<Arc<Constraints>>> = RwLock::new(None);

fn current() -> Arc<Constraints> {
    match CURRENT.read() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
    .unwrap_or_else(|| Arc::new(Constraints::default_ref().clone()))
}

fn encode(smiles: &str, c: &Constraints, strict: bool) -> Result<String, String> {
    let mut out = String::with_capacity(smiles.len() * 4);
    selfies::encode_into(smiles, c, strict, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn decode(s: &str, c: &Constraints) -> Result<String, String> {
    let mut out = String::with_capacity(s.len() / 2 + 8);
    selfies::decode_into(s, c, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[pyfunction]
#[pyo3(signature = (smiles, strict = true))]
fn selfies_encoder(py: Python<'_>, smiles: &str, strict: bool) -> PyResult<String> {
    let c = current();
    py.detach(|| encode(smiles, &c, strict))
        .map_err(EncoderError::new_err)
}

#[pyfunction]
fn selfies_decoder(py: Python<'_>, selfies: &str) -> PyResult<String> {
    let c = current();
    py.detach(|| decode(selfies, &c))
        .map_err(DecoderError::new_err)
}

#[pyfunction]
#[pyo3(signature = (smiles, strict = true))]
fn selfies_encoder_batch(
    py: Python<'_>,
    smiles: Vec<String>,
    strict: bool,
) -> (Vec<Option<Py<PyString>>>, Failures) {
    let c = current();
    map_strings(py, &smiles, |s| encode(s, &c, strict))
}

#[pyfunction]
fn selfies_decoder_batch(
    py: Python<'_>,
    selfies: Vec<String>,
) -> (Vec<Option<Py<PyString>>>, Failures) {
    let c = current();
    map_strings(py, &selfies, |s| decode(s, &c))
}

/// The symbols up to the first malformed one, and the error there (the Python layer yields the
/// symbols, then raises, as the `selfies` generator does).
#[pyfunction]
fn split_selfies(selfies: &str) -> (Vec<String>, Option<String>) {
    let mut symbols = Vec::new();
    for s in selfies::split_selfies_iter(selfies) {
        match s {
            Ok(s) => symbols.push(s.to_string()),
            Err(_) => {
                return (
                    symbols,
                    Some("malformed SELFIES string, hanging '[' bracket".into()),
                )
            }
        }
    }
    (symbols, None)
}

#[pyfunction]
fn len_selfies(selfies: &str) -> usize {
    selfies::len_selfies(selfies)
}

#[pyfunction]
fn get_semantic_robust_alphabet() -> BTreeSet<String> {
    current().robust_alphabet()
}

#[pyfunction]
fn get_alphabet_from_selfies(selfies: Vec<String>) -> PyResult<BTreeSet<String>> {
    selfies::get_alphabet_from_selfies(selfies.iter().map(String::as_str))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pyfunction]
fn get_semantic_constraints() -> BTreeMap<String, u32> {
    current().as_map().clone()
}

#[pyfunction]
fn get_preset_constraints(name: &str) -> PyResult<BTreeMap<String, u32>> {
    Constraints::preset(name)
        .map(|c| c.as_map().clone())
        .map_err(|_| PyValueError::new_err(format!("unrecognized preset name '{name}'")))
}

/// `bond_constraints`: a preset name or a dictionary (validated as `selfies` does).
#[pyfunction]
fn set_semantic_constraints(bond_constraints: &Bound<'_, PyAny>) -> PyResult<()> {
    let c = if let Ok(name) = bond_constraints.extract::<String>() {
        Constraints::preset(&name)
            .map_err(|_| PyValueError::new_err(format!("unrecognized preset name '{name}'")))?
    } else if let Ok(map) = bond_constraints.extract::<BTreeMap<String, u32>>() {
        Constraints::from_map(map).map_err(|e| PyValueError::new_err(e.to_string()))?
    } else {
        return Err(PyValueError::new_err(
            "bond_constraints must be a str or dict",
        ));
    };
    match CURRENT.write() {
        Ok(mut g) => *g = Some(Arc::new(c)),
        Err(p) => *p.into_inner() = Some(Arc::new(c)),
    }
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(selfies_encoder, m)?)?;
    m.add_function(wrap_pyfunction!(selfies_decoder, m)?)?;
    m.add_function(wrap_pyfunction!(selfies_encoder_batch, m)?)?;
    m.add_function(wrap_pyfunction!(selfies_decoder_batch, m)?)?;
    m.add_function(wrap_pyfunction!(split_selfies, m)?)?;
    m.add_function(wrap_pyfunction!(len_selfies, m)?)?;
    m.add_function(wrap_pyfunction!(get_semantic_robust_alphabet, m)?)?;
    m.add_function(wrap_pyfunction!(get_alphabet_from_selfies, m)?)?;
    m.add_function(wrap_pyfunction!(get_semantic_constraints, m)?)?;
    m.add_function(wrap_pyfunction!(get_preset_constraints, m)?)?;
    m.add_function(wrap_pyfunction!(set_semantic_constraints, m)?)?;
    Ok(())
}
