//! PaiNN: parity with schnetpack 2.1.1 (golden files of scripts/gen_painn_golden.py), forces
//! against finite differences, rotation/translation/permutation symmetry, the force-loss
//! gradient with respect to weights (gradients of gradients), save/load, the preset.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use chemlm_atoms::GraphBatch;
use chemlm_ff::models::painn::{PaiNN, PaiNNConfig};
use chemlm_ff::{energy_and_forces, second_order, AtomsInput, EnergyScale, Potential};
use std::path::PathBuf;

mod common;
use common::{apply, batch_of, ethanol, rotation, water, Mol};

fn golden_dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/painn")
        .join(case)
}

fn small_config() -> PaiNNConfig {
    PaiNNConfig {
        model_type: "painn".into(),
        n_atom_basis: 8,
        n_interactions: 2,
        n_rbf: 6,
        cutoff: 4.0,
        max_z: 10,
        shared_interactions: false,
        shared_filters: false,
        epsilon: 1e-8,
        n_out_layers: 2,
    }
}

/// A fresh f64 model whose biases are non-zero too (zero biases would hide mistakes).
fn random_model(cfg: &PaiNNConfig, seed: u64) -> PaiNN {
    let varmap = VarMap::new();
    let model = PaiNN::new(cfg, &varmap, DType::F64, &Device::Cpu, seed).expect("model");
    let data = varmap.data().lock().expect("lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for (k, name) in names.into_iter().enumerate() {
        let v = &data[name];
        let n = v.elem_count();
        let noise: Vec<f64> = (0..n)
            .map(|i| 0.2 * ((i as f64 * 0.7 + k as f64 * 1.3).sin()))
            .collect();
        let noise = Tensor::from_vec(noise, v.dims(), &Device::Cpu).expect("noise");
        let t = if name.ends_with("bias") {
            noise
        } else {
            (v.as_tensor() + noise).expect("add")
        };
        v.set(&t).expect("set");
    }
    drop(data);
    model
}

fn eval(model: &PaiNN, batch: &GraphBatch) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (input, var) = AtomsInput::new(batch, DType::F64, &Device::Cpu, true).expect("input");
    let var = var.expect("positions var");
    let ef = energy_and_forces(model, &input, &var, false, false).expect("forward");
    (
        ef.energies.to_vec1().expect("e"),
        ef.forces.to_vec2().expect("f"),
    )
}

fn read_io(case: &str) -> std::collections::HashMap<String, Tensor> {
    candle_core::safetensors::load(golden_dir(case).join("io.safetensors"), &Device::Cpu)
        .expect("io.safetensors")
}

fn ints(t: &Tensor) -> Vec<i64> {
    t.to_dtype(DType::I64).unwrap().to_vec1().unwrap()
}

