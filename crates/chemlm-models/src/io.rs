//! Model directories: `config.json` (HF layout), `model.safetensors` (HF tensor names, buffers
//! included) and, when given, `tokenizer.json` with the `tokenizer_config.json` and
//! `special_tokens_map.json` that `AutoTokenizer.from_pretrained` needs. Every file is written to
//! a temp file in the same directory and renamed, so a crash never leaves a half-written model.
//! Loading also reads `pytorch_model.bin` (PyTorch pickle) when a directory has no safetensors
//! file, as the released GT4SD T5 checkpoints do, and sharded checkpoints
//! (`model.safetensors.index.json`, `pytorch_model.bin.index.json`); tied tensors are saved once
//! (T5: `shared.weight`), as transformers does.

use crate::config::{ModelConfig, SpecialTokenIds};
use crate::error::{ModelError, ModelResult};
use crate::model::Model;
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// What `AutoTokenizer` reads first: the tokenizer class and the special tokens' text.
pub const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";
/// The special tokens by role, as transformers writes them next to `tokenizer_config.json`.
pub const SPECIAL_TOKENS_MAP_FILE: &str = "special_tokens_map.json";
/// PyTorch pickle weights, read when a directory has no `model.safetensors` (the released GT4SD
/// T5 checkpoints ship only this).
pub const PYTORCH_WEIGHTS_FILE: &str = "pytorch_model.bin";
/// Index of a sharded safetensors checkpoint (`weight_map`: tensor name → shard file), what
/// `save_pretrained` writes once the weights exceed `max_shard_size`.
pub const SAFETENSORS_INDEX_FILE: &str = "model.safetensors.index.json";
/// Index of a sharded PyTorch pickle checkpoint, same layout.
pub const PYTORCH_INDEX_FILE: &str = "pytorch_model.bin.index.json";

/// How the tensors of one file are read.
#[derive(Clone, Copy)]
enum WeightFormat {
    Safetensors,
    Pickle,
}

fn read_one(
    path: &Path,
    format: WeightFormat,
    device: &Device,
) -> ModelResult<HashMap<String, Tensor>> {
    // candle's readers do not name the file they failed to open; a missing shard should.
    if !path.is_file() {
        return Err(ModelError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "weights file not found"),
        ));
    }
    match format {
        WeightFormat::Safetensors => {
            // Memory-mapped instead of `safetensors::load`'s read into one buffer: the tensors
            // are copied straight out of the page cache, so loading does not hold a second
            // heap copy of the file.
            // SAFETY: the mapping lives only inside this block and every tensor is copied out of
            // it before it ends; chemlm never rewrites a weights file in place (saves go to a
            // temp file that is renamed), so the bytes cannot change under the mapping.
            let st = unsafe { candle_core::safetensors::MmapedSafetensors::new(path)? };
            let mut out = HashMap::new();
            for (name, view) in st.tensors() {
                out.insert(
                    name.clone(),
                    candle_core::safetensors::Load::load(&view, device)?,
                );
            }
            Ok(out)
        }
        WeightFormat::Pickle => {
            let mut out = HashMap::new();
            for (name, t) in candle_core::pickle::read_all(path)? {
                out.insert(name, t.to_device(device)?);
            }
            Ok(out)
        }
    }
}

/// The shard files an index names, each once, in order of first mention. Shards must be plain
/// file names in the index's directory (as `save_pretrained` writes them), so an index cannot
/// point the loader at files elsewhere.
pub fn shard_files(index: &Path) -> ModelResult<Vec<(PathBuf, Vec<String>)>> {
    let text = std::fs::read_to_string(index).map_err(|e| ModelError::io(index, e))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ModelError::format(index, e))?;
    let map = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| ModelError::format(index, "no `weight_map` object"))?;
    let dir = index.parent().unwrap_or_else(|| Path::new("."));
    let mut shards: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let mut names: Vec<(&String, &serde_json::Value)> = map.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (tensor, file) in names {
        let file = file.as_str().ok_or_else(|| {
            ModelError::format(index, format!("shard of `{tensor}` is not a file name"))
        })?;
        let plain = Path::new(file)
            .file_name()
            .is_some_and(|n| n == std::ffi::OsStr::new(file));
        if !plain {
            return Err(ModelError::format(
                index,
                format!("shard `{file}` is not a file name in the checkpoint directory"),
            ));
        }
        let path = dir.join(file);
        match shards.iter_mut().find(|(p, _)| *p == path) {
            Some((_, t)) => t.push(tensor.clone()),
            None => shards.push((path, vec![tensor.clone()])),
        }
    }
    if shards.is_empty() {
        return Err(ModelError::format(index, "`weight_map` is empty"));
    }
    Ok(shards)
}

