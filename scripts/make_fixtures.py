#!/usr/bin/env python3
"""Builds the small committed fixtures under fixtures/ (deterministic).

Sources allowed for committed fixtures: molecules written by hand, and the PyPI-shipped MOSES
(molsets==0.3.1) and QM9 (qm9pack==1.0.3) sets found under $CHEMLM_DATA_DIR (default ../shared/data).

    python3 scripts/make_fixtures.py
"""
import gzip
import os
import random

DATA = os.environ.get("CHEMLM_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures")

# Hand-written lines that must be reported, not silently dropped, by every batch command.
BAD = [
    "C1CC",          # unclosed ring
    "c1cccc1",       # aromatic ring that cannot be kekulized
    "C(C(C",         # unbalanced branches
]


def moses_sample(n, seed):
    with gzip.open(os.path.join(DATA, "moses", "train.csv.gz"), "rt") as f:
        next(f)  # header
        rows = [line.strip() for line in f]
    rng = random.Random(seed)
    return rng.sample(rows, n)


def qm9_sample(n, seed):
    """`n` random QM9 rows (qm9pack, PyPI) with SMILES and the HOMO, LUMO and gap (Hartree)."""
    with gzip.open(os.path.join(DATA, "molnet", "qm9.csv.gz"), "rt") as f:
        header = next(f).strip().split(",")
        rows = [line.strip().split(",") for line in f]
    cols = [header.index(c) for c in ("smiles", "homo", "lumo", "gap")]
    rng = random.Random(seed)
    return [[r[c] for c in cols] for r in rng.sample(rows, n)]


def qm9_geometry_sample(n, seed, include=("62509",)):
    """`n` random rows of the QM9 geometry table (qm9pack, PyPI), plus the rows whose gdb_idx is in
    `include` (MoLFormer's Figure 4 molecule), in file order, with the header."""
    with gzip.open(os.path.join(DATA, "qm9", "qm9_xyz.csv.gz"), "rt") as f:
        header = next(f)
        rows = list(f)
    rng = random.Random(seed)
    picked = set(rng.sample(range(len(rows)), n))
    picked |= {i for i, r in enumerate(rows) if r.split(",", 1)[0] in include}
    return header, [rows[i] for i in sorted(picked)]


def main():
    os.makedirs(OUT, exist_ok=True)
    # The labelled set of the README's quickstart (fine-tuning a regression head on the gap).
    qm9 = qm9_sample(300, seed=20261121)
    path = os.path.join(OUT, "qm9-mini.csv")
    with open(path, "w") as f:
        f.write("smiles,homo,lumo,gap\n")
        f.write("".join(",".join(r) + "\n" for r in qm9))
    print(f"wrote {path}: {len(qm9)} QM9 molecules (smiles, homo, lumo, gap in Hartree)")
    # Geometries for `chemlm analyze attention` tests (SMILES <-> atom matching, statistics).
    header, rows = qm9_geometry_sample(40, seed=20261205)
    path = os.path.join(OUT, "qm9-xyz-mini.csv")
    with open(path, "w") as f:
        f.write(header + "".join(rows))
    print(f"wrote {path}: {len(rows)} QM9 molecules with DFT geometries")
    mols = moses_sample(300, seed=20261121)
    # Put the bad lines at fixed places so line numbers in reports are predictable.
    for pos, bad in zip((10, 100, 200), BAD):
        mols.insert(pos, bad)
    path = os.path.join(OUT, "moses-mini.smi")
    with open(path, "w") as f:
        f.write("\n".join(mols) + "\n")
    print(f"wrote {path}: {len(mols)} lines ({len(BAD)} deliberately invalid at lines 11, 101, 201)")


if __name__ == "__main__":
    main()