fn parity(case: &str) {
    let dir = golden_dir(case);
    let text = std::fs::read_to_string(dir.join("config.json")).expect("config");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cfg = PaiNNConfig::from_json(&value, "golden").expect("config");
    let model = PaiNN::from_schnetpack(
        &cfg,
        &dir.join("state_dict.safetensors"),
        DType::F64,
        &Device::Cpu,
    )
    .expect("load schnetpack state dict");
    let io = read_io(case);
    let numbers: Vec<u8> = ints(&io["numbers"]).iter().map(|&z| z as u8).collect();
    let positions: Vec<Vec<f64>> = io["positions"].to_vec2().unwrap();
    let structure_of: Vec<u32> = ints(&io["structure_of"])
        .iter()
        .map(|&s| s as u32)
        .collect();
    let n_structures = *structure_of.last().unwrap() as usize + 1;
    let mut atoms_per_structure = vec![0u32; n_structures];
    for &s in &structure_of {
        atoms_per_structure[s as usize] += 1;
    }
    let idx_i: Vec<u32> = ints(&io["idx_i"]).iter().map(|&i| i as u32).collect();
    let idx_j: Vec<u32> = ints(&io["idx_j"]).iter().map(|&i| i as u32).collect();
    let batch = GraphBatch {
        numbers,
        positions: positions.iter().map(|p| [p[0], p[1], p[2]]).collect(),
        structure_of,
        atoms_per_structure,
        offsets: vec![[0.0; 3]; idx_i.len()],
        idx_i,
        idx_j,
    };
    let (e, f) = eval(&model, &batch);
    let e_ref: Vec<f64> = io["energy"].to_vec1().unwrap();
    let f_ref: Vec<Vec<f64>> = io["forces"].to_vec2().unwrap();
    let e_scale = e_ref.iter().fold(0f64, |m, x| m.max(x.abs()));
    for (a, b) in e.iter().zip(&e_ref) {
        assert!(
            (a - b).abs() <= 1e-12 * e_scale,
            "{case}: energy {a} vs {b}"
        );
    }
    let f_scale = f_ref.iter().flatten().fold(0f64, |m, x| m.max(x.abs()));
    let e_dev = e
        .iter()
        .zip(&e_ref)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    let f_dev = f
        .iter()
        .flatten()
        .zip(f_ref.iter().flatten())
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    println!(
        "{case}: max |ΔE| / max |E| = {:.1e}, max |ΔF| / max |F| = {:.1e}",
        e_dev / e_scale,
        f_dev / f_scale
    );
    for (a, b) in f.iter().flatten().zip(f_ref.iter().flatten()) {
        assert!(
            (a - b).abs() <= 1e-12 * f_scale,
            "{case}: force {a} vs {b} (scale {f_scale})"
        );
    }
}

#[test]
fn parity_with_schnetpack() {
    parity("plain");
}

#[test]
fn parity_with_schnetpack_shared_blocks() {
    parity("shared");
}

#[test]
fn schnetpack_loader_rejects_wrong_config() {
    let dir = golden_dir("plain");
    let text = std::fs::read_to_string(dir.join("config.json")).expect("config");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut cfg = PaiNNConfig::from_json(&value, "golden").expect("config");
    cfg.cutoff = 5.0; // buffers of the state dict say 4 Å
    let err = PaiNN::from_schnetpack(
        &cfg,
        &dir.join("state_dict.safetensors"),
        DType::F64,
        &Device::Cpu,
    )
    .unwrap_err();
    assert!(err.to_string().contains("buffer"), "{err}");
    cfg.cutoff = 4.0;
    cfg.shared_filters = true; // filter_net would be 3F wide, the file has 2·3F
    let err = PaiNN::from_schnetpack(
        &cfg,
        &dir.join("state_dict.safetensors"),
        DType::F64,
        &Device::Cpu,
    )
    .unwrap_err();
    assert!(err.to_string().contains("shape"), "{err}");
}

#[test]
fn forces_are_central_differences_of_the_energy() {
    let cfg = small_config();
    let model = random_model(&cfg, 7);
    let mols = vec![water(), ethanol(1.35)];
    let batch = batch_of(&mols, cfg.cutoff);
    let (_, forces) = eval(&model, &batch);
    let h = 1e-5;
    let energy_at = |b: &GraphBatch| -> f64 {
        let (input, _) = AtomsInput::new(b, DType::F64, &Device::Cpu, false).unwrap();
        model
            .energies(&input, false)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap()
    };
    let scale = forces.iter().flatten().fold(0f64, |m, x| m.max(x.abs()));
    assert!(scale > 1e-3, "forces too small to test: {scale}");
    for (a, f_a) in forces.iter().enumerate() {
        for (k, &got) in f_a.iter().enumerate() {
            // Same edge list (no pair crosses the cutoff for a 1e-5 step here).
            let mut plus = batch.clone();
            plus.positions[a][k] += h;
            let mut minus = batch.clone();
            minus.positions[a][k] -= h;
            let fd = -(energy_at(&plus) - energy_at(&minus)) / (2.0 * h);
            assert!(
                (fd - got).abs() <= 1e-6 * scale,
                "atom {a} axis {k}: autograd {got} vs fd {fd}"
            );
        }
    }
}

