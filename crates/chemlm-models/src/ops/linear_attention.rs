//! Non-causal linear attention (Katharopoulos et al. 2020, as MoLFormer runs it) as one fused
//! multi-threaded `CustomOp` with a hand-written backward.
//!
//! `out_i = phi(q_i) KV / (phi(q_i) . ksum + eps)` with `KV = sum_j m_j phi(k_j) v_j^T` and
//! `ksum = sum_j m_j phi(k_j)` (`m` the key padding mask). Why fused: the composed path runs a
//! mask multiply, two transposes with copies, three small batched matmuls, a sum and a division,
//! each a full pass (and its backward as many again) over `[batch, heads, seq, ·]` tensors. Here
//! every `(batch, head)` pair is an independent task: the `[m, d]` state stays in cache, the inputs
//! are read once, and the backward recomputes that state instead of storing it.

use super::fused::{contiguous, dispatch_float, Real};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Storage, Tensor, WithDType};
use rayon::prelude::*;

/// Shapes of one call: `bh` (batch x heads) blocks of `n` tokens, `m` features, `d` value width.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    h: usize,
    n: usize,
    m: usize,
    d: usize,
}

struct LinearAttention {
    /// Key padding mask `[b, n]` (1 = real), `None` = every key is real.
    mask: Option<Vec<u8>>,
    eps: f64,
}

fn dims(q: &Layout, k: &Layout, v: &Layout) -> Result<Dims> {
    let (qd, kd, vd) = (q.dims(), k.dims(), v.dims());
    if qd.len() != 4 || kd != qd || vd.len() != 4 || vd[..3] != qd[..3] {
        candle_core::bail!("linear attention: phi_q {qd:?}, phi_k {kd:?}, v {vd:?} do not match");
    }
    Ok(Dims {
        b: qd[0],
        h: qd[1],
        n: qd[2],
        m: qd[3],
        d: vd[3],
    })
}

/// Whether key `j` of sequence `batch` is real.
fn key_on(mask: &Option<Vec<u8>>, batch: usize, n: usize, j: usize) -> bool {
    mask.as_ref().is_none_or(|m| m[batch * n + j] != 0)
}

/// `KV` `[m, d]` and `ksum` `[m]` of one block.
fn state<T: Real>(k: &[T], v: &[T], s: Dims, on: impl Fn(usize) -> bool) -> (Vec<T>, Vec<T>) {
    let mut kv = vec![T::zr(); s.m * s.d];
    let mut ks = vec![T::zr(); s.m];
    for j in 0..s.n {
        if !on(j) {
            continue;
        }
        let kj = &k[j * s.m..(j + 1) * s.m];
        let vj = &v[j * s.d..(j + 1) * s.d];
        for (f, &kf) in kj.iter().enumerate() {
            ks[f] += kf;
            for (acc, &vv) in kv[f * s.d..(f + 1) * s.d].iter_mut().zip(vj) {
                *acc += kf * vv;
            }
        }
    }
    (kv, ks)
}

/// Context rows `out_i` of one block and the denominators `z_i`.
fn context<T: Real>(q: &[T], kv: &[T], ks: &[T], s: Dims, eps: T, out: &mut [T], z: &mut [T]) {
    for i in 0..s.n {
        let qi = &q[i * s.m..(i + 1) * s.m];
        let mut zi = eps;
        for (&a, &b) in qi.iter().zip(ks) {
            zi += a * b;
        }
        z[i] = zi;
        let oi = &mut out[i * s.d..(i + 1) * s.d];
        oi.iter_mut().for_each(|o| *o = T::zr());
        for (f, &qf) in qi.iter().enumerate() {
            for (o, &x) in oi.iter_mut().zip(&kv[f * s.d..(f + 1) * s.d]) {
                *o += qf * x;
            }
        }
        let inv = T::lit(1.0) / zi;
        oi.iter_mut().for_each(|o| *o *= inv);
    }
}

