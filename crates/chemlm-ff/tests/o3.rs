//! O(3) blocks against e3nn 0.6 and nequip-allegro 0.8 (golden file of scripts/gen_o3_golden.py):
//! spherical harmonics, Wigner 3j symbols, the strided tensor product; plus equivariance of the
//! harmonics under a rotation, independent of the golden file.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use chemlm_ff::o3::{spherical_harmonics, wigner_3j, Irrep, Irreps, StridedTensorProduct};
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/o3/o3.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("golden file")).expect("json")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn irreps(v: &Value) -> Irreps {
    Irreps(
        v.as_array()
            .expect("irreps")
            .iter()
            .map(|p| {
                let l = p[0].as_u64().expect("l") as usize;
                let par = p[1].as_i64().expect("p") as i8;
                Irrep::new(l, par)
            })
            .collect(),
    )
}

#[test]
fn spherical_harmonics_match_e3nn() {
    let g = golden();
    let vecs = floats(&g["sh"]["vectors"]);
    let n = vecs.len() / 3;
    let t = Tensor::from_vec(vecs, (n, 3), &Device::Cpu).unwrap();
    for lmax in 0..=3 {
        let ours: Vec<f64> = spherical_harmonics(lmax, &t)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let all = floats(&g["sh"]["values"]);
        let width = (lmax + 1) * (lmax + 1);
        let theirs: Vec<f64> = all
            .chunks(16)
            .flat_map(|row| row[..width].to_vec())
            .collect();
        let d = max_diff(&ours, &theirs);
        assert!(d < 1e-12, "lmax {lmax}: max diff {d}");
    }
}

#[test]
fn wigner_3j_matches_e3nn() {
    let g = golden();
    let cases = g["wigner_3j"].as_array().unwrap();
    assert!(cases.len() > 30);
    for c in cases {
        let l: Vec<usize> = c["l"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        let d = max_diff(&wigner_3j(l[0], l[1], l[2]), &floats(&c["values"]));
        assert!(d < 1e-12, "{l:?}: max diff {d}");
    }
}

#[test]
fn strided_tensor_product_matches_allegro() {
    let g = golden();
    for (k, c) in g["contracter"].as_array().unwrap().iter().enumerate() {
        let (in1, in2, out) = (
            irreps(&c["irreps_in1"]),
            irreps(&c["irreps_in2"]),
            irreps(&c["irreps_out"]),
        );
        let mul = c["mul"].as_u64().unwrap() as usize;
        let coupling = c["path_channel_coupling"].as_bool().unwrap();
        let mut varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F64, &Device::Cpu);
        let tp =
            StridedTensorProduct::new(in1.clone(), in2.clone(), out.clone(), mul, coupling, &vb)
                .unwrap();
        let instr: Vec<[usize; 3]> = c["instructions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let v: Vec<usize> = t
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as usize)
                    .collect();
                [v[0], v[1], v[2]]
            })
            .collect();
        assert_eq!(tp.instructions, instr, "case {k}");
        let shape: Vec<usize> = c["weights_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(tp.weights().dims(), shape.as_slice(), "case {k}");
        let w = Tensor::from_vec(floats(&c["weights"]), shape, &Device::Cpu).unwrap();
        varmap.set_one("weights", w).unwrap();
        let tp =
            StridedTensorProduct::new(in1.clone(), in2.clone(), out, mul, coupling, &vb).unwrap();
        let (ne, nn) = (
            c["n_edges"].as_u64().unwrap() as usize,
            c["n_nodes"].as_u64().unwrap() as usize,
        );
        let x1 = Tensor::from_vec(floats(&c["x1"]), (ne, mul, in1.dim()), &Device::Cpu).unwrap();
        let x2 = Tensor::from_vec(floats(&c["x2"]), (nn, mul, in2.dim()), &Device::Cpu).unwrap();
        let idx: Vec<u32> = c["idx"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        let idx = Tensor::from_vec(idx, ne, &Device::Cpu).unwrap();
        let y: Vec<f64> = tp
            .forward(&x1, &x2, &idx)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let d = max_diff(&y, &floats(&c["out"]));
        assert!(d < 1e-12, "case {k}: max diff {d}");
    }
}

