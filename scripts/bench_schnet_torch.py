#!/usr/bin/env python3
"""Indicative timing of schnetpack 2.1.1's SchNet (MD17 preset: 128 features, 6 interactions,
20 Gaussians, cutoff 5 Å, Atomwise 128→64→1) on one energy+forces call for a batch of 8 aspirin
molecules (the RDKit geometry stored in crates/chemlm-ff/tests/golden/schnet/golden.json, rattled),
float32, torch.set_num_threads(2) unless --threads says otherwise. Same batch construction as the
ignored Rust test `schnet_timing` in crates/chemlm-ff/tests/schnet.rs (all pairs within the cutoff).

Usage: python3 scripts/bench_schnet_torch.py [--threads N]
"""
import argparse
import json
import time
import typing
from pathlib import Path

import numpy as np
import torch
import torch.utils.data.dataloader as _dl

if not hasattr(_dl, "T_co"):  # schnetpack 2.1.1 vs torch >= 2.15, see gen_schnet_golden.py
    _dl.T_co = typing.TypeVar("T_co", covariant=True)

import schnetpack as spk  # noqa: E402
import schnetpack.properties as P  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CUTOFF = 5.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = json.loads((ROOT / "crates/chemlm-ff/tests/golden/schnet/golden.json").read_text())
    z0 = g["aspirin"]["numbers"]
    pos0 = np.array(g["aspirin"]["positions"])
    rng = np.random.default_rng(0)
    zs, rs, ii, jj, mm = [], [], [], [], []
    base = 0
    for m in range(8):
        pos = pos0 + rng.uniform(-0.05, 0.05, size=pos0.shape)
        n = len(z0)
        d = np.linalg.norm(pos[None, :, :] - pos[:, None, :], axis=-1)
        i, j = np.nonzero((d < CUTOFF) & ~np.eye(n, dtype=bool))
        ii.append(i + base)
        jj.append(j + base)
        zs += z0
        rs.append(pos)
        mm += [m] * n
        base += n
    n_edges = sum(len(i) for i in ii)
    rep = spk.representation.SchNet(
        n_atom_basis=128, n_interactions=6,
        radial_basis=spk.nn.GaussianRBF(n_rbf=20, cutoff=CUTOFF),
        cutoff_fn=spk.nn.CosineCutoff(CUTOFF),
    )
    model = spk.model.NeuralNetworkPotential(
        representation=rep,
        input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[spk.atomistic.Atomwise(n_in=128, output_key="energy"),
                        spk.atomistic.Forces(energy_key="energy", force_key="forces")],
    )

    def inputs():
        return {
            P.Z: torch.tensor(zs), P.R: torch.tensor(np.concatenate(rs), dtype=torch.float32),
            P.idx_i: torch.tensor(np.concatenate(ii)), P.idx_j: torch.tensor(np.concatenate(jj)),
            P.offsets: torch.zeros((n_edges, 3)), P.idx_m: torch.tensor(mm),
            P.n_atoms: torch.tensor([len(z0)] * 8),
        }

    for _ in range(3):
        model(inputs())
    t = time.perf_counter()
    for _ in range(args.reps):
        out = model(inputs())
        out["forces"].sum().item()
    ms = (time.perf_counter() - t) * 1e3 / args.reps
    print(f"schnetpack SchNet f32, 8 x aspirin ({base} atoms, {n_edges} edges), "
          f"{args.threads} threads: {ms:.2f} ms per energy+forces call")


if __name__ == "__main__":
    main()
