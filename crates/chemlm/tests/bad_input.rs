//! Issue 17 regressions through the real binary: text encodings and line ends, output
//! destinations, and what an error or an interruption leaves behind.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{chemlm, tiny_model};

fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn undecodable_bytes_bom_and_cr_line_ends() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("u.smi"), b"CCO\nCCN\nCC\xe9O\nCCC\n").unwrap();
    let out = chemlm(&["canon", "-i", &p("u.smi")]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "CCO\nCCN\n\nCCC\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("u.smi:3: not UTF-8"), "{err}");
    assert!(err.contains("4 lines, 3 ok, 1 invalid"), "{err}");

    std::fs::write(p("bom.smi"), b"\xef\xbb\xbfCCO\r\nOCC\r\n").unwrap();
    let out = chemlm(&["canon", "-i", &p("bom.smi")]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "CCO\nCCO\n");
    std::fs::write(p("cr.smi"), b"CCO\rCCN\rCCC\n").unwrap();
    let out = chemlm(&["canon", "-i", &p("cr.smi")]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "CCO\nCCN\nCCC\n");
}

#[test]
fn destinations_are_checked_first_and_never_clobbered_wrongly() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("in.smi"), "OCC\nC1CC1\n").unwrap();
    // A directory is refused before any work.
    std::fs::create_dir(p("dir")).unwrap();
    let out = chemlm(&["canon", "-i", &p("in.smi"), "-o", &p("dir")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
    // A symlink's target is replaced; the link stays.
    std::fs::write(p("real.txt"), "old\n").unwrap();
    std::os::unix::fs::symlink(p("real.txt"), p("link.txt")).unwrap();
    assert!(chemlm(&["canon", "-i", &p("in.smi"), "-o", &p("link.txt")])
        .status
        .success());
    assert!(std::fs::symlink_metadata(p("link.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(p("real.txt")).unwrap(),
        "CCO\nC1CC1\n"
    );
    // A device is written through.
    assert!(chemlm(&["canon", "-i", &p("in.smi"), "-o", "/dev/null"])
        .status
        .success());
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    // `.gz` is written compressed, and reads back.
    assert!(
        chemlm(&["canon", "-i", &p("in.smi"), "-o", &p("out.smi.gz")])
            .status
            .success()
    );
    let raw = std::fs::read(p("out.smi.gz")).unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b]);
    let back = chemlm(&["canon", "-i", &p("out.smi.gz")]);
    assert_eq!(String::from_utf8_lossy(&back.stdout), "CCO\nC1CC1\n");
    // A strict run that fails keeps the old output and leaves no temporary file.
    std::fs::write(p("bad.smi"), "CCO\nC(\n").unwrap();
    std::fs::write(p("keep.txt"), "old\n").unwrap();
    let out = chemlm(&[
        "canon",
        "--strict",
        "-i",
        &p("bad.smi"),
        "-o",
        &p("keep.txt"),
    ]);
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(p("keep.txt")).unwrap(), "old\n");
    assert!(temps(d.path()).is_empty(), "{:?}", temps(d.path()));
}

