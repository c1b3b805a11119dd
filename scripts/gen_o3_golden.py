#!/usr/bin/env python3
"""Golden file for chemlm-ff's o3 module: real spherical harmonics, Wigner 3j symbols and
Allegro's strided tensor product ("Contracter"), from e3nn 0.6 and nequip-allegro 0.8.

    pip install e3nn==0.6.0 nequip-allegro==0.8.3   # torch from the project's constraints
    python3 scripts/gen_o3_golden.py

Writes crates/chemlm-ff/tests/golden/o3/o3.json (float64 throughout)."""
import json
import math
import pathlib

import torch
from e3nn import o3
from allegro.nn._strided import Contracter

torch.set_default_dtype(torch.float64)
torch.manual_seed(7)
out_dir = pathlib.Path(__file__).resolve().parents[1] / "crates/chemlm-ff/tests/golden/o3"
out_dir.mkdir(parents=True, exist_ok=True)


def flat(t):
    return [float(x) for x in t.detach().reshape(-1)]


golden = {"e3nn": "0.6.0", "allegro": "0.8.3"}

# Spherical harmonics: component normalisation, inputs normalised (Allegro's settings); lengths
# deliberately not one. The last vector lies on an axis (0/0-prone in naive code).
vecs = torch.randn(12, 3) * 2.0
vecs = torch.cat([vecs, torch.tensor([[0.0, 0.0, 1.5], [-0.3, 0.0, 0.0]])])
sh = o3.SphericalHarmonics(o3.Irreps.spherical_harmonics(3), True, "component")(vecs)
golden["sh"] = {"lmax": 3, "vectors": flat(vecs), "values": flat(sh)}

# Wigner 3j for every admissible (l1, l2, l3) with l ≤ 3.
w3j = []
for l1 in range(4):
    for l2 in range(4):
        for l3 in range(abs(l1 - l2), min(l1 + l2, 3) + 1):
            w3j.append({"l": [l1, l2, l3], "values": flat(o3.wigner_3j(l1, l2, l3))})
golden["wigner_3j"] = w3j


def irreps_list(irreps):
    return [[ir.l, ir.p] for _, ir in irreps]


# Strided tensor products as Allegro builds them (multiplicity 1 per irrep, `mul` channels).
cases = []
specs = [
    ("0e+1o+2e", "0e+1o+2e", "0e+0o+1e+1o+2e+2o", 3, True),
    ("0e+1o+2e", "0e+1o+2e", "0e+1o+2e", 4, False),
    ("0e+1o+1e+2e", "0e+1o+2e", "0e", 2, True),
    ("0e+1o", "0e+1o", "0e+1o+1e", 2, True),
]
for in1, in2, out, mul, coupling in specs:
    tp = Contracter(
        irreps_in1=o3.Irreps(in1),
        irreps_in2=o3.Irreps(in2),
        irreps_out=o3.Irreps(out),
        mul=mul,
        path_channel_coupling=coupling,
    )
    with torch.no_grad():
        tp.weights.uniform_(-1.5, 1.5)
    n_edges, n_nodes = 5, 3
    x1 = torch.randn(n_edges, mul, o3.Irreps(in1).dim)
    x2 = torch.randn(n_nodes, mul, o3.Irreps(in2).dim)
    idx = torch.tensor([0, 2, 1, 2, 0])
    y = tp(x1, x2, idx)
    instructions = []
    for i_out, (_, ir_out) in enumerate(o3.Irreps(out)):
        for i1, (_, ir1) in enumerate(o3.Irreps(in1)):
            for i2, (_, ir2) in enumerate(o3.Irreps(in2)):
                if ir_out in ir1 * ir2:
                    instructions.append([i1, i2, i_out])
    cases.append(
        {
            "irreps_in1": irreps_list(o3.Irreps(in1)),
            "irreps_in2": irreps_list(o3.Irreps(in2)),
            "irreps_out": irreps_list(o3.Irreps(out)),
            "mul": mul,
            "path_channel_coupling": coupling,
            "instructions": instructions,
            "weights_shape": list(tp.weights.shape),
            "weights": flat(tp.weights),
            "x1": flat(x1),
            "x2": flat(x2),
            "idx": idx.tolist(),
            "n_edges": n_edges,
            "n_nodes": n_nodes,
            "out": flat(y),
            "out_dim": o3.Irreps(out).dim,
        }
    )
golden["contracter"] = cases

(out_dir / "o3.json").write_text(json.dumps(golden))
print("wrote", out_dir / "o3.json", sum(len(c["out"]) for c in cases), "TP outputs")
