//! Training, evaluation and inference on a synthetic data set made by a known pair potential,
//! with a small learnable pair potential as the model (the real architectures have their own
//! tests; this one checks the loop, the split, the energy fit, resume and the metrics).

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Init, VarMap};
use chemlm_atoms::md::Calculator;
use chemlm_atoms::Structure;
use chemlm_ff::train::metrics::{read_records, METRICS_FILE};
use chemlm_ff::train::{
    evaluate, fit_energy_scale, predict, split_indices, train_potential, EpochRecord, FfDataset,
    FfMetrics, FfTrainConfig, ModelCalculator, Prediction, ScaleMode, SplitIndices, StopReason,
    TrainDtype, TrainOptions,
};
use chemlm_ff::{AtomsInput, EnergyScale, FfResult, Potential};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

const CUTOFF: f64 = 5.0;
/// Elements of the synthetic set and their slots in the pair table.
const ELEMENTS: [u8; 3] = [1, 6, 8];
const BETAS: [f64; 2] = [1.0, 2.0];
/// Per-element reference energies of the truth, eV.
const E_REF: [f64; 3] = [-13.6, -1029.5, -2041.3];

fn slot(z: u8) -> usize {
    ELEMENTS.iter().position(|&e| e == z).expect("element")
}

/// Truth pair coefficients w*[a][b][k] (symmetric).
fn truth_w(a: usize, b: usize, k: usize) -> f64 {
    let (a, b) = (a.min(b), a.max(b));
    [
        [[2.0, -1.0], [1.5, -0.5], [1.0, 0.3]],
        [[0.0; 2], [3.0, -2.0], [2.2, -1.1]],
        [[0.0; 2], [0.0; 2], [4.0, -2.5]],
    ][a][b][k]
}

/// Energy and forces of the truth: Σ_{i<j} Σ_k w*_k exp(−β_k r) + Σ e_ref.
fn truth(numbers: &[u8], pos: &[[f64; 3]]) -> (f64, Vec<[f64; 3]>) {
    let n = numbers.len();
    let mut e: f64 = numbers.iter().map(|&z| E_REF[slot(z)]).sum();
    let mut f = vec![[0.0; 3]; n];
    for i in 0..n {
        for j in i + 1..n {
            let d = [0, 1, 2].map(|c| pos[j][c] - pos[i][c]);
            let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            let (a, b) = (slot(numbers[i]), slot(numbers[j]));
            let mut de_dr = 0.0;
            for (k, beta) in BETAS.iter().enumerate() {
                let t = truth_w(a, b, k) * (-beta * r).exp();
                e += t;
                de_dr -= beta * t;
            }
            for c in 0..3 {
                // ∂r/∂x_j = d/r; F = −∂E/∂x.
                f[j][c] -= de_dr * d[c] / r;
                f[i][c] += de_dr * d[c] / r;
            }
        }
    }
    (e, f)
}

/// `n` random molecules of 3–6 atoms of H, C, O in a 2.5 Å box (all pairs within the cutoff),
/// no two atoms closer than 0.9 Å, labelled by the truth.
fn synthetic(n: usize, seed: u64) -> Vec<Structure> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let n_atoms = rng.gen_range(3..=6);
            let numbers: Vec<u8> = (0..n_atoms)
                .map(|_| ELEMENTS[rng.gen_range(0..3)])
                .collect();
            let mut pos: Vec<[f64; 3]> = Vec::new();
            while pos.len() < n_atoms {
                let p = [0; 3].map(|_| rng.gen_range(0.0..2.5));
                let ok = pos
                    .iter()
                    .all(|q: &[f64; 3]| (0..3).map(|c| (p[c] - q[c]).powi(2)).sum::<f64>() > 0.81);
                if ok {
                    pos.push(p);
                }
            }
            let (e, f) = truth(&numbers, &pos);
            let mut s = Structure::new(numbers, pos).unwrap();
            s.energy = Some(e);
            s.forces = Some(f);
            s
        })
        .collect()
}

