//! Model directories: `config.json` (HF layout), `model.safetensors` (HF tensor names, buffers
//! included) and, when given, `tokenizer.json`. Every file is written to a temp file in the same
//! directory and renamed, so a crash never leaves a half-written model. Loading also reads
//! `pytorch_model.bin` (PyTorch pickle) when a directory has no safetensors file, as the released
//! GT4SD T5 checkpoints do; tied tensors are saved once (T5: `shared.weight`), as transformers
//! does.

use crate::config::ModelConfig;
use crate::error::{ModelError, ModelResult};
use crate::model::Model;
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// PyTorch pickle weights, read when a directory has no `model.safetensors` (the released GT4SD
/// T5 checkpoints ship only this).
pub const PYTORCH_WEIGHTS_FILE: &str = "pytorch_model.bin";

/// Read the weights of a model directory: `model.safetensors`, else `pytorch_model.bin` through
/// candle's PyTorch pickle reader. Returns the tensors (as stored; [`Model::assign`] converts
/// f16/bf16 to f32) and the file they came from.
pub fn read_weights(
    dir: &Path,
    device: &Device,
) -> ModelResult<(HashMap<String, Tensor>, PathBuf)> {
    let st = dir.join(WEIGHTS_FILE);
    if st.exists() {
        return Ok((candle_core::safetensors::load(&st, device)?, st));
    }
    let bin = dir.join(PYTORCH_WEIGHTS_FILE);
    if bin.exists() {
        let mut out = HashMap::new();
        for (name, t) in candle_core::pickle::read_all(&bin)? {
            out.insert(name, t.to_device(device)?);
        }
        return Ok((out, bin));
    }
    Err(ModelError::io(
        &st,
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no weights file (neither {WEIGHTS_FILE} nor {PYTORCH_WEIGHTS_FILE})"),
        ),
    ))
}

/// Other names a checkpoint may store tensor `name` under. Hugging Face T5 checkpoints may hold
/// the shared embedding as `encoder.embed_tokens.weight` / `decoder.embed_tokens.weight` (tied
/// duplicates) and may omit `lm_head.weight` even for a model whose head is a separate tensor
/// (transformers 5 saves a head equal to `shared` once): it then starts as a copy of `shared`.
fn fallback_names(config: &ModelConfig, name: &str) -> &'static [&'static str] {
    match (config, name) {
        (ModelConfig::T5(_), "shared.weight") => {
            &["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
        }
        (ModelConfig::T5(_), "lm_head.weight") => &[
            "shared.weight",
            "encoder.embed_tokens.weight",
            "decoder.embed_tokens.weight",
        ],
        _ => &[],
    }
}

/// Write `bytes` to `path` atomically (temp file in the same dir, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> ModelResult<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile_in(dir, path)?;
    tmp.1
        .write_all(bytes)
        .map_err(|e| ModelError::io(&tmp.0, e))?;
    tmp.1.sync_all().map_err(|e| ModelError::io(&tmp.0, e))?;
    drop(tmp.1);
    std::fs::rename(&tmp.0, path).map_err(|e| ModelError::io(path, e))
}

fn tempfile_in(dir: &Path, target: &Path) -> ModelResult<(PathBuf, std::fs::File)> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let f = std::fs::File::create(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    Ok((tmp, f))
}

/// Every tensor to save: trainable weights and buffers, by HF name.
pub fn state_dict(model: &Model) -> ModelResult<HashMap<String, Tensor>> {
    let mut out = HashMap::new();
    let data = model
        .varmap()
        .data()
        .lock()
        .map_err(|_| ModelError::config("model", "weight map lock poisoned"))?;
    for (k, v) in data.iter() {
        out.insert(k.clone(), v.as_tensor().clone());
    }
    drop(data);
    for (k, v) in model.buffers()? {
        out.insert(k, v);
    }
    Ok(out)
}

