#!/usr/bin/env python3
"""RDKit reference for crates/chemlm-chem/benches/canon.rs: the same tasks on the same input.

  canon:  Chem.MolToSmiles(Chem.MolFromSmiles(s))
  morgan: GetMorganGenerator(radius=2, fpSize=2048).GetFingerprint(Chem.MolFromSmiles(s)) on-bits
  brics:  sorted(Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(Chem.MolFromSmiles(s))).split('.'))
          joined by '.' (MOSES's Frag pieces; not part of --task all)

Runs each task in one process and in a pool of --procs worker processes (RDKit's Python API holds
the GIL, so processes are how a Python user gets parallelism). Prints RESULT lines in the format of
the Rust bench; --out writes one result per input line (empty for a failed molecule).

usage: rdkit_canon.py [--input FILE] [--limit N] [--procs P] [--task canon|morgan|all|brics] [--out FILE]
                      [--repeat K]   (timings are the best of K passes, default 3)
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import sys
import time
from multiprocessing import Pool

from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem, rdFingerprintGenerator

RDLogger.DisableLog("rdApp.*")
_GEN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def canon(s: str) -> str:
    m = Chem.MolFromSmiles(s)
    return "" if m is None else Chem.MolToSmiles(m)


def morgan(s: str) -> str:
    m = Chem.MolFromSmiles(s)
    return "" if m is None else " ".join(map(str, _GEN.GetFingerprint(m).GetOnBits()))


def brics(s: str) -> str:
    m = Chem.MolFromSmiles(s)
    return "" if m is None else ".".join(sorted(Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(m)).split(".")))


TASKS = {"canon": canon, "morgan": morgan, "brics": brics}


def canon_chunk(chunk: list[str]) -> tuple[list[str], float]:
    t = time.process_time()
    out = [canon(s) for s in chunk]
    return out, time.process_time() - t


def morgan_chunk(chunk: list[str]) -> tuple[list[str], float]:
    t = time.process_time()
    out = [morgan(s) for s in chunk]
    return out, time.process_time() - t


def brics_chunk(chunk: list[str]) -> tuple[list[str], float]:
    t = time.process_time()
    out = [brics(s) for s in chunk]
    return out, time.process_time() - t


CHUNKED = {"canon": canon_chunk, "morgan": morgan_chunk, "brics": brics_chunk}


def read_smiles(path: str, limit: int) -> list[str]:
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt") as f:
        for i, line in enumerate(f):
            field = line.replace(",", " ").split()[0] if line.strip() else ""
            if i == 0 and field.lower() == "smiles":
                continue
            out.append(field)
            if len(out) == limit:
                break
    return out


def peak_rss_mib(children: bool) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def main() -> int:
    p = argparse.ArgumentParser()
    default = os.path.join(os.environ.get("CHEMLM_DATA_DIR", ""), "moses", "test.csv.gz")
    p.add_argument("--input", default=default)
    p.add_argument("--limit", type=int, default=100_000)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--task", default="all", choices=["canon", "morgan", "all", "brics"])
    p.add_argument("--out")
    p.add_argument("--skip-single", action="store_true", help="only the multi-process run")
    p.add_argument("--repeat", type=int, default=3, help="timed passes; the best one is reported")
    a = p.parse_args()
    smiles = read_smiles(a.input, a.limit)
    print(f"rdkit {Chem.rdBase.rdkitVersion}: {len(smiles)} molecules from {a.input}")
    tasks = ["canon", "morgan"] if a.task == "all" else [a.task]
    for name in tasks:
        f = TASKS[name]
        for s in smiles[:2000]:  # warm-up, as the Rust bench
            f(s)
        out = None
        if not a.skip_single:
            best = None
            for _ in range(max(1, a.repeat)):
                t, c = time.perf_counter(), time.process_time()
                res = [f(s) for s in smiles]
                secs, cpu = time.perf_counter() - t, time.process_time() - c
                if best is None or secs < best[1]:
                    best = (res, secs, cpu)
            out, secs, cpu = best
            failed = sum(1 for o in out if not o and name != "morgan")
            print(
                f"RESULT rdkit {name} procs=1 molecules={len(smiles)} failed={failed} best_of={a.repeat} seconds={secs:.3f} "
                f"mol_per_s={len(smiles) / secs:.0f} cpu_s={cpu:.3f} mol_per_cpu_s={len(smiles) / cpu:.0f} "
                f"peak_rss_mib={peak_rss_mib(False):.1f}"
            )
        if a.procs > 1:
            chunk = 1000
            chunks = [smiles[i : i + chunk] for i in range(0, len(smiles), chunk)]
            with Pool(a.procs) as pool:
                pool.map(CHUNKED[name], chunks[:2])  # start and warm the workers
                best = None
                for _ in range(max(1, a.repeat)):
                    t = time.perf_counter()
                    res = pool.map(CHUNKED[name], chunks)
                    secs = time.perf_counter() - t
                    if best is None or secs < best[1]:
                        best = (res, secs)
            parts, secs = best
            out_p = [x for part, _ in parts for x in part]
            # CPU time inside the workers' task loops (IPC and pickling not counted: favours RDKit).
            cpu = sum(c for _, c in parts)
            failed = sum(1 for o in out_p if not o and name != "morgan")
            print(
                f"RESULT rdkit {name} procs={a.procs} molecules={len(smiles)} failed={failed} best_of={a.repeat} seconds={secs:.3f} "
                f"mol_per_s={len(smiles) / secs:.0f} cpu_s={cpu:.3f} mol_per_cpu_s={len(smiles) / cpu:.0f} "
                f"peak_rss_mib={peak_rss_mib(False):.1f}+{peak_rss_mib(True):.1f}(workers)"
            )
            out = out or out_p
        if a.out:
            path = a.out if a.task != "all" else f"{os.path.splitext(a.out)[0]}.{name}.txt"
            tmp = path + ".tmp"
            with open(tmp, "w") as fh:
                fh.writelines(o + "\n" for o in out)
            os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
