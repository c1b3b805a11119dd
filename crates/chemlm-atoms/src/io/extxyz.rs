//! Extended XYZ, as ASE (`ase.io.extxyz`) writes and reads it.
//!
//! A frame is an atom-count line, a comment line of `key=value` pairs and one line per atom:
//!
//! ```text
//! 3
//! Lattice="5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0 5.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-14.2 pbc="T T F"
//! O 0.0 0.0 0.0 0.1 0.0 0.0
//! ...
//! ```
//!
//! The comment line is split exactly like ASE's `key_val_str_to_dict` (quotes `"`, `'`, `{}` and
//! `[]`, backslash escapes, a key without value meaning `T`) and values are typed as ASE types
//! them: integers, then floats, then booleans (`T F True False TRUE FALSE true false`), each as
//! a scalar or an array, else a string. A plain XYZ file (free comment, no `Properties`) reads as
//! `species:S:1:pos:R:3`, with the comment's words as `T` keys, as in ASE.
//!
//! Mapped onto [`Structure`]: `species` or `Z` → numbers, `pos` → positions, the forces property
//! (`forces`) → forces, `momenta` (ASE's amu·Å/time unit) or `velocities`/`vel` (Å/fs) →
//! velocities in Å/fs, `Lattice` + `pbc` → cell, the energy key (`energy`) → energy, `charge` →
//! total charge; every other comment-line key is kept in `info`. Other per-atom columns are
//! parsed (so a malformed one is reported) but not kept: `Structure` has no per-atom extras.
//!
//! The writer produces what ASE's writer does (Lattice, Properties, info keys, `pbc`, `energy=`,
//! `forces` as a per-atom property, `momenta` for velocities) but prints every float as its
//! shortest round-trip representation, so ASE reads back exactly the `f64` we hold (ASE's own
//! writer rounds per-atom values to 8 decimals).

pub use super::extxyz_write::{format_extxyz_frame, write_extxyz, write_extxyz_to};

use super::extxyz_kv::{clip, parse_value, split_key_values};
use super::{open_text, ReadOptions, ReadReport};
use crate::elements;
use crate::error::{AtomsError, Result};
use crate::structure::{Cell, Structure, Value};
use crate::units::{EnergyUnit, FS};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Keys describing the file's units: consumed on read, since a [`Structure`] is always in eV/Å.
const UNIT_KEYS: [&str; 2] = ["energy_unit", "force_unit"];

