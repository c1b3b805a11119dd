//! Driver of benches/finetune: times chemlm's frozen-regime head training on a data set's
//! embeddings and writes those embeddings and labels as `.npy`, so
//! `benches/finetune/torch_head.py` trains the same head on the very same inputs.
//!
//! Usage: `cargo run --release -p chemlm-train --example finetune_speed -- MODEL_DIR DATASET
//! EPOCHS OUT_DIR` (DATASET: a registry name; needs CHEMLM_DATA_DIR). Prints one JSON line.

use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use chemlm_data::{TaskType, Tokenizer};
use chemlm_models::Model;
use chemlm_train::baselines::open_dataset;
use chemlm_train::finetune::{
    embed_dataset, encode_all, fit_fold, EncodeOptions, FinetuneConfig, FoldData, Pooling, Regime,
};

fn npy(path: &Path, data: &[f32], rows: usize, cols: usize) -> std::io::Result<()> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let mut h = dict.into_bytes();
    let total = 10 + h.len() + 1;
    h.resize(h.len() + (64 - total % 64) % 64, b' ');
    h.push(b'\n');
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(b"\x93NUMPY\x01\x00")?;
    f.write_all(&(h.len() as u16).to_le_bytes())?;
    f.write_all(&h)?;
    for x in data {
        f.write_all(&x.to_le_bytes())?;
    }
    f.flush()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model_dir, dataset, epochs, out] = &args[..] else {
        return Err("usage: finetune_speed MODEL_DIR DATASET EPOCHS OUT_DIR".into());
    };
    let (model_dir, out) = (PathBuf::from(model_dir), PathBuf::from(out));
    let epochs: usize = epochs.parse()?;
    std::fs::create_dir_all(&out)?;
    let (ds, _) = open_dataset(dataset, None, None, None)?;
    let tok = Tokenizer::load(&model_dir.join(chemlm_models::io::TOKENIZER_FILE))?;
    let model = Model::load(&model_dir, &Device::Cpu)?;
    let pad = tok.special_ids().pad;
    let seqs: Vec<Option<Vec<u32>>> = encode_all(
        &tok,
        &ds.smiles,
        EncodeOptions::default(),
        model.config().max_positions(),
    )
    .into_iter()
    .map(|e| e.ok())
    .collect();
    let keep: Vec<usize> = (0..seqs.len()).filter(|&i| seqs[i].is_some()).collect();
    let emb = embed_dataset(&model, &seqs, pad, Pooling::Mean, 128, &mut |_| {})?;
    let n_tasks = ds.n_tasks();
    let cfg = FinetuneConfig {
        regime: Regime::Frozen,
        epochs,
        patience: epochs,
        batch_size: 32,
        ..Default::default()
    };
    let data = FoldData {
        task: ds.task_type,
        n_tasks,
        primary: "rmse",
        seqs: &seqs,
        labels: &ds.labels,
        train: &keep,
        valid: &[],
        test: &[],
        embeddings: Some(&emb),
    };
    let outcome = fit_fold(&model, pad, &data, &cfg, 0, &mut |_| {})?;
    // The same inputs for PyTorch: embeddings and labels (NaN = missing) of the kept rows.
    let idx = Tensor::from_vec(
        keep.iter().map(|&i| i as u32).collect::<Vec<u32>>(),
        keep.len(),
        &Device::Cpu,
    )?;
    let e = emb.index_select(&idx, 0)?;
    let dim = e.dims()[1];
    npy(
        &out.join("emb.npy"),
        &e.flatten_all()?.to_vec1::<f32>()?,
        keep.len(),
        dim,
    )?;
    let y: Vec<f32> = keep
        .iter()
        .flat_map(|&r| {
            ds.row_labels(r)
                .iter()
                .map(|l| l.map(|v| v as f32).unwrap_or(f32::NAN))
        })
        .collect();
    npy(&out.join("y.npy"), &y, keep.len(), n_tasks)?;
    let line = serde_json::json!({
        "bench": "finetune_head_frozen",
        "impl": "chemlm",
        "dataset": ds.name,
        "classification": ds.task_type == TaskType::Classification,
        "molecules": keep.len(),
        "epochs": outcome.epochs_run,
        "hidden": outcome.head.config.hidden,
        "dropout": cfg.dropout,
        "head_lr": cfg.head_lr,
        "weight_decay": cfg.weight_decay,
        "batch": cfg.batch_size,
        "seconds": outcome.train_seconds,
        "molecules_per_s": outcome.train_molecules as f64 / outcome.train_seconds,
        "final_train_loss": outcome.history.last().map(|r| r.train_loss),
    });
    println!("{line}");
    std::fs::write(out.join("chemlm.json"), line.to_string())?;
    Ok(())
}
