#!/usr/bin/env python3
"""Golden BRICS fragments for crates/chemlm-chem/tests/brics_golden.rs.

For each molecule: the pieces MOSES's Frag metric counts, i.e. moses/metrics/utils.py `fragmenter`:
    Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split('.')
(RDKit's C++ BRICS: dummies carry an environment label as isotope, `[4*]`), sorted.

Molecules: hand-written cases for every BRICS rule and the tricky parts of the port (esters, amides,
ureas, carbamates, sulfonamides, aromatic N-C, biaryls, exocyclic C=C, charged atoms, isotopes,
explicit hydrogens, tetrahedral and E/Z stereo next to a cut, ring-fusion carbons where RDKit's label
orientation depends on atom order, salts), then every 500th row of the MOSES test set
(MOSES is shipped on PyPI as `molsets`; CHEMLM_DATA_DIR/moses/test.csv.gz).

Usage: CHEMLM_DATA_DIR=/abs/path/to/data python3 scripts/gen_brics_golden.py
Writes crates/chemlm-chem/tests/golden/brics.json.
"""
import gzip
import json
import os

import rdkit
from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem

RDLogger.DisableLog("rdApp.*")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ["CHEMLM_DATA_DIR"]
OUT = os.path.join(ROOT, "crates", "chemlm-chem", "tests", "golden", "brics.json")

HAND = [
    # No cut at all.
    "C", "CC", "CCC", "c1ccccc1", "Cc1ccccc1", "O=C1NCCC1", "CC1(C)CCCCC1", "NCCC(=O)O",
    # L1 (amide/ester carbonyl) with L3 (ether O), L5 (amine N), L10 (lactam N).
    "CCOC(C)=O", "CC(=O)NC", "CC(=O)N(C)C", "O=C(OC)OC", "CNC(=O)NC", "CNC(=O)OC(C)(C)C",
    "CC(=O)N1CCCC1=O", "O=C1CCCN1CC(=O)N1CCCC1", "CC(=O)SC", "OC(=O)CCc1ccccc1",
    # L3 ether O with aliphatic and aromatic C, L4, L13-L16.
    "CCCOCC", "COc1ccccc1", "COc1ccccn1", "c1ccc(Oc2ccccc2)cc1", "C1CCOC1OC", "CCOC1CCCCC1",
    # L4-L5, L4-L11, amines, thioethers, sulfonamides (L5-L12).
    "CCCNCCC", "CCN(CC)CC", "CSCC", "CCSc1ccccc1", "CS(=O)(=O)NC", "CN(C)S(=O)(=O)c1ccccc1",
    "Cc1ccc(S(=O)(=O)N2CCCC2)cc1", "CS(=O)(=O)N1CCN(C)CC1", "NS(=O)(=O)c1ccc(N)cc1",
    # L5 exclusions: N=, N-heteroatom, ring N next to ring C=O.
    "CC(C)=NCC", "CNOC", "CNNC(=O)c1ccccn1", "O=C1CCCN1c1ccccc1", "CN(C)N=O",
    # L6 ketone carbonyl to rings, L7 C=C, L8 chain C.
    "CCCOCCC(=O)c1ccccc1", "CC(=O)c1ccccc1", "O=C(c1ccccc1)C1CCCCC1", "CC=CC", "CCC=CCC",
    "CC(C)=C(C)C", "C=CCc1ccccc1", "C1CC1CC1CC1", "CCn1cccc1", "CCn1ccnc1", "c1ccccc1Cn1ccnc1",
    # Aromatic N-C and biaryls (L9, L14, L16), heteroaromatic variety.
    "c1ccccc1-c1ccccc1", "c1ccccc1-c1ccccn1", "c1ccccc1-n1cccc1", "c1ccccc1-n1ccnc1",
    "c1ccc(-c2ncccn2)cc1", "c1ccc(-c2ccco2)cc1", "c1ccc(-c2cccs2)cc1", "Cn1c(-c2ccccc2)ccc1",
    "c1ccc2[nH]ccc2c1", "CCc1c[nH]c2ccccc12", "Cc1noc(C)c1CN", "O=c1cc[nH]c(=O)[nH]1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "c1ccc2c(c1)CCN2C(=O)C", "O=C(Nc1ccccc1)c1ccccn1",
    # Ring-fusion carbons that are both L13 and L15: RDKit's label orientation follows atom order.
    "O1CCCC2CCCCC12C34CCCCC3CCCO4", "C34(CCCCC3CCCO4)C12OCCCC1CCCC2",
    "CC1(CCCCO1)C1(C)CCCCC1", "C1CCCCC1(C)C1(C)CCCCO1", "C1CCCCC1(C)C1(C)CCCCN1C",
    # Charges, nitro, N-oxide, quaternary N, isotopes, explicit hydrogens, radicals, salts.
    "C[N+](C)(C)CC(=O)OC", "CC(=O)[O-].[Na+]", "O=[N+]([O-])c1ccc(OC)cc1", "CN(=O)=O",
    "[O-][n+]1ccccc1CC(=O)OC", "C[n+]1ccccc1", "CC(=O)Nc1ccc[nH+]c1", "[13CH3]OC(=O)CC",
    "[2H]C([2H])([2H])OC(=O)CC", "[H]OC(=O)CCCC", "C[CH2]", "CC(=O)OCC.Cl", "[NH3+]CCC(=O)[O-]",
    # Tetrahedral stereo at and next to cut atoms.
    "N[C@@H](CC)C(=O)OC", "C[C@H](OC)C(=O)NC", "C[C@@H](N)C(=O)N[C@H](C)C(=O)O",
    "CC(C)C[C@H](NC(=O)[C@@H](N)Cc1ccccc1)C(=O)O", "O[C@@H]1CCN(C1)C(=O)c1ccccc1",
    "C[C@]1(OC(=O)C)CCCCC1", "[C@H](Cl)(F)CC(=O)OC", "F[C@](Cl)(CCOc1ccccc1)C(=O)N(C)C",
    "C1C[C@H]2CC[C@@H]1N2C(=O)OC", "[H][C@@](C)(N)C(=O)OC",
    # E/Z stereo next to cuts and cut double bonds.
    "C/C=C/CC(=O)OC", "C/C=C\\COc1ccccc1", "CN(C)C/C=C(\\C)C(=O)OC(C)C", "C/C(=C/CCO)C(=O)NC",
    "F/C=C/c1ccccc1", "C/C=C/C(=O)Nc1ccccc1", "OC(=O)/C=C/C(=O)OCC",
    # E/Z of an exocyclic double bond on an aromatic ring, fixed by a `/` on an aromatic ring bond.
    "CC/N=c1\\sccn1CC(=O)OC", "CCOC(=O)Cn1ccs/c1=N\\C(=O)c1ccccc1", "O=c1/c(=C/c2ccc(OC)cc2)sc2nccn12",
    "CCn1c(=O)/c(=C\\c2ccccc2)s/c1=N/c1ccccc1", "COc1ccc(/C=c2\\sc(=O)[nH]c2=O)cc1",
    # Drug-like molecules (each several rules).
    "CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "CN1CCC[C@H]1c1cccnc1",
    "CNC(=O)c1cc(Oc2ccc(NC(=O)Nc3ccc(Cl)c(C(F)(F)F)c3)cc2)ccn1",
    "CCOC(=O)C1=C(C)NC(C)=C(C(=O)OC)C1c1cccc(Cl)c1Cl", "COc1ccc2nc(S(=O)Cc3ncc(C)c(OC)c3C)[nH]c2c1",
    "CC(C)NCC(O)COc1cccc2ccccc12", "Clc1ccc(C(c2ccccc2)n2ccnc2)cc1", "O=C(O)c1ccccc1Nc1cccc(C(F)(F)F)c1",
    "CCN(CC)CCNC(=O)c1ccc(N)cc1", "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21", "OCC1OC(O)C(O)C(O)C1O",
]