/// Reads every shard of `index` into one map; a tensor the index puts in a shard that does not
/// hold it is an error (a truncated or mixed-up download).
fn read_sharded(
    index: &Path,
    format: WeightFormat,
    device: &Device,
) -> ModelResult<HashMap<String, Tensor>> {
    let mut out = HashMap::new();
    for (shard, tensors) in shard_files(index)? {
        let mut got = read_one(&shard, format, device)?;
        for name in tensors {
            let t = got.remove(&name).ok_or_else(|| ModelError::MissingTensor {
                path: shard.clone(),
                name: name.clone(),
            })?;
            out.insert(name, t);
        }
    }
    Ok(out)
}

/// Read the weights of a model directory: `model.safetensors`, else the shards of
/// `model.safetensors.index.json`, else `pytorch_model.bin` through candle's PyTorch pickle
/// reader, else the shards of `pytorch_model.bin.index.json` (transformers' order of
/// preference). Returns the tensors (as stored; [`Model::assign`] converts f16/bf16 to f32) and
/// the file they came from (the index for a sharded checkpoint).
pub fn read_weights(
    dir: &Path,
    device: &Device,
) -> ModelResult<(HashMap<String, Tensor>, PathBuf)> {
    let candidates = [
        (WEIGHTS_FILE, WeightFormat::Safetensors, false),
        (SAFETENSORS_INDEX_FILE, WeightFormat::Safetensors, true),
        (PYTORCH_WEIGHTS_FILE, WeightFormat::Pickle, false),
        (PYTORCH_INDEX_FILE, WeightFormat::Pickle, true),
    ];
    for (file, format, sharded) in candidates {
        let path = dir.join(file);
        if !path.exists() {
            continue;
        }
        let tensors = if sharded {
            read_sharded(&path, format, device)?
        } else {
            read_one(&path, format, device)?
        };
        return Ok((tensors, path));
    }
    Err(ModelError::io(
        dir.join(WEIGHTS_FILE),
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "no weights file (none of {WEIGHTS_FILE}, {SAFETENSORS_INDEX_FILE}, \
                 {PYTORCH_WEIGHTS_FILE}, {PYTORCH_INDEX_FILE})"
            ),
        ),
    ))
}

/// Other names a checkpoint may store tensor `name` under, in order of preference:
/// * Hugging Face T5 checkpoints may hold the shared embedding as `encoder.embed_tokens.weight` /
///   `decoder.embed_tokens.weight` (tied duplicates) and may omit `lm_head.weight` even for a
///   model whose head is a separate tensor (transformers 5 saves a head equal to `shared` once):
///   it then starts as a copy of `shared`.
/// * The MLM output bias is tied to `…decoder.bias`, which older transformers saved instead.
/// * A bare encoder (`AutoModel.save_pretrained`, DeepChem's ChemBERTa) has no
///   `base_model_prefix`: `roberta.encoder.layer.0…` is stored as `encoder.layer.0…`, and
///   transformers maps one onto the other, so we do too.
fn fallback_names(config: &ModelConfig, name: &str) -> Vec<String> {
    let mut out: Vec<String> = match (config, name) {
        (ModelConfig::T5(_), "shared.weight") => {
            vec![
                "encoder.embed_tokens.weight".into(),
                "decoder.embed_tokens.weight".into(),
            ]
        }
        (ModelConfig::T5(_), "lm_head.weight") => vec![
            "shared.weight".into(),
            "encoder.embed_tokens.weight".into(),
            "decoder.embed_tokens.weight".into(),
        ],
        (ModelConfig::Bert(_), "cls.predictions.bias") => {
            vec!["cls.predictions.decoder.bias".into()]
        }
        (ModelConfig::Roberta(_), "lm_head.bias") => vec!["lm_head.decoder.bias".into()],
        (ModelConfig::Albert(_), "predictions.bias") => vec!["predictions.decoder.bias".into()],
        _ => Vec::new(),
    };
    if let Some(prefix) = config.base_model_prefix() {
        if let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) {
            out.push(rest.to_string());
        }
    }
    out
}

