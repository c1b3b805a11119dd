//! Attention maps against molecular structure (MoLFormer's QM9 analysis).
//!
//! For each molecule: the SMILES (canonicalised by default, as MoLFormer's pipeline feeds it) is
//! tokenised; its atom tokens are matched to the atoms of the parsed molecule (k-th atom token =
//! k-th atom) and through the graph matching of [`crate::topology`] to the DFT geometry; one forward
//! pass returns every layer's attention maps (for linear attention materialised from the feature
//! maps, `phi(q_i) . phi(k_j) / (phi(q_i) . sum_k phi(k_k))`); each head's map among atom tokens,
//! and the mean over heads, is compared with the topological classes and the 3-D distances
//! ([`crate::stats`]). Averages over molecules with standard errors go to [`AttentionReport`],
//! beside the same statistics for a uniform attention map (the chance level of the cosine).

use crate::error::{AnalysisError, Result};
use crate::stats::{self, Running, CLASSES};
use crate::tokens::atom_token_indices;
use crate::topology::{match_to_geometry, MolGraph};
use candle_core::IndexOp;
use chemlm_atoms::Structure;
use chemlm_data::tokenizer::{OovPolicy, Tokenizer, TokenizerKind};
use chemlm_models::traits::{LanguageModel, LmKind, OutputRequest};
use chemlm_models::Model;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One molecule to analyse: an identifier, its SMILES and its geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct MoleculeInput {
    /// QM9's `gdb_idx`, or the record number.
    pub id: String,
    pub smiles: String,
    pub numbers: Vec<u8>,
    /// Å.
    pub positions: Vec<[f64; 3]>,
}

impl MoleculeInput {
    /// From a QM9 structure (`chemlm_atoms::io::read_qm9`), which keeps `gdb_idx` and `smiles` in
    /// its info; `None` without a SMILES.
    pub fn from_structure(s: &Structure, record: usize) -> Option<Self> {
        let smiles = match s.info.get("smiles")? {
            chemlm_atoms::structure::Value::Str(t) => t.clone(),
            _ => return None,
        };
        let id = match s.info.get("gdb_idx") {
            Some(chemlm_atoms::structure::Value::Int(i)) => i.to_string(),
            Some(chemlm_atoms::structure::Value::Str(t)) => t.clone(),
            _ => format!("record {record}"),
        };
        Some(Self {
            id,
            smiles,
            numbers: s.numbers.clone(),
            positions: s.positions.clone(),
        })
    }
}

/// Settings of [`analyze_attention`].
#[derive(Debug, Clone)]
pub struct AttentionOptions {
    /// Analyse at most this many molecules, drawn at random (seeded) from the input; all if
    /// `None`. QM9 is sorted by size, so the first rows alone would be the smallest molecules.
    pub limit: Option<usize>,
    pub seed: u64,
    /// Molecules per forward pass.
    pub batch_size: usize,
    /// Canonicalise SMILES before tokenising (MoLFormer's pipeline; MOSES is canonical).
    pub canonicalize: bool,
    /// Molecules with fewer atoms are skipped (the statistics need a few atom pairs).
    pub min_atoms: usize,
    /// Identifier of the molecule drawn in the example figure (drawn even if the sample left it
    /// out); if absent from the input, the first analysed molecule with at least 6 atoms.
    pub example_id: Option<String>,
}

impl Default for AttentionOptions {
    fn default() -> Self {
        Self {
            limit: None,
            seed: 0,
            batch_size: 32,
            canonicalize: true,
            min_atoms: 3,
            // gdb_62509, CC1(C)C(C)(O)C1(C)O: the molecule of MoLFormer's Figure 4.
            example_id: Some("62509".into()),
        }
    }
}

/// Mean, standard error and count of one statistic over molecules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub mean: Option<f64>,
    pub sem: Option<f64>,
    pub n: usize,
}

impl From<&Running> for Stat {
    fn from(r: &Running) -> Self {
        Self {
            mean: r.mean(),
            sem: r.sem(),
            n: r.count(),
        }
    }
}

