//! Multi-threaded copy of a strided view into a contiguous buffer (chemlm patch).
//!
//! Upstream copies every non-contiguous view on the calling thread, walking `StridedIndex` one
//! block at a time; a transposed view (`block_len == 1`) is gathered element by element. Head
//! split/merge and transposes in attention make these copies a tenth of a transformer training
//! step on a 2-core machine, all of it serial. Here the view's dimensions are first collapsed,
//! then the rows (contiguous inner runs) or, for a transpose, 16 x 16 tiles are spread over the
//! barrier pool. Every destination element is written exactly once, so the result does not
//! depend on the number of threads. Tested through `Tensor::contiguous` in chemlm-models'
//! `tests/strided_copy.rs` (vendored crates are not workspace members).

/// Below this many elements the split costs more than it saves.
const PAR_COPY_MIN: usize = 32 * 1024;
/// Side of the square tiles a transposed view is copied in.
const TILE: usize = 16;

/// The view `dims`/`strides` with size-1 dimensions dropped and mergeable neighbours merged.
fn collapse(dims: &[usize], strides: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut d: Vec<usize> = Vec::with_capacity(dims.len());
    let mut s: Vec<usize> = Vec::with_capacity(dims.len());
    for (&n, &st) in dims.iter().zip(strides) {
        if n == 1 {
            continue;
        }
        match (d.last_mut(), s.last_mut()) {
            (Some(pd), Some(ps)) if *ps == st * n => {
                *pd *= n;
                *ps = st;
            }
            _ => {
                d.push(n);
                s.push(st);
            }
        }
    }
    (d, s)
}

/// Source offset of the first element of outer row `row` (row-major over `dims`).
fn row_offset(mut row: usize, dims: &[usize], strides: &[usize]) -> usize {
    let mut off = 0;
    for (&n, &st) in dims.iter().zip(strides).rev() {
        off += (row % n) * st;
        row /= n;
    }
    off
}

/// Copies the view `src[start..]` with `dims`/`strides` into the contiguous `dst`
/// (`dst.len()` = element count) on the barrier pool. Returns `false` (nothing written) when the
/// view is small or contiguous, where the serial path is as fast.
pub(super) fn copy_strided_par<T: Copy + Send + Sync>(
    src: &[T],
    dst: &mut [T],
    start: usize,
    dims: &[usize],
    strides: &[usize],
) -> bool {
    let n = dst.len();
    if n < PAR_COPY_MIN || crate::utils::get_num_threads() < 2 {
        return false;
    }
    let (d, s) = collapse(dims, strides);
    let r = d.len();
    if r < 2 || d.iter().product::<usize>() != n {
        return false;
    }
    let dst_ptr = dst.as_mut_ptr() as usize;
    let (inner, inner_stride) = (d[r - 1], s[r - 1]);
    if inner_stride == 1 {
        // Rows of `inner` contiguous elements.
        let rows = n / inner;
        let (od, os) = (&d[..r - 1], &s[..r - 1]);
        let per_unit = (8 * 1024 / inner).max(1);
        let units = rows.div_ceil(per_unit);
        crate::utils::barrier_pool().execute_chunked(units, |range| {
            let dst_ptr = dst_ptr as *mut T;
            for unit in range {
                let lo = unit * per_unit;
                let hi = rows.min(lo + per_unit);
                for row in lo..hi {
                    let so = start + row_offset(row, od, os);
                    // SAFETY: units own disjoint row ranges of `dst`, which holds `rows * inner`.
                    let out = unsafe { std::slice::from_raw_parts_mut(dst_ptr.add(row * inner), inner) };
                    out.copy_from_slice(&src[so..so + inner]);
                }
            }
        });
        return true;
    }
    if s[r - 2] == 1 {
        // A batch of transposes: out[.., a, b] = src[.. + a + b * inner_stride].
        let (a_len, b_len) = (d[r - 2], inner);
        let batches = n / (a_len * b_len);
        let (bd, bs) = (&d[..r - 2], &s[..r - 2]);
        let bands = a_len.div_ceil(TILE);
        crate::utils::barrier_pool().execute_chunked(batches * bands, |range| {
            let dst_ptr = dst_ptr as *mut T;
            for unit in range {
                let (batch, band) = (unit / bands, unit % bands);
                let base = start + row_offset(batch, bd, bs);
                let out_base = batch * a_len * b_len;
                let (a0, a1) = (band * TILE, a_len.min(band * TILE + TILE));
                for b0 in (0..b_len).step_by(TILE) {
                    let b1 = b_len.min(b0 + TILE);
                    for a in a0..a1 {
                        for b in b0..b1 {
                            // SAFETY: each (batch, band) unit owns rows a0..a1 of its batch.
                            unsafe {
                                *dst_ptr.add(out_base + a * b_len + b) = src[base + a + b * inner_stride];
                            }
                        }
                    }
                }
            }
        });
        return true;
    }
    // Anything else: element gathers over runs of outer rows.
    let rows = n / inner;
    let (od, os) = (&d[..r - 1], &s[..r - 1]);
    let per_unit = (8 * 1024 / inner).max(1);
    crate::utils::barrier_pool().execute_chunked(rows.div_ceil(per_unit), |range| {
        let dst_ptr = dst_ptr as *mut T;
        for unit in range {
            let lo = unit * per_unit;
            for row in lo..rows.min(lo + per_unit) {
                let so = start + row_offset(row, od, os);
                for i in 0..inner {
                    // SAFETY: units own disjoint row ranges of `dst`.
                    unsafe { *dst_ptr.add(row * inner + i) = src[so + i * inner_stride] };
                }
            }
        }
    });
    true
}
