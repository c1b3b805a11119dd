#!/usr/bin/env python3
"""Golden values of the MOSES generation metrics for crates/chemlm-train/tests/genmetrics_golden.rs.

Re-implements the formulas of the `molsets` package (moses/metrics/metrics.py, utils.py) with
RDKit + numpy + scipy on a small set: hand-written molecules (some invalid, some repeated) and
molecules from the MOSES train/test files (MOSES is shipped on PyPI as `molsets`).

Fragments: moses uses Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split('.'), dummies
labelled with the BRICS environment as an isotope ([4*]); chemlm reproduces those strings exactly.

Usage: CHEMLM_DATA_DIR=/abs/path/to/data python3 scripts/gen_genmetrics_golden.py
Writes crates/chemlm-train/tests/golden/genmetrics.json.
"""
import gzip
import json
import os
from collections import Counter

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import AllChem, Crippen, Descriptors
from rdkit.Chem.Scaffolds import MurckoScaffold
from scipy.stats import wasserstein_distance

RDLogger.DisableLog("rdApp.*")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ["CHEMLM_DATA_DIR"]


def moses_rows(name, start, n):
    with gzip.open(os.path.join(DATA, "moses", name), "rt") as f:
        rows = [l.strip() for l in f][1:]
    return rows[start:start + n]


def get_mol(s):
    if len(s) == 0:
        return None
    m = Chem.MolFromSmiles(s)
    if m is None:
        return None
    try:
        Chem.SanitizeMol(m)
    except ValueError:
        return None
    return m


def scaffold(m, min_rings=2):
    try:
        sc = MurckoScaffold.GetScaffoldForMol(m)
    except (ValueError, RuntimeError):
        return None
    n = sc.GetRingInfo().NumRings()
    s = Chem.MolToSmiles(sc)
    if s == "" or n < min_rings:
        return None
    return s


def fragments(m):
    # moses/metrics/utils.py `fragmenter`.
    fgs = AllChem.FragmentOnBRICSBonds(m)
    return Chem.MolToSmiles(fgs).split(".")


def cos_similarity(a, b):
    if len(a) == 0 or len(b) == 0:
        return None
    keys = sorted(set(a) | set(b))
    x = np.array([a.get(k, 0) for k in keys], dtype=float)
    y = np.array([b.get(k, 0) for k in keys], dtype=float)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def int_div(fps, p):
    arr = np.array([list(fp) for fp in fps], dtype=float)
    tp = arr @ arr.T
    s = arr.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = tp / (s[:, None] + s[None, :] - tp)
    jac[np.isnan(jac)] = 1
    jac = jac ** p
    agg = jac.mean(0) ** (1 / p)
    return float(1 - agg.mean())


def describe(s):
    m = get_mol(s)
    if m is None:
        return None
    return {
        "canonical": Chem.MolToSmiles(m),
        "scaffold": scaffold(m),
        "fragments": sorted(fragments(m)),
        "mw": Descriptors.MolWt(m),
        "logp": Crippen.MolLogP(m),
        "rings": Descriptors.RingCount(m),
    }


def stats(descs):
    sc = Counter(d["scaffold"] for d in descs if d["scaffold"] is not None)
    fr = Counter(f for d in descs for f in d["fragments"])
    return sc, fr


def main():
    train = moses_rows("train.csv.gz", 0, 40)
    test = moses_rows("test.csv.gz", 0, 60)
    hand = [
        "CC(=O)Oc1ccccc1C(=O)O",
        "c1ccc2ccccc2c1",
        "CCO",
        "CCN(CC)CC",
        "O=C(Nc1ccccc1)c1ccncc1",
        "C1CC",  # unclosed ring: invalid
        "",  # empty: invalid
        "Xx",  # not SMILES
        "c1ccc1C",  # cannot kekulize
        "C(C)(C)(C)(C)C",  # pentavalent carbon
        "OCC1OC(O)C(O)C(O)C1O",
        "Cc1ccc(S(=O)(=O)N2CCC(C(=O)N3CCCC3)CC2)cc1",
    ]
    generated = hand[:6] + train[:8] + test[:10] + hand[6:] + train[:3] + test[:2] + ["OCC", "c1ccccc1-c1ccccc1"]
    reference = test
    descs = [describe(s) for s in generated]
    valid = [d for d in descs if d is not None]
    canon = [d["canonical"] for d in valid]
    ref_descs = [describe(s) for s in reference]
    ref_valid = [d for d in ref_descs if d is not None]
    g_sc, g_fr = stats(valid)
    r_sc, r_fr = stats(ref_valid)
    fps = [AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(c), 2, nBits=1024) for c in canon]
    train_set = set(train)
    gen_set = set(canon)
    out = {
        "generated": generated,
        "reference": reference,
        "train": train,
        "molecules": descs,
        "valid": len(valid) / len(generated),
        "unique_at": {str(k): len(set(canon[:k])) / len(canon[:k]) for k in (5, 10, 20, len(canon))},
        "novelty": len(gen_set - train_set) / len(gen_set),
        "int_div1": int_div(fps, 1),
        "int_div2": int_div(fps, 2),
        "scaf": cos_similarity(r_sc, g_sc),
        "frag": cos_similarity(r_fr, g_fr),
        "w1_mw": float(wasserstein_distance([d["mw"] for d in valid], [d["mw"] for d in ref_valid])),
        "w1_logp": float(wasserstein_distance([d["logp"] for d in valid], [d["logp"] for d in ref_valid])),
        "w1_rings": float(wasserstein_distance([d["rings"] for d in valid], [d["rings"] for d in ref_valid])),
        "reference_fragments": sorted(r_fr.items()),
    }
    path = os.path.join(ROOT, "crates/chemlm-train/tests/golden/genmetrics.json")
    with open(path, "w") as f:
        # One top-level key per line: readable diffs, few lines.
        f.write("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in out.items()) + "\n}\n")
    print(f"wrote {path}: {len(valid)}/{len(generated)} valid")


if __name__ == "__main__":
    main()
