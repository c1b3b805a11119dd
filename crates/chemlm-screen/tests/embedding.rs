//! Embedding-similarity screening with a tiny random model on the MOSES fixture: exact cosine
//! scores, batch independence, the streaming screen with bad lines, loading from a model
//! directory, and the DUD-E protocol on embeddings.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use chemlm_chem::Molecule;
use chemlm_data::{Tokenizer, TokenizerKind, VocabConfig};
use chemlm_models::{presets, LanguageModel, Model, ModelConfig};
use chemlm_screen::dude::{bench_target, bench_target_embedded, DudeConfig};
use chemlm_screen::{
    screen, Aggregate, Embedder, EmbeddingScorer, ModelEmbedder, Scorer, ScreenOptions,
};

fn fixture_lines() -> Vec<String> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/moses-mini.smi");
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/moses-mini.smi")
}

/// Valid fixture molecules, a SMILES tokenizer built on them and a tiny random BERT.
fn tiny() -> (Vec<String>, Model, Tokenizer) {
    let valid: Vec<String> = fixture_lines()
        .into_iter()
        .filter(|s| Molecule::from_smiles(s).is_ok())
        .collect();
    let tok = Tokenizer::build(
        TokenizerKind::Smiles,
        valid.iter().map(String::as_str),
        &VocabConfig::default(),
    )
    .unwrap();
    let mut cfg = presets::preset("bert-small").unwrap();
    if let ModelConfig::Bert(c) = &mut cfg {
        c.hidden_size = 16;
        c.num_hidden_layers = 1;
        c.num_attention_heads = 2;
        c.intermediate_size = 32;
    }
    cfg.set_vocab_size(tok.vocab_size());
    let model = Model::new(&cfg, &Device::Cpu, 9).unwrap();
    (valid, model, tok)
}

fn embedder() -> (Vec<String>, ModelEmbedder) {
    let (valid, model, tok) = tiny();
    (valid, ModelEmbedder::new(model, tok, false).unwrap())
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (dot / (n(a) * n(b))) as f64
}

#[test]
fn embeddings_equal_a_single_molecule_forward_pass_whatever_the_batch() {
    let (valid, e) = embedder();
    let batch: Vec<&str> = valid.iter().take(40).map(String::as_str).collect();
    let together = e.embed_batch(&batch);
    for (i, s) in batch.iter().enumerate().step_by(7) {
        let alone = e.embed_batch(&[s]).remove(0).unwrap();
        let got = together[i].as_ref().unwrap();
        for (a, b) in got.iter().zip(&alone) {
            assert!((a - b).abs() < 1e-5, "molecule {i}: {a} vs {b}");
        }
    }
    // And equal to the model's own embed() of the encoded molecule.
    let ids = e.embed_batch(&["CCO"]).remove(0).unwrap();
    let m = e.model();
    let tok_ids: Vec<u32> = {
        let (_, _, tok) = tiny();
        tok.encode("CCO", true).unwrap()
    };
    let n = tok_ids.len();
    let t = Tensor::from_vec(tok_ids, (1, n), &Device::Cpu).unwrap();
    let direct: Vec<Vec<f32>> = m
        .embed(&t, &t.ones_like().unwrap())
        .unwrap()
        .to_vec2()
        .unwrap();
    for (a, b) in ids.iter().zip(&direct[0]) {
        assert!((a - b).abs() < 1e-5);
    }
    let bad = e.embed_batch(&["C1CC", "CCO"]);
    assert!(bad[0].is_err() && bad[1].is_ok());
}

#[test]
fn scores_are_fused_cosine_similarities() {
    let (valid, e) = embedder();
    let queries = [valid[3].as_str(), valid[60].as_str()];
    let lib: Vec<&str> = valid
        .iter()
        .skip(100)
        .take(20)
        .map(String::as_str)
        .collect();
    let q_emb: Vec<Vec<f32>> = e
        .embed_batch(&queries)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let l_emb: Vec<Vec<f32>> = e
        .embed_batch(&lib)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let (_, e_max) = embedder();
    let (_, e_mean) = embedder();
    let max = EmbeddingScorer::new(e_max, Aggregate::Max, &queries).unwrap();
    let mean = EmbeddingScorer::new(e_mean, Aggregate::Mean, &queries).unwrap();
    let smax = max.score_batch(&lib);
    let smean = mean.score_batch(&lib);
    for (i, l) in l_emb.iter().enumerate() {
        let c: Vec<f64> = q_emb.iter().map(|q| cosine(q, l)).collect();
        let want_max = c[0].max(c[1]);
        let got = smax[i].as_ref().unwrap();
        assert!((got.value - want_max).abs() < 1e-5);
        assert_eq!(got.nearest, Some(if c[0] >= c[1] { 0 } else { 1 }));
        let got = smean[i].as_ref().unwrap().value;
        assert!((got - (c[0] + c[1]) / 2.0).abs() < 1e-5);
    }
    // A query scores 1 against itself.
    let own = max.score_batch(&[queries[1]]);
    assert!((own[0].as_ref().unwrap().value - 1.0).abs() < 1e-5);
    assert!(max.describe().contains("cosine/max"));
}

