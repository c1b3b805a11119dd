//! Molecular graphs, topological distances, and matching a SMILES to its 3-D geometry.
//!
//! QM9 stores each molecule as a SMILES string and a DFT geometry whose atoms need not come in the
//! SMILES's order (and after canonicalisation they usually do not). The geometry's bonds are
//! perceived from covalent radii, and the SMILES graph is matched onto them atom by atom (same
//! element; every SMILES bond a short contact in the geometry). The identity order is tried first,
//! so a geometry written in SMILES order maps onto itself; a molecule whose graph has no match in
//! its geometry is reported and skipped, never silently paired with the wrong atoms.

use chemlm_chem::Molecule;

/// Slack added to the sum of covalent radii when deciding whether two atoms are bonded (Å); the
/// usual choice of bond perception (Open Babel uses 0.45 Å as well). Non-bonded heavy-atom pairs in
/// organic molecules are at least ~2.2 Å apart, bonded ones at most ~1.9 Å.
pub const BOND_TOLERANCE: f64 = 0.45;

/// Most search states the matcher visits before giving up (QM9 needs a few dozen).
const MATCH_STEP_LIMIT: usize = 200_000;

/// Single-bond covalent radius in Å (Cordero et al., Dalton Trans. 2008, sp3 carbon), for the
/// elements of organic chemistry; `None` for others.
pub fn covalent_radius(z: u8) -> Option<f64> {
    Some(match z {
        1 => 0.31,
        5 => 0.84,
        6 => 0.76,
        7 => 0.71,
        8 => 0.66,
        9 => 0.57,
        14 => 1.11,
        15 => 1.07,
        16 => 1.05,
        17 => 1.02,
        34 => 1.20,
        35 => 1.20,
        53 => 1.39,
        _ => return None,
    })
}

/// A molecular graph: atomic numbers and bonds (atom index pairs, lower first), no bond orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MolGraph {
    pub numbers: Vec<u8>,
    pub bonds: Vec<(usize, usize)>,
}

impl MolGraph {
    /// The graph of a parsed SMILES, atoms in the order they are written.
    pub fn from_molecule(mol: &Molecule) -> Self {
        Self {
            numbers: mol.atomic_numbers(),
            bonds: mol.bond_pairs(),
        }
    }

    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Neighbour lists.
    pub fn adjacency(&self) -> Vec<Vec<usize>> {
        let mut adj = vec![Vec::new(); self.len()];
        for &(i, j) in &self.bonds {
            adj[i].push(j);
            adj[j].push(i);
        }
        adj
    }

    /// Bonds on the shortest path between every pair, row-major `n x n`; `None` between atoms of
    /// different fragments.
    pub fn topological_distances(&self) -> Vec<Option<u32>> {
        let n = self.len();
        let adj = self.adjacency();
        let mut out = vec![None; n * n];
        let mut queue = std::collections::VecDeque::new();
        for s in 0..n {
            out[s * n + s] = Some(0);
            queue.push_back(s);
            while let Some(u) = queue.pop_front() {
                let du = out[s * n + u].unwrap_or(0);
                for &v in &adj[u] {
                    if out[s * n + v].is_none() {
                        out[s * n + v] = Some(du + 1);
                        queue.push_back(v);
                    }
                }
            }
        }
        out
    }
}

/// Euclidean distance between two points.
pub fn distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Bonds among the geometry atoms `atoms` (indices into `numbers`/`positions`): pairs closer than
/// the sum of their covalent radii plus [`BOND_TOLERANCE`]. Errors on an element without a radius.
pub fn perceive_bonds(
    numbers: &[u8],
    positions: &[[f64; 3]],
    atoms: &[usize],
) -> Result<Vec<(usize, usize)>, String> {
    let radius = |a: usize| {
        covalent_radius(numbers[a])
            .ok_or_else(|| format!("no covalent radius for element Z={}", numbers[a]))
    };
    let mut bonds = Vec::new();
    for (x, &a) in atoms.iter().enumerate() {
        let ra = radius(a)?;
        for &b in &atoms[x + 1..] {
            if distance(&positions[a], &positions[b]) < ra + radius(b)? + BOND_TOLERANCE {
                bonds.push((a.min(b), a.max(b)));
            }
        }
    }
    Ok(bonds)
}

/// Where each SMILES atom is in the geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomMatch {
    /// Geometry atom index of SMILES atom `i`.
    pub geometry_index: Vec<usize>,
    /// Whether SMILES atom `i` is the `i`-th matched-kind atom of the geometry for all `i` (the
    /// geometry was written in SMILES order).
    pub identity: bool,
}

