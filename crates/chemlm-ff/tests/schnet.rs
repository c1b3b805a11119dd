//! SchNet: parity with schnetpack 2.1.1 (golden files of scripts/gen_schnet_golden.py), forces
//! against finite differences, symmetry, gradients of force losses in the weights, save/load.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use chemlm_atoms::GraphBatch;
use chemlm_ff::models::schnet::{OutputActivation, SchNet, SchNetConfig};
use chemlm_ff::{energy_and_forces, second_order, AtomsInput, EnergyScale, Potential};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

type Mol = (Vec<u8>, Vec<[f64; 3]>);

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/schnet")
}

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(golden_dir().join("golden.json")).expect("golden.json");
    serde_json::from_str(&text).expect("golden json")
}

/// All ordered pairs i ≠ j closer than `cutoff` (molecules, no cell): the reference
/// neighbour list, O(N²), independent of chemlm-atoms' cell lists.
fn batch(mols: &[Mol], cutoff: f64) -> GraphBatch {
    let mut b = GraphBatch {
        numbers: vec![],
        positions: vec![],
        structure_of: vec![],
        atoms_per_structure: vec![],
        idx_i: vec![],
        idx_j: vec![],
        offsets: vec![],
    };
    for (s, (z, pos)) in mols.iter().enumerate() {
        let base = b.numbers.len() as u32;
        for i in 0..z.len() {
            for j in 0..z.len() {
                let d2: f64 = (0..3).map(|k| (pos[j][k] - pos[i][k]).powi(2)).sum();
                if i != j && d2.sqrt() < cutoff {
                    b.idx_i.push(base + i as u32);
                    b.idx_j.push(base + j as u32);
                    b.offsets.push([0.0; 3]);
                }
            }
        }
        b.numbers.extend(z);
        b.positions.extend(pos);
        b.structure_of
            .extend(std::iter::repeat_n(s as u32, z.len()));
        b.atoms_per_structure.push(z.len() as u32);
    }
    b
}

/// Energies `[n_structures]` and forces `[n_atoms][3]` as host vectors.
fn eval(model: &SchNet, mols: &[Mol], dtype: DType) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (input, var) =
        AtomsInput::new(&batch(mols, model.cutoff()), dtype, &Device::Cpu, true).expect("input");
    let out = energy_and_forces(model, &input, &var.expect("positions"), false, false)
        .expect("energy and forces");
    let e = out
        .energies
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap();
    let f = out.forces.to_dtype(DType::F64).unwrap().to_vec2().unwrap();
    (e, f)
}

fn small_config(act: OutputActivation) -> SchNetConfig {
    SchNetConfig {
        model_type: "schnet".into(),
        n_atom_basis: 12,
        n_interactions: 2,
        n_filters: 10,
        n_rbf: 7,
        cutoff: 3.5,
        max_z: 10,
        shared_interactions: false,
        n_out_layers: 2,
        output_activation: act,
    }
}

fn scale() -> EnergyScale {
    let mut s = EnergyScale {
        mean: -0.4,
        std: 1.7,
        ..EnergyScale::default()
    };
    s.atomref[1] = -13.6;
    s.atomref[6] = -1029.5;
    s.atomref[8] = -2042.1;
    s
}

/// A fresh model whose weights (biases included) are all perturbed, so no term vanishes.
fn random_model(cfg: SchNetConfig, dtype: DType, seed: u64) -> SchNet {
    let varmap = VarMap::new();
    let mut model = SchNet::new(cfg, &varmap, dtype, &Device::Cpu, seed).expect("model");
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
    let data = varmap.data().lock().unwrap();
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let noise: Vec<f64> = (0..var.elem_count())
            .map(|_| rng.gen_range(-0.3..0.3))
            .collect();
        let noise = Tensor::from_vec(noise, var.shape(), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        var.set(&(var.as_tensor() + noise).unwrap()).unwrap();
    }
    drop(data);
    model.set_energy_scale(scale());
    model
}

