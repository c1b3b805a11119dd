//! Labeled data sets in memory: SMILES, task names and a row-major label matrix with missing
//! labels, loaded from a registered data set or from any CSV/TSV.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::DataError;
use crate::reader::{open_input, pick_column, TableFormat};
use crate::registry::{DatasetInfo, Metric, Resolver, TaskType};

/// A data set of molecules with (possibly missing) labels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabeledDataset {
    /// Registry name or file stem.
    pub name: String,
    /// The file read.
    pub path: PathBuf,
    /// SMILES per row, trimmed.
    pub smiles: Vec<String>,
    /// 1-based line of each row in the file.
    pub lines: Vec<u64>,
    pub task_names: Vec<String>,
    pub task_type: TaskType,
    pub metric: Option<Metric>,
    /// `rows × tasks`, row-major; `None` = missing (empty cell or `nan`).
    pub labels: Vec<Option<f64>>,
}

/// How to read a labeled CSV that is not in the registry.
#[derive(Clone, Debug, Default)]
pub struct LabeledCsvOptions {
    /// SMILES column; default: `smiles` (any case) if present, else the first column.
    pub smiles_column: Option<String>,
    /// Label columns; default: every other column.
    pub target_columns: Option<Vec<String>>,
    /// Default: classification if every label is 0 or 1, else regression.
    pub task_type: Option<TaskType>,
    /// Name to report; default: the file stem.
    pub name: Option<String>,
}

impl LabeledDataset {
    /// 1-based file line of row `row` (the row number itself if out of range).
    pub fn line_of(&self, row: usize) -> u64 {
        self.lines.get(row).copied().unwrap_or(row as u64)
    }

