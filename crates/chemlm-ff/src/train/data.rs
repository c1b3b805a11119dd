//! Training data: labelled structures with their neighbour graphs computed once (the frames'
//! positions never change during training), a seeded reproducible train/valid/test split saved as
//! `split.json`, and batches collated on demand.

use crate::error::{FfError, FfResult};
use chemlm_atoms::{neighbor_list, Graph, GraphBatch, Structure};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the split inside a run directory.
pub const SPLIT_FILE: &str = "split.json";

/// RNG stream of the split (the epoch shuffling uses another, see the training loop).
const SPLIT_STREAM: u64 = 0x5011;

/// Frame indices of each part of a data set, as saved in `split.json`. Indices refer to the
/// concatenation of the input files in the order given, bad frames excluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitIndices {
    /// Seed the permutation was drawn with.
    pub seed: u64,
    /// Number of frames split (checked when the split is reused).
    pub n_frames: usize,
    /// Training frames, ascending.
    pub train: Vec<usize>,
    /// Validation frames, ascending.
    pub valid: Vec<usize>,
    /// Test frames, ascending.
    pub test: Vec<usize>,
}

/// Splits `n` frames: a seeded (ChaCha8) permutation of `0..n`, cut into `sizes[0]` training,
/// `sizes[1]` validation and `sizes[2]` test frames; with two sizes every remaining frame is a
/// test frame (schnetpack's `num_train`/`num_val` convention). The same `(n, sizes, seed)` gives
/// the same split on every platform.
pub fn split_indices(n: usize, sizes: &[usize], seed: u64) -> FfResult<SplitIndices> {
    if !(2..=3).contains(&sizes.len()) {
        return Err(FfError::Invalid(format!(
            "split needs 2 or 3 sizes, got {sizes:?}"
        )));
    }
    let (n_train, n_valid) = (sizes[0], sizes[1]);
    let fixed = n_train + n_valid + sizes.get(2).copied().unwrap_or(0);
    if fixed > n {
        return Err(FfError::Invalid(format!(
            "split {sizes:?} needs {fixed} frames, the data have {n}"
        )));
    }
    let n_test = sizes.get(2).copied().unwrap_or(n - n_train - n_valid);
    let mut perm: Vec<usize> = (0..n).collect();
    let mut rng = chemlm_train::rng::derived_rng(seed, SPLIT_STREAM);
    perm.shuffle(&mut rng);
    let part = |range: std::ops::Range<usize>| {
        let mut v = perm[range].to_vec();
        v.sort_unstable();
        v
    };
    Ok(SplitIndices {
        seed,
        n_frames: n,
        train: part(0..n_train),
        valid: part(n_train..n_train + n_valid),
        test: part(n_train + n_valid..n_train + n_valid + n_test),
    })
}

impl SplitIndices {
    /// Writes the split as pretty JSON (atomically).
    pub fn save(&self, path: &Path) -> FfResult<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| FfError::Invalid(format!("split to JSON: {e}")))?;
        chemlm_models::io::write_atomic(path, format!("{text}\n").as_bytes())
            .map_err(|e| FfError::Invalid(e.to_string()))
    }

    /// Reads a split written by [`save`](Self::save).
    pub fn load(path: &Path) -> FfResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| FfError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let s: SplitIndices = serde_json::from_str(&text).map_err(|e| FfError::Config {
            origin: path.display().to_string(),
            reason: e.to_string(),
        })?;
        s.check(s.n_frames)?;
        Ok(s)
    }

    /// The frames of part `name` ("train", "valid" or "test"), e.g. for `chemlm ff eval` on the
    /// test part of a run.
    pub fn part(&self, name: &str) -> FfResult<&[usize]> {
        match name {
            "train" => Ok(&self.train),
            "valid" | "validation" => Ok(&self.valid),
            "test" => Ok(&self.test),
            other => Err(FfError::Invalid(format!(
                "unknown split part {other:?} (train, valid, test)"
            ))),
        }
    }

    /// Checks that the split fits a data set of `n` frames (reusing a split on other data is
    /// an error, not a silent mix-up).
    pub fn check(&self, n: usize) -> FfResult<()> {
        if self.n_frames != n {
            return Err(FfError::Invalid(format!(
                "the split was made for {} frames, the data have {n}",
                self.n_frames
            )));
        }
        let mut seen = vec![false; n];
        for &i in self.train.iter().chain(&self.valid).chain(&self.test) {
            if i >= n || std::mem::replace(&mut seen[i], true) {
                return Err(FfError::Invalid(format!(
                    "split frame {i} is out of range or listed twice"
                )));
            }
        }
        Ok(())
    }
}

/// Structures with their neighbour graphs (computed once, in parallel).
#[derive(Debug, Clone)]
pub struct FfDataset {
    structures: Vec<Structure>,
    graphs: Vec<Graph>,
    cutoff: f64,
}

