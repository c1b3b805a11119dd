//! Building blocks shared by the force-field models, named and initialised as in schnetpack 2.x
//! so that its state dicts map onto ours one to one. Every function here is composed of candle
//! ops whose backward passes are themselves differentiable, which force training relies on
//! (see [`crate::second_order`]).

use crate::error::FfResult;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Init, VarBuilder};

/// Activation of a [`Dense`] layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// No activation.
    Identity,
    /// ln(0.5·eˣ + 0.5), SchNet's shifted softplus.
    ShiftedSoftplus,
    /// x·σ(x), PaiNN's activation.
    Silu,
}

/// ln(1 + eˣ) computed as relu(x) + ln(1 + e^−|x|): no overflow for large |x|, and smooth
/// second derivatives (the kink of relu and |x| cancel).
pub fn softplus(x: &Tensor) -> FfResult<Tensor> {
    let tail = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    Ok((x.relu()? + tail)?)
}

/// SchNet's shifted softplus ln(0.5·eˣ + 0.5) = softplus(x) − ln 2, zero at the origin.
///
/// On the CPU in f32/f64 this is one fused parallel pass ([`crate::fused::shifted_softplus`],
/// backward σ(x)·grad fused as well) instead of the eight elementwise passes of [`softplus`]:
/// it is the dominant elementwise cost of SchNet's filter networks. Other devices and dtypes
/// use the composed form.
pub fn shifted_softplus(x: &Tensor) -> FfResult<Tensor> {
    if x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64) {
        return Ok(crate::fused::shifted_softplus(x)?);
    }
    Ok((softplus(x)? - std::f64::consts::LN_2)?)
}

/// Applies `act` to `x`.
pub fn activate(x: &Tensor, act: Activation) -> FfResult<Tensor> {
    match act {
        Activation::Identity => Ok(x.clone()),
        Activation::ShiftedSoftplus => shifted_softplus(x),
        Activation::Silu => Ok(x.silu()?),
    }
}

/// A linear layer y = act(x Wᵀ + b) with schnetpack's names (`weight` [out, in], `bias` [out])
/// and initialisation (Xavier-uniform weight, zero bias).
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Tensor,
    bias: Option<Tensor>,
    act: Activation,
}

impl Dense {
    /// Creates (or looks up) `prefix.weight` / `prefix.bias` in `vb`.
    pub fn new(
        in_dim: usize,
        out_dim: usize,
        bias: bool,
        act: Activation,
        vb: VarBuilder,
    ) -> FfResult<Self> {
        let bound = (6.0 / (in_dim + out_dim) as f64).sqrt();
        let weight = vb.get_with_hints(
            (out_dim, in_dim),
            "weight",
            Init::Uniform {
                lo: -bound,
                up: bound,
            },
        )?;
        let bias = if bias {
            Some(vb.get_with_hints(out_dim, "bias", Init::Const(0.0))?)
        } else {
            None
        };
        Ok(Dense { weight, bias, act })
    }

    /// Applies the layer to `[n, in]` rows. On the CPU the product, the bias and a shifted
    /// softplus are one op ([`crate::fused::dense`]) whose weight gradients are skipped in
    /// force passes ([`crate::fused::positions_only`]).
    pub fn forward(&self, x: &Tensor) -> FfResult<Tensor> {
        self.apply(x, &self.weight, self.bias.as_ref())
    }

    /// The same function with the weights as constants (MD, prediction): no gradient reaches
    /// the weights and the graph does not hold them.
    pub fn forward_frozen(&self, x: &Tensor) -> FfResult<Tensor> {
        let b = self.bias.as_ref().map(Tensor::detach);
        self.apply(x, &self.weight.detach(), b.as_ref())
    }

    fn apply(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> FfResult<Tensor> {
        use crate::fused::{dense, Epilogue};
        Ok(match self.act {
            Activation::Identity => dense(x, w, b, Epilogue::Identity)?,
            Activation::ShiftedSoftplus => dense(x, w, b, Epilogue::ShiftedSoftplus)?,
            Activation::Silu => dense(x, w, b, Epilogue::Identity)?.silu()?,
        })
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.weight.dims()[0]
    }
}

/// Gaussian radial basis exp(−(d − μ_k)² / (2 w²)) with `n` centres evenly spaced on
/// [start, cutoff] and width w = spacing, schnetpack's `GaussianRBF` (its `offsets` and
/// `widths` are buffers, fixed, not trained).
#[derive(Debug, Clone)]
pub struct GaussianRbf {
    offsets: Tensor,
    coeff: f64,
}

impl GaussianRbf {
    /// `n` Gaussians on [start, cutoff].
    pub fn new(n: usize, start: f64, cutoff: f64, dtype: DType, device: &Device) -> FfResult<Self> {
        let step = if n > 1 {
            (cutoff - start) / (n - 1) as f64
        } else {
            cutoff - start
        };
        let offsets: Vec<f64> = (0..n).map(|k| start + step * k as f64).collect();
        let offsets = Tensor::from_vec(offsets, (1, n), device)?.to_dtype(dtype)?;
        Ok(GaussianRbf {
            offsets,
            coeff: -0.5 / (step * step),
        })
    }

