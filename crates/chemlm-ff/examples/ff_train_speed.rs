//! Wall time of force-field training and inference with the paper-size presets on MD17
//! aspirin: `cargo run --release -p chemlm-ff --example ff_train_speed -- schnet|painn
//! [N_TRAIN] [EPOCHS]` with `CHEMLM_DATA_DIR` set. Prints seconds per epoch (train + validation
//! on N_TRAIN/8 frames) and per predicted structure.

use candle_core::{DType, Device};
use candle_nn::VarMap;
use chemlm_atoms::io::ReadOptions;
use chemlm_ff::models::painn::{PaiNN, PaiNNConfig};
use chemlm_ff::models::schnet::{SchNet, SchNetConfig};
use chemlm_ff::train::{
    load_frames, predict_structures, split_indices, train_potential, FfDataset, FfTrainConfig,
    TrainEvent, TrainOptions,
};
use chemlm_ff::Potential;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arch = args.get(1).map(String::as_str).unwrap_or("schnet");
    let n_train: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(80);
    let epochs: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let n_valid = (n_train / 8).max(1);
    let data_dir = std::env::var_os("CHEMLM_DATA_DIR").ok_or("set CHEMLM_DATA_DIR")?;
    let path = PathBuf::from(data_dir).join("forcefield/aspirin_ccsd-train.npz");
    let frames = load_frames(
        &[path],
        &ReadOptions::default().with_limit(n_train + n_valid),
    )?;
    let dev = Device::Cpu;
    let mut model: Box<dyn Potential> = match arch {
        "painn" => Box::new(PaiNN::new(
            &PaiNNConfig::md17(),
            &VarMap::new(),
            DType::F32,
            &dev,
            0,
        )?),
        _ => Box::new(SchNet::new(
            SchNetConfig::preset()?,
            &VarMap::new(),
            DType::F32,
            &dev,
            0,
        )?),
    };
    let data = FfDataset::new(frames.structures, model.cutoff())?;
    let cfg = FfTrainConfig {
        max_epochs: epochs,
        split: vec![n_train, n_valid],
        ..FfTrainConfig::nff_preset()?
    };
    let split = split_indices(data.len(), &cfg.split, 0)?;
    let out = tempfile::tempdir()?;
    let opts = TrainOptions {
        quiet: true,
        plot: false,
        ..TrainOptions::new(out.path())
    };
    let report = train_potential(&mut *model, &data, &split, &cfg, &opts, &mut |e| {
        if let TrainEvent::Epoch(r) = e {
            println!(
                "{arch} epoch {}: {:.2} s ({:.1} ms/step), train loss {:.4}, valid loss {:.4}, \
                 F MAE {:.1} meV/Å",
                r.epoch,
                r.epoch_time_s,
                1e3 * r.epoch_time_s / n_train.div_ceil(cfg.batch_size) as f64,
                r.train_loss,
                r.valid_loss,
                r.valid_force_mae_mev_a
            );
        }
    })?;
    println!("stop: {:?}", report.stop);
    let refs: Vec<_> = data.structures().iter().take(32).collect();
    for bs in [1usize, 2, 4, 8, 16, 32] {
        let t = Instant::now();
        predict_structures(&*model, &refs, bs, DType::F32, &dev)?;
        let with_forces = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for chunk in refs.chunks(bs) {
            let batch = chemlm_atoms::GraphBatch::from_structures(chunk, model.cutoff())?;
            let (input, _) = chemlm_ff::AtomsInput::new(&batch, DType::F32, &dev, false)?;
            model.energies(&input, false)?;
        }
        let energy_only = t.elapsed().as_secs_f64();
        println!(
            "predict batch {bs:2}: {:.2} ms per structure with forces, {:.2} ms energy only",
            1e3 * with_forces / refs.len() as f64,
            1e3 * energy_only / refs.len() as f64
        );
    }
    step_breakdown(&*model, &data)?;
    Ok(())
}

/// Where one training step's time goes (batch 8): forward, force backward with the graph kept,
/// loss backward to the weights, Adam.
fn step_breakdown(
    model: &dyn Potential,
    data: &FfDataset,
) -> Result<(), Box<dyn std::error::Error>> {
    use chemlm_train::optim::{AdamW, AdamWConfig, DecayRule, Optimizer, ParamSet};
    let dev = Device::Cpu;
    let params = ParamSet::from_varmap(model.varmap(), &DecayRule::default());
    let mut opt = AdamW::new(AdamWConfig::default(), params.len());
    let idx: Vec<usize> = (0..8).collect();
    chemlm_ff::second_order::run(|| -> Result<(), chemlm_ff::FfError> {
        for rep in 0..3 {
            let t0 = Instant::now();
            let batch = data.batch(&idx)?;
            let (input, pos) = chemlm_ff::AtomsInput::new(&batch, DType::F32, &dev, true)?;
            let pos = pos.expect("tracked");
            let t1 = Instant::now();
            let e = model.energies(&input, true)?;
            let t2 = Instant::now();
            let g = e.sum_all()?.backward()?;
            let f = g.get(pos.as_tensor()).expect("force").neg()?;
            let t3 = Instant::now();
            let loss = ((e.sqr()?.mean_all()? * 0.05)? + (f.sqr()?.mean_all()? * 0.95)?)?;
            let store = loss.backward()?;
            let t4 = Instant::now();
            let grads = params.grads(&store);
            opt.step(&params, &grads, 1e-9)?;
            let t5 = Instant::now();
            let ms = |a: Instant, b: Instant| 1e3 * (b - a).as_secs_f64();
            println!(
                "step {rep}: batch {:.1} ms, forward {:.1} ms, force backward {:.1} ms, \
                 loss backward {:.1} ms, adam {:.1} ms",
                ms(t0, t1),
                ms(t1, t2),
                ms(t2, t3),
                ms(t3, t4),
                ms(t4, t5)
            );
        }
        Ok(())
    })??;
    Ok(())
}
