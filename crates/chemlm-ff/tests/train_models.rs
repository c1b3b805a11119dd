//! The training loop with the real architectures on MD17 aspirin (CCSD) frames from
//! `CHEMLM_DATA_DIR`: loading, the energy fit of a single-composition set, a few epochs of tiny
//! SchNet and PaiNN, resume from the checkpoint's `config.json`, and the MD calculator. Skipped
//! (with a message) when the data directory is not set.

use candle_core::{DType, Device};
use candle_nn::VarMap;
use chemlm_atoms::io::ReadOptions;
use chemlm_atoms::md::Calculator;
use chemlm_ff::models::painn::{PaiNN, PaiNNConfig};
use chemlm_ff::models::schnet::{SchNet, SchNetConfig};
use chemlm_ff::train::{
    evaluate, fit_energy_scale, latest_checkpoint, load_frames, split_indices, train_potential,
    FfDataset, FfTrainConfig, ModelCalculator, ScaleMode, TrainOptions,
};
use chemlm_ff::Potential;
use std::path::PathBuf;

fn aspirin() -> Option<PathBuf> {
    let dir = std::env::var_os("CHEMLM_DATA_DIR")?;
    let p = PathBuf::from(dir).join("forcefield/aspirin_ccsd-train.npz");
    p.exists().then_some(p)
}

fn frames(n: usize) -> Option<Vec<chemlm_atoms::Structure>> {
    let Some(path) = aspirin() else {
        eprintln!("CHEMLM_DATA_DIR with forcefield/aspirin_ccsd-train.npz not set: skipped");
        return None;
    };
    let loaded = load_frames(&[path], &ReadOptions::default().with_limit(n)).unwrap();
    assert!(loaded.bad.is_empty(), "{:?}", loaded.bad);
    assert_eq!(loaded.structures.len(), n);
    Some(loaded.structures)
}

/// One composition (rank 1): the minimum-norm reference leaves μ ≈ 0 and σ the conformational
/// spread per atom.
#[test]
fn aspirin_energy_fit_is_sensible() {
    let Some(s) = frames(1000) else { return };
    let refs: Vec<&chemlm_atoms::Structure> = s.iter().collect();
    let fit = fit_energy_scale(&refs, ScaleMode::PerAtomEnergyStd).unwrap();
    eprintln!(
        "aspirin: elements {:?} rank {} μ {:.3e} eV σ {:.5} eV/atom force RMS {:.4} eV/Å",
        fit.elements,
        fit.rank,
        fit.scale.mean,
        fit.scale.std,
        fit.force_rms.unwrap()
    );
    assert_eq!(fit.elements, vec![1, 6, 8]);
    assert_eq!(fit.rank, 1);
    assert!(fit.scale.mean.abs() < 1e-6, "{}", fit.scale.mean);
    assert!(
        fit.scale.std > 1e-3 && fit.scale.std < 0.1,
        "{}",
        fit.scale.std
    );
    // The references reproduce the mean energy of the set.
    let c = [8.0, 9.0, 4.0]; // C9H8O4: 8 H, 9 C, 4 O
    let mean_e: f64 = s.iter().map(|x| x.energy.unwrap()).sum::<f64>() / s.len() as f64;
    let a = &fit.scale.atomref;
    assert!((c[0] * a[1] + c[1] * a[6] + c[2] * a[8] - mean_e).abs() < 1e-6 * mean_e.abs());
}

#[test]
fn tiny_schnet_and_painn_train_resume_and_run_md() {
    let Some(s) = frames(24) else { return };
    let dev = Device::Cpu;
    let cfg = FfTrainConfig {
        lr: 1e-3,
        batch_size: 4,
        max_epochs: 3,
        split: vec![16, 8],
        scale_mode: ScaleMode::ForceRms,
        ..FfTrainConfig::default()
    };
    let schnet_cfg = SchNetConfig {
        n_atom_basis: 16,
        n_filters: 16,
        n_interactions: 2,
        n_rbf: 8,
        ..SchNetConfig::preset().unwrap()
    };
    let painn_cfg = PaiNNConfig {
        n_atom_basis: 16,
        n_interactions: 2,
        n_rbf: 8,
        ..PaiNNConfig::md17()
    };
    let models: Vec<Box<dyn Potential>> = vec![
        Box::new(SchNet::new(schnet_cfg, &VarMap::new(), DType::F32, &dev, 1).unwrap()),
        Box::new(PaiNN::new(&painn_cfg, &VarMap::new(), DType::F32, &dev, 1).unwrap()),
    ];
    for mut model in models {
        let data = FfDataset::new(s.clone(), model.cutoff()).unwrap();
        let split = split_indices(data.len(), &cfg.split, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let opts = TrainOptions {
            quiet: true,
            ..TrainOptions::new(dir.path())
        };
        let r = train_potential(&mut *model, &data, &split, &cfg, &opts, &mut |_| {}).unwrap();
        let (first, last) = (&r.epochs[0], &r.epochs[2]);
        eprintln!(
            "{}: valid loss {:.4} → {:.4}, F MAE {:.1} → {:.1} meV/Å",
            model.model_type(),
            first.valid_loss,
            last.valid_loss,
            first.valid_force_mae_mev_a,
            last.valid_force_mae_mev_a
        );
        assert!(last.train_loss.is_finite() && last.valid_loss < first.valid_loss);

        // Resume as the CLI would: rebuild the model from the newest checkpoint's config.
        let ckpt = latest_checkpoint(dir.path()).unwrap().unwrap();
        let mut resumed: Box<dyn Potential> = match model.model_type() {
            "schnet" => Box::new(SchNet::load(&ckpt, DType::F32, &dev).unwrap()),
            _ => Box::new(PaiNN::load(&ckpt, DType::F32, &dev).unwrap()),
        };
        let more = FfTrainConfig {
            max_epochs: 4,
            ..cfg.clone()
        };
        let opts = TrainOptions {
            resume: true,
            ..opts
        };
        let r2 = train_potential(&mut *resumed, &data, &split, &more, &opts, &mut |_| {}).unwrap();
        assert_eq!(r2.epochs.len(), 1);
        assert_eq!(r2.epochs[0].epoch, 4);

        // The best model evaluates and drives the calculator.
        let best: Box<dyn Potential> = match model.model_type() {
            "schnet" => Box::new(SchNet::load(&dir.path().join("best"), DType::F32, &dev).unwrap()),
            _ => Box::new(PaiNN::load(&dir.path().join("best"), DType::F32, &dev).unwrap()),
        };
        let valid: Vec<_> = split.valid.iter().map(|&i| s[i].clone()).collect();
        let m = evaluate(&*best, &valid, 8, DType::F32, &dev).unwrap();
        assert!(m.forces.unwrap().mae_mev_a.is_finite());
        let mut calc = ModelCalculator::new(best, DType::F32, dev.clone());
        let (e, f) = calc.compute(&s[0]).unwrap();
        assert!(e.is_finite() && f.len() == 21);
    }
}
