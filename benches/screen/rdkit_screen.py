#!/usr/bin/env python3
"""RDKit reference for `chemlm screen`: the loop a user would write.

Reads the library (plain or gzip, first field of each line, a first line "SMILES" skipped), computes
the ECFP4 fingerprint (Morgan radius 2, 2048 bits, rdFingerprintGenerator), MAX-fused
BulkTanimotoSimilarity to the actives, keeps the top K with heapq. Single process (RDKit's Python
loop has no threads). Prints one JSON line like the Rust bench: molecules, seconds, mol/s, peak RSS.
"""
import argparse, gzip, heapq, json, resource, sys, time

from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator

RDLogger.DisableLog("rdApp.*")


def open_any(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", required=True)
    ap.add_argument("--actives", required=True)
    ap.add_argument("--top", type=int, default=1000)
    a = ap.parse_args()
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    t0 = time.perf_counter()
    queries = []
    for line in open(a.actives):
        f = line.split()
        if f and not f[0].startswith("#"):
            queries.append(gen.GetFingerprint(Chem.MolFromSmiles(f[0])))
    heap, n, invalid = [], 0, 0
    with open_any(a.library) as fh:
        for lineno, line in enumerate(fh, 1):
            f = line.split()
            if lineno == 1 and f and f[0].lower() == "smiles":
                continue
            n += 1
            m = Chem.MolFromSmiles(f[0]) if f else None
            if m is None:
                invalid += 1
                continue
            s = max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(m), queries))
            item = (s, -lineno)
            if len(heap) < a.top:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
    secs = time.perf_counter() - t0
    best = max(heap) if heap else None
    print(json.dumps({
        "task": "rdkit screen ecfp4 max",
        "threads": 1,
        "actives": len(queries),
        "molecules": n,
        "invalid": invalid,
        "seconds": secs,
        "mol_per_s": n / secs,
        "vmhwm_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "top1_score": best[0] if best else None,
        "top1_line": -best[1] if best else None,
        "topk_min_score": min(heap)[0] if heap else None,
    }))


if __name__ == "__main__":
    sys.exit(main())
