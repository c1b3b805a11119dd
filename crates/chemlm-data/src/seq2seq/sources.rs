//! Readers of the raw task data under `CHEMLM_DATA_DIR` (see `PROVENANCE.md` there): each yields
//! (task, split, input, output) pairs with the file and 1-based line they came from. Only the layout
//! is checked here (fields present and non-empty, reactions of the form `reactants>>product`);
//! chemistry is checked later, in parallel.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::build::MitValid;
use super::{Split, Task};
use crate::error::DataError;
use crate::reader::open_input;

/// Files, relative to the data directory.
pub const USPTO50K: &str = "reactions/uspto50k/uspto50k.csv.gz";
/// USPTO-MIT sources (`mixed`: reactants and reagents together, Schwaller-tokenised).
pub const MIT_SRC: &str = "reactions/uspto_mit/src-{split}_mixed.txt.gz";
/// USPTO-MIT targets (products, tokenised).
pub const MIT_TGT: &str = "reactions/uspto_mit/tgt-{split}.txt.gz";
/// ChEBI-20 (`CID\tSMILES\tdescription` with a header).
pub const CHEBI: &str = "text_mol/chebi20/{split}.txt.gz";
/// paragraph2actions (one paragraph / action sequence per line).
pub const ACTIONS_SRC: &str = "reactions/paragraph2actions/src-{split}.txt";
/// paragraph2actions targets.
pub const ACTIONS_TGT: &str = "reactions/paragraph2actions/tgt-{split}.txt";

/// A pair before chemistry checks: `input` is the task input without its prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPair {
    pub task: Task,
    pub split: Split,
    pub input: String,
    pub output: String,
    /// File (as given to the observer) and 1-based line.
    pub file: Arc<str>,
    pub line: u64,
}

/// A record rejected while reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawBad {
    pub file: Arc<str>,
    pub line: u64,
    /// The tasks the record would have fed.
    pub tasks: Vec<Task>,
    pub split: Option<Split>,
    pub reason: String,
}

/// What the readers produced.
#[derive(Debug, Default)]
pub struct RawData {
    pub pairs: Vec<RawPair>,
    pub bad: Vec<RawBad>,
    /// Records read per (file, split), bad ones included.
    pub records: Vec<(String, Split, u64)>,
}

/// Per (file, split) cap on records read (`None`: all).
struct Limiter {
    limit: Option<usize>,
    seen: HashMap<Split, usize>,
}

impl Limiter {
    fn new(limit: Option<usize>) -> Self {
        Self {
            limit,
            seen: HashMap::new(),
        }
    }
    /// Whether one more record of `split` may be taken (and counts it).
    fn take(&mut self, split: Split) -> bool {
        let n = self.seen.entry(split).or_insert(0);
        if self.limit.is_some_and(|l| *n >= l) {
            return false;
        }
        *n += 1;
        true
    }
    fn all_full(&self, splits: &[Split]) -> bool {
        self.limit
            .is_some_and(|l| splits.iter().all(|s| self.seen.get(s).copied() == Some(l)))
    }
}

fn path_of(dir: &Path, pattern: &str, split: &str) -> PathBuf {
    dir.join(pattern.replace("{split}", split))
}

fn need(path: &Path, what: &str) -> Result<(), DataError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(DataError::Unavailable {
            name: what.into(),
            reason: format!("{} not found (set CHEMLM_DATA_DIR)", path.display()),
        })
    }
}

fn read_lines(path: &Path) -> Result<Vec<String>, DataError> {
    let r = open_input(Some(path))?;
    r.lines()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DataError::io(path, e))
}

