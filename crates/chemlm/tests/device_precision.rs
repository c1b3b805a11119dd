//! `--device` and `--precision` through the real binary: the main job (prepare, pretrain,
//! fine-tune, predict) and distillation run end to end in bf16 autocast, the resolved training
//! config records the precision, bf16 embeddings agree with f32 ones to half-precision accuracy,
//! and impossible device requests fail with a reason instead of silently running on the CPU.
//!
//! Each command runs in its own process because the device/precision choice is process-wide.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

mod common;

use common::{chemlm, ok};

fn read_csv(p: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .collect()
}

#[test]
fn bf16_main_job_distillation_and_embeddings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("qs");
    let (molecules, labels) = (
        root().join("fixtures/moses-mini.smi"),
        root().join("fixtures/qm9-mini.csv"),
    );
    ok(&[
        "--quiet",
        "--device",
        "cpu",
        "--precision",
        "bf16",
        "quickstart",
        "--out",
        out.to_str().unwrap(),
        "--molecules",
        molecules.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--steps",
        "6",
        "--epochs",
        "1",
        "--seeds",
        "0",
    ]);
    let resolved = std::fs::read_to_string(out.join("pretrain/pretrain.toml")).unwrap();
    assert!(
        resolved.contains("precision = \"bf16\""),
        "pretrain.toml does not record the precision:\n{resolved}"
    );
    let preds = std::fs::read_to_string(out.join("predictions.txt")).unwrap();
    assert!(preds.lines().filter(|l| !l.trim().is_empty()).all(|l| l
        .split_whitespace()
        .last()
        .unwrap()
        .parse::<f64>()
        .unwrap()
        .is_finite()));

    // Embeddings: bf16 autocast against f32 on the same model.
    let model = out.join("pretrain/model");
    let input = tmp.path().join("in.smi");
    std::fs::write(&input, "CCO\nc1ccccc1O\nCC(=O)Nc1ccc(O)cc1\n").unwrap();
    let mut embeddings = Vec::new();
    for p in ["f32", "bf16"] {
        let csv = tmp.path().join(format!("emb-{p}.csv"));
        ok(&[
            "--quiet",
            "--precision",
            p,
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--output",
            csv.to_str().unwrap(),
        ]);
        embeddings.push(read_csv(&csv));
    }
    let (a, b) = (&embeddings[0], &embeddings[1]);
    assert_eq!(a.len(), 3);
    let scale = a.iter().flatten().fold(0f64, |m, x| m.max(x.abs()));
    let diff = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .fold(0f64, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        diff > 0.0 && diff < 0.05 * scale,
        "bf16 embeddings differ from f32 by {diff} (scale {scale})"
    );

    // Distillation (teacher and student forward passes, KD + hidden-state losses) in bf16.
    let distilled = tmp.path().join("distill");
    ok(&[
        "--quiet",
        "--precision",
        "bf16",
        "distill",
        "--teacher",
        model.to_str().unwrap(),
        "--student-preset",
        "albert-small",
        "--data",
        out.join("data").to_str().unwrap(),
        "--out",
        distilled.to_str().unwrap(),
        "--steps",
        "3",
        "--warmup",
        "1",
        "--eval-every",
        "3",
        "--eval-batches",
        "2",
    ]);
    assert!(distilled.join("model/model.safetensors").exists());
}

#[test]
fn impossible_devices_fail_with_a_reason() {
    let out = chemlm(&["--device", "tpu", "model", "presets"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`tpu` is not a device"), "{err}");

    if !cfg!(feature = "cuda") {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("in.smi");
        std::fs::write(&input, "CCO\n").unwrap();
        let model = tmp.path().join("m");
        ok(&[
            "--quiet",
            "model",
            "init",
            "--preset",
            "molformer-tiny",
            "--out",
            model.to_str().unwrap(),
        ]);
        let out = chemlm(&[
            "--quiet",
            "--device",
            "cuda",
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--output",
            tmp.path().join("e.csv").to_str().unwrap(),
        ]);
        assert!(
            !out.status.success(),
            "--device cuda ran on a build without CUDA"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("built without CUDA"), "{err}");
    }
    let out = chemlm(&["--precision", "int4", "model", "presets"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a precision"));
}
