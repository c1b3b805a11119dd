//! Depth-first SMILES writing shared by the generic-scaffold and the BRICS writers.
//!
//! chematic's RDKit ports only accept molecules read from SMILES, so both jobs build a graph,
//! write it as SMILES and parse it again. The writing is the same in both: a depth-first spanning
//! forest, `.` between its trees, branches in parentheses, every other edge a ring closure with a
//! number. Only the atom and bond text and the ring-number reuse rule differ; callers supply those.

/// The writer ran out of ring-closure numbers (more than 99 ring bonds open at once); each caller
/// turns this into its own error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManyRingBonds;

/// One ring-closure digit at an atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RingDigit {
    /// The atom at the ring bond's other end.
    pub partner: usize,
    /// The ring bond's edge id.
    pub edge: usize,
    /// Whether the ring bond opens here (at the ancestor) rather than closes (at the descendant).
    pub opens: bool,
}

/// When a ring-closure number closed at an atom may be used again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RingNumbering {
    /// An atom writes its closing digits first, then its opening ones; numbers it closes are free
    /// for its own openings (`C11`), as RDKit writes them.
    ReuseAtSameAtom,
    /// An atom writes its digits in [`DfsForest::digits`] order (the order a caller that needs
    /// the written neighbour order, for stereo parity, sees); numbers it closes are free from the
    /// next atom on.
    ReuseFromNextAtom,
}

/// A depth-first spanning forest of a graph whose atoms are `0..n`, some of them absent.
#[derive(Debug, Clone)]
pub(crate) struct DfsForest {
    /// The first atom of each tree, in the order the trees are written.
    pub roots: Vec<usize>,
    /// `(parent atom, edge)` of each atom but the roots (and absent atoms).
    pub parent: Vec<Option<(usize, usize)>>,
    /// `(child atom, edge)` in the order they are written: all but the last as branches.
    pub children: Vec<Vec<(usize, usize)>>,
    /// Ring-closure digits of each atom, in the order the search met them.
    pub digits: Vec<Vec<RingDigit>>,
    /// One more than the largest ring-bond edge id (sizes the number table).
    edge_bound: usize,
}

