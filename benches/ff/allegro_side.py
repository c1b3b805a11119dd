#!/usr/bin/env python3
"""nequip-allegro side of the Allegro speed comparison (issue 15): velocity-Verlet MD on MD17
aspirin with nequip-allegro 0.8.3's AllegroModel, built with the same hyper-parameters as
chemlm's preset (configs/ff-allegro.toml), float32, random weights (speed does not depend on
them). Each step = neighbour list (nequip's own) + energy and forces by autograd + integrator,
as `chemlm ff md`. Prints JSON: s_per_step (median of the timed steps), peak RSS.

    python3 benches/ff/allegro_side.py --npz …/aspirin_ccsd-train.npz --threads 1 --steps 200
"""
import argparse
import json
import resource
import statistics
import time
import tomllib

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--npz", required=True)
p.add_argument("--config", default="configs/ff-allegro.toml")
p.add_argument("--threads", type=int, default=1)
p.add_argument("--steps", type=int, default=200)
p.add_argument("--warmup", type=int, default=10)
p.add_argument("--dt", type=float, default=0.5)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.set_default_dtype(torch.float32)

from nequip.utils.global_state import set_global_state

set_global_state()
from allegro.model import AllegroModel
from nequip.data import AtomicDataDict
from nequip.data._nl import compute_neighborlist_

cfg = tomllib.load(open(a.config, "rb"))
model = AllegroModel(
    seed=0,
    model_dtype="float32",
    type_names=cfg["type_names"],
    r_max=cfg["r_max"],
    l_max=cfg["l_max"],
    parity=cfg["parity"],
    radial_chemical_embed={
        "_target_": "allegro.nn.TwoBodyBesselScalarEmbed",
        "num_bessels": cfg["num_bessels"],
        "bessel_trainable": cfg["bessel_trainable"],
        "polynomial_cutoff_p": cfg["polynomial_cutoff_p"],
    },
    scalar_embed_mlp_hidden_layers_depth=cfg["scalar_embed_mlp_hidden_layers_depth"],
    scalar_embed_mlp_hidden_layers_width=cfg["scalar_embed_mlp_hidden_layers_width"],
    num_layers=cfg["num_layers"],
    num_scalar_features=cfg["num_scalar_features"],
    num_tensor_features=cfg["num_tensor_features"],
    allegro_mlp_hidden_layers_depth=cfg["allegro_mlp_hidden_layers_depth"],
    allegro_mlp_hidden_layers_width=cfg["allegro_mlp_hidden_layers_width"],
    tp_path_channel_coupling=cfg["tp_path_channel_coupling"],
    readout_mlp_hidden_layers_depth=cfg["readout_mlp_hidden_layers_depth"],
    readout_mlp_hidden_layers_width=cfg["readout_mlp_hidden_layers_width"],
    avg_num_neighbors=cfg["avg_num_neighbors"],
)
n_params = sum(p.numel() for p in model.parameters())
d = np.load(a.npz)
z = d["z"].astype(int)
symbols = {1: "H", 6: "C", 7: "N", 8: "O", 9: "F"}
types = torch.tensor([cfg["type_names"].index(symbols[int(x)]) for x in z])
masses = torch.tensor([{1: 1.008, 6: 12.011, 7: 14.007, 8: 15.999, 9: 18.998}[int(x)] for x in z],
                      dtype=torch.float64).unsqueeze(1)
pos = torch.tensor(d["R"][0], dtype=torch.float64)
vel = torch.zeros_like(pos)
# ASE units: eV, Å, amu; time unit √(amu Å²/eV); fs → ASE time.
fs = 1.0 / 10.180505671156723
dt = a.dt * fs


def forces(positions):
    data = {
        AtomicDataDict.POSITIONS_KEY: positions.to(torch.float32),
        AtomicDataDict.ATOM_TYPE_KEY: types,
        AtomicDataDict.PBC_KEY: torch.tensor([False, False, False]),
        AtomicDataDict.CELL_KEY: torch.zeros(3, 3),
    }
    data = compute_neighborlist_(data, r_max=cfg["r_max"])
    for k in (AtomicDataDict.EDGE_CELL_SHIFT_KEY, AtomicDataDict.CELL_KEY):
        if k in data:
            data[k] = data[k].to(torch.float32)
    data = AtomicDataDict.with_batch_(data)
    data[AtomicDataDict.NUM_NODES_KEY] = torch.tensor([len(z)])
    out = model(data)
    return out[AtomicDataDict.FORCE_KEY].detach().to(torch.float64)


f = forces(pos)
times = []
for step in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    vel = vel + 0.5 * dt * f / masses
    pos = pos + dt * vel
    f = forces(pos)
    vel = vel + 0.5 * dt * f / masses
    if step >= a.warmup:
        times.append(time.perf_counter() - t0)
print(json.dumps({
    "threads": a.threads,
    "steps": a.steps,
    "s_per_step": statistics.median(times),
    "n_params": n_params,
    "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "torch": torch.__version__,
}))
