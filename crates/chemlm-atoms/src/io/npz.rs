//! MD17 / sGDML `.npz` files: arrays `R` (frames, atoms, 3) in Å, `z` (atoms,) atomic numbers,
//! `E` (frames,) or (frames, 1) and `F` (frames, atoms, 3), energies in kcal/mol and forces in
//! kcal/mol/Å by sGDML convention (override with [`ReadOptions::energy_unit`]).
//!
//! Only the arrays needed are decoded: sGDML files also hold metadata (`name`, `theory`, `md5`,
//! byte and unicode string scalars) that are never touched. `E` and `F` are optional (a
//! geometry-only file reads as unlabelled structures); `z` may also be per frame, (frames,
//! atoms). Members may be stored or deflated (`np.savez_compressed`).

use super::{ReadOptions, ReadReport};
use crate::error::{AtomsError, Result};
use crate::structure::Structure;
use crate::units::EnergyUnit;
use npyz::{DType, NpyFile, Order, TypeChar};
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// A decoded numeric array in C order.
struct Array<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

/// Reads an MD17/sGDML `.npz`. Missing `R`/`z` or inconsistent shapes are file errors; frames
/// with non-finite values or out-of-range atomic numbers are reported in
/// [`ReadReport::bad`] with their frame number.
pub fn read_npz(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<ReadReport> {
    let path = path.as_ref();
    let bad_file = |reason: String| AtomsError::BadFile {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| AtomsError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| bad_file(format!("not an npz (zip) archive: {e}")))?;

    let r = read_f64(&mut zip, "R")
        .map_err(&bad_file)?
        .ok_or_else(|| bad_file("no array R (positions)".into()))?;
    let z = read_i64(&mut zip, "z")
        .map_err(&bad_file)?
        .ok_or_else(|| bad_file("no array z (atomic numbers)".into()))?;
    let e_key = opts.energy_key_or("E");
    let f_key = opts.forces_key_or("F");
    let e = read_f64(&mut zip, e_key).map_err(&bad_file)?;
    let f = read_f64(&mut zip, f_key).map_err(&bad_file)?;

    let [n_frames, n_atoms, three] = r.shape[..] else {
        return Err(bad_file(format!(
            "R has shape {:?}, expected (frames, atoms, 3)",
            r.shape
        )));
    };
    if three != 3 {
        return Err(bad_file(format!(
            "R has shape {:?}, expected (frames, atoms, 3)",
            r.shape
        )));
    }
    let per_frame_z = match z.shape[..] {
        [n] if n == n_atoms => false,
        [nf, n] if nf == n_frames && n == n_atoms => true,
        _ => {
            return Err(bad_file(format!(
                "z has shape {:?}, expected ({n_atoms},) or ({n_frames}, {n_atoms})",
                z.shape
            )))
        }
    };
    if let Some(e) = &e {
        let ok = matches!(e.shape[..], [n] if n == n_frames)
            || matches!(e.shape[..], [n, 1] if n == n_frames);
        if !ok {
            return Err(bad_file(format!(
                "{e_key} has shape {:?}, expected ({n_frames},) or ({n_frames}, 1)",
                e.shape
            )));
        }
    }
    if let Some(f) = &f {
        if f.shape != r.shape {
            return Err(bad_file(format!(
                "{f_key} has shape {:?}, expected {:?} like R",
                f.shape, r.shape
            )));
        }
    }

    let ef = opts.energy_unit.unwrap_or(EnergyUnit::KcalPerMol).to_ev();
    let lf = opts.length_factor();
    let take = opts.limit.map_or(n_frames, |l| l.min(n_frames));
    let mut report = ReadReport {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let vec3 = |flat: &[f64], scale: f64| -> Vec<[f64; 3]> {
        flat.chunks_exact(3)
            .map(|c| [c[0] * scale, c[1] * scale, c[2] * scale])
            .collect()
    };
    let block = n_atoms * 3;
    for i in 0..take {
        report.frames_seen += 1;
        let zi = if per_frame_z {
            &z.data[i * n_atoms..(i + 1) * n_atoms]
        } else {
            &z.data[..]
        };
        let numbers: std::result::Result<Vec<u8>, String> = zi
            .iter()
            .map(|&v| {
                u8::try_from(v)
                    .ok()
                    .filter(|&v| (1..=crate::elements::MAX_Z).contains(&v))
                    .ok_or_else(|| format!("atomic number {v} out of range"))
            })
            .collect();
        let built = numbers.and_then(|numbers| {
            let s = Structure {
                numbers,
                positions: vec3(&r.data[i * block..(i + 1) * block], lf),
                energy: e.as_ref().map(|e| e.data[i] * ef),
                forces: f
                    .as_ref()
                    .map(|f| vec3(&f.data[i * block..(i + 1) * block], ef / lf)),
                ..Default::default()
            };
            s.validate().map_err(|e| e.to_string())?;
            Ok(s)
        });
        match built {
            Ok(s) => report.structures.push(s),
            Err(reason) => report.bad.push(AtomsError::BadFrame {
                path: path.to_path_buf(),
                frame: i,
                line: None,
                reason,
            }),
        }
    }
    Ok(report)
}

/// Opens member `name` (`name.npy`, or `name` itself) of the archive; `None` if absent.
fn member<'a, R: Read + Seek>(
    zip: &'a mut zip::ZipArchive<R>,
    name: &str,
) -> std::result::Result<Option<NpyFile<zip::read::ZipFile<'a, R>>>, String> {
    let file_name = [format!("{name}.npy"), name.to_string()]
        .into_iter()
        .find(|n| zip.index_for_name(n).is_some());
    let Some(file_name) = file_name else {
        return Ok(None);
    };
    let entry = zip
        .by_name(&file_name)
        .map_err(|e| format!("{file_name}: {e}"))?;
    NpyFile::new(entry)
        .map(Some)
        .map_err(|e| format!("{file_name}: not a .npy array: {e}"))
}

