//! The attention analysis: token ↔ atom mapping on hand-written molecules, exact statistics on
//! hand-made maps, and a whole run on the committed QM9 geometry fixture.

use candle_core::Device;
use chemlm_analysis::attention::{compare, map_atom_tokens, MoleculeInput};
use chemlm_analysis::stats::symmetrize_zero_diagonal;
use chemlm_analysis::{analyze_attention, AttentionOptions};
use chemlm_atoms::io::{read_qm9, ReadOptions};
use chemlm_chem::Molecule;
use chemlm_data::{Tokenizer, TokenizerKind, VocabConfig};
use chemlm_models::config::MolformerAttention;
use chemlm_models::{presets, Model, ModelConfig};
use std::path::PathBuf;

const HAND_WRITTEN: [&str; 6] = [
    "C[C@@H](N)C(=O)O",
    "c1cc[nH]c1",
    "[NH3+]CC(=O)[O-]",
    "Cl/C=C/Br",
    "C1CC2CCC1C2",
    "OC%12CC%12.[2H]C",
];

fn tokenizer(extra: &[&str]) -> Tokenizer {
    let corpus: Vec<&str> = HAND_WRITTEN.iter().chain(extra).copied().collect();
    Tokenizer::build(TokenizerKind::Smiles, corpus, &VocabConfig::default()).unwrap()
}

#[test]
fn atom_tokens_line_up_with_atoms_through_brackets_rings_and_stereo() {
    let tok = tokenizer(&[]);
    // (SMILES, sequence positions of the atom tokens after <bos>, atomic numbers, bonds)
    #[allow(clippy::type_complexity)]
    let cases: [(&str, Vec<usize>, Vec<u8>, Vec<(usize, usize)>); 6] = [
        (
            "C[C@@H](N)C(=O)O",
            vec![1, 2, 4, 6, 9, 11],
            vec![6, 6, 7, 6, 8, 8],
            vec![(0, 1), (1, 2), (1, 3), (3, 4), (3, 5)],
        ),
        (
            "c1cc[nH]c1",
            vec![1, 3, 4, 5, 6],
            vec![6, 6, 6, 7, 6],
            vec![(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)],
        ),
        (
            "[NH3+]CC(=O)[O-]",
            vec![1, 2, 3, 6, 8],
            vec![7, 6, 6, 8, 8],
            vec![(0, 1), (1, 2), (2, 3), (2, 4)],
        ),
        (
            "Cl/C=C/Br",
            vec![1, 3, 5, 7],
            vec![17, 6, 6, 35],
            vec![(0, 1), (1, 2), (2, 3)],
        ),
        (
            "C1CC2CCC1C2",
            vec![1, 3, 4, 6, 7, 8, 10],
            vec![6; 7],
            vec![
                (0, 1),
                (1, 2),
                (2, 3),
                (3, 4),
                (4, 5),
                (0, 5),
                (5, 6),
                (2, 6),
            ],
        ),
        (
            "OC%12CC%12.[2H]C",
            vec![1, 2, 4, 5, 8, 9],
            vec![8, 6, 6, 6, 1, 6],
            vec![(0, 1), (1, 2), (2, 3), (1, 3), (4, 5)],
        ),
    ];
    for (smiles, positions, numbers, bonds) in cases {
        let mol = Molecule::from_smiles(smiles).unwrap();
        let m = map_atom_tokens(&tok, smiles, &mol).unwrap();
        assert_eq!(m.atom_positions, positions, "{smiles}");
        assert_eq!(m.graph.numbers, numbers, "{smiles}");
        let mut got = m.graph.bonds.clone();
        got.sort_unstable();
        let mut want = bonds.clone();
        want.sort_unstable();
        assert_eq!(got, want, "{smiles}");
        for (&p, s) in m.atom_positions.iter().zip(&m.symbols) {
            assert_eq!(tok.vocab().token(m.ids[p]), Some(s.as_str()), "{smiles}");
        }
    }
}

/// Propane's chain 0-1-2 plus a fourth atom: butane C0-C1-C2-C3 with planar zig-zag coordinates.
fn butane() -> (Vec<Option<u32>>, Vec<f64>) {
    let g =
        chemlm_analysis::topology::MolGraph::from_molecule(&Molecule::from_smiles("CCCC").unwrap());
    let pos = [
        [0.0, 0.0, 0.0],
        [1.25, 0.9, 0.0],
        [2.5, 0.0, 0.0],
        [3.75, 0.9, 0.0],
    ];
    let mut d = vec![0.0; 16];
    for i in 0..4 {
        for j in 0..4 {
            d[i * 4 + j] = chemlm_analysis::topology::distance(&pos[i], &pos[j]);
        }
    }
    (g.topological_distances(), d)
}