/// An atom without neighbours keeps μ = 0, where √(Σ V²) has no derivative: with schnetpack's
/// ε the forces stay finite (zero on the lone atom), also through a force-loss backward pass.
#[test]
fn isolated_atom_gives_finite_forces_and_gradients() {
    let cfg = small_config();
    let model = random_model(&cfg, 9);
    let (mut z, mut pos) = water();
    z.push(1);
    pos.push([0.0, 0.0, 10.0]);
    let batch = batch_of(&[(z, pos)], cfg.cutoff);
    let (e, f) = eval(&model, &batch);
    assert!(e[0].is_finite());
    assert!(f.iter().flatten().all(|x| x.is_finite()), "{f:?}");
    assert_eq!(f[3], vec![0.0; 3]);
    second_order::run(|| {
        let (input, var) = AtomsInput::new(&batch, DType::F64, &Device::Cpu, true).unwrap();
        let ef = energy_and_forces(&model, &input, &var.unwrap(), true, true).unwrap();
        let grads = ef
            .forces
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for var in model.varmap().all_vars() {
            if let Some(g) = grads.get(var.as_tensor()) {
                let g: Vec<f64> = g.flatten_all().unwrap().to_vec1().unwrap();
                assert!(g.iter().all(|x| x.is_finite()));
            }
        }
    })
    .unwrap();
}

#[test]
fn energy_invariant_forces_equivariant() {
    for shared in [false, true] {
        let cfg = PaiNNConfig {
            shared_interactions: shared,
            shared_filters: shared,
            n_interactions: 3,
            ..small_config()
        };
        let model = random_model(&cfg, 11);
        let mols = vec![ethanol(1.2), water()];
        let (e0, f0) = eval(&model, &batch_of(&mols, cfg.cutoff));
        let rot = rotation([0.3, -0.8, 0.45, 0.2]);
        let shift = [1.7, -3.2, 0.9];
        // Permutation of each molecule's atoms: reversed order.
        let moved: Vec<Mol> = mols
            .iter()
            .map(|(z, p)| {
                let zs: Vec<u8> = z.iter().rev().copied().collect();
                let ps: Vec<[f64; 3]> = p
                    .iter()
                    .rev()
                    .map(|x| {
                        let r = apply(&rot, x);
                        [r[0] + shift[0], r[1] + shift[1], r[2] + shift[2]]
                    })
                    .collect();
                (zs, ps)
            })
            .collect();
        let (e1, f1) = eval(&model, &batch_of(&moved, cfg.cutoff));
        for (a, b) in e0.iter().zip(&e1) {
            assert!((a - b).abs() < 1e-10 * a.abs().max(1.0), "{a} vs {b}");
        }
        // Atom a of molecule m moved to position n_m - 1 - a within its block.
        let mut first = 0;
        for (z, _) in &mols {
            let n = z.len();
            for a in 0..n {
                let want = apply(
                    &rot,
                    &[f0[first + a][0], f0[first + a][1], f0[first + a][2]],
                );
                let got = &f1[first + n - 1 - a];
                for k in 0..3 {
                    assert!(
                        (want[k] - got[k]).abs() < 1e-10,
                        "shared={shared} atom {a}: {want:?} vs {got:?}"
                    );
                }
            }
            first += n;
        }
    }
}

