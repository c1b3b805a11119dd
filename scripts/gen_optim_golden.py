#!/usr/bin/env python3
"""Golden values for chemlm-train's optimizers, gradient clipping and LR schedules.

References:
  * AdamW: torch.optim.AdamW (single-tensor path, float32), weight decay in a separate param group
    for the parameters chemlm's decay rule selects.
  * LAMB: You et al. 2019 ("Large Batch Optimization for Deep Learning", Algorithm 2) written
    here in torch float32: bias-corrected Adam direction + decoupled decay, per-tensor trust
    ratio ||w|| / ||u|| (1 when a norm is 0).
  * Clipping: torch.nn.utils.clip_grad_norm_.
  * Schedules: transformers' get_{constant,linear,cosine}_schedule_with_warmup (LambdaLR).

Run:  pip install torch transformers && python scripts/gen_optim_golden.py
Writes crates/chemlm-train/tests/golden/optim.json.
"""
import json
import math
import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "crates/chemlm-train/tests/golden/optim.json"
STEPS = 6
LRS = [1e-2, 2e-2, 3e-2, 2.5e-2, 1e-2, 5e-3]
BETAS = (0.9, 0.999)
WD = 0.1

rng = np.random.default_rng(20240601)
# name, shape, decay (what chemlm's DecayRule says for this name and rank)
SPECS = [
    ("encoder.layer.0.dense.weight", (3, 4), True),
    ("encoder.layer.0.dense.bias", (4,), False),
    ("embeddings.word_embeddings.weight", (5, 2), False),
    ("encoder.layer.0.LayerNorm.weight", (4,), False),
]
init = [rng.normal(size=s).astype(np.float32) for _, s, _ in SPECS]
init[3] = np.ones(4, dtype=np.float32)  # a LayerNorm gain
grads = []
for step in range(STEPS):
    row = []
    for i, (_, s, _) in enumerate(SPECS):
        if step == 3 and i == 2:
            row.append(None)  # embedding not touched this step: no update, no state advance
        else:
            row.append((rng.normal(size=s) * (0.5 + step)).astype(np.float32))
    grads.append(row)


def flat(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def run_adamw(eps):
    ps = [torch.nn.Parameter(torch.tensor(x)) for x in init]
    decay = [p for p, (_, _, d) in zip(ps, SPECS) if d]
    nodecay = [p for p, (_, _, d) in zip(ps, SPECS) if not d]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WD}, {"params": nodecay, "weight_decay": 0.0}],
        lr=LRS[0], betas=BETAS, eps=eps, foreach=False,
    )
    after = []
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = LRS[step]
        for p, g in zip(ps, grads[step]):
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
        after.append([flat(p.detach().numpy()) for p in ps])
    return after


def run_lamb(eps):
    ws = [torch.tensor(x) for x in init]
    m = [torch.zeros_like(w) for w in ws]
    v = [torch.zeros_like(w) for w in ws]
    t = [0 for _ in ws]
    b1, b2 = BETAS
    after = []
    for step in range(STEPS):
        lr = LRS[step]
        for i, (w, (_, _, d)) in enumerate(zip(ws, SPECS)):
            g = grads[step][i]
            if g is None:
                continue
            g = torch.tensor(g)
            t[i] += 1
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat = m[i] / (1 - b1 ** t[i])
            v_hat = v[i] / (1 - b2 ** t[i])
            u = m_hat / (v_hat.sqrt() + eps)
            if d:
                u = u + WD * w
            wn = float(w.norm())
            un = float(u.norm())
            trust = wn / un if wn > 0 and un > 0 else 1.0
            ws[i] = w - lr * trust * u
        after.append([flat(w.numpy()) for w in ws])
    return after


def clip_case():
    gs = [torch.tensor(g) for g in grads[2] if g is not None]
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in gs]
    for p, g in zip(params, gs):
        p.grad = g.clone()
    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm=1.0))
    return {
        "max_norm": 1.0,
        "grads": [flat(g) for g in gs],
        "shapes": [list(g.shape) for g in gs],
        "norm": norm,
        "clipped": [flat(p.grad) for p in params],
    }


def schedules():
    from transformers import (
        get_constant_schedule_with_warmup,
        get_cosine_schedule_with_warmup,
        get_linear_schedule_with_warmup,
    )

    out = []
    for kind, warmup, total in [("linear", 10, 50), ("cosine", 10, 50), ("constant", 7, 30), ("cosine", 0, 20)]:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=3e-4)
        if kind == "linear":
            sch = get_linear_schedule_with_warmup(opt, warmup, total)
        elif kind == "cosine":
            sch = get_cosine_schedule_with_warmup(opt, warmup, total)
        else:
            sch = get_constant_schedule_with_warmup(opt, warmup)
        lrs = []
        for _ in range(total + 1):
            lrs.append(opt.param_groups[0]["lr"])  # the lr the next update uses
            opt.step()
            sch.step()
        out.append({"kind": kind, "peak_lr": 3e-4, "warmup": warmup, "total": total, "lrs": lrs})
    return out


golden = {
    "generator": f"scripts/gen_optim_golden.py (torch {torch.__version__})",
    "params": [
        {"name": n, "shape": list(s), "decay": d, "init": flat(x)} for (n, s, d), x in zip(SPECS, init)
    ],
    "grads": [[None if g is None else flat(g) for g in row] for row in grads],
    "lrs": LRS,
    "beta1": BETAS[0],
    "beta2": BETAS[1],
    "weight_decay": WD,
    "adamw": {"eps": 1e-8, "after": run_adamw(1e-8)},
    "lamb": {"eps": 1e-6, "after": run_lamb(1e-6)},
    "clip": clip_case(),
    "schedules": schedules(),
}
OUT.parent.mkdir(parents=True, exist_ok=True)
# One line per top-level key keeps the file short and diffable.
body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in golden.items())
OUT.write_text("{\n" + body + "\n}\n")
print(f"wrote {OUT}")
