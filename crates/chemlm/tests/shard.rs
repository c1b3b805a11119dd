//! Issue 19 §2, sharded embarrassingly parallel work, through the real binary: for `embed`,
//! `predict`, `generate`, `screen`, `data prepare` (and the line commands), 4 shards merged
//! (`cat`, `embed merge`, `screen merge`, `data merge`) are byte for byte one run; more shards
//! than lines leave empty shards and still merge; bad `--shard` values are refused naming the
//! flag; warnings name the line in the whole file; `screen merge` breaks ties across shard
//! boundaries as one run does and refuses shard sets that do not belong together.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{arg, chemlm, fixture, ok, tiny_model};

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The files `names` one after the other, as `cat` joins them.
fn cat(names: &[PathBuf]) -> Vec<u8> {
    names.iter().flat_map(|p| read(p)).collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `args` once per shard `1..=n` with `--shard I/N`, the output (`-o`/`--out` value
/// `out`) going to `out.I`; returns the outputs in shard order and every shard's stderr.
fn run_shards(args: &[&str], flag: &str, out: &Path, n: u64) -> (Vec<PathBuf>, String) {
    let mut outs = Vec::new();
    let mut err = String::new();
    for i in 1..=n {
        let o = PathBuf::from(format!("{}.{i}", out.display()));
        let o = match out.extension() {
            // Keep the extension last: it picks the format.
            Some(ext) => o.with_file_name(format!(
                "{}.{i}.{}",
                out.file_stem().unwrap().to_string_lossy(),
                ext.to_string_lossy()
            )),
            None => o,
        };
        let spec = format!("{i}/{n}");
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--shard", &spec, flag, arg(&o)]);
        err.push_str(&stderr(&ok(&a)));
        outs.push(o);
    }
    (outs, err)
}

/// The MOSES fixture's bad lines `lines` (11 and 201 do not parse; 101 does not kekulize) are
/// reported with their line in the whole file by the shard that holds them, and only there.
fn bad_lines_named_once(err: &str, lines: &[u64]) {
    for line in lines {
        let tag = format!("moses-mini.smi:{line}:");
        assert_eq!(err.matches(&tag).count(), 1, "{tag} in {err}");
    }
}

#[test]
fn bad_shard_values_are_refused_naming_the_flag() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("in.smi"), "CCO\n").unwrap();
    let moses = fixture("moses-mini.smi");
    let cases: Vec<Vec<&str>> = vec![
        vec!["canon", "-i", "IN"],
        vec!["embed", "--model", "m", "-i", "IN", "-o", "e.npy"],
        vec!["predict", "--model", "m", "-i", "IN"],
        vec!["generate", "--model", "m", "--out", "g.smi"],
        vec![
            "screen",
            "--library",
            "IN",
            "--actives",
            "IN",
            "--out",
            "h.csv",
        ],
        vec!["data", "prepare", "-i", "IN", "--out", "o"],
    ];
    for case in &cases {
        for bad in ["0/4", "5/4", "1/0", "3", "a/b", "-1/4", "1/4/4", ""] {
            let mut a: Vec<&str> = case
                .iter()
                .map(|s| if *s == "IN" { arg(&moses) } else { s })
                .collect();
            let flag = format!("--shard={bad}");
            a.push(&flag);
            let o = chemlm(&a);
            let err = stderr(&o);
            assert!(!o.status.success(), "{a:?} succeeded");
            assert!(err.contains("--shard"), "{a:?}: {err}");
        }
    }
    // A shard needs a file: standard input cannot be counted and read again.
    let o = chemlm(&["canon", "--shard", "1/2"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("--shard") && err.contains("input file"),
        "{err}"
    );
}

/// A line command: 4 shards and 8 shards of a 3-line file (5 empty) concatenate to one run;
/// `--skip-header` drops line 1 in the shard that holds it.
#[test]
fn line_command_shards_concatenate_to_one_run() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.smi");
    std::fs::write(&input, "SMILES\nOCC\nC1CC\nc1ccccc1O\n").unwrap();
    let whole = d.path().join("whole.smi");
    ok(&[
        "canon",
        "--skip-header",
        "-i",
        arg(&input),
        "-o",
        arg(&whole),
    ]);
    for n in [4, 8] {
        let out = d.path().join(format!("canon{n}"));
        let (outs, err) = run_shards(
            &["canon", "--skip-header", "-i", arg(&input)],
            "-o",
            &out,
            n,
        );
        assert_eq!(cat(&outs), read(&whole), "n={n}");
        assert_eq!(err.matches("in.smi:3:").count(), 1, "{err}");
    }
}

