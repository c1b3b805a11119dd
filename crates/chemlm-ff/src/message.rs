//! Fused gather–multiply–scatter kernels of message passing (CPU, f32 and f64).
//!
//! Why: a continuous-filter convolution Σ_{j ∈ N(i)} x_j ⊙ W_ij built from stock ops gathers
//! an `[n_edges, F]` copy of `x` (`index_select`), multiplies, and scatters back with candle's
//! serial `index_add`; its backward and the force-training second backward repeat that with
//! more temporaries, all single-threaded. Here it is one parallel pass per atom over a CSR of
//! the edges, without the gathered copy.
//!
//! Two ops close under differentiation, so gradients of gradients stay exact:
//! - [`conv`]: `out[n] = Σ_{e: dst(e) = n} x[src(e)] ⊙ w[e]` (atoms × edges → atoms);
//! - [`edge_product`]: `out[e] = a[A(e)] ⊙ b[B(e)]` (atoms × atoms → edges);
//!
//! where the pair (A, B) / (dst, src) is (centre i, neighbour j) or the reverse. The backward of
//! `conv` is a `conv` the other way (for `x`) and an `edge_product` (for `w`); the backward of
//! `edge_product` is two `conv`s. Each atom's sum runs over its edges in edge order, the order
//! of candle's `index_add`, so results equal the composed ops exactly and do not depend on the
//! number of threads. `tests/message.rs` checks values and first and second derivatives
//! against the composed form.

use crate::fused::fused_here;
use candle_core::{CpuStorage, CustomOp2, Device, Layout, Result, Shape, Tensor, WithDType};
use chemlm_models::dispatch_float;
use chemlm_models::ops::fused::{contiguous, for_each_chunk, use_avx2, Real};
use std::sync::Arc;

/// One end of an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The centre atom i (`idx_i`), where SchNet and PaiNN sum their messages.
    Centre,
    /// The neighbour atom j (`idx_j`), whose features the messages carry.
    Neighbour,
}

impl End {
    fn other(self) -> End {
        match self {
            End::Centre => End::Neighbour,
            End::Neighbour => End::Centre,
        }
    }
}

/// Edges of one group of atoms sorted by one end: the edges of atom `n` are
/// `edges[start[n]..start[n + 1]]`, in increasing edge order.
#[derive(Debug, Clone)]
struct Csr {
    start: Vec<usize>,
    edges: Vec<u32>,
}

impl Csr {
    fn new(n_atoms: usize, ends: &[u32]) -> Csr {
        let mut start = vec![0usize; n_atoms + 1];
        for &a in ends {
            start[a as usize + 1] += 1;
        }
        for n in 0..n_atoms {
            start[n + 1] += start[n];
        }
        let mut next = start.clone();
        let mut edges = vec![0u32; ends.len()];
        for (e, &a) in ends.iter().enumerate() {
            edges[next[a as usize]] = e as u32;
            next[a as usize] += 1;
        }
        Csr { start, edges }
    }

    fn of(&self, n: usize) -> &[u32] {
        &self.edges[self.start[n]..self.start[n + 1]]
    }
}

/// The edge list of a batch: on the host grouped by centre and by neighbour (the fused
/// kernels), and as index tensors on the batch's device (the composed ops elsewhere).
#[derive(Debug, Clone)]
pub struct EdgeGraph {
    n_atoms: usize,
    idx_i: Vec<u32>,
    idx_j: Vec<u32>,
    by_i: Csr,
    by_j: Csr,
    tensor_i: Tensor,
    tensor_j: Tensor,
}

impl EdgeGraph {
    /// The graph of `n_atoms` atoms and edges (`idx_i[e]`, `idx_j[e]`), index tensors on
    /// `device`. Indices must be below `n_atoms` (checked: the kernels index with them).
    pub fn new(
        n_atoms: usize,
        idx_i: Vec<u32>,
        idx_j: Vec<u32>,
        device: &Device,
    ) -> Result<EdgeGraph> {
        if idx_i.len() != idx_j.len() {
            candle_core::bail!(
                "edge graph: {} centres but {} neighbours",
                idx_i.len(),
                idx_j.len()
            );
        }
        if let Some(bad) = idx_i.iter().chain(&idx_j).find(|&&a| a as usize >= n_atoms) {
            candle_core::bail!("edge graph: atom index {bad} out of range for {n_atoms} atoms");
        }
        let n_edges = idx_i.len();
        Ok(EdgeGraph {
            n_atoms,
            by_i: Csr::new(n_atoms, &idx_i),
            by_j: Csr::new(n_atoms, &idx_j),
            tensor_i: Tensor::from_slice(&idx_i, n_edges, device)?,
            tensor_j: Tensor::from_slice(&idx_j, n_edges, device)?,
            idx_i,
            idx_j,
        })
    }

