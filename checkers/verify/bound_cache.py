"""Derived bounds reused across queries on the same encoder (an in-process cache keyed by the exact weights).

The key is a SHA-256 of the float64 weights and biases (bytes and shapes) and the
activations' exact knots, never ``id()`` (a freed object's id is reused). A derived
bound recorded for an input box stays valid on every box inside it: its multipliers
imply at least as tight a bound there, and a hull line valid on an interval is valid on
any interval inside it. Bounds that use the binary sum row are reused on the binary
domain only. Each certificate still carries its bounds and the exact re-check checks
them again.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

__all__ = ["encoder_key", "lookup", "store", "clear"]

_MAX_ENCODERS = 8
_CACHE: "OrderedDict[str, list[dict]]" = OrderedDict()
_NETS: "OrderedDict[str, Any]" = OrderedDict()


def encoder_key(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], pls: Sequence[Any]) -> str:
    h = hashlib.sha256()
    for W, b in zip(Ws, bs):
        for a in (np.ascontiguousarray(W, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)):
            h.update(repr(a.shape).encode())
            h.update(a.tobytes())
    h.update(json.dumps([p.to_json() for p in pls], sort_keys=True).encode())
    return h.hexdigest()


def _inside(lo: list, hi: list, outer_lo: list, outer_hi: list) -> bool:
    """Whether the box ``[lo, hi]`` lies in ``[outer_lo, outer_hi]`` (``None`` = unbounded)."""
    for a, b, oa, ob in zip(lo, hi, outer_lo, outer_hi):
        if oa is not None and (a is None or Fraction(a) < Fraction(oa)):
            return False
        if ob is not None and (b is None or Fraction(b) > Fraction(ob)):
            return False
    return True


def lookup(key: str, lo: list, hi: list, binary: bool) -> tuple[list, dict, bool] | None:
    """``(entries, path, same_box)`` from the best stored box containing ``[lo, hi]``, or ``None``."""
    best = None
    for rec in _CACHE.get(key, []):
        if rec["binary"] and not binary:
            continue
        if _inside(lo, hi, rec["lo"], rec["hi"]) and (best is None or len(rec["entries"]) > len(best["entries"])):
            best = rec
    if best is None:
        return None
    _CACHE.move_to_end(key)
    same = best["binary"] == binary and list(map(_q, lo)) == list(map(_q, best["lo"])) and list(map(_q, hi)) == list(map(_q, best["hi"]))
    return copy.deepcopy(best["entries"]), dict(best["path"]), same


def _q(v: Any) -> Fraction | None:
    return None if v is None else Fraction(v)


def store(key: str, lo: list, hi: list, binary: bool, entries: list, path: dict) -> None:
    recs = _CACHE.setdefault(key, [])
    recs[:] = [r for r in recs if not (r["binary"] == binary and r["lo"] == lo and r["hi"] == hi)]
    recs.append({"lo": list(lo), "hi": list(hi), "binary": binary, "entries": copy.deepcopy(entries), "path": dict(path)})
    del recs[:-16]
    _CACHE.move_to_end(key)
    while len(_CACHE) > _MAX_ENCODERS:
        _CACHE.popitem(last=False)


def net(key: str, build: Any) -> Any:
    """The exact network for ``key`` (built once by ``build()``)."""
    if key not in _NETS:
        _NETS[key] = build()
        while len(_NETS) > _MAX_ENCODERS:
            _NETS.popitem(last=False)
    _NETS.move_to_end(key)
    return _NETS[key]


def clear() -> None:
    _CACHE.clear()
    _NETS.clear()
