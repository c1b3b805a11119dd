//! `prepare`: bad records reported with file and line, counts, dedupe, length filter, shards that
//! decode back to the (canonical) input, vocabulary reuse, and output independent of threads.

use std::path::{Path, PathBuf};

use chemlm_data::prepare::{prepare, PrepareConfig, PrepareObserver, VocabSource};
use chemlm_data::reader::ReadOptions;
use chemlm_data::shards::{ShardSet, TokenDtype};
use chemlm_data::tokenizer::{Tokenizer, TokenizerKind, VocabConfig};

#[derive(Default)]
struct Collect {
    bad: Vec<(String, u64, String)>,
    last_progress: u64,
}

impl PrepareObserver for Collect {
    fn bad_record(&mut self, source: &str, line: u64, reason: &str) {
        self.bad
            .push((source.to_string(), line, reason.to_string()));
    }
    fn progress(&mut self, records: u64) {
        assert!(records >= self.last_progress);
        self.last_progress = records;
    }
}

const CORPUS: &str = "\
smiles,id
CCO,1
OCC,2
c1ccccc1,3
C1CC,4
CC(=O)Oc1ccccc1C(=O)O,5
,6
CC X,7
[Na+].[Cl-],8
CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC,9
C[C@@H](N)C(=O)O,10
c1ccccc1,11
";

fn corpus(dir: &Path) -> PathBuf {
    let p = dir.join("mols.csv");
    std::fs::write(&p, CORPUS).unwrap();
    p
}

fn decode_all(dir: &Path, split: &str) -> Vec<String> {
    let set = ShardSet::open(dir).unwrap();
    let tok = set.tokenizer().unwrap();
    let ds = set.split(split).unwrap();
    (0..ds.len())
        .map(|i| tok.decode(&ds.get(i), true).unwrap())
        .collect()
}

#[test]
fn canonical_dedupe_filter_and_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path());
    let out = dir.path().join("shards");
    let mut cfg = PrepareConfig::new(vec![input.clone()], out.clone());
    cfg.dedupe = true;
    cfg.max_len = Some(30);
    cfg.valid_fraction = 0.0;
    cfg.chunk_size = 3; // several chunks, so ordering across chunks is exercised
    let mut obs = Collect::default();
    let s = prepare(&cfg, &mut obs).unwrap();
    assert_eq!(s.records, 11);
    // Line numbers count the header as line 1.
    let lines: Vec<u64> = obs.bad.iter().map(|b| b.1).collect();
    assert_eq!(lines, [5, 7, 8], "{:?}", obs.bad);
    assert!(obs.bad.iter().all(|b| b.0 == input.display().to_string()));
    assert!(obs.bad[1].2.contains("empty"), "{:?}", obs.bad[1]);
    assert_eq!(s.bad, 3);
    assert_eq!(s.too_long, 1);
    // OCC = CCO and the second benzene are duplicates after canonicalization.
    assert_eq!(s.duplicates, 2);
    assert_eq!(obs.last_progress, 11);
    assert_eq!(s.train.sequences, 5);
    assert_eq!(s.valid.sequences, 0);
    let got = decode_all(&out, "train");
    assert_eq!(
        got,
        [
            "CCO",
            "c1ccccc1",
            "CC(=O)Oc1ccccc1C(=O)O",
            "[Cl-].[Na+]",
            "C[C@@H](N)C(=O)O"
        ]
    );
    let set = ShardSet::open(&out).unwrap();
    let m = set.manifest();
    assert_eq!(m.dtype, TokenDtype::U16);
    assert!(m.with_bos_eos);
    assert_eq!(m.sequences("train"), 5);
    assert_eq!(m.prepare["summary"]["duplicates"], 2);
    set.verify().unwrap();
    let tok = set.tokenizer().unwrap();
    let ds = set.split("train").unwrap();
    let first = ds.get(0);
    assert_eq!(first[0], tok.special_ids().bos);
    assert_eq!(*first.last().unwrap(), tok.special_ids().eos);
    // No temporary files are left in the output directory.
    for e in std::fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp") && !name.contains("prov"), "{name}");
    }
}

#[test]
fn without_canonicalization_keeps_strings_and_reports_uncovered_characters() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.smi");
    std::fs::write(&p, "OCC name\nC1CC\nCC X\nCCé\n").unwrap();
    let mut cfg = PrepareConfig::new(vec![p], dir.path().join("o"));
    cfg.canonicalize = false;
    cfg.valid_fraction = 0.0;
    let mut obs = Collect::default();
    let s = prepare(&cfg, &mut obs).unwrap();
    // "CC X": the first field is "CC"; "CCé" has a character the regex does not cover.
    assert_eq!(obs.bad.len(), 1);
    assert_eq!(obs.bad[0].1, 4);
    assert!(obs.bad[0].2.contains("'é'"), "{}", obs.bad[0].2);
    assert_eq!(s.train.sequences, 3);
    assert_eq!(
        decode_all(&dir.path().join("o"), "train"),
        ["OCC", "C1CC", "CC"]
    );
}