/// A molecule of `n` atoms (H, C, O) at random positions, no pair closer than 0.9 Å.
fn random_molecule(n: usize, rng: &mut ChaCha8Rng) -> Mol {
    let mut pos: Vec<[f64; 3]> = vec![];
    while pos.len() < n {
        let p = [
            rng.gen_range(0.0..3.0),
            rng.gen_range(0.0..3.0),
            rng.gen_range(0.0..3.0),
        ];
        let far = pos.iter().all(|q| {
            let d2: f64 = (0..3).map(|k| (p[k] - q[k]).powi(2)).sum();
            d2 > 0.81
        });
        if far {
            pos.push(p);
        }
    }
    let z = (0..n).map(|i| [1u8, 6, 8][i % 3]).collect();
    (z, pos)
}

fn json_f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn golden_molecules(g: &serde_json::Value) -> Vec<Mol> {
    g["molecules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let z = m["numbers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u8)
                .collect();
            let pos = m["positions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let v = json_f64s(p);
                    [v[0], v[1], v[2]]
                })
                .collect();
            (z, pos)
        })
        .collect()
}

fn parity(name: &str) {
    let g = golden();
    let entry = g["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .expect("golden model");
    let mut cfg_json = entry["config"].clone();
    cfg_json["model_type"] = "schnet".into();
    let cfg = SchNetConfig::from_json(&cfg_json, "golden").expect("config");
    let mut model = SchNet::new(cfg, &VarMap::new(), DType::F64, &Device::Cpu, 0).expect("model");
    model
        .load_state_dict(&golden_dir().join(entry["weights"].as_str().unwrap()))
        .expect("schnetpack state dict loads as is");
    let scale: EnergyScale = serde_json::from_value(g["energy_scale"].clone()).unwrap();
    model.set_energy_scale(scale);

    // Every weight of ours is a schnetpack tensor with the same shape.
    let sd = entry["state_dict"].as_object().unwrap();
    for (k, v) in model.varmap().data().lock().unwrap().iter() {
        let shape: Vec<usize> = json_f64s(&sd[k]).iter().map(|&x| x as usize).collect();
        assert_eq!(shape, v.dims(), "{k}");
    }

    let mols = golden_molecules(&g);
    let (e, f) = eval(&model, &mols, DType::F64);
    let want_e = json_f64s(&entry["energies"]);
    for (a, b) in e.iter().zip(&want_e) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "energy {a} vs {b}");
    }
    let want_f: Vec<f64> = entry["forces"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|mol| mol.as_array().unwrap().iter().flat_map(json_f64s))
        .collect();
    let got_f: Vec<f64> = f.into_iter().flatten().collect();
    assert_eq!(got_f.len(), want_f.len());
    let fmax = want_f.iter().fold(0f64, |m, x| m.max(x.abs()));
    assert!(fmax > 0.1, "golden forces are not trivial");
    for (a, b) in got_f.iter().zip(&want_f) {
        assert!((a - b).abs() < 1e-9 * fmax, "force {a} vs {b}");
    }
}

#[test]
fn matches_schnetpack_independent_blocks_silu_head() {
    parity("plain");
}

#[test]
fn matches_schnetpack_shared_blocks_ssp_head() {
    parity("shared");
}

