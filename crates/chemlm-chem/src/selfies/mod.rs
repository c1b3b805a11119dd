//! SELFIES 2.x encoder and decoder, a port of the Python `selfies` 2.2.0 package.
//!
//! SELFIES (Krenn et al., 2020) writes molecules as strings of bracketed symbols in which *every*
//! string of symbols is a valid molecule: the decoder only ever makes the bonds an atom still has
//! room for under a table of bonding capacities, the semantic [`Constraints`]. This module follows
//! the Python package algorithm for algorithm (its own SMILES parser, kekulization by perfect
//! matching, depth-first order, ring and branch lengths written with index symbols, the decoder's
//! deferred ring bonds, its SMILES writer) so that encodings and decodings are equal string for
//! string; the golden tests compare against the package and `benches/selfies/parity.sh` measures
//! it on all MoleculeNet and MOSES test molecules.
//!
//! ```
//! use chemlm_chem::selfies;
//! let s = selfies::encoder("c1ccccc1O").unwrap();
//! assert_eq!(s, "[C][=C][C][=C][C][=C][Ring1][=Branch1][O]");
//! assert_eq!(selfies::decoder(&s).unwrap(), "C1=CC=CC=C1O");
//! ```
//!
//! Work buffers are kept per thread, so encoding and decoding allocate little more than the
//! output string and scale across threads.
//!
//! Known differences from Python, all on input Python handles by accident rather than design:
//! non-ASCII digits (which Python's `isdigit`/`\d` accept as ring labels, isotopes or counts) are
//! rejected, isotopes above 2,147,483,639 and charges beyond ±99 (which chemlm's SMILES reader
//! refuses, as RDKit's lexer does) are rejected, a ring closure from an atom to
//! itself (`C11`) is reported as a SMILES error (Python fails later with an `IndexError`), and
//! deeply nested branches decode instead of hitting Python's recursion limit.

mod atom;
mod constraints;
mod decoder;
mod elements;
mod encoder;
mod error;
mod graph;
mod kekulize;
pub mod legacy;
mod matching;
mod pyset;
mod smiles_parser;
mod smiles_writer;
mod symbols;

pub use constraints::{
    get_preset_constraints, get_semantic_constraints, get_semantic_robust_alphabet,
    set_semantic_constraints, Constraints, PRESETS,
};
pub use error::{SelfiesError, Violation};
pub use symbols::{
    get_alphabet_from_selfies, len_selfies, split_selfies, split_selfies_iter, SplitSelfies,
    INDEX_ALPHABET,
};

use crate::ChemError;
use std::cell::RefCell;

thread_local! {
    static ENCODER: RefCell<encoder::EncoderScratch> = RefCell::new(Default::default());
    static DECODER: RefCell<decoder::DecoderScratch> = RefCell::new(Default::default());
}

/// SMILES -> SELFIES under the process-wide constraints (`"default"` unless
/// [`set_semantic_constraints`] changed them), like Python's `selfies.encoder(smiles)`.
///
/// Strict: molecules with an atom over its bonding capacity are refused, since SELFIES could not
/// represent them faithfully. Aromatic input is kekulized. The atom order of the SMILES is kept,
/// so randomized SMILES give randomized SELFIES.
pub fn encoder(smiles: &str) -> Result<String, ChemError> {
    encoder_with(smiles, constraints::current())
}

/// [`encoder`] with explicit constraints (strict).
pub fn encoder_with(smiles: &str, constraints: &Constraints) -> Result<String, ChemError> {
    let mut out = String::with_capacity(smiles.len() * 4);
    encode_into(smiles, constraints, true, &mut out)?;
    Ok(out)
}

/// Encodes `smiles`, appending to `out` (reuse `out` to avoid an allocation per molecule).
/// `strict = false` is Python's `strict=False`: constraint violations are encoded anyway, and the
/// string will not decode back to the same molecule. On error `out` is left as it was.
pub fn encode_into(
    smiles: &str,
    constraints: &Constraints,
    strict: bool,
    out: &mut String,
) -> Result<(), SelfiesError> {
    let start = out.len();
    let result = ENCODER.with(|sc| match sc.try_borrow_mut() {
        Ok(mut sc) => encoder::encode(smiles, constraints, strict, &mut sc, out),
        // Only reachable through re-entrance; use fresh buffers.
        Err(_) => encoder::encode(smiles, constraints, strict, &mut Default::default(), out),
    });
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// SELFIES -> SMILES under the process-wide constraints, like Python's
/// `selfies.decoder(selfies)`. Any string of valid symbols decodes to a valid molecule; unknown
/// symbols are errors when the derivation reaches them (symbols after the end of the derivation
/// are skipped unread, as in Python). The empty string decodes to the empty string.
pub fn decoder(selfies: &str) -> Result<String, ChemError> {
    decoder_with(selfies, constraints::current())
}

/// [`decoder`] with explicit constraints.
pub fn decoder_with(selfies: &str, constraints: &Constraints) -> Result<String, ChemError> {
    let mut out = String::with_capacity(selfies.len() / 2 + 8);
    decode_into(selfies, constraints, &mut out)?;
    Ok(out)
}

/// Decodes `selfies`, appending to `out`. On error `out` is left as it was.
pub fn decode_into(
    selfies: &str,
    constraints: &Constraints,
    out: &mut String,
) -> Result<(), SelfiesError> {
    let start = out.len();
    let result = DECODER.with(|sc| match sc.try_borrow_mut() {
        Ok(mut sc) => decoder::decode(selfies, constraints, &mut sc, out),
        Err(_) => decoder::decode(selfies, constraints, &mut Default::default(), out),
    });
    if result.is_err() {
        out.truncate(start);
    }
    result
}
