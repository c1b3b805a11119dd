//! Differentiable cross-entropy on selected positions.
//!
//! With fused kernels on (`chemlm_models::ops::set_fused`, the default) the loss is the fused,
//! multi-threaded `chemlm_models::ops::cross_entropy` op. Otherwise (and on other devices) the
//! log-softmax is composed from differentiable primitives (candle's own fused softmax kernels
//! have no backward pass). The row maximum is detached: log-softmax is shift invariant, so the
//! gradient through the max is exactly zero and need not be traced.

use candle_core::{DType, Device, Result, Tensor, D};

/// `x - logsumexp(x)` along the last dimension.
pub fn log_softmax_last(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let shifted = x.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    shifted.broadcast_sub(&lse)
}

/// Rows of `logits` `[batch, seq, vocab]` at flat positions `row * seq + col`, as `[n, vocab]`.
pub fn select_positions(logits: &Tensor, positions: &[u32]) -> Result<Tensor> {
    let (b, t, v) = logits.dims3()?;
    let flat = logits.reshape((b * t, v))?;
    let idx = Tensor::from_slice(positions, positions.len(), logits.device())?;
    flat.index_select(&idx, 0)
}

/// Sum over rows of `-log softmax(logits)[target]`; `logits` `[n, vocab]`, `targets` `[n]` u32.
/// Returns a scalar f32 tensor (0 when `n == 0`).
pub fn cross_entropy_sum(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let n = logits.dim(0)?;
    if n == 0 {
        return Tensor::new(0f32, logits.device());
    }
    if chemlm_models::ops::fused_enabled()
        && logits.device().is_cpu()
        && matches!(logits.dtype(), DType::F32 | DType::F64)
    {
        // One threaded pass forward and one backward instead of ~8 allocating ops each way.
        let sum = chemlm_models::ops::cross_entropy::cross_entropy_sum(
            logits,
            &targets.to_dtype(DType::U32)?,
            chemlm_models::ops::cross_entropy::IGNORE_INDEX,
        )?;
        return sum.to_dtype(DType::F32);
    }
    let logp = log_softmax_last(&logits.to_dtype(DType::F32)?)?;
    let picked = logp.gather(&targets.unsqueeze(1)?, 1)?;
    picked.sum_all()?.neg()
}

/// How many rows have their arg-max equal to the target.
pub fn count_correct(logits: &Tensor, targets: &[u32]) -> Result<usize> {
    if targets.is_empty() {
        return Ok(0);
    }
    let pred: Vec<u32> = logits.argmax(D::Minus1)?.to_vec1()?;
    Ok(pred.iter().zip(targets).filter(|(p, t)| p == t).count())
}

/// Builds a `[n]` u32 tensor of targets.
pub fn targets_tensor(targets: &[u32], device: &Device) -> Result<Tensor> {
    Tensor::from_slice(targets, targets.len(), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive_cross_entropy_and_gradient() -> Result<()> {
        let dev = Device::Cpu;
        let vals = [0.3f32, -1.2, 2.0, 0.5, 1.5, 0.1, -0.7, 3.0, -2.0];
        let x = candle_core::Var::from_slice(&vals, (3, 3), &dev)?;
        let tg = [2u32, 0, 1];
        let loss = cross_entropy_sum(x.as_tensor(), &targets_tensor(&tg, &dev)?)?;
        let grads = loss.backward()?;
        let g: Vec<Vec<f32>> = grads.get(x.as_tensor()).unwrap().to_vec2()?;
        let mut want = 0f64;
        for r in 0..3 {
            let row: Vec<f64> = vals[3 * r..3 * r + 3].iter().map(|&v| v as f64).collect();
            let z: f64 = row.iter().map(|v| v.exp()).sum();
            want -= row[tg[r] as usize] - z.ln();
            for c in 0..3 {
                let p = row[c].exp() / z;
                let expect = p - if c == tg[r] as usize { 1.0 } else { 0.0 };
                assert!((g[r][c] as f64 - expect).abs() < 1e-6);
            }
        }
        assert!((loss.to_scalar::<f32>()? as f64 - want).abs() < 1e-5);
        Ok(())
    }
}
