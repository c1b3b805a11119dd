"""In-process speed of the chemlm Python module against the `selfies` package and RDKit.

    benches/python/run.sh            # via quiet-run; or directly, in a venv with chemlm installed:
    python benches/python/bench.py --n 100000 --rounds 3 --threads 1

Same molecules (the first N MOSES test SMILES), same thread count for both sides (chemlm's rayon
pool is sized by --threads; `selfies` and RDKit run on one thread), rounds interleaved (reference,
then chemlm, per task per round), medians reported. chemlm is timed twice: a Python loop of
single calls (the drop-in path) and one list call (the batch path).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time


def load(path: str, n: int):
    with gzip.open(path, "rt") as f:
        next(f)
        out = []
        for line in f:
            out.append(line.split(",")[0].strip())
            if len(out) == n:
                break
    return out


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def import_time(python: str, module: str, rounds: int = 7) -> float:
    """Median wall time of a fresh interpreter importing `module`, minus one importing numpy."""
    def once(stmt):
        t = time.perf_counter()
        subprocess.run([python, "-c", stmt], check=True)
        return time.perf_counter() - t

    base = [once("import numpy") for _ in range(rounds)]
    full = [once(f"import numpy, {module}") for _ in range(rounds)]
    return statistics.median(full) - statistics.median(base)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=os.path.join(os.environ.get("CHEMLM_DATA_DIR", "../shared/data"), "moses", "test.csv.gz"))
    a = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(a.threads)  # before chemlm starts its pool

    import numpy as np
    import selfies
    from rdkit import Chem, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    import chemlm
    import chemlm.selfies as sf

    RDLogger.DisableLog("rdApp.*")
    smiles = load(a.data, a.n)
    encoded = [selfies.encoder(s) for s in smiles]
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)

    def rdkit_canon():
        return [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in smiles]

    def rdkit_fp():
        out = np.zeros((len(smiles), 2048), dtype=np.uint8)
        for i, s in enumerate(smiles):
            out[i] = gen.GetFingerprintAsNumPy(Chem.MolFromSmiles(s))
        return out

    tasks = {
        "selfies encode": (
            lambda: [selfies.encoder(s) for s in smiles],
            lambda: [sf.encoder(s) for s in smiles],
            lambda: sf.encoder_batch(smiles),
        ),
        "selfies decode": (
            lambda: [selfies.decoder(s) for s in encoded],
            lambda: [sf.decoder(s) for s in encoded],
            lambda: sf.decoder_batch(encoded),
        ),
        "canonical SMILES": (
            rdkit_canon,
            lambda: [chemlm.canon(s) for s in smiles],
            lambda: chemlm.canon(smiles),
        ),
        "Morgan r=2 2048 bits to numpy": (
            rdkit_fp,
            lambda: np.stack([chemlm.fingerprint(s) for s in smiles]),
            lambda: chemlm.fingerprint(smiles),
        ),
    }
    times = {k: ([], [], []) for k in tasks}
    checks = {}
    for r in range(a.rounds):
        for name, fns in tasks.items():
            outs = []
            for i, fn in enumerate(fns):
                t, out = timed(fn)
                times[name][i].append(t)
                outs.append(out)
            if r == 0:
                ref, loop, batch = outs
                if isinstance(ref, np.ndarray):
                    checks[name] = bool(np.array_equal(ref, loop) and np.array_equal(ref, batch))
                else:
                    checks[name] = ref == loop == batch
            print(f"round {r + 1}: {name} done", file=sys.stderr)
    result = {
        "molecules": len(smiles),
        "threads": a.threads,
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "tasks": {},
    }
    for name, (ref, loop, batch) in times.items():
        m = [statistics.median(x) for x in (ref, loop, batch)]
        result["tasks"][name] = {
            "reference_s": m[0],
            "chemlm_loop_s": m[1],
            "chemlm_batch_s": m[2],
            "reference_mol_per_s": len(smiles) / m[0],
            "chemlm_loop_mol_per_s": len(smiles) / m[1],
            "chemlm_batch_mol_per_s": len(smiles) / m[2],
            "ratio_loop": m[0] / m[1],
            "ratio_batch": m[0] / m[2],
            "identical_output": checks[name],
        }
    result["import_s"] = {
        "chemlm": import_time(sys.executable, "chemlm"),
        "selfies": import_time(sys.executable, "selfies"),
        "rdkit.Chem": import_time(sys.executable, "rdkit.Chem"),
    }
    native = chemlm._native.__file__
    result["native_library_bytes"] = os.path.getsize(native)
    print(json.dumps(result, indent=1))
    print(f"\n{len(smiles)} MOSES test molecules, {a.threads} thread(s), medians of {a.rounds} interleaved rounds")
    print(f"{'task':34}{'reference/s':>12}{'chemlm loop/s':>15}{'chemlm list/s':>15}{'loop':>8}{'list':>8}  same output")
    for name, t in result["tasks"].items():
        print(f"{name:34}{t['reference_mol_per_s']:12.0f}{t['chemlm_loop_mol_per_s']:15.0f}{t['chemlm_batch_mol_per_s']:15.0f}"
              f"{t['ratio_loop']:7.1f}x{t['ratio_batch']:7.1f}x  {t['identical_output']}")
    print("import time over numpy (s): " + ", ".join(f"{k} {v:.3f}" for k, v in result["import_s"].items()))


if __name__ == "__main__":
    main()
