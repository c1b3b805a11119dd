#!/usr/bin/env python3
"""Golden files for SchNet (crates/chemlm-ff/src/models/schnet.rs) from schnetpack 2.1.1.

Reference: schnetpack.model.NeuralNetworkPotential(
    representation=schnetpack.representation.SchNet(GaussianRBF, CosineCutoff, nn.Embedding(100, F)),
    input_modules=[PairwiseDistances()],
    output_modules=[Atomwise(n_in=F, output_key="energy"), Forces()])
in float64, two models:
  "plain":  n_atom_basis 16, n_filters 12, 2 interactions, 9 Gaussians on [0, 4 Å], Atomwise with
            schnetpack's default activation (SiLU), independent interaction blocks;
  "shared": same sizes, shared_interactions=True (replicate_module repeats one block), Atomwise with
            shifted softplus.
9 Gaussians on [0, 4] have spacing 0.5, exactly representable: schnetpack builds its RBF
offsets/widths and the cutoff as float32 buffers, which `.double()` would keep f32-rounded for a
spacing like 4/7 and break a 1e-9 comparison.
Weights: schnetpack's own initialisation from a fixed seed, then every parameter (biases and the
embedding included) perturbed by N(0, 0.2²) so nothing is zero or symmetric.
Energy scale (ours, schnetpack has no σ module in 2.1.1): E = σ · E_raw + Σ_a (μ + atomref[Z_a]),
F = σ · F_raw, with E_raw, F_raw from the schnetpack model (F_raw by its Forces module, autograd).
Neighbour list: all ordered pairs i ≠ j with |r_ij| < cutoff (molecules, no cell), both directions.
Molecules are written here by hand (rattled water, methane, ethanol, and a water···methane pair
whose far atoms lie beyond the cutoff), not taken from the shared data.
Also stored (not a reference value, only an input for the timing comparison of
scripts/bench_schnet_torch.py and the ignored Rust test `schnet_timing`): an aspirin geometry
(21 atoms) embedded by RDKit ETKDG (seed 42) and MMFF-relaxed.

Usage: python3 scripts/gen_schnet_golden.py   (writes crates/chemlm-ff/tests/golden/schnet/)
"""
import json
import typing
from pathlib import Path

import numpy as np
import torch
import torch.utils.data.dataloader as _dl

# schnetpack 2.1.1 imports `T_co` from torch's dataloader module, which torch 2.15 no longer
# defines; the type variable is only used in annotations, so restore it before importing.
if not hasattr(_dl, "T_co"):
    _dl.T_co = typing.TypeVar("T_co", covariant=True)

import schnetpack as spk  # noqa: E402
import schnetpack.properties as P  # noqa: E402
from rdkit import Chem  # noqa: E402
from rdkit.Chem import AllChem  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "chemlm-ff" / "tests" / "golden" / "schnet"

F, N_FILTERS, N_INTER, N_RBF, CUTOFF, MAX_Z = 16, 12, 2, 9, 4.0, 100
SCALE = {"mean": -0.37, "std": 1.9, "atomref": {1: -13.6, 6: -1029.5, 8: -2042.1}}

MOLECULES = {
    "water": (
        [8, 1, 1],
        [[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]],
    ),
    "methane": (
        [6, 1, 1, 1, 1],
        [[0.0, 0.0, 0.0], [0.629, 0.629, 0.629], [-0.629, -0.629, 0.629],
         [-0.629, 0.629, -0.629], [0.629, -0.629, -0.629]],
    ),
    "ethanol": (
        [6, 6, 8, 1, 1, 1, 1, 1, 1],
        [[-0.748, -0.015, 0.024], [0.558, 0.420, -0.669], [0.544, 1.797, -1.024],
         [-1.583, 0.185, -0.645], [-0.888, 0.552, 0.944], [-0.764, -1.081, 0.269],
         [0.683, -0.133, -1.606], [1.389, 0.258, 0.028], [1.318, 1.967, -1.575]],
    ),
    "water_methane": (
        [8, 1, 1, 6, 1, 1, 1, 1],
        [[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477],
         [3.6, 0.0, 0.0], [4.229, 0.629, 0.629], [2.971, -0.629, 0.629],
         [2.971, 0.629, -0.629], [4.229, -0.629, -0.629]],
    ),
}


def rattled(rng):
    out = []
    for name, (z, pos) in MOLECULES.items():
        pos = np.array(pos, dtype=np.float64) + rng.normal(0.0, 0.05, size=(len(z), 3))
        out.append((name, z, pos))
    return out


