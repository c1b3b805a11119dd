//! `chemlm data seq2seq` pipeline on the real data (CHEMLM_DATA_DIR), limited to a few records per
//! file so it stays fast.

use std::path::{Path, PathBuf};

use chemlm_data::seq2seq::build::{
    build, LeakMode, Seq2SeqConfig, Seq2SeqObserver, TokenizerSource,
};
use chemlm_data::seq2seq::{Example, Seq2SeqShards, Split, Task};
use chemlm_data::tokenizer::sentencepiece::UnigramConfig;

fn data_dir() -> PathBuf {
    std::env::var_os("CHEMLM_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

#[derive(Default)]
struct Collect {
    bad: Vec<(String, u64, String)>,
    warnings: Vec<String>,
}

impl Seq2SeqObserver for Collect {
    fn bad_record(&mut self, file: &str, line: u64, reason: &str) {
        self.bad.push((file.into(), line, reason.into()));
    }
    fn warning(&mut self, what: &str) {
        self.warnings.push(what.into());
    }
}

fn read_jsonl(p: &Path) -> Vec<Example> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn config(out: &Path) -> Seq2SeqConfig {
    let mut cfg = Seq2SeqConfig::new(data_dir(), out.to_path_buf());
    cfg.limit = Some(60);
    cfg.canonicalize = true;
    cfg.tokenizer = TokenizerSource::Train(UnigramConfig {
        vocab_size: 400,
        extra_ids: 10,
        ..Default::default()
    });
    cfg
}

#[test]
fn builds_all_tasks_with_a_lossless_trained_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s2s");
    let mut cfg = config(&out);
    cfg.group_salts = true;
    cfg.weights = vec![(Task::Actions, 2.0), (Task::Retro, 0.5)];
    cfg.max_length = Some(400);
    let mut obs = Collect::default();
    let s = build(&cfg, &mut obs).unwrap();

    // Every source and target comes back from the trained tokenizer unchanged.
    assert_eq!(
        s.tokenizer.round_trip_failures, 0,
        "{:?}",
        s.tokenizer.failure_examples
    );
    assert!(s.tokenizer.texts_checked > 500);
    assert_eq!(
        (s.tokenizer.pad_id, s.tokenizer.eos_id, s.tokenizer.unk_id),
        (0, 1, 2)
    );

    let train = read_jsonl(&out.join("train.jsonl"));
    let valid = read_jsonl(&out.join("valid.jsonl"));
    let test = read_jsonl(&out.join("test.jsonl"));
    for t in Task::ALL {
        assert!(train.iter().any(|e| e.task == t), "no {t} in train");
        assert!(test.iter().any(|e| e.task == t), "no {t} in test");
    }
    for e in train.iter().chain(&valid).chain(&test) {
        assert!(e.source.starts_with(e.task.prompt()), "{e:?}");
        assert!(!e.target.is_empty());
    }
    // ChEBI-20 has no validation split here.
    assert!(!valid
        .iter()
        .any(|e| matches!(e.task, Task::Text2Mol | Task::Mol2Text)));
    // Weights: actions doubled, retro halved (after leaks are removed).
    let counts = |t: Task| s.tasks[t.name()]["train"];
    let a = counts(Task::Actions);
    assert_eq!(a.written, 2 * (a.records - a.bad - a.leaks - a.too_long));
    let r = counts(Task::Retro);
    let kept = r.records - r.bad - r.leaks - r.too_long;
    assert_eq!(r.written, (kept as f64 * 0.5).round() as u64);
    // GT4SD salts: ions of one compound joined by '~', molecules by '.'.
    assert!(train
        .iter()
        .chain(&test)
        .filter(|e| e.task.is_reaction())
        .all(|e| !e.target.contains("[Na+].[OH-]")));

    // Shards: pairs equal the JSONL, tokenized.
    let shards = Seq2SeqShards::open(&out).unwrap();
    let tok = shards.tokenizer().unwrap();
    let m = shards.manifest();
    assert_eq!(m.pad_id, 0);
    assert_eq!(m.decoder_start_id, 0);
    for (name, jsonl) in [("train", &train), ("valid", &valid), ("test", &test)] {
        let split = shards.split(name).unwrap();
        assert_eq!(split.len(), jsonl.len(), "{name}");
        assert_eq!(s.splits[name].pairs as usize, jsonl.len());
        let lens = split.source_lengths();
        for (i, e) in jsonl.iter().enumerate() {
            let (src, tgt) = split.pair(i);
            assert_eq!(src, tok.encode(&e.source).unwrap());
            assert_eq!(tgt, tok.encode(&e.target).unwrap());
            assert_eq!(*src.last().unwrap(), m.eos_id);
            assert_eq!(lens[i] as usize, src.len());
            assert_eq!(split.task(i), e.task);
            assert_eq!(tok.decode(&tgt, true).unwrap(), e.target);
            if name != "test" {
                assert!(src.len() <= 400 && tgt.len() <= 400);
            }
        }
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["tokenizer"]["round_trip_failures"], 0);
    assert!(summary["leaks"]["total"].is_u64());
    assert_eq!(summary["bad_records"].as_u64().unwrap(), s.bad_records);
    assert_eq!(s.bad_records as usize, obs.bad.len());
}

#[test]
fn same_seed_same_output_and_leaks_can_be_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let mut ca = config(&a);
    ca.tasks = vec![Task::Forward, Task::Retro];
    ca.limit = Some(400);
    let mut cb = ca.clone();
    cb.out_dir = b.clone();
    let sa = build(&ca, &mut Collect::default()).unwrap();
    let sb = build(&cb, &mut Collect::default()).unwrap();
    for f in [
        "train.jsonl",
        "test.jsonl",
        "tokenizer.json",
        "manifest.json",
    ] {
        let same = std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap();
        assert!(same, "{f} differs between two runs with the same seed");
    }
    assert_eq!(sa.leaks, sb.leaks);
    // Reporting instead of dropping keeps exactly the leaking pairs.
    let mut cr = ca.clone();
    cr.out_dir = dir.path().join("r");
    cr.leak_mode = LeakMode::Report;
    let sr = build(&cr, &mut Collect::default()).unwrap();
    assert_eq!(sr.leaks.total, sa.leaks.total);
    assert_eq!(
        sr.splits["train"].pairs,
        sa.splits["train"].pairs + sa.leaks.total
    );
    // No training product is a test product once leaks are dropped.
    let test: std::collections::HashSet<String> = read_jsonl(&a.join("test.jsonl"))
        .into_iter()
        .filter(|e| e.task == Task::Forward)
        .map(|e| e.target)
        .collect();
    assert!(read_jsonl(&a.join("train.jsonl"))
        .iter()
        .filter(|e| e.task == Task::Forward)
        .all(|e| !test.contains(&e.target)));
    let _ = Split::Train;
}

