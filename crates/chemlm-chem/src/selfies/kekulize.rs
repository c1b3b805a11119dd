//! Kekulization of the encoder's graph (`MolecularGraph.kekulize` in `selfies/mol_graph.py`).
//!
//! SELFIES has no aromatic symbols, so aromatic input is turned into alternating single and
//! double bonds first. Following `selfies` (after R. Apodaca's "Depth-First" article): the
//! delocalization subgraph holds the aromatic atoms and every atom with an aromatic (`:` or
//! implicit) bond; atoms that already use all their valence (e.g. the NH of pyrrole) are pruned;
//! a perfect matching of the rest says where the double bonds go. The pruning arithmetic and the
//! matching are ported literally, since another valid Kekulé structure would give another string.

use super::atom::{DOUBLE, SINGLE};
use super::graph::{MolGraph, NONE};
use super::matching::{find_perfect_matching, Csr, MatchScratch};

/// Reusable buffers.
#[derive(Default)]
pub(crate) struct KekuleScratch {
    counts2: Vec<u32>,
    in_ds: Vec<bool>,
    ds_offsets: Vec<u32>,
    ds_adj: Vec<u32>,
    fill: Vec<u32>,
    label: Vec<u32>,
    label_to_node: Vec<u32>,
    pruned_offsets: Vec<u32>,
    pruned_adj: Vec<u32>,
    matching: Vec<u32>,
    matcher: MatchScratch,
}

/// Why kekulization failed.
#[derive(Debug)]
pub(crate) enum KekuleError {
    /// An atom of an element that `selfies` has no aromatic valences for sits on an aromatic
    /// bond (Python raises `KeyError` here).
    NotAromaticElement(u32),
    /// No perfect matching was found.
    NoMatching,
}

/// Kekulizes `g` in place. `aromatic_bonds` are the ids of the order-1.5 bonds in creation order.
pub(crate) fn kekulize(
    g: &mut MolGraph,
    aromatic_bonds: &[u32],
    sc: &mut KekuleScratch,
) -> Result<(), KekuleError> {
    let n = g.len();
    if aromatic_bonds.is_empty() && !g.atoms.iter().any(|a| a.aromatic) {
        return Ok(());
    }
    g.bond_counts2(&mut sc.counts2);

    // Delocalization subgraph: nodes and their neighbours in bond-creation order.
    sc.in_ds.clear();
    sc.in_ds.extend(g.atoms.iter().map(|a| a.aromatic));
    sc.ds_offsets.clear();
    sc.ds_offsets.resize(n + 1, 0);
    for &b in aromatic_bonds {
        let bond = g.bonds[b as usize];
        sc.in_ds[bond.src as usize] = true;
        sc.in_ds[bond.dst as usize] = true;
        sc.ds_offsets[bond.src as usize + 1] += 1;
        sc.ds_offsets[bond.dst as usize + 1] += 1;
    }
    for v in 0..n {
        sc.ds_offsets[v + 1] += sc.ds_offsets[v];
    }
    sc.ds_adj.clear();
    sc.ds_adj.resize(sc.ds_offsets[n] as usize, 0);
    sc.fill.clear();
    sc.fill.extend_from_slice(&sc.ds_offsets[..n]);
    for &b in aromatic_bonds {
        let bond = g.bonds[b as usize];
        let (s, d) = (bond.src as usize, bond.dst as usize);
        sc.ds_adj[sc.fill[s] as usize] = bond.dst;
        sc.fill[s] += 1;
        sc.ds_adj[sc.fill[d] as usize] = bond.src;
        sc.fill[d] += 1;
    }

    // Prune, then label the kept nodes 0, 1, 2, ... in atom order.
    sc.label.clear();
    sc.label.resize(n, NONE);
    sc.label_to_node.clear();
    for v in 0..n {
        if !sc.in_ds[v] {
            continue;
        }
        let degree = sc.ds_offsets[v + 1] - sc.ds_offsets[v];
        if !prune_from_ds(g, v, degree, sc.counts2[v])? {
            sc.label[v] = sc.label_to_node.len() as u32;
            sc.label_to_node.push(v as u32);
        }
    }
    sc.pruned_offsets.clear();
    sc.pruned_offsets.push(0);
    sc.pruned_adj.clear();
    for &v in &sc.label_to_node {
        let v = v as usize;
        for &w in &sc.ds_adj[sc.ds_offsets[v] as usize..sc.ds_offsets[v + 1] as usize] {
            let l = sc.label[w as usize];
            if l != NONE {
                sc.pruned_adj.push(l);
            }
        }
        sc.pruned_offsets.push(sc.pruned_adj.len() as u32);
    }
    let csr = Csr {
        offsets: &sc.pruned_offsets,
        adj: &sc.pruned_adj,
    };
    if !find_perfect_matching(&csr, &mut sc.matching, &mut sc.matcher) {
        return Err(KekuleError::NoMatching);
    }

    // De-aromatize, then place the double bonds.
    for &b in aromatic_bonds {
        g.set_order(b, SINGLE);
    }
    for v in 0..n {
        if sc.in_ds[v] {
            g.atoms[v].aromatic = false;
        }
    }
    for (i, &mate) in sc.matching.iter().enumerate() {
        let a = sc.label_to_node[i];
        let b = sc.label_to_node[mate as usize];
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        if let Some(id) = g.find_out(lo, hi) {
            g.set_order(id, DOUBLE);
        }
    }
    Ok(())
}

/// `_prune_from_ds`: whether atom `v` (with `degree` aromatic bonds and doubled total bond order
/// `counts2`) cannot take part in a double bond.
fn prune_from_ds(g: &MolGraph, v: usize, degree: u32, counts2: u32) -> Result<bool, KekuleError> {
    if degree == 0 {
        return Ok(true); // aromatic atom without aromatic bonds
    }
    let atom = &g.atoms[v];
    let (Some(valences), Some(valence_electrons)) = (
        atom.element.aromatic_valences(),
        atom.element.valence_electrons(),
    ) else {
        return Err(KekuleError::NotAromaticElement(v as u32));
    };
    // Each aromatic bond counts 1.5; treat them as single bonds.
    let mut used = (counts2 as i64 - degree as i64) / 2;
    let Some(h) = atom.h_count else {
        return Ok(valences.iter().any(|&x| used == x as i64));
    };
    let charge = atom.charge as i64;
    let h = h as i64;
    let valence = *valences.last().unwrap_or(&0) as i64 - charge;
    used += h;
    let bound = charge.max(0) + h + (counts2 / 2) as i64 + (counts2 % 2) as i64;
    let radical = (valence_electrons as i64 - bound).max(0) % 2;
    let free = valence - used - radical;
    if valences.iter().any(|&x| used == x as i64 - charge) {
        return Ok(true);
    }
    Ok(!(free >= 0 && free % 2 != 0))
}
