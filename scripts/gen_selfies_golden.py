#!/usr/bin/env python3
"""Golden files for chemlm's SELFIES port, made with the Python `selfies` 2.2.0 package.

Writes crates/chemlm-chem/tests/golden/selfies/:

  encode.tsv     smiles, selfies.encoder(smiles) ("!ERROR" if it raises), selfies.decoder of that,
                 and whether RDKit finds the round trip equal to the input (canonical SMILES).
                 Molecules: written by hand below (charges, stereo, isotopes, %nn rings, aromatics,
                 deep branches, long rings, disconnected parts, inputs selfies refuses) plus a
                 deterministic sample of the MOSES test set and of QM9 (molnet/qm9.csv.gz).
  decode.tsv     random symbol strings (robust alphabet, and an extended alphabet with [nop],
                 [epsilon], stereo, isotopes, bracket atoms, dots and invalid symbols) and
                 selfies.decoder of each.
  constraints.tsv  preset, direction (encode/decode), input, output under that preset.
  alphabet.tsv   preset, symbol: get_semantic_robust_alphabet() under each preset.
  legacy.tsv     smiles, its SELFIES 1.0.4 encoding (ChemGPT's symbol names), the 2.x symbols
                 selfies 2.2.0 translates it to (compatibility.modernize_symbol, per "." fragment), and
                 selfies.decoder(s, compatible=True).
  pyset.tsv      CPython set operations (insertion order, pops and discards) for the model of
                 set.pop() used by kekulization.

Usage: python3 scripts/gen_selfies_golden.py [--data ../shared/data]
Needs: pip install selfies==2.2.0 rdkit; selfies 1.0.4 is fetched with `pip download` into a
temporary directory (or pass --selfies1-dir with an unpacked wheel).
"""
import argparse
import csv
import gzip
import os
import random
import subprocess
import sys
import tempfile
import warnings
import zipfile

import selfies as sf
from rdkit import Chem, RDLogger
from selfies.compatibility import modernize_symbol

RDLogger.DisableLog("rdApp.*")
warnings.filterwarnings("ignore", message=".*may behave differently.*")

ERR = "!ERROR"
OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "chemlm-chem", "tests", "golden", "selfies")