/// `name`, or the first of its [`fallback_names`] that `tensors` holds.
fn lookup<'a>(
    tensors: &'a HashMap<String, Tensor>,
    config: &ModelConfig,
    name: &str,
) -> Option<&'a Tensor> {
    tensors.get(name).or_else(|| {
        fallback_names(config, name)
            .iter()
            .find_map(|alt| tensors.get(alt))
    })
}

/// One special token of a tokenizer: its text and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialToken {
    pub content: String,
    pub id: u32,
}

/// The special tokens of a `tokenizer.json` by role, found by the names tokenizers give them:
/// chemlm's vocabularies (`<bos> <eos> <pad> <mask> <unk>`), T5's SentencePiece (`</s> <pad>
/// <unk>`), RoBERTa's BPE (`<s> </s> <pad> <mask> <unk>`) and BERT's WordPiece (`[CLS]` …).
/// A role no token plays stays `None` (T5 has no `<bos>` or `<mask>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenizerSpecials {
    pub bos: Option<SpecialToken>,
    pub eos: Option<SpecialToken>,
    pub pad: Option<SpecialToken>,
    pub mask: Option<SpecialToken>,
    pub unk: Option<SpecialToken>,
}

impl TokenizerSpecials {
    /// Parses the text of a `tokenizer.json` (`origin` names it in errors).
    pub fn from_tokenizer_json(text: &str, origin: &Path) -> ModelResult<Self> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ModelError::format(origin, e))?;
        let mut ids: HashMap<String, u32> = HashMap::new();
        let vocab = v.pointer("/model/vocab");
        if let Some(map) = vocab.and_then(|x| x.as_object()) {
            // WordLevel, WordPiece, BPE: token -> id.
            for (t, id) in map {
                if let Some(id) = id.as_u64().and_then(|i| u32::try_from(i).ok()) {
                    ids.insert(t.clone(), id);
                }
            }
        } else if let Some(list) = vocab.and_then(|x| x.as_array()) {
            // Unigram: [[piece, score], ...], id = position.
            for (i, entry) in list.iter().enumerate() {
                if let (Some(t), Ok(id)) = (entry.get(0).and_then(|x| x.as_str()), u32::try_from(i))
                {
                    ids.insert(t.to_string(), id);
                }
            }
        }
        // Added tokens win: they are what the tokenizer really emits for these strings.
        for a in v
            .get("added_tokens")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            if let (Some(t), Some(id)) = (
                a.get("content").and_then(|x| x.as_str()),
                a.get("id")
                    .and_then(|x| x.as_u64())
                    .and_then(|i| u32::try_from(i).ok()),
            ) {
                ids.insert(t.to_string(), id);
            }
        }
        let find = |names: &[&str]| {
            names.iter().find_map(|n| {
                ids.get(*n).map(|&id| SpecialToken {
                    content: (*n).to_string(),
                    id,
                })
            })
        };
        Ok(Self {
            bos: find(&["<bos>", "<s>", "[CLS]"]),
            eos: find(&["<eos>", "</s>", "[SEP]"]),
            pad: find(&["<pad>", "[PAD]"]),
            mask: find(&["<mask>", "[MASK]"]),
            unk: find(&["<unk>", "[UNK]"]),
        })
    }

    /// Reads `path` (a `tokenizer.json`).
    pub fn from_file(path: &Path) -> ModelResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_tokenizer_json(&text, path)
    }

    /// The ids a model config should record for this tokenizer.
    pub fn ids(&self) -> SpecialTokenIds {
        SpecialTokenIds {
            bos: self.bos.as_ref().map(|t| t.id),
            eos: self.eos.as_ref().map(|t| t.id),
            pad: self.pad.as_ref().map(|t| t.id),
        }
    }

    /// `(role, token)` for every role a token plays, in transformers' key names.
    fn roles(&self) -> Vec<(&'static str, &SpecialToken)> {
        [
            ("bos_token", &self.bos),
            ("eos_token", &self.eos),
            ("unk_token", &self.unk),
            ("pad_token", &self.pad),
            ("mask_token", &self.mask),
        ]
        .into_iter()
        .filter_map(|(k, t)| t.as_ref().map(|t| (k, t)))
        .collect()
    }

    /// `special_tokens_map.json`: each role's token text.
    pub fn special_tokens_map_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .roles()
            .into_iter()
            .map(|(k, t)| (k.to_string(), t.content.clone().into()))
            .collect();
        json_text(&serde_json::Value::Object(map))
    }

    /// `tokenizer_config.json` for `AutoTokenizer.from_pretrained`: the generic fast tokenizer
    /// (our `tokenizer.json` holds the whole pipeline, pre-tokenizer regex and `<bos>`/`<eos>`
    /// template included), the special tokens' text, and `model_max_length` so transformers
    /// truncates where the model's positions end. The model takes no token type ids, so
    /// tokenizers return only ids and the attention mask.
    pub fn tokenizer_config_json(&self, model_max_length: usize) -> String {
        let mut map = serde_json::Map::new();
        map.insert("tokenizer_class".into(), "PreTrainedTokenizerFast".into());
        for (k, t) in self.roles() {
            map.insert(k.into(), t.content.clone().into());
        }
        map.insert("model_max_length".into(), model_max_length.into());
        map.insert("padding_side".into(), "right".into());
        map.insert(
            "model_input_names".into(),
            serde_json::json!(["input_ids", "attention_mask"]),
        );
        map.insert("clean_up_tokenization_spaces".into(), false.into());
        json_text(&serde_json::Value::Object(map))
    }
}

