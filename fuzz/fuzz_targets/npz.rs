//! sGDML `.npz` files: any bytes are read or refused naming the file; frames are consistent.
#![no_main]
use chemlm_atoms::io::{read_npz, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("d.npz");
    std::fs::write(&path, data).expect("write input");
    match read_npz(&path, &ReadOptions::default()) {
        Ok(r) => {
            for s in &r.structures {
                assert_eq!(s.positions.len(), s.numbers.len());
            }
        }
        Err(e) => assert!(e.to_string().contains("d.npz"), "{e}"),
    }
});
