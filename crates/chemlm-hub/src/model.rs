//! Which files of a repository make a loadable model: the same choice whether the file list
//! comes from the Hub's listing (online) or from a snapshot folder (offline), so that an
//! offline run accepts exactly the snapshots an online run would have produced.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::HubError;
use crate::repo::{validate_filename, RepoRef};

/// The model configuration; required.
pub const CONFIG_FILE: &str = "config.json";

/// Weight layouts, most preferred first: a single safetensors file, sharded safetensors with an
/// index, a single PyTorch pickle, sharded pickles with an index. Only the first present layout
/// is downloaded (a repository often has both safetensors and .bin copies of the same weights).
pub const WEIGHT_LAYOUTS: [Weights; 4] = [
    Weights::Single("model.safetensors"),
    Weights::Sharded("model.safetensors.index.json"),
    Weights::Single("pytorch_model.bin"),
    Weights::Sharded("pytorch_model.bin.index.json"),
];

/// Tokenizer and auxiliary files, downloaded when the repository has them.
pub const AUX_FILES: [&str; 9] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "added_tokens.json",
    "spiece.model",
    "generation_config.json",
];

/// One way the weights can be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// One file.
    Single(&'static str),
    /// An index (`{"weight_map": {tensor: shard}}`) plus the shards it names.
    Sharded(&'static str),
}

impl Weights {
    /// The file that decides whether this layout is present.
    pub fn file(&self) -> &'static str {
        match self {
            Self::Single(f) | Self::Sharded(f) => f,
        }
    }
}

/// The first weight layout among `has`, or an error naming what was looked for.
pub(crate) fn choose_weights(
    repo: &RepoRef,
    revision: &str,
    has: impl Fn(&str) -> bool,
) -> Result<Weights, HubError> {
    WEIGHT_LAYOUTS
        .into_iter()
        .find(|w| has(w.file()))
        .ok_or_else(|| HubError::NotAModel {
            repo: repo.repo_id().to_string(),
            revision: revision.to_string(),
            reason: format!(
                "no weights: expected one of {}",
                WEIGHT_LAYOUTS.map(|w| w.file()).join(", ")
            ),
        })
}

/// The shard files named by an index, sorted and deduplicated; each must be a plain relative
/// file name (the index comes from the network).
pub(crate) fn shards_of_index(
    repo: &RepoRef,
    revision: &str,
    index_path: &Path,
) -> Result<Vec<String>, HubError> {
    let bytes = std::fs::read(index_path).map_err(|e| HubError::io(index_path, e))?;
    let not_model = |reason: String| HubError::NotAModel {
        repo: repo.repo_id().to_string(),
        revision: revision.to_string(),
        reason,
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| not_model(format!("{} is not JSON: {e}", index_path.display())))?;
    let map = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| not_model(format!("{} has no weight_map object", index_path.display())))?;
    let mut shards = BTreeSet::new();
    for (tensor, shard) in map {
        let shard = shard.as_str().ok_or_else(|| {
            not_model(format!(
                "{}: weight_map[{tensor:?}] is not a file name",
                index_path.display()
            ))
        })?;
        validate_filename(repo, shard)?;
        shards.insert(shard.to_string());
    }
    if shards.is_empty() {
        return Err(not_model(format!(
            "{} has an empty weight_map",
            index_path.display()
        )));
    }
    Ok(shards.into_iter().collect())
}

/// What a snapshot folder lacks to be a loadable model: `config.json`, a weight layout, shards
/// named by its index. Empty when complete.
pub(crate) fn missing_in_snapshot(
    repo: &RepoRef,
    revision: &str,
    dir: &Path,
) -> Result<Vec<String>, HubError> {
    let has = |f: &str| dir.join(f).is_file();
    let mut missing = Vec::new();
    if !has(CONFIG_FILE) {
        missing.push(CONFIG_FILE.to_string());
    }
    match choose_weights(repo, revision, has) {
        Ok(Weights::Single(_)) => {}
        Ok(Weights::Sharded(index)) => {
            let shards = shards_of_index(repo, revision, &dir.join(index))?;
            missing.extend(shards.into_iter().filter(|s| !has(s)));
        }
        Err(_) => missing.push("weights (model.safetensors or pytorch_model.bin)".to_string()),
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_safetensors() {
        let r = RepoRef::parse("hf:a/b").unwrap();
        let files = ["pytorch_model.bin", "model.safetensors.index.json"];
        let w = choose_weights(&r, "main", |f| files.contains(&f)).unwrap();
        assert_eq!(w, Weights::Sharded("model.safetensors.index.json"));
        let w = choose_weights(&r, "main", |f| f == "pytorch_model.bin").unwrap();
        assert_eq!(w, Weights::Single("pytorch_model.bin"));
        let e = choose_weights(&r, "main", |_| false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no weights"), "{e}");
    }

    #[test]
    fn index_shards() {
        let dir = tempfile::tempdir().unwrap();
        let r = RepoRef::parse("hf:a/b").unwrap();
        let p = dir.path().join("i.json");
        std::fs::write(
            &p,
            r#"{"metadata":{},"weight_map":{"a":"m-2.safetensors","b":"m-1.safetensors","c":"m-2.safetensors"}}"#,
        )
        .unwrap();
        assert_eq!(
            shards_of_index(&r, "main", &p).unwrap(),
            ["m-1.safetensors", "m-2.safetensors"]
        );
        std::fs::write(&p, r#"{"weight_map":{"a":"../../etc/passwd"}}"#).unwrap();
        assert!(matches!(
            shards_of_index(&r, "main", &p),
            Err(HubError::InvalidFilename { .. })
        ));
    }
}