/// The statistics of one head (or of the head mean) of one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadStats {
    /// Cosine similarity with each topological class, in [`CLASSES`] order.
    pub cosine: Vec<Stat>,
    /// Spearman correlation with the 3-D distance.
    pub spearman_distance: Stat,
    /// Among atom pairs at least [`FAR_GAP`] tokens apart in the string, the probability that a
    /// bonded pair gets more attention than a non-bonded one (ROC AUC; 0.5 = chance). Such bonds
    /// are ring closures and bonds around branches: structure the string does not put side by
    /// side, so attention to nearby tokens cannot find them.
    pub far_bond_auc: Stat,
}

/// One layer: each head and the mean of the heads' maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// 1-based, as the paper numbers layers.
    pub layer: usize,
    pub head_mean: HeadStats,
    pub heads: Vec<HeadStats>,
}

/// A molecule left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    pub smiles: String,
    pub reason: String,
}

/// The molecule of the example figure: atoms, the chosen layer's head-mean attention among atom
/// tokens (symmetrised, zero diagonal) and the distances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub id: String,
    /// The SMILES the model read.
    pub smiles: String,
    pub layer: usize,
    pub atoms: Vec<String>,
    pub attention: Vec<Vec<f64>>,
    pub distance_angstrom: Vec<Vec<f64>>,
    pub bonds_apart: Vec<Vec<Option<u32>>>,
}

/// Everything [`analyze_attention`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionReport {
    pub model: String,
    pub architecture: String,
    /// `linear` or `full` (MoLFormer), `softmax` otherwise.
    pub attention: String,
    pub layers: usize,
    pub heads: usize,
    pub canonicalized: bool,
    pub classes: Vec<String>,
    pub molecules_read: usize,
    pub molecules_selected: usize,
    pub analysed: usize,
    pub skipped: usize,
    /// Skips by cause.
    pub skip_reasons: BTreeMap<String, usize>,
    /// The first skipped molecules (at most 50), with reasons.
    pub skipped_examples: Vec<Skipped>,
    /// Analysed molecules whose geometry lists the heavy atoms in SMILES order, and the others.
    pub atom_order_identity: usize,
    pub atom_order_permuted: usize,
    pub per_layer: Vec<LayerStats>,
    /// A uniform map (all off-diagonal weights equal) on the same molecules: the cosine that
    /// carries no structural information, per class.
    pub uniform_baseline: Vec<Stat>,
    /// A map that only knows the string: weight `1 / |t_i - t_j|` for atom tokens at sequence
    /// positions `t_i`, `t_j`. Atoms written next to each other are often bonded, so this is what
    /// attention to nearby tokens (e.g. from rotary positions) gets without learning chemistry.
    pub sequence_baseline: HeadStats,
    /// Highest mean cosine with the 1-bond class: (layer, head or `None` for the head mean).
    pub best_bonded: Option<(usize, Option<usize>, f64)>,
    /// Most negative mean Spearman correlation with distance.
    pub best_distance: Option<(usize, Option<usize>, f64)>,
    /// Highest mean far-bond AUC.
    pub best_far_bond: Option<(usize, Option<usize>, f64)>,
    pub example: Option<Example>,
}

/// Why a molecule is skipped, by cause (the key in [`AttentionReport::skip_reasons`]).
#[derive(Debug, Clone)]
struct Skip {
    cause: &'static str,
    reason: String,
}

fn skip(cause: &'static str, reason: impl Into<String>) -> Skip {
    Skip {
        cause,
        reason: reason.into(),
    }
}

/// A molecule ready for the forward pass.
#[derive(Debug, Clone)]
struct Prepared {
    id: String,
    text: String,
    ids: Vec<u32>,
    /// Sequence positions of the atom tokens (special tokens counted).
    atom_positions: Vec<usize>,
    symbols: Vec<String>,
    bonds_apart: Vec<Option<u32>>,
    /// Row-major 3-D distances (Å) in SMILES atom order.
    distances: Vec<f64>,
    identity: bool,
}

impl Prepared {
    fn n(&self) -> usize {
        self.atom_positions.len()
    }
}

/// A SMILES's token ids with its atom tokens located.
#[derive(Debug, Clone, PartialEq)]
pub struct AtomTokens {
    /// `<bos>` tokens `<eos>`.
    pub ids: Vec<u32>,
    /// Sequence position (into `ids`) of atom `k` of `graph`.
    pub atom_positions: Vec<usize>,
    /// The token text of each atom.
    pub symbols: Vec<String>,
    pub graph: MolGraph,
}