fn json_text(v: &serde_json::Value) -> String {
    // Serialising a `Value` cannot fail (its keys are strings).
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// `config` with the special ids of `tok` recorded, as the saved `config.json` should be. Ids
/// that change the network's computation ([`ModelConfig::network_special_ids`]: RoBERTa's pad,
/// T5's pad and eos) are kept as they are, with a warning when the tokenizer disagrees: the model
/// was built around them, and rewriting them would make the reloaded model compute something
/// else. [`ModelConfig::set_special_token_ids`] before building avoids the disagreement.
pub fn config_for_tokenizer(config: &ModelConfig, tok: &TokenizerSpecials) -> ModelConfig {
    let mut ids = tok.ids();
    let fixed = config.network_special_ids();
    for (role, want, have) in [
        ("pad", &mut ids.pad, fixed.pad),
        ("eos", &mut ids.eos, fixed.eos),
        ("bos", &mut ids.bos, fixed.bos),
    ] {
        if let (Some(w), Some(h)) = (*want, have) {
            if w != h {
                tracing::warn!(
                    "the tokenizer's {role} id is {w} but this {} model was built with {h}; \
                     config.json keeps {h}",
                    config.architecture()
                );
            }
            *want = None;
        }
    }
    let mut out = config.clone();
    out.set_special_token_ids(ids);
    out
}

/// Write `bytes` to `path` atomically (temporary sibling, fsync, rename; see [`chemlm_fs`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> ModelResult<()> {
    Ok(chemlm_fs::write_bytes(path, bytes)?)
}

impl From<chemlm_fs::FsError> for ModelError {
    fn from(e: chemlm_fs::FsError) -> Self {
        ModelError::io(e.path, e.source)
    }
}

