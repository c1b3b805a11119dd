//! Loading the data set a baseline run names and writing the run directory: `results.csv`,
//! `results.md`, `config.json` (settings, data file hash, split hashes, skipped molecules) and
//! one `splits/seed-N.json` per seed, so every number can be recomputed. All writes are atomic.

use std::path::Path;

use chemlm_data::atomic::{write_file, write_json};
use chemlm_data::download::sha256_file;
use chemlm_data::split::SplitSource;
use chemlm_data::{find_dataset, LabeledCsvOptions, LabeledDataset, Resolver, TaskType};

use super::run::{BaselineConfig, BaselineReport};
use super::Result;

/// Loads `spec`: a registry name (`bbbp`, `esol`, …) or, when no such name exists, a CSV/TSV
/// path with `smiles_col` / `target_cols` / `task_type` (classification is assumed when every
/// label is 0 or 1 and no task type is given). Returns the data and its provenance for splits.
pub fn open_dataset(
    spec: &str,
    smiles_col: Option<&str>,
    target_cols: Option<Vec<String>>,
    task_type: Option<TaskType>,
) -> Result<(LabeledDataset, SplitSource)> {
    let path = Path::new(spec);
    let (ds, registered) = match find_dataset(spec) {
        Ok(info) if !path.is_file() => (LabeledDataset::load(info, &Resolver::from_env())?, true),
        Err(e) if !path.is_file() => return Err(e.into()),
        _ => {
            let opts = LabeledCsvOptions {
                smiles_column: smiles_col.map(str::to_string),
                target_columns: target_cols,
                task_type,
                name: None,
            };
            let mut ds = LabeledDataset::from_csv(path, &opts)?;
            if task_type.is_none() {
                let binary = ds.labels.iter().flatten().all(|&y| y == 0.0 || y == 1.0);
                ds.task_type = if binary {
                    TaskType::Classification
                } else {
                    TaskType::Regression
                };
                ds.metric = Some(if binary {
                    chemlm_data::Metric::RocAuc
                } else {
                    chemlm_data::Metric::Rmse
                });
            }
            (ds, false)
        }
    };
    let source = SplitSource {
        dataset: registered.then(|| ds.name.clone()),
        path: ds.path.display().to_string(),
        sha256: sha256_file(&ds.path)?,
    };
    Ok((ds, source))
}

/// Writes the run directory `out` (created if needed).
pub fn write_run(
    out: &Path,
    report: &BaselineReport,
    cfg: &BaselineConfig,
    source: &SplitSource,
) -> Result<()> {
    std::fs::create_dir_all(out.join("splits")).map_err(|e| {
        super::BaselineError::Invalid(format!("cannot create {}: {e}", out.display()))
    })?;
    write_file(&out.join("results.csv"), report.to_csv().as_bytes())?;
    write_file(&out.join("results.md"), report.to_markdown().as_bytes())?;
    let split_hashes: Vec<serde_json::Value> = report
        .splits
        .iter()
        .map(|s| serde_json::json!({"seed": s.seed, "folds_sha256": s.folds_sha256}))
        .collect();
    let config = serde_json::json!({
        "format": "chemlm-baseline/1",
        "source": source,
        "config": cfg,
        "splits": split_hashes,
        "report": report,
        "summary": report.summary(),
    });
    write_json(&out.join("config.json"), &config)?;
    for s in &report.splits {
        s.save(&out.join("splits").join(format!("seed-{}.json", s.seed)))?;
    }
    Ok(())
}
