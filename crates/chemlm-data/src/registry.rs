//! The data sets chemlm knows by name: MoleculeNet (as distributed with chemprop), DeLiCaTe's
//! QSAR sets and MOSES, with where each file lives, its columns, task type, standard metric,
//! SHA-256 and public download URL.
//!
//! Files are looked up under `$CHEMLM_DATA_DIR` (the layout of `../shared/data`), then in the
//! cache (`$CHEMLM_CACHE_DIR`, else the user cache dir + `chemlm`, e.g. `~/.cache/chemlm`); a file
//! in neither place is downloaded from its public original into the cache and checked against
//! its SHA-256 before use.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::download;
use crate::error::DataError;

/// What a data set's labels are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskType {
    /// Binary labels (0/1) per task, possibly missing.
    Classification,
    /// Real-valued targets.
    Regression,
    /// Molecules only (pretraining corpora).
    Unlabeled,
}

/// The metric a data set is reported with in the literature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Metric {
    #[serde(rename = "roc-auc")]
    RocAuc,
    #[serde(rename = "prc-auc")]
    PrcAuc,
    #[serde(rename = "rmse")]
    Rmse,
    #[serde(rename = "mae")]
    Mae,
    #[serde(rename = "r2")]
    R2,
}

impl Metric {
    /// Short name as printed in tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::RocAuc => "ROC-AUC",
            Metric::PrcAuc => "PRC-AUC",
            Metric::Rmse => "RMSE",
            Metric::Mae => "MAE",
            Metric::R2 => "R2",
        }
    }

    /// Whether larger values are better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::RocAuc | Metric::PrcAuc | Metric::R2)
    }
}

/// Which columns hold the labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskColumns {
    /// These columns, in this order.
    Named(&'static [&'static str]),
    /// Every column except the SMILES column, in file order (SIDER's 27 and ToxCast's 617 tasks).
    AllOthers,
    /// No labels.
    None,
}

/// One registered data set.
#[derive(Clone, Copy, Debug)]
pub struct DatasetInfo {
    /// Registry name (lower case), e.g. `bbbp`.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Path relative to the data directory, e.g. `molnet/bbbp.csv`.
    pub file: &'static str,
    /// The SMILES column.
    pub smiles_column: &'static str,
    pub tasks: TaskColumns,
    pub task_type: TaskType,
    /// The standard metric; `None` for unlabeled corpora.
    pub metric: Option<Metric>,
    /// Whether some labels are missing (empty cells); those are masked in losses and metrics.
    pub missing_labels: bool,
    /// Rows in the file (header excluded).
    pub rows: usize,
    /// SHA-256 of the file.
    pub sha256: &'static str,
    /// Public original; `None` when the file is derived and must come from `CHEMLM_DATA_DIR`.
    pub url: Option<&'static str>,
    /// Where the file comes from, in words.
    pub source: &'static str,
}

impl DatasetInfo {
    /// The label columns given the file's header (needed for [`TaskColumns::AllOthers`]).
    pub fn task_columns(&self, headers: &[String]) -> Vec<String> {
        match self.tasks {
            TaskColumns::Named(cols) => cols.iter().map(|c| c.to_string()).collect(),
            TaskColumns::AllOthers => headers
                .iter()
                .filter(|h| h.as_str() != self.smiles_column)
                .cloned()
                .collect(),
            TaskColumns::None => Vec::new(),
        }
    }

    /// Number of tasks, when it does not depend on the file.
    pub fn known_task_count(&self) -> Option<usize> {
        match self.tasks {
            TaskColumns::Named(c) => Some(c.len()),
            TaskColumns::None => Some(0),
            TaskColumns::AllOthers => match self.name {
                "sider" => Some(27),
                "toxcast" => Some(617),
                _ => None,
            },
        }
    }
}

const CHEMPROP_SRC: &str = "chemprop/chemprop@73475d11 data/ (MoleculeNet, Wu et al. 2018)";
const DELICATE_SRC: &str = "YiYuDL/DeLiCaTe@bede05fb delicate/data/";
const MOSES_SRC: &str = "molecularsets/moses@b94468ca (= PyPI molsets 0.3.1) moses/dataset/data/";