/// Every tensor to save: trainable weights and buffers, by HF name. Two departures from the
/// in-memory weights, both so that transformers loads the directory with nothing missing or
/// unexpected and so that a reload means what it says:
/// * an LM head that was never loaded or trained ([`Model::lm_head_loaded`]) is left out, so the
///   saved model is again reported headless instead of passing random weights off as a head;
/// * ALBERT with `embedding_size == hidden_size` (no projection in chemlm, see [`crate::albert`])
///   gets the identity `embedding_hidden_mapping_in` that `AlbertModel` always has.
pub fn state_dict(model: &Model) -> ModelResult<HashMap<String, Tensor>> {
    let mut out = HashMap::new();
    let data = model
        .varmap()
        .data()
        .lock()
        .map_err(|_| ModelError::config("model", "weight map lock poisoned"))?;
    let skip_head = (!model.lm_head_loaded())
        .then(|| model.config().lm_head_prefix())
        .flatten();
    for (k, v) in data.iter() {
        if skip_head.is_some_and(|p| k.starts_with(p)) {
            continue;
        }
        out.insert(k.clone(), v.as_tensor().clone());
    }
    drop(data);
    for (k, v) in model.buffers()? {
        out.insert(k, v);
    }
    if let ModelConfig::Albert(c) = model.config() {
        if c.embedding_size == c.hidden_size {
            let h = c.hidden_size;
            let dev = model.device();
            out.insert(
                ALBERT_MAPPING_WEIGHT.into(),
                Tensor::eye(h, DType::F32, dev)?,
            );
            out.insert(
                ALBERT_MAPPING_BIAS.into(),
                Tensor::zeros(h, DType::F32, dev)?,
            );
        }
    }
    Ok(out)
}

const ALBERT_MAPPING_WEIGHT: &str = "albert.encoder.embedding_hidden_mapping_in.weight";
const ALBERT_MAPPING_BIAS: &str = "albert.encoder.embedding_hidden_mapping_in.bias";

/// chemlm's ALBERT with `embedding_size == hidden_size` has no embedding projection; a checkpoint
/// for that shape may still carry one (transformers always builds it). An identity one (ours,
/// from [`state_dict`]) changes nothing; any other would be silently dropped, so it is refused.
fn check_albert_mapping(
    config: &ModelConfig,
    tensors: &HashMap<String, Tensor>,
    origin: &Path,
) -> ModelResult<()> {
    let ModelConfig::Albert(c) = config else {
        return Ok(());
    };
    if c.embedding_size != c.hidden_size {
        return Ok(());
    }
    let get = |name: &str| lookup(tensors, config, name);
    let (Some(w), Some(b)) = (get(ALBERT_MAPPING_WEIGHT), get(ALBERT_MAPPING_BIAS)) else {
        return Ok(());
    };
    let h = c.hidden_size;
    let identity = w.dims() == [h, h] && b.dims() == [h] && {
        let eye = Tensor::eye(h, DType::F32, w.device())?;
        let dw: f32 = (w.to_dtype(DType::F32)? - eye)?
            .abs()?
            .flatten_all()?
            .max(0)?
            .to_scalar()?;
        let db: f32 = b
            .to_dtype(DType::F32)?
            .abs()?
            .flatten_all()?
            .max(0)?
            .to_scalar()?;
        dw <= 1e-6 && db <= 1e-6
    };
    if identity {
        Ok(())
    } else {
        Err(ModelError::format(
            origin,
            format!(
                "`{ALBERT_MAPPING_WEIGHT}` is not the identity, but chemlm's ALBERT with \
                 embedding_size == hidden_size ({h}) has no embedding projection"
            ),
        ))
    }
}

impl Model {
    /// Save into `dir` (created if missing): config.json, model.safetensors, and, when a
    /// `tokenizer` (a `tokenizer.json`) is given, a copy of it plus `tokenizer_config.json` and
    /// `special_tokens_map.json`, with `config.json`'s `bos/eos/pad_token_id` naming the same
    /// tokens (see [`config_for_tokenizer`]), so transformers' `AutoTokenizer` and
    /// `AutoModel…` load the directory as it is.
    pub fn save(&self, dir: &Path, tokenizer: Option<&Path>) -> ModelResult<()> {
        self.save_with_extra(dir, tokenizer, Vec::new())
    }

