//! Timing of the neighbour list on the sizes the issue names (ignored by default; run with
//! `cargo test -p chemlm-atoms --release --test neighbors_speed -- --ignored --nocapture`).

use chemlm_atoms::{Cell, GraphBatch, Structure};
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// Diamond Si, cubic cell 5.43 Å, replicated n×n×n and rattled.
fn silicon(n: usize) -> Structure {
    let a = 5.43;
    let basis = [
        [0.0, 0.0, 0.0],
        [0.0, 0.5, 0.5],
        [0.5, 0.0, 0.5],
        [0.5, 0.5, 0.0],
        [0.25, 0.25, 0.25],
        [0.25, 0.75, 0.75],
        [0.75, 0.25, 0.75],
        [0.75, 0.75, 0.25],
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut pos = Vec::new();
    for x in 0..n {
        for y in 0..n {
            for z in 0..n {
                for b in basis {
                    pos.push([
                        (x as f64 + b[0]) * a + rng.gen_range(-0.05..0.05),
                        (y as f64 + b[1]) * a + rng.gen_range(-0.05..0.05),
                        (z as f64 + b[2]) * a + rng.gen_range(-0.05..0.05),
                    ]);
                }
            }
        }
    }
    let l = a * n as f64;
    let mut s = Structure::new(vec![14; pos.len()], pos).unwrap();
    s.cell = Some(Cell::periodic([
        [l, 0.0, 0.0],
        [0.0, l, 0.0],
        [0.0, 0.0, l],
    ]));
    s
}

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("at least one repetition"))
}

#[test]
#[ignore]
fn speed() {
    let si = silicon(11); // 10,648 atoms
    for cutoff in [3.0, 5.0] {
        let (t, g) = best_of(5, || chemlm_atoms::neighbor_list(&si, cutoff).unwrap());
        println!(
            "Si box {} atoms, cutoff {cutoff}: {} edges in {:.2} ms",
            si.len(),
            g.len(),
            t * 1e3
        );
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let mols: Vec<Structure> = (0..4000)
        .map(|_| {
            let pos = (0..21)
                .map(|_| [0.0, 0.0, 0.0].map(|_: f64| rng.gen_range(-3.5..3.5)))
                .collect();
            Structure::new(vec![6; 21], pos).unwrap()
        })
        .collect();
    let refs: Vec<&Structure> = mols.iter().collect();
    let (t, b) = best_of(5, || GraphBatch::from_structures(&refs, 5.0).unwrap());
    println!(
        "4000 molecules x 21 atoms, cutoff 5: batch of {} edges in {:.2} ms",
        b.n_edges(),
        t * 1e3
    );
}