/// Matches `graph` (a SMILES) onto a geometry: every SMILES atom to a distinct geometry atom of the
/// same element so that every SMILES bond joins two geometry atoms within bonding distance (bonds
/// from [`perceive_bonds`]). All heavy atoms must be matched; geometry hydrogens take part only
/// when the SMILES writes hydrogens as atoms (`[H]`). Extra close contacts in the geometry are
/// allowed: strained cages (bicyclo[1.1.1]pentane's bridgeheads are 1.9 Å apart) put non-bonded
/// atoms within the covalent cut-off, which an exact bond-for-bond match would reject. The error
/// says why no match exists.
pub fn match_to_geometry(
    graph: &MolGraph,
    numbers: &[u8],
    positions: &[[f64; 3]],
) -> Result<AtomMatch, String> {
    if numbers.len() != positions.len() {
        return Err(format!(
            "geometry has {} elements but {} positions",
            numbers.len(),
            positions.len()
        ));
    }
    if graph.numbers.contains(&0) {
        return Err("the SMILES has a wildcard atom `*`".into());
    }
    let smiles_h = graph.numbers.iter().filter(|&&z| z == 1).count();
    let candidates: Vec<usize> = (0..numbers.len())
        .filter(|&a| numbers[a] > 1 || smiles_h > 0)
        .collect();
    let heavy_s = graph.numbers.iter().filter(|&&z| z > 1).count();
    let heavy_g = numbers.iter().filter(|&&z| z > 1).count();
    if heavy_s != heavy_g {
        return Err(format!(
            "the SMILES has {heavy_s} heavy atoms, the geometry {heavy_g}"
        ));
    }
    let mut s_counts = [0usize; 256];
    let mut g_counts = [0usize; 256];
    for &z in &graph.numbers {
        s_counts[z as usize] += 1;
    }
    for &a in &candidates {
        g_counts[numbers[a] as usize] += 1;
    }
    for z in 2..256 {
        if s_counts[z] != g_counts[z] {
            return Err(format!(
                "element Z={z}: {} in the SMILES, {} in the geometry",
                s_counts[z], g_counts[z]
            ));
        }
    }
    if s_counts[1] > g_counts[1] {
        return Err(format!(
            "{} explicit hydrogens in the SMILES, {} in the geometry",
            s_counts[1], g_counts[1]
        ));
    }
    let g_bonds = perceive_bonds(numbers, positions, &candidates)?;
    let ng = numbers.len();
    let mut g_adj = vec![false; ng * ng];
    let mut g_heavy_degree = vec![0usize; ng];
    for &(a, b) in &g_bonds {
        g_adj[a * ng + b] = true;
        g_adj[b * ng + a] = true;
        if numbers[a] > 1 && numbers[b] > 1 {
            g_heavy_degree[a] += 1;
            g_heavy_degree[b] += 1;
        }
    }
    let ns = graph.len();
    let s_adj_list = graph.adjacency();
    let mut s_adj = vec![false; ns * ns];
    let mut s_heavy_degree = vec![0usize; ns];
    for &(i, j) in &graph.bonds {
        s_adj[i * ns + j] = true;
        s_adj[j * ns + i] = true;
        if graph.numbers[i] > 1 && graph.numbers[j] > 1 {
            s_heavy_degree[i] += 1;
            s_heavy_degree[j] += 1;
        }
    }
    let heavy_bonds_s = s_heavy_degree.iter().sum::<usize>() / 2;
    let heavy_bonds_g = g_heavy_degree.iter().sum::<usize>() / 2;
    if heavy_bonds_s > heavy_bonds_g {
        return Err(format!(
            "the SMILES has {heavy_bonds_s} bonds between heavy atoms, the geometry's covalent \
             radii give only {heavy_bonds_g}"
        ));
    }
    // Search order: breadth-first from atom 0 of each fragment, so each atom after the first of
    // its fragment has an already-placed neighbour that narrows its candidates.
    let mut order = Vec::with_capacity(ns);
    let mut seen = vec![false; ns];
    for start in 0..ns {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut q = std::collections::VecDeque::from([start]);
        while let Some(u) = q.pop_front() {
            order.push(u);
            for &v in &s_adj_list[u] {
                if !seen[v] {
                    seen[v] = true;
                    q.push_back(v);
                }
            }
        }
    }
    // Identity hint: SMILES atom i against the i-th candidate of the geometry.
    let hint: Vec<Option<usize>> = (0..ns).map(|i| candidates.get(i).copied()).collect();
    let mut state = Search {
        s_numbers: &graph.numbers,
        g_numbers: numbers,
        candidates: &candidates,
        s_adj: &s_adj,
        g_adj: &g_adj,
        s_heavy_degree: &s_heavy_degree,
        g_heavy_degree: &g_heavy_degree,
        ns,
        ng,
        order: &order,
        hint: &hint,
        map: vec![usize::MAX; ns],
        used: vec![false; ng],
        steps: 0,
    };
    if state.extend(0) {
        let identity = (0..ns).all(|i| Some(state.map[i]) == hint[i]);
        Ok(AtomMatch {
            geometry_index: state.map,
            identity,
        })
    } else if state.steps >= MATCH_STEP_LIMIT {
        Err(format!(
            "no atom matching found within {MATCH_STEP_LIMIT} search steps"
        ))
    } else {
        Err("the SMILES graph does not match the bonds of the geometry".into())
    }
}

