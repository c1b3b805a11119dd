//! Data-parallel pretraining over MPI on loopback (issue 19): `mpirun -np 2 chemlm pretrain`
//! on the global batch 2B gives the losses and weights of one process on the same batch (each
//! rank computes B of its rows), for masked and causal LM; killing one rank stops the whole job
//! without a hang or a damaged checkpoint, and the run resumes from its checkpoint on the same
//! number of processes or on another one, to the losses and weights of an uninterrupted run.
//!
//! Needs Open MPI's `mpirun` (Debian `openmpi-bin`; `.ci/run` installs it) and the `mpi` feature:
//! `cargo test -p chemlm --features mpi --test mpi`.
#![cfg(feature = "mpi")]

mod common;

use common::{arg, fixture, ok};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Masked LM: a MoLFormer with linear attention and rotary positions, no dropout (each rank
/// draws its own dropout masks, so with dropout the runs agree in distribution only).
const MLM: &str = r#"model_type = "molformer"
vocab_size = 2362
hidden_size = 32
num_hidden_layers = 2
num_attention_heads = 4
intermediate_size = 64
hidden_act = "gelu"
hidden_dropout_prob = 0.0
embedding_dropout_prob = 0.0
max_position_embeddings = 202
num_random_features = 16
pad_token_id = 2
attention_type = "linear"
feature_map = "generalized_random"
"#;

/// Causal LM: GPT-Neo with global and local attention, no dropout.
const CLM: &str = r#"model_type = "gpt_neo"
vocab_size = 591
hidden_size = 32
num_layers = 2
num_heads = 4
max_position_embeddings = 256
window_size = 16
attention_types = [[["global", "local"], 1]]
activation_function = "gelu_new"
embed_dropout = 0.0
attention_dropout = 0.0
resid_dropout = 0.0
"#;

fn mpirun(np: usize) -> Command {
    let mut c = Command::new("mpirun");
    c.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        &np.to_string(),
    ])
    .arg(env!("CARGO_BIN_EXE_chemlm"))
    // One thread per rank: two ranks on two cores.
    .env("RAYON_NUM_THREADS", "1")
    .env_remove("CHEMLM_DEVICE")
    .env_remove("CHEMLM_PRECISION");
    c
}

fn run_ok(mut c: Command) -> Output {
    let o = c
        .output()
        .expect("run mpirun (apt-get install openmpi-bin)");
    assert!(
        o.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Shards of the MOSES fixture with a validation split, and the two model configs.
fn setup(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    ok(&[
        "--quiet",
        "data",
        "prepare",
        "--input",
        arg(&fixture("moses-mini.smi")),
        "--kind",
        "smiles",
        "--valid-fraction",
        "0.1",
        "--out",
        arg(&data),
    ]);
    std::fs::write(dir.join("mlm.toml"), MLM).unwrap();
    std::fs::write(dir.join("clm.toml"), CLM).unwrap();
    // Wider and deeper, so a step takes long enough (tens of ms) to kill a rank mid-run.
    let big = MLM
        .replace("hidden_size = 32", "hidden_size = 128")
        .replace("intermediate_size = 64", "intermediate_size = 256")
        .replace("num_hidden_layers = 2", "num_hidden_layers = 3");
    std::fs::write(dir.join("mlm-big.toml"), big).unwrap();
    data
}

/// `pretrain` arguments shared by every run: a global batch of up to 16 sequences.
fn pretrain_args(dir: &Path, model: &str, out: &Path, steps: u32) -> Vec<String> {
    [
        "--quiet",
        "pretrain",
        "--model-config",
        arg(&dir.join(model)),
        "--data",
        arg(&dir.join("data")),
        "--out",
        arg(out),
        "--steps",
        &steps.to_string(),
        "--batch-tokens",
        "100000",
        "--max-sequences",
        "16",
        "--lr",
        "2e-3",
        "--warmup",
        "2",
        "--schedule",
        "cosine",
        "--seed",
        "7",
        "--eval-every",
        "10",
        "--checkpoint-every",
        "10",
        "--keep-checkpoints",
        "100",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Train (`kind` "train") or validation losses by step from `metrics.jsonl`.
fn losses(out: &Path, kind: &str) -> Vec<(u64, f64)> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["kind"] == kind).then(|| (v["step"].as_u64().unwrap(), v["loss"].as_f64().unwrap()))
        })
        .collect()
}

fn weights(model_dir: &Path) -> HashMap<String, Vec<f32>> {
    let bytes = std::fs::read(model_dir.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name}");
            let v = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, v)
        })
        .collect()
}

/// Largest |a - b| over every weight; the two files hold the same tensors.
fn max_weight_diff(a: &Path, b: &Path) -> f32 {
    let (wa, wb) = (weights(a), weights(b));
    let mut names: Vec<_> = wa.keys().collect();
    names.sort();
    let mut names_b: Vec<_> = wb.keys().collect();
    names_b.sort();
    assert_eq!(names, names_b);
    wa.iter()
        .map(|(n, x)| {
            let y = &wb[n];
            assert_eq!(x.len(), y.len(), "{n}");
            x.iter()
                .zip(y)
                .map(|(p, q)| (p - q).abs())
                .fold(0f32, f32::max)
        })
        .fold(0f32, f32::max)
}

fn assert_same_losses(a: &[(u64, f64)], b: &[(u64, f64)], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.0, y.0, "{what}");
        assert!(
            (x.1 - y.1).abs() <= 1e-5 * x.1.abs().max(1.0),
            "{what} step {}: {} vs {}",
            x.0,
            x.1,
            y.1
        );
    }
}