#[test]
fn embed_shards_merge_to_one_run() {
    let d = tempfile::tempdir().unwrap();
    let model = tiny_model(d.path(), "smiles", "molformer-tiny");
    let moses = fixture("moses-mini.smi");
    // Batches of 2: windows of 32 lines, so 4 shards get 2-3 windows each.
    let base = [
        "--quiet",
        "embed",
        "--model",
        arg(&model),
        "--batch-size",
        "2",
        "-i",
        arg(&moses),
    ];
    for ext in ["csv", "npy"] {
        let whole = d.path().join(format!("whole.{ext}"));
        let mut a = base.to_vec();
        a.extend(["-o", arg(&whole)]);
        ok(&a);
        let (outs, err) = run_shards(&base, "-o", &d.path().join(format!("e.{ext}")), 4);
        // Embeddings need tokens, not a sanitizable molecule: line 101 is embedded.
        bad_lines_named_once(&err, &[11, 201]);
        // Each shard counts its own lines; together they are the file's.
        let counts: Vec<u64> = err
            .lines()
            .filter_map(|l| l.strip_prefix("embed: "))
            .map(|l| l.split(' ').next().unwrap().parse::<u64>().unwrap())
            .collect();
        assert_eq!(counts.iter().sum::<u64>(), 303, "{err}");
        // Blocks of whole windows (16 batches of 2): batches as in one run.
        assert!(counts[..3].iter().all(|c| c % 32 == 0), "{counts:?}");
        let merged = d.path().join(format!("merged.{ext}"));
        let mut a = vec!["embed", "merge", "--out", arg(&merged)];
        a.extend(outs.iter().map(|p| arg(p)));
        ok(&a);
        assert!(read(&merged) == read(&whole), "{ext}: merged differs");
        if ext == "csv" {
            assert!(cat(&outs) == read(&whole), "csv: cat differs");
        } else {
            // Parts given out of order are not one run's rows.
            let mut a = vec!["embed", "merge", "--out", arg(&merged)];
            a.extend(outs.iter().rev().map(|p| arg(p)));
            ok(&a);
            assert!(read(&merged) != read(&whole));
        }
    }
    // More shards than windows: the empty shards write empty matrices and merge away.
    let small = d.path().join("small.smi");
    std::fs::write(&small, "CCO\nC1CC\nc1ccccc1O\n").unwrap();
    let whole = d.path().join("small.npy");
    let mut a = base.to_vec();
    a[7] = arg(&small);
    let mut w = a.clone();
    w.extend(["-o", arg(&whole)]);
    ok(&w);
    let (outs, _) = run_shards(&a, "-o", &d.path().join("s.npy"), 6);
    let merged = d.path().join("small-merged.npy");
    let mut m = vec!["embed", "merge", "--out", arg(&merged)];
    m.extend(outs.iter().map(|p| arg(p)));
    ok(&m);
    assert_eq!(read(&merged), read(&whole));
}

