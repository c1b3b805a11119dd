//! Allegro: parity with nequip-allegro 0.8.3 (golden files of scripts/gen_allegro_golden.py:
//! l_max 1–3, 2–3 layers, with and without parity and channel coupling, trainable Bessel
//! roots), forces against finite differences, rotation/translation/permutation symmetry, the
//! force-loss gradient with respect to weights (gradients of gradients), save/load, the preset.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use chemlm_atoms::GraphBatch;
use chemlm_ff::models::allegro::{Allegro, AllegroConfig};
use chemlm_ff::{energy_and_forces, second_order, AtomsInput, EnergyScale, Potential};
use std::path::PathBuf;

mod common;
use common::{apply, batch_of, ethanol, rotation, water, Mol};

fn golden_dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/allegro")
        .join(case)
}

fn small_config(l_max: usize, layers: usize) -> AllegroConfig {
    let text = format!(
        r#"
model_type = "allegro"
type_names = ["H", "C", "N", "O"]
r_max = 4.0
l_max = {l_max}
num_bessels = 6
bessel_trainable = true
radial_chemical_embed_dim = 8
scalar_embed_mlp_hidden_layers_width = 12
num_layers = {layers}
num_scalar_features = 8
num_tensor_features = 3
allegro_mlp_hidden_layers_width = 12
readout_mlp_hidden_layers_width = 6
avg_num_neighbors = 4.0
per_type_energy_scales = [0.8, 1.2, 1.0, 1.1]
"#
    );
    AllegroConfig::from_toml_str(&text, "test").expect("config")
}

fn model(cfg: &AllegroConfig, seed: u64) -> Allegro {
    let mut m = Allegro::new(cfg, &VarMap::new(), DType::F64, &Device::Cpu, seed).expect("model");
    let mut scale = EnergyScale::default();
    scale.atomref[1] = -13.6;
    scale.atomref[6] = -1029.0;
    scale.atomref[8] = -2041.0;
    scale.mean = 0.1;
    scale.std = 0.7;
    m.set_energy_scale(scale);
    m
}

fn eval(model: &dyn Potential, batch: &GraphBatch) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (input, var) = AtomsInput::new(batch, DType::F64, &Device::Cpu, true).expect("input");
    let var = var.expect("positions var");
    let ef = energy_and_forces(model, &input, &var, false, false).expect("forward");
    (
        ef.energies.to_vec1().expect("e"),
        ef.forces.to_vec2().expect("f"),
    )
}

fn parity(case: &str) {
    let dir = golden_dir(case);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let cfg = AllegroConfig::from_json(&config, case).unwrap();
    let scale: EnergyScale = serde_json::from_value(config["energy_scale"].clone()).unwrap();
    let m = Allegro::from_nequip(
        &cfg,
        &scale,
        &dir.join("model.safetensors"),
        DType::F64,
        &Device::Cpu,
    )
    .unwrap();
    let n_params = chemlm_ff::models::n_params(&m);
    assert_eq!(
        n_params as u64,
        expected["n_params"].as_u64().unwrap(),
        "{case}: parameters"
    );
    for (k, mol) in expected["molecules"].as_array().unwrap().iter().enumerate() {
        let z: Vec<u8> = mol["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        let pos: Vec<[f64; 3]> = mol["positions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let v: Vec<f64> = p
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect();
                [v[0], v[1], v[2]]
            })
            .collect();
        let (e, f) = eval(&m, &batch_of(&[(z, pos)], cfg.r_max));
        let want_e = expected["energies"][k].as_f64().unwrap();
        assert!(
            (e[0] - want_e).abs() < 1e-9,
            "{case} molecule {k}: energy {} vs nequip-allegro {want_e}",
            e[0]
        );
        let want_f = &expected["forces"][k];
        let mut max = 0f64;
        for (a, row) in f.iter().enumerate() {
            for c in 0..3 {
                let w = want_f[a][c].as_f64().unwrap();
                max = max.max((row[c] - w).abs());
            }
        }
        assert!(max < 1e-9, "{case} molecule {k}: forces differ by {max}");
    }
}

#[test]
fn parity_with_nequip_allegro_lmax2() {
    parity("lmax2");
}

#[test]
fn parity_with_nequip_allegro_three_layers_uncoupled_trainable_bessel() {
    parity("lmax2-3layers");
}

#[test]
fn parity_with_nequip_allegro_lmax1_without_parity() {
    parity("lmax1-noparity");
}

#[test]
fn parity_with_nequip_allegro_lmax3() {
    parity("lmax3");
}

#[test]
fn loader_rejects_mismatched_shifts() {
    let dir = golden_dir("lmax2");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let cfg = AllegroConfig::from_json(&config, "lmax2").unwrap();
    let e = Allegro::from_nequip(
        &cfg,
        &EnergyScale::default(),
        &dir.join("model.safetensors"),
        DType::F64,
        &Device::Cpu,
    )
    .expect_err("must fail")
    .to_string();
    assert!(e.contains("shifts"), "{e}");
}