/// The learnable model: y_a = ½ Σ_{edges i=a} Σ_k w[slot(Z_i), slot(Z_j), k] exp(−β_k r_ij),
/// plus a learnable per-element bias b[slot(Z_a)] (as a network's output bias);
/// E = Σ_a (σ y_a + μ + e_ref[Z_a]).
struct PairPotential {
    varmap: VarMap,
    w: Tensor,
    bias: Tensor,
    scale: EnergyScale,
}

impl PairPotential {
    fn new(dtype: DType, seed: u64) -> PairPotential {
        let varmap = VarMap::new();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let init: Vec<f64> = (0..9 * BETAS.len())
            .map(|_| rng.gen_range(-0.1..0.1))
            .collect();
        let t = Tensor::from_vec(init, (9, BETAS.len()), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let w = varmap
            .get(
                (9, BETAS.len()),
                "pair.weight",
                Init::Const(0.0),
                dtype,
                &Device::Cpu,
            )
            .unwrap();
        varmap.data().lock().unwrap()["pair.weight"]
            .set(&t)
            .unwrap();
        let bias = varmap
            .get(3, "element.bias", Init::Const(0.0), dtype, &Device::Cpu)
            .unwrap();
        PairPotential {
            varmap,
            w,
            bias,
            scale: EnergyScale::default(),
        }
    }
}

impl Potential for PairPotential {
    fn model_type(&self) -> &'static str {
        "test-pair"
    }
    fn cutoff(&self) -> f64 {
        CUTOFF
    }
    fn energies(&self, input: &AtomsInput, _train: bool) -> FfResult<Tensor> {
        let ii: Vec<u32> = input.idx_i.to_vec1()?;
        let jj: Vec<u32> = input.idx_j.to_vec1()?;
        let z = &input.numbers_host;
        let pair: Vec<u32> = ii
            .iter()
            .zip(&jj)
            .map(|(&i, &j)| (slot(z[i as usize]) * 3 + slot(z[j as usize])) as u32)
            .collect();
        let n_edges = pair.len();
        let pair = Tensor::from_vec(pair, n_edges, self.w.device())?;
        let r = chemlm_ff::blocks::norms(&input.edge_vectors()?)?;
        let basis = Tensor::cat(
            &BETAS
                .iter()
                .map(|b| (&r * -b)?.exp()?.unsqueeze(1))
                .collect::<candle_core::Result<Vec<_>>>()?,
            1,
        )?;
        let term = (self.w.index_select(&pair, 0)? * basis)?.sum(1)?;
        let slots: Vec<u32> = z.iter().map(|&z| slot(z) as u32).collect();
        let slots = Tensor::from_vec(slots, z.len(), self.w.device())?;
        let y = (input.sum_to_centres(&(term * 0.5)?)? + self.bias.index_select(&slots, 0)?)?;
        self.scale.energies(&y, input)
    }
    fn varmap(&self) -> &VarMap {
        &self.varmap
    }
    fn energy_scale(&self) -> &EnergyScale {
        &self.scale
    }
    fn set_energy_scale(&mut self, scale: EnergyScale) {
        self.scale = scale;
    }
    fn save(&self, dir: &Path) -> FfResult<()> {
        let config = serde_json::json!({"model_type": "test-pair", "energy_scale": self.scale});
        chemlm_ff::io::save_model(dir, &config, &self.varmap)
    }
}

fn config(max_epochs: usize) -> FfTrainConfig {
    FfTrainConfig {
        lr: 0.05,
        batch_size: 4,
        max_epochs,
        split: vec![32, 8],
        early_stop_patience: None,
        ..FfTrainConfig::default()
    }
}

fn quiet(out: &Path) -> TrainOptions {
    TrainOptions {
        quiet: true,
        ..TrainOptions::new(out)
    }
}

