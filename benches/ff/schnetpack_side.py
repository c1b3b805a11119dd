#!/usr/bin/env python3
"""schnetpack 2.x side of `chemlm ff` comparisons (issue 14): trains SchNet or PaiNN on the same
frames and the same split as a chemlm run (its split.json), with the same sizes, loss weights,
optimizer and epochs, and reports validation/test MAEs, wall time per epoch and per MD step.

    python3 benches/ff/schnetpack_side.py --npz $CHEMLM_DATA_DIR/forcefield/aspirin_ccsd-train.npz \
        --split runs/ff-schnet/split.json --arch schnet --epochs 20 --threads 2 --out sp.json

Best case for schnetpack, as for chemlm: neighbour lists of the data frames computed once
(MatScipyNeighborList), batches collated with schnetpack's own collate function. Energies in eV
(MD17 kcal/mol converted with ASE's units), the per-atom mean energy removed as schnetpack's
RemoveOffsets(remove_mean=True) does.
"""
import argparse
import json
import time
import typing

import numpy as np
import torch
import torch.utils.data.dataloader as _dl

# schnetpack 2.1.1 imports a name torch >= 2.10 no longer exports.
if not hasattr(_dl, "T_co"):
    _dl.T_co = typing.TypeVar("T_co", covariant=True)

import ase  # noqa: E402
import ase.units  # noqa: E402
import schnetpack as spk  # noqa: E402
import schnetpack.transform as trn  # noqa: E402
from ase.calculators.calculator import Calculator, all_changes  # noqa: E402
from ase.md.verlet import VelocityVerlet  # noqa: E402
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution  # noqa: E402
from schnetpack import properties  # noqa: E402
from schnetpack.data.loader import _atoms_collate_fn  # noqa: E402

KCAL = ase.units.kcal / ase.units.mol


