//! Wigner 3j symbols in e3nn's real basis.
//!
//! Computed as e3nn does: complex Clebsch–Gordan coefficients (Racah's formula), changed to the
//! real basis of e3nn's harmonics with its `change_basis_real_to_complex` matrices (including
//! the (−i)^l factor that makes the result real), then scaled to unit Frobenius norm. Doing the
//! same steps gives the same signs, which matter: weights trained with e3nn's symbols only mean
//! the same thing with the same symbols.

use num_complex::Complex64;

/// The 3j symbol of (l1, l2, l3) as a row-major `[2l1+1][2l2+1][2l3+1]` array; all zeros when
/// the triangle rule fails.
pub fn wigner_3j(l1: usize, l2: usize, l3: usize) -> Vec<f64> {
    let (d1, d2, d3) = (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1);
    let mut out = vec![0.0; d1 * d2 * d3];
    if l3 < l1.abs_diff(l2) || l3 > l1 + l2 {
        return out;
    }
    let cg = su2_clebsch_gordan(l1, l2, l3);
    let q1 = real_to_complex(l1);
    let q2 = real_to_complex(l2);
    let q3 = real_to_complex(l3);
    // C[j,l,m] = Σ_{i,k,n} Q1[i,j] Q2[k,l] conj(Q3[n,m]) CG[i,k,n]  (e3nn: "ij,kl,mn,ikn->jlm"
    // with conj(Q3ᵀ)[m,n] = conj(Q3[n,m])).
    let mut re = vec![0.0; d1 * d2 * d3];
    for i in 0..d1 {
        for k in 0..d2 {
            for n in 0..d3 {
                let c = cg[(i * d2 + k) * d3 + n];
                if c == 0.0 {
                    continue;
                }
                for j in 0..d1 {
                    let a = q1[i * d1 + j];
                    if a == Complex64::new(0.0, 0.0) {
                        continue;
                    }
                    for l in 0..d2 {
                        let b = q2[k * d2 + l];
                        if b == Complex64::new(0.0, 0.0) {
                            continue;
                        }
                        for m in 0..d3 {
                            let v = a * b * q3[n * d3 + m].conj() * c;
                            re[(j * d2 + l) * d3 + m] += v.re;
                        }
                    }
                }
            }
        }
    }
    let norm = re.iter().map(|v| v * v).sum::<f64>().sqrt();
    for (o, v) in out.iter_mut().zip(&re) {
        *o = v / norm;
    }
    out
}

/// e3nn's `change_basis_real_to_complex(l)`, row-major `[2l+1][2l+1]`.
fn real_to_complex(l: usize) -> Vec<Complex64> {
    let d = 2 * l + 1;
    let li = l as i64;
    let mut q = vec![Complex64::new(0.0, 0.0); d * d];
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let at = |r: i64, c: i64| (r * d as i64 + c) as usize;
    for m in -li..0 {
        let am = m.abs();
        q[at(li + m, li + am)] = Complex64::new(h, 0.0);
        q[at(li + m, li - am)] = Complex64::new(0.0, -h);
    }
    q[at(li, li)] = Complex64::new(1.0, 0.0);
    for m in 1..=li {
        let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
        q[at(li + m, li + m)] = Complex64::new(sign * h, 0.0);
        q[at(li + m, li - m)] = Complex64::new(0.0, sign * h);
    }
    // (−i)^l
    let phase = match l % 4 {
        0 => Complex64::new(1.0, 0.0),
        1 => Complex64::new(0.0, -1.0),
        2 => Complex64::new(-1.0, 0.0),
        _ => Complex64::new(0.0, 1.0),
    };
    q.iter().map(|v| v * phase).collect()
}

/// Clebsch–Gordan coefficients ⟨l1 m1 l2 m2 | l3 m3⟩ (Condon–Shortley), `[2l1+1][2l2+1][2l3+1]`
/// indexed by l + m.
fn su2_clebsch_gordan(l1: usize, l2: usize, l3: usize) -> Vec<f64> {
    let (d1, d2, d3) = (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1);
    let mut mat = vec![0.0; d1 * d2 * d3];
    let (j1, j2, j3) = (l1 as i64, l2 as i64, l3 as i64);
    for m1 in -j1..=j1 {
        for m2 in -j2..=j2 {
            let m3 = m1 + m2;
            if m3.abs() > j3 {
                continue;
            }
            mat[(((j1 + m1) as usize) * d2 + (j2 + m2) as usize) * d3 + (j3 + m3) as usize] =
                cg_coeff(j1, m1, j2, m2, j3, m3);
        }
    }
    mat
}

/// Racah's formula (integer angular momenta). Factorials stay below 2^53 for l ≤ 6.
fn cg_coeff(j1: i64, m1: i64, j2: i64, m2: i64, j3: i64, m3: i64) -> f64 {
    let f = |n: i64| -> f64 { (1..=n).map(|k| k as f64).product() };
    let vmin = (-j1 + j2 + m3).max(-j1 + m1).max(0);
    let vmax = (j2 + j3 + m1).min(j3 - j1 + j2).min(j3 + m3);
    let pre = (2 * j3 + 1) as f64
        * (f(j3 + j1 - j2) * f(j3 - j1 + j2) * f(j1 + j2 - j3) * f(j3 + m3) * f(j3 - m3))
        / (f(j1 + j2 + j3 + 1) * f(j1 - m1) * f(j1 + m1) * f(j2 - m2) * f(j2 + m2));
    let mut s = 0.0;
    for v in vmin..=vmax {
        let sign = if (v + j2 + m2) % 2 == 0 { 1.0 } else { -1.0 };
        s += sign * (f(j2 + j3 + m1 - v) * f(j1 - m1 + v))
            / (f(v) * f(j3 - j1 + j2 - v) * f(j3 + m3 - v) * f(v + j1 - j2 - m3));
    }
    pre.sqrt() * s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // (1,1,0): δ_ij/√3 in the real basis.
        let w = wigner_3j(1, 1, 0);
        for i in 0..3 {
            for j in 0..3 {
                let expect = if i == j { 1.0 / 3f64.sqrt() } else { 0.0 };
                assert!((w[i * 3 + j].abs() - expect).abs() < 1e-14, "{w:?}");
            }
        }
        // Triangle rule.
        assert!(wigner_3j(0, 1, 2).iter().all(|&v| v == 0.0));
        // Unit norm.
        let n: f64 = wigner_3j(2, 2, 2).iter().map(|v| v * v).sum();
        assert!((n - 1.0).abs() < 1e-12);
    }
}