/// Reads every source the chosen tasks need.
pub fn load(
    dir: &Path,
    tasks: &[Task],
    limit: Option<usize>,
    mit_valid: MitValid,
) -> Result<RawData, DataError> {
    let mut data = RawData::default();
    let want = |t: Task| tasks.contains(&t);
    if want(Task::Forward) || want(Task::Retro) {
        uspto50k(dir, tasks, limit, &mut data)?;
    }
    if want(Task::Forward) {
        for (name, split) in [("valid", mit_valid.split()), ("test", Split::Test)] {
            paired_lines(
                dir,
                MIT_SRC,
                MIT_TGT,
                name,
                split,
                Task::Forward,
                limit,
                true,
                &mut data,
            )?;
        }
    }
    if want(Task::Text2Mol) || want(Task::Mol2Text) {
        for (name, split) in [("validation", Split::Train), ("test", Split::Test)] {
            chebi(dir, name, split, tasks, limit, &mut data)?;
        }
    }
    if want(Task::Actions) {
        for split in Split::ALL {
            paired_lines(
                dir,
                ACTIONS_SRC,
                ACTIONS_TGT,
                split.name(),
                split,
                Task::Actions,
                limit,
                false,
                &mut data,
            )?;
        }
    }
    Ok(data)
}

fn uspto50k(
    dir: &Path,
    tasks: &[Task],
    limit: Option<usize>,
    data: &mut RawData,
) -> Result<(), DataError> {
    let path = dir.join(USPTO50K);
    need(&path, "USPTO-50K")?;
    let file: Arc<str> = path.display().to_string().into();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(open_input(Some(&path))?);
    let headers = rdr
        .headers()
        .map_err(|e| DataError::format(&path, format!("header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::MissingColumn {
                source_name: file.to_string(),
                column: name.into(),
                available: headers.iter().collect::<Vec<_>>().join(", "),
            })
    };
    let (split_col, rxn_col) = (col("split")?, col("rxn_smiles")?);
    let rxn_tasks: Vec<Task> = [Task::Forward, Task::Retro]
        .into_iter()
        .filter(|t| tasks.contains(t))
        .collect();
    let mut lim = Limiter::new(limit);
    let mut counts: HashMap<Split, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = rdr
            .read_record(&mut record)
            .map_err(|e| DataError::format(&path, e.to_string()))?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let bad = |split: Option<Split>, reason: String| RawBad {
            file: file.clone(),
            line,
            tasks: rxn_tasks.clone(),
            split,
            reason,
        };
        let split = match record.get(split_col).map(str::trim) {
            Some("train") => Split::Train,
            Some("valid") | Some("val") => Split::Valid,
            Some("test") => Split::Test,
            other => {
                data.bad.push(bad(
                    None,
                    format!("unknown split {:?}", other.unwrap_or("")),
                ));
                continue;
            }
        };
        if !lim.take(split) {
            if lim.all_full(&Split::ALL) {
                break;
            }
            continue;
        }
        *counts.entry(split).or_insert(0) += 1;
        let rxn = record.get(rxn_col).unwrap_or("").trim();
        let parts: Vec<&str> = rxn.split('>').collect();
        let (reactants, product) = match parts.as_slice() {
            [r, agents, p] if !r.is_empty() && !p.is_empty() => {
                // USPTO-50K has no reagent field in practice; keep any as reactants.
                if agents.is_empty() {
                    (r.to_string(), p.to_string())
                } else {
                    (format!("{r}.{agents}"), p.to_string())
                }
            }
            _ => {
                data.bad.push(bad(
                    Some(split),
                    format!("reaction {rxn:?} is not of the form reactants>>product"),
                ));
                continue;
            }
        };
        for &t in &rxn_tasks {
            let (input, output) = match t {
                Task::Forward => (reactants.clone(), product.clone()),
                _ => (product.clone(), reactants.clone()),
            };
            data.pairs.push(RawPair {
                task: t,
                split,
                input,
                output,
                file: file.clone(),
                line,
            });
        }
    }
    for split in Split::ALL {
        data.records.push((
            file.to_string(),
            split,
            counts.get(&split).copied().unwrap_or(0),
        ));
    }
    Ok(())
}