macro_rules! url {
    (chemprop $f:literal) => {
        Some(concat!(
            "https://raw.githubusercontent.com/chemprop/chemprop/73475d11a83c28b4c6f9b0c9c3b38dc1c47a7272/data/",
            $f
        ))
    };
    (delicate $f:literal) => {
        Some(concat!(
            "https://raw.githubusercontent.com/YiYuDL/DeLiCaTe/bede05fb9404eb68888695298fa73efe52bb8b54/delicate/data/",
            $f
        ))
    };
    // MOSES keeps its data in Git LFS; the LFS objects' SHA-256 equal the files here.
    (moses $f:literal) => {
        Some(concat!(
            "https://media.githubusercontent.com/media/molecularsets/moses/b94468cab4590ced03a98c26a35d3c1e0647d9c9/moses/dataset/data/",
            $f
        ))
    };
}

const TOX21: &[&str] = &[
    "NR-AR",
    "NR-AR-LBD",
    "NR-AhR",
    "NR-Aromatase",
    "NR-ER",
    "NR-ER-LBD",
    "NR-PPAR-gamma",
    "SR-ARE",
    "SR-ATAD5",
    "SR-HSE",
    "SR-MMP",
    "SR-p53",
];
const MUV: &[&str] = &[
    "MUV-466", "MUV-548", "MUV-600", "MUV-644", "MUV-652", "MUV-689", "MUV-692", "MUV-712",
    "MUV-713", "MUV-733", "MUV-737", "MUV-810", "MUV-832", "MUV-846", "MUV-852", "MUV-858",
    "MUV-859",
];
const QM8: &[&str] = &[
    "E1-CC2", "E2-CC2", "f1-CC2", "f2-CC2", "E1-PBE0", "E2-PBE0", "f1-PBE0", "f2-PBE0", "E1-CAM",
    "E2-CAM", "f1-CAM", "f2-CAM",
];
const QM9: &[&str] = &[
    "mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "cv", "u0", "u298", "h298", "g298",
];

#[allow(clippy::too_many_arguments)]
const fn molnet(
    name: &'static str,
    aliases: &'static [&'static str],
    file: &'static str,
    smiles_column: &'static str,
    tasks: TaskColumns,
    task_type: TaskType,
    metric: Metric,
    missing_labels: bool,
    rows: usize,
    sha256: &'static str,
    url: Option<&'static str>,
) -> DatasetInfo {
    DatasetInfo {
        name,
        aliases,
        file,
        smiles_column,
        tasks,
        task_type,
        metric: Some(metric),
        missing_labels,
        rows,
        sha256,
        url,
        source: CHEMPROP_SRC,
    }
}

const fn delicate(
    name: &'static str,
    file: &'static str,
    rows: usize,
    sha256: &'static str,
    url: Option<&'static str>,
) -> DatasetInfo {
    DatasetInfo {
        name,
        aliases: &[],
        file,
        smiles_column: "smiles",
        tasks: TaskColumns::Named(&["label"]),
        task_type: TaskType::Regression,
        // DeLiCaTe reports R² under 5-fold cross-validation.
        metric: Some(Metric::R2),
        missing_labels: false,
        rows,
        sha256,
        url,
        source: DELICATE_SRC,
    }
}

const fn moses(
    name: &'static str,
    file: &'static str,
    rows: usize,
    sha256: &'static str,
    url: Option<&'static str>,
) -> DatasetInfo {
    DatasetInfo {
        name,
        aliases: &[],
        file,
        smiles_column: "SMILES",
        tasks: TaskColumns::None,
        task_type: TaskType::Unlabeled,
        metric: None,
        missing_labels: false,
        rows,
        sha256,
        url,
        source: MOSES_SRC,
    }
}

use Metric::*;
use TaskType::*;

