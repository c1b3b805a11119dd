//! Molecules: canonical SMILES, Murcko scaffolds, Morgan fingerprints as numpy arrays, Tanimoto
//! similarity (`chemlm_chem`, RDKit-compatible).

use chemlm_chem::{Fingerprint, Molecule};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use rayon::prelude::*;

use crate::errors::{fill_rows, map_strings, split, Failures, InvalidMoleculeError};

fn canon(s: &str) -> Result<String, String> {
    Molecule::from_smiles(s)
        .and_then(|m| m.canonical_smiles())
        .map_err(|e| e.to_string())
}

fn scaffold(s: &str, generic: bool) -> Result<String, String> {
    Molecule::from_smiles(s)
        .and_then(|m| m.murcko_scaffold(generic))
        .map_err(|e| e.to_string())
}

fn check_morgan(radius: u32, n_bits: usize) -> PyResult<()> {
    if n_bits == 0 {
        return Err(PyValueError::new_err("n_bits must be at least 1"));
    }
    if radius > 10 {
        return Err(PyValueError::new_err(format!(
            "radius {radius} is out of range (0..=10)"
        )));
    }
    Ok(())
}

fn morgan(s: &str, radius: u32, n_bits: usize) -> Result<Fingerprint, String> {
    Molecule::from_smiles(s)
        .and_then(|m| m.morgan(radius, n_bits))
        .map_err(|e| e.to_string())
}

/// Bits as a `0/1` row, written into `row` (`n_bits` long, zeroed).
fn bits_into(s: &str, radius: u32, row: &mut [u8]) -> Result<(), String> {
    for b in morgan(s, radius, row.len())?.on_bits() {
        row[b] = 1;
    }
    Ok(())
}

/// Counts (RDKit's hashed Morgan counts) written into `row` (`n_bits` long, zeroed).
fn counts_into(s: &str, radius: u32, row: &mut [f32]) -> Result<(), String> {
    let mol = Molecule::from_smiles(s).map_err(|e| e.to_string())?;
    for (b, c) in mol
        .morgan_counts(radius, row.len())
        .map_err(|e| e.to_string())?
    {
        row[b as usize] = c as f32;
    }
    Ok(())
}

fn bad(s: &str, reason: String) -> PyErr {
    InvalidMoleculeError::new_err(format!("{s:?}: {reason}"))
}

#[pyfunction]
fn canon_one(py: Python<'_>, smiles: &str) -> PyResult<String> {
    py.detach(|| canon(smiles)).map_err(|r| bad(smiles, r))
}

#[pyfunction]
fn canon_many(py: Python<'_>, smiles: Vec<String>) -> (Vec<Option<Py<PyString>>>, Failures) {
    map_strings(py, &smiles, canon)
}

#[pyfunction]
#[pyo3(signature = (smiles, generic = false))]
fn scaffold_one(py: Python<'_>, smiles: &str, generic: bool) -> PyResult<String> {
    py.detach(|| scaffold(smiles, generic))
        .map_err(|r| bad(smiles, r))
}

#[pyfunction]
#[pyo3(signature = (smiles, generic = false))]
fn scaffold_many(
    py: Python<'_>,
    smiles: Vec<String>,
    generic: bool,
) -> (Vec<Option<Py<PyString>>>, Failures) {
    map_strings(py, &smiles, |s| scaffold(s, generic))
}

/// One fingerprint: `uint8` bits or `float32` counts, length `n_bits`.
#[pyfunction]
fn fingerprint_one<'py>(
    py: Python<'py>,
    smiles: &str,
    radius: u32,
    n_bits: usize,
    counts: bool,
) -> PyResult<Bound<'py, PyAny>> {
    check_morgan(radius, n_bits)?;
    Ok(if counts {
        let mut v = vec![0f32; n_bits];
        py.detach(|| counts_into(smiles, radius, &mut v))
            .map_err(|r| bad(smiles, r))?;
        PyArray1::from_vec(py, v).into_any()
    } else {
        let mut v = vec![0u8; n_bits];
        py.detach(|| bits_into(smiles, radius, &mut v))
            .map_err(|r| bad(smiles, r))?;
        PyArray1::from_vec(py, v).into_any()
    })
}

/// Fingerprints of a list, `[n, n_bits]`: `uint8` bits (a bad molecule's row all zero) or
/// `float32` counts (a bad molecule's row NaN).
#[pyfunction]
fn fingerprint_many<'py>(
    py: Python<'py>,
    smiles: Vec<String>,
    radius: u32,
    n_bits: usize,
    counts: bool,
) -> PyResult<(Bound<'py, PyAny>, Failures)> {
    check_morgan(radius, n_bits)?;
    let shape = (smiles.len(), n_bits);
    let shape_err = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    Ok(if counts {
        // Rows start at 0 (counts are set in place); a failed row becomes NaN afterwards.
        let (mut flat, failures) = fill_rows(py, &smiles, n_bits, 0f32, |s, row| {
            counts_into(s, radius, row)
        });
        for (i, _) in &failures {
            flat[i * n_bits..(i + 1) * n_bits].fill(f32::NAN);
        }
        let arr = Array2::from_shape_vec(shape, flat).map_err(shape_err)?;
        (arr.into_pyarray(py).into_any(), failures)
    } else {
        let (flat, failures) =
            fill_rows(py, &smiles, n_bits, 0u8, |s, row| bits_into(s, radius, row));
        let arr = Array2::from_shape_vec(shape, flat).map_err(shape_err)?;
        (arr.into_pyarray(py).into_any(), failures)
    })
}

/// Tanimoto similarities `[len(a), len(b)]` of Morgan bit fingerprints (NaN where either
/// molecule is invalid), with the failures of each side.
#[pyfunction]
fn tanimoto_matrix<'py>(
    py: Python<'py>,
    a: Vec<String>,
    b: Vec<String>,
    radius: u32,
    n_bits: usize,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Failures, Failures)> {
    check_morgan(radius, n_bits)?;
    let (fa, fb, sims) = py.detach(|| {
        let fps = |v: &[String]| split(v.par_iter().map(|s| morgan(s, radius, n_bits)).collect());
        let (fa, ea) = fps(&a);
        let (fb, eb) = fps(&b);
        let sims: Vec<f64> = fa
            .par_iter()
            .flat_map_iter(|x| {
                fb.iter().map(move |y| match (x, y) {
                    (Some(x), Some(y)) => x.tanimoto(y),
                    _ => f64::NAN,
                })
            })
            .collect();
        (ea, eb, sims)
    });
    let arr = Array2::from_shape_vec((a.len(), b.len()), sims)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((arr.into_pyarray(py), fa, fb))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(canon_one, m)?)?;
    m.add_function(wrap_pyfunction!(canon_many, m)?)?;
    m.add_function(wrap_pyfunction!(scaffold_one, m)?)?;
    m.add_function(wrap_pyfunction!(scaffold_many, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint_one, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint_many, m)?)?;
    m.add_function(wrap_pyfunction!(tanimoto_matrix, m)?)?;
    Ok(())
}