#[test]
fn loss_decreases_and_run_files_are_written() {
    let data = FfDataset::new(synthetic(44, 1), CUTOFF).unwrap();
    let n_epochs = 15;
    let cfg = FfTrainConfig {
        lr: 0.3,
        ..config(n_epochs)
    };
    let split = split_indices(data.len(), &cfg.split, cfg.seed).unwrap();
    assert_eq!(split.test.len(), 4);
    let mut model = PairPotential::new(DType::F32, 7);
    let dir = tempfile::tempdir().unwrap();
    let mut batches = 0;
    let report = train_potential(
        &mut model,
        &data,
        &split,
        &cfg,
        &quiet(dir.path()),
        &mut |e| {
            if let chemlm_ff::train::TrainEvent::Batch { .. } = e {
                batches += 1;
            }
        },
    )
    .unwrap();
    assert_eq!(batches, n_epochs * 8);
    assert_eq!(report.stop, StopReason::MaxEpochs);
    let recs = read_records(&dir.path().join(METRICS_FILE)).unwrap();
    assert_eq!(recs.len(), n_epochs);
    let (first, last) = (&recs[0], &recs[n_epochs - 1]);
    // Thresholds with margin: the model can represent the truth exactly (linear in its weights).
    assert!(
        last.valid_loss < 0.15 * first.valid_loss && last.train_loss < 0.1 * first.train_loss,
        "{first:?}\n{last:?}"
    );
    assert!(last.valid_force_mae_mev_a < 0.4 * first.valid_force_mae_mev_a);
    assert_eq!(last.step, 8 * n_epochs as u64);
    for f in [
        "split.json",
        "energy_fit.json",
        "best/config.json",
        "best/model.safetensors",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    assert!(report.plot.is_some_and(|p| p.exists()));
    // The best model reloads with the recorded validation loss.
    let best = PairPotential::new(DType::F32, 99);
    chemlm_ff::io::load_weights(&dir.path().join("best"), best.varmap(), &Device::Cpu).unwrap();
    let mut best = best;
    best.set_energy_scale(model.energy_scale().clone());
    let valid: Vec<Structure> = split
        .valid
        .iter()
        .map(|&i| data.structure(i).clone())
        .collect();
    let m = evaluate(&best, &valid, 3, DType::F32, &Device::Cpu).unwrap();
    let loss = 0.05 * m.energy.as_ref().unwrap().rmse_ev.powi(2)
        + 0.95 * m.forces.as_ref().unwrap().rmse_ev_a.powi(2);
    let best_rec = recs.iter().find(|r| r.epoch == report.best_epoch).unwrap();
    assert!(
        ((loss - best_rec.valid_loss) / loss).abs() < 1e-4,
        "{loss} vs {best_rec:?}"
    );
}

fn weights(model: &PairPotential) -> Vec<f32> {
    model.varmap().data().lock().unwrap()["pair.weight"]
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn records(dir: &Path) -> Vec<EpochRecord> {
    read_records(&dir.join(METRICS_FILE))
        .unwrap()
        .iter()
        .map(EpochRecord::without_times)
        .collect()
}

/// 2 epochs + resume for 2 more = 4 epochs straight, bit for bit (EMA, clipping and plateau
/// reductions on, so all resumable state is exercised).
#[test]
fn resume_is_bit_exact() {
    let data = FfDataset::new(synthetic(30, 2), CUTOFF).unwrap();
    let mut cfg = FfTrainConfig {
        ema_decay: Some(0.9),
        grad_clip: Some(1.0),
        plateau_patience: 0,
        plateau_threshold: 0.5,
        split: vec![22, 8],
        ..config(4)
    };
    let split = split_indices(data.len(), &cfg.split, 3).unwrap();
    let straight = tempfile::tempdir().unwrap();
    let mut a = PairPotential::new(DType::F32, 5);
    train_potential(
        &mut a,
        &data,
        &split,
        &cfg,
        &quiet(straight.path()),
        &mut |_| {},
    )
    .unwrap();

    let parts = tempfile::tempdir().unwrap();
    cfg.max_epochs = 2;
    let mut b = PairPotential::new(DType::F32, 5);
    train_potential(
        &mut b,
        &data,
        &split,
        &cfg,
        &quiet(parts.path()),
        &mut |_| {},
    )
    .unwrap();
    cfg.max_epochs = 4;
    // A fresh process would rebuild the model from the checkpoint: other initial weights and no
    // energy scale here, both must come from the checkpoint.
    let mut c = PairPotential::new(DType::F32, 6);
    let opts = TrainOptions {
        resume: true,
        ..quiet(parts.path())
    };
    let report = train_potential(&mut c, &data, &split, &cfg, &opts, &mut |_| {}).unwrap();
    assert_eq!(report.epochs.len(), 2);

    let (ra, rc) = (records(straight.path()), records(parts.path()));
    assert_eq!(ra.len(), 4);
    assert!(ra.iter().any(|r| r.lr < cfg.lr), "the plateau never fired");
    for (x, y) in ra.iter().zip(&rc) {
        assert_eq!(
            x.train_loss.to_bits(),
            y.train_loss.to_bits(),
            "{x:?}\n{y:?}"
        );
        assert_eq!(
            x.valid_loss.to_bits(),
            y.valid_loss.to_bits(),
            "{x:?}\n{y:?}"
        );
    }
    assert_eq!(ra, rc);
    assert_eq!(weights(&a), weights(&c));
    let best = |d: &Path| std::fs::read(d.join("best/model.safetensors")).unwrap();
    assert_eq!(best(straight.path()), best(parts.path()));
    // Resuming a run that already reached max_epochs does nothing.
    let report = train_potential(&mut c, &data, &split, &cfg, &opts, &mut |_| {}).unwrap();
    assert!(report.epochs.is_empty());
    // A fresh start into a directory with checkpoints is refused.
    let mut d = PairPotential::new(DType::F32, 5);
    assert!(train_potential(
        &mut d,
        &data,
        &split,
        &cfg,
        &quiet(parts.path()),
        &mut |_| {}
    )
    .is_err());
}

#[test]
fn split_is_deterministic_and_saved() {
    let a = split_indices(100, &[80, 10, 10], 42).unwrap();
    assert_eq!(a, split_indices(100, &[80, 10, 10], 42).unwrap());
    assert_ne!(a, split_indices(100, &[80, 10, 10], 43).unwrap());
    let mut all: Vec<usize> = a
        .train
        .iter()
        .chain(&a.valid)
        .chain(&a.test)
        .copied()
        .collect();
    all.sort();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!((a.train.len(), a.valid.len(), a.test.len()), (80, 10, 10));
    assert!(a.train.windows(2).all(|w| w[0] < w[1]));
    // Two sizes: the rest is the test set; a prefix of the permutation is shared.
    let b = split_indices(100, &[80, 10], 42).unwrap();
    assert_eq!(b.test.len(), 10);
    assert_eq!(a.train, b.train);
    let partial = split_indices(100, &[50, 10, 5], 42).unwrap();
    assert_eq!(partial.test.len(), 5);
    assert!(split_indices(100, &[95, 10], 42).is_err());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("split.json");
    a.save(&p).unwrap();
    assert_eq!(SplitIndices::load(&p).unwrap(), a);
    assert!(a.check(99).is_err());
    assert_eq!(a.part("test").unwrap(), &a.test[..]);
    assert!(a.part("dev").is_err());
}

/// Several compositions: least squares recovers the per-element energies.
#[test]
fn energy_reference_recovers_known_elements() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let s: Vec<Structure> = (0..60)
        .map(|_| {
            let n = rng.gen_range(2..10);
            let numbers: Vec<u8> = (0..n).map(|_| ELEMENTS[rng.gen_range(0..3)]).collect();
            let e: f64 =
                numbers.iter().map(|&z| E_REF[slot(z)]).sum::<f64>() + rng.gen_range(-0.01..0.01);
            let pos = (0..n).map(|i| [i as f64, 0.0, 0.0]).collect();
            let mut s = Structure::new(numbers, pos).unwrap();
            s.energy = Some(e);
            s
        })
        .collect();
    let refs: Vec<&Structure> = s.iter().collect();
    let fit = fit_energy_scale(&refs, ScaleMode::PerAtomEnergyStd).unwrap();
    assert_eq!(fit.rank, 3);
    assert_eq!(fit.elements, ELEMENTS.to_vec());
    for (z, e) in ELEMENTS.iter().zip(E_REF) {
        assert!(
            (fit.scale.atomref[*z as usize] - e).abs() < 5e-3,
            "{z}: {}",
            fit.scale.atomref[*z as usize]
        );
    }
    assert!(fit.scale.mean.abs() < 1e-3);
    assert!(fit.scale.std > 0.0 && fit.scale.std < 0.01);
    assert_eq!(fit.scale.atomref[7], 0.0);
}

#[test]
fn metrics_match_hand_computation() {
    let mut s1 = Structure::new(vec![1, 8], vec![[0.0; 3], [1.0, 0.0, 0.0]]).unwrap();
    s1.energy = Some(-10.0);
    s1.forces = Some(vec![[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]);
    let mut s2 = Structure::new(vec![1], vec![[0.0; 3]]).unwrap();
    s2.energy = Some(-1.0);
    s2.forces = Some(vec![[0.0, 0.0, 0.0]]);
    let preds = vec![
        Prediction {
            energy: -10.2, // error −0.2 eV, −0.1 eV/atom
            forces: vec![[1.1, 0.0, 0.0], [-1.0, 0.3, 0.0]],
        },
        Prediction {
            energy: -0.9, // error +0.1 eV
            forces: vec![[0.0, 0.0, -0.2]],
        },
    ];
    let m = FfMetrics::from_predictions(&[&s1, &s2], &preds).unwrap();
    let e = m.energy.as_ref().unwrap();
    assert!((e.mae_ev - 0.15).abs() < 1e-12);
    assert!((e.rmse_ev - (0.05f64 / 2.0).sqrt()).abs() < 1e-12);
    assert!((e.mae_mev - 150.0).abs() < 1e-9);
    assert!((e.mae_kcal_mol - 0.15 / chemlm_atoms::units::KCAL_PER_MOL).abs() < 1e-9);
    assert!((e.mae_per_atom_mev - 100.0).abs() < 1e-9);
    let f = m.forces.as_ref().unwrap();
    // Component errors: 0.1, 0, 0, 0, 0.3, 0, 0, 0, −0.2 over 9 components.
    assert!((f.mae_ev_a - 0.6 / 9.0).abs() < 1e-12);
    assert!((f.rmse_ev_a - (0.14f64 / 9.0).sqrt()).abs() < 1e-12);
    assert_eq!(f.per_element.len(), 2);
    let h = &f.per_element[0];
    assert_eq!((h.z, h.symbol.as_str(), h.n_atoms), (1, "H", 2));
    assert!((h.mae_mev_a - 300.0 / 6.0).abs() < 1e-9);
    let o = &f.per_element[1];
    assert!((o.mae_mev_a - 100.0).abs() < 1e-9);
    let table = m.to_markdown();
    assert!(table.contains("| energy | 150.000 |"), "{table}");
    assert!(table.contains("forces on O"), "{table}");
    let json = serde_json::to_string(&m).unwrap();
    let back: FfMetrics = serde_json::from_str(&json).unwrap();
    assert_eq!(back.forces.unwrap().per_element.len(), 2);
}

/// `predict` fills labels equal to the calculator's, and the forces are −∂E/∂R (central
/// differences, f64).
#[test]
fn predict_and_calculator_agree_with_finite_differences() {
    let mut frames = synthetic(5, 4);
    for s in &mut frames {
        s.energy = None;
        s.forces = None;
    }
    let model = PairPotential::new(DType::F64, 11);
    predict(&model, &mut frames, 2, DType::F64, &Device::Cpu).unwrap();
    let mut calc = ModelCalculator::new(
        Box::new(PairPotential::new(DType::F64, 11)),
        DType::F64,
        Device::Cpu,
    );
    for s in &frames {
        let (e, f) = calc.compute(s).unwrap();
        assert_eq!(e, s.energy.unwrap());
        assert_eq!(&f, s.forces.as_ref().unwrap());
        let h = 1e-5;
        for (a, c) in [(0, 0), (1, 2), (2, 1)] {
            let mut p = s.clone();
            p.positions[a][c] += h;
            let ep = calc.compute(&p).unwrap().0;
            p.positions[a][c] -= 2.0 * h;
            let em = calc.compute(&p).unwrap().0;
            let fd = -(ep - em) / (2.0 * h);
            assert!((fd - f[a][c]).abs() < 1e-7, "{fd} vs {}", f[a][c]);
        }
    }
}

#[test]
fn training_requires_labels_and_matching_dtype() {
    let mut frames = synthetic(12, 5);
    frames[3].forces = None;
    let data = FfDataset::new(frames, CUTOFF).unwrap();
    let cfg = FfTrainConfig {
        split: vec![8, 4],
        ..config(1)
    };
    let split = split_indices(data.len(), &cfg.split, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut m = PairPotential::new(DType::F32, 1);
    let err =
        train_potential(&mut m, &data, &split, &cfg, &quiet(dir.path()), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("frame 3"), "{err}");
    let data = FfDataset::new(synthetic(12, 5), CUTOFF).unwrap();
    let f64_cfg = FfTrainConfig {
        dtype: TrainDtype::F64,
        ..cfg
    };
    let err = train_potential(
        &mut m,
        &data,
        &split,
        &f64_cfg,
        &quiet(dir.path()),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("dtype") || err.to_string().contains("F64"),
        "{err}"
    );
}

/// Force weight 0 trains on energies alone (QM9-style data without forces): frames without
/// forces are accepted, the validation loss falls, the force terms are zero.
#[test]
fn energy_only_training_needs_no_forces() {
    let mut frames = synthetic(40, 9);
    for f in frames.iter_mut() {
        f.forces = None;
    }
    let data = FfDataset::new(frames, CUTOFF).unwrap();
    let cfg = FfTrainConfig {
        lr: 0.1,
        energy_weight: 1.0,
        force_weight: 0.0,
        scale_mode: chemlm_ff::train::ScaleMode::PerAtomEnergyStd,
        ..config(12)
    };
    let split = split_indices(data.len(), &cfg.split, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut m = PairPotential::new(DType::F32, 2);
    train_potential(&mut m, &data, &split, &cfg, &quiet(dir.path()), &mut |_| {}).unwrap();
    let recs = records(dir.path());
    assert_eq!(recs.len(), 12);
    assert!(recs
        .iter()
        .all(|r| r.train_force_mse == 0.0 && r.valid_force_mse == 0.0));
    let (first, best) = (
        recs[0].valid_loss,
        recs.iter()
            .map(|r| r.valid_loss)
            .fold(f64::INFINITY, f64::min),
    );
    assert!(best < 0.5 * first, "valid loss {first} → {best}");
    // With a force weight the same frames are refused.
    let cfg = FfTrainConfig {
        force_weight: 0.5,
        ..cfg
    };
    let dir = tempfile::tempdir().unwrap();
    let err =
        train_potential(&mut m, &data, &split, &cfg, &quiet(dir.path()), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("forces"), "{err}");
}

/// Force-training needs the second-order machinery: a direct call without `second_order::run`
/// is refused, the trainer provides it.
#[test]
fn force_loss_gradients_reach_the_weights() {
    let data = FfDataset::new(synthetic(4, 6), CUTOFF).unwrap();
    let model = PairPotential::new(DType::F64, 3);
    let batch = data.batch(&[0, 1]).unwrap();
    let out = chemlm_ff::second_order::run(|| -> FfResult<f64> {
        let (input, pos) = AtomsInput::new(&batch, DType::F64, &Device::Cpu, true)?;
        let ef = chemlm_ff::energy_and_forces(&model, &input, &pos.unwrap(), true, true)?;
        let loss = ef.forces.sqr()?.sum_all()?;
        let g = loss.backward()?;
        let var: Var = model.varmap().data().lock().unwrap()["pair.weight"].clone();
        Ok(g.get(var.as_tensor())
            .unwrap()
            .abs()?
            .sum_all()?
            .to_scalar::<f64>()?)
    })
    .unwrap()
    .unwrap();
    assert!(out > 0.0);
}