/// Backtracking state of [`match_to_geometry`].
struct Search<'a> {
    s_numbers: &'a [u8],
    g_numbers: &'a [u8],
    candidates: &'a [usize],
    s_adj: &'a [bool],
    g_adj: &'a [bool],
    s_heavy_degree: &'a [usize],
    g_heavy_degree: &'a [usize],
    ns: usize,
    ng: usize,
    order: &'a [usize],
    hint: &'a [Option<usize>],
    map: Vec<usize>,
    used: Vec<bool>,
    steps: usize,
}

impl Search<'_> {
    fn fits(&self, i: usize, g: usize, placed: &[usize]) -> bool {
        if self.used[g] || self.g_numbers[g] != self.s_numbers[i] {
            return false;
        }
        if self.s_numbers[i] > 1 && self.s_heavy_degree[i] > self.g_heavy_degree[g] {
            return false;
        }
        placed
            .iter()
            .all(|&k| !self.s_adj[i * self.ns + k] || self.g_adj[g * self.ng + self.map[k]])
    }

    fn extend(&mut self, depth: usize) -> bool {
        if depth == self.order.len() {
            return true;
        }
        self.steps += 1;
        if self.steps >= MATCH_STEP_LIMIT {
            return false;
        }
        let order = self.order;
        let i = order[depth];
        let placed = &order[..depth];
        let mut options: Vec<usize> = Vec::new();
        if let Some(h) = self.hint[i] {
            options.push(h);
        }
        options.extend(
            self.candidates
                .iter()
                .copied()
                .filter(|&g| Some(g) != self.hint[i]),
        );
        for g in options {
            if !self.fits(i, g, placed) {
                continue;
            }
            self.map[i] = g;
            self.used[g] = true;
            if self.extend(depth + 1) {
                return true;
            }
            self.used[g] = false;
            self.map[i] = usize::MAX;
            if self.steps >= MATCH_STEP_LIMIT {
                return false;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(smiles: &str) -> MolGraph {
        MolGraph::from_molecule(&Molecule::from_smiles(smiles).unwrap())
    }

    #[test]
    fn distances_on_a_ring_and_a_salt() {
        // Cyclohexane: opposite atoms are 3 bonds apart.
        let g = graph("C1CCCCC1");
        let d = g.topological_distances();
        assert_eq!(d[3], Some(3));
        assert_eq!(d[1], Some(1));
        assert_eq!(d[2], Some(2));
        assert_eq!(d[5], Some(1));
        let salt = graph("C[NH3+].[Cl-]");
        let d = salt.topological_distances();
        assert_eq!(d[1], Some(1));
        assert_eq!(d[2], None);
    }

    /// Ethanol atoms placed along a zig-zag, with the geometry written O, C, C (reversed).
    #[test]
    fn matches_a_permuted_geometry_and_refuses_a_wrong_one() {
        let g = graph("CCO");
        let numbers = [8u8, 6, 6, 1];
        let positions = [
            [2.4, 0.0, 0.0],
            [1.2, 0.7, 0.0],
            [0.0, 0.0, 0.0],
            [-0.9, 0.5, 0.0],
        ];
        let m = match_to_geometry(&g, &numbers, &positions).unwrap();
        assert_eq!(m.geometry_index, vec![2, 1, 0]);
        assert!(!m.identity);
        // In SMILES order the identity is found first.
        let numbers = [6u8, 6, 8];
        let positions = [[0.0, 0.0, 0.0], [1.2, 0.7, 0.0], [2.4, 0.0, 0.0]];
        let m = match_to_geometry(&g, &numbers, &positions).unwrap();
        assert_eq!(m.geometry_index, vec![0, 1, 2]);
        assert!(m.identity);
        // Dimethyl ether geometry (C-O-C) for an ethanol SMILES: same atoms, other bonds.
        let positions = [[0.0, 0.0, 0.0], [2.4, 0.0, 0.0], [1.2, 0.7, 0.0]];
        let err = match_to_geometry(&g, &numbers, &positions).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        // Extra close contacts (a strained cage) do not block the match: propane on a triangle.
        let tri = [[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [0.75, 1.3, 0.0]];
        let m = match_to_geometry(&graph("CCC"), &[6, 6, 6], &tri).unwrap();
        assert!(m.identity);
        // Wrong atom count.
        let err = match_to_geometry(&graph("CCCO"), &numbers, &positions).unwrap_err();
        assert!(err.contains("heavy atoms"), "{err}");
    }
}
