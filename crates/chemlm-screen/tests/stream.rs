//! Streaming screen on the committed fixture `fixtures/moses-mini.smi` (300 MOSES SMILES plus
//! invalid lines 11, 101 and 201): invalid lines are reported with their numbers and counted, the
//! hits agree with scoring every molecule and sorting, chunking does not change the result, and the
//! CSV has the documented layout.

use std::io::BufReader;
use std::path::PathBuf;

use chemlm_screen::hits::{write_hits_csv, HEADER};
use chemlm_screen::{
    screen, Aggregate, BadLine, FingerprintKind, FingerprintScorer, Scorer, ScreenOptions,
};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/moses-mini.smi")
}

fn queries() -> Vec<&'static str> {
    // Hand-picked drug-like queries (aspirin, caffeine, a sulfonamide).
    vec![
        "CC(=O)Oc1ccccc1C(=O)O",
        "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
        "NS(=O)(=O)c1ccc(NC(=O)C)cc1",
    ]
}

fn run(opts: &ScreenOptions) -> (chemlm_screen::ScreenSummary, Vec<BadLine>, u64) {
    let scorer =
        FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Max, &queries()).unwrap();
    let file = std::fs::File::open(fixture()).unwrap();
    let mut bad = Vec::new();
    let mut progressed = 0;
    let s = screen(
        BufReader::new(file),
        "moses-mini.smi",
        &scorer,
        opts,
        |b| bad.push(b.clone()),
        |n| progressed += n,
    )
    .unwrap();
    (s, bad, progressed)
}

#[test]
fn invalid_lines_are_reported_and_counted() {
    let (s, bad, progressed) = run(&ScreenOptions {
        top: 10,
        chunk_size: 64,
        ..Default::default()
    });
    let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![11, 101, 201]);
    assert!(bad.iter().all(|b| !b.reason.is_empty()));
    assert_eq!(s.lines, 303);
    assert_eq!(progressed, 303);
    assert_eq!(s.invalid, 3);
    assert_eq!(s.scored, 300);
    assert!(!s.header_skipped);
}

#[test]
fn hits_match_full_scoring_and_chunking_does_not_matter() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let scorer =
        FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Max, &queries()).unwrap();
    let mut all: Vec<(f64, u64)> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let smi = l.split_whitespace().next()?;
            let r = scorer.score_batch(&[smi]).pop()?;
            r.ok().map(|s| (s.value, i as u64 + 1))
        })
        .collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let want: Vec<(f64, u64)> = all.into_iter().take(25).collect();
    for (chunk, batch) in [(1, 1), (7, 3), (64, 16), (10_000, 256)] {
        let (s, _, _) = run(&ScreenOptions {
            top: 25,
            chunk_size: chunk,
            batch_size: batch,
            skip_header: false,
            first_line: 0,
        });
        let got: Vec<(f64, u64)> = s.hits.iter().map(|h| (h.score, h.line)).collect();
        assert_eq!(got, want, "chunk {chunk} batch {batch}");
        assert_eq!(s.hits[0].rank, 1);
        assert!(s.hits.iter().all(|h| h.nearest.is_some()));
    }
}

#[test]
fn header_line_is_skipped_not_counted() {
    let text = "SMILES\nCCO\nnot_a_smiles(\nc1ccccc1 benzene\n";
    let scorer = FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Max, &["CCO"]).unwrap();
    let mut bad = Vec::new();
    let s = screen(
        text.as_bytes(),
        "x",
        &scorer,
        &ScreenOptions::default(),
        |b| bad.push(b.line),
        |_| {},
    )
    .unwrap();
    assert!(s.header_skipped);
    assert_eq!((s.lines, s.scored, s.invalid), (4, 2, 1));
    assert_eq!(bad, vec![3]);
    assert_eq!(s.hits[0].smiles, "CCO");
    assert_eq!(s.hits[0].score, 1.0);
    assert_eq!(s.hits[1].id.as_deref(), Some("benzene"));
    assert_eq!(s.hits[1].line, 4);
}

