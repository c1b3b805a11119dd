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

/// Row-major `dst[r, c] (+)= sum_k a[r, k] b[k, c]` for an `rows x inner` `a` and an
/// `inner x cols` `b`, either stored transposed (`a_t`: `a` is kept as `inner x rows`; `b_t`:
/// `b` as `cols x inner`). One call of the `gemm` crate (the kernels candle's matmul uses, picked
/// for the CPU at run time), single-threaded: the blocks already run in parallel.
#[allow(clippy::too_many_arguments)]
fn matmul_into<T: Real>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    (rows, inner, cols): (usize, usize, usize),
    a_t: bool,
    b_t: bool,
    accumulate: bool,
) {
    assert!(dst.len() >= rows * cols && a.len() >= rows * inner && b.len() >= inner * cols);
    if rows == 0 || cols == 0 {
        return;
    }
    let (a_rs, a_cs) = if a_t { (1, rows) } else { (inner, 1) };
    let (b_rs, b_cs) = if b_t { (1, inner) } else { (cols, 1) };
    // SAFETY: the asserts above keep every index the strides reach inside the three slices,
    // `dst` does not alias `a` or `b` (a `&mut` and two `&`), and T is f32 or f64.
    unsafe {
        gemm::gemm(
            rows,
            cols,
            inner,
            dst.as_mut_ptr(),
            1,
            cols as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            if accumulate { T::lit(1.0) } else { T::zr() },
            T::lit(1.0),
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// The keys of one block with padded rows zeroed (borrowed as they are when none is padded).
fn masked_keys<'a, T: Real>(
    k: &'a [T],
    s: Dims,
    on: impl Fn(usize) -> bool,
) -> std::borrow::Cow<'a, [T]> {
    if (0..s.n).all(&on) {
        return std::borrow::Cow::Borrowed(k);
    }
    let mut km = k.to_vec();
    for j in (0..s.n).filter(|&j| !on(j)) {
        km[j * s.m..(j + 1) * s.m]
            .iter_mut()
            .for_each(|x| *x = T::zr());
    }
    std::borrow::Cow::Owned(km)
}

/// `KV = K'^T V` `[m, d]` and `ksum` `[m]` of one block (`K'` the masked keys).
fn state<T: Real>(km: &[T], v: &[T], s: Dims) -> (Vec<T>, Vec<T>) {
    let mut kv = vec![T::zr(); s.m * s.d];
    matmul_into(&mut kv, km, v, (s.m, s.n, s.d), true, false, false);
    let mut ks = vec![T::zr(); s.m];
    for row in km.chunks(s.m.max(1)).take(s.n) {
        for (a, &x) in ks.iter_mut().zip(row) {
            *a += x;
        }
    }
    (kv, ks)
}

/// Context rows `out_i = q_i KV / z_i` of one block and the denominators `z_i = q_i . ksum + eps`.
fn context<T: Real>(q: &[T], kv: &[T], ks: &[T], s: Dims, eps: T, out: &mut [T], z: &mut [T]) {
    matmul_into(out, q, kv, (s.n, s.m, s.d), false, false, false);
    for i in 0..s.n {
        let mut zi = eps;
        for (&a, &b) in q[i * s.m..(i + 1) * s.m].iter().zip(ks) {
            zi += a * b;
        }
        z[i] = zi;
        let inv = T::lit(1.0) / zi;
        out[i * s.d..(i + 1) * s.d]
            .iter_mut()
            .for_each(|o| *o *= inv);
    }
}

fn forward<T: Real>(q: &[T], k: &[T], v: &[T], s: Dims, op: &LinearAttention) -> Vec<T> {
    let (bm, bd) = (s.n * s.m, s.n * s.d);
    let eps = T::lit(op.eps);
    let mut out = super::fused::zeros(s.b * s.h * bd);
    out.par_chunks_mut(bd.max(1))
        .enumerate()
        .for_each(|(blk, o)| {
            let batch = blk / s.h.max(1);
            let (qb, kb, vb) = (
                &q[blk * bm..(blk + 1) * bm],
                &k[blk * bm..(blk + 1) * bm],
                &v[blk * bd..(blk + 1) * bd],
            );
            let km = masked_keys(kb, s, |j| key_on(&op.mask, batch, s.n, j));
            let (kv, ks) = state(&km, vb, s);
            let mut z = vec![T::zr(); s.n];
            context(qb, &kv, &ks, s, eps, o, &mut z);
        });
    out
}

/// Gradients `(dq, dk, dv)` of one block given the upstream gradient `g` `[n, d]`:
/// with `u_i = g_i / z_i` and `dz_i = -(g_i . out_i) / z_i`,
/// `dQ = U KV^T + dz ksum^T`, `dKV = Q^T U`, `dksum = Q^T dz`, `dK' = V dKV^T + 1 dksum^T`
/// (zero on padded keys) and `dV = K' dKV`. The state is recomputed, not stored.
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
    let km = masked_keys(k, s, &on);
    let (kv, ks) = state(&km, v, s);
    let mut out = vec![T::zr(); s.n * s.d];
    let mut z = vec![T::zr(); s.n];
    context(q, &kv, &ks, s, eps, &mut out, &mut z);
    let mut u = vec![T::zr(); s.n * s.d];
    let mut dz = vec![T::zr(); s.n];
    for i in 0..s.n {
        let inv = T::lit(1.0) / z[i];
        let mut go = T::zr();
        let row = i * s.d..(i + 1) * s.d;
        for ((uv, &gv), &ov) in u[row.clone()]
            .iter_mut()
            .zip(&g[row.clone()])
            .zip(&out[row])
        {
            *uv = gv * inv;
            go += gv * ov;
        }
        dz[i] = T::zr() - go * inv;
    }
    matmul_into(dq, &u, &kv, (s.n, s.d, s.m), false, true, false);
    for i in 0..s.n {
        for (x, &kf) in dq[i * s.m..(i + 1) * s.m].iter_mut().zip(&ks) {
            *x += dz[i] * kf;
        }
    }
    let mut dkv = vec![T::zr(); s.m * s.d];
    matmul_into(&mut dkv, q, &u, (s.m, s.n, s.d), true, false, false);
    let mut dks = vec![T::zr(); s.m];
    for i in 0..s.n {
        for (a, &qf) in dks.iter_mut().zip(&q[i * s.m..(i + 1) * s.m]) {
            *a += qf * dz[i];
        }
    }
    matmul_into(dk, v, &dkv, (s.n, s.d, s.m), false, true, false);
    for j in 0..s.n {
        let row = &mut dk[j * s.m..(j + 1) * s.m];
        if on(j) {
            row.iter_mut().zip(&dks).for_each(|(x, &a)| *x += a);
        } else {
            row.iter_mut().for_each(|x| *x = T::zr());
        }
    }
    matmul_into(dv, &km, &dkv, (s.n, s.m, s.d), false, false, false);
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
            let mut dq = super::fused::zeros(blocks * bm);
            let mut dk = super::fused::zeros(blocks * bm);
            let mut dv = super::fused::zeros(blocks * bd);
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