#[test]
fn output_does_not_depend_on_threads_or_chunking() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("SMILES\n");
    for i in 0..3000 {
        // 3000 distinct molecules (the validation split is chosen per distinct string).
        let (a, b) = (i % 50 + 1, i / 50 + 1);
        let sub = ["Cl", "Br", "[NH3+]", "O", "N"][i % 5];
        text.push_str(&format!(
            "{}N{}c1ccc(cc1){sub}\n",
            "C".repeat(a),
            "C".repeat(b)
        ));
    }
    let p = dir.path().join("c.csv");
    std::fs::write(&p, text).unwrap();
    let run = |threads: usize, chunk: usize, name: &str| {
        let mut cfg = PrepareConfig::new(vec![p.clone()], dir.path().join(name));
        cfg.threads = Some(threads);
        cfg.chunk_size = chunk;
        // Run "b" spills provisional ids to disk after the first 5000.
        if name == "b" {
            cfg.memory_tokens = 5000;
        }
        cfg.canonicalize = false;
        cfg.valid_fraction = 0.2;
        cfg.seed = 9;
        prepare(&cfg, &mut Collect::default()).unwrap();
        let files: Vec<Vec<u8>> = [
            "manifest.json",
            "tokenizer.json",
            "train-00000.tokens",
            "valid-00000.offsets",
        ]
        .iter()
        .map(|f| std::fs::read(dir.path().join(name).join(f)).unwrap())
        .collect();
        files
    };
    let a = run(1, 4096, "a");
    let b = run(2, 97, "b");
    assert_eq!(
        String::from_utf8_lossy(&a[0]).replace("\"a\"", ""),
        String::from_utf8_lossy(&b[0]).replace("\"b\"", "")
    );
    assert_eq!(a[1..], b[1..]);
    let set = ShardSet::open(&dir.path().join("a")).unwrap();
    let (nt, nv) = (
        set.manifest().sequences("train"),
        set.manifest().sequences("valid"),
    );
    assert_eq!(nt + nv, 3000);
    assert!(
        (500..700).contains(&nv),
        "{nv} valid of 3000 at fraction 0.2"
    );
}

#[test]
fn fixed_vocabulary_and_unknown_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path());
    let tok = Tokenizer::build(
        TokenizerKind::Smiles,
        ["CCO", "c1ccccc1"],
        &VocabConfig::default(),
    )
    .unwrap();
    let mut cfg = PrepareConfig::new(vec![input], dir.path().join("o"));
    cfg.vocab = VocabSource::Fixed(tok.clone());
    cfg.valid_fraction = 1.0;
    cfg.read = ReadOptions {
        column: Some("SMILES".into()),
        ..Default::default()
    };
    let s = prepare(&cfg, &mut Collect::default()).unwrap();
    assert_eq!(s.train.sequences, 0);
    // 11 records, 3 bad, no dedupe (the default), no length limit.
    assert_eq!(s.valid.sequences, 8);
    assert!(s.unk_tokens > 0);
    let set = ShardSet::open(&dir.path().join("o")).unwrap();
    assert_eq!(set.tokenizer().unwrap(), tok);
    assert_eq!(set.split("train").unwrap().len(), 0);
    // A SELFIES tokenizer cannot be used for SMILES.
    let sf = Tokenizer::build(TokenizerKind::Selfies, ["[C]"], &VocabConfig::default()).unwrap();
    cfg.vocab = VocabSource::Fixed(sf);
    assert!(prepare(&cfg, &mut Collect::default()).is_err());
}

#[test]
fn selfies_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.txt");
    std::fs::write(&p, "[C][C][O]\n[C][=C][Branch1][C][F][C]\n[C]x\n").unwrap();
    let mut cfg = PrepareConfig::new(vec![p], dir.path().join("o"));
    cfg.kind = TokenizerKind::Selfies;
    cfg.input_is_selfies = true;
    cfg.valid_fraction = 0.0;
    let mut obs = Collect::default();
    let s = prepare(&cfg, &mut obs).unwrap();
    assert_eq!(s.train.sequences, 2);
    assert_eq!(obs.bad[0].1, 3);
    assert_eq!(
        decode_all(&dir.path().join("o"), "train"),
        ["[C][C][O]", "[C][=C][Branch1][C][F][C]"]
    );
}

#[test]
fn missing_input_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = PrepareConfig::new(vec![dir.path().join("nope.smi")], dir.path().join("o"));
    let err = prepare(&cfg, &mut Collect::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope.smi"), "{err}");
}