impl DfsForest {
    /// Searches depth-first from each present atom not yet reached, in index order, following
    /// `nbrs(u)` (`(neighbour, edge id)` pairs) in order. An edge back to an atom still on the
    /// search stack (other than the tree edge it came by) becomes a ring bond, opened at that
    /// ancestor and closed at the current atom.
    pub fn new<'a>(
        n: usize,
        present: impl Fn(usize) -> bool,
        nbrs: impl Fn(usize) -> &'a [(usize, usize)],
    ) -> Self {
        let mut parent: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut children: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        let mut digits: Vec<Vec<RingDigit>> = vec![Vec::new(); n];
        let mut state = vec![0u8; n]; // 0 new, 1 on the DFS stack, 2 done
        let mut roots = Vec::new();
        let mut edge_bound = 0usize;
        for root in 0..n {
            if !present(root) || state[root] != 0 {
                continue;
            }
            roots.push(root);
            state[root] = 1;
            let mut stack = vec![(root, 0usize)];
            while let Some(top) = stack.last_mut() {
                let u = top.0;
                if let Some(&(v, e)) = nbrs(u).get(top.1) {
                    top.1 += 1;
                    match state[v] {
                        0 => {
                            state[v] = 1;
                            parent[v] = Some((u, e));
                            children[u].push((v, e));
                            stack.push((v, 0));
                        }
                        1 if parent[u].map(|p| p.1) != Some(e) => {
                            // `v` is an ancestor still open: a ring bond, opened at `v`.
                            digits[v].push(RingDigit {
                                partner: u,
                                edge: e,
                                opens: true,
                            });
                            digits[u].push(RingDigit {
                                partner: v,
                                edge: e,
                                opens: false,
                            });
                            edge_bound = edge_bound.max(e + 1);
                        }
                        _ => {}
                    }
                } else {
                    state[u] = 2;
                    stack.pop();
                }
            }
        }
        Self {
            roots,
            parent,
            children,
            digits,
            edge_bound,
        }
    }

    /// Writes the forest as SMILES. For each atom `u`: `bond(e, p)` for the tree edge from its
    /// parent `p`, then `atom(u, out)` writes the atom itself, then its ring digits (each opening
    /// one preceded by `bond(e, u)`), then its children, all but the last in parentheses.
    ///
    /// An opening digit takes the smallest free number (a number is free once its ring bond has
    /// closed, from the point `numbering` says); the closing digit repeats it.
    pub fn write_smiles<'b>(
        &self,
        numbering: RingNumbering,
        mut atom: impl FnMut(usize, &mut String),
        bond: impl Fn(usize, usize) -> &'b str,
    ) -> Result<String, TooManyRingBonds> {
        enum Step {
            Atom(usize),
            Text(&'static str),
        }
        let mut out = String::with_capacity(4 * self.parent.len());
        let mut numbers = Numbers::new(self.edge_bound);
        let mut released = Vec::new();
        for (k, &root) in self.roots.iter().enumerate() {
            if k > 0 {
                out.push('.');
            }
            let mut steps = vec![Step::Atom(root)];
            while let Some(step) = steps.pop() {
                let u = match step {
                    Step::Text(t) => {
                        out.push_str(t);
                        continue;
                    }
                    Step::Atom(u) => u,
                };
                if let Some((p, e)) = self.parent[u] {
                    out.push_str(bond(e, p));
                }
                atom(u, &mut out);
                let digits = &self.digits[u];
                match numbering {
                    RingNumbering::ReuseAtSameAtom => {
                        for d in digits.iter().filter(|d| !d.opens) {
                            push_ring_number(&mut out, numbers.number_of[d.edge])?;
                            numbers.free.push(numbers.number_of[d.edge]);
                        }
                        for d in digits.iter().filter(|d| d.opens) {
                            out.push_str(bond(d.edge, u));
                            push_ring_number(&mut out, numbers.open(d.edge))?;
                        }
                    }
                    RingNumbering::ReuseFromNextAtom => {
                        for d in digits {
                            if d.opens {
                                out.push_str(bond(d.edge, u));
                                push_ring_number(&mut out, numbers.open(d.edge))?;
                            } else {
                                push_ring_number(&mut out, numbers.number_of[d.edge])?;
                                released.push(numbers.number_of[d.edge]);
                            }
                        }
                        numbers.free.append(&mut released);
                    }
                }
                if let Some((&(last, _), rest)) = self.children[u].split_last() {
                    steps.push(Step::Atom(last));
                    for &(c, _) in rest.iter().rev() {
                        steps.push(Step::Text(")"));
                        steps.push(Step::Atom(c));
                        steps.push(Step::Text("("));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Ring-closure numbers in use.
struct Numbers {
    /// The number each ring bond was opened with (by edge id).
    number_of: Vec<usize>,
    /// Numbers released, reused smallest first.
    free: Vec<usize>,
    /// The smallest number never used yet.
    next: usize,
}

impl Numbers {
    fn new(edge_bound: usize) -> Self {
        Self {
            number_of: vec![0; edge_bound],
            free: Vec::new(),
            next: 1,
        }
    }

    /// Opens ring bond `edge` with the smallest free number.
    fn open(&mut self, edge: usize) -> usize {
        self.free.sort_unstable_by(|a, b| b.cmp(a));
        let number = self.free.pop().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        });
        self.number_of[edge] = number;
        number
    }
}

/// Appends a ring-closure number: one digit, or `%nn` from 10 on.
fn push_ring_number(out: &mut String, number: usize) -> Result<(), TooManyRingBonds> {
    match number {
        1..=9 => out.push(char::from(b'0' + number as u8)),
        10..=99 => {
            out.push('%');
            out.push_str(&number.to_string());
        }
        _ => return Err(TooManyRingBonds),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Neighbour lists `(atom, edge)` of an undirected edge list.
    fn graph(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<(usize, usize)>> {
        let mut nbrs = vec![Vec::new(); n];
        for (e, &(u, v)) in edges.iter().enumerate() {
            nbrs[u].push((v, e));
            nbrs[v].push((u, e));
        }
        nbrs
    }

    fn write(n: usize, edges: &[(usize, usize)], numbering: RingNumbering) -> String {
        let nbrs = graph(n, edges);
        let forest = DfsForest::new(n, |_| true, |u| &nbrs[u]);
        forest
            .write_smiles(numbering, |_, out| out.push('C'), |_, _| "")
            .unwrap()
    }

    #[test]
    fn writes_parts_branches_and_rings() {
        for numbering in [
            RingNumbering::ReuseAtSameAtom,
            RingNumbering::ReuseFromNextAtom,
        ] {
            assert_eq!(write(3, &[(0, 1), (1, 2), (2, 0)], numbering), "C1CC1");
            assert_eq!(write(4, &[(0, 1), (1, 2), (1, 3)], numbering), "CC(C)C");
            assert_eq!(write(3, &[(0, 1)], numbering), "CC.C");
        }
    }

    #[test]
    fn numbering_rules_differ_on_reuse_and_digit_order() {
        // (edges, written with ReuseAtSameAtom, written with ReuseFromNextAtom)
        let cases = [
            // Two triangles sharing atom 2: the first ring closes at atom 2, which opens the
            // second.
            (
                &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 2)],
                "C1CC11CC1",
                "C1CC12CC2",
            ),
            // Atom 2 meets the ring bond 4-2 (opened at 2) before the ring bond 2-0 (closed
            // at 2).
            (
                &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 2), (2, 0)],
                "C1CC11CC1",
                "C1CC21CC2",
            ),
        ];
        for (edges, same_atom, next_atom) in cases {
            assert_eq!(write(5, edges, RingNumbering::ReuseAtSameAtom), same_atom);
            assert_eq!(write(5, edges, RingNumbering::ReuseFromNextAtom), next_atom);
        }
    }

    #[test]
    fn bond_text_precedes_atoms_and_opening_digits_and_absent_atoms_start_no_tree() {
        let nbrs = graph(5, &[(0, 1), (1, 2), (2, 0)]);
        let forest = DfsForest::new(5, |u| u != 3, |u| &nbrs[u]);
        assert_eq!(forest.roots, vec![0, 4]);
        let text = forest
            .write_smiles(
                RingNumbering::ReuseFromNextAtom,
                |u, out| out.push_str(["C", "N", "O", "S", "P"][u]),
                |e, from| if from == 0 && e == 2 { "=" } else { "-" },
            )
            .unwrap();
        assert_eq!(text, "C=1-N-O1.P");
    }

    #[test]
    fn more_than_99_open_ring_bonds_is_an_error() {
        // Atom 0 bonded to atoms 1..=101, each also bonded to the next: every atom after the
        // second closes a ring to atom 0 while rings opened at 0 stay open.
        let mut edges: Vec<(usize, usize)> = (1..=101).map(|i| (0, i)).collect();
        edges.extend((1..101).map(|i| (i, i + 1)));
        let nbrs = graph(102, &edges);
        let forest = DfsForest::new(102, |_| true, |u| &nbrs[u]);
        let r = forest.write_smiles(
            RingNumbering::ReuseAtSameAtom,
            |_, o| o.push('C'),
            |_, _| "",
        );
        assert_eq!(r, Err(TooManyRingBonds));
    }
}
