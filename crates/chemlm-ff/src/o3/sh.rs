//! Real spherical harmonics of edge directions, as differentiable tensor ops.

use crate::error::{FfError, FfResult};
use candle_core::{Tensor, D};

/// Y^l(r̂) for l = 0..=lmax of each row of `vectors` `[n, 3]`, concatenated `[n, (lmax+1)²]`,
/// with e3nn's `SphericalHarmonics(lmax, normalize=True, normalization="component")` order and
/// signs (l = 1 is √3 (x, y, z)). Built from tensor ops so forces and their weight gradients
/// flow through; rows must be non-zero (edges of distinct atoms). Supports lmax ≤ 3.
pub fn spherical_harmonics(lmax: usize, vectors: &Tensor) -> FfResult<Tensor> {
    if lmax > 3 {
        return Err(FfError::Invalid(format!(
            "spherical harmonics are implemented up to l = 3, asked for {lmax}"
        )));
    }
    let norm = vectors.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
    let unit = vectors.broadcast_div(&norm)?;
    let x = unit.narrow(1, 0, 1)?;
    let y = unit.narrow(1, 1, 1)?;
    let z = unit.narrow(1, 2, 1)?;
    let mut cols: Vec<Tensor> = vec![x.ones_like()?];
    if lmax >= 1 {
        let s3 = 3f64.sqrt();
        cols.extend([(&x * s3)?, (&y * s3)?, (&z * s3)?]);
    }
    if lmax >= 2 {
        let s15 = 15f64.sqrt();
        let s5 = 5f64.sqrt();
        let y2 = y.sqr()?;
        let x2z2 = (x.sqr()? + z.sqr()?)?;
        let sh20 = ((&x * &z)? * s15)?;
        let sh21 = ((&x * &y)? * s15)?;
        let sh22 = ((&y2 - (&x2z2 * 0.5)?)? * s5)?;
        let sh23 = ((&y * &z)? * s15)?;
        let sh24 = ((z.sqr()? - x.sqr()?)? * (0.5 * s15))?;
        if lmax >= 3 {
            let s42 = 42f64.sqrt() / 6.0;
            let s7 = 7f64.sqrt();
            let s168 = 168f64.sqrt() / 8.0;
            let four_y2_minus = ((&y2 * 4.0)? - &x2z2)?;
            let sh30 = (((&sh20 * &z)? + (&sh24 * &x)?)? * s42)?;
            let sh31 = ((&sh20 * &y)? * s7)?;
            let sh32 = ((&four_y2_minus * &x)? * s168)?;
            let sh33 = ((&y * ((&y2 * 2.0)? - (&x2z2 * 3.0)?)?)? * (0.5 * s7))?;
            let sh34 = ((&z * &four_y2_minus)? * s168)?;
            let sh35 = ((&sh24 * &y)? * s7)?;
            let sh36 = (((&sh24 * &z)? - (&sh20 * &x)?)? * s42)?;
            cols.extend([sh20, sh21, sh22, sh23, sh24]);
            cols.extend([sh30, sh31, sh32, sh33, sh34, sh35, sh36]);
        } else {
            cols.extend([sh20, sh21, sh22, sh23, sh24]);
        }
    }
    Ok(Tensor::cat(&cols, 1)?)
}
