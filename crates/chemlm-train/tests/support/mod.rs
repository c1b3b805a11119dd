//! Builders shared by the test binaries that use chemlm's real pieces (unlike `common`, whose
//! tiny model stands in for them): golden-file readers, the fixture molecules with labels
//! computed from themselves, tiny MoLFormers saved as model directories, and a batch source that
//! crashes mid-run. Each test binary uses a subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use candle_core::Device;
use chemlm_chem::Molecule;
use chemlm_data::{TaskType, Tokenizer, TokenizerKind, VocabConfig};
use chemlm_models::{presets, Model, ModelConfig};
use chemlm_train::data::{Batch, BatchSource};
use chemlm_train::TrainError;
use serde_json::Value;

// ---- golden files --------------------------------------------------------------------------

/// `tests/golden/<name>` (written by a script under `scripts/`).
pub fn golden(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A JSON array of numbers as f32; `null` (how the golden scripts write NaN, which JSON lacks)
/// reads as NaN, anything else panics.
pub fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            if x.is_null() {
                f32::NAN
            } else {
                x.as_f64().unwrap() as f32
            }
        })
        .collect()
}

/// A JSON array of sizes.
pub fn shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

// ---- fixture molecules and tiny models -----------------------------------------------------

/// The first `n` molecules of `fixtures/moses-mini.smi` that parse and canonicalise (lines 11,
/// 101 and 201 are invalid on purpose).
pub fn fixture_smiles(n: usize) -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/moses-mini.smi");
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|s| {
            Molecule::from_smiles(s)
                .and_then(|m| m.canonical_smiles())
                .is_ok()
        })
        .take(n)
        .collect()
}

/// A SMILES tokenizer built on `smiles`, saved as `dir/tok.json`.
pub fn fixture_tokenizer(smiles: &[String], dir: &Path) -> Tokenizer {
    let tok = Tokenizer::build(
        TokenizerKind::Smiles,
        smiles.iter().map(String::as_str),
        &VocabConfig::default(),
    )
    .unwrap();
    tok.save(&dir.join("tok.json")).unwrap();
    tok
}

/// Saves a one-layer MoLFormer of width `hidden` (init `seed`) for `tok` as the model directory
/// `dir/name`, pointing at `dir/tok.json`.
pub fn save_tiny_molformer(
    dir: &Path,
    name: &str,
    tok: &Tokenizer,
    seed: u64,
    hidden: usize,
) -> PathBuf {
    let mut cfg = presets::preset("molformer-small").unwrap();
    if let ModelConfig::Molformer(c) = &mut cfg {
        c.hidden_size = hidden;
        c.num_hidden_layers = 1;
        c.num_attention_heads = 2;
        c.intermediate_size = hidden;
        c.num_random_features = 8;
        c.max_position_embeddings = 80;
    }
    cfg.set_vocab_size(tok.vocab_size());
    let model = Model::new(&cfg, &Device::Cpu, seed).unwrap();
    let out = dir.join(name);
    model.save(&out, Some(&dir.join("tok.json"))).unwrap();
    out
}

/// Two labels per molecule, computed from it, row-major. Classification: rings ≥ 3, and
/// atoms ≥ 24 (missing for every 5th molecule). Regression: atoms / 10, and the ring count
/// (missing for every `missing_rings_every`-th molecule, when given).
pub fn computed_labels(
    smiles: &[String],
    task: TaskType,
    missing_rings_every: Option<usize>,
) -> Vec<Option<f64>> {
    smiles
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let m = Molecule::from_smiles(s).unwrap();
            let (rings, atoms) = (m.num_rings() as f64, m.num_heavy_atoms() as f64);
            match task {
                TaskType::Classification => vec![
                    Some(f64::from(rings >= 3.0)),
                    (i % 5 != 0).then_some(f64::from(atoms >= 24.0)),
                ],
                _ => vec![
                    Some(atoms / 10.0),
                    missing_rings_every
                        .is_none_or(|k| i % k != 0)
                        .then_some(rings),
                ],
            }
        })
        .collect()
}

// ---- crash injection -----------------------------------------------------------------------

/// Fails after `left` batches: a crash in the middle of a run.
pub struct CrashAfter<S> {
    pub inner: S,
    pub left: usize,
}

impl<S: BatchSource> BatchSource for CrashAfter<S> {
    fn next_batch(&mut self) -> chemlm_train::Result<Option<Batch>> {
        if self.left == 0 {
            return Err(TrainError::Data("simulated crash".into()));
        }
        self.left -= 1;
        self.inner.next_batch()
    }
    fn state(&self) -> serde_json::Value {
        self.inner.state()
    }
    fn restore(&mut self, s: &serde_json::Value) -> chemlm_train::Result<()> {
        self.inner.restore(s)
    }
    fn reset(&mut self) {
        self.inner.reset()
    }
}