    /// Centre index of each edge, `[n_edges]` u32 on the batch's device.
    pub fn idx_i(&self) -> &Tensor {
        &self.tensor_i
    }

    /// Neighbour index of each edge, `[n_edges]` u32 on the batch's device.
    pub fn idx_j(&self) -> &Tensor {
        &self.tensor_j
    }

    /// Number of atoms.
    pub fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    /// Number of edges.
    pub fn n_edges(&self) -> usize {
        self.idx_i.len()
    }

    fn ends(&self, end: End) -> &[u32] {
        match end {
            End::Centre => &self.idx_i,
            End::Neighbour => &self.idx_j,
        }
    }

    fn index(&self, end: End) -> &Tensor {
        match end {
            End::Centre => &self.tensor_i,
            End::Neighbour => &self.tensor_j,
        }
    }

    fn csr(&self, end: End) -> &Csr {
        match end {
            End::Centre => &self.by_i,
            End::Neighbour => &self.by_j,
        }
    }
}

/// Atoms per rayon task of [`conv`].
const ATOMS_PER_TASK: usize = 8;
/// Edges per rayon task of [`edge_product`].
const EDGES_PER_TASK: usize = 64;

/// `out[n] = Σ_{e: dst(e) = n} x[src(e)] ⊙ w[e]` for atom rows `x` `[n_atoms, F]` and edge rows
/// `w` `[n_edges, F]`, src the other end of each edge. With `dst = End::Centre` this is the
/// continuous-filter convolution Σ_j x_j ⊙ W_ij. Other devices and dtypes use the composed
/// ops (`index_select`, `mul`, `index_add`).
pub fn conv(x: &Tensor, w: &Tensor, graph: &Arc<EdgeGraph>, dst: End) -> Result<Tensor> {
    if !fusable(x, w) {
        let messages = (x.index_select(graph.index(dst.other()), 0)? * w)?;
        let zeros = Tensor::zeros(
            (graph.n_atoms, messages.dim(1)?),
            messages.dtype(),
            messages.device(),
        )?;
        return zeros.index_add(graph.index(dst), &messages, 0);
    }
    x.contiguous()?.apply_op2(
        &w.contiguous()?,
        Conv {
            graph: graph.clone(),
            dst,
        },
    )
}

/// `out[e] = a[A(e)] ⊙ b[B(e)]` for atom rows `a`, `b` `[n_atoms, F]`, B the other end from
/// `a_end`: `[n_edges, F]`.
pub fn edge_product(a: &Tensor, b: &Tensor, graph: &Arc<EdgeGraph>, a_end: End) -> Result<Tensor> {
    if !fusable(a, b) {
        let (ia, ib) = (graph.index(a_end), graph.index(a_end.other()));
        return a.index_select(ia, 0)? * b.index_select(ib, 0)?;
    }
    a.contiguous()?.apply_op2(
        &b.contiguous()?,
        EdgeProduct {
            graph: graph.clone(),
            a_end,
        },
    )
}

fn fusable(a: &Tensor, b: &Tensor) -> bool {
    fused_here(a) && a.rank() == 2 && b.rank() == 2 && a.dtype() == b.dtype()
}

struct Conv {
    graph: Arc<EdgeGraph>,
    dst: End,
}

impl CustomOp2 for Conv {
    fn name(&self) -> &'static str {
        "chemlm-ff-conv"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = &self.graph;
        let ((n, f), (e, fw)) = (l1.shape().dims2()?, l2.shape().dims2()?);
        if n != g.n_atoms || e != g.n_edges() || f != fw {
            candle_core::bail!(
                "{}: atoms {:?} and edges {:?} for a graph of {} atoms and {} edges",
                self.name(),
                l1.dims(),
                l2.dims(),
                g.n_atoms,
                g.n_edges()
            );
        }
        dispatch_float!(s1, self.name(), |T| {
            let x = contiguous::<T>(s1, l1, self.name())?;
            let w = contiguous::<T>(s2, l2, self.name())?;
            Ok((
                T::to_cpu_storage_owned(conv_kernel(x, w, g, self.dst, f)),
                Shape::from((n, f)),
            ))
        })
    }
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = grad.contiguous()?.apply_op2(
            &w.contiguous()?,
            Conv {
                graph: self.graph.clone(),
                dst: self.dst.other(),
            },
        )?;
        let dw = edge_product(grad, x, &self.graph, self.dst)?;
        Ok((Some(dx), Some(dw)))
    }
}

fn conv_kernel<T: Real>(x: &[T], w: &[T], g: &EdgeGraph, dst: End, f: usize) -> Vec<T> {
    let mut out = vec![T::zr(); g.n_atoms * f];
    if f == 0 {
        return out;
    }
    let (csr, src) = (g.csr(dst), g.ends(dst.other()));
    let avx2 = use_avx2();
    for_each_chunk(&mut out, ATOMS_PER_TASK * f, |task, rows| {
        let first = task * ATOMS_PER_TASK;
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: `avx2` is `use_avx2()`'s answer for this CPU.
            return unsafe { conv_rows_avx2(rows, first, x, w, csr, src, f) };
        }
        let _ = avx2;
        conv_rows(rows, first, x, w, csr, src, f)
    });
    out
}

