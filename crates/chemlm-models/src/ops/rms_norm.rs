//! T5's layer norm: root-mean-square normalisation (Zhang & Sennrich 2019) with a learned scale,
//! no mean subtraction and no bias. As Hugging Face's `T5LayerNorm`, the mean of squares is taken
//! in f32 whatever the input dtype, and the result is cast back to the weight's dtype.
//!
//! candle_nn's `RmsNorm` runs a fused kernel without backward. Here [`rms_norm_composed`] is built
//! from differentiable primitives (the reference), and [`rms_norm`] runs a fused multi-threaded CPU
//! `CustomOp` with its own backward (one pass each way instead of six ops and their temporaries)
//! when fused ops are on; finite-difference tests below guard both.

use super::fused::{contiguous, dispatch_float, row_chunk, Real};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, WithDType};
use candle_core::{DType, Result, Tensor, D};
use rayon::prelude::*;

/// `w * x / sqrt(mean(x^2) + eps)` over the last dimension, differentiable.
pub fn rms_norm_composed(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let wide = matches!(x.dtype(), DType::F32 | DType::F64);
    let xf = if wide {
        x.clone()
    } else {
        x.to_dtype(DType::F32)?
    };
    let var = xf.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = xf.broadcast_div(&(var + eps)?.sqrt()?)?;
    let normed = if normed.dtype() == weight.dtype() {
        normed
    } else {
        normed.to_dtype(weight.dtype())?
    };
    normed.broadcast_mul(weight)
}

/// `1 / sqrt(mean(row^2) + eps)`, accumulated in the row's float type.
fn inv_rms<T: Real>(row: &[T], eps: f64) -> T {
    let mut ss = T::zr();
    for &v in row {
        ss += v * v;
    }
    T::lit(1.0) / (ss / T::lit(row.len() as f64) + T::lit(eps)).sqrt()
}

struct RmsNormOp {
    eps: f64,
}
struct RmsNormBwd {
    eps: f64,
}

impl CustomOp2 for RmsNormOp {
    fn name(&self) -> &'static str {
        "chemlm-rms-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = l1.dims().last().copied().unwrap_or(1);
        let eps = self.eps;
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let w = contiguous::<T>(s2, l2, self.name())?;
            if w.len() != d {
                candle_core::bail!("rms norm: weight of {} for width {d}", w.len());
            }
            // SAFETY: the row loop below writes every element.
            let mut out = unsafe { super::fused::uninit(x.len()) };
            let chunk = row_chunk(x.len(), d);
            out.par_chunks_mut(chunk)
                .zip(x.par_chunks(chunk))
                .for_each(|(o, xs)| {
                    for (orow, xrow) in o.chunks_mut(d).zip(xs.chunks(d)) {
                        let r = inv_rms(xrow, eps);
                        for ((ov, &v), &wi) in orow.iter_mut().zip(xrow).zip(w) {
                            *ov = v * r * wi;
                        }
                    }
                });
            Ok((T::to_cpu_storage_owned(out), l1.shape().clone()))
        })
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (n, d) = (x.elem_count(), w.elem_count());
        let flat = x.contiguous()?.apply_op3_no_bwd(
            &w.contiguous()?,
            &grad.contiguous()?,
            &RmsNormBwd { eps: self.eps },
        )?;
        let dx = flat.narrow(0, 0, n)?.reshape(x.shape())?;
        let dw = flat.narrow(0, n, d)?.reshape(w.shape())?;
        Ok((Some(dx), Some(dw)))
    }
}

impl CustomOp3 for RmsNormBwd {
    fn name(&self) -> &'static str {
        "chemlm-rms-norm-bwd"
    }

    /// Output: `dx` (flattened) followed by `dw`, one flat vector. With `xhat = x r`,
    /// `r = 1 / rms(x)`: `dx = r (g w - xhat mean(g w xhat))`, `dw = sum_rows g xhat`.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = l1.dims().last().copied().unwrap_or(1);
        let eps = self.eps;
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let w = contiguous::<T>(s2, l2, self.name())?;
            let g = contiguous::<T>(s3, l3, self.name())?;
            let n = x.len();
            let mut out = super::fused::zeros(n + d);
            let (dx, rest) = out.split_at_mut(n);
            let chunk = row_chunk(n, d);
            let dw = dx
                .par_chunks_mut(chunk)
                .zip(x.par_chunks(chunk).zip(g.par_chunks(chunk)))
                .map(|(o, (xs, gs))| {
                    let mut dw = vec![T::zr(); d];
                    for ((orow, xrow), grow) in o.chunks_mut(d).zip(xs.chunks(d)).zip(gs.chunks(d))
                    {
                        let r = inv_rms(xrow, eps);
                        let mut m = T::zr();
                        for i in 0..d {
                            let xhat = xrow[i] * r;
                            m += grow[i] * w[i] * xhat;
                            dw[i] += grow[i] * xhat;
                        }
                        m /= T::lit(d as f64);
                        for i in 0..d {
                            orow[i] = r * (grow[i] * w[i] - xrow[i] * r * m);
                        }
                    }
                    dw
                })
                .reduce(
                    || vec![T::zr(); d],
                    |mut a, b| {
                        for i in 0..d {
                            a[i] += b[i];
                        }
                        a
                    },
                );
            rest.copy_from_slice(&dw);
            Ok((T::to_cpu_storage_owned(out), Shape::from(n + d)))
        })
    }
}