/// Force loss L = Σ (F − F_target)² through `second_order::run`: ∂L/∂θ from autograd equals
/// central differences of L in a few weights of every kind of block.
#[test]
fn force_loss_gradient_matches_finite_differences() {
    let cfg = small_config();
    let model = random_model(&cfg, 5);
    let mols = vec![water(), ethanol(1.0)];
    let batch = batch_of(&mols, cfg.cutoff);
    let n = batch.n_atoms();
    let target: Vec<f64> = (0..n * 3).map(|i| 0.3 * (i as f64 * 0.37).cos()).collect();
    let target = Tensor::from_vec(target, (n, 3), &Device::Cpu).unwrap();
    let loss = |create_graph: bool| -> candle_core::Result<(Tensor, Var)> {
        let (input, var) = AtomsInput::new(&batch, DType::F64, &Device::Cpu, true).unwrap();
        let var = var.unwrap();
        let ef = energy_and_forces(&model, &input, &var, true, create_graph).unwrap();
        let l = (ef.forces - &target)?.sqr()?.sum_all()?;
        Ok((l, var))
    };
    let probes: [(&str, usize); 6] = [
        ("representation.embedding.weight", 8 + 3),
        ("representation.filter_net.weight", 17),
        (
            "representation.interactions.1.interatomic_context_net.0.bias",
            2,
        ),
        ("representation.mixing.0.mu_channel_mix.weight", 9),
        (
            "representation.mixing.1.intraatomic_context_net.0.weight",
            21,
        ),
        ("output_modules.0.outnet.0.weight", 5),
    ];
    second_order::run(|| {
        let (l, _) = loss(true).unwrap();
        let grads = l.backward().unwrap();
        let data = model.varmap().data().lock().unwrap();
        for (name, flat) in probes {
            let var = data.get(name).unwrap_or_else(|| panic!("{name}"));
            let g: Vec<f64> = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"))
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let base = var.as_tensor().flatten_all().unwrap();
            let mut vals: Vec<f64> = base.to_vec1().unwrap();
            let h = 1e-5;
            let orig = vals[flat];
            let mut at = |x: f64| -> f64 {
                vals[flat] = x;
                let t = Tensor::from_vec(vals.clone(), var.dims(), &Device::Cpu).unwrap();
                var.set(&t).unwrap();
                loss(false).unwrap().0.to_scalar::<f64>().unwrap()
            };
            let fd = (at(orig + h) - at(orig - h)) / (2.0 * h);
            at(orig);
            let got = g[flat];
            assert!(
                got.abs() > 1e-8,
                "{name}[{flat}]: gradient vanishes, probe elsewhere"
            );
            assert!(
                (fd - got).abs() <= 1e-6 * got.abs().max(1e-2),
                "{name}[{flat}]: autograd {got} vs fd {fd}"
            );
        }
    })
    .expect("second-order run");
}

#[test]
fn save_load_round_trip_is_exact() {
    let cfg = small_config();
    let varmap = VarMap::new();
    let mut model = PaiNN::new(&cfg, &varmap, DType::F32, &Device::Cpu, 3).unwrap();
    let mut scale = EnergyScale::default();
    scale.atomref[1] = -13.6;
    scale.atomref[8] = -2041.5;
    scale.atomref[6] = -1027.0;
    scale.mean = 0.25;
    scale.std = 0.8;
    model.set_energy_scale(scale.clone());
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = PaiNN::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(loaded.config(), model.config());
    assert_eq!(loaded.energy_scale(), &scale);
    let batch = batch_of(&[water(), ethanol(1.0)], cfg.cutoff);
    let (input, _) = AtomsInput::new(&batch, DType::F32, &Device::Cpu, false).unwrap();
    let e0: Vec<f64> = model.energies(&input, false).unwrap().to_vec1().unwrap();
    let e1: Vec<f64> = loaded.energies(&input, false).unwrap().to_vec1().unwrap();
    assert_eq!(e0, e1);
    // A different seed gives a different model: the comparison above can fail.
    let other = PaiNN::new(&cfg, &VarMap::new(), DType::F32, &Device::Cpu, 4).unwrap();
    let e2: Vec<f64> = other.energies(&input, false).unwrap().to_vec1().unwrap();
    assert_ne!(e0[0] - scale.mean, e2[0]);
}

