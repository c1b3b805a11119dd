//! The signal-handler path, in its own process: [`chemlm_fs::remove_registered`] removes every
//! live temporary of this process.

use chemlm_fs::{remove_registered, AtomicDir, AtomicFile};

#[test]
fn registered_temporaries_are_removed_on_request() {
    let d = tempfile::tempdir().unwrap();
    let f = AtomicFile::create(&d.path().join("a")).unwrap();
    let g = AtomicDir::create(&d.path().join("b")).unwrap();
    assert!(f.temp().exists() && g.path().exists());
    assert_eq!(remove_registered(), 2);
    assert!(!f.temp().exists() && !g.path().exists());
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}
