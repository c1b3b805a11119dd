//! Molecules and geometry shared by the model test files (PaiNN, Allegro, SpookyNet), and the
//! random tensors and differences of the kernel tests (fused, message).
#![allow(dead_code)]

use chemlm_atoms::GraphBatch;

/// One molecule: atomic numbers and positions (Å).
pub type Mol = (Vec<u8>, Vec<[f64; 3]>);

/// All directed pairs within `cutoff` (molecules, O(N²)), batched.
pub fn batch_of(mols: &[Mol], cutoff: f64) -> GraphBatch {
    let mut b = GraphBatch::default();
    for (s, (z, pos)) in mols.iter().enumerate() {
        let first = b.numbers.len() as u32;
        for i in 0..pos.len() {
            for j in 0..pos.len() {
                let d2: f64 = (0..3).map(|k| (pos[j][k] - pos[i][k]).powi(2)).sum();
                if i != j && d2.sqrt() < cutoff {
                    b.idx_i.push(first + i as u32);
                    b.idx_j.push(first + j as u32);
                    b.offsets.push([0.0; 3]);
                }
            }
        }
        b.numbers.extend_from_slice(z);
        b.positions.extend_from_slice(pos);
        b.structure_of
            .extend(std::iter::repeat_n(s as u32, z.len()));
        b.atoms_per_structure.push(z.len() as u32);
    }
    b
}

pub fn water() -> Mol {
    (
        vec![8, 1, 1],
        vec![
            [0.0, 0.0, 0.1173],
            [0.0, 0.7572, -0.4692],
            [0.0, -0.7572, -0.4692],
        ],
    )
}

/// Ethanol, stretched so a 4 Å cutoff drops some pairs.
pub fn ethanol(stretch: f64) -> Mol {
    let pos = [
        [-1.2131, -0.2229, 0.0],
        [0.0015, 0.6816, 0.0],
        [1.1910, -0.1069, 0.0],
        [-2.1387, 0.3568, 0.0],
        [-1.2038, -0.8680, 0.8810],
        [-1.2038, -0.8680, -0.8810],
        [0.0094, 1.3370, 0.8792],
        [0.0094, 1.3370, -0.8792],
        [1.9718, 0.4535, 0.0],
    ];
    (
        vec![6, 6, 8, 1, 1, 1, 1, 1, 1],
        pos.iter()
            .map(|p| [p[0] * stretch, p[1] * stretch, p[2] * stretch])
            .collect(),
    )
}

/// Rotation matrix of a unit quaternion.
pub fn rotation(q: [f64; 4]) -> [[f64; 3]; 3] {
    let n = q.iter().map(|x| x * x).sum::<f64>().sqrt();
    let [w, x, y, z] = q.map(|v| v / n);
    [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ]
}

pub fn apply(r: &[[f64; 3]; 3], v: &[f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| (0..3).map(|k| r[i][k] * v[k]).sum())
}

/// A tensor of `shape` with entries uniform in [-scale, scale), f64, from `seed`.
pub fn random(shape: &[usize], scale: f64, seed: u64) -> candle_core::Tensor {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| scale * (rng.gen::<f64>() * 2.0 - 1.0))
        .collect();
    candle_core::Tensor::from_vec(v, shape, &candle_core::Device::Cpu).unwrap()
}

/// Largest |a − b| over all elements, in f64.
pub fn max_abs_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f64 {
    use candle_core::DType;
    (a.to_dtype(DType::F64).unwrap() - b.to_dtype(DType::F64).unwrap())
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}