#[test]
fn preset_and_validation() {
    let cfg = PaiNNConfig::md17();
    assert_eq!(
        (cfg.n_atom_basis, cfg.n_interactions, cfg.n_rbf, cfg.max_z),
        (128, 3, 20, 100)
    );
    assert_eq!((cfg.cutoff, cfg.epsilon), (5.0, 1e-8));
    assert!(!cfg.shared_interactions && !cfg.shared_filters);
    let model = PaiNN::new(&cfg, &VarMap::new(), DType::F32, &Device::Cpu, 0).unwrap();
    let n_params: usize = model
        .varmap()
        .all_vars()
        .iter()
        .map(|v| v.elem_count())
        .sum();
    // schnetpack's PaiNN(128, 3, GaussianRBF(20, 5)) + Atomwise(128): 589,057 parameters
    // (counted with schnetpack 2.1.1).
    assert_eq!(n_params, 589_057);
    let bad = PaiNNConfig {
        n_rbf: 1,
        ..cfg.clone()
    };
    assert!(bad.validate("test").is_err());
    // An element outside the embedding is an error, not a panic.
    let small = PaiNNConfig {
        max_z: 5,
        ..small_config()
    };
    let m = PaiNN::new(&small, &VarMap::new(), DType::F64, &Device::Cpu, 0).unwrap();
    let batch = batch_of(&[water()], small.cutoff);
    let (input, _) = AtomsInput::new(&batch, DType::F64, &Device::Cpu, false).unwrap();
    assert!(m.energies(&input, false).is_err());
}

/// 21 atoms on a jittered 7×3 grid (aspirin's extent and composition), same formula as
/// `scripts/gen_painn_golden.py --bench`.
fn bench_molecule() -> Mol {
    let z = vec![
        6, 6, 6, 6, 6, 6, 6, 6, 6, 8, 8, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1,
    ];
    let mut pos = Vec::new();
    let mut k = 0;
    for a in 0..7 {
        for b in 0..3 {
            let jit = [0, 1, 2].map(|q| 0.1 * (1.7 * k as f64 + q as f64).sin());
            pos.push([1.4 * a as f64 + jit[0], 1.4 * b as f64 + jit[1], jit[2]]);
            k += 1;
        }
    }
    (z, pos)
}

/// Timing of one energy+forces call, MD17 preset, f32, 8 × 21 atoms. Indicative only; run
/// with `cargo test --release -p chemlm-ff --test painn -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_preset_energy_and_forces() {
    let cfg = PaiNNConfig::md17();
    let model = PaiNN::new(&cfg, &VarMap::new(), DType::F32, &Device::Cpu, 0).unwrap();
    let batch = batch_of(&vec![bench_molecule(); 8], cfg.cutoff);
    let mut times = Vec::new();
    for _ in 0..30 {
        let t0 = std::time::Instant::now();
        let (input, var) = AtomsInput::new(&batch, DType::F32, &Device::Cpu, true).unwrap();
        let ef = energy_and_forces(&model, &input, &var.unwrap(), false, false).unwrap();
        let _: f32 = ef.forces.sum_all().unwrap().to_scalar().unwrap();
        times.push(t0.elapsed().as_secs_f64());
    }
    let mut fwd = Vec::new();
    for _ in 0..30 {
        let t0 = std::time::Instant::now();
        let (input, _) = AtomsInput::new(&batch, DType::F32, &Device::Cpu, false).unwrap();
        let _: f32 = model
            .energies(&input, false)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        fwd.push(t0.elapsed().as_secs_f64());
    }
    let stats = |v: &[f64]| {
        let mut t = v[5..].to_vec();
        t.sort_by(f64::total_cmp);
        (1e3 * t[t.len() / 2], 1e3 * t[0])
    };
    let (med, min) = stats(&times);
    let (fmed, fmin) = stats(&fwd);
    println!(
        "chemlm PaiNN, 8 x 21 atoms, {} edges: energy+forces median {med:.2} ms (min {min:.2}); \
         energy only median {fmed:.2} ms (min {fmin:.2})",
        batch.n_edges(),
    );
}