#[test]
fn state_dict_with_inconsistent_buffers_is_rejected() {
    let g = golden();
    let mut cfg_json = g["models"][0]["config"].clone();
    cfg_json["model_type"] = "schnet".into();
    cfg_json["cutoff"] = 5.0.into(); // the file's buffers say 4
    let cfg = SchNetConfig::from_json(&cfg_json, "golden").unwrap();
    let model = SchNet::new(cfg, &VarMap::new(), DType::F64, &Device::Cpu, 0).unwrap();
    let err = model
        .load_state_dict(&golden_dir().join("plain.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("disagrees with the config"), "{err}");
}

#[test]
fn forces_equal_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mol = random_molecule(7, &mut rng);
    let model = random_model(
        small_config(OutputActivation::ShiftedSoftplus),
        DType::F64,
        5,
    );
    let (_, f) = eval(&model, std::slice::from_ref(&mol), DType::F64);
    let h = 1e-5;
    let mut worst = 0f64;
    for (a, fa) in f.iter().enumerate() {
        for (k, &fak) in fa.iter().enumerate() {
            let mut plus = mol.clone();
            plus.1[a][k] += h;
            let mut minus = mol.clone();
            minus.1[a][k] -= h;
            let ep = eval(&model, &[plus], DType::F64).0[0];
            let em = eval(&model, &[minus], DType::F64).0[0];
            let fd = -(ep - em) / (2.0 * h);
            worst = worst.max((fd - fak).abs() / fak.abs().max(1.0));
        }
    }
    assert!(worst < 1e-7, "worst relative force error {worst}");
}

/// Inference (`train = false`, weights as constants) and training mode give the same
/// energies and forces.
#[test]
fn frozen_inference_path_equals_training_path() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mols = [random_molecule(7, &mut rng), random_molecule(5, &mut rng)];
    for act in [OutputActivation::Silu, OutputActivation::ShiftedSoftplus] {
        let model = random_model(small_config(act), DType::F64, 6);
        let gb = batch(&mols, model.cutoff());
        let run = |train: bool| {
            let (input, pos) = AtomsInput::new(&gb, DType::F64, &Device::Cpu, true).unwrap();
            let out = energy_and_forces(&model, &input, &pos.unwrap(), train, false).unwrap();
            let e: Vec<f64> = out.energies.to_vec1().unwrap();
            let f: Vec<Vec<f64>> = out.forces.to_vec2().unwrap();
            (e, f)
        };
        let (e0, f0) = run(false);
        let (e1, f1) = run(true);
        for (a, b) in e0.iter().zip(&e1) {
            assert!((a - b).abs() < 1e-10 * a.abs().max(1.0), "{a} vs {b}");
        }
        for (a, b) in f0.iter().flatten().zip(f1.iter().flatten()) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
    }
}

fn rotation(rng: &mut ChaCha8Rng) -> [[f64; 3]; 3] {
    // Random unit quaternion → rotation matrix.
    let q: Vec<f64> = (0..4).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let n = q.iter().map(|x| x * x).sum::<f64>().sqrt();
    let (w, x, y, z) = (q[0] / n, q[1] / n, q[2] / n, q[3] / n);
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

fn apply(r: &[[f64; 3]; 3], v: &[f64]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (i, row) in r.iter().enumerate() {
        out[i] = (0..3).map(|k| row[k] * v[k]).sum();
    }
    out
}

#[test]
fn energy_invariant_forces_equivariant() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mols = [random_molecule(8, &mut rng), random_molecule(5, &mut rng)];
    let model = random_model(small_config(OutputActivation::Silu), DType::F64, 21);
    let (e, f) = eval(&model, &mols, DType::F64);
    let r = rotation(&mut rng);
    let shift = [1.3, -2.2, 0.7];
    // Permute the atoms of the first molecule (a fixed derangement) and move both.
    let n0 = mols[0].0.len();
    let perm: Vec<usize> = (0..n0).map(|i| (i * 3 + 2) % n0).collect();
    let moved: Vec<Mol> = mols
        .iter()
        .enumerate()
        .map(|(s, (z, pos))| {
            let order: Vec<usize> = if s == 0 {
                perm.clone()
            } else {
                (0..z.len()).collect()
            };
            let z2 = order.iter().map(|&i| z[i]).collect();
            let p2 = order
                .iter()
                .map(|&i| {
                    let p = apply(&r, &pos[i]);
                    [p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]]
                })
                .collect();
            (z2, p2)
        })
        .collect();
    let (e2, f2) = eval(&model, &moved, DType::F64);
    for (a, b) in e.iter().zip(&e2) {
        assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "energy {a} vs {b}");
    }
    let mut offset = 0;
    for (s, (z, _)) in mols.iter().enumerate() {
        for new in 0..z.len() {
            let old = if s == 0 { perm[new] } else { new };
            let want = apply(&r, &f[offset + old]);
            for k in 0..3 {
                assert!(
                    (f2[offset + new][k] - want[k]).abs() < 1e-9,
                    "atom {new} of structure {s}: {:?} vs {want:?}",
                    f2[offset + new]
                );
            }
        }
        offset += z.len();
    }
}

