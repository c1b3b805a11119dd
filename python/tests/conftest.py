"""Shared fixtures: the repository, the `chemlm` binary (for parity with the command line), and
small random models made with it (a MoLFormer encoder, a GPT-Neo causal LM, a fine-tuned run)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "crates" / "chemlm-chem" / "tests" / "golden"
FIXTURES = REPO / "fixtures"


def _binary() -> Path:
    env = os.environ.get("CHEMLM_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("debug", "release"):
        p = target / profile / "chemlm"
        if p.is_file():
            return p
    raise RuntimeError("no chemlm binary: set CHEMLM_BIN or run python/run-tests.sh")


@pytest.fixture(scope="session")
def chemlm_bin() -> Path:
    return _binary()


@pytest.fixture(scope="session")
def run(chemlm_bin):
    def run(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("CHEMLM_DEVICE", "CHEMLM_PRECISION")}
        p = subprocess.run([str(chemlm_bin), "--quiet", *map(str, args)], capture_output=True, text=True, env=env)
        assert p.returncode == 0, f"chemlm {' '.join(map(str, args))}: {p.stderr}"
        return p

    return run


@pytest.fixture(scope="session")
def moses() -> list:
    lines = (FIXTURES / "moses-mini.smi").read_text().splitlines()
    return [l.split()[0] for l in lines if l.strip()]


def _prepare(run, tmp: Path, kind: str) -> Path:
    data = tmp / f"data-{kind}"
    run("data", "prepare", "--input", FIXTURES / "moses-mini.smi", "--kind", kind, "--out", data)
    return data / "tokenizer.json"


@pytest.fixture(scope="session")
def encoder_dir(run, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("encoder")
    tok = _prepare(run, tmp, "smiles")
    out = tmp / "model"
    run("model", "init", "--preset", "molformer-tiny", "--tokenizer", tok, "--out", out, "--seed", "3")
    return out


@pytest.fixture(scope="session")
def gpt_dir(run, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("gpt")
    tok = _prepare(run, tmp, "selfies")
    out = tmp / "model"
    run("model", "init", "--preset", "gpt-small", "--tokenizer", tok, "--out", out, "--seed", "5")
    return out


@pytest.fixture(scope="session")
def finetuned_run(run, encoder_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("finetune")
    out = tmp / "run"
    run(
        "finetune", "--model", encoder_dir, "--dataset", FIXTURES / "qm9-mini.csv",
        "--smiles-col", "smiles", "--target-cols", "gap", "--task", "regression",
        "--epochs", "1", "--seeds", "0", "--out", out,
    )
    return out
