//! Finite-difference gradient checking (f64, CPU) for any scalar function of tensors built from
//! candle ops. Used by this crate's tests and exported for the trainer's own checks.

use candle_core::{DType, Device, Result, Tensor, Var};

/// Worst disagreement between autograd and central differences.
#[derive(Debug, Clone, Copy)]
pub struct GradCheck {
    /// max |analytic - numeric| / max(1, |numeric|) over all checked coordinates.
    pub max_rel_error: f64,
    pub checked: usize,
}

/// Compare autograd gradients of `f(inputs)` (a scalar) with central differences of step `h`.
/// Inputs are converted to f64 Vars. Every coordinate is checked if there are at most
/// `max_coords` per input, otherwise an evenly spaced sample of `max_coords`.
pub fn check_gradients<F>(inputs: &[Tensor], f: F, h: f64, max_coords: usize) -> Result<GradCheck>
where
    F: Fn(&[Tensor]) -> Result<Tensor>,
{
    let vars = inputs
        .iter()
        .map(|t| Var::from_tensor(&t.to_dtype(DType::F64)?.to_device(&Device::Cpu)?))
        .collect::<Result<Vec<_>>>()?;
    let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let out = f(&tensors)?;
    if out.elem_count() != 1 {
        candle_core::bail!(
            "check_gradients: function must return a scalar, got {:?}",
            out.dims()
        );
    }
    let grads = out.sum_all()?.backward()?;
    let eval = |ts: &[Tensor]| -> Result<f64> { f(ts)?.sum_all()?.to_scalar::<f64>() };
    let mut worst = 0f64;
    let mut checked = 0usize;
    for (i, v) in vars.iter().enumerate() {
        let base: Vec<f64> = v.as_tensor().flatten_all()?.to_vec1()?;
        let analytic: Vec<f64> = match grads.get(v.as_tensor()) {
            Some(g) => g.flatten_all()?.to_vec1()?,
            None => vec![0.0; base.len()],
        };
        let n = base.len();
        let step = if n > max_coords {
            n.div_ceil(max_coords)
        } else {
            1
        };
        for j in (0..n).step_by(step) {
            let perturbed = |delta: f64| -> Result<f64> {
                let mut vals = base.clone();
                vals[j] += delta;
                let t = Tensor::from_vec(vals, v.shape(), &Device::Cpu)?;
                let mut ts = tensors.clone();
                ts[i] = t;
                eval(&ts)
            };
            let numeric = (perturbed(h)? - perturbed(-h)?) / (2.0 * h);
            let err = (analytic[j] - numeric).abs() / numeric.abs().max(1.0);
            worst = worst.max(err);
            checked += 1;
        }
    }
    Ok(GradCheck {
        max_rel_error: worst,
        checked,
    })
}