#[test]
fn statistics_are_exact_on_hand_made_maps() {
    let (bonds_apart, dist) = butane();
    // Attention exactly on bonded neighbours: cosine 1 with the 1-bond class, 0 with the others.
    let bonded: Vec<f64> = bonds_apart
        .iter()
        .map(|d| if *d == Some(1) { 1.0 } else { 0.0 })
        .collect();
    let c = compare(&bonded, &bonds_apart, &dist, 4);
    assert!((c.cosine[0].unwrap() - 1.0).abs() < 1e-15);
    assert_eq!(c.cosine[1], Some(0.0));
    assert_eq!(c.cosine[2], Some(0.0));
    // Butane has no pair 4+ bonds apart.
    assert_eq!(c.cosine[3], None);
    // Attention falling with distance: Spearman exactly -1.
    let inverse: Vec<f64> = dist
        .iter()
        .map(|&d| if d > 0.0 { 1.0 / d } else { 0.0 })
        .collect();
    assert_eq!(
        compare(&inverse, &bonds_apart, &dist, 4).spearman_distance,
        Some(-1.0)
    );
    // Uniform off-diagonal map: cosine with a class of k of the 12 ordered pairs is sqrt(k / 12).
    let mut uniform = vec![1.0; 16];
    symmetrize_zero_diagonal(&mut uniform, 4);
    let c = compare(&uniform, &bonds_apart, &dist, 4);
    for (class, k) in [(0, 6.0), (1, 4.0), (2, 2.0)] {
        let want = (k / 12.0f64).sqrt();
        assert!(
            (c.cosine[class].unwrap() - want).abs() < 1e-15,
            "class {class}"
        );
    }
    assert_eq!(c.spearman_distance, None);
    // An asymmetric map is symmetrised first: rows (query) 0..3 of a hand-made map.
    let mut raw = vec![
        0.1, 0.6, 0.2, 0.1, //
        0.3, 0.0, 0.5, 0.2, //
        0.0, 0.4, 0.2, 0.4, //
        0.2, 0.2, 0.6, 0.0,
    ];
    symmetrize_zero_diagonal(&mut raw, 4);
    // Pairs: (0,1) 0.45, (1,2) 0.45, (2,3) 0.5 bonded; (0,2) 0.1, (1,3) 0.2; (0,3) 0.15.
    let norm = (2.0f64 * (0.45 * 0.45 + 0.45 * 0.45 + 0.25 + 0.01 + 0.04 + 0.0225)).sqrt();
    let c = compare(&raw, &bonds_apart, &dist, 4);
    let cos1 = 2.0 * (0.45 + 0.45 + 0.5) / (norm * 6f64.sqrt());
    let cos2 = 2.0 * (0.1 + 0.2) / (norm * 4f64.sqrt());
    let cos3 = 2.0 * 0.15 / (norm * 2f64.sqrt());
    assert!((c.cosine[0].unwrap() - cos1).abs() < 1e-12);
    assert!((c.cosine[1].unwrap() - cos2).abs() < 1e-12);
    assert!((c.cosine[2].unwrap() - cos3).abs() < 1e-12);
}

fn fixture() -> Vec<MoleculeInput> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/qm9-xyz-mini.csv");
    let read = read_qm9(&path, &ReadOptions::default()).unwrap();
    assert!(read.is_clean());
    read.structures
        .iter()
        .enumerate()
        .map(|(k, s)| MoleculeInput::from_structure(s, k + 1).unwrap())
        .collect()
}

fn tiny(attention: MolformerAttention, tok: &Tokenizer) -> Model {
    let mut cfg = presets::preset("molformer-tiny").unwrap();
    if let ModelConfig::Molformer(c) = &mut cfg {
        c.attention_type = attention;
    }
    cfg.set_vocab_size(tok.vocab_size());
    Model::new(&cfg, &Device::Cpu, 7).unwrap()
}

