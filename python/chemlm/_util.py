"""Helpers shared by the chemlm Python layer: single-vs-list dispatch and the warning for bad rows."""

from __future__ import annotations

import os
import warnings
from typing import Iterable, List, Sequence, Tuple


class ChemlmWarning(UserWarning):
    """Some molecules of a list were invalid (their rows are None / NaN / zero)."""


def is_single(x: object) -> bool:
    return isinstance(x, str)


def as_list(x: Iterable[str], what: str = "molecules") -> List[str]:
    if isinstance(x, (str, bytes)):
        raise TypeError(f"expected a list of {what}, got a single string")
    out = list(x)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise TypeError(f"{what}[{i}] is {type(s).__name__}, expected str")
    return out


def warn_failures(what: str, total: int, failures: Sequence[Tuple[int, str]], stacklevel: int = 3) -> None:
    """One warning per list call: how many items failed and the first few reasons."""
    if not failures:
        return
    shown = "; ".join(f"[{i}] {reason}" for i, reason in failures[:3])
    more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
    warnings.warn(
        f"{what}: {len(failures)} of {total} invalid ({shown}{more})",
        ChemlmWarning,
        stacklevel=stacklevel,
    )


def fspath_or_none(x: object):
    """A path-like library argument as a string, or None when it is a list of molecules."""
    if isinstance(x, (str, os.PathLike)):
        return os.fspath(x)
    return None
