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
