"""chemlm: chemical language models and molecules, from the chemlm Rust library.

One import for what the ``chemlm`` command line does, in process and on all cores::

    import chemlm
    chemlm.canon("OCC")                          # 'CCO'
    X = chemlm.fingerprint(smiles_list)          # numpy uint8 [n, 2048]
    m = chemlm.Model.load("runs/quickstart/pretrain/final")
    E = m.embed(smiles_list)                     # numpy float32 [n, hidden]

Single molecules raise ``InvalidMoleculeError`` (a ``ValueError``) when invalid; lists never
raise for a bad molecule: its entry is None (strings), a NaN row (float arrays) or a zero row
(bit arrays), and one ``ChemlmWarning`` gives the count and the first reasons. Work runs with the
GIL released, lists on all cores (``RAYON_NUM_THREADS`` sets the thread count).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from . import _native
from ._util import ChemlmWarning, as_list, fspath_or_none, is_single, warn_failures
from . import selfies

__version__: str = _native.__version__

InvalidMoleculeError = _native.InvalidMoleculeError
ChemlmError = _native.ChemlmError

__all__ = [
    "__version__",
    "InvalidMoleculeError",
    "ChemlmError",
    "ChemlmWarning",
    "canon",
    "scaffold",
    "fingerprint",
    "tanimoto",
    "Model",
    "screen",
    "selfies",
]

Smiles = Union[str, Iterable[str]]


def canon(smiles: Smiles) -> Union[str, List[Optional[str]]]:
    """Canonical SMILES (RDKit's, with stereo), of one molecule or a list."""
    if is_single(smiles):
        return _native.canon_one(smiles)
    items = as_list(smiles)
    out, failures = _native.canon_many(items)
    warn_failures("chemlm.canon", len(items), failures)
    return out


def scaffold(smiles: Smiles, generic: bool = False) -> Union[str, List[Optional[str]]]:
    """Bemis-Murcko scaffold (RDKit's ``MurckoScaffoldSmiles``; ``generic`` = all-carbon frame)."""
    if is_single(smiles):
        return _native.scaffold_one(smiles, generic)
    items = as_list(smiles)
    out, failures = _native.scaffold_many(items, generic)
    warn_failures("chemlm.scaffold", len(items), failures)
    return out


def fingerprint(
    smiles: Smiles, radius: int = 2, n_bits: int = 2048, counts: bool = False
) -> np.ndarray:
    """Morgan fingerprint (RDKit's ``GetMorganFingerprintAsBitVect`` / hashed counts).

    One molecule gives a 1-D array, a list a 2-D ``[n, n_bits]`` array: ``uint8`` bits (a bad
    molecule's row is all zero) or, with ``counts=True``, ``float32`` counts (a bad row is NaN).
    """
    if is_single(smiles):
        return _native.fingerprint_one(smiles, radius, n_bits, counts)
    items = as_list(smiles)
    arr, failures = _native.fingerprint_many(items, radius, n_bits, counts)
    warn_failures("chemlm.fingerprint", len(items), failures)
    return arr


def tanimoto(a: Smiles, b: Smiles, radius: int = 2, n_bits: int = 2048) -> Union[float, np.ndarray]:
    """Tanimoto similarity of Morgan bit fingerprints.

    ``str, str`` -> float; ``str, list`` -> 1-D array; ``list, list`` -> ``[len(a), len(b)]``
    matrix. NaN where a listed molecule is invalid; an invalid single molecule raises.
    """
    single_a, single_b = is_single(a), is_single(b)
    la = [a] if single_a else as_list(a)
    lb = [b] if single_b else as_list(b)
    m, fa, fb = _native.tanimoto_matrix(la, lb, radius, n_bits)
    for single, failures, items in ((single_a, fa, la), (single_b, fb, lb)):
        if single and failures:
            raise InvalidMoleculeError(f"{items[0]!r}: {failures[0][1]}")
    if not single_a:
        warn_failures("chemlm.tanimoto (first argument)", len(la), fa)
    if not single_b:
        warn_failures("chemlm.tanimoto (second argument)", len(lb), fb)
    if single_a and single_b:
        return float(m[0, 0])
    if single_a:
        return m[0]
    if single_b:
        return m[:, 0]
    return m


class Model:
    """A chemlm model: a directory in Hugging Face layout, a ``hf:ORG/NAME[@REV]`` Hub id, or a
    ``chemlm finetune`` run (its first fit's best model).

    ``embed`` works for every model; ``predict`` for fine-tuned ones; ``generate`` for causal LMs
    (ChemGPT / GPT-Neo).
    """

    def __init__(self, native: "_native.Model") -> None:
        self._m = native

    @classmethod
    def load(cls, source: Union[str, "os.PathLike[str]"], device: str = "auto") -> "Model":
        """Loads a model. ``device``: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (a GPU when the
        module was built with ``--features cuda`` and one is present, else the CPU), as the
        command line's ``--device``."""
        return cls(_native.Model.load(os.fspath(source), device))

    @property
    def path(self) -> str:
        """The local directory the weights were read from."""
        return self._m.path

    @property
    def kind(self) -> str:
        """``encoder``, ``causal-lm``, ``seq2seq`` or ``finetuned``."""
        return self._m.kind

    def info(self) -> Dict[str, Any]:
        """Architecture, sizes and parameter counts (as ``chemlm model info``)."""
        return json.loads(self._m.info_json())

    def embed(
        self,
        smiles: Smiles,
        batch_size: int = 64,
        canonicalize: bool = False,
        oov: str = "unk",
    ) -> np.ndarray:
        """Mean-pooled final hidden states, equal to ``chemlm embed`` for the same options.

        One molecule gives ``[hidden]`` (raises if invalid), a list ``[n, hidden]`` float32 with
        NaN rows for invalid molecules. ``oov``: tokens outside the vocabulary become ``<unk>``
        (``unk``) or their nearest in-vocabulary form (``nearest``).
        """
        single = is_single(smiles)
        items = [smiles] if single else as_list(smiles)
        arr, failures, oov_summary = self._m.embed(items, batch_size, canonicalize, oov)
        if single:
            if failures:
                raise InvalidMoleculeError(f"{smiles!r}: {failures[0][1]}")
            return arr[0]
        warn_failures("chemlm.Model.embed", len(items), failures)
        if oov_summary:
            import warnings

            warnings.warn(f"chemlm.Model.embed: {oov_summary}", ChemlmWarning, stacklevel=2)
        return arr

    def predict(self, smiles: Smiles, batch_size: int = 64) -> np.ndarray:
        """Predictions of a fine-tuned model: probabilities (classification) or values in the
        training units (regression), ``[tasks]`` for one molecule, ``[n, tasks]`` for a list
        (NaN rows for invalid molecules)."""
        single = is_single(smiles)
        items = [smiles] if single else as_list(smiles)
        arr, failures = self._m.predict(items, batch_size)
        if single:
            if failures:
                raise InvalidMoleculeError(f"{smiles!r}: {failures[0][1]}")
            return arr[0]
        warn_failures("chemlm.Model.predict", len(items), failures)
        return arr

    def generate(
        self,
        n: int,
        temperature: float = 1.0,
        top_k: Optional[int] = None,
        top_p: Optional[float] = None,
        seed: int = 0,
        max_new_tokens: int = 128,
        batch_size: int = 64,
    ) -> List[Optional[str]]:
        """``n`` molecules sampled from a causal LM, as SMILES (a SELFIES model's output is
        decoded); None where a sample did not finish. Sample ``i`` depends only on ``seed`` and
        ``i``, so results equal ``chemlm generate`` with the same settings."""
        return self._m.generate(n, temperature, top_k, top_p, seed, max_new_tokens, batch_size)

    def __repr__(self) -> str:
        return repr(self._m)


def screen(
    library: Union[str, "os.PathLike[str]", Iterable[str]],
    actives: Optional[Iterable[str]] = None,
    top: int = 100,
    fingerprint: str = "ecfp4",
    aggregate: str = "max",
    model: Union[None, str, "os.PathLike[str]", Model] = None,
    scorer: str = "similarity",
    task: int = 0,
    canonicalize: bool = False,
    skip_header: bool = False,
) -> List[Dict[str, Any]]:
    """Ligand-based virtual screening, as ``chemlm screen``: the ``top`` library molecules most
    similar to the actives (Morgan/Tanimoto, or cosine of a model's embeddings when ``model`` is
    given), or with ``scorer="model"`` the highest predictions of a fine-tuned ``model``.

    ``library`` is a SMILES file (plain or gzip; ``SMILES [id]`` per line) or a list of SMILES.
    Returns records ``{rank, score, smiles, id, line, nearest_active}`` best first, ready for
    ``pandas.DataFrame``; invalid library molecules are skipped with one warning.
    """
    path = fspath_or_none(library)
    items = None if path is not None else as_list(library, "library molecules")
    act = [] if actives is None else as_list(actives, "actives")
    model_path = None
    if isinstance(model, Model):
        model_path = model.path
    elif model is not None:
        model_path = os.fspath(model)
    if scorer not in ("similarity", "model"):
        raise ValueError(f"scorer must be 'similarity' or 'model', got {scorer!r}")
    predict_task = task if scorer == "model" else None
    # An active may carry a name after its SMILES ("CCO ethanol"), as in an actives file.
    act_smiles = [a.split()[0] if a.split() else a for a in act]
    hits, scored, bad = _native.screen(
        path, items, act_smiles, top, fingerprint, aggregate, model_path, predict_task, canonicalize, skip_header
    )
    if bad:
        warn_failures(
            "chemlm.screen", scored + len(bad), [(line, reason) for line, reason in bad]
        )
    names = [a.split()[1] if len(a.split()) > 1 else a for a in act]
    return [
        {
            "rank": rank,
            "score": score,
            "smiles": smi,
            "id": ident,
            "line": line,
            "nearest_active": names[near] if near is not None and near < len(names) else None,
        }
        for rank, score, smi, ident, line, near in hits
    ]
