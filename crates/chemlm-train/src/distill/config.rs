//! Settings of general distillation: loss weights, temperature and the teacher→student layer map.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which teacher hidden state each student hidden state is matched to.
///
/// Indices count hidden states as Hugging Face's `output_hidden_states` does (and as
/// [`chemlm_models::ModelOutput::hidden_states`] holds them): 0 is the embedding output, `i` the
/// output of layer application `i`. DeLiCaTe's map for a 12-layer teacher and a 3-pass student is
/// `0:0,4:1,8:2,12:3`. Written and parsed as `teacher:student` pairs separated by commas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LayerMap(pub Vec<(usize, usize)>);

impl LayerMap {
    /// Student state `j` ↔ teacher state `round(j · teacher_layers / student_layers)`, for
    /// `j = 0..=student_layers`: evenly spaced, embeddings to embeddings and last to last.
    /// For 12 → 3 this is DeLiCaTe's `0:0,4:1,8:2,12:3`.
    pub fn evenly(teacher_layers: usize, student_layers: usize) -> Self {
        let s = student_layers.max(1);
        LayerMap(
            (0..=student_layers)
                .map(|j| ((j * teacher_layers + s / 2) / s, j))
                .collect(),
        )
    }

    /// Checks every index against the models' layer counts (`num_layers + 1` hidden states).
    pub fn validate(&self, teacher_layers: usize, student_layers: usize) -> Result<(), String> {
        for &(t, s) in &self.0 {
            if t > teacher_layers {
                return Err(format!(
                    "layer map pair {t}:{s}: the teacher has {teacher_layers} layers (hidden states 0..={teacher_layers})"
                ));
            }
            if s > student_layers {
                return Err(format!(
                    "layer map pair {t}:{s}: the student has {student_layers} layer applications (hidden states 0..={student_layers})"
                ));
            }
        }
        Ok(())
    }
}

impl FromStr for LayerMap {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(LayerMap(Vec::new()));
        }
        text.split(',')
            .map(|pair| {
                let (t, s) = pair.trim().split_once(':').ok_or_else(|| {
                    format!("layer map: '{pair}' is not TEACHER:STUDENT (e.g. 4:1)")
                })?;
                let parse = |x: &str| {
                    x.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("layer map: '{x}' in '{pair}' is not a layer index"))
                };
                Ok((parse(t)?, parse(s)?))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(LayerMap)
    }
}

impl fmt::Display for LayerMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(t, s)| format!("{t}:{s}")).collect();
        f.write_str(&parts.join(","))
    }
}

impl TryFrom<String> for LayerMap {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<LayerMap> for String {
    fn from(m: LayerMap) -> String {
        m.to_string()
    }
}

impl Default for LayerMap {
    fn default() -> Self {
        LayerMap::evenly(12, 3)
    }
}

/// Loss weights and temperature of general (pretraining-stage) distillation.
///
/// The per-batch loss is `alpha_kd · T²·KL/n + alpha_mlm · CE/n` plus
/// `alpha_hidden_mse · Σ_pairs MSE + alpha_mmd · Σ_pairs MMD + alpha_attention · Σ_pairs att`,
/// with `n` the masked positions; the pair losses are summed over the layer map as TinyBERT and
/// TextBrewer do. A weight of 0 switches a term off and
/// skips the work it needs (e.g. attention maps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistillConfig {
    /// Softmax temperature of the soft targets (DeLiCaTe: 8).
    pub temperature: f64,
    /// Weight of the soft-target KL on the MLM logits at masked positions.
    pub alpha_kd: f64,
    /// Weight of the hard masked-LM cross-entropy against the true tokens.
    pub alpha_mlm: f64,
    /// Weight of the hidden-state MSE (after the learned projection when widths differ).
    pub alpha_hidden_mse: f64,
    /// Weight of the Gram-matrix MMD of hidden states.
    pub alpha_mmd: f64,
    /// Weight of attention-map matching (0 = off; the maps cost O(seq²) memory per layer).
    pub alpha_attention: f64,
    /// Teacher→student hidden-state pairs.
    pub layer_map: LayerMap,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            temperature: 8.0,
            alpha_kd: 1.0,
            alpha_mlm: 1.0,
            alpha_hidden_mse: 1.0,
            alpha_mmd: 1.0,
            alpha_attention: 0.0,
            layer_map: LayerMap::default(),
        }
    }
}

impl DistillConfig {
    /// Rejects non-positive temperatures, negative or non-finite weights, and all-zero weights.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "temperature must be positive, got {}",
                self.temperature
            ));
        }
        let w = [
            ("alpha_kd", self.alpha_kd),
            ("alpha_mlm", self.alpha_mlm),
            ("alpha_hidden_mse", self.alpha_hidden_mse),
            ("alpha_mmd", self.alpha_mmd),
            ("alpha_attention", self.alpha_attention),
        ];
        for (name, v) in w {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} must be a finite weight >= 0, got {v}"));
            }
        }
        if w.iter().all(|(_, v)| *v == 0.0) {
            return Err("every distillation loss weight is 0".into());
        }
        Ok(())
    }

    /// True when hidden states must be requested from the models.
    pub fn needs_hidden(&self) -> bool {
        (self.alpha_hidden_mse > 0.0 || self.alpha_mmd > 0.0) && !self.layer_map.0.is_empty()
    }

    /// True when attention maps must be requested from the models.
    pub fn needs_attention(&self) -> bool {
        self.alpha_attention > 0.0 && self.layer_map.0.iter().any(|&(t, s)| t > 0 && s > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_map_parses_prints_and_defaults_to_delicate() {
        let m: LayerMap = "0:0, 4:1,8:2,12:3".parse().unwrap();
        assert_eq!(m, LayerMap::default());
        assert_eq!(m.to_string(), "0:0,4:1,8:2,12:3");
        assert_eq!(LayerMap::evenly(6, 2).0, vec![(0, 0), (3, 1), (6, 2)]);
        assert_eq!(LayerMap::evenly(12, 12).0.len(), 13);
        assert!("4-1"
            .parse::<LayerMap>()
            .unwrap_err()
            .contains("TEACHER:STUDENT"));
        assert!("4:x".parse::<LayerMap>().is_err());
        assert!(m.validate(12, 3).is_ok());
        assert!(m
            .validate(6, 3)
            .unwrap_err()
            .contains("teacher has 6 layers"));
        assert!(m.validate(12, 2).unwrap_err().contains("student"));
    }

    #[test]
    fn config_round_trips_through_toml_and_validates() {
        let c = DistillConfig::default();
        let text = toml::to_string(&c).unwrap();
        assert!(text.contains("layer_map = \"0:0,4:1,8:2,12:3\""), "{text}");
        let back: DistillConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, c);
        assert!(c.validate().is_ok());
        let bad = DistillConfig {
            temperature: 0.0,
            ..c.clone()
        };
        assert!(bad.validate().is_err());
        let zero = DistillConfig {
            alpha_kd: 0.0,
            alpha_mlm: 0.0,
            alpha_hidden_mse: 0.0,
            alpha_mmd: 0.0,
            ..c
        };
        assert!(zero.validate().unwrap_err().contains("every"));
    }
}