/// T5 RMS norm: the fused CPU kernel when fused ops are on and `x` and `weight` are both f32 (or
/// both f64) on the CPU, else [`rms_norm_composed`] (half-precision inputs, other devices).
///
/// Under autocast (see [`crate::precision`]) the f32 master weight scales an f32 normalisation and
/// the result is returned in the compute dtype.
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    if crate::precision::compute_dtype().is_some() {
        let (x32, _) = crate::precision::upcast(x)?;
        let w = crate::precision::cast_like(weight, &x32)?;
        return crate::precision::cast(&rms_norm_f(&x32, &w, eps)?);
    }
    rms_norm_f(x, weight, eps)
}

fn rms_norm_f(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    if super::use_fused(x) && x.dtype() == weight.dtype() && weight.device().is_cpu() {
        x.contiguous()?
            .apply_op2(&weight.contiguous()?, RmsNormOp { eps })
    } else {
        rms_norm_composed(x, weight, eps)
    }
}

/// A T5 layer norm's weight (`weight`, init 1) and epsilon.
#[derive(Clone, Debug)]
pub struct RmsNorm {
    pub weight: Tensor,
    pub eps: f64,
}

impl RmsNorm {
    /// `vb` holding `weight` of `size`, initialised to `init` (HF: `initializer_factor`).
    pub fn new(size: usize, eps: f64, init: f64, vb: candle_nn::VarBuilder) -> Result<Self> {
        let weight = vb.get_with_hints(size, "weight", candle_nn::Init::Const(init))?;
        Ok(Self { weight, eps })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        rms_norm(x, &self.weight, self.eps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn randn(shape: &[usize], seed: u64) -> Tensor {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = shape.iter().product();
        let v = crate::init::normal_samples(&mut rng, n, 0.0, 1.0);
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    #[test]
    fn matches_definition() {
        let x = randn(&[2, 3, 5], 1);
        let w = randn(&[5], 2);
        let y: Vec<f32> = rms_norm_composed(&x, &w, 1e-6)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let xs: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
        let ws: Vec<f32> = w.to_vec1().unwrap();
        for (r, row) in xs.chunks(5).enumerate() {
            let ms = row.iter().map(|v| v * v).sum::<f32>() / 5.0;
            for j in 0..5 {
                let want = ws[j] * row[j] / (ms + 1e-6).sqrt();
                assert!((y[r * 5 + j] - want).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn half_precision_input_keeps_weight_dtype() {
        let x = randn(&[2, 4], 3).to_dtype(DType::BF16).unwrap();
        let w = randn(&[4], 4);
        let y = rms_norm_composed(&x, &w, 1e-6).unwrap();
        assert_eq!(y.dtype(), DType::F32);
    }

    #[test]
    fn fused_matches_composed_in_value_and_gradient() {
        let x = randn(&[4, 7, 33], 8);
        let w = randn(&[33], 9);
        let proj = randn(&[4, 7, 33], 10);
        let run = |fused: bool| {
            let xv = candle_core::Var::from_tensor(&x).unwrap();
            let wv = candle_core::Var::from_tensor(&w).unwrap();
            let y = if fused {
                xv.as_tensor()
                    .apply_op2(wv.as_tensor(), RmsNormOp { eps: 1e-6 })
                    .unwrap()
            } else {
                rms_norm_composed(xv.as_tensor(), wv.as_tensor(), 1e-6).unwrap()
            };
            let g = (&y * &proj).unwrap().sum_all().unwrap().backward().unwrap();
            let gx = g.get(xv.as_tensor()).unwrap().clone();
            let gw = g.get(wv.as_tensor()).unwrap().clone();
            (y, gx, gw)
        };
        let (a, b) = (run(true), run(false));
        let diff = |p: &Tensor, q: &Tensor| -> f32 {
            (p - q)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        assert!(diff(&a.0, &b.0) < 1e-5);
        assert!(diff(&a.1, &b.1) < 1e-4, "dx {}", diff(&a.1, &b.1));
        assert!(diff(&a.2, &b.2) < 1e-4, "dw {}", diff(&a.2, &b.2));
    }

    #[test]
    fn fused_gradients_match_finite_differences() {
        let x = randn(&[3, 6], 11);
        let w = randn(&[6], 12);
        let proj = randn(&[3, 6], 13).to_dtype(DType::F64).unwrap();
        let r = crate::gradcheck::check_gradients(
            &[x, w],
            |t| (t[0].apply_op2(&t[1], RmsNormOp { eps: 1e-6 })? * &proj)?.sum_all(),
            1e-5,
            64,
        )
        .unwrap();
        assert!(r.checked > 20);
        assert!(r.max_rel_error < 1e-6, "{r:?}");
    }

    #[test]
    fn gradients_match_finite_differences() {
        let x = randn(&[3, 6], 5);
        let w = randn(&[6], 6);
        let proj = randn(&[3, 6], 7).to_dtype(DType::F64).unwrap();
        let r = crate::gradcheck::check_gradients(
            &[x, w],
            |t| (rms_norm_composed(&t[0], &t[1], 1e-6)? * &proj)?.sum_all(),
            1e-5,
            64,
        )
        .unwrap();
        assert!(r.checked > 20);
        assert!(r.max_rel_error < 1e-6, "{r:?}");
    }
}