/// Reads every frame of an extended or plain XYZ file (gzip detected from the content).
/// File-level failures (missing, unreadable) are errors; malformed frames are in the report.
pub fn read_extxyz(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<ReadReport> {
    let path = path.as_ref();
    let mut report = ReadReport {
        path: path.to_path_buf(),
        ..Default::default()
    };
    for item in open_extxyz(path, opts)? {
        report.frames_seen += 1;
        match item {
            Ok(s) => report.structures.push(s),
            Err(e @ AtomsError::BadFrame { .. }) => report.bad.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// A streaming reader over the frames of `path`; see [`ExtxyzFrames`].
pub fn open_extxyz(
    path: impl AsRef<Path>,
    opts: &ReadOptions,
) -> Result<ExtxyzFrames<Box<dyn BufRead>>> {
    let path = path.as_ref();
    Ok(ExtxyzFrames::new(open_text(path)?, path, opts.clone()))
}

/// Iterator over the frames of an extended XYZ stream. A malformed frame yields an
/// [`AtomsError::BadFrame`] and the iterator carries on with the next frame (a frame with too few
/// atom lines is detected when the next frame's count line shows up among its atoms); an I/O
/// error yields [`AtomsError::Io`] and ends the iteration.
pub struct ExtxyzFrames<R> {
    reader: R,
    path: PathBuf,
    opts: ReadOptions,
    /// Number of the next line to read, from 1.
    line_no: usize,
    /// A line read but not consumed (the count line that ended a short frame): (line number, text).
    pending: Option<(usize, String)>,
    frame: usize,
    done: bool,
    buf: Vec<u8>,
}

impl<R: BufRead> ExtxyzFrames<R> {
    /// Reads frames from `reader`; `path` only labels errors.
    pub fn new(reader: R, path: impl Into<PathBuf>, opts: ReadOptions) -> Self {
        ExtxyzFrames {
            reader,
            path: path.into(),
            opts,
            line_no: 1,
            pending: None,
            frame: 0,
            done: false,
            buf: Vec::new(),
        }
    }

    /// The next line without its end of line, with its number; `None` at end of input.
    fn next_line(&mut self) -> Result<Option<(usize, String)>> {
        if let Some(p) = self.pending.take() {
            return Ok(Some(p));
        }
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| AtomsError::io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        let no = self.line_no;
        self.line_no += 1;
        let text = String::from_utf8_lossy(&self.buf);
        Ok(Some((no, text.trim_end_matches(['\n', '\r']).to_string())))
    }

    fn bad(&self, frame: usize, line: usize, reason: impl Into<String>) -> AtomsError {
        AtomsError::BadFrame {
            path: self.path.clone(),
            frame,
            line: Some(line),
            reason: reason.into(),
        }
    }

    /// Reads one frame starting at its count line; `Ok(None)` at end of input.
    fn read_frame(&mut self) -> Result<Option<Result<Structure>>> {
        // Count line (blank lines between frames and at the end are skipped).
        let (count_line, text) = loop {
            match self.next_line()? {
                None => return Ok(None),
                Some((_, t)) if t.trim().is_empty() => continue,
                Some(l) => break l,
            }
        };
        let frame = self.frame;
        self.frame += 1;
        let natoms = match parse_count(&text) {
            Some(n) => n,
            None => {
                let err = self.bad(
                    frame,
                    count_line,
                    format!("expected the atom count, found {:?}", clip(&text)),
                );
                self.resync()?;
                return Ok(Some(Err(err)));
            }
        };
        let Some((comment_line, comment)) = self.next_line()? else {
            return Ok(Some(Err(self.bad(
                frame,
                count_line,
                "file ends before the comment line",
            ))));
        };
        let header = match FrameHeader::parse(&comment, &self.opts) {
            Ok(h) => h,
            Err(reason) => {
                // Still consume the atom lines so that the next frame starts in the right place.
                self.skip_atoms(natoms)?;
                return Ok(Some(Err(self.bad(frame, comment_line, reason))));
            }
        };
        let mut columns = Columns::new(&header.properties, natoms);
        let mut first_error: Option<AtomsError> = None;
        for k in 0..natoms {
            let Some((no, line)) = self.next_line()? else {
                return Ok(Some(Err(first_error.unwrap_or_else(|| {
                    self.bad(
                        frame,
                        self.line_no,
                        format!("file ends after {k} of {natoms} atom lines"),
                    )
                }))));
            };
            if parse_count(&line).is_some() {
                // The next frame's count line: this frame is short.
                self.pending = Some((no, line));
                return Ok(Some(Err(first_error.unwrap_or_else(|| {
                    self.bad(
                        frame,
                        no,
                        format!("frame has {k} atom lines, expected {natoms}"),
                    )
                }))));
            }
            if first_error.is_none() {
                if let Err(reason) = columns.push_line(&line) {
                    first_error = Some(self.bad(frame, no, format!("atom {k}: {reason}")));
                }
            }
        }
        // A line after the atoms that is neither blank nor a count line means the count was
        // too small (ASE refuses such a file too); the frame is bad, the rest is skipped up to
        // the next count line.
        if let Some((no, line)) = self.peek_non_blank()? {
            if parse_count(&line).is_none() {
                self.resync()?;
                return Ok(Some(Err(first_error.unwrap_or_else(|| {
                    self.bad(
                        frame,
                        no,
                        format!("more atom lines than the count {natoms}: {:?}", clip(&line)),
                    )
                }))));
            }
        }
        if let Some(e) = first_error {
            return Ok(Some(Err(e)));
        }
        Ok(Some(
            header
                .into_structure(columns, &self.opts)
                .map_err(|reason| self.bad(frame, comment_line, reason)),
        ))
    }

    /// The next non-blank line, left pending (blank lines are dropped).
    fn peek_non_blank(&mut self) -> Result<Option<(usize, String)>> {
        while let Some((no, line)) = self.next_line()? {
            if !line.trim().is_empty() {
                self.pending = Some((no, line.clone()));
                return Ok(Some((no, line)));
            }
        }
        Ok(None)
    }

    fn skip_atoms(&mut self, natoms: usize) -> Result<()> {
        for _ in 0..natoms {
            match self.next_line()? {
                None => break,
                Some((no, line)) if parse_count(&line).is_some() => {
                    self.pending = Some((no, line));
                    break;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// After an unreadable count line: skip to the next line that looks like a count line.
    fn resync(&mut self) -> Result<()> {
        while let Some((no, line)) = self.next_line()? {
            if parse_count(&line).is_some() {
                self.pending = Some((no, line));
                break;
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Iterator for ExtxyzFrames<R> {
    type Item = Result<Structure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.opts.limit.is_some_and(|l| self.frame >= l) {
            return None;
        }
        match self.read_frame() {
            Ok(Some(item)) => Some(item),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A line holding only a non-negative integer (an atom-count line).
fn parse_count(line: &str) -> Option<usize> {
    let mut it = line.split_whitespace();
    let n = it.next()?.parse().ok()?;
    it.next().is_none().then_some(n)
}

/// Atomic number of a species field: a symbol in any case (ASE capitalises) or, as some
/// programs write, the number itself.
fn species_number(s: &str) -> Option<u8> {
    elements::number(s).or_else(|| {
        s.parse::<u8>()
            .ok()
            .filter(|&z| (1..=elements::MAX_Z).contains(&z))
    })
}

/// One declared per-atom property: `name:type:ncols`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Property {
    pub name: String,
    pub kind: char,
    pub ncols: usize,
}

fn parse_properties(s: &str) -> std::result::Result<Vec<Property>, String> {
    let fields: Vec<&str> = s.split(':').collect();
    if !fields.len().is_multiple_of(3) {
        return Err(format!(
            "Properties={s:?} is not a list of name:type:columns"
        ));
    }
    let mut out = Vec::new();
    for f in fields.chunks(3) {
        let kind = match f[1] {
            "R" | "I" | "S" | "L" => f[1].chars().next().unwrap_or('S'),
            other => return Err(format!("unknown property type {other:?} for {}", f[0])),
        };
        let ncols: usize = f[2]
            .parse()
            .map_err(|_| format!("bad column count {:?} for {}", f[2], f[0]))?;
        if ncols == 0 || f[0].is_empty() {
            return Err(format!("bad property {}:{}:{}", f[0], f[1], f[2]));
        }
        if out.iter().any(|p: &Property| p.name == f[0]) {
            return Err(format!("property {} declared twice", f[0]));
        }
        out.push(Property {
            name: f[0].to_string(),
            kind,
            ncols,
        });
    }
    Ok(out)
}

/// The parsed comment line of a frame.
struct FrameHeader {
    properties: Vec<Property>,
    cell: Option<[[f64; 3]; 3]>,
    pbc: Option<[bool; 3]>,
    info: BTreeMap<String, Value>,
    energy_factor: f64,
}

impl FrameHeader {
    fn parse(comment: &str, opts: &ReadOptions) -> std::result::Result<FrameHeader, String> {
        let mut info = BTreeMap::new();
        for (key, raw) in split_key_values(comment) {
            let v = parse_value(&key, raw.as_deref())?;
            info.insert(key, v);
        }
        let properties = match info.remove("Properties") {
            None => parse_properties("species:S:1:pos:R:3")?,
            Some(Value::Str(s)) => parse_properties(&s)?,
            Some(other) => return Err(format!("Properties is not a string: {other:?}")),
        };
        let cell = match info.remove("Lattice") {
            None => None,
            Some(Value::Floats(v)) => {
                Some([[v[0], v[1], v[2]], [v[3], v[4], v[5]], [v[6], v[7], v[8]]])
            }
            Some(other) => return Err(format!("bad Lattice {other:?}")),
        };
        let pbc = match info.remove("pbc") {
            None => None,
            Some(Value::Bool(b)) => Some([b; 3]),
            Some(Value::Bools(b)) if b.len() == 3 => Some([b[0], b[1], b[2]]),
            Some(Value::Int(i)) if i == 0 || i == 1 => Some([i == 1; 3]),
            Some(Value::Ints(v)) if v.len() == 3 && v.iter().all(|&i| i == 0 || i == 1) => {
                Some([v[0] == 1, v[1] == 1, v[2] == 1])
            }
            Some(other) => return Err(format!("bad pbc {other:?}")),
        };
        // The file's declaration counts only when the caller did not name a unit.
        let file_unit = match (opts.energy_unit, info.get("energy_unit")) {
            (Some(_), _) | (None, None) => None,
            (None, Some(Value::Str(s))) => {
                Some(EnergyUnit::parse(s).ok_or_else(|| format!("unknown energy_unit {s:?}"))?)
            }
            (None, Some(other)) => return Err(format!("bad energy_unit {other:?}")),
        };
        for k in UNIT_KEYS {
            info.remove(k);
        }
        let unit = opts.energy_unit.or(file_unit).unwrap_or(EnergyUnit::Ev);
        Ok(FrameHeader {
            properties,
            cell,
            pbc,
            info,
            energy_factor: unit.to_ev(),
        })
    }

    fn into_structure(
        mut self,
        mut columns: Columns,
        opts: &ReadOptions,
    ) -> std::result::Result<Structure, String> {
        let lf = opts.length_factor();
        let ef = self.energy_factor;
        let numbers = if let Some(z) = columns.take_ints("Z") {
            z.into_iter()
                .map(|z| {
                    u8::try_from(z)
                        .ok()
                        .filter(|&z| (1..=elements::MAX_Z).contains(&z))
                        .ok_or_else(|| format!("atomic number {z} out of range"))
                })
                .collect::<std::result::Result<Vec<u8>, String>>()?
        } else if let Some(species) = columns.take_strings("species") {
            species
                .iter()
                .map(|s| species_number(s).ok_or_else(|| format!("unknown element {s:?}")))
                .collect::<std::result::Result<Vec<u8>, String>>()?
        } else {
            return Err("no species or Z property".into());
        };
        let positions = columns
            .take_vec3("pos")?
            .ok_or("no pos:R:3 property")?
            .into_iter()
            .map(|p| p.map(|x| x * lf))
            .collect();
        let forces = columns
            .take_vec3(opts.forces_key_or("forces"))?
            .map(|f| f.into_iter().map(|v| v.map(|x| x * ef / lf)).collect());
        let masses: Option<Vec<f64>> = columns.take_floats("masses");
        let velocities = if let Some(p) = columns.take_vec3("momenta")? {
            let mut v = Vec::with_capacity(p.len());
            for (i, (p, &z)) in p.iter().zip(&numbers).enumerate() {
                let m = masses.as_ref().map_or(elements::mass(z), |m| m[i]);
                if m.is_nan() || m <= 0.0 {
                    return Err(format!(
                        "atom {i}: mass {m} cannot turn momenta into velocities"
                    ));
                }
                v.push(p.map(|x| x / m * FS * lf));
            }
            Some(v)
        } else if let Some(v) = columns.take_vec3("velocities")? {
            Some(v.into_iter().map(|v| v.map(|x| x * lf)).collect())
        } else {
            columns
                .take_vec3("vel")?
                .map(|v| v.into_iter().map(|v| v.map(|x| x * lf)).collect())
        };
        let energy = match self.info.remove(opts.energy_key_or("energy")) {
            None => None,
            Some(v) => Some(
                v.as_f64()
                    .ok_or_else(|| format!("energy is not a number: {v:?}"))?
                    * ef,
            ),
        };
        let charge = match self.info.get("charge").and_then(Value::as_f64) {
            Some(q) => {
                self.info.remove("charge");
                Some(q)
            }
            None => None,
        };
        let cell = match (self.cell, self.pbc) {
            (Some(v), pbc) => Some(Cell {
                vectors: v.map(|r| r.map(|x| x * lf)),
                pbc: pbc.unwrap_or([true; 3]),
            }),
            (None, Some(pbc)) if pbc.iter().any(|&p| p) => {
                return Err("pbc is periodic but there is no Lattice".into())
            }
            (None, _) => None,
        };
        let s = Structure {
            numbers,
            positions,
            cell,
            energy,
            forces,
            charge,
            velocities,
            info: self.info,
        };
        s.validate().map_err(|e| e.to_string())?;
        Ok(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Per-atom columns

/// The values of one property for all atoms of a frame.
enum ColumnData {
    Real(Vec<f64>),
    Int(Vec<i64>),
    Str(Vec<String>),
    Bool(Vec<bool>),
}

/// Per-atom data of a frame, filled line by line.
struct Columns {
    props: Vec<Property>,
    data: Vec<ColumnData>,
    width: usize,
    /// Whether species must be elements (not when a `Z` column gives the numbers: ASE then
    /// ignores the species column).
    check_species: bool,
}

/// Values reserved up front per column: the count line is only a claim until the atom lines
/// arrive, so a corrupt count (`999999999`) must not reserve gigabytes; columns grow past this.
const PREALLOCATE: usize = 1 << 16;

impl Columns {
    fn new(props: &[Property], natoms: usize) -> Self {
        let data = props
            .iter()
            .map(|p| {
                let n = natoms.saturating_mul(p.ncols);
                match p.kind {
                    'R' => ColumnData::Real(Vec::with_capacity(n.min(PREALLOCATE))),
                    'I' => ColumnData::Int(Vec::with_capacity(n.min(PREALLOCATE))),
                    'L' => ColumnData::Bool(Vec::with_capacity(n.min(PREALLOCATE))),
                    _ => ColumnData::Str(Vec::with_capacity(n.min(PREALLOCATE))),
                }
            })
            .collect();
        Columns {
            props: props.to_vec(),
            data,
            width: props.iter().map(|p| p.ncols).sum(),
            check_species: !props
                .iter()
                .any(|p| p.name == "Z" && p.kind == 'I' && p.ncols == 1),
        }
    }

    /// Parses one atom line; extra trailing fields are ignored, as ASE does.
    fn push_line(&mut self, line: &str) -> std::result::Result<(), String> {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.len() < self.width {
            return Err(format!(
                "{} fields, expected {} ({})",
                tokens.len(),
                self.width,
                self.props
                    .iter()
                    .map(|p| format!("{}:{}:{}", p.name, p.kind, p.ncols))
                    .collect::<Vec<_>>()
                    .join(":")
            ));
        }
        let mut at = 0;
        let check_species = self.check_species;
        for (p, col) in self.props.iter().zip(self.data.iter_mut()) {
            for t in &tokens[at..at + p.ncols] {
                let bad = || format!("bad value {t:?} for {}:{}", p.name, p.kind);
                match col {
                    ColumnData::Real(v) => v.push(t.parse().map_err(|_| bad())?),
                    ColumnData::Int(v) => v.push(t.parse().map_err(|_| bad())?),
                    ColumnData::Bool(v) => v.push(match *t {
                        "T" | "True" => true,
                        "F" | "False" => false,
                        _ => return Err(bad()),
                    }),
                    ColumnData::Str(v) => {
                        if p.name == "species" && check_species && species_number(t).is_none() {
                            return Err(format!("unknown element {t:?}"));
                        }
                        v.push((*t).to_string())
                    }
                }
            }
            at += p.ncols;
        }
        Ok(())
    }

    fn take(&mut self, name: &str) -> Option<(Property, ColumnData)> {
        let i = self.props.iter().position(|p| p.name == name)?;
        Some((self.props.remove(i), self.data.remove(i)))
    }

    fn take_ints(&mut self, name: &str) -> Option<Vec<i64>> {
        match self.take(name)? {
            (p, ColumnData::Int(v)) if p.ncols == 1 => Some(v),
            (p, d) => {
                self.props.push(p);
                self.data.push(d);
                None
            }
        }
    }

    fn take_strings(&mut self, name: &str) -> Option<Vec<String>> {
        match self.take(name)? {
            (p, ColumnData::Str(v)) if p.ncols == 1 => Some(v),
            (_, ColumnData::Str(v)) => Some(v),
            (p, d) => {
                self.props.push(p);
                self.data.push(d);
                None
            }
        }
    }

    fn take_floats(&mut self, name: &str) -> Option<Vec<f64>> {
        match self.take(name)? {
            (p, ColumnData::Real(v)) if p.ncols == 1 => Some(v),
            (p, ColumnData::Int(v)) if p.ncols == 1 => Some(v.iter().map(|&i| i as f64).collect()),
            _ => None,
        }
    }

    /// A three-column numeric property as vectors; an error when it exists with another shape.
    fn take_vec3(&mut self, name: &str) -> std::result::Result<Option<Vec<[f64; 3]>>, String> {
        let Some((p, d)) = self.take(name) else {
            return Ok(None);
        };
        let flat: Vec<f64> = match (p.ncols, d) {
            (3, ColumnData::Real(v)) => v,
            (3, ColumnData::Int(v)) => v.iter().map(|&i| i as f64).collect(),
            _ => {
                return Err(format!(
                    "property {} is {}:{}, expected R:3",
                    p.name, p.kind, p.ncols
                ))
            }
        };
        Ok(Some(
            flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::KCAL_PER_MOL;

    fn read_one(text: &str, opts: ReadOptions) -> Result<Structure> {
        ExtxyzFrames::new(text.as_bytes(), "mem", opts)
            .next()
            .expect("one frame")
    }

    #[test]
    fn file_energy_unit_is_applied_and_consumed() {
        let text = "1\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-2.0 \
                    energy_unit=kcal/mol force_unit=kcal/mol/Ang\nH 0 0 0 1.0 0 0\n";
        let s = read_one(text, ReadOptions::default()).unwrap();
        assert_eq!(s.energy, Some(-2.0 * KCAL_PER_MOL));
        assert_eq!(s.forces.unwrap()[0][0], KCAL_PER_MOL);
        assert!(s.info.is_empty(), "{:?}", s.info);
        let bad = "1\nenergy=1 energy_unit=furlong\nH 0 0 0\n";
        let err = read_one(bad, ReadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("furlong"), "{err}");
        // The caller's unit overrides the file's, even an unknown one.
        let s = read_one(bad, ReadOptions::default().with_energy_unit(EnergyUnit::Ev)).unwrap();
        assert_eq!(s.energy, Some(1.0));
    }

    #[test]
    fn z_velocities_and_charge() {
        let text = "2\nProperties=species:S:1:Z:I:1:pos:R:3:velocities:R:3 charge=-1 \
                    pbc=\"F F F\"\nX 8 0 0 0 0.01 0 0\nX 1 0 0 1 0 0 -0.02\n";
        let s = read_one(text, ReadOptions::default()).unwrap();
        assert_eq!(s.numbers, vec![8, 1], "Z wins over species, as in ASE");
        assert_eq!(s.charge, Some(-1.0));
        assert_eq!(
            s.velocities,
            Some(vec![[0.01, 0.0, 0.0], [0.0, 0.0, -0.02]])
        );
        assert!(s.cell.is_none());
    }

    #[test]
    fn lattice_without_pbc_is_periodic() {
        let text = "1\nLattice=\"3 0 0 0 3 0 0 0 3\"\nSi 0 0 0\n";
        let s = read_one(text, ReadOptions::default()).unwrap();
        let c = s.cell.unwrap();
        assert_eq!(c.pbc, [true; 3]);
        assert_eq!(c.vectors[2], [0.0, 0.0, 3.0]);
    }
}
