#!/usr/bin/env python3
"""Golden files for chemlm-atoms' structure files (crates/chemlm-atoms/src/io, src/elements.rs).

Reference: ASE (ase.io.extxyz read/write, ase.data), numpy for the sGDML .npz, the csv module
for QM9. Writes crates/chemlm-atoms/tests/golden/io/:

  elements.json           ase.data.chemical_symbols[1:119] and atomic_masses[1:119] (exact reprs).
  ase_molecule.extxyz     written by ASE: 3 rattled ethanol frames, SinglePointCalculator
                          energy + forces, info keys of every type (str with spaces, int, float,
                          bool, int/float/bool arrays), velocities on the last frame (-> momenta).
  ase_periodic.extxyz     written by ASE: a triclinic 3-atom cell with pbc (T, T, F), tags and
                          initial charges as extra per-atom columns, energy + forces; and a fully
                          periodic diamond Si cell.
  handwritten.extxyz      text from this script that ASE reads: Z:I:1 instead of species,
                          {}-quoted and escaped values, bare keys, uid, an integer energy, Lattice
                          without pbc (-> periodic), True/False words, REF_energy + REF_forces.
  plain.xyz               plain XYZ: free-text comment, no Properties; a second frame with an empty
                          comment and upper-case symbols.
  ase_read.json           what ASE reads from the four files above, per frame.
  small.npz / small.json  an sGDML-like archive written by np.savez_compressed (deflated
                          members): R Fortran-ordered (4 frames, 3 atoms), z int64, E of shape
                          (4,), F with a NaN in frame 2, unicode 'name' and bytes 'theory'
                          scalars; the JSON holds the arrays in C order as numpy reads them.
  chemlm_written.ase.json what ASE reads from chemlm_written.extxyz, a file written by chemlm's
                          writer (committed; the Rust test io_golden.rs checks it is byte-identical
                          to what the writer produces now, and re-creates it when
                          CHEMLM_BLESS_GOLDEN=1).
  data_summary.json       (only when CHEMLM_DATA_DIR is set) spot values of the shared data files:
                          aspirin .npz and .extxyz.gz frames 0, 1, 500, 999 as numpy / ASE read
                          them (raw kcal/mol numbers), glucose .npz frame 0 and 2999, QM9 rows 0,
                          1, 2 and 999 of qm9_xyz.csv.gz (raw Hartree).

Per frame: numbers, positions (A), cell (rows, or null when ASE's cell is all zero), pbc,
energy and forces as ASE's calculator holds them (same units as the file), velocities in A/fs
(atoms.get_velocities() * units.fs, or null), info with a type tag per value, and the names of
the per-atom arrays ASE kept.

Run (the second run adds chemlm_written.ase.json after the Rust test has written the file):
  python3 scripts/gen_atoms_io_golden.py
  CHEMLM_BLESS_GOLDEN=1 cargo test -p chemlm-atoms --test io_golden
  CHEMLM_DATA_DIR=/work/shared/data python3 scripts/gen_atoms_io_golden.py
"""
import csv
import gzip
import json
import os
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.build import bulk, molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import atomic_masses, chemical_symbols
from ase.io import read, write

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "chemlm-atoms" / "tests" / "golden" / "io"


def tagged(v):
    """A JSON value with its ASE type, so the Rust test can check typing, not only values."""
    if isinstance(v, (bool, np.bool_)):
        return {"type": "bool", "value": bool(v)}
    if isinstance(v, (int, np.integer)):
        return {"type": "int", "value": int(v)}
    if isinstance(v, (float, np.floating)):
        return {"type": "float", "value": float(v)}
    if isinstance(v, str):
        return {"type": "str", "value": v}
    if isinstance(v, (list, np.ndarray)):
        a = np.asarray(v)
        flat = a.reshape(-1, order="F") if a.ndim == 2 else a.reshape(-1)
        kind = {"b": "bools", "i": "ints", "u": "ints", "f": "floats"}[a.dtype.kind]
        conv = {"bools": bool, "ints": int, "floats": float}[kind]
        return {"type": kind, "value": [conv(x) for x in flat]}
    raise TypeError(f"untagged {type(v)}")