/// On real data when available: MOSES test split, no canonicalization; every sequence decodes
/// back to its input string.
#[test]
fn moses_test_split_round_trip() {
    let Some(data) = std::env::var_os("CHEMLM_DATA_DIR") else {
        eprintln!("skipped: CHEMLM_DATA_DIR is not set");
        return;
    };
    let input = Path::new(&data).join("moses/test.csv.gz");
    if !input.is_file() {
        eprintln!("skipped: {} not found", input.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = PrepareConfig::new(vec![input.clone()], dir.path().to_path_buf());
    cfg.canonicalize = false;
    let s = prepare(&cfg, &mut Collect::default()).unwrap();
    assert_eq!(s.records, 176_074);
    assert_eq!(s.bad, 0);
    assert_eq!(s.train.sequences + s.valid.sequences, 176_074);
    let set = ShardSet::open(dir.path()).unwrap();
    let tok = set.tokenizer().unwrap();
    let mut originals =
        chemlm_data::MoleculeReader::open(Some(&input), &ReadOptions::default()).unwrap();
    let (train, valid) = (set.split("train").unwrap(), set.split("valid").unwrap());
    let (mut ti, mut vi) = (0, 0);
    for rec in originals.by_ref() {
        let text = rec.unwrap().text;
        // Each molecule is in exactly one split, in input order within it.
        let from_train = (ti < train.len()).then(|| tok.decode(&train.get(ti), true).unwrap());
        if from_train.as_deref() == Some(text.as_str()) {
            ti += 1;
        } else {
            assert_eq!(tok.decode(&valid.get(vi), true).unwrap(), text);
            vi += 1;
        }
    }
    assert_eq!((ti, vi), (train.len(), valid.len()));
}

#[cfg(feature = "selfies")]
#[test]
fn smiles_converted_to_selfies() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.smi");
    std::fs::write(&p, "OCC\nC1CC\nc1ccccc1F\n").unwrap();
    let mut cfg = PrepareConfig::new(vec![p], dir.path().join("o"));
    cfg.kind = TokenizerKind::Selfies;
    cfg.valid_fraction = 0.0;
    let mut obs = Collect::default();
    let s = prepare(&cfg, &mut obs).unwrap();
    assert_eq!((s.train.sequences, s.bad), (2, 1));
    assert_eq!(obs.bad[0].1, 2);
    let got = decode_all(&dir.path().join("o"), "train");
    // Canonical SMILES first (CCO, Fc1ccccc1), then SELFIES (Python selfies 2.2.0 gives these).
    assert_eq!(
        got,
        ["[C][C][O]", "[F][C][=C][C][=C][C][=C][Ring1][=Branch1]"]
    );
}

/// Every file of a prepared directory, by name.
fn dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Issue 19 §2: `prepare` over shards `1..=N` of the input, merged, writes exactly one run's
/// directory (shards, tokenizer, manifest with its counts), whatever N (also more shards than
/// lines) and whatever order the parts are given in; duplicates across shard boundaries are
/// dropped as one run drops them, a vocabulary cut by `min_freq` counts the whole corpus, and
/// bad records keep the line numbers of the whole file.
#[test]
fn sharded_parts_merge_into_one_runs_directory() {
    let dir = tempfile::tempdir().unwrap();
    // Header, duplicates far apart, bad and too-long lines, rare tokens.
    let mut text = String::from("smiles,id\n");
    let mols = [
        "CCO",
        "OCC",
        "c1ccccc1",
        "C1CC",
        "CC(=O)O",
        "",
        "CCN",
        "CCBr",
        "c1ccccc1",
        "CC(C)O",
        "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
        "CCO",
        "C[C@@H](N)C(=O)O",
        "CCCl",
        "OCC",
        "CCS",
        "CC X",
        "CCN",
        "CCCO",
        "c1ccncc1",
    ];
    for (i, m) in mols.iter().enumerate() {
        text.push_str(&format!("{m},{i}\n"));
    }
    let csv = dir.path().join("mols.csv");
    std::fs::write(&csv, &text).unwrap();
    let tok = Tokenizer::build(
        TokenizerKind::Smiles,
        ["CCO", "c1ccccc1", "CCN"],
        &VocabConfig::default(),
    )
    .unwrap();
    for (case, fixed) in [("built", false), ("fixed", true)] {
        let config = |out: PathBuf| {
            let mut cfg = PrepareConfig::new(vec![csv.clone()], out);
            cfg.dedupe = true;
            cfg.max_len = Some(25);
            cfg.valid_fraction = 0.3;
            cfg.seed = 4;
            cfg.shard_sequences = Some(3);
            cfg.chunk_size = 2;
            cfg.vocab = if fixed {
                VocabSource::Fixed(tok.clone())
            } else {
                VocabSource::Build(VocabConfig {
                    min_freq: 2,
                    max_size: None,
                })
            };
            cfg
        };
        let whole = dir.path().join(format!("{case}-whole"));
        let mut obs = Collect::default();
        let s = prepare(&config(whole.clone()), &mut obs).unwrap();
        assert_eq!((s.records, s.bad, s.too_long), (20, 3, 1));
        assert_eq!(s.duplicates, 5, "{case}");
        let want = dir_files(&whole);
        let want_bad: Vec<u64> = obs.bad.iter().map(|b| b.1).collect();
        assert_eq!(want_bad, [5, 7, 18]);
        for n in [1u64, 2, 3, 4, 7, 25] {
            let mut parts = Vec::new();
            let mut bad = Vec::new();
            // Shards run in any order; the merge orders the parts itself.
            for i in (1..=n).rev() {
                let part = dir.path().join(format!("{case}-{n}-part{i}"));
                let mut cfg = config(part.clone());
                cfg.shard = Some(chemlm_data::ShardSpec::new(i, n).unwrap());
                let mut obs = Collect::default();
                prepare(&cfg, &mut obs).unwrap();
                assert!(!part.join("manifest.json").exists());
                bad.extend(obs.bad.iter().map(|b| b.1));
                parts.push(part);
            }
            bad.sort();
            assert_eq!(bad, want_bad, "{case} n={n}");
            let merged = dir.path().join(format!("{case}-{n}-merged"));
            let m = chemlm_data::merge_parts(&parts, &merged, Some(2)).unwrap();
            assert_eq!(
                (m.records, m.bad, m.duplicates, m.too_long),
                (s.records, s.bad, s.duplicates, s.too_long)
            );
            assert_eq!(
                (m.train, m.valid, m.unk_tokens),
                (s.train, s.valid, s.unk_tokens)
            );
            let got = dir_files(&merged);
            assert_eq!(
                got.iter().map(|f| &f.0).collect::<Vec<_>>(),
                want.iter().map(|f| &f.0).collect::<Vec<_>>(),
                "{case} n={n}"
            );
            for (g, w) in got.iter().zip(&want) {
                assert!(g.1 == w.1, "{case} n={n}: {} differs", g.0);
            }
            if n == 4 {
                // An incomplete set, a shard given twice and parts of another run are refused.
                let e = chemlm_data::merge_parts(&parts[1..], &dir.path().join("x"), None)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("missing shard 4/4"), "{e}");
                let twice = [parts.clone(), vec![parts[0].clone()]].concat();
                let e = chemlm_data::merge_parts(&twice, &dir.path().join("x"), None)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("again"), "{e}");
                let other = dir.path().join(format!("{case}-other"));
                let mut cfg = config(other.clone());
                cfg.seed = 5;
                cfg.shard = Some(chemlm_data::ShardSpec::new(1, 4).unwrap());
                prepare(&cfg, &mut Collect::default()).unwrap();
                let mixed = [vec![other], parts[..3].to_vec()].concat();
                let e = chemlm_data::merge_parts(&mixed, &dir.path().join("x"), None)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("seed") && e.contains("different runs"), "{e}");
                assert!(!dir.path().join("x").exists());
            }
        }
    }
    // SMI without a header, gzip: the same.
    let smi: String = mols.iter().map(|m| format!("{m}\n")).collect();
    let gz = dir.path().join("mols.smi.gz");
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(smi.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    }
    let cfg = |out: PathBuf, shard: Option<(u64, u64)>| {
        let mut c = PrepareConfig::new(vec![gz.clone()], out);
        c.dedupe = true;
        c.shard = shard.map(|(i, n)| chemlm_data::ShardSpec::new(i, n).unwrap());
        c
    };
    let mut obs = Collect::default();
    prepare(&cfg(dir.path().join("smi-whole"), None), &mut obs).unwrap();
    let mut bad = Vec::new();
    let parts: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let p = dir.path().join(format!("smi-part{i}"));
            let mut o = Collect::default();
            prepare(&cfg(p.clone(), Some((i, 3))), &mut o).unwrap();
            bad.extend(o.bad.iter().map(|b| b.1));
            p
        })
        .collect();
    assert_eq!(bad, obs.bad.iter().map(|b| b.1).collect::<Vec<_>>());
    chemlm_data::merge_parts(&parts, &dir.path().join("smi-merged"), None).unwrap();
    assert_eq!(
        dir_files(&dir.path().join("smi-merged")),
        dir_files(&dir.path().join("smi-whole"))
    );
    // A shard reads one file, not standard input or several.
    let mut c = cfg(dir.path().join("y"), Some((1, 2)));
    c.inputs.push(csv.clone());
    assert!(prepare(&c, &mut Collect::default()).is_err());
}
