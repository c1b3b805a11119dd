//! `chemlm analyze attention` end to end on the committed fixtures: a random MoLFormer (linear and
//! full attention) over the QM9 geometry fixture writes its report and figures, and bad input is
//! reported with file and line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn chemlm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chemlm"))
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A random molformer-tiny (or `config`) directory with the MOSES fixture's tokenizer.
fn model(dir: &Path, name: &str, config: Option<&Path>) -> PathBuf {
    let shards = dir.join("shards");
    if !shards.join("tokenizer.json").exists() {
        let input = fixture("moses-mini.smi");
        ok(&chemlm(&[
            "data",
            "prepare",
            "-i",
            input.to_str().unwrap(),
            "-o",
            shards.to_str().unwrap(),
        ]));
    }
    let out = dir.join(name);
    let tok = shards.join("tokenizer.json");
    let mut args = vec![
        "model",
        "init",
        "--tokenizer",
        tok.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    match config {
        Some(c) => args.extend(["--model-config", c.to_str().unwrap()]),
        None => args.extend(["--preset", "molformer-tiny"]),
    }
    ok(&chemlm(&args));
    out
}

#[test]
fn writes_report_and_figures_for_linear_and_full_attention() {
    let dir = tempfile::tempdir().unwrap();
    let full_cfg = dir.path().join("tiny-full.toml");
    let tiny = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/molformer-tiny.toml"),
    )
    .unwrap();
    std::fs::write(
        &full_cfg,
        tiny.replace("attention_type = \"linear\"", "attention_type = \"full\""),
    )
    .unwrap();
    let data = fixture("qm9-xyz-mini.csv");
    for (name, cfg, kind) in [
        ("lin", None, "linear"),
        ("full", Some(full_cfg.as_path()), "full"),
    ] {
        let m = model(dir.path(), name, cfg);
        let out = dir.path().join(format!("out-{name}"));
        let stdout = ok(&chemlm(&[
            "analyze",
            "attention",
            "--model",
            m.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--limit",
            "0",
            "--batch-size",
            "8",
            "--out",
            out.to_str().unwrap(),
        ]));
        assert!(stdout.contains("Spearman dist"), "{stdout}");
        assert!(
            stdout.contains("best at bonds the string hides"),
            "{stdout}"
        );
        let files: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let mut sorted = files.clone();
        sorted.sort();
        // Complete figures and report only: no partial files left behind.
        assert_eq!(
            sorted,
            [
                "example.png",
                "example.svg",
                "heatmap.png",
                "heatmap.svg",
                "report.json"
            ],
            "{files:?}"
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        assert_eq!(report["attention"], kind);
        assert_eq!(report["molecules_selected"], 41);
        assert!(report["analysed"].as_u64().unwrap() >= 39);
        assert_eq!(report["per_layer"].as_array().unwrap().len(), 2);
        assert_eq!(report["example"]["id"], "62509");
        let svg = std::fs::read_to_string(out.join("heatmap.svg")).unwrap();
        assert!(svg.contains("Spearman"));
    }
}

#[test]
fn bad_rows_are_reported_with_their_line_and_a_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "lin", None);
    let text = std::fs::read_to_string(fixture("qm9-xyz-mini.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(8).map(String::from).collect();
    // Line 4 loses its coordinates.
    let mut fields: Vec<String> = lines[3].split(',').map(String::from).collect();
    fields[4] = "1.0 2.0".into();
    lines[3] = fields.join(",");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("out");
    let o = chemlm(&[
        "analyze",
        "attention",
        "--model",
        m.to_str().unwrap(),
        "--data",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("bad.csv") && stderr.contains("line 4"),
        "{stderr}"
    );
    let missing = dir.path().join("nope.csv");
    let o = chemlm(&[
        "analyze",
        "attention",
        "--model",
        m.to_str().unwrap(),
        "--data",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope.csv"));
}