/// Tokenises `text` (the SMILES `mol` was parsed from) and pairs the k-th atom token with the k-th
/// atom of `mol`. The error says why the tokens and atoms do not line up.
pub fn map_atom_tokens(
    tok: &Tokenizer,
    text: &str,
    mol: &chemlm_chem::Molecule,
) -> std::result::Result<AtomTokens, String> {
    let tokens = tok.tokenize(text).map_err(|e| e.to_string())?;
    let ids = tok
        .encode_with(text, true, OovPolicy::Unk)
        .map_err(|e| e.to_string())?;
    // `<bos>` tokens `<eos>`: token k sits at position k + 1.
    let sp = tok.special_ids();
    if ids.len() != tokens.len() + 2 || ids[0] != sp.bos || ids[ids.len() - 1] != sp.eos {
        return Err(format!(
            "{} ids for {} tokens: the encoding is not <bos> tokens <eos>",
            ids.len(),
            tokens.len()
        ));
    }
    let atom_tokens = atom_token_indices(&tokens);
    let graph = MolGraph::from_molecule(mol);
    if atom_tokens.len() != graph.len() {
        return Err(format!(
            "{} atom tokens but {} atoms in {text:?}",
            atom_tokens.len(),
            graph.len()
        ));
    }
    Ok(AtomTokens {
        ids,
        atom_positions: atom_tokens.iter().map(|&k| k + 1).collect(),
        symbols: atom_tokens.iter().map(|&k| tokens[k].to_string()).collect(),
        graph,
    })
}

fn prepare(
    tok: &Tokenizer,
    m: &MoleculeInput,
    canonicalize: bool,
    max_len: usize,
    min_atoms: usize,
) -> std::result::Result<Prepared, Skip> {
    let mol = chemlm_chem::Molecule::from_smiles(&m.smiles)
        .map_err(|e| skip("invalid SMILES", e.to_string()))?;
    let (text, mol) = if canonicalize {
        let c = mol
            .canonical_smiles()
            .map_err(|e| skip("invalid SMILES", e.to_string()))?;
        let parsed = chemlm_chem::Molecule::from_smiles(&c)
            .map_err(|e| skip("invalid SMILES", format!("canonical form {c:?}: {e}")))?;
        (c, parsed)
    } else {
        (m.smiles.trim().to_string(), mol)
    };
    let mapped = map_atom_tokens(tok, &text, &mol).map_err(|e| skip("tokenizer", e))?;
    let (ids, atom_positions, symbols, graph) = (
        mapped.ids,
        mapped.atom_positions,
        mapped.symbols,
        mapped.graph,
    );
    if ids.len() > max_len {
        return Err(skip(
            "too long",
            format!(
                "{} tokens, more than the model's {max_len} positions",
                ids.len()
            ),
        ));
    }
    if graph.len() < min_atoms {
        return Err(skip(
            "too few atoms",
            format!("{} atoms (at least {min_atoms} needed)", graph.len()),
        ));
    }
    let matched = match_to_geometry(&graph, &m.numbers, &m.positions)
        .map_err(|e| skip("geometry mismatch", e))?;
    let n = graph.len();
    let mut distances = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            distances[i * n + j] = crate::topology::distance(
                &m.positions[matched.geometry_index[i]],
                &m.positions[matched.geometry_index[j]],
            );
        }
    }
    Ok(Prepared {
        id: m.id.clone(),
        symbols,
        atom_positions,
        text,
        ids,
        bonds_apart: graph.topological_distances(),
        distances,
        identity: matched.identity,
    })
}

/// Per layer, per head (the head mean last): the symmetrised, zero-diagonal map among atom tokens.
type AtomMaps = Vec<Vec<Vec<f64>>>;

