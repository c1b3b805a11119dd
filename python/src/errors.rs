//! The exceptions of the module and the one conversion of library errors into them.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

// Raised by `chemlm.selfies.encoder` / `decoder`, as `selfies.EncoderError` / `DecoderError`.
create_exception!(_native, EncoderError, PyException);
create_exception!(_native, DecoderError, PyException);
// An invalid molecule given alone (lists get a None/NaN row instead). A `ValueError`, so code
// that catches RDKit-style `ValueError`s keeps working.
create_exception!(_native, InvalidMoleculeError, PyValueError);
// A model, data set or file chemlm cannot use (missing, corrupt, wrong kind).
create_exception!(_native, ChemlmError, PyException);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EncoderError", py.get_type::<EncoderError>())?;
    m.add("DecoderError", py.get_type::<DecoderError>())?;
    m.add(
        "InvalidMoleculeError",
        py.get_type::<InvalidMoleculeError>(),
    )?;
    m.add("ChemlmError", py.get_type::<ChemlmError>())?;
    Ok(())
}

/// A library error (model loading, a forward pass, a file) as a `ChemlmError`.
pub fn chemlm_err(e: impl std::fmt::Display) -> PyErr {
    ChemlmError::new_err(e.to_string())
}

/// The failures of a list call: `(index, reason)` per bad item, for the Python layer's warning.
pub type Failures = Vec<(usize, String)>;

/// Splits per-item results into values (None for a failure) and the failures.
pub fn split<T>(results: Vec<Result<T, String>>) -> (Vec<Option<T>>, Failures) {
    let mut failures = Vec::new();
    let values = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Ok(v) => Some(v),
            Err(reason) => {
                failures.push((i, reason));
                None
            }
        })
        .collect();
    (values, failures)
}

/// Molecules per thread handed to the rayon pool at once by the list calls.
const CHUNK_PER_THREAD: usize = 1024;

/// `f` over `items` on the rayon pool with the GIL released, a chunk at a time, each chunk's
/// strings turned into Python objects before the next: a list call then holds little Rust memory
/// at once. (Measured: canonicalising 100k molecules in one piece ran 20% slower than in chunks of
/// a few thousand, glibc's arena filling with long-lived results between the temporaries.)
pub fn map_strings(
    py: pyo3::Python<'_>,
    items: &[String],
    f: impl Fn(&str) -> Result<String, String> + Sync,
) -> (Vec<Option<pyo3::Py<pyo3::types::PyString>>>, Failures) {
    use rayon::prelude::*;
    let chunk = CHUNK_PER_THREAD * rayon::current_num_threads().max(1);
    let mut out = Vec::with_capacity(items.len());
    let mut failures = Vec::new();
    for (c, part) in items.chunks(chunk).enumerate() {
        let results: Vec<Result<String, String>> =
            py.detach(|| part.par_iter().map(|s| f(s)).collect());
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(s) => out.push(Some(pyo3::types::PyString::new(py, &s).unbind())),
                Err(reason) => {
                    failures.push((c * chunk + i, reason));
                    out.push(None);
                }
            }
        }
    }
    (out, failures)
}

/// `[items.len(), dim]` rows written in place by `f` on the rayon pool (GIL released); a row whose
/// `f` fails is filled with `fill` and its reason returned.
pub fn fill_rows<T: Copy + Send + Sync>(
    py: pyo3::Python<'_>,
    items: &[String],
    dim: usize,
    fill: T,
    f: impl Fn(&str, &mut [T]) -> Result<(), String> + Sync,
) -> (Vec<T>, Failures) {
    use rayon::prelude::*;
    py.detach(|| {
        let mut flat = vec![fill; items.len() * dim];
        let errors: Vec<Option<String>> = if dim == 0 {
            items.par_iter().map(|s| f(s, &mut []).err()).collect()
        } else {
            flat.par_chunks_mut(dim)
                .zip(items.par_iter())
                .map(|(row, s)| f(s, row).err().inspect(|_| row.fill(fill)))
                .collect()
        };
        let failures = errors
            .into_iter()
            .enumerate()
            .filter_map(|(i, e)| e.map(|r| (i, r)))
            .collect();
        (flat, failures)
    })
}
