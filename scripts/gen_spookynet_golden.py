#!/usr/bin/env python3
"""Golden files for chemlm-ff's SpookyNet: the reference implementation (OUnke/SpookyNet,
commit d57b1fc) in float64, without D4 dispersion (use_d4_dispersion=False); ZBL repulsion is
on, electrostatics (with a long-range cutoff, no Ewald sum) in one case.

The reference always builds a nonlocal (attention) block inside every interaction module. For
the local model (chemlm's use_nonlocal_interaction = false) the generator replaces each module's
`nonlocal_interaction` by zeros (its output is added to x + l, so this is exactly "no nonlocal
interaction") and drops its tensors from the stored state dict; with nonlocal on, the
reference runs unchanged and its random features `attention.omega` are stored with the rest.

Every parameter is randomised (zero-initialised weights such as the residual blocks' second
linear layers become non-zero, biases and the element bias non-zero, Swish/softplus alpha/beta
and the ZBL and radial-basis parameters perturbed), so that mistakes in any term show. Energies
are the reference's `energy` (Σ over atoms of the atomic energy ea, which includes
element_bias[Z, 0], plus the ZBL energy ea_rep and the electrostatic energy ea_ele), forces from
autograd, for three hand-written
molecules (water, ammonia, ethanol stretched so that some pairs lie beyond the cutoff). All
directed pairs i != j are given (also those beyond the cutoff: the model must ignore them), and
each molecule gets its own total charge and spin (magnetic moment) so that the electronic
embeddings matter.

Writes, per case, under crates/chemlm-ff/tests/golden/spookynet/<case>/:
  config.json              our SpookyNetConfig (model_type "spookynet"), identity energy scale
  state_dict.safetensors   the reference's state dict, float64, names as is (buffers included:
                           nuclear_embedding.electron_config, radial_basis_functions.logc/n/v,
                           keep_prob, attention.omega), nonlocal_interaction tensors removed
                           for the local model
  io.safetensors           numbers, positions, idx_i, idx_j, structure_of, charge, magmom
                           (inputs), energy [n_structures], forces [n_atoms, 3] (outputs)
Cases: "swish" (nonlocal attention on, irreps, exponential weighting) and "ssp" (local only,
electrostatics with lr_cutoff 5 Å, shifted softplus, reducible Cartesian d functions, no
exponential weighting; its state dict
leaves out the electron-configuration buffer, which "swish" stores, to keep the files small).

Usage: SPOOKYNET_SRC=/path/to/SpookyNet python3 scripts/gen_spookynet_golden.py
       SPOOKYNET_SRC=... python3 scripts/gen_spookynet_golden.py --count   (parameter counts)
Needs torch, numpy and safetensors (the reference's calculator, which needs ase and sklearn,
is not imported).
"""
import json
import math
import os
import sys
import types

import numpy as np
import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "chemlm-ff",
                   "tests", "golden", "spookynet")


def import_reference():
    src = os.environ.get("SPOOKYNET_SRC")
    if not src:
        sys.exit("set SPOOKYNET_SRC to a checkout of github.com/OUnke/SpookyNet")
    # Import the package without its __init__ (which pulls in the ASE calculator).
    pkg = types.ModuleType("spookynet")
    pkg.__path__ = [os.path.join(src, "spookynet")]
    sys.modules["spookynet"] = pkg
    from spookynet.spookynet import SpookyNet  # noqa: E402
    return SpookyNet


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
# Symmetry-equivalent atoms have equal attention keys, so the key maximum of the nonlocal
# attention is tied there, and the reference's gradient at a tie depends on its batching path
# (one element for several structures, an even share for one); a small deterministic jitter
# breaks every symmetry so that energies and forces are well defined.
JITTER = 0.02
CHARGE = [0.0, 1.0, -1.0]
MAGMOM = [0.0, 1.0, 2.0]


def batch(molecules):
    z, r, ii, jj, m = [], [], [], [], []
    for s, (zs, rs) in enumerate(molecules):
        first = len(z)
        for i in range(len(zs)):
            for j in range(len(zs)):
                if i != j:
                    ii.append(first + i)
                    jj.append(first + j)
        m += [s] * len(zs)
        z += zs
        r += [[x + JITTER * math.sin(1.3 * (first + a) + 0.7 * k) for k, x in enumerate(p)]
              for a, p in enumerate(rs)]
    return (torch.tensor(z, dtype=torch.long), torch.tensor(r, dtype=torch.float64),
            torch.tensor(ii, dtype=torch.long), torch.tensor(jj, dtype=torch.long),
            torch.tensor(m, dtype=torch.long))


def build(SpookyNet, cfg):
    model = SpookyNet(
        activation=cfg["activation"],
        num_features=cfg["num_features"],
        num_basis_functions=cfg["num_basis_functions"],
        num_modules=cfg["num_modules"],
        num_residual_electron=cfg["num_residual_electron"],
        num_residual_pre=cfg["num_residual_pre"],
        num_residual_local_x=cfg["num_residual_local_x"],
        num_residual_local_s=cfg["num_residual_local_s"],
        num_residual_local_p=cfg["num_residual_local_p"],
        num_residual_local_d=cfg["num_residual_local_d"],
        num_residual_local=cfg["num_residual_local"],
        num_residual_nonlocal_q=cfg["num_residual_nonlocal_q"],
        num_residual_nonlocal_k=cfg["num_residual_nonlocal_k"],
        num_residual_nonlocal_v=cfg["num_residual_nonlocal_v"],
        num_residual_post=cfg["num_residual_post"],
        num_residual_output=cfg["num_residual_output"],
        basis_functions="exp-bernstein",
        exp_weighting=cfg["exp_weighting"],
        cutoff=cfg["cutoff"],
        use_zbl_repulsion=cfg["use_zbl_repulsion"],
        use_electrostatics=cfg["use_electrostatics"],
        lr_cutoff=cfg["lr_cutoff"],
        use_d4_dispersion=False,
        use_irreps=cfg["use_irreps"],
        use_nonlinear_embedding=False,
        zero_init=False,
    ).double()
    return model


