//! A model of CPython's `set` of small non-negative integers, for the order of `set.pop()`.
//!
//! `selfies` kekulizes by perfect matching and picks the next unmatched node with
//! `unmatched.pop()`. Which node comes out depends on CPython's open-addressing table (linear
//! probes of 9, perturbation shift 5, growth at 60 % fill, the `finger` of `pop`), not on the
//! values' order: `set([5, 9]).pop()` is 9. A different root can give a different (equally valid)
//! Kekulé structure and thus a different SELFIES string, so for exact string parity this models
//! `Objects/setobject.c` (CPython 3.7 – 3.13) for `set(generator)`, `pop` and `discard` on ints,
//! whose hash is the value itself.

const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;
const MINSIZE: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Empty,
    Dummy,
    Key(usize),
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct PySet {
    table: Vec<Slot>,
    fill: usize,
    used: usize,
    finger: usize,
}

impl PySet {
    /// `set(iter)`: keys inserted one by one in iteration order.
    pub(crate) fn from_iter_ordered(keys: impl IntoIterator<Item = usize>) -> Self {
        let mut set = PySet {
            table: vec![Slot::Empty; MINSIZE],
            fill: 0,
            used: 0,
            finger: 0,
        };
        for k in keys {
            set.add(k);
        }
        set
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.used == 0
    }

    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    /// `set_add_entry`.
    fn add(&mut self, key: usize) {
        let mask = self.mask();
        let mut i = key & mask;
        let mut perturb = key;
        let mut freeslot: Option<usize> = None;
        let found_empty = loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            let mut hit = None;
            for j in i..=i + probes {
                match self.table[j] {
                    Slot::Empty => {
                        hit = Some(j);
                        break;
                    }
                    Slot::Key(k) if k == key => return,
                    Slot::Dummy => freeslot = Some(j),
                    Slot::Key(_) => {}
                }
            }
            if let Some(j) = hit {
                break j;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb)) & mask;
        };
        if let Some(f) = freeslot {
            self.used += 1;
            self.table[f] = Slot::Key(key);
            return;
        }
        self.fill += 1;
        self.used += 1;
        self.table[found_empty] = Slot::Key(key);
        if self.fill * 5 < mask * 3 {
            return;
        }
        let minused = if self.used > 50_000 {
            self.used * 2
        } else {
            self.used * 4
        };
        self.resize(minused);
    }

    /// `set_table_resize` (only ever growing here, as nothing is removed before it runs).
    fn resize(&mut self, minused: usize) {
        let mut newsize = MINSIZE;
        while newsize <= minused {
            newsize <<= 1;
        }
        let old = std::mem::replace(&mut self.table, vec![Slot::Empty; newsize]);
        let newmask = newsize - 1;
        self.fill = self.used;
        for slot in old {
            if let Slot::Key(k) = slot {
                self.insert_clean(newmask, k);
            }
        }
    }

    /// `set_insert_clean`.
    fn insert_clean(&mut self, mask: usize, key: usize) {
        let mut perturb = key;
        let mut i = key & mask;
        loop {
            if self.table[i] == Slot::Empty {
                self.table[i] = Slot::Key(key);
                return;
            }
            if i + LINEAR_PROBES <= mask {
                for j in 1..=LINEAR_PROBES {
                    if self.table[i + j] == Slot::Empty {
                        self.table[i + j] = Slot::Key(key);
                        return;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb)) & mask;
        }
    }

    /// `set.pop()`; `None` on an empty set.
    pub(crate) fn pop(&mut self) -> Option<usize> {
        if self.used == 0 {
            return None;
        }
        let mask = self.mask();
        let mut e = self.finger & mask;
        loop {
            if let Slot::Key(k) = self.table[e] {
                self.table[e] = Slot::Dummy;
                self.used -= 1;
                self.finger = e + 1;
                return Some(k);
            }
            e += 1;
            if e > mask {
                e = 0;
            }
        }
    }

    /// `set.discard(key)` (`set_lookkey` + dummy marking).
    pub(crate) fn discard(&mut self, key: usize) {
        let mask = self.mask();
        let mut i = key & mask;
        let mut perturb = key;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for j in i..=i + probes {
                match self.table[j] {
                    Slot::Empty => return,
                    Slot::Key(k) if k == key => {
                        self.table[j] = Slot::Dummy;
                        self.used -= 1;
                        return;
                    }
                    _ => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb)) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pop_order_is_cpythons() {
        // Checked against CPython 3.11: [set(...).pop() for ...]
        let mut s = PySet::from_iter_ordered([5, 9]);
        assert_eq!((s.pop(), s.pop(), s.pop()), (Some(9), Some(5), None));
        let mut s = PySet::from_iter_ordered([3, 12]);
        assert_eq!((s.pop(), s.pop()), (Some(3), Some(12)));
    }
}

#[cfg(test)]
mod golden {
    use super::PySet;

    /// `tests/golden/selfies/pyset.tsv` (scripts/gen_selfies_golden.py): CPython 3.11 results.
    #[test]
    fn matches_cpython_on_random_operation_sequences() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/selfies/pyset.tsv"
        );
        let text = std::fs::read_to_string(path).expect("golden pyset.tsv");
        let mut n = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let keys = f[0].split(' ').map(|k| k.parse::<usize>().unwrap());
            let mut set = PySet::from_iter_ordered(keys);
            for (op, want) in f[1].split(' ').zip(f[2].split(' ')) {
                if op == "p" {
                    assert_eq!(
                        set.pop().map(|k| k.to_string()).as_deref(),
                        Some(want),
                        "{line}"
                    );
                } else {
                    set.discard(op[1..].parse().unwrap());
                }
            }
            assert!(set.is_empty());
            n += 1;
        }
        assert_eq!(n, 150);
    }
}