/// One forward pass over `batch`; the atom-token maps of each molecule.
fn attention_maps(model: &Model, batch: &[&Prepared], pad: u32) -> Result<Vec<AtomMaps>> {
    let seqs: Vec<&[u32]> = batch.iter().map(|p| p.ids.as_slice()).collect();
    let (ids, mask) = chemlm_models::encode::pad_batch(&seqs, pad, model.device())?;
    let request = OutputRequest {
        logits: false,
        hidden_states: false,
        attentions: true,
    };
    let out = chemlm_models::grad_mode::inference(|| {
        model.forward_detailed(&ids, &mask, false, request)
    })?;
    let s = ids.dim(1)?;
    let mut per_mol: Vec<AtomMaps> = vec![Vec::with_capacity(out.attentions.len()); batch.len()];
    for layer in &out.attentions {
        let heads = layer.dim(1)?;
        for (b, p) in batch.iter().enumerate() {
            let maps = layer
                .i(b)?
                .to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let n = p.n();
            let mut layer_maps = Vec::with_capacity(heads + 1);
            let mut mean = vec![0.0; n * n];
            for h in 0..heads {
                let mut m =
                    stats::submatrix(&maps[h * s * s..(h + 1) * s * s], s, &p.atom_positions);
                for (acc, x) in mean.iter_mut().zip(&m) {
                    *acc += x / heads as f64;
                }
                stats::symmetrize_zero_diagonal(&mut m, n);
                layer_maps.push(m);
            }
            stats::symmetrize_zero_diagonal(&mut mean, n);
            layer_maps.push(mean);
            per_mol[b].push(layer_maps);
        }
    }
    Ok(per_mol)
}

/// Running sums of one head: 4 cosines, the Spearman correlation and the far-bond AUC.
type HeadAcc = [Running; 6];

/// Token distance from which a bonded pair counts as hidden by the string (see
/// [`HeadStats::far_bond_auc`]): atoms written 1 or 2 tokens apart (`CC`, `C=C`, `C(C`) are the
/// string's own neighbours.
pub const FAR_GAP: usize = 3;

/// ROC AUC of `map` separating bonded from non-bonded atom pairs `i < j` whose sequence positions
/// are at least [`FAR_GAP`] apart (ties count one half); `None` without both kinds of pair.
pub fn far_bond_auc(
    map: &[f64],
    bonds_apart: &[Option<u32>],
    positions: &[usize],
    n: usize,
) -> Option<f64> {
    let (mut values, mut bonded) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in i + 1..n {
            if positions[i].abs_diff(positions[j]) >= FAR_GAP {
                values.push(map[i * n + j]);
                bonded.push(bonds_apart[i * n + j] == Some(1));
            }
        }
    }
    let pos = bonded.iter().filter(|&&b| b).count();
    let neg = bonded.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let ranks = stats::ranks(&values);
    let rank_sum: f64 = ranks
        .iter()
        .zip(&bonded)
        .filter(|(_, &b)| b)
        .map(|(r, _)| r)
        .sum();
    let (p, q) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * q))
}

/// One map against one molecule's structure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Cosine with each class of [`CLASSES`]; `None` for a class with no atom pair (or a zero map).
    pub cosine: [Option<f64>; 4],
    /// Spearman correlation with the 3-D distance over pairs `i < j`; `None` if either is constant.
    pub spearman_distance: Option<f64>,
}

/// Compares a prepared (symmetrised, zero-diagonal) `n x n` map with the topological distances
/// `bonds_apart` and the 3-D `distances` (both row-major `n x n`).
pub fn compare(
    map: &[f64],
    bonds_apart: &[Option<u32>],
    distances: &[f64],
    n: usize,
) -> Comparison {
    let mut cosine = [None; 4];
    for (c, v) in cosine.iter_mut().enumerate() {
        *v = stats::cosine(map, &stats::class_indicator(bonds_apart, c));
    }
    Comparison {
        cosine,
        spearman_distance: stats::spearman(
            &stats::upper_triangle(map, n),
            &stats::upper_triangle(distances, n),
        ),
    }
}

fn head_values(map: &[f64], p: &Prepared) -> [Option<f64>; 6] {
    let c = compare(map, &p.bonds_apart, &p.distances, p.n());
    [
        c.cosine[0],
        c.cosine[1],
        c.cosine[2],
        c.cosine[3],
        c.spearman_distance,
        far_bond_auc(map, &p.bonds_apart, &p.atom_positions, p.n()),
    ]
}

fn head_stats(acc: &HeadAcc) -> HeadStats {
    HeadStats {
        cosine: acc[..4].iter().map(Stat::from).collect(),
        spearman_distance: Stat::from(&acc[4]),
        far_bond_auc: Stat::from(&acc[5]),
    }
}

