//! One atomic structure: a molecule or a periodic cell, with optional reference labels.

use crate::error::{AtomsError, Result};
use std::collections::BTreeMap;

/// A simulation cell: three lattice vectors (rows, Å) and which of them are periodic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Lattice vectors a, b, c as rows, in Å (ASE's `atoms.cell`).
    pub vectors: [[f64; 3]; 3],
    /// Periodic boundary conditions along a, b, c (ASE's `atoms.pbc`).
    pub pbc: [bool; 3],
}

impl Cell {
    /// A fully periodic cell.
    pub fn periodic(vectors: [[f64; 3]; 3]) -> Self {
        Cell {
            vectors,
            pbc: [true; 3],
        }
    }

    /// Whether any direction is periodic.
    pub fn any_periodic(&self) -> bool {
        self.pbc.iter().any(|&p| p)
    }

    /// Cell volume in Å^3 (absolute value of the triple product).
    pub fn volume(&self) -> f64 {
        let [a, b, c] = self.vectors;
        let cross = [
            b[1] * c[2] - b[2] * c[1],
            b[2] * c[0] - b[0] * c[2],
            b[0] * c[1] - b[1] * c[0],
        ];
        (a[0] * cross[0] + a[1] * cross[1] + a[2] * cross[2]).abs()
    }
}

/// Extra per-frame value from a file's comment line or metadata (kept so that a read → write
/// round trip does not lose what the user put there).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// A numeric array (e.g. `stress="..."`), flattened.
    Floats(Vec<f64>),
    /// An integer array (`key="1 2 3"`); kept apart from `Floats` so that a rewrite gives ASE
    /// integers back.
    Ints(Vec<i64>),
    /// A logical array (`key="T F T"`).
    Bools(Vec<bool>),
}

impl Value {
    /// The value as a number, if it is a scalar `Int` or `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }
}

/// An atomic structure in chemlm's internal units (Å, eV, eV/Å).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Structure {
    /// Atomic numbers, one per atom.
    pub numbers: Vec<u8>,
    /// Cartesian positions in Å.
    pub positions: Vec<[f64; 3]>,
    /// Cell and periodicity; `None` for an isolated molecule.
    pub cell: Option<Cell>,
    /// Reference total energy in eV, if labelled.
    pub energy: Option<f64>,
    /// Reference forces in eV/Å, if labelled.
    pub forces: Option<Vec<[f64; 3]>>,
    /// Total charge in e, if given.
    pub charge: Option<f64>,
    /// Velocities in Å/fs, if given (MD restarts).
    pub velocities: Option<Vec<[f64; 3]>>,
    /// Other key=value pairs of the frame, in file order of keys (sorted for determinism).
    pub info: BTreeMap<String, Value>,
}

impl Structure {
    /// A bare structure from atomic numbers and positions (Å).
    pub fn new(numbers: Vec<u8>, positions: Vec<[f64; 3]>) -> Result<Self> {
        let s = Structure {
            numbers,
            positions,
            ..Default::default()
        };
        s.validate()?;
        Ok(s)
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Whether the structure has no atoms.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Checks lengths agree, numbers are known elements and every coordinate is finite.
    pub fn validate(&self) -> Result<()> {
        let n = self.numbers.len();
        if self.positions.len() != n {
            return Err(AtomsError::Invalid(format!(
                "{} atomic numbers but {} positions",
                n,
                self.positions.len()
            )));
        }
        if let Some(f) = &self.forces {
            if f.len() != n {
                return Err(AtomsError::Invalid(format!(
                    "{} atoms but {} force vectors",
                    n,
                    f.len()
                )));
            }
            if f.iter().flatten().any(|x| !x.is_finite()) {
                return Err(AtomsError::Invalid("non-finite force component".into()));
            }
        }
        if let Some(v) = &self.velocities {
            if v.len() != n {
                return Err(AtomsError::Invalid(format!(
                    "{} atoms but {} velocity vectors",
                    n,
                    v.len()
                )));
            }
        }
        if let Some(&z) = self.numbers.iter().find(|&&z| z == 0 || z > 118) {
            return Err(AtomsError::Invalid(format!("atomic number {z}")));
        }
        if self.positions.iter().flatten().any(|x| !x.is_finite()) {
            return Err(AtomsError::Invalid("non-finite position".into()));
        }
        if let Some(e) = self.energy {
            if !e.is_finite() {
                return Err(AtomsError::Invalid("non-finite energy".into()));
            }
        }
        Ok(())
    }
}
