//! `chemlm serve` end to end: a random encoder and a fine-tuned run served together on a free
//! port; `/predict` and `/embed` equal `chemlm predict` and `chemlm embed`, and so do the
//! predictions the web page shows in headless Chromium; SIGTERM stops it cleanly.

#[path = "../../chemlm-serve/tests/browser/mod.rs"]
mod browser;
mod common;

use common::{arg, fixture, ok, tiny_model};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn rows(text: &str) -> Vec<Vec<f64>> {
    text.lines()
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect()
}

#[test]
fn serve_predicts_and_embeds_like_the_cli_and_stops_on_sigterm() {
    let d = tempfile::tempdir().unwrap();
    let model = tiny_model(d.path(), "smiles", "molformer-tiny");
    let run = d.path().join("ft");
    let qm9 = fixture("qm9-mini.csv");
    ok(&[
        "--quiet",
        "finetune",
        "--model",
        arg(&model),
        "--dataset",
        arg(&qm9),
        "--smiles-col",
        "smiles",
        "--target-cols",
        "gap",
        "--task",
        "regression",
        "--epochs",
        "1",
        "--seeds",
        "0",
        "--out",
        arg(&run),
    ]);
    let smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC"];
    let input = d.path().join("in.smi");
    std::fs::write(&input, smiles.join("\n") + "\n").unwrap();
    let (pred, emb) = (d.path().join("p.csv"), d.path().join("e.csv"));
    ok(&[
        "--quiet",
        "predict",
        "--model",
        arg(&run),
        "-i",
        arg(&input),
        "-o",
        arg(&pred),
    ]);
    ok(&[
        "--quiet",
        "embed",
        "--model",
        arg(&model),
        "-i",
        arg(&input),
        "-o",
        arg(&emb),
    ]);

    let mut child = Command::new(env!("CARGO_BIN_EXE_chemlm"))
        .args(["--quiet", "--device", "cpu", "serve", "--port", "0"])
        .arg("--model")
        .arg(format!("enc={}", model.display()))
        .arg("--model")
        .arg(format!("ft={}", run.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let post = |path: &str, body: Value| -> Value {
        ureq::post(format!("{url}{path}"))
            .send_json(body)
            .unwrap()
            .body_mut()
            .read_json::<Value>()
            .unwrap()
    };

    let p = post("/predict", json!({"model": "ft", "smiles": smiles}));
    assert_eq!(p["tasks"], json!(["gap"]));
    for (got, want) in p["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(rows(&std::fs::read_to_string(&pred).unwrap()))
    {
        let got = got["prediction"][0].as_f64().unwrap();
        assert!(
            (got - want[0]).abs() <= 1e-6 * want[0].abs().max(1.0),
            "{got} vs {}",
            want[0]
        );
    }
    let e = post("/embed", json!({"smiles": smiles}));
    assert_eq!(e["model"], "enc");
    for (got, want) in e["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(rows(&std::fs::read_to_string(&emb).unwrap()))
    {
        let got: Vec<f64> = got["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    // The web page picks the fine-tuned run and shows its predictions, one row per molecule.
    let dom = browser::headless(
        &format!("{url}/?smiles=CCO,c1ccccc1O&run=1"),
        &["--dump-dom"],
    );
    assert!(dom.contains("data-state=\"done\""), "{dom}");
    let want = rows(&std::fs::read_to_string(&pred).unwrap());
    for (i, w) in want.iter().take(2).enumerate() {
        let row = &dom[dom.find(&format!("id=\"row-{i}\"")).expect("no row")..];
        let cell = &row[row.find("prediction\">").expect("no prediction cell") + 12..];
        let shown: f64 = cell[..cell.find('<').unwrap()].parse().unwrap();
        assert!(
            (shown - w[0]).abs() <= 1e-4 * w[0].abs().max(1.0),
            "page shows {shown}, chemlm predict {}",
            w[0]
        );
    }

    // SIGTERM: a clean exit, not the output-cleanup handler's 130.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