#[test]
fn forces_are_central_differences_of_the_energy() {
    for l_max in [1, 2, 3] {
        let cfg = small_config(l_max, 2);
        let m = model(&cfg, 3);
        let batch = batch_of(&[water(), ethanol(1.2)], cfg.r_max);
        let (_, forces) = eval(&m, &batch);
        let energy_at = |b: &GraphBatch| -> f64 {
            let (input, _) = AtomsInput::new(b, DType::F64, &Device::Cpu, false).unwrap();
            m.energies(&input, false)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        let scale = forces.iter().flatten().fold(0f64, |a, x| a.max(x.abs()));
        assert!(scale > 1e-3, "forces too small to test: {scale}");
        let h = 1e-5;
        for (a, f_a) in forces.iter().enumerate() {
            for (k, &got) in f_a.iter().enumerate() {
                let mut plus = batch.clone();
                plus.positions[a][k] += h;
                let mut minus = batch.clone();
                minus.positions[a][k] -= h;
                let fd = -(energy_at(&plus) - energy_at(&minus)) / (2.0 * h);
                assert!(
                    (fd - got).abs() <= 1e-6 * scale,
                    "l_max {l_max} atom {a} axis {k}: autograd {got} vs fd {fd}"
                );
            }
        }
    }
}

/// Rotations, an inversion (O(3), not only SO(3): the parity track must keep energies even),
/// translations and permutations.
#[test]
fn energy_invariant_forces_equivariant() {
    for (l_max, layers) in [(1, 2), (2, 3), (3, 2)] {
        let cfg = small_config(l_max, layers);
        let m = model(&cfg, 5);
        let mols = vec![ethanol(1.1), water()];
        let (e0, f0) = eval(&m, &batch_of(&mols, cfg.r_max));
        let rot = rotation([0.3, -0.8, 0.45, 0.2]);
        for invert in [false, true] {
            let s = if invert { -1.0 } else { 1.0 };
            let shift = [1.7, -3.2, 0.9];
            let moved: Vec<Mol> = mols
                .iter()
                .map(|(z, p)| {
                    let zs: Vec<u8> = z.iter().rev().copied().collect();
                    let ps: Vec<[f64; 3]> = p
                        .iter()
                        .rev()
                        .map(|x| {
                            let r = apply(&rot, x);
                            [
                                s * r[0] + shift[0],
                                s * r[1] + shift[1],
                                s * r[2] + shift[2],
                            ]
                        })
                        .collect();
                    (zs, ps)
                })
                .collect();
            let (e1, f1) = eval(&m, &batch_of(&moved, cfg.r_max));
            for (a, b) in e0.iter().zip(&e1) {
                assert!(
                    (a - b).abs() < 1e-9,
                    "l_max {l_max} invert {invert}: {a} vs {b}"
                );
            }
            let mut first = 0;
            for (z, _) in &mols {
                let n = z.len();
                for a in 0..n {
                    let r = apply(
                        &rot,
                        &[f0[first + a][0], f0[first + a][1], f0[first + a][2]],
                    );
                    let got = &f1[first + n - 1 - a];
                    for k in 0..3 {
                        assert!(
                            (s * r[k] - got[k]).abs() < 1e-9,
                            "l_max {l_max} invert {invert} atom {a}: {r:?} vs {got:?}"
                        );
                    }
                }
                first += n;
            }
        }
    }
}

/// Force loss through `second_order::run`: ∂L/∂θ from autograd equals central differences in
/// weights of every block (embeddings, Bessel roots, MLPs, tensor-product weights).
#[test]
fn force_loss_gradient_matches_finite_differences() {
    let cfg = small_config(2, 2);
    let m = model(&cfg, 9);
    let batch = batch_of(&[water(), ethanol(1.0)], cfg.r_max);
    let n = batch.n_atoms();
    let target: Vec<f64> = (0..n * 3).map(|i| 0.3 * (i as f64 * 0.37).cos()).collect();
    let target = Tensor::from_vec(target, (n, 3), &Device::Cpu).unwrap();
    let loss = |create_graph: bool| -> candle_core::Result<(Tensor, Var)> {
        let (input, var) = AtomsInput::new(&batch, DType::F64, &Device::Cpu, true).unwrap();
        let var = var.unwrap();
        let ef = energy_and_forces(&m, &input, &var, true, create_graph).unwrap();
        let l = (ef.forces - &target)?.sqr()?.sum_all()?;
        Ok((l, var))
    };
    let probes: [(&str, usize); 8] = [
        ("radial_chemical_embed.bessel_encode.bessel_weights", 2),
        ("radial_chemical_embed.type_embed.center_embed.weight", 5),
        (
            "radial_chemical_embed.type_embed.basis_linear.mlp.0.weight",
            7,
        ),
        ("scalar_embed_mlp.mlp_module.mlp.2.weight", 11),
        ("tensor_embed.env_embed_linear.mlp.0.weight", 3),
        ("allegro.tps.0.weights", 4),
        ("allegro.latents.1.mlp.0.weight", 13),
        ("edge_readout.mlp_module.mlp.0.weight", 6),
    ];
    second_order::run(|| {
        let (l, _) = loss(true).unwrap();
        let grads = l.backward().unwrap();
        let data = m.varmap().data().lock().unwrap();
        for (name, flat) in probes {
            let var = data.get(name).unwrap_or_else(|| panic!("{name}"));
            let g: Vec<f64> = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"))
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let mut vals: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
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
            assert!(got.abs() > 1e-8, "{name}[{flat}]: gradient vanishes");
            assert!(
                (fd - got).abs() <= 1e-6 * got.abs().max(1e-2),
                "{name}[{flat}]: autograd {got} vs fd {fd}"
            );
        }
    })
    .expect("second-order run");
}

/// Training mode (composed tensor products) and inference mode (fused kernel) give the same
/// energies and forces.
#[test]
fn training_and_inference_paths_agree() {
    for l_max in [1, 2, 3] {
        let cfg = small_config(l_max, 3);
        let m = model(&cfg, 12);
        let batch = batch_of(&[water(), ethanol(1.1)], cfg.r_max);
        let run = |train: bool| {
            let (input, var) = AtomsInput::new(&batch, DType::F64, &Device::Cpu, true).unwrap();
            let ef = energy_and_forces(&m, &input, &var.unwrap(), train, false).unwrap();
            let e: Vec<f64> = ef.energies.to_vec1().unwrap();
            let f: Vec<f64> = ef.forces.flatten_all().unwrap().to_vec1().unwrap();
            (e, f)
        };
        let (a, b) = (run(true), run(false));
        for (x, y) in a.0.iter().zip(&b.0).chain(a.1.iter().zip(&b.1)) {
            assert!((x - y).abs() < 1e-10, "l_max {l_max}: {x} vs {y}");
        }
    }
}

#[test]
fn save_load_round_trip_is_exact() {
    let cfg = small_config(2, 2);
    let m = model(&cfg, 4);
    let dir = tempfile::tempdir().unwrap();
    m.save(dir.path()).unwrap();
    let back = Allegro::load(dir.path(), DType::F64, &Device::Cpu).unwrap();
    assert_eq!(back.energy_scale(), m.energy_scale());
    let batch = batch_of(&[water(), ethanol(1.0)], cfg.r_max);
    let (e0, f0) = eval(&m, &batch);
    let (e1, f1) = eval(&back, &batch);
    assert_eq!(e0, e1);
    assert_eq!(f0, f1);
    let other = model(&cfg, 8);
    assert_ne!(eval(&other, &batch).0, e0);
}

#[test]
fn unknown_element_is_named() {
    let cfg = small_config(1, 1);
    let m = model(&cfg, 1);
    let batch = batch_of(&[(vec![8, 16], vec![[0.0; 3], [0.0, 0.0, 1.5]])], cfg.r_max);
    let (input, _) = AtomsInput::new(&batch, DType::F64, &Device::Cpu, false).unwrap();
    let e = m.energies(&input, false).unwrap_err().to_string();
    assert!(e.contains("S (Z = 16)"), "{e}");
}

#[test]
fn preset_builds_with_the_published_sizes() {
    let cfg = AllegroConfig::preset();
    let m = Allegro::new(&cfg, &VarMap::new(), DType::F32, &Device::Cpu, 0).unwrap();
    assert_eq!(cfg.num_layers, 2);
    assert_eq!(cfg.l_max, 2);
    // 5 types × 32 × 2 embeddings, 8×64 basis, 64×64 + 64×64 scalar MLP, 64×48 env linear,
    // 64×(64+48) projection, latents (64+16)×64 + 64×(64+48) and (128+16)×64 + 64×64,
    // tensor products 16×11 and 16×3, readout 192×32 + 32×1.
    let expect = 5 * 32 * 2
        + 8 * 64
        + 64 * 64 * 2
        + 64 * 48
        + 64 * 112
        + (80 * 64 + 64 * 112)
        + (144 * 64 + 64 * 64)
        + 16 * 11
        + 16 * 3
        + 192 * 32
        + 32;
    assert_eq!(chemlm_ff::models::n_params(&m), expect);
    let batch = batch_of(&[ethanol(1.0)], cfg.r_max);
    let (input, _) = AtomsInput::new(&batch, DType::F32, &Device::Cpu, false).unwrap();
    let e: Vec<f64> = m.energies(&input, false).unwrap().to_vec1().unwrap();
    assert!(e[0].is_finite());
}
