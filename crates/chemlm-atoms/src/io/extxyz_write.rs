//! Extended XYZ writer: what ASE's writer produces, with every float at full precision.

use super::extxyz_kv::{escape, fmt_f64, format_value};
use super::write_atomic;
use crate::elements;
use crate::error::{AtomsError, Result};
use crate::structure::Structure;
use crate::units::FS;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// Writes `structures` to `path` as extended XYZ, atomically (temporary file in the same
/// directory, then rename; nothing is left behind on error); gzip when `path` ends in `.gz`.
pub fn write_extxyz(path: impl AsRef<Path>, structures: &[Structure]) -> Result<()> {
    let path = path.as_ref();
    for (i, s) in structures.iter().enumerate() {
        s.validate().map_err(|e| AtomsError::BadFrame {
            path: path.to_path_buf(),
            frame: i,
            line: None,
            reason: e.to_string(),
        })?;
    }
    write_atomic(path, |w| {
        for s in structures {
            w.write_all(format_extxyz_frame(s)?.as_bytes())
                .map_err(|e| AtomsError::io(path, e))?;
        }
        Ok(())
    })
}

/// Appends `structures` to an open writer (e.g. an MD trajectory written frame by frame).
/// I/O errors are reported against the path `"<stream>"`.
pub fn write_extxyz_to<W: Write + ?Sized>(writer: &mut W, structures: &[Structure]) -> Result<()> {
    for s in structures {
        let text = format_extxyz_frame(s)?;
        writer
            .write_all(text.as_bytes())
            .map_err(|e| AtomsError::io("<stream>", e))?;
    }
    Ok(())
}

/// One frame as extended XYZ text, ending in a newline.
///
/// Comment line: `Lattice` (when there is a cell), `Properties`, `energy`, `charge`, the `info`
/// keys in their (sorted) order, and `pbc` (always, as ASE does). Per-atom columns: species,
/// pos, then `momenta` when there are velocities (ASE's unit, so `atoms.get_velocities()` is
/// right) and `forces` when there are forces.
///
/// As with ASE's own writer, a string value that looks like a number or a boolean (`"12"`,
/// `"T"`) is read back by ASE (and by us) as that number or boolean.
pub fn format_extxyz_frame(s: &Structure) -> Result<String> {
    s.validate()?;
    let mut out = String::with_capacity(64 + s.len() * 100);
    let _ = writeln!(out, "{}", s.len());

    let mut props = String::from("species:S:1:pos:R:3");
    let momenta: Option<Vec<[f64; 3]>> = s.velocities.as_ref().map(|v| {
        v.iter()
            .zip(&s.numbers)
            .map(|(v, &z)| v.map(|x| x / FS * elements::mass(z)))
            .collect()
    });
    if momenta.is_some() {
        props.push_str(":momenta:R:3");
    }
    if s.forces.is_some() {
        props.push_str(":forces:R:3");
    }
    let mut fields: Vec<String> = Vec::new();
    if let Some(c) = &s.cell {
        let v: Vec<String> = c.vectors.iter().flatten().map(|x| fmt_f64(*x)).collect();
        fields.push(format!("Lattice=\"{}\"", v.join(" ")));
    }
    fields.push(format!("Properties={props}"));
    if let Some(e) = s.energy {
        fields.push(format!("energy={}", fmt_f64(e)));
    }
    if let Some(q) = s.charge {
        fields.push(format!("charge={}", fmt_f64(q)));
    }
    for (k, v) in &s.info {
        let reserved = matches!(k.as_str(), "Lattice" | "Properties" | "pbc")
            || (k == "energy" && s.energy.is_some())
            || (k == "charge" && s.charge.is_some());
        if reserved {
            continue;
        }
        fields.push(format!("{}={}", escape(k), format_value(v)));
    }
    let pbc = s.cell.map_or([false; 3], |c| c.pbc);
    let tf = |b: bool| if b { "T" } else { "F" };
    fields.push(format!(
        "pbc=\"{} {} {}\"",
        tf(pbc[0]),
        tf(pbc[1]),
        tf(pbc[2])
    ));
    out.push_str(&fields.join(" "));
    out.push('\n');

    for i in 0..s.len() {
        let _ = write!(out, "{:<2}", elements::symbol(s.numbers[i]));
        let mut vec3 = |v: &[f64; 3]| {
            for x in v {
                let _ = write!(out, " {:>16}", fmt_f64(*x));
            }
        };
        vec3(&s.positions[i]);
        if let Some(p) = &momenta {
            vec3(&p[i]);
        }
        if let Some(f) = &s.forces {
            vec3(&f[i]);
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momenta_use_ase_units() {
        // One H atom moving at 0.01 Å/fs: p = m v / FS in amu·Å per ASE time unit.
        let mut s = Structure::new(vec![1], vec![[0.0; 3]]).unwrap();
        s.velocities = Some(vec![[0.01, 0.0, 0.0]]);
        let text = format_extxyz_frame(&s).unwrap();
        let p: f64 = text
            .lines()
            .nth(2)
            .unwrap()
            .split_whitespace()
            .nth(4)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(p, 0.01 / FS * elements::mass(1));
    }
}
