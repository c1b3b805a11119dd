//! The labelled-data-set flags shared by `chemlm finetune` and `chemlm baseline`, so both read a
//! registry name or a CSV the same way and a model is always compared with its baselines on the
//! same molecules.

use anyhow::{bail, Context, Result};
use chemlm_data::split::SplitSource;
use chemlm_data::{LabeledDataset, TaskType};
use chemlm_train::baselines::open_dataset;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct DatasetArgs {
    /// Registered data set (bbbp, bace, clintox, tox21, sider, hiv, esol, freesolv, lipo, qm9,
    /// delicate-esol, …) or a CSV/TSV file with a header.
    #[arg(long)]
    pub dataset: String,
    /// SMILES column of a CSV file (default: auto-detected).
    #[arg(long)]
    pub smiles_col: Option<String>,
    /// Comma-separated label columns of a CSV file (default: all other columns).
    #[arg(long, value_delimiter = ',')]
    pub target_cols: Option<Vec<String>>,
    /// classification or regression (default: from the registry, or classification when every
    /// label of a CSV is 0/1).
    #[arg(long)]
    pub task: Option<String>,
}

impl DatasetArgs {
    /// Loads the data set (bad rows are reported by the loader) with its provenance.
    pub fn open(&self) -> Result<(LabeledDataset, SplitSource)> {
        open_dataset(
            &self.dataset,
            self.smiles_col.as_deref(),
            self.target_cols.clone(),
            parse_task(self.task.as_deref())?,
        )
        .with_context(|| format!("loading {}", self.dataset))
    }
}

/// `--task` → a task type (`None`: decided by the registry or the labels).
pub fn parse_task(task: Option<&str>) -> Result<Option<TaskType>> {
    Ok(match task {
        None => None,
        Some("classification") => Some(TaskType::Classification),
        Some("regression") => Some(TaskType::Regression),
        Some(other) => bail!("--task must be classification or regression, not {other:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_parse_and_bad_ones_are_named() {
        assert_eq!(parse_task(None).unwrap(), None);
        assert_eq!(
            parse_task(Some("regression")).unwrap(),
            Some(TaskType::Regression)
        );
        let e = parse_task(Some("ranking")).unwrap_err().to_string();
        assert!(e.contains("ranking"), "{e}");
    }
}