/// 2 ranks = 1 process on the same global batch, over 20 steps.
fn two_ranks_match_one(model: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let (one, two) = (dir.join("one"), dir.join("two"));
    ok(&pretrain_args(dir, model, &one, 20)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let mut c = mpirun(2);
    c.args(pretrain_args(dir, model, &two, 20));
    let o = run_ok(c);
    // Rank 0 alone prints the summary and writes the run directory.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("\"world_size\":2"), "{stdout}");

    let (l1, l2) = (losses(&one, "train"), losses(&two, "train"));
    assert_eq!(l1.len(), 20);
    assert_same_losses(&l1, &l2, "train loss");
    assert_same_losses(&losses(&one, "valid"), &losses(&two, "valid"), "valid loss");
    // Training moved the weights well beyond the tolerance, and both runs to the same place.
    let d = max_weight_diff(&one.join("model"), &two.join("model"));
    assert!(d <= 1e-5, "{model}: weights differ by {d}");
    let moved = max_weight_diff(
        &one.join("model"),
        &one.join("checkpoints").join("step-00000010"),
    );
    assert!(
        moved > 1e-3,
        "{model}: training barely moved the weights ({moved})"
    );
    // The step records carry the world size and the all-reduce time.
    let rec = std::fs::read_to_string(two.join("metrics.jsonl")).unwrap();
    assert!(rec.contains("\"world_size\":2") && rec.contains("allreduce_seconds"));
}

#[test]
fn masked_lm_on_two_ranks_matches_one_process() {
    two_ranks_match_one("mlm.toml");
}

#[test]
fn causal_lm_on_two_ranks_matches_one_process() {
    two_ranks_match_one("clm.toml");
}

/// The pid of rank `rank` among mpirun's children (read from their environment).
fn rank_pid(mpirun_pid: u32, rank: u32) -> Option<u32> {
    let children =
        std::fs::read_to_string(format!("/proc/{mpirun_pid}/task/{mpirun_pid}/children")).ok()?;
    children.split_whitespace().find_map(|p| {
        let env = std::fs::read(format!("/proc/{p}/environ")).ok()?;
        let want = format!("OMPI_COMM_WORLD_RANK={rank}");
        env.split(|&b| b == 0)
            .any(|kv| kv == want.as_bytes())
            .then(|| p.parse().ok())?
    })
}

#[test]
fn killing_one_rank_stops_the_job_and_it_resumes_on_another_world_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    // Long enough to kill mid-run, short enough that the float rounding of the sums (ranks add
    // in another order than one process) stays below the tolerance: Adam amplifies it over
    // hundreds of steps.
    let steps = 40;
    let (reference, run) = (dir.join("reference"), dir.join("run"));
    ok(&pretrain_args(dir, "mlm-big.toml", &reference, steps)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());

    let mut c = mpirun(2);
    c.args(pretrain_args(dir, "mlm-big.toml", &run, steps))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let t0 = Instant::now();
    // Kill rank 1 once the run has a checkpoint.
    while !run.join("checkpoints").join("step-00000010").exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its first checkpoint"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no checkpoint after 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = rank_pid(child.id(), 1).expect("rank 1 among mpirun's children");
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    // The job ends (no rank left waiting in an all-reduce), and says it failed.
    let t1 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t1.elapsed() < Duration::from_secs(60),
            "the job still runs 60 s after one rank was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        !status.success(),
        "the job reported success with a rank killed"
    );
    let finished = run.join("model").exists();
    assert!(
        !finished,
        "the run finished before the kill: make it longer"
    );

    // Resume the same checkpoint twice: on the same two ranks, and on one process. The data,
    // the random choices and the updates go on as before either way.
    let same = dir.join("run-same-world");
    copy_dir(&run, &same);
    let mut c = mpirun(2);
    c.args(pretrain_args(dir, "mlm-big.toml", &same, steps))
        .arg("--resume");
    run_ok(c);
    let mut args = pretrain_args(dir, "mlm-big.toml", &run, steps);
    args.push("--resume".into());
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_same_losses(
        &losses(&same, "train"),
        &losses(&run, "train"),
        "train loss, resumed on 2 ranks vs on 1",
    );
    // Each step's loss tells a wrong data position, random stream or optimizer state at once
    // (other batches: differences of 1e-2); the ranks' rounding stays near 1e-6. Adam turns
    // that rounding into weight differences of up to ~1e-4 over 30 steps of this wider model,
    // against updates of ~2e-3 per step.
    let (a, b) = (losses(&reference, "train"), losses(&run, "train"));
    assert_eq!(a.len(), steps as usize);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.1 - y.1).abs() <= 1e-4 * x.1.abs(),
            "step {}: {} vs {}",
            x.0,
            x.1,
            y.1
        );
    }
    let d = max_weight_diff(&reference.join("model"), &run.join("model"));
    assert!(
        d <= 1e-3,
        "resumed weights differ from the uninterrupted run's by {d}"
    );
    // Nothing temporary is left in the run directory.
    let leftovers: Vec<_> = walk(&run)
        .into_iter()
        .filter(|p| {
            p.strip_prefix(&run)
                .is_ok_and(|rel| rel.to_string_lossy().contains(".tmp"))
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn walk(p: &Path) -> Vec<PathBuf> {
    let mut out = vec![p.to_path_buf()];
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            out.extend(walk(&e.unwrap().path()));
        }
    }
    out
}

/// Only pretraining is data-parallel: any other command started as several ranks refuses
/// instead of running N copies that write the same output.
#[test]
fn other_commands_refuse_to_run_as_several_ranks() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.smi");
    std::fs::write(&input, "CCO\n").unwrap();
    let mut c = mpirun(2);
    c.args(["canon", "--input", arg(&input)]);
    let o = c.output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("only `chemlm pretrain` runs data-parallel") && err.contains("--shard"),
        "{err}"
    );
}