    /// [`Model::save`] with `extra` tensors added to the weights file (distillation's
    /// projections, which `--resume` needs and [`Model::load`] ignores), so a checkpoint's
    /// weights are written once, atomically, instead of saved and then overwritten in place.
    pub fn save_with_extra(
        &self,
        dir: &Path,
        tokenizer: Option<&Path>,
        extra: Vec<(String, Tensor)>,
    ) -> ModelResult<()> {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        let tok = match tokenizer {
            Some(t) => {
                let bytes = std::fs::read(t).map_err(|e| ModelError::io(t, e))?;
                let text = String::from_utf8_lossy(&bytes);
                let specials = TokenizerSpecials::from_tokenizer_json(&text, t)?;
                Some((bytes, specials))
            }
            None => None,
        };
        let config = match &tok {
            Some((_, sp)) => config_for_tokenizer(self.config(), sp),
            None => self.config().clone(),
        };
        write_atomic(&dir.join(CONFIG_FILE), config.to_json()?.as_bytes())?;
        let mut tensors = state_dict(self)?;
        tensors.extend(extra);
        let weights = dir.join(WEIGHTS_FILE);
        // safetensors writes through a `NamedTempFile` (mode 0600): give the weights the mode
        // config.json got from `File::create` (0666 minus the umask, 0644 as a rule) so other
        // users can read a shared model; `write_via_path` syncs and renames them into place.
        let config_path = dir.join(CONFIG_FILE);
        let config_mode = std::fs::metadata(&config_path)
            .map_err(|e| ModelError::io(&config_path, e))?
            .permissions();
        chemlm_fs::write_via_path(&weights, false, |tmp| -> ModelResult<()> {
            candle_core::safetensors::save(&tensors, tmp)?;
            std::fs::set_permissions(tmp, config_mode).map_err(|e| ModelError::io(tmp, e))
        })?;
        if let Some((bytes, specials)) = tok {
            write_tokenizer_files(dir, &bytes, &specials, config.max_positions())?;
        }
        Ok(())
    }