/// Runs the analysis of `model` (with its tokenizer `tok`) on `molecules`. Bad molecules are
/// skipped and listed in the report; `progress` is called with the molecules done so far.
pub fn analyze_attention(
    model: &Model,
    model_name: &str,
    tok: &Tokenizer,
    molecules: &[MoleculeInput],
    opts: &AttentionOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<AttentionReport> {
    let config = model.config();
    if config.kind() == LmKind::Seq2Seq {
        return Err(AnalysisError::Unsupported(
            "attention analysis needs an encoder or decoder language model, not an \
             encoder-decoder"
                .into(),
        ));
    }
    if tok.kind() != TokenizerKind::Smiles {
        return Err(AnalysisError::Unsupported(
            "attention analysis maps SMILES tokens to atoms: the model's tokenizer must be a \
             SMILES tokenizer (SELFIES tokens are not atoms)"
                .into(),
        ));
    }
    if opts.batch_size == 0 {
        return Err(AnalysisError::Unsupported(
            "batch size must be positive".into(),
        ));
    }
    let attention = match config {
        chemlm_models::ModelConfig::Molformer(c) => match c.attention_type {
            chemlm_models::config::MolformerAttention::Linear => "linear",
            chemlm_models::config::MolformerAttention::Full => "full",
        },
        _ => "softmax",
    };
    let mut order: Vec<usize> = (0..molecules.len()).collect();
    if let Some(limit) = opts.limit.filter(|&l| l < molecules.len()) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
        order.shuffle(&mut rng);
        order.truncate(limit);
        order.sort_unstable();
    }
    let max_len = config.max_positions();
    let pad = tok.special_ids().pad;
    let layers = config.num_layers();
    let heads = config.num_heads();
    let mut acc: Vec<Vec<HeadAcc>> = vec![vec![HeadAcc::default(); heads + 1]; layers];
    let mut uniform: [Running; 4] = Default::default();
    let mut sequence = HeadAcc::default();
    let mut skip_reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped_examples = Vec::new();
    let (mut analysed, mut identity, mut permuted) = (0usize, 0usize, 0usize);
    let mut record_skip = |m: &MoleculeInput, s: Skip| {
        *skip_reasons.entry(s.cause.to_string()).or_default() += 1;
        if skipped_examples.len() < 50 {
            skipped_examples.push(Skipped {
                id: m.id.clone(),
                smiles: m.smiles.clone(),
                reason: format!("{}: {}", s.cause, s.reason),
            });
        }
    };
    let mut done = 0usize;
    let mut example: Option<(Prepared, AtomMaps)> = None;
    for chunk in order.chunks(opts.batch_size) {
        let mut batch = Vec::with_capacity(chunk.len());
        for &k in chunk {
            match prepare(
                tok,
                &molecules[k],
                opts.canonicalize,
                max_len,
                opts.min_atoms,
            ) {
                Ok(p) => batch.push(p),
                Err(s) => record_skip(&molecules[k], s),
            }
        }
        if !batch.is_empty() {
            let refs: Vec<&Prepared> = batch.iter().collect();
            let maps = attention_maps(model, &refs, pad)?;
            for (p, m) in batch.iter().zip(&maps) {
                for (l, layer_maps) in m.iter().enumerate() {
                    for (h, map) in layer_maps.iter().enumerate() {
                        for (r, v) in acc[l][h].iter_mut().zip(head_values(map, p)) {
                            r.push(v);
                        }
                    }
                }
                let n = p.n();
                let mut flat = vec![1.0; n * n];
                stats::symmetrize_zero_diagonal(&mut flat, n);
                let chance = compare(&flat, &p.bonds_apart, &p.distances, n);
                for (r, v) in uniform.iter_mut().zip(chance.cosine) {
                    r.push(v);
                }
                let mut near = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..n {
                        if i != j {
                            let gap = p.atom_positions[i].abs_diff(p.atom_positions[j]);
                            near[i * n + j] = 1.0 / gap as f64;
                        }
                    }
                }
                for (r, v) in sequence.iter_mut().zip(head_values(&near, p)) {
                    r.push(v);
                }
                analysed += 1;
                if p.identity {
                    identity += 1;
                } else {
                    permuted += 1;
                }
                let wanted = opts.example_id.as_deref() == Some(p.id.as_str());
                let fallback = example.is_none() && n >= 6;
                if wanted || fallback {
                    let keep_current = example
                        .as_ref()
                        .is_some_and(|(e, _)| opts.example_id.as_deref() == Some(e.id.as_str()));
                    if !keep_current {
                        example = Some((p.clone(), m.clone()));
                    }
                }
            }
        }
        done += chunk.len();
        progress(done, order.len());
    }
    // The requested example molecule is drawn even when the sample left it out (it does not enter
    // the statistics then).
    let wanted = opts.example_id.as_deref();
    let have_wanted = example
        .as_ref()
        .is_some_and(|(e, _)| Some(e.id.as_str()) == wanted);
    if !have_wanted && analysed > 0 {
        if let Some(m) = molecules.iter().find(|m| Some(m.id.as_str()) == wanted) {
            if let Ok(p) = prepare(tok, m, opts.canonicalize, max_len, opts.min_atoms) {
                let maps = attention_maps(model, &[&p], pad)?;
                if let Some(maps) = maps.into_iter().next() {
                    example = Some((p, maps));
                }
            }
        }
    }
    if analysed == 0 {
        let reasons: Vec<String> = skip_reasons
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        return Err(AnalysisError::NothingAnalysed(format!(
            "all {} molecules were skipped ({})",
            order.len(),
            reasons.join(", ")
        )));
    }
    let per_layer: Vec<LayerStats> = acc
        .iter()
        .enumerate()
        .map(|(l, hs)| LayerStats {
            layer: l + 1,
            head_mean: head_stats(&hs[heads]),
            heads: hs[..heads].iter().map(head_stats).collect(),
        })
        .collect();
    let pick = |value: &dyn Fn(&HeadStats) -> Option<f64>, better: fn(f64, f64) -> bool| {
        let mut best: Option<(usize, Option<usize>, f64)> = None;
        for ls in &per_layer {
            let cands = std::iter::once((None, &ls.head_mean))
                .chain(ls.heads.iter().enumerate().map(|(h, s)| (Some(h + 1), s)));
            for (h, s) in cands {
                if let Some(v) = value(s) {
                    if best.is_none_or(|b| better(v, b.2)) {
                        best = Some((ls.layer, h, v));
                    }
                }
            }
        }
        best
    };
    let best_bonded = pick(&|s: &HeadStats| s.cosine[0].mean, |a, b| a > b);
    let best_distance = pick(&|s: &HeadStats| s.spearman_distance.mean, |a, b| a < b);
    let best_far_bond = pick(&|s: &HeadStats| s.far_bond_auc.mean, |a, b| a > b);
    // The example is drawn at the layer whose head mean is most bonded-like.
    let example_layer = per_layer
        .iter()
        .filter_map(|ls| ls.head_mean.cosine[0].mean.map(|v| (ls.layer, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(l, _)| l)
        .unwrap_or(1);
    let example = example.map(|(p, maps)| {
        let n = p.n();
        let rows = |flat: &[f64]| -> Vec<Vec<f64>> { flat.chunks(n).map(|r| r.to_vec()).collect() };
        Example {
            id: p.id.clone(),
            smiles: p.text.clone(),
            layer: example_layer,
            atoms: p.symbols.clone(),
            attention: rows(&maps[example_layer - 1][heads]),
            distance_angstrom: rows(&p.distances),
            bonds_apart: p.bonds_apart.chunks(n).map(|r| r.to_vec()).collect(),
        }
    });
    Ok(AttentionReport {
        model: model_name.to_string(),
        architecture: config.architecture().to_string(),
        attention: attention.to_string(),
        layers,
        heads,
        canonicalized: opts.canonicalize,
        classes: CLASSES.iter().map(|s| s.to_string()).collect(),
        molecules_read: molecules.len(),
        molecules_selected: order.len(),
        analysed,
        skipped: order.len() - analysed,
        skip_reasons,
        skipped_examples,
        atom_order_identity: identity,
        atom_order_permuted: permuted,
        per_layer,
        uniform_baseline: uniform.iter().map(Stat::from).collect(),
        sequence_baseline: head_stats(&sequence),
        best_bonded,
        best_distance,
        best_far_bond,
        example,
    })
}
