//! Batching structures into one graph: atom concatenation, index offsets, Cartesian offsets
//! `S · cell`, per-structure bookkeeping, and the degenerate cases (no atoms, one atom).

use chemlm_atoms::neighbors::neighbor_list;
use chemlm_atoms::{Cell, Graph, GraphBatch, Structure};

fn water(shift: f64) -> Structure {
    Structure::new(
        vec![8, 1, 1],
        vec![
            [shift, 0.0, 0.0],
            [shift + 0.96, 0.0, 0.0],
            [shift - 0.24, 0.93, 0.0],
        ],
    )
    .unwrap()
}

fn small_crystal() -> Structure {
    let mut s = Structure::new(vec![14, 14], vec![[0.1, 0.0, 0.2], [1.4, 1.3, 1.5]]).unwrap();
    s.cell = Some(Cell::periodic([
        [0.0, 2.7, 2.7],
        [2.7, 0.0, 2.7],
        [2.7, 2.7, 0.0],
    ]));
    s
}

#[test]
fn indices_are_offset_and_offsets_are_shift_times_cell() {
    let (a, b, c) = (water(0.0), small_crystal(), water(5.0));
    let cutoff = 3.0;
    let batch = GraphBatch::from_structures(&[&a, &b, &c], cutoff).unwrap();
    assert_eq!(batch.n_structures(), 3);
    assert_eq!(batch.atoms_per_structure, vec![3, 2, 3]);
    assert_eq!(batch.structure_of, vec![0, 0, 0, 1, 1, 2, 2, 2]);
    assert_eq!(batch.atom_starts(), vec![0, 3, 5, 8]);
    assert_eq!(batch.numbers, vec![8, 1, 1, 14, 14, 8, 1, 1]);

    let graphs: Vec<Graph> = [&a, &b, &c]
        .iter()
        .map(|s| neighbor_list(s, cutoff).unwrap())
        .collect();
    assert_eq!(
        batch.n_edges(),
        graphs.iter().map(|g| g.len()).sum::<usize>()
    );
    let cell = b.cell.unwrap().vectors;
    let mut e = 0;
    for (k, (g, first)) in graphs.iter().zip([0u32, 3, 5]).enumerate() {
        for t in 0..g.len() {
            assert_eq!(batch.idx_i[e], g.idx_i[t] + first);
            assert_eq!(batch.idx_j[e], g.idx_j[t] + first);
            let s = g.shifts[t];
            // Independent of the library's summation: a matrix product written out.
            let want = if k == 1 {
                [0, 1, 2].map(|x| {
                    s[0] as f64 * cell[0][x] + s[1] as f64 * cell[1][x] + s[2] as f64 * cell[2][x]
                })
            } else {
                [0.0; 3]
            };
            for (got, want) in batch.offsets[e].iter().zip(want) {
                assert!((got - want).abs() < 1e-12);
            }
            // Edges stay inside their structure.
            assert_eq!(
                batch.structure_of[batch.idx_i[e] as usize],
                batch.structure_of[batch.idx_j[e] as usize]
            );
            e += 1;
        }
    }
    // The crystal's cutoff exceeds its nearest-image distance: shifts must be non-zero there.
    assert!(graphs[1].shifts.iter().any(|s| *s != [0, 0, 0]));
    // Edge vectors of the batch equal those of each structure alone.
    let all: Vec<[f64; 3]> = [&a, &b, &c]
        .iter()
        .zip(&graphs)
        .flat_map(|(s, g)| g.edge_vectors(s))
        .collect();
    for (x, y) in batch.edge_vectors().iter().zip(&all) {
        for k in 0..3 {
            assert!((x[k] - y[k]).abs() < 1e-12);
        }
    }
}

#[test]
fn collate_of_cached_graphs_equals_from_structures() {
    let (a, b) = (water(0.0), small_crystal());
    let (ga, gb) = (
        neighbor_list(&a, 2.5).unwrap(),
        neighbor_list(&b, 2.5).unwrap(),
    );
    let cached = GraphBatch::collate(&[(&a, &ga), (&b, &gb)]).unwrap();
    assert_eq!(cached, GraphBatch::from_structures(&[&a, &b], 2.5).unwrap());
    // Owned structures work too.
    let owned = vec![a.clone(), b.clone()];
    assert_eq!(cached, GraphBatch::from_structures(&owned, 2.5).unwrap());
}

#[test]
fn collate_rejects_a_graph_of_another_structure() {
    let (a, b) = (water(0.0), small_crystal());
    let gb = neighbor_list(&b, 4.0).unwrap();
    // Crystal graph (shifts, and possibly indices) does not fit the molecule.
    assert!(GraphBatch::collate(&[(&a, &gb)]).is_err());
    let mut bad = neighbor_list(&a, 2.5).unwrap();
    bad.idx_j[0] = 3;
    assert!(GraphBatch::collate(&[(&a, &bad)]).is_err());
}

#[test]
fn empty_and_single_atom_structures() {
    let empty = Structure::default();
    let single = Structure::new(vec![6], vec![[1.0, 2.0, 3.0]]).unwrap();
    let w = water(0.0);
    let batch = GraphBatch::from_structures(&[&empty, &single, &w], 5.0).unwrap();
    assert_eq!(batch.atoms_per_structure, vec![0, 1, 3]);
    assert_eq!(batch.structure_of, vec![1, 2, 2, 2]);
    assert_eq!(batch.atom_starts(), vec![0, 0, 1, 4]);
    // Only the water's 6 directed edges, shifted past the lone carbon.
    assert_eq!(batch.n_edges(), 6);
    assert!(batch
        .idx_i
        .iter()
        .chain(&batch.idx_j)
        .all(|&k| (1..4).contains(&k)));

    let none = GraphBatch::from_structures::<Structure>(&[], 5.0).unwrap();
    assert_eq!(
        (none.n_structures(), none.n_atoms(), none.n_edges()),
        (0, 0, 0)
    );

    // A single atom in a periodic cell still sees its own images.
    let mut lone = single.clone();
    lone.cell = Some(Cell::periodic([
        [3.0, 0.0, 0.0],
        [0.0, 3.0, 0.0],
        [0.0, 0.0, 3.0],
    ]));
    let b = GraphBatch::from_structures(&[&lone], 3.5).unwrap();
    assert_eq!(b.n_edges(), 6);
    assert!(b.idx_i.iter().chain(&b.idx_j).all(|&k| k == 0));
    let norms: Vec<f64> = b
        .offsets
        .iter()
        .map(|o| (o[0] * o[0] + o[1] * o[1] + o[2] * o[2]).sqrt())
        .collect();
    assert!(norms.iter().all(|d| (d - 3.0).abs() < 1e-12));
}
