#!/usr/bin/env python3
"""Python reference for `chemlm data prepare --no-canonicalize` (benches/data/run.sh runs both).

The same work, the way a Python user would write it: read the gzip CSV, tokenize every SMILES with
MoLFormer's regex (`re.findall`, on N worker processes), build the vocabulary (specials first, then
by frequency), map to ids with <bos>/<eos>, and write a flat uint16 token array plus uint64 offsets
with numpy. With --canonicalize, RDKit canonical SMILES first (the reference for that mode).
Prints one JSON line like the Rust bench.
"""

import argparse
import gzip
import json
import os
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from multiprocessing import Pool

import numpy as np

# MoLFormer's pattern, verbatim (a non-raw string: "\\\\" is one escaped backslash for `re`).
PATTERN = "(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])"  # noqa: W605
REGEX = re.compile(PATTERN)
SPECIALS = ["<bos>", "<eos>", "<pad>", "<mask>", "<unk>"]
CANON = False


def work(chunk):
    if CANON:
        from rdkit import Chem, RDLogger
        RDLogger.DisableLog("rdApp.*")
        out = []
        for s in chunk:
            m = Chem.MolFromSmiles(s)
            if m is not None:
                out.append(REGEX.findall(Chem.MolToSmiles(m)))
        return out
    return [REGEX.findall(s) for s in chunk]


def init(canon):
    global CANON
    CANON = canon


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--canonicalize", action="store_true")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()

    t0 = time.perf_counter()
    with gzip.open(args.input, "rt") as f:
        f.readline()  # header
        smiles = [line.rstrip("\n") for line in f]
    if args.limit:
        smiles = smiles[: args.limit]
    chunks = [smiles[i:i + 20000] for i in range(0, len(smiles), 20000)]
    with Pool(args.procs, initializer=init, initargs=(args.canonicalize,)) as pool:
        toks = [t for part in pool.imap(work, chunks) for t in part]
    counts = Counter(t for ts in toks for t in ts)
    vocab = SPECIALS + sorted(counts, key=lambda t: (-counts[t], t))
    ids = {t: i for i, t in enumerate(vocab)}
    lens = np.fromiter((len(ts) + 2 for ts in toks), dtype=np.uint64, count=len(toks))
    offsets = np.zeros(len(toks) + 1, dtype=np.uint64)
    np.cumsum(lens, out=offsets[1:])
    flat = np.fromiter(
        (i for ts in toks for i in (0, *(ids[t] for t in ts), 1)), dtype=np.uint16, count=int(offsets[-1])
    )
    with tempfile.TemporaryDirectory() as d:
        flat.tofile(os.path.join(d, "train.tokens"))
        offsets.tofile(os.path.join(d, "train.offsets"))
        with open(os.path.join(d, "vocab.json"), "w") as f:
            json.dump(vocab, f)
        secs = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({
        "impl": "python",
        "task": "canonicalize+tokenize+shards" if args.canonicalize else "tokenize+shards",
        "input": args.input,
        "threads": args.procs,
        "molecules": len(smiles),
        "tokens": int(offsets[-1]),
        "vocab_size": len(vocab),
        "seconds": secs,
        "mol_per_s": len(smiles) / secs,
        "vmhwm_kib": own,
        "vmhwm_children_kib": kids,
    }))


if __name__ == "__main__":
    sys.exit(main())
