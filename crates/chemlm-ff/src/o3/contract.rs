//! Allegro's strided tensor product ("Contracter" in nequip-allegro): every channel u of a
//! pair feature x1 `[E, u, dim1]` is coupled with the same channel of an environment feature
//! x2 `[E, u, dim2]` through all admissible paths (ir1 ⊗ ir2 → ir_out), each path weighted by
//! a learned scalar (per channel with path-channel coupling), normalised as e3nn's "component"
//! irrep normalisation (3j × √(2 l_out + 1)).
//!
//! The weights and 3j symbols are contracted first (one small matmul), then each channel is a
//! dense `[E, dim1·dim2] × [dim1·dim2, dim_out]` product: the layout that keeps the work in a
//! few large GEMMs on candle rather than many small gathers.

use super::{wigner_3j, Irreps};
use crate::error::{FfError, FfResult};
use candle_core::{DType, Device, Tensor};
use candle_nn::{Init, VarBuilder};

/// A strided tensor product with learned path weights.
#[derive(Debug, Clone)]
pub struct StridedTensorProduct {
    /// Irreps of the pair (left) input.
    pub irreps_in1: Irreps,
    /// Irreps of the environment (right) input.
    pub irreps_in2: Irreps,
    /// Irreps of the output (those without a path stay zero).
    pub irreps_out: Irreps,
    /// Number of channels.
    pub mul: usize,
    /// Per-channel path weights (`[mul, paths]`) or shared ones (`[paths]`).
    pub path_channel_coupling: bool,
    /// Paths (index in in1, index in in2, index in out), in nequip-allegro's order.
    pub instructions: Vec<[usize; 3]>,
    /// 3j symbols of all paths, normalised, `[paths, dim1·dim2·dim_out]`.
    w3j: Tensor,
    /// Weights in nequip-allegro's shape (`[mul, paths]`, `[mul]`, `[paths]` or `[]`).
    weights: Tensor,
}

impl StridedTensorProduct {
    /// Builds the product; the weights are the variable `weights` of `vb` (uniform in ±√3, as
    /// nequip-allegro initialises them).
    pub fn new(
        irreps_in1: Irreps,
        irreps_in2: Irreps,
        irreps_out: Irreps,
        mul: usize,
        path_channel_coupling: bool,
        vb: &VarBuilder,
    ) -> FfResult<Self> {
        let mut instructions = Vec::new();
        for (io, &ir_out) in irreps_out.0.iter().enumerate() {
            for (i1, &a) in irreps_in1.0.iter().enumerate() {
                for (i2, &b) in irreps_in2.0.iter().enumerate() {
                    if ir_out.in_product(a, b) {
                        instructions.push([i1, i2, io]);
                    }
                }
            }
        }
        if instructions.is_empty() || mul == 0 {
            return Err(FfError::Invalid(format!(
                "tensor product {irreps_in1} x {irreps_in2} -> {irreps_out} with {mul} channels has no path"
            )));
        }
        let (d1, d2, dout) = (irreps_in1.dim(), irreps_in2.dim(), irreps_out.dim());
        let (o1, o2, oo) = (
            irreps_in1.offsets(),
            irreps_in2.offsets(),
            irreps_out.offsets(),
        );
        let n_paths = instructions.len();
        let mut w3j = vec![0.0f64; n_paths * d1 * d2 * dout];
        for (p, &[i1, i2, io]) in instructions.iter().enumerate() {
            let (a, b, c) = (irreps_in1.0[i1], irreps_in2.0[i2], irreps_out.0[io]);
            let sym = wigner_3j(a.l, b.l, c.l);
            let norm = (c.dim() as f64).sqrt();
            for i in 0..a.dim() {
                for j in 0..b.dim() {
                    for k in 0..c.dim() {
                        let v = sym[(i * b.dim() + j) * c.dim() + k];
                        if v != 0.0 {
                            let idx = ((p * d1 + o1[i1] + i) * d2 + o2[i2] + j) * dout + oo[io] + k;
                            w3j[idx] = v * norm;
                        }
                    }
                }
            }
        }
        let dtype = vb.dtype();
        let device = vb.device().clone();
        let w3j = Tensor::from_vec(w3j, (n_paths, d1 * d2 * dout), &device)?.to_dtype(dtype)?;
        let mut shape = Vec::new();
        if path_channel_coupling {
            shape.push(mul);
        }
        if n_paths > 1 {
            shape.push(n_paths);
        }
        let bound = 3f64.sqrt();
        let weights = vb.get_with_hints(
            shape,
            "weights",
            Init::Uniform {
                lo: -bound,
                up: bound,
            },
        )?;
        Ok(StridedTensorProduct {
            irreps_in1,
            irreps_in2,
            irreps_out,
            mul,
            path_channel_coupling,
            instructions,
            w3j,
            weights,
        })
    }

    /// Number of paths.
    pub fn n_paths(&self) -> usize {
        self.instructions.len()
    }

    /// The product of pair features `x1` `[E, mul, dim1]` with node features `x2_nodes`
    /// `[N, mul, dim2]` gathered at `idx` `[E]` (the centre atom of each pair): `[E, mul, dim_out]`.
    pub fn forward(&self, x1: &Tensor, x2_nodes: &Tensor, idx: &Tensor) -> FfResult<Tensor> {
        let x2 = x2_nodes.index_select(idx, 0)?;
        self.forward_gathered(x1, &x2)
    }

    /// As [`Self::forward`] with x2 already per pair `[E, mul, dim2]`.
    pub fn forward_gathered(&self, x1: &Tensor, x2: &Tensor) -> FfResult<Tensor> {
        let (d1, d2, dout) = (
            self.irreps_in1.dim(),
            self.irreps_in2.dim(),
            self.irreps_out.dim(),
        );
        let e = x1.dim(0)?;
        let u = self.mul;
        let outer = x1
            .unsqueeze(3)?
            .broadcast_mul(&x2.unsqueeze(2)?)?
            .reshape((e, u, d1 * d2))?;
        let rows = if self.path_channel_coupling { u } else { 1 };
        let w = self.weights.reshape((rows, self.n_paths()))?;
        let ww3j = w.matmul(&self.w3j)?;
        if self.path_channel_coupling {
            let ww3j = ww3j.reshape((u, d1 * d2, dout))?;
            let per_channel = outer.transpose(0, 1)?.contiguous()?.matmul(&ww3j)?;
            Ok(per_channel.transpose(0, 1)?.contiguous()?)
        } else {
            let ww3j = ww3j.reshape((d1 * d2, dout))?;
            Ok(outer
                .reshape((e * u, d1 * d2))?
                .matmul(&ww3j)?
                .reshape((e, u, dout))?)
        }
    }

    /// The weights (for tests and export).
    pub fn weights(&self) -> &Tensor {
        &self.weights
    }

    /// The normalised 3j tensor `[paths, dim1, dim2, dim_out]` on the host.
    pub fn w3j_host(&self) -> FfResult<Vec<f64>> {
        Ok(self
            .w3j
            .to_dtype(DType::F64)?
            .to_device(&Device::Cpu)?
            .flatten_all()?
            .to_vec1()?)
    }
}