fn forward<T: Real>(q: &[T], k: &[T], v: &[T], s: Dims, op: &LinearAttention) -> Vec<T> {
    let (bm, bd) = (s.n * s.m, s.n * s.d);
    let eps = T::lit(op.eps);
    let mut out = vec![T::zr(); s.b * s.h * bd];
    out.par_chunks_mut(bd.max(1))
        .enumerate()
        .for_each(|(blk, o)| {
            let batch = blk / s.h.max(1);
            let (qb, kb, vb) = (
                &q[blk * bm..(blk + 1) * bm],
                &k[blk * bm..(blk + 1) * bm],
                &v[blk * bd..(blk + 1) * bd],
            );
            let (kv, ks) = state(kb, vb, s, |j| key_on(&op.mask, batch, s.n, j));
            let mut z = vec![T::zr(); s.n];
            context(qb, &kv, &ks, s, eps, o, &mut z);
        });
    out
}

/// Gradients `(dq, dk, dv)` of one block given the upstream gradient `g` `[n, d]`.
#[allow(clippy::too_many_arguments)]
fn backward_block<T: Real>(
    q: &[T],
    k: &[T],
    v: &[T],
    g: &[T],
    s: Dims,
    eps: T,
    on: impl Fn(usize) -> bool,
    dq: &mut [T],
    dk: &mut [T],
    dv: &mut [T],
) {
    let (kv, ks) = state(k, v, s, &on);
    let mut out = vec![T::zr(); s.n * s.d];
    let mut z = vec![T::zr(); s.n];
    context(q, &kv, &ks, s, eps, &mut out, &mut z);
    let mut dkv = vec![T::zr(); s.m * s.d];
    let mut dks = vec![T::zr(); s.m];
    let mut du = vec![T::zr(); s.d];
    for i in 0..s.n {
        let gi = &g[i * s.d..(i + 1) * s.d];
        let oi = &out[i * s.d..(i + 1) * s.d];
        let inv = T::lit(1.0) / z[i];
        let mut go = T::zr();
        for ((u, &gv), &ov) in du.iter_mut().zip(gi).zip(oi) {
            *u = gv * inv;
            go += gv * ov;
        }
        let dz = T::zr() - go * inv;
        let qi = &q[i * s.m..(i + 1) * s.m];
        let dqi = &mut dq[i * s.m..(i + 1) * s.m];
        for f in 0..s.m {
            let row = &kv[f * s.d..(f + 1) * s.d];
            let mut acc = ks[f] * dz;
            for (&a, &b) in row.iter().zip(&du) {
                acc += a * b;
            }
            dqi[f] = acc;
            let qf = qi[f];
            dks[f] += qf * dz;
            for (x, &b) in dkv[f * s.d..(f + 1) * s.d].iter_mut().zip(&du) {
                *x += qf * b;
            }
        }
    }
    for j in 0..s.n {
        if !on(j) {
            continue;
        }
        let kj = &k[j * s.m..(j + 1) * s.m];
        let vj = &v[j * s.d..(j + 1) * s.d];
        let dkj = &mut dk[j * s.m..(j + 1) * s.m];
        let dvj = &mut dv[j * s.d..(j + 1) * s.d];
        for f in 0..s.m {
            let row = &dkv[f * s.d..(f + 1) * s.d];
            let mut acc = dks[f];
            for (&a, &b) in row.iter().zip(vj) {
                acc += a * b;
            }
            dkj[f] = acc;
            let kf = kj[f];
            for (x, &a) in dvj.iter_mut().zip(row) {
                *x += kf * a;
            }
        }
    }
}

