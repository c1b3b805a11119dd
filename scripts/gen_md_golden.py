#!/usr/bin/env python3
"""Golden trajectories for chemlm-atoms' molecular dynamics (crates/chemlm-atoms/src/md).

Reference: ASE (ase.md.verlet.VelocityVerlet, ase.md.langevinbaoab.LangevinBAOAB,
ase.calculators.lj.LennardJones, ase.md.velocitydistribution.Stationary / ZeroRotation).

System: a 13-atom Lennard-Jones cluster (perturbed icosahedron) mixing Ar and Ne so that
per-atom masses matter, started with fixed Maxwell-Boltzmann velocities (numpy, seeded).

Cases (each trajectory starts from the same positions and velocities):
  * verlet_shifted: VelocityVerlet, LJ smooth=False (energy shifted at rc = 3 sigma).
  * verlet_smooth:  VelocityVerlet, LJ smooth=True, rc = 8 A (pairs inside the switch region).
  * baoab_t0:       LangevinBAOAB at temperature_K=0 (friction only, no noise: deterministic,
                    checks the B-A-O-A-B order and the friction factor), T_tau = 1/gamma.
  * zero_momentum:  Stationary(atoms) then ZeroRotation(atoms) on the starting velocities.

Velocities are stored in A/fs (ASE velocity * units.fs), energies in eV, forces in eV/A.

Run:  pip install ase && python scripts/gen_md_golden.py
Writes crates/chemlm-atoms/tests/golden/md/ase_lj13.json.
"""
import json
import pathlib

import ase
import numpy as np
from ase import Atoms, units
from ase.calculators.lj import LennardJones
from ase.md.langevinbaoab import LangevinBAOAB
from ase.md.velocitydistribution import Stationary, ZeroRotation
from ase.md.verlet import VelocityVerlet

OUT = pathlib.Path(__file__).resolve().parents[1] / "crates/chemlm-atoms/tests/golden/md/ase_lj13.json"
EPS, SIGMA = 0.0104, 3.4  # argon-like, eV and A
DT_FS = 5.0
STEPS = 50
RECORD_EVERY = 5
GAMMA_PER_FS = 0.02

rng = np.random.default_rng(20261204)


def icosahedron(r):
    phi = (1 + 5**0.5) / 2
    v = []
    for s1 in (-1, 1):
        for s2 in (-1, 1):
            v += [(0, s1, s2 * phi), (s1, s2 * phi, 0), (s2 * phi, 0, s1)]
    v = np.array(v, dtype=float)
    v *= r / np.linalg.norm(v[0])
    return np.vstack([np.zeros(3), v])


positions = icosahedron(2 ** (1 / 6) * SIGMA * 0.98) + rng.normal(scale=0.08, size=(13, 3))
numbers = [18, 18, 10, 18, 18, 10, 18, 18, 18, 10, 18, 18, 18]


def fresh():
    atoms = Atoms(numbers=numbers, positions=positions)
    return atoms


masses = fresh().get_masses()
kT = units.kB * 60.0  # 60 K
momenta = rng.standard_normal((13, 3)) * np.sqrt(masses * kT)[:, None]


def frame(atoms, step):
    return {
        "step": step,
        "positions": atoms.get_positions().tolist(),
        "velocities": (atoms.get_velocities() * units.fs).tolist(),
        "forces": atoms.get_forces().tolist(),
        "epot": float(atoms.get_potential_energy()),
        "ekin": float(atoms.get_kinetic_energy()),
        "temperature": float(atoms.get_temperature()),
    }


def trajectory(calc_params, make_dyn):
    atoms = fresh()
    atoms.set_momenta(momenta.copy())
    atoms.calc = LennardJones(**calc_params)
    dyn = make_dyn(atoms)
    frames = [frame(atoms, 0)]
    etot = [float(atoms.get_potential_energy() + atoms.get_kinetic_energy())]
    for step in range(1, STEPS + 1):
        dyn.step()
        etot.append(float(atoms.get_potential_energy() + atoms.get_kinetic_energy()))
        if step % RECORD_EVERY == 0:
            frames.append(frame(atoms, step))
    return frames, etot


shifted = {"epsilon": EPS, "sigma": SIGMA, "rc": 3 * SIGMA, "smooth": False}
smooth = {"epsilon": EPS, "sigma": SIGMA, "rc": 8.0, "ro": 0.66 * 8.0, "smooth": True}
cases = []
for name, params, kind in [
    ("verlet_shifted", shifted, "verlet"),
    ("verlet_smooth", smooth, "verlet"),
    ("baoab_t0", smooth, "baoab"),
]:
    if kind == "verlet":
        make = lambda a: VelocityVerlet(a, timestep=DT_FS * units.fs)  # noqa: E731
    else:
        make = lambda a: LangevinBAOAB(  # noqa: E731
            a,
            timestep=DT_FS * units.fs,
            temperature_K=0.0,
            T_tau=units.fs / GAMMA_PER_FS,
            rng=0,
        )
    frames, etot = trajectory(params, make)
    cases.append(
        {
            "name": name,
            "lj": {k: params[k] for k in ("epsilon", "sigma", "rc", "smooth")}
            | ({"ro": params["ro"]} if params["smooth"] else {}),
            "integrator": kind,
            "temperature_k": 0.0 if kind == "baoab" else None,
            "friction_per_fs": GAMMA_PER_FS if kind == "baoab" else None,
            "dt_fs": DT_FS,
            "steps": STEPS,
            "record_every": RECORD_EVERY,
            "etot": etot,
            "frames": frames,
        }
    )

atoms = fresh()
atoms.set_momenta(momenta.copy())
t0 = float(atoms.get_temperature())
Stationary(atoms)
after_stationary = (atoms.get_velocities() * units.fs).tolist()
ZeroRotation(atoms)
after_rotation = (atoms.get_velocities() * units.fs).tolist()

out = {
    "ase_version": ase.__version__,
    "fs_in_ase_time": units.fs,
    "kB": units.kB,
    "numbers": numbers,
    "masses": masses.tolist(),
    "positions": positions.tolist(),
    "velocities": (momenta / masses[:, None] * units.fs).tolist(),
    "cases": cases,
    "zero_momentum": {
        "temperature_before": t0,
        "after_stationary": after_stationary,
        "after_zero_rotation": after_rotation,
        "temperature_after": float(atoms.get_temperature()),
    },
}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
