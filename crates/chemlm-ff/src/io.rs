//! A force field on disk: `config.json` (architecture, sizes, cutoff, energy scale) and
//! `model.safetensors` (weights under schnetpack 2.x's state-dict names, plus the per-element
//! reference `atomref`), the same directory shape as every other chemlm model.

use crate::error::{FfError, FfResult};
use crate::scale::EnergyScale;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use std::collections::HashMap;
use std::path::Path;

/// Name of the config file.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the weights file.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Writes `config` and the weights of `varmap` into `dir` (created if missing), each file
/// atomically via chemlm-models' writer. Weights are stored in f32 whatever the run dtype.
pub fn save_model(dir: &Path, config: &serde_json::Value, varmap: &VarMap) -> FfResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| FfError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let text = serde_json::to_string_pretty(config)
        .map_err(|e| FfError::Invalid(format!("config to JSON: {e}")))?;
    chemlm_models::io::write_atomic(&dir.join(CONFIG_FILE), format!("{text}\n").as_bytes())
        .map_err(|e| FfError::Invalid(e.to_string()))?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    {
        let data = varmap
            .data()
            .lock()
            .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?;
        for (k, v) in data.iter() {
            tensors.insert(k.clone(), v.as_tensor().to_dtype(DType::F32)?);
        }
    }
    let path = dir.join(WEIGHTS_FILE);
    let bytes = safetensors_bytes(&tensors)?;
    chemlm_models::io::write_atomic(&path, &bytes).map_err(|e| FfError::Invalid(e.to_string()))
}

fn safetensors_bytes(tensors: &HashMap<String, Tensor>) -> FfResult<Vec<u8>> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let data: Vec<(String, Vec<u8>, Vec<usize>)> = names
        .iter()
        .map(|n| {
            let t = &tensors[*n];
            let v: Vec<f32> = t.flatten_all()?.to_vec1()?;
            let bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            Ok(((*n).clone(), bytes, t.dims().to_vec()))
        })
        .collect::<FfResult<_>>()?;
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, b, s)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| FfError::Invalid(format!("safetensors view {n}: {e}")))
        })
        .collect::<FfResult<_>>()?;
    safetensors::serialize(views, &None).map_err(|e| FfError::Invalid(format!("safetensors: {e}")))
}

/// Reads `config.json` of `dir` as JSON.
pub fn read_config(dir: &Path) -> FfResult<serde_json::Value> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| FfError::Io {
        path: path.clone(),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| FfError::Config {
        origin: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Loads `model.safetensors` of `dir` into the variables of `varmap` (converted to their
/// dtype). Every variable must be present with the same shape; extra tensors are an error
/// too, since they mean the config and the weights disagree.
pub fn load_weights(dir: &Path, varmap: &VarMap, device: &Device) -> FfResult<()> {
    let path = dir.join(WEIGHTS_FILE);
    let file = candle_core::safetensors::load(&path, device)?;
    let data = varmap
        .data()
        .lock()
        .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?;
    for (name, var) in data.iter() {
        let t = file.get(name).ok_or_else(|| FfError::Weights {
            path: path.clone(),
            reason: format!("tensor `{name}` is missing"),
        })?;
        if t.dims() != var.dims() {
            return Err(FfError::Weights {
                path: path.clone(),
                reason: format!(
                    "tensor `{name}` has shape {:?}, the config implies {:?}",
                    t.dims(),
                    var.dims()
                ),
            });
        }
        var.set(&t.to_dtype(var.dtype())?)?;
    }
    if let Some(extra) = file.keys().find(|k| !data.contains_key(*k)) {
        return Err(FfError::Weights {
            path,
            reason: format!("unexpected tensor `{extra}` (config and weights disagree)"),
        });
    }
    Ok(())
}

/// The energy scale as stored in `config.json` under `"energy_scale"` (default when absent).
pub fn energy_scale_from_config(config: &serde_json::Value) -> FfResult<EnergyScale> {
    match config.get("energy_scale") {
        None => Ok(EnergyScale::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| FfError::Config {
            origin: "config.json".into(),
            reason: format!("energy_scale: {e}"),
        }),
    }
}

/// Parses a model config from TOML (`origin` names it in errors); validation is the caller's.
/// Every architecture's config goes through here and the two helpers below, so their error
/// messages and the `config.json` layout stay one.
pub fn config_from_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> FfResult<T> {
    toml::from_str(text).map_err(|e| FfError::Config {
        origin: origin.to_string(),
        reason: e.to_string(),
    })
}

/// Parses a model config from a `config.json` value (keys it does not know, such as
/// `energy_scale`, are ignored).
pub fn config_from_json<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    origin: &str,
) -> FfResult<T> {
    serde_json::from_value(value.clone()).map_err(|e| FfError::Config {
        origin: origin.to_string(),
        reason: e.to_string(),
    })
}

/// A config as stored in `config.json`: its fields plus `"energy_scale"`.
pub fn config_json_with_scale<T: serde::Serialize>(
    config: &T,
    scale: &EnergyScale,
) -> FfResult<serde_json::Value> {
    let mut v = serde_json::to_value(config)
        .map_err(|e| FfError::Invalid(format!("model config to JSON: {e}")))?;
    let s = serde_json::to_value(scale)
        .map_err(|e| FfError::Invalid(format!("energy scale to JSON: {e}")))?;
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("energy_scale".into(), s);
    }
    Ok(v)
}
