#!/usr/bin/env python3
"""Golden files for chemlm-ff's PaiNN: schnetpack 2.1.1's PaiNN + Atomwise, float64.

Builds `NeuralNetworkPotential(representation=PaiNN(...), output_modules=[Atomwise, Forces])`
with a fixed seed, randomises every parameter (weights perturbed, biases non-zero, so bias,
split-order and activation mistakes show), evaluates energies and autograd forces on three
hand-written small molecules (coordinates below; the ethanol is stretched so that some of
its pairs lie beyond the cutoff and the edge list matters) and writes, per case, under
crates/chemlm-ff/tests/golden/painn/<case>/:
  config.json                      our PaiNNConfig (model_type "painn")
  state_dict.safetensors           schnetpack's full state dict, float64, names as is
                                   (buffers included: radial_basis.offsets/widths, cutoff_fn.cutoff)
  io.safetensors                   numbers, positions, idx_i, idx_j, structure_of (inputs),
                                   energy [n_structures], forces [n_atoms, 3] (outputs)
Cases: "plain" (separate interactions and filters) and "shared" (shared_interactions and
shared_filters). The Rust test loads the state dict with PaiNN::from_schnetpack and must
reproduce energies and forces to ~1e-9 relative.

schnetpack's GaussianRBF and CosineCutoff keep float32 buffers (linspace in f32); `.double()`
only widens them, which would leave a 1e-7 relative mismatch with a float64 evaluation.
We therefore recompute them in float64 here (same formulas), and store them so the Rust loader
can check them against the config.

Usage: python3 scripts/gen_painn_golden.py            (writes the golden files)
       BENCH_THREADS=2 python3 scripts/gen_painn_golden.py --bench   (times the MD17 preset, f32;
       8 x 21 atoms; compare with `cargo test --release -p chemlm-ff --test painn -- --ignored`)
Needs torch, schnetpack 2.1.1 and safetensors.
"""
import json
import os
import sys
import time
import typing

import torch
import torch.utils.data.dataloader as _dl

if not hasattr(_dl, "T_co"):  # schnetpack 2.1.1 imports a name torch 2.x no longer exports
    _dl.T_co = typing.TypeVar("T_co", covariant=True)

import schnetpack as spk  # noqa: E402
import schnetpack.properties as props  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "chemlm-ff",
                   "tests", "golden", "painn")

# Hand-written geometries (Å): water, ammonia, ethanol. Each structure is its own graph; the
# ethanol is stretched (STRETCH) so that some of its pairs lie beyond the 4 Å cutoff.
MOLECULES = [
    ([8, 1, 1], [[0.0, 0.0, 0.1173], [0.0, 0.7572, -0.4692], [0.0, -0.7572, -0.4692]]),
    ([7, 1, 1, 1], [[0.0, 0.0, 0.0], [0.9377, 0.0, 0.3816], [-0.4689, 0.8121, 0.3816],
                    [-0.4689, -0.8121, 0.3816]]),
    ([6, 6, 8, 1, 1, 1, 1, 1, 1],
     [[-1.2131, -0.2229, 0.0], [0.0015, 0.6816, 0.0], [1.1910, -0.1069, 0.0],
      [-2.1387, 0.3568, 0.0], [-1.2038, -0.8680, 0.8810], [-1.2038, -0.8680, -0.8810],
      [0.0094, 1.3370, 0.8792], [0.0094, 1.3370, -0.8792], [1.9718, 0.4535, 0.0]]),
]
STRETCH = 1.35  # ethanol stretched so that some pairs exceed the 4 Å cutoff


def all_pairs(positions, cutoff, first):
    """Directed pairs i != j with |r_ij| < cutoff (molecules: no cell), ASE's order (i, then j)."""
    ii, jj = [], []
    n = len(positions)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            d = sum((positions[j][k] - positions[i][k]) ** 2 for k in range(3)) ** 0.5
            if d < cutoff:
                ii.append(first + i)
                jj.append(first + j)
    return ii, jj


def batch(molecules, cutoff):
    z, r, ii, jj, m = [], [], [], [], []
    for s, (zs, rs) in enumerate(molecules):
        pi, pj = all_pairs(rs, cutoff, len(z))
        ii += pi
        jj += pj
        m += [s] * len(zs)
        z += zs
        r += rs
    n_atoms = torch.tensor([len(zs) for zs, _ in molecules])
    return {
        props.Z: torch.tensor(z, dtype=torch.long),
        props.R: torch.tensor(r, dtype=torch.float64),
        props.idx_i: torch.tensor(ii, dtype=torch.long),
        props.idx_j: torch.tensor(jj, dtype=torch.long),
        props.offsets: torch.zeros(len(ii), 3, dtype=torch.float64),
        props.idx_m: torch.tensor(m, dtype=torch.long),
        props.n_atoms: n_atoms,
    }


