//! Perfect matching for kekulization, ported step for step from
//! `selfies/utils/matching_utils.py`: a greedy maximal matching (fewest free neighbours first),
//! then augmenting paths from each unmatched node found by a breadth-first search.
//!
//! The search is not a full blossom algorithm, so like Python it can miss a perfect matching in
//! rare odd-cycle cases; it is kept as is because which double bonds get placed decides the
//! SELFIES string. Heap ties are broken by node label (tuple order in Python's `heapq`), and the
//! next unmatched node comes from a model of CPython's `set.pop()` ([`super::pyset`]).

use super::pyset::PySet;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

const UNMATCHED: u32 = u32::MAX;

/// Reusable buffers.
#[derive(Default)]
pub(crate) struct MatchScratch {
    free_degrees: Vec<u32>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
    parents: Vec<Option<(u32, u32)>>,
    queue: VecDeque<u32>,
    path: Vec<u32>,
}

/// A graph as adjacency lists in compressed form: neighbours of node `v` are
/// `adj[offsets[v]..offsets[v + 1]]`, in Python's list order.
pub(crate) struct Csr<'a> {
    pub offsets: &'a [u32],
    pub adj: &'a [u32],
}

impl Csr<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    #[inline]
    fn neighbors(&self, v: u32) -> &[u32] {
        &self.adj[self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize]
    }
}

/// `find_perfect_matching`: fills `matching[v]` with the mate of `v`; `false` if the search
/// finds no perfect matching.
pub(crate) fn find_perfect_matching(
    graph: &Csr<'_>,
    matching: &mut Vec<u32>,
    sc: &mut MatchScratch,
) -> bool {
    greedy_matching(graph, matching, sc);
    let n = graph.len();
    if (0..n).all(|v| matching[v] != UNMATCHED) {
        return true;
    }
    let mut unmatched = PySet::from_iter_ordered((0..n).filter(|&v| matching[v] == UNMATCHED));
    while let Some(root) = unmatched.pop() {
        if !find_augmenting_path(graph, root as u32, matching, sc) {
            return false;
        }
        // flip the path
        for pair in sc.path.chunks_exact(2) {
            matching[pair[0] as usize] = pair[1];
            matching[pair[1] as usize] = pair[0];
        }
        if let (Some(&first), Some(&last)) = (sc.path.first(), sc.path.last()) {
            unmatched.discard(first as usize);
            unmatched.discard(last as usize);
        }
    }
    debug_assert!(unmatched.is_empty());
    true
}

/// `_greedy_matching`.
fn greedy_matching(graph: &Csr<'_>, matching: &mut Vec<u32>, sc: &mut MatchScratch) {
    let n = graph.len();
    matching.clear();
    matching.resize(n, UNMATCHED);
    sc.free_degrees.clear();
    sc.free_degrees
        .extend((0..n as u32).map(|v| graph.neighbors(v).len() as u32));
    sc.heap.clear();
    sc.heap
        .extend((0..n as u32).map(|v| Reverse((sc.free_degrees[v as usize], v))));
    while let Some(Reverse((_, node))) = sc.heap.pop() {
        if matching[node as usize] != UNMATCHED || sc.free_degrees[node as usize] == 0 {
            continue;
        }
        let Some(&mate) = graph
            .neighbors(node)
            .iter()
            .find(|&&v| matching[v as usize] == UNMATCHED)
        else {
            continue; // cannot happen: free_degrees counts unmatched neighbours
        };
        matching[node as usize] = mate;
        matching[mate as usize] = node;
        for &adj in graph.neighbors(node).iter().chain(graph.neighbors(mate)) {
            let d = &mut sc.free_degrees[adj as usize];
            *d = d.saturating_sub(1);
            if matching[adj as usize] == UNMATCHED && *d > 0 {
                sc.heap.push(Reverse((*d, adj)));
            }
        }
    }
}

/// `_find_augmenting_path`: leaves the path (pairs to match) in `sc.path`.
fn find_augmenting_path(
    graph: &Csr<'_>,
    root: u32,
    matching: &[u32],
    sc: &mut MatchScratch,
) -> bool {
    const ROOT: (u32, u32) = (u32::MAX, u32::MAX);
    sc.parents.clear();
    sc.parents.resize(graph.len(), None);
    sc.parents[root as usize] = Some(ROOT);
    sc.queue.clear();
    sc.queue.push_back(root);
    let mut other_end = None;
    while let Some(node) = sc.queue.pop_front() {
        for &adj in graph.neighbors(node) {
            let mate = matching[adj as usize];
            if mate == UNMATCHED {
                if adj != root {
                    sc.parents[adj as usize] = Some((node, adj));
                    other_end = Some(adj);
                    break;
                }
            } else if sc.parents[mate as usize].is_none() {
                sc.parents[mate as usize] = Some((node, adj));
                sc.queue.push_back(mate);
            }
        }
        if other_end.is_some() {
            break;
        }
    }
    let Some(mut node) = other_end else {
        return false;
    };
    sc.path.clear();
    while node != root {
        let Some((parent, via)) = sc.parents[node as usize] else {
            return false;
        };
        sc.path.push(via);
        sc.path.push(parent);
        node = parent;
        if sc.path.len() > 2 * graph.len() + 2 {
            return false; // defensive: a malformed parent chain
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(adj: &[&[u32]]) -> (Vec<u32>, Vec<u32>) {
        let mut offsets = vec![0];
        let mut flat = vec![];
        for a in adj {
            flat.extend_from_slice(a);
            offsets.push(flat.len() as u32);
        }
        (offsets, flat)
    }

    #[test]
    fn matches_a_hexagon_and_rejects_a_pentagon() {
        let (o, a) = csr(&[&[1, 5], &[0, 2], &[1, 3], &[2, 4], &[3, 5], &[4, 0]]);
        let mut m = vec![];
        let mut sc = MatchScratch::default();
        assert!(find_perfect_matching(
            &Csr {
                offsets: &o,
                adj: &a
            },
            &mut m,
            &mut sc
        ));
        for (v, &w) in m.iter().enumerate() {
            assert_eq!(m[w as usize] as usize, v);
        }
        let (o, a) = csr(&[&[1, 4], &[0, 2], &[1, 3], &[2, 4], &[3, 0]]);
        assert!(!find_perfect_matching(
            &Csr {
                offsets: &o,
                adj: &a
            },
            &mut m,
            &mut sc
        ));
    }

    #[test]
    fn finds_the_matching_of_a_branched_tree() {
        // 0-1, 1-2, 2-3, 1-4, 4-5: the only perfect matching is 0-1, 2-3, 4-5.
        let (o, a) = csr(&[&[1], &[0, 2, 4], &[1, 3], &[2], &[1, 5], &[4]]);
        let mut m = vec![];
        let mut sc = MatchScratch::default();
        assert!(find_perfect_matching(
            &Csr {
                offsets: &o,
                adj: &a
            },
            &mut m,
            &mut sc
        ));
        assert_eq!(m, [1, 0, 3, 2, 5, 4]);
    }
}