/// Y^l(R r) = D^l(R) Y^l(r) with D^l recovered from the harmonics themselves: for l = 1 D is R
/// itself (basis x, y, z), so the l = 1 block must rotate like the vector, and every block's
/// norm must be invariant.
#[test]
fn harmonics_rotate_like_vectors() {
    let (a, b) = (0.7f64, -1.1f64);
    let rz = [
        [a.cos(), -a.sin(), 0.0],
        [a.sin(), a.cos(), 0.0],
        [0.0, 0.0, 1.0],
    ];
    let rx = [
        [1.0, 0.0, 0.0],
        [0.0, b.cos(), -b.sin()],
        [0.0, b.sin(), b.cos()],
    ];
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r[i][j] = (0..3).map(|k| rz[i][k] * rx[k][j]).sum();
        }
    }
    let v = [[0.3, -1.2, 0.8], [2.0, 0.1, -0.4], [-0.5, -0.5, 1.5]];
    let rv: Vec<[f64; 3]> = v
        .iter()
        .map(|p| {
            let mut o = [0.0; 3];
            for i in 0..3 {
                o[i] = (0..3).map(|k| r[i][k] * p[k]).sum();
            }
            o
        })
        .collect();
    let t = |x: &[[f64; 3]]| {
        Tensor::from_vec(
            x.iter().flatten().copied().collect::<Vec<_>>(),
            (x.len(), 3),
            &Device::Cpu,
        )
        .unwrap()
    };
    let y0: Vec<Vec<f64>> = spherical_harmonics(3, &t(&v)).unwrap().to_vec2().unwrap();
    let y1: Vec<Vec<f64>> = spherical_harmonics(3, &t(&rv)).unwrap().to_vec2().unwrap();
    for (a, b) in y0.iter().zip(&y1) {
        for i in 0..3 {
            let rotated: f64 = (0..3).map(|k| r[i][k] * a[1 + k]).sum();
            assert!((rotated - b[1 + i]).abs() < 1e-12);
        }
        for l in 0..=3usize {
            let s = l * l;
            let e = (l + 1) * (l + 1);
            let na: f64 = a[s..e].iter().map(|x| x * x).sum();
            let nb: f64 = b[s..e].iter().map(|x| x * x).sum();
            assert!(
                (na - (2 * l + 1) as f64).abs() < 1e-12,
                "component normalisation"
            );
            assert!((na - nb).abs() < 1e-12);
        }
    }
}

/// The fused inference kernel gives the composed product's values and input gradients.
#[test]
fn fused_tensor_product_matches_the_composed_one() {
    for (coupling, out) in [(true, "full"), (false, "scalar")] {
        let sh = Irreps::spherical_harmonics(2);
        let out_irreps = if out == "full" {
            Irreps(vec![
                Irrep::new(0, 1),
                Irrep::new(1, 1),
                Irrep::new(1, -1),
                Irrep::new(2, 1),
            ])
        } else {
            Irreps(vec![Irrep::new(0, 1)])
        };
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F64, &Device::Cpu);
        let tp = StridedTensorProduct::new(sh.clone(), sh.clone(), out_irreps, 3, coupling, &vb)
            .unwrap();
        let x1 = candle_core::Var::from_tensor(
            &Tensor::randn(0f64, 1.0, (7, 3, 9), &Device::Cpu).unwrap(),
        )
        .unwrap();
        let x2 = candle_core::Var::from_tensor(
            &Tensor::randn(0f64, 1.0, (4, 3, 9), &Device::Cpu).unwrap(),
        )
        .unwrap();
        let idx = Tensor::from_vec(vec![0u32, 3, 1, 1, 2, 0, 3], 7, &Device::Cpu).unwrap();
        let g = Tensor::randn(0f64, 1.0, (7, 3, tp.irreps_out.dim()), &Device::Cpu).unwrap();
        let run = |fused: bool| {
            let y = if fused {
                tp.forward_inference(x1.as_tensor(), x2.as_tensor(), &idx)
            } else {
                tp.forward(x1.as_tensor(), x2.as_tensor(), &idx)
            }
            .unwrap();
            let grads = (&y * &g).unwrap().sum_all().unwrap().backward().unwrap();
            let flat = |t: &Tensor| -> Vec<f64> { t.flatten_all().unwrap().to_vec1().unwrap() };
            (
                flat(&y),
                flat(grads.get(x1.as_tensor()).unwrap()),
                flat(grads.get(x2.as_tensor()).unwrap()),
            )
        };
        let (a, b) = (run(false), run(true));
        assert!(max_diff(&a.0, &b.0) < 1e-12, "values");
        assert!(max_diff(&a.1, &b.1) < 1e-12, "x1 gradient");
        assert!(max_diff(&a.2, &b.2) < 1e-12, "x2 gradient");
        assert!(a.0.iter().any(|v| v.abs() > 1e-3));
    }
}