/// Force-matching loss Σ (F − F_ref)² + 0.1·Σ (E − E_ref)², with gradients in the weights.
fn force_loss(
    model: &SchNet,
    input: &AtomsInput,
    positions: &Var,
    create_graph: bool,
) -> candle_core::Result<Tensor> {
    let out = energy_and_forces(model, input, positions, true, create_graph)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let f_ref = Tensor::full(0.3f64, out.forces.shape(), &Device::Cpu)?;
    let e_ref = Tensor::full(-3000.0f64, out.energies.shape(), &Device::Cpu)?;
    let lf = (out.forces - f_ref)?.sqr()?.sum_all()?;
    let le = (out.energies - e_ref)?.sqr()?.sum_all()?;
    lf + (le * 0.1)?
}

fn check_weight_gradients(act: OutputActivation) {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mols = [random_molecule(6, &mut rng), random_molecule(4, &mut rng)];
    let model = random_model(small_config(act), DType::F64, 31);
    let gb = batch(&mols, model.cutoff());
    let names = [
        "representation.embedding.weight",
        "representation.interactions.0.in2f.weight",
        "representation.interactions.0.filter_network.0.weight",
        "representation.interactions.1.filter_network.1.bias",
        "representation.interactions.1.f2out.0.weight",
        "output_modules.0.outnet.0.weight",
        "output_modules.0.outnet.1.bias",
    ];
    let worst = second_order::run(|| {
        let (input, pos) = AtomsInput::new(&gb, DType::F64, &Device::Cpu, true).unwrap();
        let pos = pos.unwrap();
        let loss = force_loss(&model, &input, &pos, true).unwrap();
        let grads = loss.backward().unwrap();
        let data = model.varmap().data().lock().unwrap();
        let mut worst = 0f64;
        for name in names {
            let var = &data[name];
            let g: Vec<f64> = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"))
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let base = var.as_tensor().copy().unwrap();
            let flat: Vec<f64> = base.flatten_all().unwrap().to_vec1().unwrap();
            // Embedding rows of absent elements have zero gradient: check H, C, O rows.
            let coords: Vec<usize> = if name.ends_with("embedding.weight") {
                let w = var.dims()[1];
                [1usize, 6, 8]
                    .iter()
                    .flat_map(|z| (0..3).map(move |c| z * w + c * 4))
                    .collect()
            } else {
                let n = flat.len();
                (0..6).map(|i| (i * 7919) % n).collect()
            };
            let h = 1e-5;
            for c in coords {
                let eval_at = |v: f64| {
                    let mut x = flat.clone();
                    x[c] = v;
                    var.set(&Tensor::from_vec(x, var.shape(), &Device::Cpu).unwrap())
                        .unwrap();
                    let (inp, p) = AtomsInput::new(&gb, DType::F64, &Device::Cpu, true).unwrap();
                    let l = force_loss(&model, &inp, &p.unwrap(), false).unwrap();
                    l.to_scalar::<f64>().unwrap()
                };
                let fd = (eval_at(flat[c] + h) - eval_at(flat[c] - h)) / (2.0 * h);
                var.set(&base).unwrap();
                let err = (fd - g[c]).abs() / fd.abs().max(1.0);
                assert!(err < 1e-5, "{name}[{c}]: autograd {} vs fd {fd}", g[c]);
                worst = worst.max(err);
            }
        }
        worst
    })
    .expect("second-order thread");
    assert!(worst < 1e-5, "{worst}");
}

#[test]
fn force_loss_gradients_in_weights_match_finite_differences_ssp() {
    check_weight_gradients(OutputActivation::ShiftedSoftplus);
}

#[test]
fn force_loss_gradients_in_weights_match_finite_differences_silu() {
    check_weight_gradients(OutputActivation::Silu);
}

#[test]
fn save_load_round_trip() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mols = [random_molecule(6, &mut rng), random_molecule(9, &mut rng)];
    let mut cfg = small_config(OutputActivation::Silu);
    cfg.shared_interactions = true;
    cfg.n_interactions = 3;
    let model = random_model(cfg, DType::F32, 41);
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = SchNet::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(loaded.config(), model.config());
    assert_eq!(loaded.energy_scale(), model.energy_scale());
    let (e1, f1) = eval(&model, &mols, DType::F32);
    let (e2, f2) = eval(&loaded, &mols, DType::F32);
    assert_eq!(e1, e2);
    assert_eq!(f1, f2);
    // Only block 0 is stored when interactions are shared.
    let n_vars = loaded.varmap().all_vars().len();
    assert_eq!(n_vars, 1 + 9 + 4, "embedding + one block + head");
}

