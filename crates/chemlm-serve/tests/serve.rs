//! The server in process on 127.0.0.1 with tiny random models: every endpoint, per-item errors,
//! dynamic batching equal to unbatched embedding, limits, malformed bodies and a graceful shutdown
//! that finishes the request in flight (back-pressure: the batcher's unit tests).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use candle_core::Device;
use chemlm_data::{Tokenizer, TokenizerKind, VocabConfig};
use chemlm_models::embedder::{EmbedOptions, Embedder};
use chemlm_models::{presets, Model};
use chemlm_serve::batcher::BatchPolicy;
use chemlm_serve::ServeConfig;
use serde_json::{json, Value};

mod browser;
use browser::headless;

const CORPUS: [&str; 6] = [
    "CCO",
    "c1ccccc1O",
    "CC(=O)Nc1ccc(O)cc1",
    "ClCBr",
    "CC(C)CC(=O)O",
    "C1CCNCC1",
];

/// A small random model of `preset` with a SMILES tokenizer, saved under `dir/name`.
fn tiny(dir: &Path, name: &str, preset: &str) -> std::path::PathBuf {
    let tok = Tokenizer::build(TokenizerKind::Smiles, CORPUS, &VocabConfig::default()).unwrap();
    let mut cfg = presets::preset(preset).unwrap();
    cfg.set_vocab_size(tok.vocab_size());
    let model = Model::new(&cfg, &Device::Cpu, 7).unwrap();
    let tok_path = dir.join(format!("{name}-tok.json"));
    tok.save(&tok_path).unwrap();
    let out = dir.join(name);
    model.save(&out, Some(&tok_path)).unwrap();
    out
}

