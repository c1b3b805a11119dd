//! The trainable parameters, in a fixed order, with their weight-decay flag.

use crate::error::Result;
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::VarMap;

/// Which parameters get weight decay.
///
/// Following BERT/MoLFormer practice, decay applies to weight matrices only: a parameter is
/// excluded when its last name segment is `bias`, when any segment contains `norm` (LayerNorm,
/// RMSNorm, `layer_norm`, `norm1`) or starts with `ln` (`ln_1`, `ln_f`), when any segment contains
/// `embed` or is `wte`/`wpe` (token and position embeddings), or (with `exclude_1d`) when the
/// tensor has rank ≤ 1 (catches gains and biases under other names).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecayRule {
    /// Also exclude every tensor of rank ≤ 1.
    pub exclude_1d: bool,
    /// Extra substrings that exclude a parameter (case-insensitive).
    pub extra_exclude: Vec<String>,
}

impl Default for DecayRule {
    fn default() -> Self {
        DecayRule {
            exclude_1d: true,
            extra_exclude: Vec::new(),
        }
    }
}

impl DecayRule {
    /// True when `name` (with tensor rank `rank`) receives weight decay.
    pub fn decays(&self, name: &str, rank: usize) -> bool {
        if self.exclude_1d && rank <= 1 {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        let segments: Vec<&str> = lower.split(['.', '/']).collect();
        if segments.last() == Some(&"bias") {
            return false;
        }
        let excluded_segment = |s: &&str| {
            s.contains("norm")
                || s.starts_with("ln")
                || s.contains("embed")
                || *s == "wte"
                || *s == "wpe"
        };
        if segments.iter().any(excluded_segment) {
            return false;
        }
        !self
            .extra_exclude
            .iter()
            .any(|p| lower.contains(&p.to_ascii_lowercase()))
    }
}

/// One named trainable tensor.
#[derive(Debug, Clone)]
pub struct Param {
    /// Its name in the model's `VarMap`.
    pub name: String,
    /// The variable.
    pub var: Var,
    /// Whether weight decay applies.
    pub decay: bool,
}

/// Trainable parameters sorted by name, so optimizer state lines up across runs and checkpoints.
#[derive(Debug, Clone, Default)]
pub struct ParamSet {
    params: Vec<Param>,
}

impl ParamSet {
    /// Every variable of `varmap`.
    pub fn from_varmap(varmap: &VarMap, rule: &DecayRule) -> Self {
        let named: Vec<(String, Var)> = match varmap.data().lock() {
            Ok(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(poisoned) => poisoned
                .into_inner()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        Self::from_named(named, rule)
    }

    /// Explicit `(name, var)` pairs (e.g. to train only some layers).
    pub fn from_named(named: Vec<(String, Var)>, rule: &DecayRule) -> Self {
        let mut params: Vec<Param> = named
            .into_iter()
            .map(|(name, var)| {
                let decay = rule.decays(&name, var.rank());
                Param { name, var, decay }
            })
            .collect();
        params.sort_by(|a, b| a.name.cmp(&b.name));
        ParamSet { params }
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The parameters in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Param> {
        self.params.iter()
    }

    /// Total number of scalar parameters.
    pub fn numel(&self) -> usize {
        self.params.iter().map(|p| p.var.elem_count()).sum()
    }

    /// Gradients from a backward pass, aligned with the parameters.
    pub fn grads(&self, store: &GradStore) -> Vec<Option<Tensor>> {
        self.params
            .iter()
            .map(|p| store.get(p.var.as_tensor()).cloned())
            .collect()
    }

    /// Adds `more` into `acc` (gradient accumulation over micro-batches).
    pub fn accumulate(acc: &mut [Option<Tensor>], more: Vec<Option<Tensor>>) -> Result<()> {
        for (a, g) in acc.iter_mut().zip(more) {
            *a = match (a.take(), g) {
                (Some(x), Some(y)) => Some((x + y)?),
                (x, None) => x,
                (None, y) => y,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_rule_excludes_bias_norm_embeddings() {
        let r = DecayRule::default();
        assert!(r.decays("encoder.layer.0.attention.query.weight", 2));
        assert!(r.decays("lm_head.dense.weight", 2));
        assert!(!r.decays("encoder.layer.0.attention.query.bias", 1));
        assert!(!r.decays("encoder.layer.0.output.LayerNorm.weight", 1));
        assert!(!r.decays("h.3.ln_1.weight", 1));
        assert!(!r.decays("embeddings.word_embeddings.weight", 2));
        assert!(!r.decays("transformer.wte.weight", 2));
        assert!(!r.decays("transformer.wpe.weight", 2));
        let no1d = DecayRule {
            exclude_1d: false,
            extra_exclude: vec!["pooler".into()],
        };
        assert!(no1d.decays("head.scale", 1));
        assert!(!no1d.decays("pooler.dense.weight", 2));
    }
}