static REGISTRY: &[DatasetInfo] = &[
    molnet(
        "bbbp",
        &[],
        "molnet/bbbp.csv",
        "smiles",
        TaskColumns::Named(&["p_np"]),
        Classification,
        RocAuc,
        false,
        2039,
        "a61e17872cbec0743a6147dc802a1f7550acfe8dc1053f881f4c42a3ce2dc597",
        url!(chemprop "bbbp.csv"),
    ),
    molnet(
        "bace",
        &[],
        "molnet/bace.csv",
        "mol",
        TaskColumns::Named(&["Class"]),
        Classification,
        RocAuc,
        false,
        1513,
        "847be1e38d3798c60df03e1aaf2ccd0f09f9ed89407de78e80463aa637088532",
        url!(chemprop "bace.csv"),
    ),
    molnet(
        "clintox",
        &[],
        "molnet/clintox.csv",
        "smiles",
        TaskColumns::Named(&["FDA_APPROVED", "CT_TOX"]),
        Classification,
        RocAuc,
        false,
        1478,
        "cc561402d058a0d996a9f5e5d02bc20f6652b7003525b32c3598b8da4b24e9b7",
        url!(chemprop "clintox.csv"),
    ),
    molnet(
        "tox21",
        &[],
        "molnet/tox21.csv",
        "smiles",
        TaskColumns::Named(TOX21),
        Classification,
        RocAuc,
        true,
        7831,
        "b58cc1f683e78e3c7a1bf7116e9aac0119804018d100f7b8cdb0857941c31aca",
        url!(chemprop "tox21.csv"),
    ),
    molnet(
        "toxcast",
        &[],
        "molnet/toxcast.csv.gz",
        "smiles",
        TaskColumns::AllOthers,
        Classification,
        RocAuc,
        true,
        8576,
        "4b9b4366b02ce7ec7a0831d60f8c46f153c53c5e122376df887476240496abd4",
        url!(chemprop "toxcast.csv.gz"),
    ),
    molnet(
        "sider",
        &[],
        "molnet/sider.csv",
        "smiles",
        TaskColumns::AllOthers,
        Classification,
        RocAuc,
        false,
        1427,
        "71efc6ac4ca82d6545bc512509863281be0f17234afd7adaf71a71899988302e",
        url!(chemprop "sider.csv"),
    ),
    molnet(
        "hiv",
        &[],
        "molnet/hiv.csv.gz",
        "smiles",
        TaskColumns::Named(&["HIV_active"]),
        Classification,
        RocAuc,
        false,
        41127,
        "0a4a7390d6f22035c293e8e0d500655d76233b35f0f68ab128f3ceccdd97a297",
        url!(chemprop "hiv.csv.gz"),
    ),
    // MoleculeNet recommends PRC-AUC for MUV (very few actives); ROC-AUC is also common.
    molnet(
        "muv",
        &[],
        "molnet/muv.csv.gz",
        "smiles",
        TaskColumns::Named(MUV),
        Classification,
        PrcAuc,
        true,
        93087,
        "ee68d1fad0b10440dc494ac3a74cf99168a0b0da9683556b2b48220b88172135",
        url!(chemprop "muv.csv.gz"),
    ),
    // chemprop calls the ESOL target "logp"; it is log solubility (log mol/L).
    molnet(
        "esol",
        &["delaney"],
        "molnet/delaney.csv",
        "smiles",
        TaskColumns::Named(&["logp"]),
        Regression,
        Rmse,
        false,
        1128,
        "887aa5930b0a7e7fcb76a2d25dc0ebe11c23878ca2d8d1e2204ca2c46b175140",
        url!(chemprop "delaney.csv"),
    ),
    molnet(
        "freesolv",
        &[],
        "molnet/freesolv.csv",
        "smiles",
        TaskColumns::Named(&["freesolv"]),
        Regression,
        Rmse,
        false,
        642,
        "97d74c86228d4c16c0fbbf063bb8280354d8152db09a85ade8517a2f43bd9824",
        url!(chemprop "freesolv.csv"),
    ),
    molnet(
        "lipophilicity",
        &["lipo"],
        "molnet/lipo.csv",
        "smiles",
        TaskColumns::Named(&["lipo"]),
        Regression,
        Rmse,
        false,
        4200,
        "aa9bd9669188e35efd908758a75561bba402016d901fed2d0d949289abbcf31c",
        url!(chemprop "lipo.csv"),
    ),
    molnet(
        "qm8",
        &[],
        "molnet/qm8.csv.gz",
        "smiles",
        TaskColumns::Named(QM8),
        Regression,
        Mae,
        false,
        21786,
        "a5de2f2d71f645eb53f741bf11d125edd9d62c1407769c20787d20026eb81434",
        url!(chemprop "qm8.csv.gz"),
    ),
    // Derived from PyPI qm9pack 1.0.3 (chemprop's qm9 file is not public): no download URL.
    DatasetInfo {
        source: "PyPI qm9pack==1.0.3 (derived; 130,831 of 133,885 molecules)",
        ..molnet(
            "qm9",
            &[],
            "molnet/qm9.csv.gz",
            "smiles",
            TaskColumns::Named(QM9),
            Regression,
            Mae,
            false,
            130831,
            "118ea0ab2fd85bdbff64290729ec250a39a443283c62198cafe9d1dfbe8580af",
            None,
        )
    },
    delicate(
        "delicate-egfr",
        "delicate/egfr.csv",
        4413,
        "fe56fc5e6c2ea526ec291b3f30e2f3e61e5dc5c6418b9c8be3f16154b5c0da86",
        url!(delicate "egfr.csv"),
    ),
    delicate(
        "delicate-fgfr1",
        "delicate/fgfr1.csv",
        4177,
        "77b51115efec4b500e9e662479065f1764009bbbb83702edd5d6ddbaad700a16",
        url!(delicate "fgfr1.csv"),
    ),
    delicate(
        "delicate-esol",
        "delicate/esol.csv",
        1128,
        "c39cbac504958808cd61ec0513ae98871b8a9ff05151cbaaaefc66e1d4b56831",
        url!(delicate "esol.csv"),
    ),
    delicate(
        "delicate-freesolv",
        "delicate/freesolv.csv",
        642,
        "9152db7f11081a21b590f44544998305576eee4a00c8a042512fffd05312669a",
        url!(delicate "freesolv.csv"),
    ),
    delicate(
        "delicate-lipop",
        "delicate/lipop.csv",
        4200,
        "e56438caa28acdf3ec808590790afd587d17fc4aa478577e0261818df09d531e",
        url!(delicate "lipop.csv"),
    ),
    moses(
        "moses-train",
        "moses/train.csv.gz",
        1584663,
        "786f0313aa6b9ba5514df685f885742a70ea8d86f1a4fa48115f7f80a634265c",
        url!(moses "train.csv.gz"),
    ),
    moses(
        "moses-test",
        "moses/test.csv.gz",
        176074,
        "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2",
        url!(moses "test.csv.gz"),
    ),
    moses(
        "moses-test-scaffolds",
        "moses/test_scaffolds.csv.gz",
        176225,
        "adffb2192c1bfe31ab0e13154d4af19a37dc18bdbf3cd7b4491e04405128adde",
        url!(moses "test_scaffolds.csv.gz"),
    ),
];

