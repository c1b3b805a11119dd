#!/usr/bin/env python3
"""How much of each MoleculeNet set a model's vocabulary cannot spell.

For every molecule: RDKit canonical SMILES, split by the model's tokenizer.json regex, and counted
against its vocabulary. Prints the share of molecules with at least one out-of-vocabulary token, the
share of tokens, and the most frequent unknown tokens (docs/benchmarks.md, "Why it falls short").

    python3 scripts/unk_stats.py MODEL_DIR [DATA_DIR]   # DATA_DIR defaults to $CHEMLM_DATA_DIR
"""
import csv
import gzip
import io
import json
import os
import re
import sys
from collections import Counter

from rdkit import Chem, RDLogger

SETS = [("bbbp.csv", "smiles"), ("bace.csv", "mol"), ("clintox.csv", "smiles"),
        ("delaney.csv", "smiles"), ("freesolv.csv", "smiles"), ("lipo.csv", "smiles"),
        ("sider.csv", "smiles"), ("tox21.csv", "smiles"), ("hiv.csv.gz", "smiles")]


def main() -> None:
    RDLogger.DisableLog("rdApp.*")
    model = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CHEMLM_DATA_DIR", "../shared/data")
    tok = json.load(open(os.path.join(model, "tokenizer.json")))
    vocab = tok["model"]["vocab"]
    pattern = re.compile(tok["pre_tokenizer"]["pattern"]["Regex"])
    for name, col in SETS:
        path = os.path.join(data, "molnet", name)
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rb") as f:
            rows = list(csv.DictReader(io.TextIOWrapper(f)))
        mols = with_unk = unk = total = 0
        top = Counter()
        for r in rows:
            m = Chem.MolFromSmiles(r[col])
            if m is None:
                continue
            toks = pattern.findall(Chem.MolToSmiles(m))
            missing = [t for t in toks if t not in vocab]
            mols += 1
            with_unk += bool(missing)
            unk += len(missing)
            total += len(toks)
            top.update(missing)
        print(f"{name:14s} {mols:6d} molecules; with <unk>: {100 * with_unk / mols:5.1f} %; "
              f"<unk> tokens: {100 * unk / total:4.1f} %; top: {[t for t, _ in top.most_common(4)]}")


if __name__ == "__main__":
    main()