def batch_inputs(mols):
    zs, rs, idx_i, idx_j, idx_m, n_atoms = [], [], [], [], [], []
    base = 0
    for m, (_, z, pos) in enumerate(mols):
        n = len(z)
        for i in range(n):
            for j in range(n):
                if i != j and np.linalg.norm(pos[j] - pos[i]) < CUTOFF:
                    idx_i.append(base + i)
                    idx_j.append(base + j)
        zs += z
        rs.append(pos)
        idx_m += [m] * n
        n_atoms.append(n)
        base += n
    n_edges = len(idx_i)
    return {
        P.Z: torch.tensor(zs, dtype=torch.long),
        P.R: torch.tensor(np.concatenate(rs), dtype=torch.float64),
        P.idx_i: torch.tensor(idx_i, dtype=torch.long),
        P.idx_j: torch.tensor(idx_j, dtype=torch.long),
        P.offsets: torch.zeros((n_edges, 3), dtype=torch.float64),
        P.idx_m: torch.tensor(idx_m, dtype=torch.long),
        P.n_atoms: torch.tensor(n_atoms, dtype=torch.long),
        P.cell: torch.zeros((len(mols), 3, 3), dtype=torch.float64),
        P.pbc: torch.zeros((len(mols), 3), dtype=torch.bool),
    }


def build(shared, out_act, seed):
    torch.manual_seed(seed)
    rep = spk.representation.SchNet(
        n_atom_basis=F,
        n_interactions=N_INTER,
        radial_basis=spk.nn.GaussianRBF(n_rbf=N_RBF, cutoff=CUTOFF),
        cutoff_fn=spk.nn.CosineCutoff(CUTOFF),
        n_filters=N_FILTERS,
        shared_interactions=shared,
    )
    model = spk.model.NeuralNetworkPotential(
        representation=rep,
        input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[
            spk.atomistic.Atomwise(n_in=F, output_key="energy", activation=out_act),
            spk.atomistic.Forces(energy_key="energy", force_key="forces"),
        ],
    ).double()
    with torch.no_grad():
        seen = set()
        for p in model.parameters():  # shared blocks yield their tensors once
            if id(p) not in seen:
                seen.add(id(p))
                p.add_(0.2 * torch.randn_like(p))
    # The buffers must be exact in f64 (see the docstring).
    offsets = model.representation.radial_basis.offsets
    assert torch.equal(offsets, torch.linspace(0.0, CUTOFF, N_RBF, dtype=torch.float64))
    return model


def evaluate(model, mols):
    inputs = batch_inputs(mols)
    out = model(inputs)
    e_raw = out["energy"].detach().numpy()
    f_raw = out["forces"].detach().numpy()
    energies, forces, start = [], [], 0
    for m, (_, z, _) in enumerate(mols):
        offs = sum(SCALE["mean"] + SCALE["atomref"].get(zz, 0.0) for zz in z)
        energies.append(SCALE["std"] * float(e_raw[m]) + offs)
        forces.append((SCALE["std"] * f_raw[start:start + len(z)]).tolist())
        start += len(z)
    return energies, forces


def aspirin():
    mol = Chem.AddHs(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    AllChem.EmbedMolecule(mol, randomSeed=42)
    AllChem.MMFFOptimizeMolecule(mol)
    pos = mol.GetConformer().GetPositions()
    return {
        "numbers": [a.GetAtomicNum() for a in mol.GetAtoms()],
        "positions": np.round(pos, 6).tolist(),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    mols = rattled(np.random.default_rng(7))
    atomref = [0.0] * 119
    for z, v in SCALE["atomref"].items():
        atomref[z] = v
    golden = {
        "schnetpack": spk.__version__ if hasattr(spk, "__version__") else "2.1.1",
        "molecules": [
            {"name": n, "numbers": z, "positions": pos.tolist()} for n, z, pos in mols
        ],
        "energy_scale": {"atomref": atomref, "mean": SCALE["mean"], "std": SCALE["std"]},
        "models": [],
        "aspirin": aspirin(),
    }
    for name, shared, act, act_name, seed in (
        ("plain", False, torch.nn.functional.silu, "silu", 11),
        ("shared", True, spk.nn.shifted_softplus, "shifted_softplus", 12),
    ):
        model = build(shared, act, seed)
        sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        save_file(sd, str(OUT / f"{name}.safetensors"))
        energies, forces = evaluate(model, mols)
        golden["models"].append({
            "name": name,
            "weights": f"{name}.safetensors",
            "config": {
                "n_atom_basis": F, "n_interactions": N_INTER, "n_filters": N_FILTERS,
                "n_rbf": N_RBF, "cutoff": CUTOFF, "max_z": MAX_Z,
                "shared_interactions": shared, "n_out_layers": 2, "output_activation": act_name,
            },
            "state_dict": {k: list(v.shape) for k, v in sd.items()},
            "energies": energies,
            "forces": forces,
        })
        print(name, "energies", energies)
        print(name, "state dict:", *sd.keys(), sep="\n  ")
    (OUT / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")


if __name__ == "__main__":
    main()