#[test]
fn csv_has_documented_columns_and_is_written_atomically() {
    let text = "CCO ethanol\nCCCO propanol\nbad(\nc1ccccc1\n";
    let scorer = FingerprintScorer::new(
        FingerprintKind::Ecfp4,
        Aggregate::Max,
        &["CCO", "c1ccccc1C"],
    )
    .unwrap();
    let s = screen(
        text.as_bytes(),
        "lib",
        &scorer,
        &ScreenOptions {
            top: 2,
            ..Default::default()
        },
        |_| {},
        |_| {},
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hits.csv");
    write_hits_csv(&out, &s.hits, &["act1".to_string(), "toluene".to_string()]).unwrap();
    let got = std::fs::read_to_string(&out).unwrap();
    let mut lines = got.lines();
    assert_eq!(lines.next().unwrap(), HEADER.join(","));
    assert_eq!(lines.next().unwrap(), "1,1.000000,CCO,ethanol,1,act1");
    let second: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(second[0], "2");
    assert!(second[2] == "CCCO" || second[2] == "c1ccccc1", "{second:?}");
    assert!(lines.next().is_none());
    // Only the final file remains: the temporary was renamed away.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1);
}

/// Issue 19 §2: the fixture screened as N shards (each its block, read through
/// `chemlm_data::open_shard`, with its first line), written as shard files and merged, keeps
/// exactly the hits of one screen: same scores, lines, ranks, bad lines; for any N.
#[test]
fn shards_merge_to_one_screen() {
    use chemlm_screen::hits::{merge_shard_hits, write_shard_hits_csv, ShardInfo, SHARD_FORMAT};
    let scorer =
        FingerprintScorer::new(FingerprintKind::Ecfp4, Aggregate::Max, &queries()).unwrap();
    let (whole, whole_bad, _) = run(&ScreenOptions {
        top: 40,
        chunk_size: 16,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    for n in [1u64, 3, 4, 10, 400] {
        let mut files = Vec::new();
        let mut bad = Vec::new();
        for i in 1..=n {
            let spec = chemlm_data::ShardSpec::new(i, n).unwrap();
            let s = chemlm_data::open_shard(&fixture(), spec, 1).unwrap();
            let opts = ScreenOptions {
                top: 40,
                chunk_size: 16,
                first_line: s.first_line,
                ..Default::default()
            };
            let sum = screen(s.reader, "m", &scorer, &opts, |b| bad.push(b.line), |_| {}).unwrap();
            let info = ShardInfo {
                format: SHARD_FORMAT.into(),
                shard: spec.to_string(),
                library: "m".into(),
                library_lines: s.total_lines,
                first_line: s.first_line,
                lines: s.lines,
                top: 40,
                settings: [("scorer".to_string(), scorer.describe())].into(),
                queries: vec!["a".into(), "b".into(), "c".into()],
                scored: sum.scored,
                invalid: sum.invalid,
            };
            let f = dir.path().join(format!("{n}-{i}.csv"));
            write_shard_hits_csv(&f, &info, &sum.hits).unwrap();
            files.push(f);
        }
        assert_eq!(bad, whole_bad.iter().map(|b| b.line).collect::<Vec<_>>());
        let m = merge_shard_hits(&files, None).unwrap();
        assert_eq!(m.hits, whole.hits, "n={n}");
        assert_eq!((m.scored, m.invalid), (whole.scored, whole.invalid));
        let m = merge_shard_hits(&files, Some(7)).unwrap();
        assert_eq!(m.hits[..], whole.hits[..7]);
    }
}

/// The merge orders by the exact score, not the 6 decimals the CSV shows: two hits that print
/// alike keep one screen's order even when the later line has the (slightly) higher score.
#[test]
fn merge_uses_exact_scores() {
    use chemlm_screen::hits::{merge_shard_hits, write_shard_hits_csv, ShardInfo, SHARD_FORMAT};
    use chemlm_screen::Hit;
    let dir = tempfile::tempdir().unwrap();
    let hit = |score: f64, line: u64| Hit {
        rank: 1,
        score,
        smiles: "CCO".into(),
        id: Some("x,y".into()),
        line,
        nearest: Some(0),
    };
    let info = |i: u64, first_line: u64| ShardInfo {
        format: SHARD_FORMAT.into(),
        shard: format!("{i}/2"),
        library: "lib".into(),
        library_lines: 10,
        first_line,
        lines: 5,
        top: 2,
        settings: Default::default(),
        queries: vec!["q".into()],
        scored: 5,
        invalid: 0,
    };
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    write_shard_hits_csv(&a, &info(1, 0), &[hit(0.5000001, 2), hit(0.2, 3)]).unwrap();
    write_shard_hits_csv(&b, &info(2, 5), &[hit(0.5000004, 7), hit(0.5000001, 9)]).unwrap();
    let m = merge_shard_hits(&[b.clone(), a.clone()], None).unwrap();
    let got: Vec<(u64, usize)> = m.hits.iter().map(|h| (h.line, h.rank)).collect();
    assert_eq!(got, [(7, 1), (2, 2)]);
    assert_eq!(m.hits[0].id.as_deref(), Some("x,y"));
    let text = std::fs::read_to_string(&a).unwrap();
    assert!(text.starts_with("#chemlm-screen-shard {"), "{text}");
    // A hit outside its shard's block is refused, naming the file and line.
    write_shard_hits_csv(&b, &info(2, 5), &[hit(0.9, 4)]).unwrap();
    let e = merge_shard_hits(&[a, b], None).unwrap_err().to_string();
    assert!(e.contains("b.csv:3:") && e.contains("outside"), "{e}");
}