/// Line-aligned source/target files (USPTO-MIT, paragraph2actions). `detokenize` removes the
/// spaces of Schwaller-tokenised SMILES.
#[allow(clippy::too_many_arguments)]
fn paired_lines(
    dir: &Path,
    src_pattern: &str,
    tgt_pattern: &str,
    name: &str,
    split: Split,
    task: Task,
    limit: Option<usize>,
    detokenize: bool,
    data: &mut RawData,
) -> Result<(), DataError> {
    let sp = path_of(dir, src_pattern, name);
    let tp = path_of(dir, tgt_pattern, name);
    need(&sp, task.name())?;
    need(&tp, task.name())?;
    let src = read_lines(&sp)?;
    let tgt = read_lines(&tp)?;
    if src.len() != tgt.len() {
        return Err(DataError::format(
            &tp,
            format!(
                "{} lines, but {} has {}",
                tgt.len(),
                sp.display(),
                src.len()
            ),
        ));
    }
    let file: Arc<str> = sp.display().to_string().into();
    let n = limit.map_or(src.len(), |l| l.min(src.len()));
    for (i, (s, t)) in src.iter().zip(&tgt).take(n).enumerate() {
        let clean = |x: &str| {
            if detokenize {
                x.split_whitespace().collect::<String>()
            } else {
                x.trim_end_matches(['\r', '\n']).to_string()
            }
        };
        let (input, output) = (clean(s), clean(t));
        if input.trim().is_empty() || output.trim().is_empty() {
            data.bad.push(RawBad {
                file: file.clone(),
                line: i as u64 + 1,
                tasks: vec![task],
                split: Some(split),
                reason: format!(
                    "empty {} (line {} of {})",
                    if input.trim().is_empty() {
                        "source"
                    } else {
                        "target"
                    },
                    i + 1,
                    if input.trim().is_empty() {
                        sp.display()
                    } else {
                        tp.display()
                    }
                ),
            });
            continue;
        }
        data.pairs.push(RawPair {
            task,
            split,
            input,
            output,
            file: file.clone(),
            line: i as u64 + 1,
        });
    }
    data.records.push((file.to_string(), split, n as u64));
    Ok(())
}

fn chebi(
    dir: &Path,
    name: &str,
    split: Split,
    tasks: &[Task],
    limit: Option<usize>,
    data: &mut RawData,
) -> Result<(), DataError> {
    let path = path_of(dir, CHEBI, name);
    need(&path, "ChEBI-20")?;
    let file: Arc<str> = path.display().to_string().into();
    let my_tasks: Vec<Task> = [Task::Text2Mol, Task::Mol2Text]
        .into_iter()
        .filter(|t| tasks.contains(t))
        .collect();
    let lines = read_lines(&path)?;
    let header: Vec<&str> = lines.first().map_or(vec![], |h| h.split('\t').collect());
    let col = |c: &str| {
        header
            .iter()
            .position(|h| h.trim() == c)
            .ok_or_else(|| DataError::MissingColumn {
                source_name: file.to_string(),
                column: c.into(),
                available: header.join(", "),
            })
    };
    let (smi_col, desc_col) = (col("SMILES")?, col("description")?);
    let mut taken = 0u64;
    for (i, l) in lines.iter().enumerate().skip(1) {
        if limit.is_some_and(|n| taken as usize >= n) {
            break;
        }
        taken += 1;
        let line = i as u64 + 1;
        let fields: Vec<&str> = l.split('\t').collect();
        let smiles = fields.get(smi_col).map_or("", |s| s.trim());
        let desc = fields.get(desc_col).map_or("", |s| s.trim());
        if smiles.is_empty() || desc.is_empty() {
            data.bad.push(RawBad {
                file: file.clone(),
                line,
                tasks: my_tasks.clone(),
                split: Some(split),
                reason: format!(
                    "expected CID, SMILES and description separated by tabs, got {} field(s)",
                    fields.len()
                ),
            });
            continue;
        }
        for &t in &my_tasks {
            let (input, output) = match t {
                Task::Text2Mol => (desc.to_string(), smiles.to_string()),
                _ => (smiles.to_string(), desc.to_string()),
            };
            data.pairs.push(RawPair {
                task: t,
                split,
                input,
                output,
                file: file.clone(),
                line,
            });
        }
    }
    data.records.push((file.to_string(), split, taken));
    Ok(())
}