# Every STRIDE-th row of the MOSES test set, up to N_MOSES molecules.
STRIDE = 500
N_MOSES = 300


def pieces(smiles):
    m = Chem.MolFromSmiles(smiles)
    if m is None:
        raise ValueError(f"RDKit cannot read {smiles!r}")
    out = Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(m)).split(".")
    # chemlm writes the fragmented molecule as SMILES and canonicalises the re-read molecule; that is
    # only the same as MOSES when re-reading RDKit's output changes nothing. Check it here.
    whole = ".".join(out)
    again = Chem.MolToSmiles(Chem.MolFromSmiles(whole))
    if sorted(again.split(".")) != sorted(out):
        raise ValueError(f"re-reading the pieces of {smiles!r} changes them: {whole} -> {again}")
    return sorted(out)


def main():
    with gzip.open(os.path.join(DATA, "moses", "test.csv.gz"), "rt") as f:
        rows = [l.strip() for l in f][1:]
    moses = rows[::STRIDE][:N_MOSES]
    seen = set()
    molecules = []
    for source, smiles_list in (("hand", HAND), ("moses-test", moses)):
        for s in smiles_list:
            if s in seen:
                continue
            seen.add(s)
            molecules.append({"smiles": s, "source": source, "fragments": pieces(s)})
    doc = {
        "rdkit": rdkit.__version__,
        "definition": "sorted(Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(Chem.MolFromSmiles(s))).split('.'))",
        "molecules": molecules,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # One molecule per line, so a review diff shows which molecule changed.
    with open(OUT, "w") as f:
        f.write("{\n")
        for key in ("rdkit", "definition"):
            f.write(f" {json.dumps(key)}: {json.dumps(doc[key])},\n")
        f.write(' "molecules": [\n')
        f.write(",\n".join("  " + json.dumps(m) for m in molecules))
        f.write("\n ]\n}\n")
    n_hand = sum(m["source"] == "hand" for m in molecules)
    print(f"wrote {len(molecules)} molecules ({n_hand} hand-written) to {OUT}")


if __name__ == "__main__":
    main()
