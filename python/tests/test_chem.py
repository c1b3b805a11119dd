"""Molecules against RDKit: the golden file of scripts/gen_chem_golden.py, and live RDKit."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import chemlm
from conftest import GOLDEN


def _golden():
    for line in (GOLDEN / "chem" / "molecules.jsonl").read_text().splitlines():
        if line.strip():
            yield json.loads(line)


def test_golden_canon_scaffold_fingerprints():
    rows = [r for r in _golden() if r.get("valid")]
    assert len(rows) > 300
    smiles = [r["input"] for r in rows]
    assert chemlm.canon(smiles) == [r["canonical"] for r in rows]
    for r in rows:
        if "scaffold" in r:
            assert chemlm.scaffold(r["input"]) == r["scaffold"], r["id"]
            assert chemlm.scaffold(r["input"], generic=True) == r["generic_scaffold"], r["id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few golden molecules have no fingerprint (RDKit neither)
        fps = chemlm.fingerprint(smiles)
        counts = chemlm.fingerprint(smiles, radius=1, n_bits=512, counts=True)
    assert fps.shape == (len(rows), 2048) and fps.dtype == np.uint8
    assert counts.dtype == np.float32
    for i, r in enumerate(rows):
        if "morgan2_2048" in r:
            assert list(np.flatnonzero(fps[i])) == r["morgan2_2048"], r["id"]
        if "morgan1_512_counts" in r:
            nz = np.flatnonzero(counts[i])
            assert [[int(b), int(counts[i, b])] for b in nz] == r["morgan1_512_counts"], r["id"]


def test_invalid_golden_molecules_raise_alone_and_are_none_in_lists():
    bad = [r["input"] for r in _golden() if not r.get("valid")]
    assert bad
    for s in bad[:20]:
        with pytest.raises(chemlm.InvalidMoleculeError):
            chemlm.canon(s)
    with pytest.warns(chemlm.ChemlmWarning, match=f"{len(bad)} of {len(bad) + 1} invalid"):
        out = chemlm.canon(bad + ["OCC"])
    assert out == [None] * len(bad) + ["CCO"]


def test_live_rdkit_parity(moses):
    Chem = pytest.importorskip("rdkit.Chem")
    from rdkit.Chem import AllChem, DataStructs

    mols = [Chem.MolFromSmiles(s) for s in moses]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert chemlm.canon(moses) == [Chem.MolToSmiles(m) if m else None for m in mols]
    moses = [s for s, m in zip(moses, mols) if m is not None]
    mols = [m for m in mols if m is not None]
    assert len(mols) >= 290
    fps = chemlm.fingerprint(moses, radius=2, n_bits=2048)
    for i, m in enumerate(mols):
        ref = np.zeros(2048, dtype=np.uint8)
        DataStructs.ConvertToNumpyArray(AllChem.GetMorganFingerprintAsBitVect(m, 2, nBits=2048), ref)
        assert np.array_equal(fps[i], ref), moses[i]
    q = AllChem.GetMorganFingerprintAsBitVect(mols[0], 2, nBits=2048)
    ref = [DataStructs.TanimotoSimilarity(q, AllChem.GetMorganFingerprintAsBitVect(m, 2, nBits=2048)) for m in mols]
    np.testing.assert_allclose(chemlm.tanimoto(moses[0], moses), ref, rtol=0, atol=1e-12)


def test_shapes_nan_rows_and_errors():
    one = chemlm.fingerprint("CCO")
    assert one.shape == (2048,) and one.dtype == np.uint8 and one.sum() > 0
    with pytest.warns(chemlm.ChemlmWarning):
        c = chemlm.fingerprint(["CCO", "C1CC"], counts=True)
    assert np.isnan(c[1]).all() and not np.isnan(c[0]).any()
    with pytest.warns(chemlm.ChemlmWarning):
        m = chemlm.tanimoto(["CCO", "C1CC"], ["CCO", "CCN", "c1ccccc1"])
    assert m.shape == (2, 3) and m[0, 0] == 1.0 and np.isnan(m[1]).all()
    assert chemlm.tanimoto("CCO", "CCO") == 1.0
    with pytest.raises(chemlm.InvalidMoleculeError):
        chemlm.tanimoto("C1CC", ["CCO"])
    with pytest.raises(ValueError):
        chemlm.fingerprint("CCO", n_bits=0)
    with pytest.raises(TypeError):
        chemlm.canon(["CCO", 3])
