//! Model presets shipped in `configs/*.toml`, compiled into the binary so `--preset NAME` works
//! from any directory.

use crate::config::ModelConfig;
use crate::error::{ModelError, ModelResult};

macro_rules! presets {
    ($($name:literal),* $(,)?) => {
        /// `(name, TOML text)` of every shipped preset.
        pub const PRESETS: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../../configs/", $name, ".toml")))),*
        ];
    };
}

presets!(
    "molformer-xl",
    "molformer-small",
    "molformer-tiny",
    "molbert",
    "bert-small",
    "delicate",
    "albert-small",
    "chemgpt-4.7m",
    "chemgpt-19m",
    "gpt-small",
    "t5-small",
    "t5-base",
    "t5-tiny",
);

/// Names of all presets.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

/// The config of preset `name`.
pub fn preset(name: &str) -> ModelResult<ModelConfig> {
    match PRESETS.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => ModelConfig::from_toml(text, &format!("configs/{n}.toml")),
        None => Err(ModelError::UnknownPreset {
            name: name.to_string(),
            known: preset_names().join(", "),
        }),
    }
}
