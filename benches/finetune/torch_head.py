#!/usr/bin/env python3
"""PyTorch side of benches/finetune: trains the same head as chemlm's frozen regime
(dropout -> Linear -> GELU -> dropout -> Linear, AdamW with decay on weight matrices only, global
grad-norm clip 1.0, masked BCE-with-logits or L1 on standardised targets, batch 32, shuffled each
epoch) on the embeddings chemlm wrote (emb.npy, y.npy), and prints one JSON line with
molecules/s. Same thread count as the chemlm run.

Usage: python benches/finetune/torch_head.py DIR --threads 2   (DIR has emb.npy, y.npy, chemlm.json)
"""
import argparse
import json
import pathlib
import time

import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
d = pathlib.Path(a.dir)
cfg = json.loads((d / "chemlm.json").read_text())
x = torch.tensor(np.load(d / "emb.npy"))
y = np.load(d / "y.npy")
mask = torch.tensor(~np.isnan(y), dtype=torch.float32)
y = np.nan_to_num(y)
if not cfg["classification"]:
    m = (y * mask.numpy()).sum(0) / mask.numpy().sum(0)
    s = np.sqrt((((y - m) ** 2) * mask.numpy()).sum(0) / mask.numpy().sum(0))
    y = (y - m) / np.where(s > 0, s, 1)
y = torch.tensor(y, dtype=torch.float32)
n, dim = x.shape
p = cfg["dropout"]
head = torch.nn.Sequential(
    torch.nn.Dropout(p),
    torch.nn.Linear(dim, cfg["hidden"]),
    torch.nn.GELU(),
    torch.nn.Dropout(p),
    torch.nn.Linear(cfg["hidden"], y.shape[1]),
)
decay = [q for name, q in head.named_parameters() if name.endswith("weight")]
rest = [q for name, q in head.named_parameters() if not name.endswith("weight")]
opt = torch.optim.AdamW(
    [{"params": decay, "weight_decay": cfg["weight_decay"]}, {"params": rest, "weight_decay": 0.0}],
    lr=cfg["head_lr"],
)
bce = torch.nn.BCEWithLogitsLoss(reduction="none")
head.train()
t0 = time.perf_counter()
for epoch in range(cfg["epochs"]):
    perm = torch.randperm(n)
    total = 0.0
    for i in range(0, n, cfg["batch"]):
        idx = perm[i : i + cfg["batch"]]
        out = head(x[idx])
        per = bce(out, y[idx]) if cfg["classification"] else (out - y[idx]).abs()
        mk = mask[idx]
        loss = (per * mk).sum() / mk.sum().clamp(min=1.0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        opt.step()
        total += float(loss)
secs = time.perf_counter() - t0
print(json.dumps({
    "bench": "finetune_head_frozen",
    "impl": f"torch-{torch.__version__}",
    "dataset": cfg["dataset"],
    "molecules": n,
    "epochs": cfg["epochs"],
    "seconds": secs,
    "molecules_per_s": n * cfg["epochs"] / secs,
}))