#[test]
fn streaming_screen_reports_bad_lines_and_finds_the_actives() {
    let (_, e) = embedder();
    let lines = fixture_lines();
    // Actives taken from library lines 5 and 150 must come back as the top two hits.
    let queries = [lines[4].as_str(), lines[149].as_str()];
    let scorer = EmbeddingScorer::new(e, Aggregate::Max, &queries).unwrap();
    let reader = chemlm_data::open_input(Some(&fixture_path())).unwrap();
    let opts = ScreenOptions {
        top: 10,
        chunk_size: 64,
        batch_size: 16,
        skip_header: false,
        first_line: 0,
    };
    let mut bad = Vec::new();
    let s = screen(
        reader,
        "fixture",
        &scorer,
        &opts,
        |b| bad.push(b.line),
        |_| {},
    )
    .unwrap();
    // Lines 11 (`C1CC`) and 201 (`C(C(C`) do not parse. Line 101 (`c1cccc1`) parses but cannot
    // be kekulized: embeddings refuse it as fingerprints do (the same sanitize check).
    assert_eq!(bad, vec![11, 101, 201]);
    assert_eq!(s.scored + s.invalid, s.lines);
    let top2: Vec<u64> = s.hits.iter().take(2).map(|h| h.line).collect();
    assert!(top2.contains(&5) && top2.contains(&150), "{:?}", s.hits);
    assert!(s.hits.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn loads_from_a_model_directory() {
    let (valid, model, tok) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let tok_path = dir.path().join("tok.json");
    tok.save(&tok_path).unwrap();
    model.save(&dir.path().join("m"), Some(&tok_path)).unwrap();
    let loaded =
        ModelEmbedder::load(&dir.path().join("m"), false, &candle_core::Device::Cpu).unwrap();
    let mem = ModelEmbedder::new(model.clone(), tok, false).unwrap();
    let a = loaded.embed_batch(&[valid[0].as_str()]).remove(0).unwrap();
    let b = mem.embed_batch(&[valid[0].as_str()]).remove(0).unwrap();
    assert_eq!(a, b);
    assert_eq!(loaded.dim(), 16);
    let other = Tokenizer::build(TokenizerKind::Smiles, ["CCO"], &VocabConfig::default()).unwrap();
    assert!(ModelEmbedder::new(model, other, false).is_err());
}

/// A toy DUD-E layout from the fixture: the embedding protocol runs, is seeded, and its metrics
/// are in range; the fingerprint protocol runs on the same files.
#[test]
fn dude_protocol_on_embeddings() {
    let (valid, e) = embedder();
    let root = tempfile::tempdir().unwrap();
    let t = root.path().join("toy");
    std::fs::create_dir_all(&t).unwrap();
    let write = |p: &Path, mols: &[String]| std::fs::write(p, mols.join("\n") + "\n").unwrap();
    // "Actives": molecules with an amide; "decoys": the rest (a learnable split for ECFP).
    let (act, dec): (Vec<String>, Vec<String>) =
        valid.iter().cloned().partition(|s| s.contains("C(=O)N"));
    write(&t.join("actives_final.ism.gz"), &act);
    write(&t.join("decoys_final.ism.gz"), &dec);
    let cfg = DudeConfig {
        repeats: 5,
        ..DudeConfig::default()
    };
    let r = bench_target_embedded(root.path(), "toy", &cfg, &e, 32).unwrap();
    let again = bench_target_embedded(root.path(), "toy", &cfg, &e, 7).unwrap();
    // Batching changes only float summation order, not the ranking.
    assert!(
        (r.roc_auc - again.roc_auc).abs() < 1e-6,
        "{r:?} vs {again:?}"
    );
    assert!((r.ef1 - again.ef1).abs() < 1e-6);
    // Every parsed molecule but `c1cccc1` (cannot be kekulized, refused as by fingerprints).
    assert_eq!(r.actives + r.decoys, valid.len() - 1);
    assert!((0.0..=1.0).contains(&r.roc_auc) && (0.0..=1.0).contains(&r.bedroc));
    let fp = bench_target(root.path(), "toy", &cfg).unwrap();
    assert_eq!((fp.actives, fp.decoys), (r.actives, r.decoys));
    assert!(fp.roc_auc > 0.5, "ECFP4 should separate amides: {fp:?}");
}