#[test]
fn whole_run_on_the_qm9_fixture_matches_every_geometry_and_is_batch_invariant() {
    let mols = fixture();
    let canon: Vec<String> = mols
        .iter()
        .map(|m| chemlm_chem::canonicalize(&m.smiles).unwrap())
        .collect();
    let tok = tokenizer(&canon.iter().map(String::as_str).collect::<Vec<_>>());
    for attention in [MolformerAttention::Linear, MolformerAttention::Full] {
        let model = tiny(attention, &tok);
        let opts = AttentionOptions {
            batch_size: 7,
            ..AttentionOptions::default()
        };
        let mut calls = 0;
        let r = analyze_attention(&model, "tiny", &tok, &mols, &opts, |_, _| calls += 1).unwrap();
        assert_eq!(calls, mols.len().div_ceil(7));
        assert_eq!(r.molecules_selected, mols.len());
        assert_eq!(r.analysed + r.skipped, mols.len());
        // Only molecules below 3 atoms may be skipped: every geometry matches its SMILES.
        assert!(
            r.skip_reasons.keys().all(|k| k == "too few atoms"),
            "{:?}",
            r.skipped_examples
        );
        assert!(r.analysed >= mols.len() - 2);
        assert_eq!(r.atom_order_identity + r.atom_order_permuted, r.analysed);
        assert_eq!((r.layers, r.heads), (2, 4));
        for l in &r.per_layer {
            assert_eq!(l.heads.len(), 4);
            // Every analysed molecule has bonded pairs and a non-constant distance matrix.
            assert_eq!(l.head_mean.cosine[0].n, r.analysed);
            let m = l.head_mean.cosine[0].mean.unwrap();
            assert!(m > 0.0 && m <= 1.0);
            let rho = l.head_mean.spearman_distance.mean.unwrap();
            assert!((-1.0..=1.0).contains(&rho));
            // Ring closures and bonds after branches give far bonded pairs.
            let auc = &l.head_mean.far_bond_auc;
            assert!(auc.n > 10 && auc.n <= r.analysed, "{auc:?}");
            assert!((0.0..=1.0).contains(&auc.mean.unwrap()));
        }
        let ex = r.example.as_ref().unwrap();
        assert_eq!(ex.id, "62509");
        assert!(r.sequence_baseline.far_bond_auc.n > 10);
        assert_eq!(ex.atoms.len(), 9);
        assert_eq!(ex.attention.len(), 9);
        // Padding must not change any map: one molecule per pass gives the same statistics.
        let single = AttentionOptions {
            batch_size: 1,
            ..opts.clone()
        };
        let r1 = analyze_attention(&model, "tiny", &tok, &mols, &single, |_, _| {}).unwrap();
        for (a, b) in r.per_layer.iter().zip(&r1.per_layer) {
            for (x, y) in a
                .heads
                .iter()
                .chain([&a.head_mean])
                .zip(b.heads.iter().chain([&b.head_mean]))
            {
                for (s, t) in x.cosine.iter().zip(&y.cosine) {
                    assert!((s.mean.unwrap() - t.mean.unwrap()).abs() < 1e-5);
                }
            }
        }
        // Sampling is seeded: the same seed draws the same molecules.
        let sample = AttentionOptions {
            limit: Some(10),
            seed: 3,
            ..opts.clone()
        };
        let a = analyze_attention(&model, "tiny", &tok, &mols, &sample, |_, _| {}).unwrap();
        let b = analyze_attention(&model, "tiny", &tok, &mols, &sample, |_, _| {}).unwrap();
        assert_eq!(a.molecules_selected, 10);
        assert_eq!(a, b);
    }
}

#[test]
fn a_selfies_model_or_no_analysable_molecule_is_an_error() {
    let mols = fixture();
    let tok = tokenizer(&[]);
    let model = tiny(MolformerAttention::Linear, &tok);
    let selfies =
        Tokenizer::build(TokenizerKind::Selfies, ["[C][O]"], &VocabConfig::default()).unwrap();
    let err = analyze_attention(
        &model,
        "t",
        &selfies,
        &mols,
        &AttentionOptions::default(),
        |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("SMILES tokenizer"), "{err}");
    // Geometries that belong to other molecules: every molecule is skipped with its reason.
    let mut shuffled = mols.clone();
    shuffled.rotate_left(1);
    for (m, orig) in shuffled.iter_mut().zip(&mols) {
        m.smiles = orig.smiles.clone();
    }
    let err = analyze_attention(
        &model,
        "t",
        &tok,
        &shuffled[..5],
        &AttentionOptions::default(),
        |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("were skipped"), "{err}");
}