def frame_json(atoms):
    calc = atoms.calc
    results = dict(calc.results) if calc is not None else {}
    energy = results.pop("energy", None)
    forces = results.pop("forces", None)
    info = {k: tagged(v) for k, v in atoms.info.items()}
    # per-config results other than energy (e.g. free_energy) live in ASE's calculator
    for k, v in results.items():
        if k in ("stress", "energies", "stresses", "charges", "magmoms"):
            continue
        info[k] = tagged(v)
    has_momenta = "momenta" in atoms.arrays
    return {
        "numbers": [int(z) for z in atoms.numbers],
        "positions": atoms.positions.tolist(),
        "cell": atoms.cell.array.tolist() if atoms.cell.any() else None,
        "pbc": [bool(p) for p in atoms.pbc],
        "energy": None if energy is None else float(energy),
        "forces": None if forces is None else np.asarray(forces).tolist(),
        "velocities": (atoms.get_velocities() * units.fs).tolist() if has_momenta else None,
        "info": info,
        "arrays": sorted(k for k in atoms.arrays if k not in ("numbers", "positions")),
    }


def read_all(path):
    return [frame_json(a) for a in read(path, index=":", format="extxyz")]


def molecule_frames():
    frames = []
    for i in range(3):
        m = molecule("CH3CH2OH")
        m.rattle(stdev=0.05, seed=10 + i)
        rng = np.random.default_rng(100 + i)
        m.info["name"] = f"ethanol frame {i}"
        m.info["step"] = i
        m.info["temperature"] = 300.25 + i
        m.info["converged"] = i != 1
        m.info["ids"] = np.array([1, 2, 3 + i])
        m.info["weights"] = np.array([0.5, 1.25, -3.0e-5])
        m.info["mask"] = np.array([True, False, True])
        if i == 2:
            m.set_velocities(rng.normal(scale=0.01, size=(len(m), 3)))
        m.calc = SinglePointCalculator(
            m,
            energy=-1000.123456789 * (1 + 0.001 * i),
            forces=rng.normal(size=(len(m), 3)),
        )
        frames.append(m)
    return frames


def periodic_frames():
    tri = Atoms(
        "CNO",
        scaled_positions=[[0.1, 0.2, 0.3], [0.6, 0.5, 0.9], [0.95, 0.05, 0.45]],
        cell=[[2.1, 0.0, 0.0], [0.8, 1.9, 0.0], [-0.6, 0.5, 2.3]],
        pbc=[True, True, False],
    )
    tri.rattle(stdev=0.02, seed=3)
    tri.set_tags([1, 0, 2])
    tri.set_initial_charges([0.5, -0.25, -0.25])
    rng = np.random.default_rng(7)
    tri.calc = SinglePointCalculator(tri, energy=-12.5, forces=rng.normal(size=(3, 3)))
    si = bulk("Si", "diamond", a=5.43)
    si.rattle(stdev=0.01, seed=4)
    si.info["config_type"] = "bulk"
    si.calc = SinglePointCalculator(si, energy=-10.8, forces=rng.normal(size=(2, 3)))
    return [tri, si]


HANDWRITTEN = """\
2
Properties=Z:I:1:pos:R:3 energy=-5 label={a b c} quoted="say \\"hi\\"" bare uid=0123 flag=True off=FALSE vec=[1.5,2,3]
8 0.0 0.0 0.119262
1 0.0 0.763239 -0.477047
3
Lattice="4.0 0.0 0.0 1.0 4.0 0.0 0.0 0.5 4.0" Properties=species:S:1:pos:R:3:REF_forces:R:3 REF_energy=-7.25 note='single quoted'
cl 0.1 0.2 0.3 0.01 0.02 0.03
Na 2.0 2.0 2.0 -0.01 0.0 0.5
NA 1.0 3.0 1.0 0.0 -0.02 -0.53
"""

PLAIN = """\
3
water molecule from a plain xyz file
O 0.000000 0.000000 0.119262
H 0.000000 0.763239 -0.477047
H 0.000000 -0.763239 -0.477047
2

C 0.0 0.0 0.0
O 0.0 0.0 1.128
"""