    /// The first `n` of `rows` (row index, reason) as `line L: reason; …`, for error messages.
    pub fn describe_rows<'a>(
        &self,
        rows: impl IntoIterator<Item = (usize, &'a str)>,
        n: usize,
    ) -> String {
        rows.into_iter()
            .take(n)
            .map(|(i, r)| format!("line {}: {r}", self.line_of(i)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.smiles.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.smiles.is_empty()
    }

    /// Number of tasks.
    pub fn n_tasks(&self) -> usize {
        self.task_names.len()
    }

    /// Label of `row` for `task`.
    pub fn label(&self, row: usize, task: usize) -> Option<f64> {
        self.labels[row * self.n_tasks() + task]
    }

    /// All labels of `row`.
    pub fn row_labels(&self, row: usize) -> &[Option<f64>] {
        let t = self.n_tasks();
        &self.labels[row * t..(row + 1) * t]
    }

    /// Labels of one task as classes (for stratification): `Some(round(y))`, `None` if missing.
    pub fn classes(&self, task: usize) -> Vec<Option<i64>> {
        (0..self.len())
            .map(|r| self.label(r, task).map(|y| y.round() as i64))
            .collect()
    }

    /// Fraction of missing labels.
    pub fn missing_fraction(&self) -> f64 {
        if self.labels.is_empty() {
            return 0.0;
        }
        self.labels.iter().filter(|l| l.is_none()).count() as f64 / self.labels.len() as f64
    }

    /// Loads a registered data set (resolving and, if needed, downloading its file).
    pub fn load(info: &DatasetInfo, resolver: &Resolver) -> Result<Self, DataError> {
        let path = resolver.resolve(info)?;
        let mut ds = Self::read(
            &path,
            Some(info.smiles_column),
            |headers| Some(info.task_columns(headers)),
            info.name,
        )?;
        ds.task_type = info.task_type;
        ds.metric = info.metric;
        Ok(ds)
    }

    /// Loads any CSV/TSV (plain or gzip) with a header.
    pub fn from_csv(path: &Path, opts: &LabeledCsvOptions) -> Result<Self, DataError> {
        let name = opts.name.clone().unwrap_or_else(|| {
            let stem = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            stem.split('.').next().unwrap_or_default().to_string()
        });
        let targets = opts.target_columns.clone();
        let mut ds = Self::read(path, opts.smiles_column.as_deref(), |_| targets, &name)?;
        if let Some(t) = opts.task_type {
            ds.task_type = t;
        }
        ds.metric = match ds.task_type {
            TaskType::Classification => Some(Metric::RocAuc),
            TaskType::Regression => Some(Metric::Rmse),
            TaskType::Unlabeled => None,
        };
        Ok(ds)
    }

    fn read(
        path: &Path,
        smiles_column: Option<&str>,
        tasks: impl FnOnce(&[String]) -> Option<Vec<String>>,
        name: &str,
    ) -> Result<Self, DataError> {
        let source = path.display().to_string();
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(false).flexible(true);
        if TableFormat::from_path(Some(path)) == TableFormat::Tsv {
            b.delimiter(b'\t').quoting(false);
        }
        let mut rdr = b.from_reader(open_input(Some(path))?);
        let mut rec = csv::StringRecord::new();
        let rec_err = |line: u64, reason: String| DataError::Record {
            source_name: source.clone(),
            line,
            reason,
        };
        let csv_err = |e: csv::Error| rec_err(e.position().map_or(0, |p| p.line()), e.to_string());
        if !rdr.read_record(&mut rec).map_err(csv_err)? {
            return Err(rec_err(1, "empty file: no header".into()));
        }
        let headers: Vec<String> = rec.iter().map(|h| h.trim().to_string()).collect();
        let smiles_col = pick_column(&source, &headers, smiles_column)?;
        // `None`: every column but the SMILES one.
        let task_names = tasks(&headers).unwrap_or_else(|| {
            headers
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != smiles_col)
                .map(|(_, h)| h.clone())
                .collect()
        });
        let task_cols: Vec<usize> = task_names
            .iter()
            .map(|t| pick_column(&source, &headers, Some(t)))
            .collect::<Result<_, _>>()?;
        let (mut smiles, mut lines, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        while rdr.read_record(&mut rec).map_err(csv_err)? {
            let line = rec.position().map_or(0, |p| p.line());
            let field = |c: usize| {
                rec.get(c).ok_or_else(|| {
                    rec_err(
                        line,
                        format!("row has {} fields, no column {}", rec.len(), c + 1),
                    )
                })
            };
            smiles.push(field(smiles_col)?.trim().to_string());
            lines.push(line);
            for (&c, t) in task_cols.iter().zip(&task_names) {
                let v = field(c)?.trim();
                labels.push(
                    parse_label(v).map_err(|why| {
                        rec_err(line, format!("label {v:?} in column {t:?} {why}"))
                    })?,
                );
            }
        }
        // A task without a single label would "train" on nothing and still print predictions.
        let n_tasks = task_names.len();
        for (k, t) in task_names.iter().enumerate() {
            let have = labels
                .iter()
                .skip(k)
                .step_by(n_tasks.max(1))
                .filter(|l| l.is_some())
                .count();
            if have == 0 && !smiles.is_empty() {
                return Err(DataError::Format {
                    path: path.to_path_buf(),
                    reason: format!(
                        "column {t:?} has no labels ({} rows, every value empty or NaN)",
                        smiles.len()
                    ),
                });
            }
        }
        let binary = labels.iter().flatten().all(|&y| y == 0.0 || y == 1.0);
        let task_type = if task_names.is_empty() {
            TaskType::Unlabeled
        } else if binary {
            TaskType::Classification
        } else {
            TaskType::Regression
        };
        Ok(Self {
            name: name.to_string(),
            path: path.to_path_buf(),
            smiles,
            lines,
            task_names,
            task_type,
            metric: None,
            labels,
        })
    }
}

/// `""`, `nan` (any case) → missing; otherwise a finite float (the error says why not).
fn parse_label(v: &str) -> Result<Option<f64>, &'static str> {
    if v.is_empty() || v.eq_ignore_ascii_case("nan") {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        Ok(_) => Err("is not finite"),
        Err(_) => Err("is not a number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_missing_labels_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "smiles,a,b\nCCO ,1,\nc1ccccc1,0,1\nCC,nan,NaN\n").unwrap();
        let d = LabeledDataset::from_csv(&p, &LabeledCsvOptions::default()).unwrap();
        assert_eq!(d.smiles, ["CCO", "c1ccccc1", "CC"]);
        assert_eq!(d.task_names, ["a", "b"]);
        assert_eq!(
            d.labels,
            [Some(1.0), None, Some(0.0), Some(1.0), None, None]
        );
        assert_eq!(d.task_type, TaskType::Classification);
        assert_eq!(d.lines, [2, 3, 4]);
        assert_eq!(d.classes(0), [Some(1), Some(0), None]);
        // A column without a single label, and a non-finite label, are refused (issue 17).
        std::fs::write(&p, "smiles,y,z\nCC,,1\nCCC,nan,2\n").unwrap();
        let e = LabeledDataset::from_csv(&p, &LabeledCsvOptions::default()).unwrap_err();
        assert!(e.to_string().contains("column \"y\" has no labels"), "{e}");
        std::fs::write(&p, "smiles,y\nCC,1\nCCC,inf\n").unwrap();
        let e = LabeledDataset::from_csv(&p, &LabeledCsvOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("t.csv:3: label \"inf\" in column \"y\" is not finite"),
            "{e}"
        );
        std::fs::write(&p, "smiles,y\nCC,1.5\nCCC,x\n").unwrap();
        let e = LabeledDataset::from_csv(&p, &LabeledCsvOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("t.csv:3: label \"x\" in column \"y\" is not a number"),
            "{e}"
        );
        std::fs::write(&p, "smiles,y,z\nCC,1.5,2\n").unwrap();
        let opts = LabeledCsvOptions {
            target_columns: Some(vec!["z".into()]),
            ..Default::default()
        };
        let d = LabeledDataset::from_csv(&p, &opts).unwrap();
        assert_eq!(
            (d.task_names.clone(), d.labels.clone()),
            (vec!["z".to_string()], vec![Some(2.0)])
        );
    }
}