#[test]
fn predict_shards_concatenate_to_one_run() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    let model = tiny_model(d.path(), "smiles", "molformer-tiny");
    let mut csv = String::from("smiles,y\n");
    let moses = std::fs::read_to_string(fixture("moses-mini.smi")).unwrap();
    for (i, m) in moses.lines().take(40).enumerate() {
        if ![10].contains(&i) {
            csv.push_str(&format!("{m},{}\n", (i % 7) as f64 / 7.0));
        }
    }
    std::fs::write(p("y.csv"), csv).unwrap();
    ok(&[
        "--quiet",
        "finetune",
        "--model",
        arg(&model),
        "--dataset",
        arg(&p("y.csv")),
        "--smiles-col",
        "smiles",
        "--target-cols",
        "y",
        "--task",
        "regression",
        "--split",
        "random",
        "--seeds",
        "0",
        "--epochs",
        "1",
        "--out",
        arg(&p("ft")),
    ]);
    let (ft, moses) = (p("ft"), fixture("moses-mini.smi"));
    let base = [
        "--quiet",
        "predict",
        "--model",
        arg(&ft),
        "--batch-size",
        "2",
        "-i",
        arg(&moses),
    ];
    let whole = p("whole.txt");
    let mut a = base.to_vec();
    a.extend(["-o", arg(&whole)]);
    ok(&a);
    let (outs, err) = run_shards(&base, "-o", &p("pred.txt"), 4);
    bad_lines_named_once(&err, &[11, 101, 201]);
    assert!(outs.iter().all(|o| !read(o).is_empty()));
    assert!(cat(&outs) == read(&whole), "predictions differ");
    let (outs, _) = run_shards(&base, "-o", &p("pred12.txt"), 12);
    assert!(outs.iter().any(|o| read(o).is_empty()), "no empty shard");
    assert!(cat(&outs) == read(&whole), "predictions differ (12 shards)");
}

#[test]
fn generate_shards_concatenate_to_one_run() {
    let d = tempfile::tempdir().unwrap();
    let model = tiny_model(d.path(), "selfies", "gpt-small");
    let base = [
        "--quiet",
        "generate",
        "--model",
        arg(&model),
        "--num",
        "30",
        "--batch",
        "4",
        "--max-len",
        "24",
        "--seed",
        "7",
    ];
    let (whole, whole_sf) = (d.path().join("whole.smi"), d.path().join("whole.sf"));
    let mut a = base.to_vec();
    a.extend(["--out", arg(&whole), "--selfies-out", arg(&whole_sf)]);
    ok(&a);
    assert_eq!(String::from_utf8(read(&whole)).unwrap().lines().count(), 30);
    // 8 batches (the last of 2): 4 shards of 2, and 11 shards, 3 of them empty.
    for n in [4u64, 11] {
        let mut outs = Vec::new();
        let mut sfs = Vec::new();
        for i in 1..=n {
            let (o, s) = (
                d.path().join(format!("g{n}.{i}.smi")),
                d.path().join(format!("g{n}.{i}.sf")),
            );
            let spec = format!("{i}/{n}");
            let mut a = base.to_vec();
            a.extend(["--shard", &spec, "--out", arg(&o), "--selfies-out", arg(&s)]);
            ok(&a);
            outs.push(o);
            sfs.push(s);
        }
        assert!(cat(&outs) == read(&whole), "n={n}: samples differ");
        assert!(cat(&sfs) == read(&whole_sf), "n={n}: raw samples differ");
        if n == 11 {
            assert_eq!(outs.iter().filter(|o| read(o).is_empty()).count(), 3);
        }
    }
}