    /// Load a model directory written by [`Model::save`] or by Hugging Face `save_pretrained`
    /// for the supported classes (weights as [`read_weights`] finds them). Tensors the file
    /// lacks are an error, except tied decoder weights, T5's tied duplicates and a whole missing
    /// LM head (see [`Model::assign`]). Extra tensors are ignored.
    pub fn load(dir: &Path, device: &Device) -> ModelResult<Model> {
        let cfg_path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| ModelError::io(&cfg_path, e))?;
        let config = ModelConfig::from_json(&text, &cfg_path.display().to_string())?;
        let (file, wpath) = read_weights(dir, device)?;
        let file = std::sync::Arc::new(file);
        let model = Model::new_prefilled(&config, device, 0, Some(file.clone()))?;
        // Checks every tensor and fills the ones stored under other names (tied, un-prefixed).
        model.assign(&file, &wpath)?;
        Ok(model)
    }

    /// Overwrite weights and buffers from `tensors` (names as in HF checkpoints, with or without
    /// the `base_model_prefix`; see `fallback_names`). Every tensor must be there, except the
    /// LM head as a whole: encoder-only checkpoints (`AutoModel`, DeepChem's ChemBERTa-77M-MTR)
    /// are meant for embeddings and fine-tuning, so a head with none of its tensors keeps its
    /// initial weights, is reported by a warning and by [`Model::lm_head_loaded`] (false), and
    /// its logits are refused. A head with only some of its tensors is an error.
    pub fn assign(&self, tensors: &HashMap<String, Tensor>, origin: &Path) -> ModelResult<()> {
        check_albert_mapping(self.config(), tensors, origin)?;
        let head_prefix = self.config().lm_head_prefix();
        let is_head = |name: &str| head_prefix.is_some_and(|p| name.starts_with(p));
        let data = self
            .varmap()
            .data()
            .lock()
            .map_err(|_| ModelError::config("model", "weight map lock poisoned"))?;
        let mut head_found = 0usize;
        let mut head_missing = Vec::new();
        for (name, var) in data.iter() {
            match lookup(tensors, self.config(), name) {
                Some(t) => {
                    if t.dims() != var.dims() {
                        return Err(ModelError::ShapeMismatch {
                            path: origin.to_path_buf(),
                            name: name.clone(),
                            found: t.dims().to_vec(),
                            expected: var.dims().to_vec(),
                        });
                    }
                    var.set(&t.to_dtype(DType::F32)?.to_device(var.device())?)?;
                    head_found += usize::from(is_head(name));
                }
                None if is_head(name) => head_missing.push(name.clone()),
                None => {
                    return Err(ModelError::MissingTensor {
                        path: origin.to_path_buf(),
                        name: name.clone(),
                    })
                }
            }
        }
        drop(data);
        head_missing.sort();
        if let Some(first) = head_missing.first() {
            if head_found > 0 {
                return Err(ModelError::MissingTensor {
                    path: origin.to_path_buf(),
                    name: first.clone(),
                });
            }
            tracing::warn!(
                "{}: no LM head (`{}*`): the encoder is loaded, the head keeps random weights; \
                 fine for embeddings and fine-tuning, not for masked-LM predictions",
                origin.display(),
                head_prefix.unwrap_or_default()
            );
        }
        self.set_lm_head_loaded(head_missing.is_empty());
        for (name, _) in self.buffers()? {
            match lookup(tensors, self.config(), &name) {
                Some(t) => {
                    self.set_buffer(&name, t)?;
                }
                None => {
                    return Err(ModelError::MissingTensor {
                        path: origin.to_path_buf(),
                        name,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Writes `tokenizer.json` (the given bytes), `tokenizer_config.json` and
/// `special_tokens_map.json` into `dir`, each atomically.
pub fn write_tokenizer_files(
    dir: &Path,
    tokenizer_json: &[u8],
    specials: &TokenizerSpecials,
    model_max_length: usize,
) -> ModelResult<()> {
    write_atomic(&dir.join(TOKENIZER_FILE), tokenizer_json)?;
    write_atomic(
        &dir.join(TOKENIZER_CONFIG_FILE),
        specials.tokenizer_config_json(model_max_length).as_bytes(),
    )?;
    write_atomic(
        &dir.join(SPECIAL_TOKENS_MAP_FILE),
        specials.special_tokens_map_json().as_bytes(),
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn saved_weights_get_the_mode_of_other_outputs() {
        let mut cfg = crate::presets::preset("bert-small").unwrap();
        if let ModelConfig::Bert(c) = &mut cfg {
            c.hidden_size = 8;
            c.num_hidden_layers = 1;
            c.num_attention_heads = 2;
            c.intermediate_size = 8;
        }
        cfg.set_vocab_size(12);
        let model = Model::new(&cfg, &Device::Cpu, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m");
        model.save(&out, None).unwrap();
        // What any output created with `File::create` gets under this process's umask.
        let reference = out.join("reference");
        std::fs::File::create(&reference).unwrap();
        let want = mode(&reference);
        assert_eq!(mode(&out.join(WEIGHTS_FILE)), want);
        assert_eq!(mode(&out.join(CONFIG_FILE)), want);
        // Under the usual umasks (022, 002) everyone may read the weights; before the fix they
        // were 0600.
        if want & 0o044 == 0o044 {
            assert_ne!(mode(&out.join(WEIGHTS_FILE)), 0o600);
        }
        // No temp file is left behind, and the weights load back.
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
        Model::load(&out, &Device::Cpu).unwrap();
        // Saving again over an existing model keeps the mode.
        model.save(&out, None).unwrap();
        assert_eq!(mode(&out.join(WEIGHTS_FILE)), want);
    }
}