HAND = [
    # plain, branches, bonds
    "C", "CC", "C=C", "C#C", "C#N", "C=C=C", "OO", "C-C", "CC(C)C", "CC(C)(C)C", "CC(=O)O",
    "CC(C)(C)C(C(C(C(C(C)C)C)C)C)C", "C(C(C(C(C(C(C(C(C(C(C)C)C)C)C)C)C)C)C)C)C",
    "CC(" + "C" * 20 + ")C", "C(" + "C" * 300 + ")C", "C1" + "C" * 20 + "C1", "C1" + "C" * 300 + "C1",
    "FS(F)(F)(F)(F)F", "CP(C)(C)(C)C", "O=S(=O)(O)O", "O=P(O)(O)O", "N#CC#N",
    # charges
    "[O-]C(=O)C", "C[N+](C)(C)C", "[NH4+]", "[Fe+2]", "[Fe++]", "[O--]", "[Cu+]", "[N-]=[N+]=[N-]",
    "C[S+](C)C", "[B-](F)(F)(F)F", "[C-]#[O+]", "C[P+](C)(C)C", "[S-]C", "O=[N+]([O-])c1ccccc1",
    "[C+10]", "[Fe+02]", "[NH3+]CC(=O)[O-]", "[O+]1=CC=CC=C1", "[BH4-]", "[C@@H+](F)Cl",
    # stereo
    "N[C@@H](C)C(=O)O", "N[C@H](C)C(=O)O", "C[C@H]1CC[C@@H](C)CC1", "F/C=C/F", "F/C=C\\F",
    "C/C=C/C=C/C", "C1CC/C=C/1", "C/1=C/CCCCCC1", "C\\1=C/CCCCCC1", "F/C=C/1CCCC1", "C/C=C1/CCCC1",
    "[C@@H]1(O)CCCC1", "O[C@]1(C)CC[C@@](C)(O)CC1", "C[C@]1(N)CCC[C@@H]1O",
    "C[C@@]12CC[C@H]3[C@@H](CC=C4C[C@@H](O)CC[C@@]34C)[C@@H]1CC[C@@H]2O",
    "[C@H]1(Cl)(F)CC1", "C1C[C@]12CC[C@@H]2F", "O[C@@H]1[C@H](O)[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O",
    "F/C(Cl)=C(\\Br)I", "C(/F)=C/F", "[C@@]1(Cl)(F)I.C1", "C/C=C/1.C1",
    # isotopes
    "[13CH3]C", "[2H]C([2H])([2H])[2H]", "[18OH2]", "[235U]", "[13c]1ccccc1", "[013C]", "[2H][H]",
    # rings incl. %nn and many closures
    "C1CC1", "C%10CCCCC%10", "C%12CC%12C1CC1", "C12C3C4C1C5C2C3C45", "C1CCC2(CC1)CCCC2",
    "C1CC2CC3CC4CC5CC6CC7CC8CC9CC%10CC%11CC%12CCCCC%12CC%11CC%10CC9CC8CC7CC6CC5CC4CC3CC2C1",
    "C1CC=1", "C=1CCC1", "C1CC2CC1C2", "C1CC%99CC1C%99",
    # aromatic
    "c1ccccc1", "c1ccncc1", "c1cc[nH]c1", "c1ccoc1", "c1ccsc1", "c1cn[nH]c1", "c1ccc2[nH]ccc2c1",
    "O=c1cc[nH]c(=O)[nH]1", "c1ccc2c(c1)ccc1ccccc12", "c1ccc2cc3ccccc3cc2c1",
    "c1cc2ccc3cccc4ccc(c1)c2c34", "c1cc2ccc3ccc4ccc5ccc6ccc1c1c2c3c4c5c61", "c1ccc2cccc2cc1",
    "[se]1cccc1", "c1cc[te]c1", "[cH-]1cccc1", "c1cc[n+](C)cc1", "[o+]1ccccc1", "C1=CC=CC=C1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "c1ccccc1-c1ccccc1", "C:C", "c:1:c:c:c:c:c:1", "c1ccccc1c1ccccc1",
    "b1ccccc1", "c1c[nH]cn1", "n1cccc1", "[nH]1cccc1", "c1ccc2ncccc2c1", "O=C1C=CC(=O)C=C1",
    "c1ccc(cc1)[N+](=O)[O-]", "Cc1ccc(cc1)S(=O)(=O)N", "c1ccc2c(c1)oc1ccccc12", "p1ccccc1",
    "[si]1cccc1", "c1ccs(=O)c1", "c12ccccc1cccc2", "C1=Cc2ccccc2C=C1",
    # disconnected
    "[Na+].[Cl-]", "CC(=O)[O-].[Na+]", "C.C", "C..C", "C.", "O.O.O", "[NH4+].[NH4+].[O-]S(=O)(=O)[O-]",
    # quirks selfies accepts
    "=CC", "[cl]", "[C]", "[CH4]", "[H]", "[H][H]", "[HH]", "[CH3:1]C", "[Xe]", "[Na]", "[CH2]",
    "[SiH4]", "[Cl-]", "[I+]", "[C@H]", "C(=C)=C",
    # inputs selfies refuses
    "", "C11", "C(", "C)", "(C)", "1CC", "C1CC", "C%1", "C$C", "*C", "C[C@TH1](F)Cl", "C:Cl",
    "C(C)(C)(C)(C)C", "[CH12]", "c1cccc1", "C%01CC1", "C1.C1", "[Xx]", "[Og]", "Q", "C==C", "C=",
    "C.(C)", "[C", "C1C1", "C=1CCCC#1", "FCl(F)F", "O=I(=O)O", "C()", "C((C))", "c1ccccc1c",
    "[Fe+2+]", "[C@@@H](F)Cl", ".C", "[2H+2H]",
]


def enc(s):
    try:
        return sf.encoder(s)
    except Exception:  # noqa: BLE001 - any failure means "selfies does not encode this"
        return ERR


def dec(s, **kw):
    try:
        return sf.decoder(s, **kw)
    except Exception:  # noqa: BLE001
        return ERR


def canon(s):
    m = Chem.MolFromSmiles(s)
    return None if m is None else Chem.MolToSmiles(m)


def read_smiles(path, limit=None):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        return [row[0] for row in reader if row]


def sample(path, n, seed):
    smiles = read_smiles(path)
    rng = random.Random(seed)
    return [smiles[i] for i in sorted(rng.sample(range(len(smiles)), n))]


def write(name, rows, header):
    path = os.path.join(OUT, name)
    with open(path, "w") as fh:
        fh.write(f"# {header}\n")
        for row in rows:
            for field in row:
                if "\t" in field or "\n" in field:
                    raise ValueError(f"field {field!r} of {name} has a tab or newline")
            fh.write("\t".join(row) + "\n")
    print(f"wrote {path} ({len(rows)} rows)")