/// A library whose molecules repeat in blocks, so equal scores fall in different shards: the
/// merged top (ties by the earlier line) is one run's, byte for byte, for the fingerprint scorer
/// (single-line blocks) and for a model's embeddings (blocks of whole chunks).
#[test]
fn screen_shards_merge_to_one_run_with_ties() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    let moses = std::fs::read_to_string(fixture("moses-mini.smi")).unwrap();
    // Lines 12-36 of the fixture: all valid.
    let block: Vec<&str> = moses.lines().skip(11).take(25).collect();
    let mut lib = String::from("SMILES\n");
    for rep in 0..4 {
        for (i, m) in block.iter().enumerate() {
            lib.push_str(&format!("{m} r{rep}m{i}\n"));
        }
    }
    std::fs::write(p("lib.smi"), &lib).unwrap();
    std::fs::write(p("act.smi"), format!("{} a1\n{} a2\n", block[3], block[17])).unwrap();
    std::fs::write(p("act2.smi"), format!("{} a1\n", block[3])).unwrap();
    let model = tiny_model(d.path(), "smiles", "molformer-tiny");
    let (lib_path, act) = (p("lib.smi"), p("act.smi"));
    for (case, extra) in [
        ("ecfp", vec![]),
        (
            "model",
            vec![
                "--model",
                arg(&model),
                "--chunk-size",
                "8",
                "--batch-size",
                "3",
            ],
        ),
    ] {
        for top in ["7", "500"] {
            let mut base = vec![
                "--quiet",
                "screen",
                "--library",
                arg(&lib_path),
                "--actives",
                arg(&act),
                "--top",
                top,
            ];
            base.extend(extra.iter().copied());
            let whole = p(&format!("{case}-{top}-whole.csv"));
            let mut a = base.clone();
            a.extend(["--out", arg(&whole)]);
            ok(&a);
            let (outs, err) = run_shards(&base, "--out", &p(&format!("{case}-{top}.csv")), 4);
            assert!(!err.contains("warning"), "{err}");
            if case == "model" {
                // A model's blocks are whole chunks (8 lines): batches as in one run.
                for o in &outs {
                    let text = String::from_utf8(read(o)).unwrap();
                    let info: serde_json::Value = serde_json::from_str(
                        text.lines()
                            .next()
                            .unwrap()
                            .strip_prefix("#chemlm-screen-shard ")
                            .unwrap(),
                    )
                    .unwrap();
                    assert_eq!(info["first_line"].as_u64().unwrap() % 8, 0, "{info}");
                }
            }
            let merged = p(&format!("{case}-{top}-merged.csv"));
            let mut m = vec!["screen", "merge", "--top", top, "--out", arg(&merged)];
            // Any order of the shard files.
            m.extend(outs.iter().rev().map(|o| arg(o)));
            ok(&m);
            assert!(
                read(&merged) == read(&whole),
                "{case} top {top}: merged differs"
            );
            let text = String::from_utf8(read(&whole)).unwrap();
            let rows: Vec<Vec<&str>> = text
                .lines()
                .skip(1)
                .map(|l| l.split(',').collect())
                .collect();
            assert_eq!(text.matches("rank,score").count(), 1);
            if case == "ecfp" {
                // The two actives (lines 5 and 19) repeat 4 times, 25 lines apart, all with score
                // 1: ties across the shards' blocks, ranked by line.
                let lines: Vec<u64> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
                assert!(rows[..7].iter().all(|r| r[1] == "1.000000"), "{text}");
                assert_eq!(lines[..7], [5, 19, 30, 44, 55, 69, 80], "{text}");
            }
            if top == "500" {
                // Every valid molecule: 4 × 25 minus the header line.
                assert_eq!(rows.len(), 100);
            }
            if case == "ecfp" && top == "7" {
                // Without --top: the shards' own --top.
                let m2 = p("m2.csv");
                let mut m = vec!["screen", "merge", "--out", arg(&m2)];
                m.extend(outs.iter().map(|o| arg(o)));
                ok(&m);
                assert_eq!(read(&m2), read(&whole));
                screen_merge_refusals(d.path(), &base, &outs, &whole);
            }
        }
    }
}

