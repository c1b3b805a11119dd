//! Masked-LM corruption statistics.

use chemlm_train::objectives::{Masker, MaskingConfig, SpecialTokens};
use chemlm_train::rng::derived_rng;
use rand::Rng;

fn specials() -> SpecialTokens {
    SpecialTokens {
        vocab_size: 50,
        mask_id: 1,
        pad_id: 0,
        special_ids: vec![0, 1, 2, 3, 4],
    }
}

#[test]
fn proportions_are_15_80_10_10_and_specials_untouched() {
    let masker = Masker::new(MaskingConfig::default(), &specials()).unwrap();
    let mut data_rng = derived_rng(1, 99);
    let (b, t) = (64, 40);
    let mut ids = vec![0u32; b * t];
    let mut mask = vec![0u32; b * t];
    for r in 0..b {
        let len = data_rng.gen_range(5..=t);
        for c in 0..len {
            // bos, body, eos; then padding
            ids[r * t + c] = if c == 0 {
                2
            } else if c == len - 1 {
                3
            } else {
                data_rng.gen_range(5..50)
            };
            mask[r * t + c] = 1;
        }
    }
    let eligible_per_batch = ids
        .iter()
        .zip(&mask)
        .filter(|(&i, &m)| m == 1 && i >= 5)
        .count();
    let mut rng = derived_rng(7, 1);
    let (mut chosen, mut masked, mut random, mut kept, mut eligible) = (0usize, 0, 0, 0, 0);
    for _ in 0..60 {
        let out = masker.apply(&ids, &mask, &mut rng);
        eligible += eligible_per_batch;
        chosen += out.positions.len();
        masked += out.n_mask_token;
        random += out.n_random;
        kept += out.n_kept;
        for (k, &p) in out.positions.iter().enumerate() {
            let p = p as usize;
            assert_eq!(mask[p], 1, "padding chosen");
            assert!(ids[p] >= 5, "special token chosen");
            assert_eq!(out.targets[k], ids[p]);
            let new = out.input_ids[p];
            assert!(
                new == 1 || new >= 5,
                "random replacement drew a special token"
            );
        }
        for (i, (&before, &after)) in ids.iter().zip(&out.input_ids).enumerate() {
            if !out.positions.contains(&(i as u32)) {
                assert_eq!(after, before, "unchosen token changed");
            }
        }
    }
    let frac = chosen as f64 / eligible as f64;
    let fm = masked as f64 / chosen as f64;
    let fr = random as f64 / chosen as f64;
    let fk = kept as f64 / chosen as f64;
    eprintln!("chosen {frac:.4} mask {fm:.4} random {fr:.4} kept {fk:.4} (n = {chosen})");
    // ~85k eligible and ~13k chosen tokens: binomial standard deviations are ~0.0012 (15 %),
    // ~0.0035 (80 %) and ~0.0026 (10 %), so the bounds are 3-4 sigma.
    assert!((frac - 0.15).abs() < 0.005);
    assert!((fm - 0.8).abs() < 0.012);
    assert!((fr - 0.1).abs() < 0.01);
    assert!((fk - 0.1).abs() < 0.01);
}

#[test]
fn seeded_masking_is_reproducible_and_seed_dependent() {
    let masker = Masker::new(MaskingConfig::default(), &specials()).unwrap();
    let ids: Vec<u32> = (0..400).map(|i| 5 + (i % 45) as u32).collect();
    let mask = vec![1u32; 400];
    let a = masker.apply(&ids, &mask, &mut derived_rng(3, 1));
    let b = masker.apply(&ids, &mask, &mut derived_rng(3, 1));
    let c = masker.apply(&ids, &mask, &mut derived_rng(4, 1));
    assert_eq!(a, b);
    assert_ne!(a.positions, c.positions);
}

#[test]
fn bad_configuration_is_rejected() {
    let bad = MaskingConfig {
        mask_prob: 0.15,
        mask_token_frac: 0.9,
        random_token_frac: 0.2,
    };
    assert!(Masker::new(bad, &specials()).is_err());
    let mut s = specials();
    s.mask_id = 50;
    assert!(Masker::new(MaskingConfig::default(), &s).is_err());
}
