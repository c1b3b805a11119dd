#!/usr/bin/env python3
"""Golden file for `chemlm analyze attention` (crates/chemlm-analysis/tests/golden/attention.json).

For every molecule of fixtures/qm9-xyz-mini.csv, from RDKit and SciPy (the references):
* RDKit's canonical SMILES and its topological distance matrix (`Chem.GetDistanceMatrix`);
* RDKit's own SMILES -> geometry matching: bonds perceived from the xyz block
  (`rdDetermineBonds.DetermineConnectivity`), hydrogens removed, the SMILES graph matched as a
  substructure; the 3-D distances between matched atoms, grouped by topological distance and sorted
  (a grouping every valid matching gives, whichever symmetric atom it picks);
* a seeded random attention map, symmetrised with a zero diagonal as MoLFormer's notebooks do, with
  the cosine similarity to each class (1, 2, 3, 4+ bonds) by NumPy and the Spearman correlation with
  the matched 3-D distances over pairs i < j by `scipy.stats.spearmanr`.

    pip install rdkit numpy scipy && python3 scripts/gen_attention_golden.py
"""
import csv
import json
import os

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import rdDetermineBonds
from scipy.stats import spearmanr

RDLogger.DisableLog("rdApp.*")
ROOT = os.path.join(os.path.dirname(__file__), "..")
FIXTURE = os.path.join(ROOT, "fixtures", "qm9-xyz-mini.csv")
OUT = os.path.join(ROOT, "crates", "chemlm-analysis", "tests", "golden", "attention.json")


def classes(topo):
    c = np.full(topo.shape, 3, dtype=int)
    for d in (1, 2, 3):
        c[topo == d] = d - 1
    np.fill_diagonal(c, -1)
    return c


def main():
    rng = np.random.default_rng(20261205)
    cases = []
    with open(FIXTURE) as f:
        for row in csv.DictReader(f):
            smiles = Chem.MolToSmiles(Chem.MolFromSmiles(row["smiles"]))
            mol = Chem.MolFromSmiles(smiles)
            n = mol.GetNumAtoms()
            topo = Chem.GetDistanceMatrix(mol).astype(int)
            els = row["elements"].split()
            xyz = np.array([float(v) for v in row["xyz_angstrom"].split()]).reshape(-1, 3)
            block = f"{len(els)}\n\n" + "".join(
                f"{e} {x:.10f} {y:.10f} {z:.10f}\n" for e, (x, y, z) in zip(els, xyz)
            )
            geo = Chem.MolFromXYZBlock(block)
            rdDetermineBonds.DetermineConnectivity(geo)
            heavy = [a.GetIdx() for a in geo.GetAtoms() if a.GetAtomicNum() > 1]
            geo_heavy = Chem.RemoveHs(geo, sanitize=False)
            # Plain graph matching: the xyz molecule has single bonds only, so compare atoms and
            # connectivity, not bond orders or aromaticity.
            query = Chem.RWMol(mol)
            for b in query.GetBonds():
                b.SetBondType(Chem.BondType.SINGLE)
                b.SetIsAromatic(False)
            for a in query.GetAtoms():
                a.SetIsAromatic(False)
                a.SetFormalCharge(0)
                a.SetNoImplicit(True)
            params = Chem.AdjustQueryParameters.NoAdjustments()
            q = Chem.AdjustQueryProperties(query.GetMol(), params)
            match = geo_heavy.GetSubstructMatch(q, useChirality=False) if n >= 2 else tuple(range(n))
            case = {"id": row["gdb_idx"], "smiles": row["smiles"], "canonical": smiles, "atoms": n,
                    "bonds_apart": topo.tolist(), "matched": len(match) == n}
            if len(match) == n and n >= 3:
                pos = xyz[[heavy[m] for m in match]]
                dist = np.round(np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1), 6)
                cls = classes(topo)
                case["distances_by_class"] = [sorted(dist[cls == c].tolist()) for c in range(4)]
                raw = np.round(rng.random((n, n)), 4)
                sym = (raw + raw.T) / 2
                np.fill_diagonal(sym, 0.0)
                cos = []
                for c in range(4):
                    ind = (cls == c).astype(float)
                    denom = np.linalg.norm(sym) * np.linalg.norm(ind)
                    cos.append(float((sym * ind).sum() / denom) if denom > 0 else None)
                iu = np.triu_indices(n, 1)
                rho = spearmanr(sym[iu], dist[iu]).statistic
                case.update({"raw_map": raw.tolist(), "distances": dist.tolist(), "cosine": cos,
                             "spearman": float(rho)})
            cases.append(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"rdkit": Chem.rdBase.rdkitVersion, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    matched = sum(c["matched"] for c in cases)
    print(f"wrote {OUT}: {len(cases)} molecules, {matched} matched by RDKit")


if __name__ == "__main__":
    main()