#[test]
fn a_given_t5_tokenizer_is_repaired_by_the_escape() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t5");
    let mut cfg = config(&out);
    cfg.limit = Some(30);
    cfg.tokenizer = TokenizerSource::File {
        path: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/t5-tokenizer/tokenizer.json"),
        repair: true,
    };
    let s = build(&cfg, &mut Collect::default()).unwrap();
    assert!(s.tokenizer.round_trip_failures_before_repair > 0);
    assert!(
        s.tokenizer.lost_chars.contains('+'),
        "{}",
        s.tokenizer.lost_chars
    );
    assert!(s.tokenizer.escape.is_some());
    assert_eq!(
        s.tokenizer.round_trip_failures, 0,
        "{:?}",
        s.tokenizer.failure_examples
    );
    let shards = Seq2SeqShards::open(&out).unwrap();
    assert_eq!(shards.manifest().escape.as_deref(), Some("escape.json"));
    let tok = shards.tokenizer().unwrap();
    assert!(tok.escape().is_some());
    let split = shards.split("test").unwrap();
    let test = read_jsonl(&out.join("test.jsonl"));
    for (i, e) in test.iter().enumerate() {
        assert_eq!(tok.decode(&split.pair(i).1, true).unwrap(), e.target);
    }
    // Without the repair the failures remain and are reported.
    let mut plain = cfg.clone();
    plain.out_dir = dir.path().join("plain");
    plain.tokenizer = TokenizerSource::File {
        path: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/t5-tokenizer/tokenizer.json"),
        repair: false,
    };
    let mut obs = Collect::default();
    let sp = build(&plain, &mut obs).unwrap();
    assert!(sp.tokenizer.round_trip_failures > 0);
    assert!(!obs.warnings.is_empty());
    assert!(!plain.out_dir.join("escape.json").exists());
}

#[test]
fn missing_data_is_an_error_and_bad_smiles_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir.path().join("x"));
    cfg.data_dir = dir.path().join("nothing");
    assert!(build(&cfg, &mut Collect::default()).is_err());

    // A data dir with one bad ChEBI line and one malformed USPTO-50K reaction.
    let d = dir.path().join("data");
    let chebi = d.join("text_mol/chebi20");
    std::fs::create_dir_all(&chebi).unwrap();
    std::fs::write(
        chebi.join("validation.txt.gz"),
        "CID\tSMILES\tdescription\n1\tCCO\tThe molecule is ethanol.\n2\tC1CC\tA broken ring.\n3\tCCN\t\n",
    )
    .unwrap();
    std::fs::write(
        chebi.join("test.txt.gz"),
        "CID\tSMILES\tdescription\n4\tOCC\tThe molecule is ethanol again.\n5\tCCCC\tButane.\n",
    )
    .unwrap();
    let mut cfg = config(&dir.path().join("y"));
    cfg.data_dir = d.clone();
    cfg.tasks = vec![Task::Text2Mol, Task::Mol2Text];
    let mut obs = Collect::default();
    let s = build(&cfg, &mut obs).unwrap();
    let lines: Vec<u64> = obs.bad.iter().map(|b| b.1).collect();
    // Line 3 (C1CC) fails canonicalisation in both tasks, line 4 lacks a description.
    assert!(lines.contains(&3) && lines.contains(&4), "{:?}", obs.bad);
    assert!(obs.bad.iter().all(|b| b.0.ends_with("validation.txt.gz")));
    // Ethanol (CCO) is a test molecule (OCC canonicalises to CCO): both its training pairs leak.
    assert_eq!(s.leaks.chebi_test, 2);
    assert_eq!(s.splits["train"].pairs, 0);
    assert_eq!(s.splits["test"].pairs, 4);
}
