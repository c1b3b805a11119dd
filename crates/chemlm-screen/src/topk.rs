//! A bounded "best k" collection: a min-heap whose root is the worst kept entry, so each new
//! candidate costs one comparison when it does not qualify and `O(log k)` when it does. Memory is
//! `O(k)` whatever the number of candidates, which is what lets a screen stream a library of
//! millions of molecules.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// One kept candidate. Ordered by score (higher is better), ties broken by sequence number
/// (earlier is better) so the result does not depend on thread scheduling.
#[derive(Debug, Clone)]
struct Entry<T> {
    score: f64,
    seq: u64,
    item: T,
}

fn better(a_score: f64, a_seq: u64, b_score: f64, b_seq: u64) -> Ordering {
    a_score.total_cmp(&b_score).then(b_seq.cmp(&a_seq))
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        better(self.score, self.seq, other.score, other.seq)
    }
}

/// Keeps the `k` best `(score, seq, item)` triples seen so far.
#[derive(Debug, Clone)]
pub struct TopK<T> {
    k: usize,
    heap: BinaryHeap<Reverse<Entry<T>>>,
}

impl<T> TopK<T> {
    /// An empty collection that will keep at most `k` entries.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k.min(1 << 20) + 1),
        }
    }

    /// Whether `(score, seq)` would be kept. Lets callers skip building an item (cloning strings)
    /// for the vast majority of candidates that do not make the cut.
    pub fn would_accept(&self, score: f64, seq: u64) -> bool {
        if self.k == 0 {
            return false;
        }
        if self.heap.len() < self.k {
            return true;
        }
        match self.heap.peek() {
            Some(Reverse(worst)) => better(score, seq, worst.score, worst.seq) == Ordering::Greater,
            None => true,
        }
    }

    /// Offers a candidate; returns whether it was kept.
    pub fn push(&mut self, score: f64, seq: u64, item: T) -> bool {
        if !self.would_accept(score, seq) {
            return false;
        }
        if self.heap.len() == self.k {
            self.heap.pop();
        }
        self.heap.push(Reverse(Entry { score, seq, item }));
        true
    }

    /// Number of entries kept.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept entries, best first: `(score, seq, item)`.
    pub fn into_sorted_vec(self) -> Vec<(f64, u64, T)> {
        // `into_sorted_vec` of a heap of `Reverse` is ascending in `Reverse`, i.e. best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(e)| (e.score, e.seq, e.item))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_best_and_breaks_ties_by_sequence() {
        let mut t = TopK::new(3);
        for (i, s) in [0.5, 0.9, 0.1, 0.9, 0.7, 0.9].iter().enumerate() {
            t.push(*s, i as u64, i);
        }
        let got: Vec<usize> = t.into_sorted_vec().into_iter().map(|e| e.2).collect();
        assert_eq!(got, vec![1, 3, 5]);
    }

    #[test]
    fn zero_k_keeps_nothing() {
        let mut t = TopK::new(0);
        assert!(!t.push(1.0, 0, ()));
        assert!(t.is_empty());
    }
}