#[test]
fn sigterm_leaves_the_old_output_and_no_temporary_file() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("big.smi");
    let line = "CC(C)Cc1ccc(cc1)C(C)C(=O)O\n";
    std::fs::write(&input, line.repeat(400_000)).unwrap();
    let out = d.path().join("out.smi");
    std::fs::write(&out, "old\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chemlm"))
        .args(["--quiet", "canon", "-i"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the run has its temporary file, then interrupt it.
    let t0 = std::time::Instant::now();
    while temps(d.path()).is_empty() && t0.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let running = !temps(d.path()).is_empty();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(running, "the run never created its temporary file");
    assert_eq!(status.code(), Some(130), "not interrupted: {status:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old\n");
    assert!(temps(d.path()).is_empty(), "{:?}", temps(d.path()));
}

/// A truncated newest checkpoint is named and skipped for the one before it; `finetune` refuses
/// to replace a finished run without `--overwrite`; an all-empty label column is refused.
#[test]
fn runs_survive_bad_checkpoints_and_are_not_overwritten() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixture = root.join("fixtures/moses-mini.smi");
    let ok = |args: &[&str]| {
        let o = chemlm(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    ok(&[
        "--quiet",
        "data",
        "prepare",
        "--input",
        fixture.to_str().unwrap(),
        "--kind",
        "smiles",
        "--valid-fraction",
        "0.1",
        "--out",
        &p("data"),
    ]);
    let pretrain = |steps: &str, resume: bool| {
        let mut a = vec![
            "--quiet",
            "--device",
            "cpu",
            "pretrain",
            "--preset",
            "molformer-tiny",
        ];
        let (data, out) = (p("data"), p("run"));
        a.extend([
            "--data",
            &data,
            "--steps",
            steps,
            "--warmup",
            "1",
            "--checkpoint-every",
            "2",
        ]);
        a.extend(["--eval-every", "2", "--batch-tokens", "1024", "--out", &out]);
        if resume {
            a.push("--resume");
        }
        chemlm(&a)
    };
    assert!(pretrain("4", false).status.success());
    let newest = d
        .path()
        .join("run/checkpoints/step-00000004/model.safetensors");
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..100]).unwrap();
    let o = pretrain("6", true);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("step-00000004 is unusable"), "{err}");
    assert!(err.contains("model.safetensors"), "{err}");
    assert!(
        err.contains("resumed from") && err.contains("(step 2)"),
        "{err}"
    );

    // Fine-tuning: an empty label column is refused; a finished run is not replaced silently.
    let smiles: Vec<String> = std::fs::read_to_string(&fixture)
        .unwrap()
        .lines()
        .take(60)
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let csv = |col: &dyn Fn(usize) -> String| {
        let rows: Vec<String> = smiles
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s},{}", col(i)))
            .collect();
        format!("smiles,y\n{}\n", rows.join("\n"))
    };
    std::fs::write(p("empty.csv"), csv(&|_| String::new())).unwrap();
    std::fs::write(p("labels.csv"), csv(&|i| format!("{}", i % 7))).unwrap();
    let finetune = |data: &str, extra: &[&str]| {
        let (model, out) = (p("run/model"), p("ft"));
        let mut a = vec!["--quiet", "finetune", "--model", &model, "--dataset", data];
        a.extend([
            "--smiles-col",
            "smiles",
            "--target-cols",
            "y",
            "--task",
            "regression",
        ]);
        a.extend(["--epochs", "1", "--seeds", "0", "--out", &out]);
        a.extend_from_slice(extra);
        chemlm(&a)
    };
    let o = finetune(&p("empty.csv"), &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no labels"));
    assert!(finetune(&p("labels.csv"), &[]).status.success());
    let o = finetune(&p("labels.csv"), &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--overwrite"));
    assert!(finetune(&p("labels.csv"), &["--overwrite"])
        .status
        .success());
}

/// Issue 17 §1.12: molecules with tokens outside the model's vocabulary are counted and the most
/// frequent such tokens named, by `embed`, `finetune` and `predict`.
#[test]
fn out_of_vocabulary_tokens_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        let o = chemlm(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // The MOSES fixture's vocabulary has no charged atoms.
    let m = tiny_model(d.path(), "smiles", "molformer-tiny");
    let m = m.to_str().unwrap();
    // `finetune` of the model `m` on a regression CSV, one seed, one epoch.
    let finetune = |data: &str, out: &str, random_split: bool| -> Output {
        let mut a: Vec<String> = ["--quiet", "finetune", "--model", m, "--dataset", &p(data)]
            .map(String::from)
            .to_vec();
        a.extend(
            [
                "--smiles-col",
                "smiles",
                "--target-cols",
                "y",
                "--task",
                "regression",
            ]
            .map(String::from),
        );
        if random_split {
            a.extend(["--split", "random"].map(String::from));
        }
        a.extend(["--seeds", "0", "--epochs", "1", "--out", &p(out)].map(String::from));
        chemlm(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    std::fs::write(p("in.smi"), "CCO\nC[NH3+]\nCC(=O)[O-]\nCC[O-]\n").unwrap();
    let err = ok(&[
        "--quiet",
        "embed",
        "--model",
        m,
        "-i",
        &p("in.smi"),
        "-o",
        &p("e.csv"),
    ]);
    assert!(
        err.contains("3 of 4 molecules (75.0 %) have tokens outside the model's vocabulary")
            && err.contains("(3 tokens: 3 → <unk>)")
            && err.contains("most frequent: [O-] ×2, [NH3+] ×1"),
        "{err}"
    );
    let mut csv = String::from("smiles,y\n");
    for k in 1..=15 {
        csv.push_str(&format!("{}O,{k}\n", "C".repeat(k)));
        csv.push_str(&format!("{}[O-],{}\n", "C".repeat(k), k + 1));
    }
    std::fs::write(p("train.csv"), csv).unwrap();
    let o = finetune("train.csv", "ft", true);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("15 of 30 molecules (50.0 %) have tokens outside"),
        "{err}"
    );
    let err = ok(&[
        "--quiet",
        "predict",
        "--model",
        &p("ft"),
        "-i",
        &p("in.smi"),
        "-o",
        &p("pred.txt"),
    ]);
    assert!(err.contains("3 of 4 molecules (75.0 %)"), "{err}");
    // §1.11: a data set whose molecules are all invalid names the count and the first reasons.
    std::fs::write(p("bad.csv"), "smiles,y\nC1CC,1\nc1cccc1,2\nC(C(C,3\n").unwrap();
    let o = finetune("bad.csv", "ft-bad", true);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("none of the 3 molecules can be encoded")
            && err.contains("line 2: ")
            && err.contains("line 4: "),
        "{err}"
    );
    // A scaffold split of acyclic molecules (one empty scaffold, sent whole to test as chemprop
    // does) is explained before any training.
    let o = finetune("train.csv", "ft-scaffold", false);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("split (seed 0, fold 0) leaves 0 training and 30 test molecules of 30"),
        "{err}"
    );
}
