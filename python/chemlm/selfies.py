"""A drop-in for the common calls of the `selfies` package (2.2.0), computed by chemlm.

    import chemlm.selfies as sf
    sf.encoder("c1ccccc1O")            # '[C][=C][C][=C][C][=C][Ring1][=Branch1][O]'
    sf.decoder("[C][=C][C][=C][C][=C][Ring1][=Branch1][O]")

Same results as the `selfies` package (string for string, checked against it in the tests) and the
same exception types by name and meaning: ``EncoderError`` for a SMILES that cannot be encoded,
``DecoderError`` for a SELFIES string that cannot be decoded, ``ValueError`` for malformed symbols
in the utilities and for bad constraints. The ``*_batch`` functions take a list, run on all cores
with the GIL released, and give ``None`` for a bad item plus one warning with the count.

Not supported (a clear error, never a silent difference): ``encoder(..., attribute=True)`` and
``decoder(..., compatible=True | attribute=True)``.
"""

from __future__ import annotations

from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from . import _native
from ._util import as_list, warn_failures

EncoderError = _native.EncoderError
DecoderError = _native.DecoderError

__all__ = [
    "EncoderError",
    "DecoderError",
    "encoder",
    "decoder",
    "encoder_batch",
    "decoder_batch",
    "split_selfies",
    "len_selfies",
    "get_alphabet_from_selfies",
    "get_semantic_robust_alphabet",
    "get_semantic_constraints",
    "get_preset_constraints",
    "set_semantic_constraints",
    "selfies_to_encoding",
    "encoding_to_selfies",
    "batch_selfies_to_flat_hot",
    "batch_flat_hot_to_selfies",
]


def encoder(smiles: str, strict: bool = True, attribute: bool = False) -> str:
    """SMILES -> SELFIES, as ``selfies.encoder``. Raises ``EncoderError``."""
    if attribute:
        raise NotImplementedError("chemlm.selfies.encoder: attribute=True is not supported")
    return _native.selfies_encoder(smiles, strict)


def decoder(selfies: str, compatible: bool = False, attribute: bool = False) -> str:
    """SELFIES -> SMILES, as ``selfies.decoder``. Raises ``DecoderError``."""
    if compatible or attribute:
        raise NotImplementedError(
            "chemlm.selfies.decoder: compatible=True and attribute=True are not supported"
        )
    return _native.selfies_decoder(selfies)


def encoder_batch(smiles: Iterable[str], strict: bool = True) -> List[Optional[str]]:
    """``encoder`` over a list on all cores; None (and one warning) for each bad SMILES."""
    items = as_list(smiles, "SMILES")
    out, failures = _native.selfies_encoder_batch(items, strict)
    warn_failures("chemlm.selfies.encoder_batch", len(items), failures)
    return out


def decoder_batch(selfies: Iterable[str]) -> List[Optional[str]]:
    """``decoder`` over a list on all cores; None (and one warning) for each bad string."""
    items = as_list(selfies, "SELFIES")
    out, failures = _native.selfies_decoder_batch(items)
    warn_failures("chemlm.selfies.decoder_batch", len(items), failures)
    return out


def split_selfies(selfies: str) -> Iterator[str]:
    """The symbols of a SELFIES string (``.`` included), as a generator like ``selfies``'."""
    symbols, error = _native.split_selfies(selfies)
    yield from symbols
    if error is not None:
        raise ValueError(error)


def len_selfies(selfies: str) -> int:
    """Number of symbols (``.`` included)."""
    return _native.len_selfies(selfies)


def get_alphabet_from_selfies(selfies_iter: Iterable[str]) -> Set[str]:
    """The set of symbols (``.`` excluded) used by some SELFIES strings."""
    return set(_native.get_alphabet_from_selfies(list(selfies_iter)))


def get_semantic_robust_alphabet() -> Set[str]:
    """Every symbol the decoder accepts under the current constraints."""
    return set(_native.get_semantic_robust_alphabet())


def get_semantic_constraints() -> Dict[str, int]:
    return dict(_native.get_semantic_constraints())


def get_preset_constraints(name: str) -> Dict[str, int]:
    return dict(_native.get_preset_constraints(name))


def set_semantic_constraints(bond_constraints: Union[str, Dict[str, int]] = "default") -> None:
    """Process-wide constraints: a preset (``default``, ``octet_rule``, ``hypervalent``) or a dict."""
    _native.set_semantic_constraints(bond_constraints)


def selfies_to_encoding(
    selfies: str,
    vocab_stoi: Dict[str, int],
    pad_to_len: int = -1,
    enc_type: str = "both",
) -> Union[List[int], List[List[int]], Tuple[List[int], List[List[int]]]]:
    """Label and/or one-hot encoding of a SELFIES string, as ``selfies.selfies_to_encoding``."""
    if enc_type not in ("label", "one_hot", "both"):
        raise ValueError("enc_type must be in ('label', 'one_hot', 'both')")
    n = len_selfies(selfies)
    if pad_to_len > n:
        selfies += "[nop]" * (pad_to_len - n)
    labels = []
    for symbol in split_selfies(selfies):
        if symbol == "." and "." not in vocab_stoi:
            raise KeyError(
                "The SELFIES string contains two unconnected molecules "
                "(given by the '.' character), but vocab_stoi does not "
                "contain the '.' key. Please add it to the vocabulary "
                "or separate the molecules."
            )
        labels.append(vocab_stoi[symbol])
    if enc_type == "label":
        return labels
    one_hot = []
    for index in labels:
        row = [0] * len(vocab_stoi)
        row[index] = 1
        one_hot.append(row)
    if enc_type == "one_hot":
        return one_hot
    return labels, one_hot


def encoding_to_selfies(
    encoding: Union[List[int], List[List[int]]],
    vocab_itos: Dict[int, str],
    enc_type: str,
) -> str:
    """A label or one-hot encoding back to a SELFIES string, as ``selfies.encoding_to_selfies``."""
    if enc_type not in ("label", "one_hot"):
        raise ValueError("enc_type must be in ('label', 'one_hot')")
    if enc_type == "one_hot":
        labels = [list(row).index(1) for row in encoding]
    else:
        labels = encoding
    return "".join(vocab_itos[i] for i in labels)


def batch_selfies_to_flat_hot(
    selfies_batch: List[str],
    vocab_stoi: Dict[str, int],
    pad_to_len: int = -1,
) -> List[List[int]]:
    """Flattened one-hot encodings of a list, as ``selfies.batch_selfies_to_flat_hot``."""
    out = []
    for s in selfies_batch:
        one_hot = selfies_to_encoding(s, vocab_stoi, pad_to_len, enc_type="one_hot")
        out.append([x for row in one_hot for x in row])
    return out


def batch_flat_hot_to_selfies(
    one_hot_batch: List[List[int]],
    vocab_itos: Dict[int, str],
) -> List[str]:
    """Inverse of ``batch_selfies_to_flat_hot``, as ``selfies.batch_flat_hot_to_selfies``."""
    m = len(vocab_itos)
    out = []
    for flat in one_hot_batch:
        if len(flat) % m != 0:
            raise ValueError(
                "size of vector in one_hot_batch not divisible by the length of the vocabulary."
            )
        rows = [flat[i : i + m] for i in range(0, len(flat), m)]
        out.append(encoding_to_selfies(rows, vocab_itos, enc_type="one_hot"))
    return out
