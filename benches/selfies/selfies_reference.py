#!/usr/bin/env python3
"""Python `selfies` reference side of the SELFIES benchmarks (parity and throughput).

    selfies_reference.py dump OUT.tsv [--data DIR] [--limit N]
        Encodes every MoleculeNet (molnet/*.csv[.gz], first column) and MOSES test molecule with
        selfies.encoder and decodes the result with selfies.decoder, using all cores. Writes
        `source<TAB>smiles<TAB>selfies<TAB>decoded` ("!ERROR" where Python raised).

    selfies_reference.py throughput INPUT.tsv --procs P
        Times encoder and decoder on the `smiles` column of INPUT (first N lines prepared by the
        driver) in P processes; prints one JSON line with molecules/s and peak RSS (VmHWM, kB).

Needs `pip install selfies==2.2.0`. Used by benches/selfies/parity.sh and throughput.sh.
"""
import argparse
import csv
import gzip
import json
import multiprocessing as mp
import os
import resource
import sys
import time

import selfies as sf

ERR = "!ERROR"


def read_sources(data_dir):
    """(source, smiles) for all MoleculeNet files and the MOSES test set, in a fixed order."""
    molnet = os.path.join(data_dir, "molnet")
    names = sorted(f for f in os.listdir(molnet) if f.endswith(".csv") or f.endswith(".csv.gz"))
    files = [(f"molnet/{n}", os.path.join(molnet, n)) for n in names]
    files.append(("moses/test.csv.gz", os.path.join(data_dir, "moses", "test.csv.gz")))
    for source, path in files:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)  # header
            for row in reader:
                if row and row[0] and "\t" not in row[0]:
                    yield source, row[0]


def _encode_decode(smiles):
    try:
        s = sf.encoder(smiles)
    except Exception:  # noqa: BLE001 - any failure counts as "Python does not encode it"
        return ERR, ""
    try:
        d = sf.decoder(s)
    except Exception:  # noqa: BLE001
        d = ERR
    return s, d


def dump(args):
    rows = list(read_sources(args.data))
    if args.limit:
        rows = rows[: args.limit]
    t = time.time()
    with mp.Pool(os.cpu_count()) as pool:
        results = pool.map(_encode_decode, [s for _, s in rows], chunksize=2000)
    with open(args.out, "w") as out:
        for (source, smi), (s, d) in zip(rows, results):
            out.write(f"{source}\t{smi}\t{s}\t{d}\n")
    print(f"python: {len(rows)} molecules dumped to {args.out} in {time.time() - t:.1f} s",
          file=sys.stderr)


def _time_chunk(smiles):
    t = time.perf_counter()
    enc = []
    for s in smiles:
        try:
            enc.append(sf.encoder(s))
        except Exception:  # noqa: BLE001
            pass
    t_enc = time.perf_counter() - t
    t = time.perf_counter()
    for s in enc:
        sf.decoder(s)
    t_dec = time.perf_counter() - t
    return t_enc, t_dec, len(enc), vm_hwm_kb()


def vm_hwm_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def throughput(args):
    with open(args.input) as fh:
        smiles = [line.split("\t")[0].rstrip("\n") for line in fh if line.strip()]
    p = args.procs
    chunks = [smiles[i::p] for i in range(p)]
    t0 = time.perf_counter()
    if p == 1:
        results = [_time_chunk(chunks[0])]
    else:
        with mp.Pool(p) as pool:
            results = pool.map(_time_chunk, chunks)
    wall = time.perf_counter() - t0
    n_enc = sum(r[2] for r in results)
    # Per-phase wall time of the slowest worker (the workers run both phases in parallel).
    t_enc = max(r[0] for r in results)
    t_dec = max(r[1] for r in results)
    print(json.dumps({
        "procs": p,
        "molecules": len(smiles),
        "encoded": n_enc,
        "encode_per_s": len(smiles) / t_enc,
        "decode_per_s": n_enc / t_dec,
        "wall_s": wall,
        "vm_hwm_kb_per_process": max(r[3] for r in results),
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--data", default=os.environ.get("CHEMLM_DATA_DIR", "../shared/data"))
    d.add_argument("--limit", type=int, default=0)
    t = sub.add_parser("throughput")
    t.add_argument("input")
    t.add_argument("--procs", type=int, default=1)
    args = ap.parse_args()
    {"dump": dump, "throughput": throughput}[args.cmd](args)


if __name__ == "__main__":
    main()