fn golden() -> serde_json::Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/attention.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Against RDKit (canonical SMILES, topological distances, its own SMILES → xyz matching) and
/// NumPy/SciPy (cosine, Spearman), from `scripts/gen_attention_golden.py`.
#[test]
fn topology_matching_and_statistics_equal_rdkit_and_scipy() {
    let g = golden();
    let mols = fixture();
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), mols.len());
    let mut compared = 0;
    for (case, m) in cases.iter().zip(&mols) {
        assert_eq!(case["id"].as_str().unwrap(), m.id);
        let canonical = chemlm_chem::canonicalize(&m.smiles).unwrap();
        assert_eq!(canonical, case["canonical"].as_str().unwrap());
        let graph = chemlm_analysis::topology::MolGraph::from_molecule(
            &Molecule::from_smiles(&canonical).unwrap(),
        );
        let n = graph.len();
        let topo: Vec<Option<u32>> = case["bonds_apart"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| Some(v.as_u64().unwrap() as u32))
            })
            .collect();
        assert_eq!(graph.topological_distances(), topo, "{canonical}");
        if case.get("distances").is_none() {
            continue;
        }
        let matched =
            chemlm_analysis::topology::match_to_geometry(&graph, &m.numbers, &m.positions).unwrap();
        let mut ours = vec![Vec::new(); 4];
        for i in 0..n {
            for j in 0..n {
                if let Some(c) = chemlm_analysis::stats::class_of(topo[i * n + j]) {
                    ours[c].push(chemlm_analysis::topology::distance(
                        &m.positions[matched.geometry_index[i]],
                        &m.positions[matched.geometry_index[j]],
                    ));
                }
            }
        }
        for (c, want) in case["distances_by_class"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            ours[c].sort_by(f64::total_cmp);
            let want: Vec<f64> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(ours[c].len(), want.len());
            for (a, b) in ours[c].iter().zip(&want) {
                assert!((a - b).abs() < 2e-6, "{canonical}: class {c}: {a} vs {b}");
            }
        }
        let flat = |key: &str| -> Vec<f64> {
            case[key]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
                .collect()
        };
        let mut map = flat("raw_map");
        symmetrize_zero_diagonal(&mut map, n);
        let c = compare(&map, &topo, &flat("distances"), n);
        for (k, want) in case["cosine"].as_array().unwrap().iter().enumerate() {
            match want.as_f64() {
                Some(w) => assert!((c.cosine[k].unwrap() - w).abs() < 1e-12, "{canonical}"),
                None => assert_eq!(c.cosine[k], None),
            }
        }
        let rho = case["spearman"].as_f64().unwrap();
        assert!(
            (c.spearman_distance.unwrap() - rho).abs() < 1e-12,
            "{canonical}"
        );
        compared += 1;
    }
    assert!(compared >= 39);
}

/// MoLFormer-XL's released vocabulary (`ibm/MoLFormer-XL-both-10pct`'s `vocab.json`, as the Hub
/// tokenizer tests keep it) lines its atom tokens up with the atoms of every fixture molecule.
#[test]
fn molformer_xl_vocabulary_maps_atom_tokens() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../chemlm-data/tests/golden/hub-tokenizers/molformer-vocab");
    let tok = Tokenizer::load_dir(&dir).unwrap();
    for m in fixture() {
        let canonical = chemlm_chem::canonicalize(&m.smiles).unwrap();
        let mol = Molecule::from_smiles(&canonical).unwrap();
        let mapped = map_atom_tokens(&tok, &canonical, &mol).unwrap();
        assert_eq!(mapped.atom_positions.len(), mol.num_atoms());
    }
}

/// Cyclohexane written C1CCCCC1: the ring-closure bond (atoms 0 and 5, six tokens apart) is the
/// only bonded pair among pairs 3+ tokens apart.
#[test]
fn far_bond_auc_sees_the_ring_closure_the_string_hides() {
    use chemlm_analysis::attention::far_bond_auc;
    let tok = tokenizer(&["C1CCCCC1"]);
    let mol = Molecule::from_smiles("C1CCCCC1").unwrap();
    let m = map_atom_tokens(&tok, "C1CCCCC1", &mol).unwrap();
    assert_eq!(m.atom_positions, vec![1, 3, 4, 5, 6, 7]);
    let topo = m.graph.topological_distances();
    let n = 6;
    // Attention on bonded atoms: the closure pair outranks every far non-bonded pair.
    let bonded: Vec<f64> = topo
        .iter()
        .map(|d| if *d == Some(1) { 1.0 } else { 0.1 })
        .collect();
    assert_eq!(
        far_bond_auc(&bonded, &topo, &m.atom_positions, n),
        Some(1.0)
    );
    // Attention to nearby tokens ranks the closure last.
    let mut near = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                near[i * n + j] = 1.0 / m.atom_positions[i].abs_diff(m.atom_positions[j]) as f64;
            }
        }
    }
    assert_eq!(far_bond_auc(&near, &topo, &m.atom_positions, n), Some(0.0));
    // Uniform attention: all ties, chance.
    assert_eq!(
        far_bond_auc(&[1.0; 36], &topo, &m.atom_positions, n),
        Some(0.5)
    );
    // A chain has no far bonded pair.
    let chain = Molecule::from_smiles("CCCCCC").unwrap();
    let c = map_atom_tokens(&tok, "CCCCCC", &chain).unwrap();
    let t = c.graph.topological_distances();
    assert_eq!(far_bond_auc(&[1.0; 36], &t, &c.atom_positions, n), None);
}
