//! DUD-E benchmark on one small target (fabp4: 47 actives, 2750 decoys) from `$CHEMLM_DATA_DIR`.
//! ECFP4 similarity must beat random ranking (ROC-AUC > 0.5); the run must be reproducible.

use std::path::PathBuf;

use chemlm_screen::dude::{bench_target, list_targets, markdown_table, DudeConfig};

fn dude_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("CHEMLM_DATA_DIR")?).join("vs/dude");
    dir.join("fabp4/actives_final.ism.gz")
        .is_file()
        .then_some(dir)
}

#[test]
fn ecfp4_beats_random_on_fabp4_and_is_reproducible() {
    let Some(dir) = dude_dir() else {
        eprintln!("skipped: CHEMLM_DATA_DIR/vs/dude/fabp4 not found (set CHEMLM_DATA_DIR to an absolute path)");
        return;
    };
    assert!(list_targets(&dir).unwrap().contains(&"fabp4".to_string()));
    let cfg = DudeConfig {
        repeats: 5,
        ..Default::default()
    };
    let r = bench_target(&dir, "fabp4", &cfg).unwrap();
    assert!(r.roc_auc > 0.5, "{r:?}");
    assert!(r.bedroc > 0.0 && r.bedroc <= 1.0, "{r:?}");
    assert!(r.ef1 >= 0.0 && r.ef5 >= 0.0);
    assert_eq!(r.actives + r.decoys + r.invalid, 47 + 2750);
    let again = bench_target(&dir, "fabp4", &cfg).unwrap();
    assert_eq!(r, again);
    let table = markdown_table(&[r]);
    assert!(table.contains("| fabp4 |") && table.contains("**mean**"));
}