def encode_rows(molecules):
    rows = []
    for smi in molecules:
        s = enc(smi)
        if s == ERR:
            rows.append((smi, ERR, "", ""))
            continue
        d = dec(s)
        c_in, c_out = canon(smi), (canon(d) if d != ERR else None)
        rt = "rt_ok" if (c_in is not None and c_in == c_out) else "rt_differs"
        rows.append((smi, s, d, rt))
    return rows


def random_strings(alphabet, n, rng, max_len, dots=False):
    out = []
    for _ in range(n):
        k = rng.randint(1, max_len)
        syms = [rng.choice(alphabet) for _ in range(k)]
        if dots and rng.random() < 0.3:
            syms.insert(rng.randint(0, k), ".")
        out.append("".join(syms))
    return out


def decode_rows(rng):
    robust = sorted(sf.get_semantic_robust_alphabet())
    extended = robust + [
        "[nop]", "[epsilon]", "[/C]", "[\\C]", "[/N]", "[-/Ring1]", "[/-Ring2]", "[\\/Ring1]",
        "[//Ring1]", "[\\\\Ring1]", "[#Ring1]", "[#Ring2]", "[Na+1]", "[13CH3]", "[C@@H1]",
        "[C@H1]", "[=C@@H1]", "[NH1]", "[OH0]", "[Fe+2]", "[H]", "[CH0]", "[CH4]", "[Branch3]",
        "[=Ring3]", "[Ring3]", "[Xyz]", "[Branch4]", "[C+12]",
    ]
    strings = random_strings(robust, 120, rng, 40)
    strings += random_strings(robust, 20, rng, 120)
    strings += random_strings(extended, 100, rng, 40, dots=True)
    strings += [
        "", "[C]", "[F][F][Xyz]", "[C][F][F]x", "[C]x[C]", "[CH9]", "[Ring4]", "[C].[C][Ring1][C]",
        "[C][C][C][Ring1][Ring1]", "[C@@H1][F]", "[Xe][Ring1]", "[C][=C][=C][Ring1][C]",
        "[C][O][C][Ring1][Ring1][C]", "[epsilon][C]", "[C][epsilon][C]", "[nop][C][nop][F]",
        "[C][Branch1]", "[C][C][C][C][Branch3][O][O]", "[C][/C][=C][\\C]", "[C][//Ring1][C]",
        "[N+1][C][C][C][C][C][C][Ring1][Ring1]", "[Branch1]", "[C][#Branch1][C][#C][C]",
        "[H][C]", "[CH0][C]", "[C][C][Branch1][C]", "[C]..[C]", ".[C]", "[C].", "[C][=C][C][=C][C][=C][Ring1][=Branch1]",
        "[C][C][=C][C][=C][C][=C][Ring1][=Branch1][C][#Ring2]", "[C][Ring1][C][C][C][C][C][=Ring1][Ring2]",
        "[C][C][C][C][C][C][C][C][C][C][C][C][C][C][C][C][C][C][C][C][Ring2][C][C]",
        "[I][C][Branch1]", "[C][Branch2][C][C][F][C][C]", "[S][Branch1][C][F][Branch1][C][F][Branch1][C][F][Branch1][C][F][F][F]",
        "[C][/C][=C][\\C][-/Ring1][Ring1]", "[C][C][C][//Ring1][Ring1]", "[C][C][C][\\/Ring1][Ring1]",
        "[13C][=13C]", "[C][=Branch1][=O][C]", "[C][#Branch2][Ring1][C][=N][O][C]",
    ]
    return [(s, dec(s)) for s in strings]


def constraint_rows():
    mols = ["FS(F)(F)(F)(F)F", "CP(C)(C)(C)C", "O=S(=O)(O)O", "FCl(F)F", "O=I(=O)O", "CN(C)(C)(C)C",
            "C[S+](C)C", "O=P(O)(O)O", "[Fe+2]", "C[N+](C)(C)C", "CS(C)=O"]
    strs = ["[F][S][Branch1][C][F][Branch1][C][F][Branch1][C][F][Branch1][C][F][F]",
            "[C][P][Branch1][C][C][Branch1][C][C][Branch1][C][C][C]",
            "[F][Cl][Branch1][C][F][F]", "[O][=I][=Branch1][C][=O][O]",
            "[C][N][Branch1][C][C][Branch1][C][C][Branch1][C][C][C]",
            "[C][S+1][Branch1][C][C][Branch1][C][C][C]", "[=S][=S][=S]", "[#P][#N][#P-1]"]
    rows = []
    for preset in ["default", "octet_rule", "hypervalent"]:
        sf.set_semantic_constraints(preset)
        rows += [(preset, "encode", m, enc(m)) for m in mols]
        rows += [(preset, "decode", s, dec(s)) for s in strs]
    alphabet = []
    for preset in ["default", "octet_rule", "hypervalent"]:
        sf.set_semantic_constraints(preset)
        alphabet += [(preset, a) for a in sorted(sf.get_semantic_robust_alphabet())]
    sf.set_semantic_constraints("default")
    return rows, alphabet


