//! GELU activations. BERT/MoLFormer use the exact erf form ("gelu"), GPT-Neo and ALBERT default to
//! the tanh approximation ("gelu_new").

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

/// Reference erf-GELU from differentiable primitives: `0.5 x (1 + erf(x / sqrt 2))`.
pub fn gelu_erf_composed(x: &Tensor) -> Result<Tensor> {
    let inner = (x * std::f64::consts::FRAC_1_SQRT_2)?.erf()?;
    ((inner + 1.0)? * x)? * 0.5
}

/// erf-GELU: fused kernel on CPU when enabled, else the composed reference.
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if super::use_fused(x) {
        super::fused::gelu_erf(x)
    } else {
        gelu_erf_composed(x)
    }
}

/// Reference tanh-GELU: candle's unary `gelu` (libm tanh), which records its own backward.
pub fn gelu_tanh_composed(x: &Tensor) -> Result<Tensor> {
    x.gelu()
}

/// tanh-approximated GELU (`gelu_new`): fused kernel on CPU when enabled, else the reference.
pub fn gelu_tanh(x: &Tensor) -> Result<Tensor> {
    if super::use_fused(x) {
        super::fused::gelu_tanh(x)
    } else {
        gelu_tanh_composed(x)
    }
}

/// Activation names as Hugging Face configs spell them (`hidden_act`, `activation_function`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// Exact GELU (erf).
    #[default]
    #[serde(rename = "gelu")]
    Gelu,
    /// tanh approximation.
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluNew,
    #[serde(rename = "relu")]
    Relu,
}

impl Activation {
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Gelu => gelu_erf(x),
            Activation::GeluNew => gelu_tanh(x),
            Activation::Relu => x.relu(),
        }
    }
}