/// Every registered data set.
pub fn registry() -> &'static [DatasetInfo] {
    REGISTRY
}

/// The data set called `name` (case-insensitive; aliases such as `delaney` or `lipo` accepted).
pub fn find(name: &str) -> Result<&'static DatasetInfo, DataError> {
    let n = name.to_ascii_lowercase();
    REGISTRY
        .iter()
        .find(|d| d.name == n || d.aliases.contains(&n.as_str()))
        .ok_or_else(|| DataError::UnknownDataset {
            name: name.to_string(),
            known: REGISTRY
                .iter()
                .map(|d| d.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `$CHEMLM_DATA_DIR`, if set and non-empty.
pub fn data_dir() -> Option<PathBuf> {
    std::env::var_os("CHEMLM_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `$CHEMLM_CACHE_DIR`, else the user cache directory + `chemlm` (`~/.cache/chemlm` on Linux).
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("CHEMLM_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("chemlm")))
}

/// Where a data set file was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// Under `CHEMLM_DATA_DIR`.
    DataDir(PathBuf),
    /// In the download cache.
    Cache(PathBuf),
}

impl Location {
    /// The file path.
    pub fn path(&self) -> &Path {
        match self {
            Location::DataDir(p) | Location::Cache(p) => p,
        }
    }
}

/// Finds data set files and downloads missing ones.
#[derive(Clone, Debug)]
pub struct Resolver {
    /// Searched first.
    pub data_dir: Option<PathBuf>,
    /// Searched second; downloads go here.
    pub cache_dir: Option<PathBuf>,
    /// When set, files are fetched from `{mirror}/{file}` instead of their public URLs (an
    /// internal mirror, or a `file://` directory laid out like `CHEMLM_DATA_DIR`).
    pub mirror: Option<String>,
    /// Whether a missing file may be downloaded.
    pub allow_download: bool,
}

impl Resolver {
    /// From the environment: `CHEMLM_DATA_DIR`, `CHEMLM_CACHE_DIR` (or the user cache) and
    /// `CHEMLM_DATA_MIRROR`; downloads allowed.
    pub fn from_env() -> Self {
        Self {
            data_dir: data_dir(),
            cache_dir: cache_dir(),
            mirror: std::env::var("CHEMLM_DATA_MIRROR")
                .ok()
                .filter(|m| !m.is_empty()),
            allow_download: true,
        }
    }

    /// Where `info`'s file already is, without downloading.
    pub fn locate(&self, info: &DatasetInfo) -> Option<Location> {
        if let Some(d) = &self.data_dir {
            let p = d.join(info.file);
            if p.is_file() {
                return Some(Location::DataDir(p));
            }
        }
        if let Some(c) = &self.cache_dir {
            let p = c.join(info.file);
            if p.is_file() {
                return Some(Location::Cache(p));
            }
        }
        None
    }

    /// The URL `info` is downloaded from.
    pub fn url(&self, info: &DatasetInfo) -> Option<String> {
        match &self.mirror {
            Some(m) => Some(format!("{}/{}", m.trim_end_matches('/'), info.file)),
            None => info.url.map(str::to_string),
        }
    }

    /// The path of `info`'s file, downloading it into the cache (with SHA-256 check) when it is
    /// in neither the data dir nor the cache.
    pub fn resolve(&self, info: &DatasetInfo) -> Result<PathBuf, DataError> {
        if let Some(loc) = self.locate(info) {
            return Ok(loc.path().to_path_buf());
        }
        let unavailable = |reason: String| DataError::Unavailable {
            name: info.name.to_string(),
            reason,
        };
        if !self.allow_download {
            return Err(unavailable(format!(
                "{} is not under CHEMLM_DATA_DIR or the cache, and downloads are off",
                info.file
            )));
        }
        let url = self.url(info).ok_or_else(|| {
            unavailable(format!(
                "{} is derived ({}) and has no public download; set CHEMLM_DATA_DIR to a \
                 directory that holds it",
                info.file, info.source
            ))
        })?;
        let cache = self
            .cache_dir
            .as_ref()
            .ok_or_else(|| unavailable("no cache directory (set CHEMLM_CACHE_DIR)".to_string()))?;
        let dest = cache.join(info.file);
        tracing::info!("downloading {} from {url}", info.name);
        download::fetch(&url, &dest, Some(info.sha256))?;
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(find("BBBP").unwrap().file, "molnet/bbbp.csv");
        assert_eq!(find("delaney").unwrap().name, "esol");
        assert_eq!(find("lipo").unwrap().name, "lipophilicity");
        let e = find("pcba").unwrap_err().to_string();
        assert!(e.contains("unknown data set") && e.contains("bbbp"), "{e}");
    }

    #[test]
    fn registry_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for d in registry() {
            assert!(names.insert(d.name), "duplicate {}", d.name);
            assert_eq!(d.sha256.len(), 64, "{}", d.name);
            assert!(d.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(d.metric.is_none(), d.task_type == TaskType::Unlabeled);
            if let Some(u) = d.url {
                assert!(
                    u.starts_with("https://") && u.ends_with(d.file.rsplit('/').next().unwrap()),
                    "{u}"
                );
            }
        }
        for name in [
            "bbbp",
            "bace",
            "clintox",
            "tox21",
            "toxcast",
            "sider",
            "hiv",
            "muv",
            "esol",
            "freesolv",
            "lipophilicity",
            "qm8",
            "qm9",
        ] {
            assert!(names.contains(name), "{name} missing");
        }
        assert_eq!(find("qm9").unwrap().metric, Some(Metric::Mae));
        assert_eq!(find("qm8").unwrap().metric, Some(Metric::Mae));
        assert_eq!(find("esol").unwrap().metric, Some(Metric::Rmse));
        assert_eq!(find("tox21").unwrap().metric, Some(Metric::RocAuc));
    }

    #[test]
    fn resolver_prefers_data_dir_then_cache() {
        let d = tempfile::tempdir().unwrap();
        let c = tempfile::tempdir().unwrap();
        let info = find("freesolv").unwrap();
        let r = Resolver {
            data_dir: Some(d.path().into()),
            cache_dir: Some(c.path().into()),
            mirror: None,
            allow_download: false,
        };
        assert!(r.locate(info).is_none());
        let err = r.resolve(info).unwrap_err().to_string();
        assert!(err.contains("downloads are off"), "{err}");
        std::fs::create_dir_all(c.path().join("molnet")).unwrap();
        std::fs::write(c.path().join(info.file), "x").unwrap();
        assert!(matches!(r.locate(info), Some(Location::Cache(_))));
        std::fs::create_dir_all(d.path().join("molnet")).unwrap();
        std::fs::write(d.path().join(info.file), "x").unwrap();
        assert!(matches!(r.locate(info), Some(Location::DataDir(_))));
        let qm9 = find("qm9").unwrap();
        let r = Resolver {
            allow_download: true,
            ..r
        };
        let err = r.resolve(qm9).unwrap_err().to_string();
        assert!(err.contains("no public download"), "{err}");
    }
}