/// [`conv_rows`] compiled for AVX2 (the release build targets the x86-64 baseline).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn conv_rows_avx2<T: Real>(
    rows: &mut [T],
    first: usize,
    x: &[T],
    w: &[T],
    csr: &Csr,
    src: &[u32],
    f: usize,
) {
    conv_rows(rows, first, x, w, csr, src, f)
}

/// [`edge_product_rows`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn edge_product_rows_avx2<T: Real>(
    rows: &mut [T],
    first: usize,
    a: (&[T], &[u32]),
    b: (&[T], &[u32]),
    f: usize,
) {
    edge_product_rows(rows, first, a, b, f)
}

/// Rows `first..` of [`conv_kernel`]'s output (one rayon task), inlined into the AVX2 copy.
#[inline(always)]
fn conv_rows<T: Real>(
    rows: &mut [T],
    first: usize,
    x: &[T],
    w: &[T],
    csr: &Csr,
    src: &[u32],
    f: usize,
) {
    for (k, row) in rows.chunks_mut(f).enumerate() {
        for &e in csr.of(first + k) {
            let e = e as usize;
            let s = src[e] as usize;
            let xs = &x[s * f..(s + 1) * f];
            let we = &w[e * f..(e + 1) * f];
            for ((o, &a), &b) in row.iter_mut().zip(xs).zip(we) {
                *o += a * b;
            }
        }
    }
}

/// Rows `first..` of an [`EdgeProduct`] (one rayon task), inlined into the AVX2 copy.
#[inline(always)]
fn edge_product_rows<T: Real>(
    rows: &mut [T],
    first: usize,
    (a, ia): (&[T], &[u32]),
    (b, ib): (&[T], &[u32]),
    f: usize,
) {
    for (k, row) in rows.chunks_mut(f).enumerate() {
        let (p, q) = (ia[first + k] as usize, ib[first + k] as usize);
        let (ar, br) = (&a[p * f..(p + 1) * f], &b[q * f..(q + 1) * f]);
        for ((o, &x), &y) in row.iter_mut().zip(ar).zip(br) {
            *o = x * y;
        }
    }
}

struct EdgeProduct {
    graph: Arc<EdgeGraph>,
    a_end: End,
}

impl CustomOp2 for EdgeProduct {
    fn name(&self) -> &'static str {
        "chemlm-ff-edge-product"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = &self.graph;
        let ((n, f), (nb, fb)) = (l1.shape().dims2()?, l2.shape().dims2()?);
        if n != g.n_atoms || nb != g.n_atoms || f != fb {
            candle_core::bail!(
                "{}: atoms {:?} and {:?} for a graph of {} atoms",
                self.name(),
                l1.dims(),
                l2.dims(),
                g.n_atoms
            );
        }
        let e = g.n_edges();
        dispatch_float!(s1, self.name(), |T| {
            let a = contiguous::<T>(s1, l1, self.name())?;
            let b = contiguous::<T>(s2, l2, self.name())?;
            let (ia, ib) = (g.ends(self.a_end), g.ends(self.a_end.other()));
            // SAFETY: with f > 0 the row loop below writes every element; with f = 0 there
            // are none.
            let mut out = unsafe { chemlm_models::ops::fused::uninit(e * f) };
            let avx2 = use_avx2();
            if f > 0 {
                for_each_chunk(&mut out, EDGES_PER_TASK * f, |task, rows| {
                    let first = task * EDGES_PER_TASK;
                    #[cfg(target_arch = "x86_64")]
                    if avx2 {
                        // SAFETY: `avx2` is `use_avx2()`'s answer for this CPU.
                        return unsafe { edge_product_rows_avx2(rows, first, (a, ia), (b, ib), f) };
                    }
                    let _ = avx2;
                    edge_product_rows(rows, first, (a, ia), (b, ib), f)
                });
            }
            Ok((T::to_cpu_storage_owned(out), Shape::from((e, f))))
        })
    }
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let conv_to = |x: &Tensor, dst: End| {
            x.contiguous()?.apply_op2(
                &grad.contiguous()?,
                Conv {
                    graph: self.graph.clone(),
                    dst,
                },
            )
        };
        // da[n] = Σ_{A(e) = n} grad[e] ⊙ b[B(e)]; db[n] = Σ_{B(e) = n} grad[e] ⊙ a[A(e)].
        Ok((
            Some(conv_to(b, self.a_end)?),
            Some(conv_to(a, self.a_end.other())?),
        ))
    }
}
