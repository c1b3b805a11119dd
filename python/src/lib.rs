//! `chemlm._native`: the compiled half of the `chemlm` Python package (PyO3, stable ABI).
//!
//! Every function here is a thin call into the chemlm crates (no second implementation): inputs
//! are copied out of Python objects, the work runs with the GIL released (lists on the rayon
//! pool), and results come back as Python objects or numpy arrays. Dispatch between a single
//! molecule (raise on error) and a list (None/NaN rows, errors returned for a warning) happens in
//! the pure-Python layer (`python/chemlm/__init__.py`), which also holds the docstrings users read.

use pyo3::prelude::*;

mod chem;
mod errors;
mod model;
mod screen;
mod selfies;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Tensor buffers stay in the heap between ops, as in the `chemlm` binary (a model's
    // activations are otherwise unmapped and faulted in again on every call).
    chemlm_models::alloc::tune_allocator();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    selfies::register(m)?;
    chem::register(m)?;
    model::register(m)?;
    screen::register(m)?;
    Ok(())
}
