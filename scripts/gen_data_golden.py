#!/usr/bin/env python3
"""Golden files for chemlm-data's tests (tokenizers and splits).

Run from the repository root with CHEMLM_DATA_DIR pointing at the shared data (default ../shared/data):

    pip install tokenizers==0.23.3 selfies==2.2.0 rdkit==2026.9.1
    python3 scripts/gen_data_golden.py

Molecules come only from the PyPI-shipped sets (MOSES test split, QM9) plus hand-written edge cases.
It writes under crates/chemlm-data/tests/golden/:

- tok_smiles_corpus.txt / tok_selfies_corpus.txt: the sample, one string per line;
- tok_smiles.tokenizer.json / tok_selfies.tokenizer.json: OUR tokenizer.json, built by
  `cargo run --example build_tokenizer` from the corpus with min_freq 2 (so rare tokens are <unk>);
- tok_smiles_ref.jsonl / tok_selfies_ref.jsonl: per line, the reference tokens (MoLFormer's Python
  regex, verbatim from IBM/molformer, applied with `re.findall`; `selfies.split_selfies`), and the
  ids and decoded text that Hugging Face `tokenizers` gives when it loads our tokenizer.json;
- splits.json: chemprop 1.x split logic (transcribed below from chemprop/data/utils.py) on the
  same molecules with RDKit scaffolds, plus raw CPython `random` draws.
"""

import gzip
import json
import os
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import selfies as sf
import tokenizers
from rdkit import Chem, RDLogger
from rdkit.Chem.Scaffolds import MurckoScaffold

RDLogger.DisableLog("rdApp.*")

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "crates/chemlm-data/tests/golden"
DATA = Path(os.environ.get("CHEMLM_DATA_DIR", ROOT.parent / "shared/data"))

# MoLFormer's pattern exactly as in IBM/molformer (notebooks/pretrained_molformer/tokenizer/tokenizer.py):
# a NON-raw string, so "\\\\" is two backslash characters, i.e. the regex `\\` (one literal backslash).
MOLFORMER_PATTERN = "(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])"  # noqa: W605

EDGE_SMILES = [
    "C[C@@H](N)C(=O)O",
    "F/C=C/F",
    "C\\C=C\\C",
    "C\\\\C=C\\\\C",  # ClinTox's doubled backslash bonds
    "[2H]C([2H])([2H])O",
    "[NH4+].[Cl-]",
    "c1ccc2c(c1)[nH]c1ccccc12",
    "C1CCC%10CCCC%10C1",
    "BrCCCl",
    "B(O)O",
    "OP(=O)(O)O",
    "NS(=O)(=O)c1ccc(Cl)cc1",
    "ICC#N",
    "c1ccsc1",
    "c1ccoc1",
    "[se]1cccc1",
    "*C(=O)O",
    "[Cu+2].[O-]S(=O)(=O)[O-]",
    "C[C@]12CC[C@H]3[C@@H](CC=C4C[C@@H](O)CC[C@@]43C)[C@@H]1CC[C@@H]2O",
    "[Xe]",
    "[Rn]F",
    "C~C",
    "c1:c:c:c:c:c1",
    "CC>>CC",
    "C$C",
    "[O-][n+]1ccccc1",
    "Fc1c(F)c(F)c(F)c(F)c1F",
    "[Na+].[Na+].[O-]C([O-])=O",
]


def sample_rows(path, column, stride, limit):
    out = []
    with gzip.open(path, "rt") as f:
        header = f.readline().rstrip("\n").split(",")
        col = header.index(column)
        for i, line in enumerate(f):
            if i % stride == 0:
                out.append(line.rstrip("\n").split(",")[col])
                if len(out) == limit:
                    break
    return out


def molecules():
    moses = sample_rows(DATA / "moses/test.csv.gz", "SMILES", 1171, 150)
    qm9 = sample_rows(DATA / "molnet/qm9.csv.gz", "smiles", 871, 150)
    return moses, qm9


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


def build_ours(kind, corpus_path, out_path):
    subprocess.run(
        ["cargo", "run", "--quiet", "-p", "chemlm-data", "--example", "build_tokenizer", "--",
         kind, "2", str(corpus_path), str(out_path)],
        cwd=ROOT, check=True,
    )


def tokenizer_golden(kind, corpus, reference_split):
    corpus_path = GOLDEN / f"tok_{kind}_corpus.txt"
    json_path = GOLDEN / f"tok_{kind}.tokenizer.json"
    write_lines(corpus_path, corpus)
    build_ours(kind, corpus_path, json_path)
    hf = tokenizers.Tokenizer.from_file(str(json_path))
    rows = []
    for s in corpus:
        ref = reference_split(s)
        assert "".join(ref) == s, (kind, s, ref)
        enc = hf.encode(s)
        rows.append(json.dumps({
            "text": s,
            "tokens": ref,
            "hf_tokens": enc.tokens,
            "hf_ids": enc.ids,
            "hf_decoded": hf.decode(enc.ids),
        }, ensure_ascii=False))
    write_lines(GOLDEN / f"tok_{kind}_ref.jsonl", rows)