    /// `[n_edges]` distances → `[n_edges, n]` expansions.
    pub fn forward(&self, d: &Tensor) -> FfResult<Tensor> {
        let diff = d.unsqueeze(1)?.broadcast_sub(&self.offsets)?;
        Ok((diff.sqr()? * self.coeff)?.exp()?)
    }

    /// Number of basis functions.
    pub fn len(&self) -> usize {
        self.offsets.dims()[1]
    }

    /// Whether the basis is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Cosine cutoff 0.5·(cos(π d / r_c) + 1) for d < r_c, else 0 (schnetpack's `CosineCutoff`).
pub fn cosine_cutoff(d: &Tensor, cutoff: f64) -> FfResult<Tensor> {
    let c = ((d * (std::f64::consts::PI / cutoff))?.cos()? + 1.0)?;
    let c = (c * 0.5)?;
    let inside = d.lt(cutoff)?.to_dtype(d.dtype())?;
    Ok((c * inside)?)
}

/// Euclidean norms of `[n, 3]` rows → `[n]`.
pub fn norms(v: &Tensor) -> FfResult<Tensor> {
    Ok(v.sqr()?.sum(D::Minus1)?.sqrt()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chemlm_models::gradcheck::check_gradients;

    fn t(v: &[f64]) -> Tensor {
        Tensor::new(v, &Device::Cpu).unwrap()
    }

    #[test]
    fn shifted_softplus_values_and_gradient() {
        let x = t(&[-40.0, -1.0, 0.0, 0.5, 3.0, 40.0]);
        let y: Vec<f64> = shifted_softplus(&x).unwrap().to_vec1().unwrap();
        for (xi, yi) in [-40.0f64, -1.0, 0.0, 0.5, 3.0, 40.0].iter().zip(&y) {
            let want = (0.5 * xi.exp() + 0.5).ln();
            assert!((want - yi).abs() < 1e-12, "{xi}: {want} vs {yi}");
        }
        let r = check_gradients(
            &[t(&[-2.0, -0.3, 0.4, 2.5])],
            |x| shifted_softplus(&x[0]).unwrap().sum_all(),
            1e-6,
            16,
        )
        .unwrap();
        assert!(r.max_rel_error < 1e-6, "{r:?}");
    }

    /// The fused op's backward keeps its graph: d²/dx² ssp = σ(x)(1 − σ(x)), in f32 and f64.
    #[test]
    fn shifted_softplus_second_derivative() {
        let xs = [-30.0f64, -2.0, -0.3, 0.0, 0.4, 2.5, 30.0];
        for dtype in [DType::F64, DType::F32] {
            let (d1, d2) = crate::second_order::run(|| {
                let x = candle_core::Var::from_tensor(&t(&xs).to_dtype(dtype).unwrap()).unwrap();
                let y = shifted_softplus(x.as_tensor()).unwrap().sum_all().unwrap();
                let g = y.backward().unwrap();
                let d1 = g.get(x.as_tensor()).unwrap().clone();
                let g2 = d1.sum_all().unwrap().backward().unwrap();
                let d2 = g2.get(x.as_tensor()).unwrap().clone();
                let v =
                    |t: Tensor| -> Vec<f64> { t.to_dtype(DType::F64).unwrap().to_vec1().unwrap() };
                (v(d1), v(d2))
            })
            .unwrap();
            let tol = if dtype == DType::F64 { 1e-12 } else { 1e-6 };
            for (i, x) in xs.iter().enumerate() {
                let s = 1.0 / (1.0 + (-x).exp());
                assert!((d1[i] - s).abs() < tol, "{dtype:?} {x}: {} vs {s}", d1[i]);
                assert!(
                    (d2[i] - s * (1.0 - s)).abs() < tol,
                    "{dtype:?} {x}: {}",
                    d2[i]
                );
            }
        }
    }

    #[test]
    fn rbf_and_cutoff_match_their_formulas() {
        let rbf = GaussianRbf::new(5, 0.0, 4.0, DType::F64, &Device::Cpu).unwrap();
        let y: Vec<Vec<f64>> = rbf.forward(&t(&[1.3])).unwrap().to_vec2().unwrap();
        for (k, v) in y[0].iter().enumerate() {
            let mu = k as f64;
            assert!((v - (-(1.3 - mu).powi(2) / 2.0).exp()).abs() < 1e-12);
        }
        let c: Vec<f64> = cosine_cutoff(&t(&[0.0, 2.5, 5.0, 6.0]), 5.0)
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!((c[0] - 1.0).abs() < 1e-12 && (c[1] - 0.5).abs() < 1e-12);
        assert_eq!((c[2], c[3]), (0.0, 0.0));
    }
}