impl CustomOp3 for LinearAttention {
    fn name(&self) -> &'static str {
        "chemlm-linear-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let s = dims(l1, l2, l3)?;
        dispatch_float!(s1, self.name(), |T| {
            let q = contiguous::<T>(s1, l1, self.name())?;
            let k = contiguous::<T>(s2, l2, self.name())?;
            let v = contiguous::<T>(s3, l3, self.name())?;
            Ok((
                T::to_cpu_storage_owned(forward(q, k, v, s, self)),
                l3.shape().clone(),
            ))
        })
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (q, k, v, g) = (
            q.contiguous()?,
            k.contiguous()?,
            v.contiguous()?,
            grad.contiguous()?,
        );
        let s = dims(q.layout(), k.layout(), v.layout())?;
        let dev = q.device().clone();
        let (sq, lq) = q.storage_and_layout();
        let (sk, lk) = k.storage_and_layout();
        let (sv, lv) = v.storage_and_layout();
        let (sg, lg) = g.storage_and_layout();
        let (Storage::Cpu(cq), Storage::Cpu(ck), Storage::Cpu(cv), Storage::Cpu(cg)) =
            (&*sq, &*sk, &*sv, &*sg)
        else {
            candle_core::bail!("{}: CPU tensors only", self.name());
        };
        let (bm, bd) = (s.n * s.m, s.n * s.d);
        let blocks = s.b * s.h;
        let (dq, dk, dv) = dispatch_float!(cq, self.name(), |T| {
            let name = self.name();
            let q = contiguous::<T>(cq, lq, name)?;
            let k = contiguous::<T>(ck, lk, name)?;
            let v = contiguous::<T>(cv, lv, name)?;
            let g = contiguous::<T>(cg, lg, name)?;
            let eps = T::lit(self.eps);
            let mut dq = vec![T::zr(); blocks * bm];
            let mut dk = vec![T::zr(); blocks * bm];
            let mut dv = vec![T::zr(); blocks * bd];
            dq.par_chunks_mut(bm.max(1))
                .zip(dk.par_chunks_mut(bm.max(1)))
                .zip(dv.par_chunks_mut(bd.max(1)))
                .enumerate()
                .for_each(|(blk, ((dqb, dkb), dvb))| {
                    let batch = blk / s.h.max(1);
                    backward_block(
                        &q[blk * bm..(blk + 1) * bm],
                        &k[blk * bm..(blk + 1) * bm],
                        &v[blk * bd..(blk + 1) * bd],
                        &g[blk * bd..(blk + 1) * bd],
                        s,
                        eps,
                        |j| key_on(&self.mask, batch, s.n, j),
                        dqb,
                        dkb,
                        dvb,
                    )
                });
            (
                Tensor::from_vec(dq, lq.shape().clone(), &dev)?,
                Tensor::from_vec(dk, lk.shape().clone(), &dev)?,
                Tensor::from_vec(dv, lv.shape().clone(), &dev)?,
            )
        });
        Ok((Some(dq), Some(dk), Some(dv)))
    }
}

/// Fused linear attention on `[b, h, n, m]` feature-mapped queries/keys and `[b, h, n, d]` values;
/// `key_mask` `[b, n]` (any dtype, nonzero = real) keeps padded keys out of every sum. Returns the
/// context `[b, h, n, d]`, differentiable with respect to all three inputs.
pub fn linear_attention(
    phi_q: &Tensor,
    phi_k: &Tensor,
    v: &Tensor,
    key_mask: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    let mask = match key_mask {
        Some(m) => {
            let (b, n) = m.dims2()?;
            let (qb, _, qn, _) = phi_q.dims4()?;
            if (b, n) != (qb, qn) {
                candle_core::bail!("linear attention: mask {b}x{n} for a batch of {qb}x{qn}");
            }
            let vals: Vec<f32> = m
                .to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1()?;
            Some(vals.iter().map(|&x| u8::from(x != 0.0)).collect())
        }
        None => None,
    };
    phi_q.contiguous()?.apply_op3(
        &phi_k.contiguous()?,
        &v.contiguous()?,
        LinearAttention { mask, eps },
    )
}