#[test]
fn seeded_init_is_deterministic_and_preset_parses() {
    let cfg = small_config(OutputActivation::Silu);
    let a = SchNet::new(cfg.clone(), &VarMap::new(), DType::F64, &Device::Cpu, 7).unwrap();
    let b = SchNet::new(cfg, &VarMap::new(), DType::F64, &Device::Cpu, 7).unwrap();
    let mol = random_molecule(5, &mut ChaCha8Rng::seed_from_u64(1));
    assert_eq!(
        eval(&a, std::slice::from_ref(&mol), DType::F64),
        eval(&b, std::slice::from_ref(&mol), DType::F64)
    );
    let p = SchNetConfig::preset().unwrap();
    assert_eq!(
        (
            p.n_atom_basis,
            p.n_interactions,
            p.n_filters,
            p.n_rbf,
            p.cutoff
        ),
        (128, 6, 128, 20, 5.0)
    );
    assert_eq!(p.head_widths(), vec![128, 64, 1]);
    let model = SchNet::new(p.clone(), &VarMap::new(), DType::F32, &Device::Cpu, 0).unwrap();
    let counted: usize = model
        .varmap()
        .all_vars()
        .iter()
        .map(|v| v.elem_count())
        .sum();
    assert_eq!(counted, p.n_params());
    let bad = SchNetConfig::from_toml("model_type = \"painn\"\nn_atom_basis = 8\nn_interactions = 1\nn_filters = 8\nn_rbf = 4\ncutoff = 5.0\n", "t");
    assert!(bad.is_err());
}

#[test]
fn atomic_number_beyond_embedding_is_an_error() {
    let model = random_model(small_config(OutputActivation::Silu), DType::F64, 2);
    let mol: Mol = (vec![1, 10], vec![[0.0; 3], [1.0, 0.0, 0.0]]);
    let (input, _) = AtomsInput::new(&batch(&[mol], 3.5), DType::F64, &Device::Cpu, false).unwrap();
    assert!(model.energies(&input, false).is_err());
}

/// Indicative timing: one energy+forces call on 8 aspirin molecules (21 atoms, cutoff 5 Å)
/// with the preset in f32. Run with
/// `cargo test --release -p chemlm-ff --test schnet schnet_timing -- --ignored --nocapture`
/// and compare with `python3 scripts/bench_schnet_torch.py`.
#[test]
#[ignore]
fn schnet_timing() {
    let g = golden();
    let z: Vec<u8> = g["aspirin"]["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u8)
        .collect();
    let pos: Vec<[f64; 3]> = g["aspirin"]["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let v = json_f64s(p);
            [v[0], v[1], v[2]]
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mols: Vec<Mol> = (0..8)
        .map(|_| {
            let p = pos
                .iter()
                .map(|q| [0, 1, 2].map(|k| q[k] + rng.gen_range(-0.05..0.05)))
                .collect();
            (z.clone(), p)
        })
        .collect();
    let model = SchNet::new(
        SchNetConfig::preset().unwrap(),
        &VarMap::new(),
        DType::F32,
        &Device::Cpu,
        0,
    )
    .unwrap();
    let gb = batch(&mols, model.cutoff());
    let run = || {
        let (input, var) = AtomsInput::new(&gb, DType::F32, &Device::Cpu, true).unwrap();
        energy_and_forces(&model, &input, &var.unwrap(), false, false).unwrap()
    };
    for _ in 0..3 {
        run();
    }
    let reps = 20;
    let t = std::time::Instant::now();
    for _ in 0..reps {
        run();
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
    let (input, _) = AtomsInput::new(&gb, DType::F32, &Device::Cpu, false).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..reps {
        model.energies(&input, false).unwrap();
    }
    let ms_fwd = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
    println!("energies only: {ms_fwd:.2} ms");
    println!(
        "schnet preset f32, 8 x aspirin ({} atoms, {} edges): {ms:.2} ms per energy+forces call",
        gb.n_atoms(),
        gb.n_edges()
    );
}