def drop_nonlocal(model):
    for module in model.module:
        module.nonlocal_interaction.forward = (
            lambda x, num_batch, batch_seg, mask=None: torch.zeros_like(x))


def randomise(model, nonlocal_on):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "nonlocal_interaction" in name and not nonlocal_on:
                continue
            if name.endswith(".alpha") or name.endswith(".beta"):
                p.mul_(1.0 + 0.2 * torch.randn_like(p))
            elif "zbl_repulsion_energy" in name or name.endswith("_alpha"):
                p.add_(0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn_like(p))
            else:
                scale = 1.0 / max(p.shape[-1], 1) ** 0.5
                p.mul_(1.1).add_(0.5 * scale * torch.randn_like(p))


def our_config(cfg):
    return {"model_type": "spookynet", **cfg,
            "energy_scale": {"atomref": [0.0] * 119, "mean": 0.0, "std": 1.0}}


def golden(SpookyNet, case, cfg, seed):
    torch.manual_seed(seed)
    np.random.seed(seed)  # the reference draws attention.omega with numpy
    model = build(SpookyNet, cfg)
    nonlocal_on = cfg["use_nonlocal_interaction"]
    if not nonlocal_on:
        drop_nonlocal(model)
    randomise(model, nonlocal_on)
    sd = {k: v for k, v in model.state_dict().items()
          if nonlocal_on or "nonlocal_interaction" not in k}
    if not nonlocal_on:  # "ssp": the table is checked with "swish" already (file size)
        del sd["nuclear_embedding.electron_config"]
    print(f"== {case}: {sum(v.numel() for v in sd.values())} numbers in the state dict")
    mols = [MOLECULES[0], MOLECULES[1],
            (MOLECULES[2][0], [[STRETCH * x for x in p] for p in MOLECULES[2][1]])]
    z, r, ii, jj, seg = batch(mols)
    q = torch.tensor(CHARGE, dtype=torch.float64)
    s = torch.tensor(MAGMOM, dtype=torch.float64)
    r.requires_grad_(True)
    out = model.energy_and_forces(Z=z, Q=q, S=s, R=r, idx_i=ii, idx_j=jj,
                                  num_batch=len(mols), batch_seg=seg)
    energy, forces = out[0], out[1]
    ea_rep = out[5]
    io = {"numbers": z, "positions": r.detach().clone(), "idx_i": ii, "idx_j": jj,
          "structure_of": seg, "charge": q, "magmom": s,
          "energy": energy.detach().clone(), "forces": forces.detach().clone()}
    print(f"  pairs {len(ii)}, energies {energy.tolist()}, "
          f"ZBL part {ea_rep.detach().sum().item():.6f}, "
          f"electrostatic part {out[6].detach().sum().item():.6f}")
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.detach().clone().contiguous() for k, v in sd.items()},
              os.path.join(d, "state_dict.safetensors"))
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(d, "io.safetensors"))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(our_config(cfg), f, indent=2)
        f.write("\n")


BASE = dict(activation="swish", num_features=8, num_basis_functions=6, num_modules=2,
            num_residual_electron=1, num_residual_pre=1, num_residual_local_x=1,
            num_residual_local_s=1, num_residual_local_p=1, num_residual_local_d=1,
            num_residual_local=1, num_residual_post=1, num_residual_output=1,
            basis_functions="exp-bernstein", exp_weighting=True, cutoff=4.0,
            use_zbl_repulsion=True, use_irreps=True, use_nonlocal_interaction=True,
            num_residual_nonlocal_q=1, num_residual_nonlocal_k=1, num_residual_nonlocal_v=1,
            use_electrostatics=False, lr_cutoff=None)


def count(SpookyNet):
    """Parameter counts of the preset sizes (configs/ff-spookynet.toml), with and without the
    nonlocal blocks chemlm leaves out."""
    cfg = {**BASE, "num_features": 128, "num_basis_functions": 64, "num_modules": 6,
           "cutoff": 5.291772105638412}
    model = build(SpookyNet, cfg)
    total = sum(p.numel() for p in model.parameters())
    local = sum(p.numel() for n, p in model.named_parameters()
                if "nonlocal_interaction" not in n)
    print(f"preset: {total} parameters in the reference, {local} without nonlocal_interaction")


def main():
    SpookyNet = import_reference()
    if "--count" in sys.argv:
        count(SpookyNet)
        return
    golden(SpookyNet, "swish", BASE, 1234)
    golden(SpookyNet, "ssp", {**BASE, "activation": "ssp", "use_irreps": False,
                              "exp_weighting": False, "num_residual_pre": 2,
                              "use_nonlocal_interaction": False,
                              "use_electrostatics": True, "lr_cutoff": 5.0,
                              "num_features": 6}, 4321)


if __name__ == "__main__":
    main()
