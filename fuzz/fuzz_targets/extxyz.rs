//! Extended XYZ: bad frames reported and reading goes on; frames returned are consistent.
#![no_main]
use chemlm_atoms::io::{ExtxyzFrames, ReadOptions};
use chemlm_atoms::AtomsError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let frames = ExtxyzFrames::new(
        std::io::Cursor::new(data),
        "fuzz.extxyz",
        ReadOptions::default(),
    );
    for f in frames.take(100_000) {
        match f {
            Ok(s) => {
                assert_eq!(s.positions.len(), s.numbers.len());
                if let Some(f) = &s.forces {
                    assert_eq!(f.len(), s.numbers.len());
                }
                assert!(s.positions.iter().flatten().all(|x| x.is_finite()));
            }
            Err(AtomsError::BadFrame { .. }) => {}
            Err(_) => break,
        }
    }
});
