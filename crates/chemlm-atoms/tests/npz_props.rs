//! Issue 17 §2: a bounded property run of the sGDML `.npz` reader on damaged copies of a golden
//! file (bytes overwritten, cut short, extended; the unbounded run is the `npz` `cargo fuzz`
//! target). Each is read or refused with an error naming the file; none panics.

use chemlm_atoms::io::{read_npz, ReadOptions};
use proptest::prelude::*;

const GOLDEN: &[u8] = include_bytes!("golden/io/small.npz");

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        // Fixed, so that CI runs the same cases every time.
        rng_seed: proptest::test_runner::RngSeed::Fixed(17),
        ..ProptestConfig::default()
    })]

    #[test]
    fn damaged_npz_is_read_or_refused(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<usize>()),
        extend in 0..32usize,
    ) {
        let mut bytes = GOLDEN.to_vec();
        for (i, b) in edits {
            let i = i % bytes.len();
            bytes[i] = b;
        }
        if let Some(c) = cut {
            bytes.truncate(c % (bytes.len() + 1));
        }
        bytes.extend(std::iter::repeat_n(0u8, extend));
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("d.npz");
        std::fs::write(&p, &bytes).unwrap();
        match read_npz(&p, &ReadOptions::default()) {
            Ok(r) => {
                for s in &r.structures {
                    prop_assert_eq!(s.positions.len(), s.numbers.len());
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("d.npz"), "{}", e),
        }
    }
}
