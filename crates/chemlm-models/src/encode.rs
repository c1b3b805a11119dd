//! Molecule → token ids → pooled embedding: the one place fine-tuning, prediction, screening,
//! `chemlm embed` and the Python module turn SMILES into encoder input, so training and inference
//! can never disagree. It lives beside the models (not under fine-tuning) because every
//! front-end that feeds a model molecules needs it.

use crate::{LanguageModel, Model};
use candle_core::{Device, Tensor};
use chemlm_data::{OovPolicy, Tokenizer, TokenizerKind};

/// How a molecule is turned into token ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncodeOptions {
    /// Canonicalise the SMILES first (MoLFormer's pipeline does; pretraining corpora such as
    /// MOSES are canonical, so this keeps fine-tuning input in the pretraining distribution).
    pub canonicalize: bool,
    /// Cut sequences longer than the model's positions (keeping `<eos>`) instead of rejecting
    /// them. Fine-tuning truncates so benchmark test sets keep every molecule, as MoLFormer does;
    /// `chemlm embed` rejects, because a silently truncated embedding is a different molecule.
    pub truncate: bool,
    /// Out-of-vocabulary tokens: `<unk>`, or the nearest in-vocabulary form of the same atom
    /// (see `chemlm_data::tokenizer::oov`). Runs saved before this option existed used `<unk>`.
    #[serde(default)]
    pub oov: OovPolicy,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            canonicalize: true,
            truncate: true,
            oov: OovPolicy::Unk,
        }
    }
}

/// Token ids of one molecule for a model with `max_len` positions. SMILES are parsed first so an
/// invalid molecule is reported as such (with the parser's reason) rather than embedded; the
/// tokenizer decides SMILES vs SELFIES; tokens outside the vocabulary are handled by `opts.oov`.
pub fn encode_for_model(
    tok: &Tokenizer,
    smiles: &str,
    opts: EncodeOptions,
    max_len: usize,
) -> std::result::Result<Vec<u32>, String> {
    encode_for_model_tallied(tok, smiles, opts, max_len, None)
}

/// [`encode_for_model`] that also counts the molecule's out-of-vocabulary tokens into `tally`
/// (for the end-of-job report of `embed`, `predict` and `finetune`).
pub fn encode_for_model_tallied(
    tok: &Tokenizer,
    smiles: &str,
    opts: EncodeOptions,
    max_len: usize,
    tally: Option<&chemlm_data::OovTally>,
) -> std::result::Result<Vec<u32>, String> {
    let mol = chemlm_chem::Molecule::from_smiles(smiles).map_err(|e| e.to_string())?;
    let smiles = if opts.canonicalize {
        mol.canonical_smiles().map_err(|e| e.to_string())?
    } else {
        smiles.to_string()
    };
    let text = match tok.kind() {
        TokenizerKind::Smiles => smiles,
        TokenizerKind::Selfies => {
            chemlm_chem::selfies::encoder(&smiles).map_err(|e| e.to_string())?
        }
    };
    let mut ids = tok
        .encode_with(&text, true, opts.oov)
        .map_err(|e| e.to_string())?;
    if let Some(t) = tally {
        t.record(tok, &text, opts.oov);
    }
    if ids.len() > max_len {
        if !opts.truncate || max_len < 2 {
            return Err(format!(
                "{} tokens, more than the model's {max_len} positions",
                ids.len()
            ));
        }
        let eos = tok.special_ids().eos;
        ids.truncate(max_len - 1);
        ids.push(eos);
    }
    Ok(ids)
}

/// Pads `seqs` into `[batch, len]` id and mask tensors (mask 1 = real token).
pub fn pad_batch(seqs: &[&[u32]], pad: u32, dev: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
    let mut ids = Vec::with_capacity(seqs.len() * len);
    let mut mask = Vec::with_capacity(seqs.len() * len);
    for s in seqs {
        for i in 0..len {
            ids.push(s.get(i).copied().unwrap_or(pad));
            mask.push(u32::from(i < s.len()));
        }
    }
    Ok((
        Tensor::from_vec(ids, (seqs.len(), len), dev)?,
        Tensor::from_vec(mask, (seqs.len(), len), dev)?,
    ))
}

/// How the final hidden states become one vector per molecule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Mean over real tokens (MoLFormer's `masked_avg_pool1d`; also used for GPT-Neo).
    Mean,
    /// The first position (`<bos>`, BERT's `[CLS]`).
    Cls,
}

impl Pooling {
    /// The pooling each architecture was designed for: CLS for BERT/ALBERT, mean otherwise.
    pub fn for_model(model: &Model) -> Self {
        match model.config().architecture() {
            "bert" | "albert" => Pooling::Cls,
            _ => Pooling::Mean,
        }
    }

    /// Parses `mean` / `cls`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mean" => Some(Pooling::Mean),
            "cls" => Some(Pooling::Cls),
            _ => None,
        }
    }
}

/// Pools `hidden` `[batch, seq, dim]` with `mask` `[batch, seq]` into `[batch, dim]`.
pub fn pool(hidden: &Tensor, mask: &Tensor, pooling: Pooling) -> candle_core::Result<Tensor> {
    match pooling {
        Pooling::Mean => crate::blocks::masked_mean(hidden, mask),
        // f32 like the mean (autocast hidden states are half precision).
        Pooling::Cls => Ok(crate::precision::upcast(&hidden.narrow(1, 0, 1)?.squeeze(1)?)?.0),
    }
}

/// Pooled embeddings `[batch, dim]` of already-tokenised molecules (eval mode, no dropout).
///
/// The result is detached: candle records the op graph whenever a weight `Var` takes part, and
/// a kept embedding row would otherwise pin every activation of its batch (20 GB for BBBP).
pub fn embed_pooled(
    model: &Model,
    seqs: &[&[u32]],
    pad: u32,
    pooling: Pooling,
) -> candle_core::Result<Tensor> {
    let (ids, mask) = pad_batch(seqs, pad, model.device())?;
    // Inference mode detaches after every layer, so peak memory is one layer's activations.
    let pooled = crate::grad_mode::inference(|| {
        if pooling == Pooling::Mean {
            model.embed(&ids, &mask)
        } else {
            let h = model.forward_hidden(&ids, &mask, false)?;
            pool(&h, &mask, pooling)
        }
    })?;
    Ok(pooled.detach())
}

/// Pooled embeddings of many molecules, `batch` at a time, sorted by length internally so
/// batches carry little padding; rows come back in the order of `seqs`. `progress` is called
/// with the number of molecules done after each batch.
pub fn embed_all(
    model: &Model,
    seqs: &[&[u32]],
    pad: u32,
    pooling: Pooling,
    batch: usize,
    progress: &mut dyn FnMut(usize),
) -> candle_core::Result<Tensor> {
    let dim = model.config().hidden_size();
    if seqs.is_empty() {
        return Tensor::zeros((0, dim), candle_core::DType::F32, model.device());
    }
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&i| seqs[i].len());
    let mut rows: Vec<Option<Tensor>> = vec![None; seqs.len()];
    for chunk in order.chunks(batch.max(1)) {
        let s: Vec<&[u32]> = chunk.iter().map(|&i| seqs[i]).collect();
        let e = embed_pooled(model, &s, pad, pooling)?;
        for (k, &i) in chunk.iter().enumerate() {
            rows[i] = Some(e.get(k)?);
        }
        progress(chunk.len());
    }
    let rows: Vec<Tensor> = rows.into_iter().flatten().collect();
    Tensor::stack(&rows, 0)
}
