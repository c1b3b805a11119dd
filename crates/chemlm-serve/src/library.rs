//! A screened library for `/neighbors`: every molecule's Morgan fingerprint (radius 2, 2,048
//! bits, RDKit's ECFP4 as `chemlm screen` computes it) is made once at start; each query is
//! ranked against all of them by Tanimoto similarity, ties kept in library order.

use std::path::{Path, PathBuf};

use chemlm_chem::{Fingerprint, Molecule};
use chemlm_screen::TopK;
use rayon::prelude::*;

use crate::server::ServeError;

const RADIUS: u32 = 2;
const BITS: usize = 2048;

/// One library molecule.
struct Entry {
    smiles: String,
    id: Option<String>,
    fp: Fingerprint,
}

/// A library held in memory (about 300 bytes per molecule).
pub struct Library {
    pub path: PathBuf,
    /// Lines that were not molecules (reported at load, not served).
    pub bad: usize,
    entries: Vec<Entry>,
}

/// One neighbour of a query.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Neighbor {
    pub smiles: String,
    pub id: Option<String>,
    pub similarity: f64,
}

impl Library {
    /// Reads `path` (`smiles [id]` per line, `#` comments and blank lines skipped, as `chemlm
    /// screen --library`); a line that is not a molecule is warned about with its line number.
    pub fn load(path: &Path) -> Result<Self, ServeError> {
        let err = |reason: String| ServeError::Library {
            path: path.to_path_buf(),
            reason,
        };
        let list = chemlm_screen::read_molecule_list(path).map_err(|e| err(e.to_string()))?;
        let parsed: Vec<Result<Entry, String>> = list
            .into_par_iter()
            .map(|e| {
                Molecule::from_smiles(&e.smiles)
                    .and_then(|m| m.morgan(RADIUS, BITS))
                    .map(|fp| Entry {
                        smiles: e.smiles.clone(),
                        id: e.id.clone(),
                        fp,
                    })
                    .map_err(|why| format!("{}:{}: {why}", path.display(), e.line))
            })
            .collect();
        let mut entries = Vec::with_capacity(parsed.len());
        let mut bad = 0;
        for p in parsed {
            match p {
                Ok(e) => entries.push(e),
                Err(why) => {
                    bad += 1;
                    tracing::warn!("library: {why}");
                }
            }
        }
        if entries.is_empty() {
            return Err(err("no molecule could be read".into()));
        }
        Ok(Self {
            path: path.to_path_buf(),
            bad,
            entries,
        })
    }

    /// Molecules served.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no molecule is served (never after a successful [`Library::load`]).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `k` most similar library molecules to `smiles`, most similar first.
    pub fn neighbors(&self, smiles: &str, k: usize) -> Result<Vec<Neighbor>, String> {
        let q = Molecule::from_smiles(smiles)
            .and_then(|m| m.morgan(RADIUS, BITS))
            .map_err(|e| e.to_string())?;
        // One bounded heap per parallel piece, merged: memory stays O(k) per thread.
        let top = self
            .entries
            .par_iter()
            .enumerate()
            .fold(
                || TopK::new(k),
                |mut t, (i, e)| {
                    t.push(q.tanimoto(&e.fp), i as u64, i);
                    t
                },
            )
            .reduce(
                || TopK::new(k),
                |mut a, b| {
                    for (s, seq, i) in b.into_sorted_vec() {
                        a.push(s, seq, i);
                    }
                    a
                },
            );
        Ok(top
            .into_sorted_vec()
            .into_iter()
            .map(|(s, _, i)| Neighbor {
                smiles: self.entries[i].smiles.clone(),
                id: self.entries[i].id.clone(),
                similarity: s,
            })
            .collect())
    }
}
