//! Mixed precision, autocast-style: weights (and optimizer state) stay f32; inside an
//! [`autocast`] scope the shared blocks cast each weight to the compute dtype (bf16 or f16) at the
//! point of use, so matmuls run in half precision while gradients flow back through the cast
//! (candle's `to_dtype` is differentiable) into the f32 master weights.
//!
//! The rule every block follows: activations travel in the compute dtype; reductions that lose
//! accuracy in half precision (layer/RMS norms, softmax, the loss) compute in f32 internally and
//! return the compute dtype (the loss returns f32). Outside a scope nothing is cast, so f32 runs
//! are bit-identical to a build without this module.
//!
//! The scope is per thread: a forward pass runs on the thread that calls it (the CPU kernels'
//! worker threads never build graph nodes), and tests running in parallel do not see each other's
//! setting.

use crate::error::{ModelError, ModelResult};
use candle_core::{DType, Result, Tensor};
use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

/// Numeric precision of a run (`--precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Everything in f32 (the CPU default).
    #[default]
    F32,
    /// bf16 compute, f32 weights, optimizer state and loss.
    Bf16,
    /// f16 compute with dynamic loss scaling in training (f16's range is too small for raw
    /// gradients), f32 weights.
    F16,
}

impl Precision {
    /// The compute dtype inside an [`autocast`] scope; `None` for f32 (no casting at all).
    pub fn compute_dtype(self) -> Option<DType> {
        match self {
            Self::F32 => None,
            Self::Bf16 => Some(DType::BF16),
            Self::F16 => Some(DType::F16),
        }
    }

    /// Whether training needs loss scaling (f16 only).
    pub fn needs_loss_scaling(self) -> bool {
        self == Self::F16
    }
}

impl FromStr for Precision {
    type Err = ModelError;

    fn from_str(s: &str) -> ModelResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Self::F32),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            "f16" | "fp16" | "float16" | "half" => Ok(Self::F16),
            _ => Err(ModelError::config(
                "--precision",
                format!("`{s}` is not a precision; use f32, bf16 or f16"),
            )),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
            Self::F16 => "f16",
        })
    }
}

thread_local! {
    static COMPUTE: Cell<Option<DType>> = const { Cell::new(None) };
}

/// Restores the previous compute dtype when dropped (scopes nest).
#[must_use = "the autocast scope ends when this guard is dropped"]
pub struct AutocastGuard {
    previous: Option<DType>,
}

impl Drop for AutocastGuard {
    fn drop(&mut self) {
        COMPUTE.with(|c| c.set(self.previous));
    }
}

/// Run the forward passes of this thread in `precision` until the guard drops.
pub fn autocast(precision: Precision) -> AutocastGuard {
    let previous = COMPUTE.with(|c| c.replace(precision.compute_dtype()));
    AutocastGuard { previous }
}

/// The current compute dtype (`None` outside an autocast scope or in f32).
pub fn compute_dtype() -> Option<DType> {
    COMPUTE.with(|c| c.get())
}

fn is_float(d: DType) -> bool {
    matches!(d, DType::F32 | DType::F64 | DType::BF16 | DType::F16)
}

/// `t` in the compute dtype (weights at their point of use, inputs of a matmul); integer tensors
/// and tensors already in it are returned as they are.
pub fn cast(t: &Tensor) -> Result<Tensor> {
    match compute_dtype() {
        Some(d) if t.dtype() != d && is_float(t.dtype()) => t.to_dtype(d),
        _ => Ok(t.clone()),
    }
}

/// `t` in the dtype of `like` (a constant table — rotary cos/sin, a mask bias — meeting an
/// activation); a no-op when they agree, so f32 runs never pay for it.
pub fn cast_like(t: &Tensor, like: &Tensor) -> Result<Tensor> {
    if t.dtype() == like.dtype() || !is_float(t.dtype()) {
        Ok(t.clone())
    } else {
        t.to_dtype(like.dtype())
    }
}

/// For reductions that half precision spoils (norms, softmax): the input in f32 and the dtype to
/// return the result in. f32/f64 inputs pass through unchanged.
pub fn upcast(t: &Tensor) -> Result<(Tensor, DType)> {
    match t.dtype() {
        DType::BF16 | DType::F16 => Ok((t.to_dtype(DType::F32)?, t.dtype())),
        d => Ok((t.clone(), d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn parses_precisions() {
        assert_eq!("bf16".parse::<Precision>().unwrap(), Precision::Bf16);
        assert_eq!("FP16".parse::<Precision>().unwrap(), Precision::F16);
        assert_eq!("f32".parse::<Precision>().unwrap(), Precision::F32);
        assert!("int8".parse::<Precision>().is_err());
        assert_eq!(Precision::Bf16.to_string(), "bf16");
    }

    #[test]
    fn scopes_nest_and_restore() {
        assert_eq!(compute_dtype(), None);
        {
            let _a = autocast(Precision::Bf16);
            assert_eq!(compute_dtype(), Some(DType::BF16));
            {
                let _b = autocast(Precision::F32);
                assert_eq!(compute_dtype(), None);
            }
            assert_eq!(compute_dtype(), Some(DType::BF16));
        }
        assert_eq!(compute_dtype(), None);
    }

    #[test]
    fn gradient_reaches_the_f32_master_weight_through_the_cast() {
        let w = Var::new(&[1.5f32, -2.0], &Device::Cpu).unwrap();
        let x = Tensor::new(&[3.0f32, 4.0], &Device::Cpu).unwrap();
        let _g = autocast(Precision::Bf16);
        let y = (cast(w.as_tensor()).unwrap() * cast(&x).unwrap()).unwrap();
        assert_eq!(y.dtype(), DType::BF16);
        let loss = y.to_dtype(DType::F32).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        let g = grads.get(w.as_tensor()).unwrap();
        assert_eq!(g.dtype(), DType::F32);
        assert_eq!(g.to_vec1::<f32>().unwrap(), vec![3.0, 4.0]);
    }
}