/// Type character and byte size of a plain (non-record) dtype.
fn scalar_type(dtype: &DType) -> Option<(TypeChar, u64)> {
    match dtype {
        DType::Plain(ts) => Some((ts.type_char(), ts.size_field())),
        _ => None,
    }
}

fn read_f64<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> std::result::Result<Option<Array<f64>>, String> {
    let Some(npy) = member(zip, name)? else {
        return Ok(None);
    };
    let (shape, order) = (dims(npy.shape()), npy.order());
    let err = |e: std::io::Error| format!("{name}: {e}");
    let data: Vec<f64> = match scalar_type(&npy.dtype()) {
        Some((TypeChar::Float, 8)) => npy.into_vec::<f64>().map_err(err)?,
        Some((TypeChar::Float, 4)) => npy
            .into_vec::<f32>()
            .map_err(err)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => {
            return Err(format!(
                "{name}: dtype {} is not a float array",
                npy.dtype().descr()
            ))
        }
    };
    Ok(Some(to_c_order(shape, order, data)))
}

fn read_i64<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> std::result::Result<Option<Array<i64>>, String> {
    let Some(npy) = member(zip, name)? else {
        return Ok(None);
    };
    let (shape, order) = (dims(npy.shape()), npy.order());
    let err = |e: std::io::Error| format!("{name}: {e}");
    let data: Vec<i64> = match scalar_type(&npy.dtype()) {
        Some((TypeChar::Uint, 1)) => widen(npy.into_vec::<u8>().map_err(err)?),
        Some((TypeChar::Uint, 2)) => widen(npy.into_vec::<u16>().map_err(err)?),
        Some((TypeChar::Uint, 4)) => widen(npy.into_vec::<u32>().map_err(err)?),
        Some((TypeChar::Uint, 8)) => npy
            .into_vec::<u64>()
            .map_err(err)?
            .into_iter()
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
            .collect(),
        Some((TypeChar::Int, 1)) => widen(npy.into_vec::<i8>().map_err(err)?),
        Some((TypeChar::Int, 2)) => widen(npy.into_vec::<i16>().map_err(err)?),
        Some((TypeChar::Int, 4)) => widen(npy.into_vec::<i32>().map_err(err)?),
        Some((TypeChar::Int, 8)) => npy.into_vec::<i64>().map_err(err)?,
        _ => {
            return Err(format!(
                "{name}: dtype {} is not an integer array",
                npy.dtype().descr()
            ))
        }
    };
    Ok(Some(to_c_order(shape, order, data)))
}

fn widen<T: Into<i64>>(v: Vec<T>) -> Vec<i64> {
    v.into_iter().map(Into::into).collect()
}

fn dims(shape: &[u64]) -> Vec<usize> {
    shape
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
        .collect()
}

/// Reorders a Fortran-ordered array into C order (a no-op for C order).
fn to_c_order<T: Copy>(shape: Vec<usize>, order: Order, data: Vec<T>) -> Array<T> {
    if order == Order::C || shape.len() < 2 {
        return Array { shape, data };
    }
    let n = data.len();
    let mut out = Vec::with_capacity(n);
    // Fortran strides: the first index varies fastest.
    let mut f_strides = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        f_strides[k] = f_strides[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        let off: usize = idx.iter().zip(&f_strides).map(|(i, s)| i * s).sum();
        out.push(data[off]);
        // Advance the C-order multi-index (last index fastest).
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    Array { shape, data: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_to_c() {
        // 2x3 matrix [[0,1,2],[3,4,5]] stored column-major: 0 3 1 4 2 5.
        let a = to_c_order(vec![2, 3], Order::Fortran, vec![0, 3, 1, 4, 2, 5]);
        assert_eq!(a.data, vec![0, 1, 2, 3, 4, 5]);
        let b = to_c_order(vec![2, 3], Order::C, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(b.data, vec![0, 1, 2, 3, 4, 5]);
    }
}
