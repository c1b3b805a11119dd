//! Where an Allegro energy+force call spends its time on one aspirin frame (development aid):
//! `cargo run --release -p chemlm-ff --example allegro_profile -- ../shared/data/forcefield/aspirin_ccsd-train.npz`
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use chemlm_atoms::io::{read_structures, ReadOptions};
use chemlm_atoms::{neighbor_list, GraphBatch};
use chemlm_ff::models::allegro::{Allegro, AllegroConfig};
use chemlm_ff::o3::{Irreps, StridedTensorProduct};
use chemlm_ff::{energy_and_forces, AtomsInput, Potential};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("npz path");
    let opts = ReadOptions {
        limit: Some(1),
        ..Default::default()
    };
    let s = read_structures(std::path::Path::new(&path), &opts)
        .unwrap()
        .structures
        .remove(0);
    let cfg = AllegroConfig::preset();
    let m = Allegro::new(&cfg, &VarMap::new(), DType::F32, &Device::Cpu, 0).unwrap();
    let g = neighbor_list(&s, cfg.r_max).unwrap();
    let batch = GraphBatch::collate(&[(&s, &g)]).unwrap();
    let n = 100;
    let time = |label: &str, f: &mut dyn FnMut()| {
        for _ in 0..5 {
            f();
        }
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!(
            "{label}: {:.3} ms",
            t.elapsed().as_secs_f64() * 1e3 / n as f64
        );
    };
    time("energy only", &mut || {
        let (input, _) = AtomsInput::new(&batch, DType::F32, &Device::Cpu, false).unwrap();
        m.energies(&input, false).unwrap();
    });
    time("energy + forces", &mut || {
        let (input, pos) = AtomsInput::new(&batch, DType::F32, &Device::Cpu, true).unwrap();
        energy_and_forces(&m, &input, &pos.unwrap(), false, false).unwrap();
    });
    // The first layer's tensor product alone, forward + backward to both inputs.
    let e = batch.idx_i.len();
    let sh = Irreps::spherical_harmonics(2);
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let tp = StridedTensorProduct::new(sh.clone(), sh.clone(), sh.clone(), 16, true, &vb).unwrap();
    let x1 =
        candle_core::Var::from_tensor(&Tensor::randn(0f32, 1.0, (e, 16, 9), &Device::Cpu).unwrap())
            .unwrap();
    let x2 =
        candle_core::Var::from_tensor(&Tensor::randn(0f32, 1.0, (e, 16, 9), &Device::Cpu).unwrap())
            .unwrap();
    time("one TP fwd", &mut || {
        tp.forward_gathered(x1.as_tensor(), x2.as_tensor()).unwrap();
    });
    time("one fused TP fwd+bwd", &mut || {
        let idx = Tensor::arange(0u32, e as u32, &Device::Cpu).unwrap();
        let y = tp
            .forward_inference(x1.as_tensor(), x2.as_tensor(), &idx)
            .unwrap();
        y.sum_all().unwrap().backward().unwrap();
    });
    time("one TP fwd+bwd", &mut || {
        let y = tp.forward_gathered(x1.as_tensor(), x2.as_tensor()).unwrap();
        y.sum_all().unwrap().backward().unwrap();
    });
    println!("{e} edges, {} atoms", s.len());
}
