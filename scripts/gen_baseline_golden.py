#!/usr/bin/env python3
"""Golden file for the ECFP baselines (crates/chemlm-train/src/baselines).

Molecules: the first 160 valid SMILES of fixtures/moses-mini.smi (MOSES train, PyPI-shipped).
Features: RDKit Morgan radius 2, 2048 bits, stored as on-bit lists, so the Rust test checks the
solvers independently of the fingerprint code. Labels are synthetic, computed from the molecule:
  task "ring_n"  = has an aromatic ring nitrogen (classification),
  task "halogen" = has F/Cl/Br/I (classification), every 5th row missing (tests masking),
  target "logp"  = Crippen MolLogP (regression).
References: sklearn LogisticRegression(C=1, solver='lbfgs') fitted per task on the labelled rows,
with tol tightened to 1e-12 so the reference is the exact optimum (the default tol=1e-4 stops
early), and Ridge(alpha=1) (closed form, fit_intercept=True).

Usage: python3 scripts/gen_baseline_golden.py > crates/chemlm-train/tests/golden/baselines.json
"""
import json
import sys
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem import Crippen, rdFingerprintGenerator
from sklearn.linear_model import LogisticRegression, Ridge

ROOT = Path(__file__).resolve().parent.parent
N = 160
D = 2048

mols, smiles = [], []
for line in (ROOT / "fixtures" / "moses-mini.smi").read_text().splitlines():
    s = line.split()[0] if line.split() else ""
    m = Chem.MolFromSmiles(s) if s else None
    if m is None:
        continue
    mols.append(m)
    smiles.append(s)
    if len(mols) == N:
        break

gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=D)
bits = []
X = np.zeros((N, D))
for i, m in enumerate(mols):
    fp = gen.GetFingerprint(m)
    on = list(fp.GetOnBits())
    bits.append(on)
    X[i, on] = 1.0

ring_n = Chem.MolFromSmarts("[n]")
halo = Chem.MolFromSmarts("[F,Cl,Br,I]")
y_ring = [1.0 if m.HasSubstructMatch(ring_n) else 0.0 for m in mols]
y_hal = [None if i % 5 == 4 else (1.0 if m.HasSubstructMatch(halo) else 0.0) for i, m in enumerate(mols)]
logp = [Crippen.MolLogP(m) for m in mols]

tasks = []
for name, y in (("ring_n", y_ring), ("halogen", y_hal)):
    rows = [i for i, v in enumerate(y) if v is not None]
    clf = LogisticRegression(C=1.0, solver="lbfgs", max_iter=100000, tol=1e-12)
    clf.fit(X[rows], np.array([y[i] for i in rows]))
    tasks.append({
        "name": name,
        "labels": y,
        "coef": clf.coef_[0].tolist(),
        "intercept": float(clf.intercept_[0]),
        "proba": clf.predict_proba(X)[:, 1].tolist(),
    })

ridge = Ridge(alpha=1.0).fit(X, np.array(logp))
out = {
    "n": N,
    "n_bits": D,
    "smiles": smiles,
    "bits": bits,
    "logistic": tasks,
    "ridge": {
        "alpha": 1.0,
        "y": logp,
        "coef": ridge.coef_.tolist(),
        "intercept": float(ridge.intercept_),
        "pred": ridge.predict(X).tolist(),
    },
}
# One key per line keeps the file small in lines (the fixture rule) yet diffable.
sys.stdout.write("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in out.items()) + "\n}\n")
