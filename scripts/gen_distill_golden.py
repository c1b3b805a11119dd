#!/usr/bin/env python3
"""Golden values for chemlm-train's distillation losses (crates/chemlm-train/src/distill/).

References, all in torch float64 on seeded random inputs:
  * soft-target KL: F.kl_div(F.log_softmax(s/T), F.log_softmax(t/T), log_target=True,
    reduction="sum") * T**2 (Hinton et al. 2015), value and gradient w.r.t. the student.
  * hidden-state MSE over real tokens: sum(m * (s - t)**2) / (sum(m) * dim).
  * Gram MMD (TextBrewer's hidden-state "mmd" loss): mean over real token pairs of
    (S S^T / d_S - T T^T / d_T)**2; widths may differ.
  * attention MSE over real (query, key) pairs; head-averaged maps when head counts differ.
  * task-stage loss: alpha * soft + (1 - alpha) * hard for multi-class (T^2 KL + CE), binary
    multi-task with missing labels (T^2 Bernoulli KL via F.kl_div on two-class log-probs + masked
    BCE via F.binary_cross_entropy_with_logits) and regression (MSE to teacher + masked MSE).

Run:  python scripts/gen_distill_golden.py
Writes crates/chemlm-train/tests/golden/distill.json.
"""
import json
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[1] / "crates/chemlm-train/tests/golden/distill.json"
g = torch.Generator().manual_seed(20261121)


def randn(*shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale)


def tolist(x):
    return x.detach().reshape(-1).tolist()


def kl_sum(s, t, T):
    return F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), log_target=True,
                    reduction="sum") * T * T


def hidden_mse(s, t, m):
    return ((s - t) ** 2 * m[..., None]).sum() / (m.sum() * s.shape[-1])


def gram_mmd(s, t, m):
    gs = s @ s.transpose(1, 2) / s.shape[-1]
    gt = t @ t.transpose(1, 2) / t.shape[-1]
    pm = m[:, :, None] * m[:, None, :]
    return ((gs - gt) ** 2 * pm).sum() / pm.sum()


def attention_mse(s, t, m):
    if s.shape[1] != t.shape[1]:
        s, t = s.mean(1, keepdim=True), t.mean(1, keepdim=True)
    pm = (m[:, :, None] * m[:, None, :])[:, None]
    return ((s - t) ** 2 * pm).sum() / (pm.sum() * s.shape[1])


out = {}

# Soft-target KL on [n, vocab] logits at three temperatures.
s = randn(5, 7, scale=2.0).requires_grad_(True)
t = randn(5, 7, scale=2.0)
out["kl"] = {"shape": [5, 7], "student": tolist(s), "teacher": tolist(t), "cases": []}
for T in [1.0, 2.0, 8.0]:
    s.grad = None
    loss = kl_sum(s, t, T)
    loss.backward()
    out["kl"]["cases"].append({"temperature": T, "loss": loss.item(), "grad": tolist(s.grad)})

# Hidden states [2, 4, 3] with padding; the student is already at the teacher's width.
mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.float64)
hs = randn(2, 4, 3).requires_grad_(True)
ht = randn(2, 4, 3)
loss = hidden_mse(hs, ht, mask)
loss.backward()
out["hidden_mse"] = {"shape": [2, 4, 3], "mask": tolist(mask), "student": tolist(hs),
                     "teacher": tolist(ht), "loss": loss.item(), "grad": tolist(hs.grad)}

# Gram MMD between widths 3 (student) and 5 (teacher).
ms = randn(2, 4, 3).requires_grad_(True)
mt = randn(2, 4, 5)
loss = gram_mmd(ms, mt, mask)
loss.backward()
out["mmd"] = {"student_shape": [2, 4, 3], "teacher_shape": [2, 4, 5], "mask": tolist(mask),
              "student": tolist(ms), "teacher": tolist(mt), "loss": loss.item(),
              "grad": tolist(ms.grad)}

# Attention maps: softmax rows; 2 student heads vs 3 teacher heads, and vs 2 teacher heads.
a_s = torch.softmax(randn(2, 2, 4, 4), -1)
a_t3 = torch.softmax(randn(2, 3, 4, 4), -1)
a_t2 = torch.softmax(randn(2, 2, 4, 4), -1)
out["attention"] = {"mask": tolist(mask), "student_shape": [2, 2, 4, 4], "student": tolist(a_s),
                    "teacher3_shape": [2, 3, 4, 4], "teacher3": tolist(a_t3),
                    "teacher2_shape": [2, 2, 4, 4], "teacher2": tolist(a_t2),
                    "loss_heads_differ": attention_mse(a_s, a_t3, mask).item(),
                    "loss_heads_equal": attention_mse(a_s, a_t2, mask).item()}

# Task-stage losses.
alpha, T = 0.3, 2.0
cs, ct = randn(6, 3, scale=1.5), randn(6, 3, scale=1.5)
cy = torch.tensor([0, 2, 1, 1, 0, 2])
soft = kl_sum(cs, ct, T) / 6
hard = F.cross_entropy(cs, cy)
task = {"alpha": alpha, "temperature": T,
        "classes": {"student": tolist(cs), "teacher": tolist(ct), "labels": cy.tolist(),
                    "soft": soft.item(), "hard": hard.item(),
                    "total": (alpha * soft + (1 - alpha) * hard).item()}}
bs, bt = randn(6, 2, scale=1.5), randn(6, 2, scale=1.5)
by = torch.tensor([[1, 0], [0, 0], [1, 1], [0, 1], [1, 0], [0, 1]], dtype=torch.float64)
bm = torch.tensor([[1, 1], [1, 0], [1, 1], [0, 1], [1, 1], [1, 0]], dtype=torch.float64)
two = lambda x: torch.stack([F.logsigmoid(x), F.logsigmoid(-x)], -1)  # log [p, 1-p]
soft = F.kl_div(two(bs / T), two(bt / T), log_target=True, reduction="sum") / bs.numel() * T * T
bce = F.binary_cross_entropy_with_logits(bs, by, reduction="none")
hard = (bce * bm).sum() / bm.sum()
task["binary"] = {"student": tolist(bs), "teacher": tolist(bt), "labels": tolist(by),
                  "mask": tolist(bm), "soft": soft.item(), "hard": hard.item(),
                  "total": (alpha * soft + (1 - alpha) * hard).item()}
rs, rt = randn(6, 2), randn(6, 2)
ry = randn(6, 2)
rm = bm.clone()
soft = ((rs - rt) ** 2).mean()
hard = (((rs - ry) ** 2) * rm).sum() / rm.sum()
ry_nan = ry.clone()
ry_nan[rm == 0] = float("nan")
task["regression"] = {"student": tolist(rs), "teacher": tolist(rt),
                      # missing labels are NaN, as in MoleculeNet multi-task sets
                      "labels": [None if v != v else v for v in tolist(ry_nan)],
                      "mask": tolist(rm), "soft": soft.item(), "hard": hard.item(),
                      "total": (alpha * soft + (1 - alpha) * hard).item()}
out["task"] = task

OUT.parent.mkdir(parents=True, exist_ok=True)
# One line per loss (lists inline) keeps the file short and diffable.
OUT.write_text("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in out.items())
               + "\n}\n")
print(f"wrote {OUT}")
