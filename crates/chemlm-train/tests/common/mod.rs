//! Shared test helpers: a tiny differentiable language model and a character tokenizer, so the
//! trainer is tested independently of the real architectures.
#![allow(dead_code)]

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::{Embedding, Linear, Module, VarBuilder, VarMap};
use chemlm_models::{LanguageModel, LmKind};

/// Embedding + position embedding, a fixed context-mixing matrix (neighbours for masked LM,
/// prefix mean for causal LM), one GELU layer and an output projection.
pub struct TinyLm {
    kind: LmKind,
    tok: Embedding,
    pos: Embedding,
    w_self: Linear,
    w_ctx: Linear,
    out: Linear,
    max_len: usize,
}

impl TinyLm {
    pub fn new(
        kind: LmKind,
        vocab: usize,
        dim: usize,
        max_len: usize,
        vm: &VarMap,
        seed: u64,
    ) -> Result<Self> {
        let vb = VarBuilder::from_varmap(vm, DType::F32, &Device::Cpu);
        let m = TinyLm {
            kind,
            tok: candle_nn::embedding(vocab, dim, vb.pp("embeddings.tok"))?,
            pos: candle_nn::embedding(max_len, dim, vb.pp("embeddings.pos"))?,
            w_self: candle_nn::linear(dim, 2 * dim, vb.pp("layer.self"))?,
            w_ctx: candle_nn::linear_no_bias(dim, 2 * dim, vb.pp("layer.ctx"))?,
            out: candle_nn::linear(2 * dim, vocab, vb.pp("head"))?,
            max_len,
        };
        // candle's CPU RNG cannot be seeded, so overwrite the random init with a seeded one.
        reseed(vm, seed)?;
        Ok(m)
    }

    fn mixing(&self, t: usize, mask: &Tensor) -> Result<Tensor> {
        // [B, T, T] row-normalised weights over allowed context positions.
        let mut w = vec![0f32; t * t];
        for i in 0..t {
            for j in 0..t {
                let allowed = match self.kind {
                    LmKind::Masked => i != j && (i as i64 - j as i64).abs() <= 3,
                    LmKind::Causal => j < i || (i == 0 && j == 0),
                    LmKind::Seq2Seq => candle_core::bail!("TinyLm is masked or causal"),
                };
                if allowed {
                    w[i * t + j] = 1.0;
                }
            }
        }
        let w = Tensor::from_vec(w, (1, t, t), mask.device())?;
        let m = mask.to_dtype(DType::F32)?.unsqueeze(1)?; // [B, 1, T]
        let w = w.broadcast_mul(&m)?;
        let norm = (w.sum_keepdim(D::Minus1)? + 1e-6)?;
        w.broadcast_div(&norm)
    }

    fn hidden(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_b, t) = ids.dims2()?;
        assert!(t <= self.max_len);
        let pos_ids = Tensor::arange(0u32, t as u32, ids.device())?;
        let x = self
            .tok
            .forward(ids)?
            .broadcast_add(&self.pos.forward(&pos_ids)?)?;
        let ctx = self.mixing(t, mask)?.matmul(&x)?;
        (self.w_self.forward(&x)? + self.w_ctx.forward(&ctx)?)?.gelu()
    }
}

impl LanguageModel for TinyLm {
    fn kind(&self) -> LmKind {
        self.kind
    }
    fn forward_logits(&self, ids: &Tensor, mask: &Tensor, _train: bool) -> Result<Tensor> {
        self.out.forward(&self.hidden(ids, mask)?)
    }
    fn forward_hidden(&self, ids: &Tensor, mask: &Tensor, _train: bool) -> Result<Tensor> {
        self.hidden(ids, mask)
    }
}

/// Deterministic init: every variable gets N(0, 0.1²)-ish values from a seeded generator.
pub fn reseed(vm: &VarMap, seed: u64) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let data = vm.data().lock().unwrap();
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for n in names {
        let v = &data[n];
        let vals: Vec<f32> = (0..v.elem_count())
            .map(|_| (rng.gen::<f32>() - 0.5) * 0.35)
            .collect();
        v.set(&Tensor::from_vec(vals, v.shape(), v.device())?)?;
    }
    Ok(())
}

/// Ids: 0 pad, 1 mask, 2 bos, 3 eos, then one id per SMILES character seen.
pub struct CharTok {
    pub chars: Vec<char>,
}

pub const PAD: u32 = 0;
pub const MASK: u32 = 1;
pub const BOS: u32 = 2;
pub const EOS: u32 = 3;

impl CharTok {
    pub fn fit(smiles: &[String]) -> Self {
        let mut chars: Vec<char> = smiles.iter().flat_map(|s| s.chars()).collect();
        chars.sort();
        chars.dedup();
        CharTok { chars }
    }
    pub fn vocab_size(&self) -> usize {
        self.chars.len() + 4
    }
    pub fn encode(&self, s: &str) -> Vec<u32> {
        let mut out = vec![BOS];
        for c in s.chars() {
            let i = self.chars.binary_search(&c).expect("char in vocab");
            out.push(i as u32 + 4);
        }
        out.push(EOS);
        out
    }
}

/// Up to `n` SMILES from MOSES train, or `None` (with a message) when the data is absent.
pub fn moses_sample(n: usize, max_len: usize) -> Option<Vec<String>> {
    use std::io::BufRead;
    let dir = std::env::var("CHEMLM_DATA_DIR").ok()?;
    let path = std::path::Path::new(&dir).join("moses/train.csv.gz");
    let Ok(f) = std::fs::File::open(&path) else {
        eprintln!("SKIP: {} not found", path.display());
        return None;
    };
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(f));
    let out: Vec<String> = r
        .lines()
        .skip(1)
        .map_while(|l| l.ok())
        .map(|l| l.split(',').next().unwrap_or("").to_string())
        .filter(|s| !s.is_empty() && s.len() + 2 <= max_len)
        .take(n)
        .collect();
    Some(out)
}

pub fn data_dir_or_skip(test: &str) -> bool {
    if std::env::var("CHEMLM_DATA_DIR").is_err() {
        eprintln!("SKIP {test}: CHEMLM_DATA_DIR is not set");
        return false;
    }
    true
}
