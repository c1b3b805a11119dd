//! Property test: the cell list equals an O(N²) search over all relevant images, on random
//! small cells (triclinic, thinner than the cutoff, any subset of periodic axes, atoms inside
//! and outside the cell) and on random molecules.

use chemlm_atoms::neighbors::{neighbor_list, neighbor_list_brute_force};
use chemlm_atoms::{Cell, Structure};
use proptest::prelude::*;

fn vec3(range: std::ops::Range<f64>) -> impl Strategy<Value = [f64; 3]> {
    [range.clone(), range.clone(), range]
}

prop_compose! {
    /// A cell with a dominant diagonal (so it is never singular) and random shear.
    fn cell()(diag in vec3(1.2..6.0), shear in vec3(-1.0..1.0), pbc in any::<[bool; 3]>())
        -> Cell {
        Cell {
            vectors: [
                [diag[0], 0.0, 0.0],
                [shear[0] * diag[1] * 0.6, diag[1], 0.0],
                [shear[1] * diag[2] * 0.6, shear[2] * diag[2] * 0.6, diag[2]],
            ],
            pbc,
        }
    }
}

prop_compose! {
    fn structure()(cell in cell(), frac in prop::collection::vec(vec3(-0.5..1.5), 0..12))
        -> Structure {
        let v = cell.vectors;
        let positions: Vec<[f64; 3]> = frac
            .iter()
            .map(|f| {
                let mut p = [0.0; 3];
                for (c, p) in p.iter_mut().enumerate() {
                    *p = f[0] * v[0][c] + f[1] * v[1][c] + f[2] * v[2][c];
                }
                p
            })
            .collect();
        let mut s = Structure::new(vec![1; positions.len()], positions).unwrap();
        s.cell = Some(cell);
        s
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn cell_list_equals_brute_force(s in structure(), cutoff in 0.3f64..7.0) {
        let fast = neighbor_list(&s, cutoff).unwrap();
        let slow = neighbor_list_brute_force(&s, cutoff).unwrap();
        prop_assert_eq!(&fast, &slow);
        // Symmetry: (i, j, S) present iff (j, i, -S) is.
        let mut mirrored: Vec<(u32, u32, [i32; 3])> = fast
            .idx_i
            .iter()
            .zip(&fast.idx_j)
            .zip(&fast.shifts)
            .map(|((&i, &j), s)| (j, i, [-s[0], -s[1], -s[2]]))
            .collect();
        mirrored.sort_unstable();
        let direct: Vec<(u32, u32, [i32; 3])> = fast
            .idx_i
            .iter()
            .zip(&fast.idx_j)
            .zip(&fast.shifts)
            .map(|((&i, &j), &s)| (i, j, s))
            .collect();
        prop_assert_eq!(direct, mirrored);
        for d in fast.distances(&s) {
            prop_assert!(d < cutoff && d > 0.0);
        }
    }

    #[test]
    fn molecules_equal_brute_force(
        pos in prop::collection::vec(vec3(-4.0..4.0), 0..40),
        cutoff in 0.2f64..5.0,
    ) {
        let s = Structure::new(vec![6; pos.len()], pos).unwrap();
        prop_assert_eq!(
            neighbor_list(&s, cutoff).unwrap(),
            neighbor_list_brute_force(&s, cutoff).unwrap()
        );
    }
}