struct Server {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(cfg: ServeConfig) -> Self {
        let state = chemlm_serve::load(&cfg, &Device::Cpu).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(l.local_addr().unwrap()).unwrap();
                let app = chemlm_serve::router(state, &cfg);
                chemlm_serve::serve(l, app, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Server {
            url: format!("http://{addr}"),
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn post(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let mut r = agent()
        .post(format!("{url}{path}"))
        .send_json(body)
        .unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_json::<Value>().unwrap())
}

fn get(url: &str, path: &str) -> (u16, String) {
    let mut r = agent().get(format!("{url}{path}")).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn config(models: Vec<(String, std::path::PathBuf)>) -> ServeConfig {
    ServeConfig {
        models,
        ..ServeConfig::default()
    }
}

#[test]
fn endpoints_answer_per_item_and_describe_themselves() {
    let d = tempfile::tempdir().unwrap();
    let enc = tiny(d.path(), "enc", "molformer-tiny");
    let gpt = tiny(d.path(), "gpt", "gpt-small");
    let s = Server::start(config(vec![("enc".into(), enc), ("gpt".into(), gpt)]));

    assert_eq!(get(&s.url, "/health"), (200, "{\"status\":\"ok\"}".into()));
    let (st, info) = get(&s.url, "/info");
    assert_eq!(st, 200);
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["default_model"], "enc");
    assert_eq!(info["models"][1]["kind"], "causal-lm");

    let (st, v) = post(
        &s.url,
        "/canon",
        &json!({"smiles": ["OCC", "C1CC", "c1ccccc1"]}),
    );
    assert_eq!(st, 200);
    assert_eq!(v["results"][0]["smiles"], "CCO");
    assert!(v["results"][1]["error"].as_str().unwrap().contains("ring"));
    assert_eq!(v["results"][2]["smiles"], "c1ccccc1");
    let (_, v) = post(&s.url, "/selfies", &json!({"smiles": ["c1ccccc1O"]}));
    assert_eq!(
        v["results"][0]["selfies"],
        "[C][=C][C][=C][C][=C][Ring1][=Branch1][O]"
    );

    // Embeddings: default model, per-item error, and a named model.
    let (st, v) = post(&s.url, "/embed", &json!({"smiles": ["CCO", "C1CC"]}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["model"], "enc");
    assert_eq!(v["results"][0]["embedding"].as_array().unwrap().len(), 64);
    assert!(v["results"][1]["error"].is_string());
    let (st, v) = post(
        &s.url,
        "/embed",
        &json!({"model": "nope", "smiles": ["CCO"]}),
    );
    assert_eq!(st, 404, "{v}");

    // Generation from the causal LM; not from the encoder; predictions need a fine-tuned model.
    let (st, v) = post(
        &s.url,
        "/generate",
        &json!({"model": "gpt", "n": 4, "seed": 3}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["molecules"].as_array().unwrap().len(), 4);
    let (again_st, again) = post(
        &s.url,
        "/generate",
        &json!({"model": "gpt", "n": 4, "seed": 3}),
    );
    assert_eq!((again_st, &again), (200, &v), "same seed, same molecules");
    assert_eq!(post(&s.url, "/generate", &json!({"n": 2})).0, 400);
    assert_eq!(post(&s.url, "/predict", &json!({"smiles": ["CCO"]})).0, 400);

    // Malformed and unknown bodies are refused with a reason, and the server goes on.
    let mut r = agent()
        .post(format!("{}/embed", s.url))
        .content_type("application/json")
        .send("{\"smiles\": [\"CCO\"")
        .unwrap();
    assert!(r.status().is_client_error());
    let _ = r.body_mut().read_to_string();
    assert_eq!(post(&s.url, "/embed", &json!({"smile": ["CCO"]})).0, 422);
    assert_eq!(get(&s.url, "/health").0, 200);

    // The OpenAPI document lists every route; the metrics count what happened.
    let (_, doc) = get(&s.url, "/openapi.json");
    let doc: Value = serde_json::from_str(&doc).unwrap();
    for (_, path, _) in chemlm_serve::api::ROUTES {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
    let (_, m) = get(&s.url, "/metrics");
    assert!(
        m.contains("chemlm_requests_total{endpoint=\"/embed\",status=\"200\"}"),
        "{m}"
    );
    assert!(m.contains("chemlm_requests_total{endpoint=\"/embed\",status=\"404\"}"));
    assert!(m.contains("chemlm_batch_molecules_count{model=\"enc/embed\"}"));
    assert!(m.contains("chemlm_queue_depth{model=\"enc/embed\"} 0"));
    assert!(m.contains("chemlm_request_seconds_bucket{endpoint=\"/canon\",le=\"+Inf\"} 1"));
}

#[test]
fn concurrent_requests_are_merged_and_equal_unbatched_rows() {
    let d = tempfile::tempdir().unwrap();
    let enc = tiny(d.path(), "enc", "molformer-tiny");
    let mut cfg = config(vec![("enc".into(), enc.clone())]);
    cfg.batch = BatchPolicy {
        max_molecules: 64,
        max_wait: Duration::from_millis(200),
        queue: 64,
    };
    let s = Server::start(cfg);
    // The same molecules one by one through the library, no server.
    let alone = Embedder::load(&enc, &Device::Cpu, EmbedOptions::default()).unwrap();
    let url = Arc::new(s.url.clone());
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let smiles = vec![CORPUS[i % CORPUS.len()], CORPUS[(i + 1) % CORPUS.len()]];
                let (st, v) = post(&url, "/embed", &json!({ "smiles": smiles }));
                assert_eq!(st, 200, "{v}");
                (smiles, v)
            })
        })
        .collect();
    for t in threads {
        let (smiles, v) = t.join().unwrap();
        for (k, smi) in smiles.iter().enumerate() {
            let want = alone.embed(&[smi]).unwrap().remove(0).unwrap();
            let got: Vec<f32> = v["results"][k]["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "{smi}: {a} vs {b}");
            }
        }
    }
    // Eight requests within the 200 ms window went through fewer than eight passes.
    let (_, m) = get(&s.url, "/metrics");
    let passes: u64 = m
        .lines()
        .find(|l| l.starts_with("chemlm_batch_molecules_count{model=\"enc/embed\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        (1..8).contains(&passes),
        "{passes} passes for 8 requests\n{m}"
    );
}

#[test]
fn limits_and_graceful_shutdown() {
    let d = tempfile::tempdir().unwrap();
    let enc = tiny(d.path(), "enc", "molformer-tiny");
    let mut cfg = config(vec![("enc".into(), enc)]);
    cfg.max_body_bytes = 4096;
    cfg.max_molecules = 10;
    cfg.batch = BatchPolicy {
        max_molecules: 1_000,
        max_wait: Duration::from_millis(1000),
        queue: 1,
    };
    let mut s = Server::start(cfg);
    let big: Vec<String> = (0..11).map(|_| "CCO".to_string()).collect();
    assert_eq!(post(&s.url, "/canon", &json!({ "smiles": big })).0, 413);
    let huge = "C".repeat(10_000);
    let mut r = agent()
        .post(format!("{}/canon", s.url))
        .send_json(json!({ "smiles": [huge] }))
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let _ = r.body_mut().read_to_string();

    // A request waits a full second for company; shutting down meanwhile still answers it.
    let url = s.url.clone();
    let first = std::thread::spawn(move || post(&url, "/embed", &json!({"smiles": ["CCO"]})));
    std::thread::sleep(Duration::from_millis(300));
    s.shutdown();
    let (st, v) = first.join().unwrap();
    assert_eq!(st, 200, "{v}");
    assert!(v["results"][0]["embedding"].is_array());
}

/// Resident memory of this process (the server runs in it), bytes.
fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Reads an HTTP response head from `s` and returns its status code.
fn status_of(s: &mut std::net::TcpStream) -> u16 {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") && buf.len() < 8192 {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn faults_huge_body_disconnects_and_slow_clients_leave_others_answered() {
    use std::io::Write;
    use std::net::TcpStream;
    let d = tempfile::tempdir().unwrap();
    let enc = tiny(d.path(), "enc", "molformer-tiny");
    let mut cfg = config(vec![("enc".into(), enc)]);
    cfg.batch.max_wait = Duration::from_millis(300);
    let s = Server::start(cfg);
    let addr = s.url.trim_start_matches("http://").to_string();
    let before = rss();

    // A 100 MB body: refused from its Content-Length with 413, long before 100 MB are sent.
    let mut c = TcpStream::connect(&addr).unwrap();
    write!(
        c,
        "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        100 << 20
    )
    .unwrap();
    let chunk = vec![b' '; 1 << 20];
    let _ = c.write_all(&chunk); // may fail once the server has answered and closed
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(status_of(&mut c), 413);
    drop(c);

    // A client that promises a body and vanishes after ten bytes.
    let mut c = TcpStream::connect(&addr).unwrap();
    write!(
        c,
        "POST /canon HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"smiles\":"
    )
    .unwrap();
    drop(c);
    // A client that sends a whole /embed request and disconnects while it waits to be batched.
    let mut c = TcpStream::connect(&addr).unwrap();
    let body = "{\"smiles\": [\"CCO\", \"CCN\"]}";
    write!(
        c,
        "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    drop(c);

    // A slow client dribbles its request head while others are answered promptly.
    let slow_addr = addr.clone();
    let slow = std::thread::spawn(move || {
        let mut c = TcpStream::connect(&slow_addr).unwrap();
        for b in b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" {
            c.write_all(&[*b]).unwrap();
            std::thread::sleep(Duration::from_millis(40));
        }
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        status_of(&mut c)
    });
    for _ in 0..5 {
        let t0 = std::time::Instant::now();
        let (st, v) = post(&s.url, "/canon", &json!({"smiles": ["OCC"]}));
        assert_eq!((st, v["results"][0]["smiles"].as_str()), (200, Some("CCO")));
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        let (st, _) = post(&s.url, "/embed", &json!({"smiles": ["CCO"]}));
        assert_eq!(st, 200);
    }
    assert_eq!(slow.join().unwrap(), 200);
    // Memory stays bounded: nothing like the 100 MB that was announced.
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 50 << 20,
        "resident memory grew by {} MiB",
        grown >> 20
    );
}

/// The GT4SD golden T5 checkpoint (crates/chemlm/tests/golden/gt4sd-layout) behind `/seq2seq`,
/// a random SchNet behind `/energy-forces`, `/depict`, a library behind `/neighbors`, and the
/// page at `/`: each answer equals the library's (or transformers', for the T5) and bad items get
/// their own errors.
#[test]
fn seq2seq_energy_forces_depict_neighbors_and_the_page() {
    let d = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let t5 = root.join("crates/chemlm/tests/golden/gt4sd-layout");
    // A paper-size SchNet, untrained (random weights, fixed seed).
    let arch = chemlm_ff::models::Arch::Schnet;
    let ff = chemlm_ff::models::registry::build(
        arch,
        arch.preset_toml(),
        "preset",
        candle_core::DType::F64,
        &Device::Cpu,
        3,
    )
    .unwrap();
    let ff_dir = d.path().join("schnet");
    ff.save(&ff_dir).unwrap();
    let library = d.path().join("library.smi");
    std::fs::write(
        &library,
        "# a tiny library\nCCO ethanol\nCCCO\nc1ccccc1O phenol\nnot_a_smiles\nCC(=O)O acid\n",
    )
    .unwrap();
    let mut cfg = config(vec![
        ("t5".into(), t5.clone()),
        ("schnet".into(), ff_dir.clone()),
    ]);
    cfg.library = Some(library);
    let s = Server::start(cfg);

    let (_, info) = get(&s.url, "/info");
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["default_model"], "t5");
    assert_eq!(info["default_force_field"], "schnet");
    assert_eq!(info["library"]["molecules"], 4);
    assert_eq!(info["library"]["bad_lines"], 1);
    let kinds: Vec<&str> = info["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["seq2seq", "force-field"]);

    // /seq2seq: transformers' greedy outputs (scripts/gen_gt4sd_layout_golden.py), and an
    // empty input as its own error.
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(t5.join("expected.json")).unwrap()).unwrap();
    let cases = expected.as_array().unwrap();
    let mut inputs: Vec<&str> = cases.iter().map(|c| c["input"].as_str().unwrap()).collect();
    inputs.push("");
    let (st, v) = post(
        &s.url,
        "/seq2seq",
        &json!({"inputs": inputs, "task": "forward", "max_length": 12}),
    );
    assert_eq!(st, 200, "{v}");
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(
            v["results"][i]["candidates"][0]["text"], c["text"],
            "input {i}"
        );
    }
    assert!(v["results"][cases.len()]["error"].is_string(), "{v}");
    let (st, v) = post(
        &s.url,
        "/seq2seq",
        &json!({"inputs": ["CCO"], "task": "forward", "beams": 3, "num_return": 2, "max_length": 8}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["results"][0]["candidates"].as_array().unwrap().len(), 2);
    assert_eq!(
        post(
            &s.url,
            "/seq2seq",
            &json!({"inputs": ["x"], "task": "poetry"})
        )
        .0,
        400
    );
    assert_eq!(
        post(&s.url, "/seq2seq", &json!({"inputs": ["x"], "beams": 1000})).0,
        413
    );

    // /energy-forces: equal to the library's prediction; malformed structures are their own
    // errors.
    let water = json!({"numbers": [8, 1, 1], "positions": [[0.0, 0.0, 0.1], [0.0, 0.76, -0.47], [0.0, -0.76, -0.47]]});
    let (st, v) = post(
        &s.url,
        "/energy-forces",
        &json!({"structures": [
            water,
            {"numbers": [8, 1], "positions": [[0.0, 0.0, 0.0]]},
            {"numbers": [0], "positions": [[0.0, 0.0, 0.0]]},
            {"numbers": [6], "positions": [[0.0, 0.0, 0.0]], "velocity": 1},
        ]}),
    );
    assert_eq!(st, 200, "{v}");
    let w = chemlm_atoms::Structure::new(
        vec![8, 1, 1],
        vec![[0.0, 0.0, 0.1], [0.0, 0.76, -0.47], [0.0, -0.76, -0.47]],
    )
    .unwrap();
    let want = chemlm_ff::train::predict_structures(
        ff.as_ref(),
        &[&w],
        1,
        candle_core::DType::F64,
        &Device::Cpu,
    )
    .unwrap();
    let got = &v["results"][0];
    assert!(
        (got["energy"].as_f64().unwrap() - want[0].energy).abs() < 1e-9,
        "{got}"
    );
    for (a, b) in got["forces"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&want[0].forces)
    {
        for k in 0..3 {
            assert!((a[k].as_f64().unwrap() - b[k]).abs() < 1e-9);
        }
    }
    assert!(
        v["results"][1]["error"]
            .as_str()
            .unwrap()
            .contains("positions"),
        "{v}"
    );
    assert!(
        v["results"][2]["error"]
            .as_str()
            .unwrap()
            .contains("element"),
        "{v}"
    );
    assert!(
        v["results"][3]["error"]
            .as_str()
            .unwrap()
            .contains("velocity"),
        "{v}"
    );
    // Only a force field answers /energy-forces; only a T5 /seq2seq.
    assert_eq!(
        post(
            &s.url,
            "/energy-forces",
            &json!({"model": "t5", "structures": []})
        )
        .0,
        404
    );

    // /depict: an SVG per molecule, an error for a broken one.
    let (st, v) = post(&s.url, "/depict", &json!({"smiles": ["c1ccccc1O", "C1CC"]}));
    assert_eq!(st, 200);
    let svg = v["results"][0]["svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    assert!(v["results"][1]["error"].is_string());

    // /neighbors: Tanimoto on RDKit's Morgan bits, most similar first, ids carried.
    let (st, v) = post(
        &s.url,
        "/neighbors",
        &json!({"smiles": ["OCC", "C1CC"], "k": 2}),
    );
    assert_eq!(st, 200, "{v}");
    let nb = v["results"][0]["neighbors"].as_array().unwrap();
    assert_eq!(nb.len(), 2);
    assert_eq!(nb[0]["smiles"], "CCO");
    assert_eq!(nb[0]["id"], "ethanol");
    assert_eq!(nb[0]["similarity"], 1.0);
    let fp = |s: &str| {
        chemlm_chem::Molecule::from_smiles(s)
            .unwrap()
            .morgan(2, 2048)
            .unwrap()
    };
    assert_eq!(nb[1]["smiles"], "CCCO");
    assert_eq!(
        nb[1]["similarity"].as_f64().unwrap(),
        fp("OCC").tanimoto(&fp("CCCO"))
    );
    assert!(v["results"][1]["error"].is_string());
    assert_eq!(
        post(&s.url, "/neighbors", &json!({"smiles": ["C"], "k": 0})).0,
        400
    );

    // The page.
    let (st, html) = get(&s.url, "/");
    assert_eq!(st, 200);
    assert!(html.contains("<title>chemlm serve</title>"));
}

/// The web page in a real browser: load it with two molecules, submit the form (the page's own
/// submit handler, through `?run=1`), and read what it shows from the DOM — canonical SMILES,
/// depictions, embeddings, predictions of a fine-tuned run's kind of model are covered by the
/// endpoint tests — then keep a screenshot in the test artifacts.
#[test]
fn web_page_in_headless_chromium_submits_and_shows_results() {
    let d = tempfile::tempdir().unwrap();
    let enc = tiny(d.path(), "enc", "molformer-tiny");
    let library = d.path().join("library.smi");
    std::fs::write(&library, "CCO ethanol\nc1ccccc1O phenol\nCCN\n").unwrap();
    let mut cfg = config(vec![("enc".into(), enc)]);
    cfg.library = Some(library);
    let s = Server::start(cfg);
    let url = format!("{}/?smiles=OCC,Oc1ccccc1,C1CC&run=1", s.url);

    let dom = headless(&url, &["--dump-dom"]);
    assert!(
        dom.contains("data-state=\"done\""),
        "the page did not finish:\n{dom}"
    );
    // One row per input, in order, with what the endpoints answered.
    let row = |i: usize| {
        let start = dom
            .find(&format!("id=\"row-{i}\""))
            .unwrap_or_else(|| panic!("no row {i}:\n{dom}"));
        let end = dom[start..].find("</tr>").unwrap() + start;
        dom[start..end].to_string()
    };
    let (r0, r1, r2) = (row(0), row(1), row(2));
    assert!(r0.contains(">CCO<"), "{r0}");
    assert!(r1.contains(">Oc1ccccc1<"), "{r1}");
    for r in [&r0, &r1] {
        assert!(r.contains("<svg"), "no depiction: {r}");
        assert!(r.contains("64-d, first:"), "no embedding: {r}");
    }
    // Nearest library molecules: ethanol is itself, phenol too.
    assert!(r0.contains("1.000  CCO (ethanol)"), "{r0}");
    assert!(r1.contains("1.000  c1ccccc1O (phenol)"), "{r1}");
    // The broken ring is an error in its row, the others are answered.
    assert!(r2.contains("class=\"error"), "{r2}");
    assert!(!r2.contains("<svg"), "{r2}");

    // A screenshot for whoever looks at the test artifacts.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-page.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
    );
    let png = std::fs::read(&shot).expect("no screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());

    // Generate (a causal LM) and Translate (a T5) through their buttons.
    drop(s);
    let gpt = tiny(d.path(), "gpt", "gpt-small");
    let t5 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../chemlm/tests/golden/gt4sd-layout");
    let s2 = Server::start(config(vec![("gpt".into(), gpt), ("t5".into(), t5)]));
    let dom = headless(&format!("{}/?run=generate", s2.url), &["--dump-dom"]);
    assert!(dom.contains("data-state=\"done\""), "{dom}");
    let table = &dom[dom.find("id=\"generated\"").expect("no samples table")..];
    assert_eq!(
        table.matches("<tr>").count(),
        1 + 8,
        "header + 8 samples: {table}"
    );
    assert!(dom.contains("samples parse (gpt)"), "{dom}");
    let dom = headless(
        &format!(
            "{}/?smiles=CCO.CC(%3DO)Cl&task=forward&run=translate",
            s2.url
        ),
        &["--dump-dom"],
    );
    assert!(dom.contains("data-state=\"done\""), "{dom}");
    let (_, want) = post(
        &s2.url,
        "/seq2seq",
        &json!({"model": "t5", "inputs": ["CCO.CC(=O)Cl"], "task": "forward", "max_length": 128}),
    );
    let want = want["results"][0]["candidates"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        dom.contains(&format!("<td class=\"translation\">{want}</td>")),
        "translation {want:?} not shown: {dom}"
    );
}
