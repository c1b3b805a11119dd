//! Multi-task text+chemistry data for encoder-decoder (T5) models: the five tasks of
//! Christofidellis et al. (ICML 2023, "Unifying molecular and textual representations via
//! multi-task language modelling"; GT4SD's `multitask-text-and-chemistry-t5`), each marked by the
//! paper's prompt, built from the public sets under `CHEMLM_DATA_DIR`.
//!
//! | task | source (after the prompt) | target | data: train / valid / test |
//! |---|---|---|---|
//! | `forward` | reactants (`.`-separated) | product | USPTO-50K train/valid/test; USPTO-MIT valid (as train, see below) and test |
//! | `retro` | product | reactants | USPTO-50K train/valid/test |
//! | `text2mol` | ChEBI-20 description | SMILES | ChEBI-20 validation / — / test |
//! | `mol2text` | SMILES | description | ChEBI-20 validation / — / test |
//! | `actions` | experimental paragraph | action sequence | paragraph2actions train/valid/test (the public 100-pair sample) |
//!
//! Gaps of the local data, which change what "train" means here: the ChEBI-20 **train** split
//! (26,407 pairs) is not available, so ChEBI-20 *validation* is the text↔molecule training data and
//! there is no text↔molecule validation split; the USPTO-MIT train split is not available either, so
//! USPTO-MIT *valid* is forward training data by default ([`MitValid`]); paragraph2actions is the
//! public 100-pair sample, not the paper's annotated set.
//!
//! Pipeline ([`build`]): read every source (bad records — empty fields, malformed reactions,
//! unparsable SMILES with `canonicalize` — go to the observer with file, line and reason, and are
//! counted), optionally canonicalise SMILES and write salts GT4SD's way ([`smiles`]), drop training
//! pairs that leak test molecules ([`LeakMode`]), mix tasks by weights (seeded up/down-sampling of
//! the training split), tokenise with a trained or given T5 tokenizer (checking that every source and
//! target survives the round trip, repairing a given tokenizer by [`crate::tokenizer::escape`]),
//! filter by length, and write JSONL, paired token shards, `summary.json` (see [`shards`] for the
//! directory layout).

pub mod build;
pub mod shards;
pub mod smiles;
pub mod sources;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DataError;

pub use build::{
    build, LeakMode, MitValid, Seq2SeqConfig, Seq2SeqObserver, Seq2SeqSummary, TokenizerSource,
};
pub use shards::{Seq2SeqManifest, Seq2SeqShards, Seq2SeqSplit, SEQ2SEQ_FORMAT};

/// One of the five tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Reactants → product.
    Forward,
    /// Product → reactants.
    Retro,
    /// Description → SMILES.
    Text2Mol,
    /// SMILES → description.
    Mol2Text,
    /// Experimental paragraph → actions.
    Actions,
}

impl Task {
    /// All tasks, in the order used for ids and output.
    pub const ALL: [Task; 5] = [
        Task::Forward,
        Task::Retro,
        Task::Text2Mol,
        Task::Mol2Text,
        Task::Actions,
    ];

