//! The bounded heap must return exactly the first `k` of a full sort (score descending, ties by
//! sequence ascending), whatever the data: checked on random scores with many ties.

use chemlm_screen::TopK;
use rand::{Rng, SeedableRng};

#[test]
fn topk_equals_full_sort_on_random_data() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for trial in 0..200 {
        let n = rng.gen_range(0..2000);
        let k = rng.gen_range(0..300);
        // Coarse scores (0..50 / 50) make ties common; occasional exact 0 and 1.
        let scores: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.gen_range(0..=50u32)) / 50.0)
            .collect();
        let mut heap = TopK::new(k);
        for (i, &s) in scores.iter().enumerate() {
            heap.push(s, i as u64, i);
        }
        let got: Vec<(f64, usize)> = heap
            .into_sorted_vec()
            .into_iter()
            .map(|(s, _, i)| (s, i))
            .collect();
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let want: Vec<(f64, usize)> = idx.into_iter().take(k).map(|i| (scores[i], i)).collect();
        assert_eq!(got, want, "trial {trial}: n={n} k={k}");
    }
}