class ModelCalculator(Calculator):
    """What schnetpack's SpkCalculator does (convert, run, read energy and forces), without its
    torch.load of a pickled model that torch >= 2.6 refuses by default."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, model, converter):
        super().__init__()
        self.model, self.converter = model, converter

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        out = self.model(self.converter(atoms))
        self.results = {"energy": out["energy"].detach().double().item(),
                        "forces": out["forces"].detach().double().numpy()}


def build_model(a):
    rbf = spk.nn.GaussianRBF(n_rbf=a.n_rbf, cutoff=a.cutoff)
    cut = spk.nn.CosineCutoff(a.cutoff)
    if a.arch == "schnet":
        rep = spk.representation.SchNet(
            n_atom_basis=a.n_atom_basis, n_interactions=a.n_interactions,
            radial_basis=rbf, cutoff_fn=cut)
    else:
        rep = spk.representation.PaiNN(
            n_atom_basis=a.n_atom_basis, n_interactions=a.n_interactions,
            radial_basis=rbf, cutoff_fn=cut)
    return spk.model.NeuralNetworkPotential(
        representation=rep,
        input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[spk.atomistic.Atomwise(n_in=a.n_atom_basis, output_key="energy"),
                        spk.atomistic.Forces(energy_key="energy", force_key="forces")],
        postprocessors=[],
    )


def frame_inputs(z, r, e, f, nl):
    n = len(z)
    inp = {
        properties.Z: torch.from_numpy(z.astype(np.int64)),
        properties.R: torch.from_numpy(r.astype(np.float64)),
        properties.cell: torch.zeros(1, 3, 3, dtype=torch.float64),
        properties.pbc: torch.zeros(1, 3, dtype=torch.bool),
        properties.n_atoms: torch.tensor([n]),
        properties.idx: torch.tensor([0]),
        # Not "energy"/"forces": schnetpack models write their outputs into the input dict.
        "energy_ref": torch.tensor([e], dtype=torch.float64),
        "forces_ref": torch.from_numpy(f.astype(np.float64)),
    }
    inp = nl(inp)
    return {k: (v.float() if v.dtype == torch.float64 else v) for k, v in inp.items()}


def evaluate(model, frames, mean, batch):
    model.eval()
    ae_e, ae_f, n_f = 0.0, 0.0, 0
    for s in range(0, len(frames), batch):
        b = _atoms_collate_fn(frames[s:s + batch])
        out = model(b)
        ae_e += (out["energy"].detach() + mean * b[properties.n_atoms] - b["energy_ref"]).abs().sum().item()
        ae_f += (out["forces"].detach() - b["forces_ref"]).abs().sum().item()
        n_f += b["forces_ref"].numel()
    return ae_e / len(frames), ae_f / n_f


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npz", required=True)
    p.add_argument("--split", required=True, help="chemlm run's split.json (train/valid/test indices)")
    p.add_argument("--arch", choices=["schnet", "painn"], default="schnet")
    p.add_argument("--n-atom-basis", type=int, default=128)
    p.add_argument("--n-interactions", type=int, default=6)
    p.add_argument("--n-rbf", type=int, default=20)
    p.add_argument("--cutoff", type=float, default=5.0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--energy-weight", type=float, default=0.05)
    p.add_argument("--force-weight", type=float, default=0.95)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--md-steps", type=int, default=200)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    d = np.load(a.npz)
    R, z = d["R"], d["z"]
    E, F = d["E"].reshape(-1) * KCAL, d["F"] * KCAL
    split = json.load(open(a.split))
    nl = trn.MatScipyNeighborList(cutoff=a.cutoff)
    idx = {k: split[k] for k in ("train", "valid", "test") if k in split}
    frames = {k: [frame_inputs(z, R[i], E[i], F[i], nl) for i in v] for k, v in idx.items()}
    mean = float(np.mean(E[idx["train"]]) / len(z))
    for fr in frames["train"]:
        fr["energy_ref"] = fr["energy_ref"] - mean * len(z)

    model = build_model(a)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    epochs = []
    for ep in range(a.epochs):
        model.train()
        order = rng.permutation(len(frames["train"]))
        t0 = time.perf_counter()
        for s in range(0, len(order), a.batch):
            b = _atoms_collate_fn([frames["train"][i] for i in order[s:s + a.batch]])
            out = model(b)
            loss = a.energy_weight * torch.mean((out["energy"] - b["energy_ref"]) ** 2) + \
                a.force_weight * torch.mean((out["forces"] - b["forces_ref"]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
        t_train = time.perf_counter() - t0
        mae_e, mae_f = evaluate(model, frames["valid"], mean, a.batch)
        epochs.append({"epoch": ep + 1, "train_s": t_train, "valid_energy_mae_mev": mae_e * 1e3,
                       "valid_force_mae_mev_per_a": mae_f * 1e3})
        print(json.dumps(epochs[-1]), flush=True)
    result = {"arch": a.arch, "threads": a.threads, "epochs": epochs,
              "median_epoch_s": float(np.median([e["train_s"] for e in epochs]))}
    if "test" in frames:
        te, tf = evaluate(model, frames["test"], mean, a.batch)
        result["test_energy_mae_mev"], result["test_force_mae_mev_per_a"] = te * 1e3, tf * 1e3

    if a.md_steps > 0:
        model.postprocessors.append(trn.AddOffsets("energy", add_mean=True, add_atomrefs=False))
        model.postprocessors[-1].mean = torch.tensor([mean])
        model.eval()
        calc = ModelCalculator(model, spk.interfaces.AtomsConverter(
            neighbor_list=trn.MatScipyNeighborList(cutoff=a.cutoff), dtype=torch.float32))
        atoms = ase.Atoms(numbers=z, positions=R[idx["test"][0] if "test" in idx else 0])
        atoms.calc = calc
        MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=rng)
        dyn = VelocityVerlet(atoms, timestep=0.5 * ase.units.fs)
        dyn.run(10)
        t0 = time.perf_counter()
        dyn.run(a.md_steps)
        result["md_step_s"] = (time.perf_counter() - t0) / a.md_steps
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "epochs"}))


if __name__ == "__main__":
    main()
