#!/usr/bin/env python3
"""RDKit's verdict on mutated and random SMILES, for chemlm's validity-parity harness (issue 17).

Draws strings (seeded, so the set is reproducible) from real molecules by random edits —
insert / delete / replace / duplicate a character or a short span from the SMILES alphabet, swap
neighbours, drop or add parentheses, dots, ring digits, bonds, '@', bracket atoms with charges,
isotopes and atom maps — plus purely random strings over the alphabet, and records whether
`Chem.MolFromSmiles` (parse + sanitize) accepts each. Writes `smiles<TAB>1|0` lines.

    # the committed regression set (from the committed MOSES fixture):
    python3 scripts/gen_validity_fuzz.py --seeds fixtures/moses-mini.smi --n 400 \
        --out crates/chemlm-chem/tests/golden/validity-fuzz.tsv
    # the full harness (not committed): 1,000,000 strings from the MOSES test set
    python3 scripts/gen_validity_fuzz.py --seeds $CHEMLM_DATA_DIR/moses/test.csv.gz --n 1000000 \
        --out /tmp/validity-1m.tsv
    chemlm bench validity /tmp/validity-1m.tsv
"""
import argparse
import gzip
import random

from rdkit import Chem, RDLogger

RDLogger.DisableLog("rdApp.*")

ALPHABET = list("CNOSPFIcnosp()[]=#-+.123456789%@/\\:*Hl") + ["Cl", "Br", "[nH]", "[O-]", "[N+]",
                                                           "[C@@H]", "[C@H]", "[13C]", "[C:1]"]
SPANS = ["()", "(=O)", "(C)", "=", "#", ".", "1", "2", "%10", "@", "/", "\\", "[", "]", "(", ")",
         "[NH4+]", "[2H]", "[C:70000]", "[70000C]", "c1ccccc1", "..", "(.C)", ".C", "C.",
         # label numbers at RDKit's lexer limits: leading zeros, 16-bit and 31-bit edges
         "[01C]", "[C:00]", "[0C]", "[C:0]", "[65536C]", "[C:65536]", "[2147483639C]",
         "[C:2147483640]"]


def read_seeds(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        first = f.readline()
        if "," in first:  # MOSES csv: SMILES,SPLIT
            rows = [first] + f.readlines()
            return [r.split(",")[0].strip() for r in rows[1:] if r.strip()]
        return [l.split()[0] for l in [first] + f.readlines() if l.strip()]


def mutate(s, rng):
    s = list(s)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        op = rng.random()
        pos = rng.randrange(len(s) + 1)
        if op < 0.3:
            s.insert(pos, rng.choice(ALPHABET))
        elif op < 0.5 and s:
            del s[min(pos, len(s) - 1)]
        elif op < 0.65 and s:
            s[min(pos, len(s) - 1)] = rng.choice(ALPHABET)
        elif op < 0.8:
            s.insert(pos, rng.choice(SPANS))
        elif op < 0.9 and len(s) > 1:
            i = min(pos, len(s) - 2)
            s[i], s[i + 1] = s[i + 1], s[i]
        elif s:
            i = rng.randrange(len(s))
            j = min(len(s), i + rng.randrange(1, 6))
            s[pos:pos] = s[i:j]
    return "".join(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    seeds = read_seeds(a.seeds)
    seen = set()
    rows = []
    while len(rows) < a.n:
        if rng.random() < 0.1:
            s = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 12)))
        else:
            s = mutate(rng.choice(seeds), rng)
        s = s.strip()
        if not s or any(c.isspace() for c in s) or s in seen:
            continue
        seen.add(s)
        rows.append((s, 1 if Chem.MolFromSmiles(s) is not None else 0))
    with open(a.out, "w", newline="") as f:
        for s, v in rows:
            f.write(f"{s}\t{v}\n")
    valid = sum(v for _, v in rows)
    print(f"{len(rows)} strings, {valid} valid per RDKit, {len(rows) - valid} invalid -> {a.out}")


if __name__ == "__main__":
    main()