# ---- chemprop 1.x split logic (chemprop/data/utils.py), transcribed ---------------------------

def generate_scaffold(smiles):
    return MurckoScaffold.MurckoScaffoldSmiles(mol=Chem.MolFromSmiles(smiles), includeChirality=False)


def scaffold_split(smiles, sizes, balanced, seed):
    n = len(smiles)
    train_size, val_size, test_size = sizes[0] * n, sizes[1] * n, sizes[2] * n
    train, val, test = [], [], []
    scaffold_to_indices = defaultdict(set)
    for i, s in enumerate(smiles):
        scaffold_to_indices[generate_scaffold(s)].add(i)
    rnd = random.Random(seed)
    if balanced:
        index_sets = list(scaffold_to_indices.values())
        big, small = [], []
        for index_set in index_sets:
            if len(index_set) > val_size / 2 or len(index_set) > test_size / 2:
                big.append(index_set)
            else:
                small.append(index_set)
        rnd.seed(seed)
        rnd.shuffle(big)
        rnd.shuffle(small)
        index_sets = big + small
    else:
        index_sets = sorted(list(scaffold_to_indices.values()), key=lambda s: len(s), reverse=True)
    for index_set in index_sets:
        if len(train) + len(index_set) <= train_size:
            train += index_set
        elif len(val) + len(index_set) <= val_size:
            val += index_set
        else:
            test += index_set
    return {"train": sorted(train), "valid": sorted(val), "test": sorted(test)}


def random_split(n, sizes, seed):
    rnd = random.Random(seed)
    indices = list(range(n))
    rnd.shuffle(indices)
    train_size = int(sizes[0] * n)
    train_val_size = int((sizes[0] + sizes[1]) * n)
    return {
        "train": sorted(indices[:train_size]),
        "valid": sorted(indices[train_size:train_val_size]),
        "test": sorted(indices[train_val_size:]),
    }


def cv_assignment(n, k):
    import numpy as np
    rnd = random.Random(0)
    indices = np.tile(np.arange(k), 1 + n // k)[:n]
    rnd.shuffle(indices)
    return [int(x) for x in indices]


def split_golden(smiles):
    out = {"molecules": [[s, generate_scaffold(s)] for s in smiles], "splits": []}
    for sizes in [(0.8, 0.1, 0.1), (0.7, 0.2, 0.1)]:
        out["splits"].append({"method": "scaffold", "sizes": sizes, "seed": 0,
                              **scaffold_split(smiles, sizes, False, 0)})
        for seed in [0, 1, 7]:
            out["splits"].append({"method": "scaffold_balanced", "sizes": sizes, "seed": seed,
                                  **scaffold_split(smiles, sizes, True, seed)})
            out["splits"].append({"method": "random", "sizes": sizes, "seed": seed,
                                  **random_split(len(smiles), sizes, seed)})
    out["cv5_assignment"] = cv_assignment(len(smiles), 5)
    draws = {}
    for seed in [0, 1, 42, 2**32 + 5]:
        r = random.Random(seed)
        bits = [r.getrandbits(32) for _ in range(5)]
        lst = list(range(20))
        r.shuffle(lst)
        draws[str(seed)] = {"getrandbits32": bits, "shuffle20": lst}
    out["pyrandom"] = draws
    # One molecule, split or draw per line keeps the file short and reviewable.
    def dump(x):
        return json.dumps(x, separators=(",", ":"))
    lines = ["{", '"molecules": [']
    lines += [dump(m) + ("," if i + 1 < len(out["molecules"]) else "") for i, m in enumerate(out["molecules"])]
    lines += ["],", '"splits": [']
    lines += [dump(x) + ("," if i + 1 < len(out["splits"]) else "") for i, x in enumerate(out["splits"])]
    lines += ["],", '"cv5_assignment": ' + dump(out["cv5_assignment"]) + ",", '"pyrandom": ' + dump(out["pyrandom"]), "}"]
    (GOLDEN / "splits.json").write_text("\n".join(lines) + "\n")


def main():
    GOLDEN.mkdir(parents=True, exist_ok=True)
    moses, qm9 = molecules()
    smiles_corpus = moses + qm9 + EDGE_SMILES
    for s in smiles_corpus:
        toks = re.findall(MOLFORMER_PATTERN, s)
        if "".join(toks) != s:
            sys.exit(f"sample molecule not covered by the MoLFormer regex: {s}")
    tokenizer_golden("smiles", smiles_corpus, lambda s: re.findall(MOLFORMER_PATTERN, s))
    selfies_corpus = []
    for s in moses + qm9 + EDGE_SMILES:
        try:
            enc = sf.encoder(s)
        except Exception:  # noqa: BLE001 - the package refuses some edge cases; skip them
            continue
        if enc:
            selfies_corpus.append(enc)
    tokenizer_golden("selfies", selfies_corpus, lambda s: list(sf.split_selfies(s)))
    split_golden(moses + qm9)
    from importlib.metadata import version
    print(f"wrote golden files to {GOLDEN} (tokenizers {version('tokenizers')}, selfies {version('selfies')}, "
          f"rdkit {version('rdkit')})")


if __name__ == "__main__":
    main()