impl FfDataset {
    /// Builds every structure's neighbour graph within `cutoff` (Å, the model's).
    pub fn new(structures: Vec<Structure>, cutoff: f64) -> FfResult<Self> {
        let graphs = structures
            .par_iter()
            .enumerate()
            .map(|(k, s)| {
                neighbor_list(s, cutoff)
                    .map_err(|e| FfError::Invalid(format!("frame {k}: neighbour list: {e}")))
            })
            .collect::<FfResult<Vec<Graph>>>()?;
        Ok(FfDataset {
            structures,
            graphs,
            cutoff,
        })
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.structures.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.structures.is_empty()
    }

    /// The cutoff the graphs were built with.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// All frames.
    pub fn structures(&self) -> &[Structure] {
        &self.structures
    }

    /// Frame `i`.
    pub fn structure(&self, i: usize) -> &Structure {
        &self.structures[i]
    }

    /// Errors unless every frame in `indices` has an energy and, with `forces`, forces
    /// (force training needs both, energy-only training energies; the message names the first
    /// frame without).
    pub fn require_labels(&self, indices: &[usize], forces: bool) -> FfResult<()> {
        for &i in indices {
            let s = self
                .structures
                .get(i)
                .ok_or_else(|| FfError::Invalid(format!("frame {i} is out of range")))?;
            if s.energy.is_none() || (forces && s.forces.is_none()) {
                return Err(FfError::Invalid(format!(
                    "frame {i} has no {} label: {}",
                    if s.energy.is_none() {
                        "energy"
                    } else {
                        "forces"
                    },
                    if forces {
                        "training with a force weight needs energies and forces"
                    } else {
                        "training needs energies"
                    }
                )));
            }
        }
        Ok(())
    }

    /// Collates frames `indices` (in that order) into one graph batch.
    pub fn batch(&self, indices: &[usize]) -> FfResult<GraphBatch> {
        let items: Vec<(&Structure, &Graph)> = indices
            .iter()
            .map(|&i| (&self.structures[i], &self.graphs[i]))
            .collect();
        Ok(GraphBatch::collate(&items)?)
    }

    /// Reference energies (eV) of frames `indices` (labels checked by
    /// [`require_labels`](Self::require_labels)).
    pub fn energies(&self, indices: &[usize]) -> FfResult<Vec<f64>> {
        indices
            .iter()
            .map(|&i| {
                self.structures[i]
                    .energy
                    .ok_or_else(|| FfError::Invalid(format!("frame {i} lacks an energy")))
            })
            .collect()
    }

    /// Reference energies (eV) and forces (eV/Å, atoms concatenated) of frames `indices`;
    /// labels must be present ([`require_labels`](Self::require_labels)).
    pub fn targets(&self, indices: &[usize]) -> FfResult<(Vec<f64>, Vec<[f64; 3]>)> {
        let mut energies = Vec::with_capacity(indices.len());
        let mut forces = Vec::new();
        for &i in indices {
            let s = &self.structures[i];
            match (s.energy, &s.forces) {
                (Some(e), Some(f)) => {
                    energies.push(e);
                    forces.extend_from_slice(f);
                }
                _ => {
                    return Err(FfError::Invalid(format!(
                        "frame {i} lacks energy or forces"
                    )))
                }
            }
        }
        Ok((energies, forces))
    }
}

/// Frames read from files, with what could not be read.
#[derive(Debug, Clone, Default)]
pub struct LoadedFrames {
    /// Good frames, files in the order given, frames in file order.
    pub structures: Vec<Structure>,
    /// One message per bad frame (file and frame number), skipped.
    pub bad: Vec<String>,
    /// `(file, good frames)` per input file.
    pub per_file: Vec<(PathBuf, usize)>,
}

/// Reads every file with [`chemlm_atoms::io::read_structures`] (format from the extension,
/// units from `opts` or the format's default) and concatenates the good frames; bad frames are
/// listed in [`LoadedFrames::bad`] and skipped, a file that cannot be read at all is an error.
pub fn load_frames(
    paths: &[PathBuf],
    opts: &chemlm_atoms::io::ReadOptions,
) -> FfResult<LoadedFrames> {
    let mut out = LoadedFrames::default();
    for path in paths {
        let report = chemlm_atoms::io::read_structures(path, opts)?;
        out.per_file.push((path.clone(), report.structures.len()));
        out.bad.extend(report.bad.iter().map(|e| e.to_string()));
        out.structures.extend(report.structures);
    }
    if out.structures.is_empty() {
        return Err(FfError::Invalid(format!(
            "no good frames in {} file(s) ({} bad)",
            paths.len(),
            out.bad.len()
        )));
    }
    Ok(out)
}
