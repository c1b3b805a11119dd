"""chemlm.Model and chemlm.screen against the command line on the same random models: the Python
module and the binary call the same library entry points, so their numbers must agree."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import chemlm
from conftest import FIXTURES


def _read_csv_rows(path):
    rows = []
    for line in path.read_text().splitlines():
        rows.append([float(x) for x in line.split(",")] if line else None)
    return rows


def test_embed_equals_chemlm_embed(run, encoder_dir, moses, tmp_path):
    smiles = moses[:80] + ["C1CC", "CC(=O)Oc1ccccc1C(=O)O"]
    inp = tmp_path / "in.smi"
    inp.write_text("\n".join(smiles) + "\n")
    out = tmp_path / "e.csv"
    run("embed", "--model", encoder_dir, "--input", inp, "--output", out)
    cli = _read_csv_rows(out)
    m = chemlm.Model.load(encoder_dir)
    with pytest.warns(chemlm.ChemlmWarning, match="2 of 82 invalid"):
        E = m.embed(smiles)
    assert E.dtype == np.float32 and E.shape == (82, m.info()["hidden_size"])
    for i, row in enumerate(cli):
        if row is None:
            assert np.isnan(E[i]).all()
        else:
            np.testing.assert_allclose(E[i], row, rtol=0, atol=1e-6)
    # One molecule alone gives the same row as inside a batch (padding is masked).
    np.testing.assert_allclose(m.embed(smiles[5]), E[5], rtol=0, atol=1e-5)
    with pytest.raises(chemlm.InvalidMoleculeError):
        m.embed("C1CC")
    # Canonicalisation as `chemlm embed --canonicalize`.
    out_c = tmp_path / "c.csv"
    run("embed", "--model", encoder_dir, "--input", inp, "--output", out_c, "--canonicalize")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Ec = m.embed(smiles, canonicalize=True)
    np.testing.assert_allclose(Ec[0], _read_csv_rows(out_c)[0], rtol=0, atol=1e-6)


def test_info_kind_and_errors(run, encoder_dir, tmp_path):
    m = chemlm.Model.load(str(encoder_dir))
    info = m.info()
    cli = json.loads(run("model", "info", "--model", encoder_dir).stdout)
    for key in ("architecture", "layers", "hidden_size", "vocab_size", "parameters"):
        assert info[key] == cli[key], key
    assert m.kind == "encoder" and info["kind"] == "encoder"
    with pytest.raises(chemlm.ChemlmError):
        m.predict(["CCO"])
    with pytest.raises(chemlm.ChemlmError):
        chemlm.Model.load(tmp_path / "missing")
    with pytest.raises(ValueError):
        m.generate(3)  # not a causal LM


def test_predict_equals_chemlm_predict(run, finetuned_run, moses, tmp_path):
    smiles = moses[:40] + ["not a molecule"]
    inp = tmp_path / "in.smi"
    inp.write_text("\n".join(smiles) + "\n")
    out = tmp_path / "p.csv"
    run("predict", "--model", finetuned_run, "--input", inp, "--output", out)
    cli = _read_csv_rows(out)
    m = chemlm.Model.load(finetuned_run)
    assert m.kind == "finetuned" and m.info()["tasks"] == ["gap"]
    with pytest.warns(chemlm.ChemlmWarning):
        P = m.predict(smiles)
    assert P.shape == (41, 1) and P.dtype == np.float64
    for i, row in enumerate(cli):
        if row is None:
            assert np.isnan(P[i]).all()
        else:
            np.testing.assert_allclose(P[i], row, rtol=1e-6, atol=1e-9)
    assert m.predict(smiles[0]).shape == (1,)


def test_generate_equals_chemlm_generate(run, gpt_dir, tmp_path):
    out = tmp_path / "g.smi"
    run("generate", "--model", gpt_dir, "--num", "24", "--seed", "7", "--temperature", "0.9",
        "--top-k", "20", "--max-len", "40", "--out", out)
    cli = [l if l else None for l in out.read_text().split("\n")[:-1]]
    m = chemlm.Model.load(gpt_dir)
    assert m.kind == "causal-lm"
    got = m.generate(24, temperature=0.9, top_k=20, seed=7, max_new_tokens=40, batch_size=5)
    assert got == cli
    assert any(g is not None for g in got)
    with pytest.raises(ValueError):
        m.generate(2, temperature=0.0)


def test_screen_equals_chemlm_screen(run, tmp_path):
    actives = ["CC(=O)Oc1ccccc1C(=O)O aspirin", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"]
    act = tmp_path / "actives.smi"
    act.write_text("\n".join(actives) + "\n")
    out = tmp_path / "hits.csv"
    lib = FIXTURES / "moses-mini.smi"
    run("screen", "--library", lib, "--actives", act, "--top", "10", "--out", out)
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    cli = [dict(zip(header, l.split(","))) for l in lines[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixture has deliberately bad lines
        hits = chemlm.screen(lib, actives, top=10)
        from_list = chemlm.screen([l for l in lib.read_text().splitlines()], actives, top=10)
    assert len(hits) == len(cli) == 10
    for h, c in zip(hits, cli):
        assert h["rank"] == int(c["rank"]) and h["smiles"] == c["smiles"]
        assert abs(h["score"] - float(c["score"])) < 1e-6
        assert h["nearest_active"] == c["nearest_active"]
        assert h["line"] == int(c["line"])
    assert [h["smiles"] for h in from_list] == [h["smiles"] for h in hits]
    with pytest.raises(ValueError):
        chemlm.screen(["CCO"], ["C1CC"])


def test_load_from_hub_cache_offline(encoder_dir, tmp_path, monkeypatch):
    """`hf:ORG/NAME` resolves through the Hugging Face cache layout (what huggingface_hub wrote),
    offline, to the same model as the directory."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--chemlm-test--tiny"
    snap = repo / "snapshots" / commit
    shutil.copytree(encoder_dir, snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    m = chemlm.Model.load("hf:chemlm-test/tiny")
    assert m.path.startswith(str(snap))
    ref = chemlm.Model.load(encoder_dir)
    np.testing.assert_array_equal(m.embed(["CCO", "c1ccccc1"]), ref.embed(["CCO", "c1ccccc1"]))
    with pytest.raises(chemlm.ChemlmError):
        chemlm.Model.load("hf:chemlm-test/absent")