impl Model {
    /// Save into `dir` (created if missing): config.json, model.safetensors, and a copy of
    /// `tokenizer` as tokenizer.json when given.
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
        write_atomic(&dir.join(CONFIG_FILE), self.config().to_json()?.as_bytes())?;
        let mut tensors = state_dict(self)?;
        tensors.extend(extra);
        let weights = dir.join(WEIGHTS_FILE);
        let tmp = dir.join(format!(".{WEIGHTS_FILE}.tmp-{}", std::process::id()));
        candle_core::safetensors::save(&tensors, &tmp)?;
        // safetensors writes through a `NamedTempFile` (mode 0600, never fsynced): give the
        // weights the mode config.json got from `File::create` (0666 minus the umask, 0644 as
        // a rule) so other users can read a shared model, and flush them to disk before the
        // rename so a crash cannot leave a renamed but empty weights file.
        let config_path = dir.join(CONFIG_FILE);
        let config_mode = std::fs::metadata(&config_path)
            .map_err(|e| ModelError::io(&config_path, e))?
            .permissions();
        let synced = std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .and_then(|f| {
                f.set_permissions(config_mode)?;
                f.sync_all()
            });
        if let Err(e) = synced {
            let _ = std::fs::remove_file(&tmp);
            return Err(ModelError::io(&tmp, e));
        }
        std::fs::rename(&tmp, &weights).map_err(|e| ModelError::io(&weights, e))?;
        if let Some(t) = tokenizer {
            let bytes = std::fs::read(t).map_err(|e| ModelError::io(t, e))?;
            write_atomic(&dir.join(TOKENIZER_FILE), &bytes)?;
        }
        Ok(())
    }

    /// Load a model directory written by [`Model::save`] or by Hugging Face `save_pretrained`
    /// for the supported classes: `model.safetensors`, or `pytorch_model.bin` when there is no
    /// safetensors file (see [`read_weights`]). Tensors the file lacks are an error, except the
    /// pooler (HF `*ForMaskedLM` checkpoints have none; it keeps its fresh init), tied decoder
    /// weights and T5's tied duplicates (see `fallback_names`). Extra tensors are ignored.
    pub fn load(dir: &Path, device: &Device) -> ModelResult<Model> {
        let cfg_path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| ModelError::io(&cfg_path, e))?;
        let config = ModelConfig::from_json(&text, &cfg_path.display().to_string())?;
        let model = Model::new(&config, device, 0)?;
        let (file, wpath) = read_weights(dir, device)?;
        model.assign(&file, &wpath)?;
        Ok(model)
    }

    /// Overwrite weights and buffers from `tensors` (names as in HF checkpoints).
    pub fn assign(&self, tensors: &HashMap<String, Tensor>, origin: &Path) -> ModelResult<()> {
        let data = self
            .varmap()
            .data()
            .lock()
            .map_err(|_| ModelError::config("model", "weight map lock poisoned"))?;
        for (name, var) in data.iter() {
            let found = tensors.get(name).or_else(|| {
                fallback_names(self.config(), name)
                    .iter()
                    .find_map(|alt| tensors.get(*alt))
            });
            match found {
                Some(t) => {
                    if t.dims() != var.dims() {
                        return Err(ModelError::ShapeMismatch {
                            path: origin.to_path_buf(),
                            name: name.clone(),
                            found: t.dims().to_vec(),
                            expected: var.dims().to_vec(),
                        });
                    }
                    var.set(&t.to_dtype(DType::F32)?)?;
                }
                None if name.contains("pooler") => {
                    tracing::warn!(
                        "{}: no `{name}`; the pooler keeps its initial weights",
                        origin.display()
                    );
                }
                None => {
                    return Err(ModelError::MissingTensor {
                        path: origin.to_path_buf(),
                        name: name.clone(),
                    })
                }
            }
        }
        drop(data);
        for (name, _) in self.buffers()? {
            match tensors.get(&name) {
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
