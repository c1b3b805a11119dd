#!/usr/bin/env python3
"""Golden power-law fits for crates/chemlm-train/tests/scaling_golden.rs.

Synthetic losses L = a·R^-b (+ c) with known exponents and seeded multiplicative noise, fitted
with scipy.optimize.curve_fit on ln L (the objective chemlm minimises):
  ln L = ln a − b ln R            and            ln L = ln(a·R^-b + c).
Writes crates/chemlm-train/tests/golden/scaling.json.
"""
import json
import os

import numpy as np
from scipy.optimize import curve_fit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    rng = np.random.default_rng(0)
    cases = []
    for name, a, b, c, rs, noise in [
        ("params", 9.0, 0.17, 0.0, np.logspace(4, 8, 9), 0.01),
        ("data", 4.0, 0.30, 0.0, np.logspace(3, 6, 7), 0.02),
        ("compute_offset", 30.0, 0.25, 0.6, np.logspace(10, 16, 13), 0.005),
        ("params_offset", 12.0, 0.35, 0.9, np.logspace(4, 9, 11), 0.003),
    ]:
        ls = (a * rs ** (-b) + c) * np.exp(rng.normal(0, noise, len(rs)))
        x, y = np.log(rs), np.log(ls)
        (la, fb), _ = curve_fit(lambda x, la, b: la - b * x, x, y, p0=[0.0, 0.1])
        plain = {"a": float(np.exp(la)), "b": float(fb), "c": 0.0}
        off = None
        if c > 0:
            xbar = x.mean()

            def f(x, al, b, c):
                return np.log(np.exp(al - b * (x - xbar)) + c)

            (al, ob, oc), _ = curve_fit(
                f, x, y, p0=[np.log(ls.mean()), 0.2, 0.5 * ls.min()],
                bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, np.inf]), max_nfev=20000,
                ftol=1e-15, xtol=1e-15, gtol=1e-15,
            )
            off = {"a": float(np.exp(al + ob * xbar)), "b": float(ob), "c": float(oc)}
        cases.append({
            "name": name, "true": {"a": a, "b": b, "c": c},
            "points": [[float(r), float(l)] for r, l in zip(rs, ls)],
            "fit": plain, "fit_offset": off,
        })
    path = os.path.join(ROOT, "crates/chemlm-train/tests/golden/scaling.json")
    with open(path, "w") as fh:
        fh.write("[\n" + ",\n".join(json.dumps(c) for c in cases) + "\n]\n")
    for c in cases:
        print(c["name"], c["fit"], c["fit_offset"])


if __name__ == "__main__":
    main()
