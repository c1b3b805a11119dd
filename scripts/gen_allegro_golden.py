#!/usr/bin/env python3
"""Golden files for chemlm's Allegro: nequip-allegro 0.8.3 (nequip 0.19.1, e3nn 0.6) models in
float64 with random weights, their energies and forces on hand-written molecules.

    pip install -c constraints.txt e3nn==0.6.0 nequip==0.19.1 nequip-allegro==0.8.3
    python3 scripts/gen_allegro_golden.py

For each case writes crates/chemlm-ff/tests/golden/allegro/<case>/{config.json,
model.safetensors, expected.json}: config.json in chemlm's format (the same hyper-parameters),
the reference's state dict under its own names, and the reference's total energies and forces.
Energies are the reference's: edge energies summed to atoms (÷√avg_num_neighbors ÷√2), times
per-type scales, plus per-type shifts; chemlm maps the shifts to its energy reference."""
import json
import math
import pathlib

import torch
from safetensors.torch import save_file

torch.set_default_dtype(torch.float64)
from nequip.utils.global_state import set_global_state

set_global_state()
from allegro.model import AllegroModel
from nequip.data import AtomicDataDict
from nequip.data._nl import compute_neighborlist_

root = pathlib.Path(__file__).resolve().parents[1] / "crates/chemlm-ff/tests/golden/allegro"
SYMBOLS = {1: "H", 6: "C", 7: "N", 8: "O"}

WATER = ([8, 1, 1], [[0.0, 0.0, 0.1173], [0.0, 0.7572, -0.4692], [0.0, -0.7572, -0.4692]])
ETHANOL = (
    [6, 6, 8, 1, 1, 1, 1, 1, 1],
    [
        [-1.2131, -0.2229, 0.0],
        [0.0015, 0.6816, 0.0],
        [1.1910, -0.1069, 0.0],
        [-2.1387, 0.3568, 0.0],
        [-1.2038, -0.8680, 0.8810],
        [-1.2038, -0.8680, -0.8810],
        [0.0094, 1.3370, 0.8792],
        [0.0094, 1.3370, -0.8792],
        [1.9718, 0.4535, 0.0],
    ],
)
# Methylamine, slightly distorted so no symmetry hides sign errors.
METHYLAMINE = (
    [6, 7, 1, 1, 1, 1, 1],
    [
        [0.0, 0.0, 0.0],
        [1.47, 0.05, -0.02],
        [-0.36, 1.02, 0.1],
        [-0.38, -0.5, 0.9],
        [-0.35, -0.53, -0.88],
        [1.8, -0.9, 0.15],
        [1.82, 0.45, 0.85],
    ],
)


def run_case(name, cfg, molecules):
    type_names = cfg["type_names"]
    kwargs = dict(
        seed=11,
        model_dtype="float64",
        type_names=type_names,
        r_max=cfg["r_max"],
        l_max=cfg["l_max"],
        parity=cfg["parity"],
        radial_chemical_embed={
            "_target_": "allegro.nn.TwoBodyBesselScalarEmbed",
            "num_bessels": cfg["num_bessels"],
            "bessel_trainable": cfg["bessel_trainable"],
            "polynomial_cutoff_p": cfg["polynomial_cutoff_p"],
        },
        radial_chemical_embed_dim=cfg["radial_chemical_embed_dim"],
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
        per_type_energy_scales=dict(zip(type_names, cfg["per_type_energy_scales"])),
        per_type_energy_shifts=dict(zip(type_names, SHIFTS[: len(type_names)])),
    )
    model = AllegroModel(**kwargs)
    # Trainable Bessel roots move away from 1..n in training; perturb them so the test sees it.
    with torch.no_grad():
        for k, p in model.named_parameters():
            if k.endswith("bessel_weights"):
                p.add_(torch.linspace(0.0, 0.3, p.shape[-1]))
    energies, forces = [], []
    for z, pos in molecules:
        data = {
            AtomicDataDict.POSITIONS_KEY: torch.tensor(pos),
            AtomicDataDict.ATOM_TYPE_KEY: torch.tensor([type_names.index(SYMBOLS[a]) for a in z]),
            AtomicDataDict.PBC_KEY: torch.tensor([False, False, False]),
            AtomicDataDict.CELL_KEY: torch.zeros(3, 3),
        }
        data = compute_neighborlist_(data, r_max=cfg["r_max"])
        data = AtomicDataDict.with_batch_(data)
        data[AtomicDataDict.NUM_NODES_KEY] = torch.tensor([len(z)])
        out = model(data)
        energies.append(float(out[AtomicDataDict.TOTAL_ENERGY_KEY].reshape(-1)[0]))
        forces.append(out[AtomicDataDict.FORCE_KEY].detach().tolist())
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().contiguous()
        for k, v in model.state_dict().items()
        if v.numel() > 0 and not k.endswith("w3j") and not k.endswith("_rmax_recip")
    }
    save_file(state, str(d / "model.safetensors"))
    ours = dict(cfg)
    ours["model_type"] = "allegro"
    ours["energy_scale"] = {
        "atomref": [0.0] * 119,
        "mean": 0.0,
        "std": 1.0,
    }
    for t, s in zip(type_names, SHIFTS):
        z = [k for k, v in SYMBOLS.items() if v == t][0]
        ours["energy_scale"]["atomref"][z] = s
    (d / "config.json").write_text(json.dumps(ours, indent=1))
    (d / "expected.json").write_text(
        json.dumps(
            {
                "molecules": [{"numbers": z, "positions": pos} for z, pos in molecules],
                "energies": energies,
                "forces": forces,
                "n_params": sum(p.numel() for p in model.parameters()),
            }
        )
    )
    print(name, "energies", energies, "params", sum(p.numel() for p in model.parameters()))


SHIFTS = [-13.6, -1029.5, -1484.2, -2041.3]
BASE = dict(
    type_names=["H", "C", "N", "O"],
    r_max=4.0,
    l_max=2,
    parity=True,
    num_bessels=8,
    bessel_trainable=False,
    polynomial_cutoff_p=6,
    radial_chemical_embed_dim=16,
    scalar_embed_mlp_hidden_layers_depth=1,
    scalar_embed_mlp_hidden_layers_width=32,
    num_layers=2,
    num_scalar_features=16,
    num_tensor_features=4,
    allegro_mlp_hidden_layers_depth=1,
    allegro_mlp_hidden_layers_width=32,
    tp_path_channel_coupling=True,
    readout_mlp_hidden_layers_depth=1,
    readout_mlp_hidden_layers_width=8,
    avg_num_neighbors=5.0,
    per_type_energy_scales=[0.7, 1.3, 1.1, 0.9],
)
mols = [WATER, ETHANOL, METHYLAMINE]
run_case("lmax2", BASE, mols)
# Three layers bring the odd/even intermediate irreps (1e, 2o, …) in; no channel coupling,
# trainable Bessel roots, wider radial embedding.
run_case(
    "lmax2-3layers",
    dict(BASE, num_layers=3, tp_path_channel_coupling=False, bessel_trainable=True,
         radial_chemical_embed_dim=24, per_type_energy_scales=[1.0, 1.0, 1.0, 1.0]),
    mols,
)
run_case("lmax1-noparity", dict(BASE, l_max=1, parity=False, num_layers=3), mols)
run_case("lmax3", dict(BASE, l_max=3, num_layers=2, allegro_mlp_hidden_layers_depth=2), mols)