    /// The paper's prompt, verbatim, ending in a space (the input follows directly).
    pub fn prompt(self) -> &'static str {
        match self {
            Task::Forward => "Predict the product of the following reaction: ",
            Task::Retro => "Predict the reaction that produces the following product: ",
            Task::Text2Mol => "Write in SMILES the described molecule: ",
            Task::Mol2Text => "Caption the following SMILES: ",
            Task::Actions => "Which actions are described in the following paragraph: ",
        }
    }

    /// Name in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Task::Forward => "forward",
            Task::Retro => "retro",
            Task::Text2Mol => "text2mol",
            Task::Mol2Text => "mol2text",
            Task::Actions => "actions",
        }
    }

    /// Index in [`Task::ALL`] (the byte stored per pair in `{split}.tasks`).
    pub fn index(self) -> u8 {
        Task::ALL.iter().position(|&t| t == self).unwrap_or(0) as u8
    }

    /// The task of an index.
    pub fn from_index(i: u8) -> Option<Task> {
        Task::ALL.get(i as usize).copied()
    }

    /// Whether the source input is SMILES.
    pub fn source_is_smiles(self) -> bool {
        matches!(self, Task::Forward | Task::Retro | Task::Mol2Text)
    }

    /// Whether the target is SMILES.
    pub fn target_is_smiles(self) -> bool {
        matches!(self, Task::Forward | Task::Retro | Task::Text2Mol)
    }

    /// Whether SMILES fields are reaction sides (several molecules, salts).
    pub fn is_reaction(self) -> bool {
        matches!(self, Task::Forward | Task::Retro)
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Task {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, DataError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "forward" => Ok(Task::Forward),
            "retro" | "retrosynthesis" => Ok(Task::Retro),
            "text2mol" => Ok(Task::Text2Mol),
            "mol2text" => Ok(Task::Mol2Text),
            "actions" | "paragraph2actions" => Ok(Task::Actions),
            _ => Err(DataError::Invalid(format!(
                "unknown task {s:?} (forward, retro, text2mol, mol2text, actions)"
            ))),
        }
    }
}

/// A split of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    /// All splits.
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

    /// `train`, `valid`, `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of the JSONL output: `{"task", "source", "target"}`, the source with its prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub task: Task,
    pub source: String,
    pub target: String,
}

/// Parses `forward=1,retro=0.5` into per-task weights (tasks not named keep weight 1).
pub fn parse_weights(s: &str) -> Result<Vec<(Task, f64)>, DataError> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (t, w) = part
            .split_once('=')
            .ok_or_else(|| DataError::Invalid(format!("weight {part:?} is not TASK=WEIGHT")))?;
        let w: f64 = w
            .trim()
            .parse()
            .map_err(|_| DataError::Invalid(format!("weight {w:?} is not a number")))?;
        if !(w.is_finite() && w >= 0.0) {
            return Err(DataError::Invalid(format!(
                "weight of {t} must be a finite number >= 0"
            )));
        }
        out.push((t.parse()?, w));
    }
    Ok(out)
}

/// Parses `forward,retro` into tasks (order kept, duplicates dropped).
pub fn parse_tasks(s: &str) -> Result<Vec<Task>, DataError> {
    let mut out: Vec<Task> = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let t: Task = part.parse()?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(DataError::Invalid("no task given".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_the_papers() {
        assert_eq!(
            Task::Forward.prompt(),
            "Predict the product of the following reaction: "
        );
        assert_eq!(
            Task::Retro.prompt(),
            "Predict the reaction that produces the following product: "
        );
        assert_eq!(
            Task::Text2Mol.prompt(),
            "Write in SMILES the described molecule: "
        );
        assert_eq!(Task::Mol2Text.prompt(), "Caption the following SMILES: ");
        assert_eq!(
            Task::Actions.prompt(),
            "Which actions are described in the following paragraph: "
        );
        for t in Task::ALL {
            assert_eq!(Task::from_index(t.index()), Some(t));
            assert_eq!(t.name().parse::<Task>().unwrap(), t);
        }
    }

    #[test]
    fn weights_and_tasks_parse() {
        let w = parse_weights("forward=2, retro=0.5").unwrap();
        assert_eq!(w, vec![(Task::Forward, 2.0), (Task::Retro, 0.5)]);
        assert!(parse_weights("forward").is_err());
        assert!(parse_weights("forward=-1").is_err());
        assert!(parse_weights("nope=1").is_err());
        assert_eq!(
            parse_tasks("retro,forward,retro").unwrap(),
            vec![Task::Retro, Task::Forward]
        );
        assert!(parse_tasks("").is_err());
    }

    #[test]
    fn example_json_has_task_source_target() {
        let e = Example {
            task: Task::Mol2Text,
            source: "Caption the following SMILES: CCO".into(),
            target: "Ethanol.".into(),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"task":"mol2text","source":"Caption the following SMILES: CCO","target":"Ethanol."}"#
        );
    }
}