# selfies 1.0.4 loops forever on some malformed SMILES ("C11", "C("): a time limit per molecule.
SELFIES1_ENCODE = r"""
import resource, signal, sys
import selfies
assert selfies.__version__.startswith("1.0"), selfies.__version__
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
def timeout(*_):
    raise TimeoutError()
signal.signal(signal.SIGALRM, timeout)
for line in sys.stdin:
    smi = line.rstrip("\n")
    signal.alarm(2)
    try:
        s = selfies.encoder(smi)
    except Exception:
        s = None
    signal.alarm(0)
    print("!ERROR" if s is None else s, flush=True)
"""


def selfies1_encodings(molecules, selfies1_dir):
    if selfies1_dir is None:
        tmp = tempfile.mkdtemp(prefix="selfies1-")
        subprocess.run([sys.executable, "-m", "pip", "download", "selfies==1.0.4", "--no-deps",
                        "-q", "-d", tmp], check=True)
        wheel = next(f for f in os.listdir(tmp) if f.endswith(".whl"))
        with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
            z.extractall(tmp)
        selfies1_dir = tmp
    env = dict(os.environ, PYTHONPATH=selfies1_dir)
    res = subprocess.run([sys.executable, "-c", SELFIES1_ENCODE], input="\n".join(molecules) + "\n",
                         capture_output=True, text=True, env=env, check=True)
    return res.stdout.splitlines()


def legacy_rows(molecules, selfies1_dir):
    rows = []
    for smi, s1 in zip(molecules, selfies1_encodings(molecules, selfies1_dir)):
        if s1 == ERR or s1 == "None":
            continue
        # what decoder(compatible=True) decodes: the symbols of each "." fragment, modernized
        modern = ".".join("".join(modernize_symbol(x) for x in sf.split_selfies(frag))
                          for frag in s1.split("."))
        rows.append((smi, s1, modern, dec(s1, compatible=True)))
    return rows


def pyset_rows(rng):
    """Random sets of ints built from a generator, then random pops/discards, as kekulize does."""
    rows = []
    for _ in range(150):
        n = rng.randint(1, 80)
        keys = sorted(rng.sample(range(n * 2 + 1), rng.randint(1, n)))
        s = set(k for k in keys)
        ops, results = [], []
        while s:
            if rng.random() < 0.6:
                ops.append("p")
                results.append(str(s.pop()))
            else:
                k = rng.choice(keys + [n * 3])
                ops.append(f"d{k}")
                s.discard(k)
                results.append("-")
        rows.append((" ".join(map(str, keys)), " ".join(ops), " ".join(results)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("CHEMLM_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")))
    ap.add_argument("--selfies1-dir", default=None)
    args = ap.parse_args()
    assert sf.__version__ and sf.get_semantic_constraints() == sf.get_preset_constraints("default")
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20240607)

    moses = sample(os.path.join(args.data, "moses", "test.csv.gz"), 150, 1)
    qm9 = sample(os.path.join(args.data, "molnet", "qm9.csv.gz"), 150, 2)
    write("encode.tsv", encode_rows(HAND + moses + qm9),
          "smiles, selfies 2.2.0 encoder (!ERROR = raises), decoder of it, rt_ok if RDKit canonical round trip equals input")
    write("decode.tsv", decode_rows(rng), "selfies, selfies 2.2.0 decoder (!ERROR = raises)")
    crow, arow = constraint_rows()
    write("constraints.tsv", crow, "preset, encode|decode, input, output (!ERROR = raises)")
    write("alphabet.tsv", arow, "preset, symbol of get_semantic_robust_alphabet()")
    legacy_mols = [m for m in HAND if m] + moses[:60]
    write("legacy.tsv", legacy_rows(legacy_mols, args.selfies1_dir),
          "smiles, selfies 1.0.4 encoder, 2.2.0 modernize_symbol of each symbol, 2.2.0 decoder(compatible=True)")
    write("pyset.tsv", pyset_rows(rng), "keys inserted (set(generator)), ops (p = pop, dK = discard K), results")


if __name__ == "__main__":
    main()