/// `screen merge` refuses what would not give one run's hits, naming the file.
fn screen_merge_refusals(dir: &Path, base: &[&str], outs: &[PathBuf], whole: &Path) {
    let merged = dir.join("refused.csv");
    let merge = |files: &[&Path], top: Option<&str>| -> String {
        let mut a = vec!["screen", "merge", "--out", arg(&merged)];
        if let Some(t) = top {
            a.extend(["--top", t]);
        }
        a.extend(files.iter().map(|p| arg(p)));
        let o = chemlm(&a);
        assert!(!o.status.success(), "{a:?} succeeded");
        stderr(&o)
    };
    let all: Vec<&Path> = outs.iter().map(PathBuf::as_path).collect();
    let e = merge(&all[..3], None);
    assert!(e.contains("missing 4/4"), "{e}");
    let e = merge(&[all[0], all[1], all[2], all[3], all[1]], None);
    assert!(e.contains("again"), "{e}");
    let e = merge(&all, Some("8"));
    assert!(e.contains("at least 8"), "{e}");
    // A plain hits file has rounded scores: not mergeable.
    let e = merge(&[all[0], whole], None);
    assert!(e.contains("whole.csv:1:"), "{e}");
    // A shard of a screen against other actives.
    let other = dir.join("other.3.csv");
    let mut a: Vec<&str> = base.to_vec();
    let i = a.iter().position(|s| *s == "--actives").unwrap();
    let act2 = dir.join("act2.smi");
    a[i + 1] = arg(&act2);
    a.extend(["--shard", "3/4", "--out", arg(&other)]);
    ok(&a);
    let e = merge(&[all[0], all[1], &other, all[3]], None);
    assert!(
        e.contains("other.3.csv:1:") && e.contains("different screens"),
        "{e}"
    );
    // Shards of another split of the library.
    let five = dir.join("five.1.csv");
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["--shard", "1/5", "--out", arg(&five)]);
    ok(&a);
    let e = merge(&[&five, all[1], all[2], all[3]], None);
    assert!(e.contains("shard count"), "{e}");
    assert!(!merged.exists());
}

#[test]
fn data_prepare_shards_merge_to_one_run() {
    let d = tempfile::tempdir().unwrap();
    let moses = fixture("moses-mini.smi");
    // Repeat the fixture so deduplication crosses shard boundaries.
    let text = std::fs::read_to_string(&moses).unwrap();
    let input = d.path().join("corpus.smi");
    std::fs::write(&input, format!("{text}{text}")).unwrap();
    let base = [
        "--quiet",
        "data",
        "prepare",
        "-i",
        arg(&input),
        "--dedupe",
        "--valid-fraction",
        "0.1",
        "--min-freq",
        "3",
        "--shard-size",
        "100",
    ];
    let whole = d.path().join("whole");
    let mut a = base.to_vec();
    a.extend(["--out", arg(&whole)]);
    ok(&a);
    let (parts, err) = run_shards(&base, "--out", &d.path().join("part"), 4);
    // The fixture's bad lines, in both copies, named by line in the whole file.
    for line in [11, 101, 201, 314, 404, 504] {
        let tag = format!("corpus.smi:{line}:");
        assert_eq!(err.matches(&tag).count(), 1, "{tag} in {err}");
    }
    let merged = d.path().join("merged");
    let mut m = vec!["--quiet", "data", "merge", "--out", arg(&merged)];
    m.extend(parts.iter().map(|p| arg(p)));
    ok(&m);
    let files = |dir: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    read(&e.path()),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (got, want) = (files(&merged), files(&whole));
    assert_eq!(
        got.iter().map(|f| &f.0).collect::<Vec<_>>(),
        want.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(want.len() > 6, "several token shards: {:?}", want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!(g.1 == w.1, "{} differs", g.0);
    }
    // The merged set trains like the one run's: `model init` reads its tokenizer.
    ok(&[
        "--quiet",
        "model",
        "init",
        "--preset",
        "molformer-tiny",
        "--tokenizer",
        arg(&merged.join("tokenizer.json")),
        "--out",
        arg(&d.path().join("m")),
    ]);
    // An incomplete set is refused and writes nothing.
    let bad = d.path().join("bad");
    let mut m = vec!["data", "merge", "--out", arg(&bad)];
    m.extend(parts[1..].iter().map(|p| arg(p)));
    let o = chemlm(&m);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("missing shard 1/4"), "{}", stderr(&o));
    assert!(!d.path().join("bad").exists());
}
