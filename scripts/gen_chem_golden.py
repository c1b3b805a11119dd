#!/usr/bin/env python3
"""Generate the RDKit golden file for chemlm-chem's molecule layer.

Writes crates/chemlm-chem/tests/golden/chem/molecules.jsonl: one JSON object per molecule with what
RDKit computes for it (canonical / Kekulé / randomized SMILES, Murcko scaffolds, Morgan bits and
counts, MACCS keys, largest fragment, simple descriptors). `tests/mol_golden.rs` recomputes every
field with chemlm and requires exact equality, so a drift of the chematic backend is caught in CI
(which has no RDKit).

Inputs (and nothing else, see the project rules on data):
  * molecules written by hand below (features the parser must cover, and invalid SMILES);
  * a deterministic sample of the MOSES test split ($CHEMLM_DATA_DIR/moses/test.csv.gz, PyPI molsets)
    and of QM9 ($CHEMLM_DATA_DIR/molnet/qm9.csv.gz, PyPI qm9pack).

Usage: python3 scripts/gen_chem_golden.py   (RDKit 2026.09.1; CHEMLM_DATA_DIR defaults to ../shared/data)
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
from pathlib import Path

import rdkit
from rdkit import Chem, RDLogger
from rdkit.Chem import Crippen, Descriptors, MACCSkeys, rdFingerprintGenerator, rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize
from rdkit.Chem.Scaffolds import MurckoScaffold

RDLogger.DisableLog("rdApp.*")

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/chemlm-chem/tests/golden/chem/molecules.jsonl"
EXPECTED_RDKIT = "2026.09.1"

# Sample sizes: every n-th row of each file, so the sample is deterministic and spread over the file.
MOSES_SAMPLE = 150
QM9_SAMPLE = 150
# Extra fingerprint settings are written for hand-written molecules and the first rows of each sample.
EXTRA_FP_ROWS = 40

# (id, SMILES). Written by hand to cover what MoleculeNet / ChEMBL SMILES use.
HAND = [
    # aromatic heterocycles
    ("pyridine", "c1ccncc1"),
    ("pyrrole", "c1cc[nH]c1"),
    ("furan", "c1ccoc1"),
    ("thiophene", "c1ccsc1"),
    ("imidazole", "c1c[nH]cn1"),
    ("indole", "c1ccc2[nH]ccc2c1"),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"),
    ("pyridine-n-oxide", "[O-][n+]1ccccc1"),
    ("tetrazole", "c1nn[nH]n1"),
    ("thiazole-amide", "CC(=O)Nc1nccs1"),
    ("oxazole", "Cc1ocnc1C(=O)O"),
    ("benzimidazole", "c1ccc2[nH]cnc2c1"),
    ("quinoline", "c1ccc2ncccc2c1"),
    ("triazine", "Nc1ncnc(N)n1"),
    ("2-pyridone", "O=c1cccc[nH]1"),
    ("azulene", "c1ccc2cccc2cc1"),
    ("selenophene", "c1cc[se]c1"),
    ("pyridinium", "C[n+]1ccccc1"),
    ("kekule-benzene", "C1=CC=CC=C1"),
    ("kekule-pyrrole", "C1=CNC=C1"),
    ("naphthalene", "c1ccc2ccccc2c1"),
    ("phenylboronic", "OB(O)c1ccccc1"),
    # charges
    ("tetramethylammonium", "C[N+](C)(C)C"),
    ("ammonium", "[NH4+]"),
    ("acetate", "CC(=O)[O-]"),
    ("nitro-charged", "C[N+](=O)[O-]"),
    ("nitro-pentavalent", "CN(=O)=O"),
    ("glycine-zwitterion", "[NH3+]CC(=O)[O-]"),
    ("diazomethane", "C=[N+]=[N-]"),
    ("methyl-azide", "CN=[N+]=[N-]"),
    ("nitrobenzene", "O=[N+]([O-])c1ccccc1"),
    ("sulfonate", "CS(=O)(=O)[O-]"),
    ("iron-2", "[Fe+2]"),
    ("carbanion", "[CH3-]"),
    ("methyl-radical", "[CH3]"),
    # isotopes
    ("d3-methanol", "[2H]C([2H])([2H])O"),
    ("c13-methane", "[13CH4]"),
    ("f18-benzene", "[18F]c1ccccc1"),
    ("c14-acetic", "C[14C](=O)O"),
    ("deuterium-gas", "[2H][2H]"),
    # tetrahedral stereo
    ("l-alanine", "N[C@@H](C)C(=O)O"),
    ("d-alanine", "N[C@H](C)C(=O)O"),
    ("butan-2-ol", "C[C@H](O)CC"),
    ("halo-methane", "F[C@](Cl)(Br)I"),
    ("trans-dimethylcyclohexane", "C[C@H]1CC[C@@H](C)CC1"),
    ("glucose", "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O"),
    ("stereo-ring-closure", "C[C@@]12CCC[C@H]1CCC2"),
    ("explicit-h-stereo", "[H][C@@](F)(Cl)Br"),
    ("sulfoxide-stereo", "C[S@](=O)c1ccccc1"),
    # double-bond stereo
    ("trans-difluoroethene", "F/C=C/F"),
    ("cis-difluoroethene", "F/C=C\\F"),
    ("crotonic-acid", "C/C=C/C(=O)O"),
    ("tiglic-acid", "CC/C=C(/C)C(=O)O"),
    ("branch-db-stereo", "C(/F)=C/F"),
    ("ring-db-stereo", "C/C=C1/CCCCC1"),
    ("diene-stereo", "C/C=C/C=C\\C"),
    # ring closures incl. %nn
    ("percent-ring", "C%10CCCCC%10"),
    ("percent-rings-fused", "C%12CC%13CCC%13CC%12"),
    ("percent-aromatic", "c%11ccc2ccccc2c%11"),
    ("bond-on-closure", "C=1CCCCC=1"),
    ("cubane", "C12C3C4C1C5C2C3C45"),
    ("adamantane", "C1C2CC3CC1CC(C2)C3"),
    ("spiro", "C1CCC2(CC1)CCCC2"),
    ("macrocycle", "C1CCCCCCCCCCCCCCCCCCCCC1"),
    ("norbornane", "C1CC2CCC1C2"),
    # disconnected parts / salts
    ("sodium-acetate", "CC(=O)[O-].[Na+]"),
    ("nicotine-hcl", "Cl.CN1CCCC1c1cccnc1"),
    ("sodium-sulfate", "[Na+].[Na+].[O-]S(=O)(=O)[O-]"),
    ("hydrate", "O.O.OC(=O)c1ccccc1O"),
    ("two-organics", "CCN.CCO"),
    ("fragment-tie", "C1CC1.C=CC"),
    ("counterion-first", "[Cl-].C[N+](C)(C)Cc1ccccc1"),
    ("mesylate-salt", "CS(=O)(=O)O.Nc1ccc(cc1)S(N)(=O)=O"),
    ("ethanol-dimer", "CCO.CCO"),
    # directional bonds written as a doubled backslash (ClinTox style)
    ("doubled-backslash", "F\\\\C=C\\\\F"),
    ("doubled-backslash-branch", "CC(=O)N/C(=C\\\\NC(=O)N)/C(=O)O"),
    # assorted
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"),
    ("dummy-atom", "*c1ccccc1"),
    ("explicit-h-methane", "[H]C([H])([H])[H]"),
    ("hydrogen", "[H][H]"),
    ("sulfuric-acid", "O=S(=O)(O)O"),
    ("phosphoric-acid", "P(=O)(O)(O)O"),
    ("hydrogen-cyanide", "C#N"),
    ("atom-map", "[CH3:1][OH:2]"),
    ("chiral-drug", "CN1CC[C@]23c4c5ccc(O)c4O[C@H]2[C@@H](O)C=C[C@H]3[C@H]1C5"),
    ("steroid", "C[C@]12CC[C@H]3[C@@H](CCC4=CC(=O)CC[C@@]43C)[C@@H]1CC[C@@H]2O"),
    ("penicillin", "CC1(C)S[C@@H]2[C@H](NC(=O)Cc3ccccc3)C(=O)N2[C@H]1C(=O)O"),
    ("thiophene-sulfonamide", "NS(=O)(=O)c1ccc(s1)-c1ccccc1"),
    ("exocyclic-db-scaffold", "O=C1CCC(=O)N1Cc1ccccc1"),
    ("linker-scaffold", "c1ccc(CCOc2ccncc2)cc1"),
    ("cyclopentadienide", "c1cc[cH-]c1"),
    ("tropylium", "c1cc[cH+]ccc1"),
    ("pyrrolide", "[n-]1cccc1"),
    ("pyridinium-h", "c1cc[nH+]cc1"),
    ("uric-acid", "O=c1[nH]c(=O)c2[nH]c(=O)[nH]c2[nH]1"),
    ("cyclooctatetraene", "C1=CC=CC=CC=C1"),
    ("phenanthrene", "c1ccc2c(c1)ccc1ccccc12"),
    ("tetramethylsilane", "C[Si](C)(C)C"),
    ("cisplatin", "Cl[Pt](Cl)([NH3])[NH3]"),
    ("copper-sulfate", "[Cu+2].[O-]S(=O)(=O)[O-]"),
    ("sodium-chloride-covalent", "[Na]Cl"),
    ("isotope-stereo", "[13C@H](F)(Cl)Br"),
    ("cysteine", "N[C@@H](CS)C(=O)O"),
    ("epoxide-stereo", "C[C@H]1O[C@@H]1C"),
    ("explicit-h-db-stereo", "[H]/C(F)=C/F"),
    ("deuterated-db-stereo", "[2H]/C=C/[2H]"),
    ("polyene-stereo", "C/C=C/C=C/C=C/C(=O)O"),
    ("ring-closure-db-stereo", "C/C=C1/CC/C1=C/C"),
    ("peptide", "CC[C@H](C)[C@H](NC(=O)[C@H](Cc1ccc(O)cc1)NC(=O)[C@@H](N)CCC(N)=O)C(=O)N[C@@H](Cc1c[nH]c2ccccc12)C(=O)O"),
    ("sulfonylurea", "Cc1ccc(cc1)S(=O)(=O)NC(=O)NC1CCCCC1"),
    ("phosphonium", "C[P+](c1ccccc1)(c1ccccc1)c1ccccc1"),
    ("hypervalent-iodine", "O=I(=O)c1ccccc1"),
    ("thioketone", "S=C1CCCCC1"),
    ("quaternary-ring-scaffold", "CC1(C)CC2(CCC2)C1"),
    ("biphenyl-linker", "c1ccc(cc1)-c1ccc(cc1)C(=O)Nc1ccncc1"),
    # dummy atoms in aromatic rings: RDKit keeps a bare `*` non-aromatic and kekulizes around it
    ("dummy-in-aromatic-ring", "CC(C)C1c*c(C)cc1"),
    ("dummy-fused-ring", "O=C1COc*2cccc(OCCn3cc(Br)cn3)c2N1"),
    ("dummy-ring-beside-ring", "C1CCCCC1c2cccc*C2"),
    ("radical-in-scaffold", "C1CCCCC1c2cccc*[CH]2"),
    ("radical-nitrogen-scaffold", "CC[N]1CC[C](C)C1c1ccccc1"),
    ("dummy-in-sssr-only-ring", "O=C1CCc2cc*c1ccccc1(-c3csc(-c4cnccn4)n3)c(F)cc2N1"),
    # aromatic bonds on atoms whose valence they exceed (RDKit counts the aromatic remainder)
    ("aromatic-bond-on-fluorine", "*:F[C:1]"),
    ("aromatic-oxygen-with-double-bond", "CCc1nnc(COc2ccc3ccc(=O)=oc3c2)o1"),
    # isotopes and atom maps beyond 16 bits: RDKit keeps isotopes modulo 65536 and maps exactly
    ("big-isotope", "[70000C]C(=O)O"),
    ("isotope-65536", "[65536CH4]"),
    ("big-atom-maps", "[CH3:70000]C(=O)[O-:9].[Na+:65536]"),
    ("big-atom-maps-order", "[CH3:10]C[CH2:2]C[CH2:70000]c1cc[cH:65535]cc1"),
    ("mapped-scaffold", "C[C:4]1(C)CC[CH:9]1c1c[nH:7]c2cc[c:3](Cl)cc12"),
    # invalid SMILES (RDKit's MolFromSmiles returns None)
    ("bad-dummy-kekulize", "CSc1cCcc(NC(=O)c2csnn2)*=1"),
    ("bad-map-leading-zero", "[CH4:01]"),
    ("bad-isotope-leading-zero", "[013CH4]"),
    ("bad-map-too-large", "[CH4:2147483640]"),
    ("bad-unclosed-ring", "C1CC"),
    ("bad-paren", "CC(C"),
    ("bad-close-paren", "CC)C"),
    ("bad-kekulize", "c1cccc1"),
    ("bad-valence-carbon", "C(C)(C)(C)(C)C"),
    ("bad-element", "[Xx]"),
    ("bad-char", "CC?C"),
    ("bad-bracket", "C[NH"),
    ("bad-valence-oxygen", "CO(C)C"),
    ("bad-percent", "C%1CC"),
]


def data_dir() -> Path:
    return Path(os.environ.get("CHEMLM_DATA_DIR", ROOT.parent / "shared" / "data"))


def sample_column(path: Path, column: str, n: int) -> list[str]:
    """Every k-th row (k = rows // n) of a gzipped CSV's column, starting at row 0."""
    with gzip.open(path, "rt", newline="") as f:
        rows = [r[column] for r in csv.DictReader(f)]
    step = max(1, len(rows) // n)
    return [rows[i] for i in range(0, len(rows), step)][:n]


MORGAN_2_2048 = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
MORGAN_3_1024 = rdFingerprintGenerator.GetMorganGenerator(radius=3, fpSize=1024)
MORGAN_2_4096 = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=4096)
MORGAN_1_512 = rdFingerprintGenerator.GetMorganGenerator(radius=1, fpSize=512)


def on_bits(fp) -> list[int]:
    return list(fp.GetOnBits())


def counts(fp) -> list[list[int]]:
    return [[int(k), int(v)] for k, v in sorted(fp.GetNonzeroElements().items())]


def record(ident: str, smiles: str, seed: int, extra_fp: bool) -> dict:
    rec: dict = {"id": ident, "input": smiles}
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        rec["valid"] = False
        rec["stage"] = "parse" if Chem.MolFromSmiles(smiles, sanitize=False) is None else "sanitize"
        return rec
    rec["valid"] = True
    rec["canonical"] = Chem.MolToSmiles(mol)
    rec["kekule"] = Chem.MolToSmiles(mol, kekuleSmiles=True)
    rec["random_seed"] = seed
    rec["random"] = list(Chem.MolToRandomSmilesVect(mol, 5, randomSeed=seed))
    scaffold = MurckoScaffold.GetScaffoldForMol(mol)
    rec["scaffold"] = Chem.MolToSmiles(scaffold)
    try:
        rec["generic_scaffold"] = Chem.MolToSmiles(MurckoScaffold.MakeScaffoldGeneric(scaffold))
    except Exception:  # RDKit refuses some generic scaffolds (e.g. carbon with valence > 4)
        rec["generic_scaffold"] = None
    # The legacy GetHashedMorganFingerprint / GetMorganFingerprintAsBitVect give the same numbers as
    # the generator API (checked below); the generator is what RDKit recommends now.
    rec["morgan2_2048"] = on_bits(MORGAN_2_2048.GetFingerprint(mol))
    rec["morgan2_2048_counts"] = counts(MORGAN_2_2048.GetCountFingerprint(mol))
    if extra_fp:
        rec["morgan3_1024"] = on_bits(MORGAN_3_1024.GetFingerprint(mol))
        rec["morgan2_4096"] = on_bits(MORGAN_2_4096.GetFingerprint(mol))
        rec["morgan1_512_counts"] = counts(MORGAN_1_512.GetCountFingerprint(mol))
    rec["maccs"] = on_bits(MACCSkeys.GenMACCSKeys(mol))
    rec["largest_fragment"] = Chem.MolToSmiles(rdMolStandardize.LargestFragmentChooser().choose(mol))
    rec["heavy_atoms"] = mol.GetNumHeavyAtoms()
    # Floats as repr strings: Python's repr round-trips exactly and Rust's str::parse is exact.
    rec["mol_wt"] = repr(Descriptors.MolWt(mol))
    rec["logp"] = repr(Crippen.MolLogP(mol))
    rec["rings"] = rdMolDescriptors.CalcNumRings(mol)
    return rec


def check_legacy_morgan(mol) -> None:
    """The legacy Morgan API (what older code and papers used) agrees with the generator."""
    from rdkit.Chem import AllChem

    legacy_bits = on_bits(AllChem.GetMorganFingerprintAsBitVect(mol, 2, nBits=2048))
    legacy_counts = counts(AllChem.GetHashedMorganFingerprint(mol, 2, nBits=2048))
    assert legacy_bits == on_bits(MORGAN_2_2048.GetFingerprint(mol))
    assert legacy_counts == counts(MORGAN_2_2048.GetCountFingerprint(mol))


def main() -> int:
    if rdkit.__version__ != EXPECTED_RDKIT:
        print(f"warning: RDKit {rdkit.__version__}, golden files were made with {EXPECTED_RDKIT}", file=sys.stderr)
    data = data_dir()
    moses = sample_column(data / "moses" / "test.csv.gz", "SMILES", MOSES_SAMPLE)
    qm9 = sample_column(data / "molnet" / "qm9.csv.gz", "smiles", QM9_SAMPLE)
    inputs = [(f"hand:{name}", smi, True) for name, smi in HAND]
    inputs += [(f"moses:{i}", smi, i < EXTRA_FP_ROWS) for i, smi in enumerate(moses)]
    inputs += [(f"qm9:{i}", smi, i < EXTRA_FP_ROWS) for i, smi in enumerate(qm9)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    invalid = 0
    with open(tmp, "w") as f:
        for n, (ident, smi, extra) in enumerate(inputs):
            rec = record(ident, smi, seed=1000 + n, extra_fp=extra)
            invalid += not rec["valid"]
            if rec["valid"]:
                check_legacy_morgan(Chem.MolFromSmiles(smi))
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    os.replace(tmp, OUT)
    print(f"wrote {len(inputs)} molecules ({invalid} invalid) to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