def small_npz():
    rng = np.random.default_rng(42)
    R = np.asfortranarray(rng.normal(size=(4, 3, 3)))
    assert R.flags.f_contiguous and not R.flags.c_contiguous
    F = rng.normal(size=(4, 3, 3))
    F[2, 1, 0] = np.nan
    E = rng.normal(size=(4,)) * 10 - 5000
    z = np.array([8, 1, 1], dtype=np.int64)
    np.savez_compressed(OUT / "small.npz", R=R, z=z, E=E, F=F,
                        name=np.array("water test"), theory=np.array(b"none"))
    d = np.load(OUT / "small.npz")
    assert d["R"].dtype == np.float64
    (OUT / "small.json").write_text(json.dumps({
        "R": d["R"].tolist(), "z": d["z"].tolist(), "E": d["E"].tolist(),
        "F": np.nan_to_num(d["F"], nan=0.0).tolist(), "bad_frames": [2],
    }) + "\n")


def data_summary(data):
    out = {}
    ff = data / "forcefield"
    d = np.load(ff / "aspirin_ccsd-train.npz")
    frames = [0, 1, 500, 999]
    out["aspirin_npz"] = {
        "n_frames": int(d["R"].shape[0]),
        "z": [int(z) for z in d["z"]],
        "frames": {
            str(i): {
                "E": float(np.ravel(d["E"][i])[0]),
                "R": d["R"][i].tolist(),
                "F": d["F"][i].tolist(),
            }
            for i in frames
        },
    }
    images = read(ff / "aspirin_ccsd-train.extxyz.gz", index=":", format="extxyz")
    out["aspirin_extxyz"] = {
        "n_frames": len(images),
        "comment_keys": sorted(images[0].info),
        "energy_unit": images[0].info.get("energy_unit"),
        "frames": {
            str(i): {
                "E": float(images[i].get_potential_energy()),
                "R": images[i].positions.tolist(),
                "F": images[i].get_forces().tolist(),
            }
            for i in frames
        },
    }
    g = np.load(ff / "glucose_alpha.npz")
    last = g["R"].shape[0] - 1
    out["glucose_npz"] = {
        "n_frames": int(g["R"].shape[0]),
        "z": [int(z) for z in g["z"]],
        "frames": {
            str(i): {"E": float(np.ravel(g["E"][i])[0]), "R": g["R"][i].tolist(), "F": g["F"][i].tolist()}
            for i in (0, last)
        },
    }
    rows = {}
    with gzip.open(data / "qm9" / "qm9_xyz.csv.gz", "rt", newline="") as f:
        for k, row in enumerate(csv.DictReader(f)):
            if k in (0, 1, 2, 999):
                xyz = [float(x) for x in row["xyz_angstrom"].split()]
                rows[str(k)] = {
                    "gdb_idx": int(row["gdb_idx"]),
                    "smiles": row["smiles"],
                    "symbols": row["elements"].split(),
                    "positions": [xyz[i:i + 3] for i in range(0, len(xyz), 3)],
                    "u0": float(row["u0"]),
                    "gap": float(row["gap"]),
                }
            if k >= 999:
                break
    out["qm9"] = rows
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "elements.json").write_text(json.dumps({
        "symbols": chemical_symbols[1:119],
        "masses": [float(m) for m in atomic_masses[1:119]],
    }) + "\n")

    write(OUT / "ase_molecule.extxyz", molecule_frames(), format="extxyz")
    write(OUT / "ase_periodic.extxyz", periodic_frames(), format="extxyz")
    (OUT / "handwritten.extxyz").write_text(HANDWRITTEN)
    (OUT / "plain.xyz").write_text(PLAIN)

    small_npz()

    golden = {name: read_all(OUT / name) for name in (
        "ase_molecule.extxyz", "ase_periodic.extxyz", "handwritten.extxyz", "plain.xyz")}
    (OUT / "ase_read.json").write_text(json.dumps(golden, indent=1) + "\n")

    ours = OUT / "chemlm_written.extxyz"
    if ours.exists():
        (OUT / "chemlm_written.ase.json").write_text(json.dumps(read_all(ours), indent=1) + "\n")
    else:
        print(f"{ours} missing: run CHEMLM_BLESS_GOLDEN=1 cargo test -p chemlm-atoms --test io_golden, then this again")

    data = os.environ.get("CHEMLM_DATA_DIR")
    if data:
        (OUT / "data_summary.json").write_text(json.dumps(data_summary(Path(data))) + "\n")
    else:
        print("CHEMLM_DATA_DIR not set: data_summary.json not written")
    for p in sorted(OUT.iterdir()):
        print(f"{p.stat().st_size:8d}  {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
