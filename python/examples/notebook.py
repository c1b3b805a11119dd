"""chemlm from Python, notebook style: load a model, embed molecules, fit a scikit-learn model on
the embeddings, compare with fingerprints, predict with the fine-tuned run, screen a library.

Run after the README's quickstart (it makes the models this uses), from the repository root:

    cargo run --release -p chemlm -- quickstart --out runs/quickstart
    pip install ./python scikit-learn pandas
    python python/examples/notebook.py [QUICKSTART_DIR]
"""

# %% Setup
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error

import chemlm

QUICKSTART = sys.argv[1] if len(sys.argv) > 1 else "runs/quickstart"  # the quickstart's --out
qm9 = pd.read_csv("fixtures/qm9-mini.csv")  # 300 QM9 molecules with HOMO/LUMO/gap (Hartree)
rng = np.random.default_rng(0)
test = rng.random(len(qm9)) < 0.2
print(f"{len(qm9)} molecules, {test.sum()} held out")

# %% Embeddings of the pretrained MoLFormer (mean of the final hidden states)
model = chemlm.Model.load(f"{QUICKSTART}/pretrain/model")
print(model, model.info()["parameters"])
X_lm = model.embed(qm9.smiles.tolist(), canonicalize=True)
print("embeddings", X_lm.shape, X_lm.dtype)

# %% A ridge regression on embeddings vs on ECFP4 counts
X_fp = chemlm.fingerprint(qm9.smiles.tolist(), radius=2, n_bits=2048, counts=True)
y = qm9.gap.to_numpy()
for name, X in (("MoLFormer embedding", X_lm), ("ECFP4 counts", X_fp)):
    ok = ~np.isnan(X).any(axis=1)
    fit = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X[ok & ~test], y[ok & ~test])
    mae = mean_absolute_error(y[ok & test], fit.predict(X[ok & test]))
    print(f"{name:22} test MAE {mae * 27.2114:.3f} eV")

# %% The fine-tuned run (first seed's best model) predicts new molecules directly
# (it saw all of qm9-mini in its own train/valid/test split, so score it on its run's test set,
# results.md, not on the held-out rows above)
run = chemlm.Model.load(f"{QUICKSTART}/finetune")
new = [l.split()[0] for l in open("fixtures/moses-mini.smi")][:5]
pred = run.predict(new)
print(pd.DataFrame({"smiles": new, f"predicted {run.info()['tasks'][0]} (Ha)": pred[:, 0]}).to_string(index=False))

# %% Screen the MOSES fixture for molecules like two actives, into a DataFrame
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the fixture carries three deliberately bad lines
    hits = chemlm.screen("fixtures/moses-mini.smi", ["CC(=O)Oc1ccccc1C(=O)O aspirin", "c1ccc2[nH]ccc2c1 indole"], top=5)
print(pd.DataFrame(hits).to_string(index=False))

# %% SELFIES, the drop-in way
import chemlm.selfies as sf

s = sf.encoder("c1ccccc1O")
print(s, "->", sf.decoder(s), "| symbols:", sf.len_selfies(s))
