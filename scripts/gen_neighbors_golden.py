#!/usr/bin/env python3
"""Golden files for chemlm-atoms' neighbour lists (crates/chemlm-atoms/src/neighbors.rs).

Reference: ASE's ase.neighborlist.neighbor_list('ijSd', atoms, cutoff), cross-checked against
vesin (a second, independent implementation) before anything is written. Cases:
  molecule   ethanol from ase.build.molecule('CH3CH2OH'), no cell;
  si_bulk    diamond Si, a=5.43, cubic cell repeated 2x2x2 (64 atoms), fully periodic;
  si_primitive  the 2-atom primitive (fcc, non-orthogonal) Si cell, cutoff 5 Å > its heights;
  triclinic  a small skewed 3-atom cell, cutoff larger than the cell (many images, an atom's
             own images included);
  slab       a 2x2x2 fcc Al (111) slab with vacuum, pbc (T, T, F);
  hex_mixed  a 2-atom hexagonal cell periodic along a only (T, F, F), cutoff > |a|.
Every structure is rattled with a fixed seed so no distance sits on the cutoff. Each case is
stored as numbers, positions, cell, pbc, cutoff and the (i, j, S, d) lists sorted by i, j, S.

Usage: python3 scripts/gen_neighbors_golden.py   (writes crates/chemlm-atoms/tests/golden/neighbors/)
"""
import json
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk, fcc111, molecule
from ase.neighborlist import neighbor_list

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "chemlm-atoms" / "tests" / "golden" / "neighbors"


def cases():
    mol = molecule("CH3CH2OH")
    mol.rattle(stdev=0.05, seed=1)
    yield "molecule", mol, 3.0

    si = bulk("Si", "diamond", a=5.43, cubic=True).repeat((2, 2, 2))
    si.rattle(stdev=0.05, seed=2)
    yield "si_bulk", si, 4.0

    prim = bulk("Si", "diamond", a=5.43)
    prim.rattle(stdev=0.05, seed=6)
    yield "si_primitive", prim, 5.0

    tri = Atoms(
        "CNO",
        scaled_positions=[[0.1, 0.2, 0.3], [0.6, 0.5, 0.9], [0.95, 0.05, 0.45]],
        cell=[[2.1, 0.0, 0.0], [0.8, 1.9, 0.0], [-0.6, 0.5, 2.3]],
        pbc=True,
    )
    tri.rattle(stdev=0.02, seed=3)
    # Move one atom out of the cell so that wrapping is exercised too.
    tri.positions[1] += tri.cell[0] * 2 - tri.cell[2]
    yield "triclinic", tri, 4.5

    slab = fcc111("Al", size=(2, 2, 2), vacuum=5.0)
    slab.rattle(stdev=0.05, seed=4)
    assert list(slab.pbc) == [True, True, False]
    yield "slab", slab, 5.0

    hexa = Atoms(
        "HeNe",
        positions=[[0.0, 0.0, 0.0], [0.7, 1.1, 0.4]],
        cell=[[1.6, 0.0, 0.0], [-0.8, 1.386, 0.0], [0.0, 0.0, 3.0]],
        pbc=[True, False, False],
    )
    hexa.rattle(stdev=0.02, seed=5)
    yield "hex_mixed", hexa, 3.7


def sorted_triples(i, j, S, d):
    order = np.lexsort((S[:, 2], S[:, 1], S[:, 0], j, i))
    return i[order], j[order], S[order], d[order]


def vesin_check(atoms, cutoff, ref):
    try:
        from vesin import NeighborList
    except ImportError:
        return False
    if not atoms.pbc.any():
        box = np.zeros((3, 3))
    else:
        box = atoms.cell.array
    i, j, S, d = NeighborList(cutoff=cutoff, full_list=True).compute(
        atoms.positions, box, list(atoms.pbc), quantities="ijSd"
    )
    got = sorted_triples(np.asarray(i), np.asarray(j), np.asarray(S), np.asarray(d))
    for a, b in zip(got[:3], ref[:3]):
        assert np.array_equal(a, b), "vesin and ASE disagree"
    assert np.allclose(got[3], ref[3], atol=1e-10)
    return True


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, atoms, cutoff in cases():
        i, j, S, d = neighbor_list("ijSd", atoms, cutoff)
        ref = sorted_triples(i, j, S, d)
        checked = vesin_check(atoms, cutoff, ref)
        periodic = bool(atoms.pbc.any())
        doc = {
            "name": name,
            "cutoff": cutoff,
            "numbers": atoms.numbers.tolist(),
            "positions": atoms.positions.tolist(),
            "cell": atoms.cell.array.tolist() if periodic else None,
            "pbc": [bool(p) for p in atoms.pbc],
            "i": ref[0].tolist(),
            "j": ref[1].tolist(),
            "S": ref[2].tolist(),
            "d": [round(float(x), 14) for x in ref[3]],
        }
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(atoms)} atoms, {len(ref[0])} edges"
              + (", vesin agrees" if checked else ""))


if __name__ == "__main__":
    main()
