//! The registry against the files under `CHEMLM_DATA_DIR`: every data set is there with the
//! registered SHA-256, row count, task columns, task type and missing-label flag.

use chemlm_data::download::sha256_file;
use chemlm_data::registry::{registry, Resolver, TaskType};
use chemlm_data::LabeledDataset;

#[test]
fn every_registered_file_matches() {
    let Some(data_dir) = chemlm_data::registry::data_dir() else {
        eprintln!("skipped: CHEMLM_DATA_DIR is not set");
        return;
    };
    let r = Resolver {
        data_dir: Some(data_dir),
        cache_dir: None,
        mirror: None,
        allow_download: false,
    };
    for info in registry() {
        let Some(loc) = r.locate(info) else {
            eprintln!("skipped {}: {} not present", info.name, info.file);
            continue;
        };
        assert_eq!(
            sha256_file(loc.path()).unwrap(),
            info.sha256,
            "{}",
            info.name
        );
        if info.name == "moses-train" {
            continue; // 1.6 M rows: counted by the benchmark, not here
        }
        let ds = LabeledDataset::load(info, &r).unwrap();
        assert_eq!(ds.len(), info.rows, "{} rows", info.name);
        if let Some(n) = info.known_task_count() {
            assert_eq!(ds.n_tasks(), n, "{} tasks", info.name);
        }
        assert_eq!(ds.task_type, info.task_type);
        assert_eq!(
            ds.missing_fraction() > 0.0,
            info.missing_labels,
            "{} missing labels",
            info.name
        );
        if info.task_type == TaskType::Classification {
            assert!(
                ds.labels.iter().flatten().all(|&y| y == 0.0 || y == 1.0),
                "{}: non-binary class label",
                info.name
            );
        }
        assert!(
            ds.smiles.iter().all(|s| !s.is_empty() && s.trim() == s),
            "{}",
            info.name
        );
    }
}