def build(cfg, dtype):
    rep = spk.representation.PaiNN(
        n_atom_basis=cfg["n_atom_basis"],
        n_interactions=cfg["n_interactions"],
        radial_basis=spk.nn.GaussianRBF(n_rbf=cfg["n_rbf"], cutoff=cfg["cutoff"]),
        cutoff_fn=spk.nn.CosineCutoff(cfg["cutoff"]),
        shared_interactions=cfg["shared_interactions"],
        shared_filters=cfg["shared_filters"],
        epsilon=cfg["epsilon"],
    )
    model = spk.model.NeuralNetworkPotential(
        representation=rep,
        input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[spk.atomistic.Atomwise(n_in=cfg["n_atom_basis"], output_key="energy"),
                        spk.atomistic.Forces(energy_key="energy", force_key="forces")],
    ).to(dtype)
    with torch.no_grad():
        offsets = torch.linspace(0.0, cfg["cutoff"], cfg["n_rbf"], dtype=torch.float64)
        rep.radial_basis.offsets = offsets.to(dtype)
        rep.radial_basis.widths = (torch.abs(offsets[1] - offsets[0])
                                   * torch.ones_like(offsets)).to(dtype)
        rep.cutoff_fn.cutoff = torch.tensor([cfg["cutoff"]], dtype=dtype)
    return model


def randomise(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("embedding.weight"):
                continue  # N(0, 1) already
            if name.endswith("bias"):
                p.copy_(0.2 * torch.randn_like(p))
            else:
                p.mul_(1.2).add_(0.05 * torch.randn_like(p))


def our_config(cfg):
    return {"model_type": "painn", **cfg,
            "energy_scale": {"atomref": [0.0] * 119, "mean": 0.0, "std": 1.0}}


def golden(case, cfg, seed):
    torch.manual_seed(seed)
    model = build(cfg, torch.float64)
    randomise(model)
    sd = model.state_dict()
    print(f"== {case}: state_dict names")
    for k, v in sd.items():
        print(f"  {k:70s} {tuple(v.shape)}")
    mols = [MOLECULES[0], MOLECULES[1],
            (MOLECULES[2][0], [[STRETCH * x for x in p] for p in MOLECULES[2][1]])]
    inputs = batch(mols, cfg["cutoff"])
    io = {"numbers": inputs[props.Z].clone(), "positions": inputs[props.R].clone(),
          "idx_i": inputs[props.idx_i].clone(), "idx_j": inputs[props.idx_j].clone(),
          "structure_of": inputs[props.idx_m].clone()}
    out = model(inputs)
    io["energy"] = out["energy"].detach().clone()
    io["forces"] = out["forces"].detach().clone()
    print(f"  edges {len(io['idx_i'])}, energies {io['energy'].tolist()}")
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    # Shared modules appear under every index in a state dict; safetensors refuses aliased
    # storage, so store contiguous copies (the loader checks that the copies agree).
    save_file({k: v.detach().clone().contiguous() for k, v in sd.items()},
              os.path.join(d, "state_dict.safetensors"))
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(d, "io.safetensors"))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(our_config(cfg), f, indent=2)
        f.write("\n")


def bench_positions(n_side=(7, 3, 1), spacing=1.4):
    """21 atoms on a jittered 7x3 grid (~aspirin's extent); same formula as the Rust bench."""
    pos = []
    k = 0
    for a in range(n_side[0]):
        for b in range(n_side[1]):
            for c in range(n_side[2]):
                jit = [0.1 * torch.sin(torch.tensor(1.7 * k + q)).item() for q in range(3)]
                pos.append([spacing * a + jit[0], spacing * b + jit[1], spacing * c + jit[2]])
                k += 1
    return pos


def bench():
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    cfg = dict(n_atom_basis=128, n_interactions=3, n_rbf=20, cutoff=5.0, max_z=100,
               shared_interactions=False, shared_filters=False, epsilon=1e-8)
    torch.manual_seed(0)
    model = build(cfg, torch.float32)
    pos = bench_positions()
    z = [6, 6, 6, 6, 6, 6, 6, 6, 6, 8, 8, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1]  # aspirin C9H8O4
    inputs = batch([(z, pos)] * 8, cfg["cutoff"])
    inputs[props.R] = inputs[props.R].float()
    inputs[props.offsets] = inputs[props.offsets].float()
    print(f"bench: 8 x 21 atoms, {len(inputs[props.idx_i])} edges, cutoff 5, f32, {torch.get_num_threads()} threads")
    times = []
    for it in range(30):
        x = {k: v.clone() for k, v in inputs.items()}
        t0 = time.perf_counter()
        out = model(x)
        out["forces"].sum().item()
        times.append(time.perf_counter() - t0)
    times = sorted(times[5:])
    print(f"schnetpack PaiNN energy+forces: median {1e3 * times[len(times) // 2]:.2f} ms, "
          f"min {1e3 * times[0]:.2f} ms")


def main():
    if "--bench" in sys.argv:
        bench()
        return
    base = dict(n_atom_basis=16, n_interactions=2, n_rbf=8, cutoff=4.0, max_z=100,
                shared_interactions=False, shared_filters=False, epsilon=1e-8)
    golden("plain", base, 1234)
    golden("shared", {**base, "shared_interactions": True, "shared_filters": True}, 4321)


if __name__ == "__main__":
    main()
