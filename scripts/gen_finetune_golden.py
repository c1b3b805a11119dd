#!/usr/bin/env python3
"""Golden values for chemlm-train's fine-tuning losses and head (issue 4).

References (torch, float32):
  * masked BCE: torch.nn.BCEWithLogitsLoss(reduction="none") averaged over labelled entries only
    (what chemprop / MoLFormer do for Tox21-style missing labels), and its gradient w.r.t. the
    logits from autograd;
  * masked L1 / MSE: |d| and d^2 averaged over labelled entries, with gradients;
  * the head without dropout: Linear -> exact (erf) GELU -> Linear, as torch.nn.functional.

Run:  pip install torch && python scripts/gen_finetune_golden.py
Writes crates/chemlm-train/tests/golden/finetune.json.
"""
import json
import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "crates/chemlm-train/tests/golden/finetune.json"
rng = np.random.default_rng(20261121)

B, T = 5, 3
logits = (rng.normal(size=(B, T)) * 3).astype(np.float32)
logits[0, 0] = 40.0  # large magnitudes exercise the stable form
logits[1, 1] = -35.0
targets = rng.integers(0, 2, size=(B, T)).astype(np.float32)
mask = (rng.random(size=(B, T)) > 0.35).astype(np.float32)
mask[0, 0] = 1.0
mask[1, 1] = 1.0
# Missing entries carry garbage targets: they must not matter.
targets_with_garbage = np.where(mask > 0, targets, 7.0).astype(np.float32)


def masked(per, m):
    return (per * m).sum() / m.sum()


z = torch.tensor(logits, requires_grad=True)
bce = masked(
    torch.nn.BCEWithLogitsLoss(reduction="none")(z, torch.tensor(np.where(mask > 0, targets, 0.0).astype(np.float32))),
    torch.tensor(mask),
)
bce.backward()

pred = (rng.normal(size=(B, T))).astype(np.float32)
y = (rng.normal(size=(B, T))).astype(np.float32)
out = {}
for name, fn in [("l1", lambda d: d.abs()), ("mse", lambda d: d * d)]:
    p = torch.tensor(pred, requires_grad=True)
    loss = masked(fn(p - torch.tensor(y)), torch.tensor(mask))
    loss.backward()
    out[name] = {"loss": float(loss.detach()), "grad": p.grad.numpy().tolist()}

n_in, hidden, n_out = 4, 6, 3
x = rng.normal(size=(B, n_in)).astype(np.float32)
w1 = rng.normal(size=(hidden, n_in)).astype(np.float32) * 0.5
b1 = rng.normal(size=(1, hidden)).astype(np.float32) * 0.1
w2 = rng.normal(size=(n_out, hidden)).astype(np.float32) * 0.5
b2 = rng.normal(size=(1, n_out)).astype(np.float32) * 0.1
h = torch.nn.functional.gelu(torch.tensor(x) @ torch.tensor(w1).T + torch.tensor(b1))
head_out = h @ torch.tensor(w2).T + torch.tensor(b2)

golden = {
    "shape": [B, T],
    "logits": logits.tolist(),
    "targets_with_garbage": targets_with_garbage.tolist(),
    "mask": mask.tolist(),
    "bce": float(bce.detach()),
    "bce_grad": z.grad.numpy().tolist(),
    "pred": pred.tolist(),
    "y": y.tolist(),
    "l1": out["l1"],
    "mse": out["mse"],
    "head": {
        "x": x.tolist(),
        "w1": w1.tolist(),
        "b1": b1.tolist(),
        "w2": w2.tolist(),
        "b2": b2.tolist(),
        "out": head_out.numpy().tolist(),
    },
    "torch": torch.__version__,
}
OUT.write_text(json.dumps(golden, indent=1) + "\n")
print("wrote", OUT)
