"""Float interval bounds for the search, widened outward so they enclose the exact ones.

The exact re-check (:mod:`latentcheck.counterexamples.certificate`) recomputes the bounds
in rationals; these float bounds only steer the search and size the
relaxation lines, which are then valid on the (narrower) exact intervals.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np

from .pl import PLFunction

__all__ = ["NodeBounds", "node_bounds", "REL_WIDEN"]

#: Relative outward widening of every float bound (covers the rounding of an n-term dot product for n << 1e6).
REL_WIDEN = 1e-9


@dataclass
class NodeBounds:
    """Per-layer float bounds ``z[k] = (lo, hi)``, ``h[k] = (lo, hi)`` (``+-inf`` allowed); ``empty`` says why none.

    ``zf[k]`` are the forward interval bounds of ``z_k`` before the path's clamps (``z[k]`` is their meet with
    the clamps): every ``h_{k-1}`` in its box gives ``W_k h_{k-1} + b_k`` inside ``zf[k]``."""

    x: tuple[np.ndarray, np.ndarray]
    z: list[tuple[np.ndarray, np.ndarray]]
    h: list[tuple[np.ndarray, np.ndarray]]
    empty: str | None = None
    zf: list = field(default_factory=list)


def _affine(W: np.ndarray, absW: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo_f = np.where(np.isfinite(lo), lo, 0.0)
    hi_f = np.where(np.isfinite(hi), hi, 0.0)
    mid, rad = (lo_f + hi_f) / 2, (hi_f - lo_f) / 2
    c, r = W @ mid + b, absW @ rad
    scale = absW @ np.maximum(np.abs(lo_f), np.abs(hi_f)) + np.abs(b)
    pad = REL_WIDEN * scale + 1e-300
    zlo, zhi = c - r - pad, c + r + pad
    lo_inf, hi_inf = ~np.isfinite(lo), ~np.isfinite(hi)
    down = ((W > 0) & lo_inf[None, :]).any(axis=1) | ((W < 0) & hi_inf[None, :]).any(axis=1)
    up = ((W > 0) & hi_inf[None, :]).any(axis=1) | ((W < 0) & lo_inf[None, :]).any(axis=1)
    return np.where(down, -np.inf, zlo), np.where(up, np.inf, zhi)


def _to_q(v: float) -> Fraction | None:
    return Fraction(float(v)) if np.isfinite(v) else None


@functools.lru_cache(maxsize=200_000)
def _range_cached(pl: PLFunction, a: float, b: float) -> tuple[float, float]:
    rl, rh = pl.range_on(_to_q(a), _to_q(b))
    return (-math.inf if rl is None else math.nextafter(float(rl), -math.inf),
            math.inf if rh is None else math.nextafter(float(rh), math.inf))


def _at(pl: PLFunction, t: np.ndarray) -> np.ndarray:
    """``s(t)`` in float64, with the limits at ``+-inf`` taken from the end slopes."""
    with np.errstate(invalid="ignore"):
        v = pl.numpy(t)
    left, right = float(pl.slope_left), float(pl.slope_right if pl.knots else pl.slope_left)
    first = float(pl.values[0]) if pl.knots else float(pl.offset)
    last = float(pl.values[-1]) if pl.knots else float(pl.offset)
    v = np.where(t == -np.inf, -np.sign(left) * np.inf if left != 0 else first, v)
    return np.where(t == np.inf, np.sign(right) * np.inf if right != 0 else last, v)


def _value_range(pl: PLFunction, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float ``(min, max)`` of ``s`` on each ``[lo, hi]``, vectorised: the ends and the knots inside, widened
    outward by a relative ``1e-12`` (a few roundings of ``s``'s formula; only the search uses these)."""
    vlo, vhi = _at(pl, lo), _at(pl, hi)
    rmin, rmax = np.minimum(vlo, vhi), np.maximum(vlo, vhi)
    for q, val in zip(pl.knots, pl.values):
        inside = (lo < float(q)) & (float(q) < hi)
        rmin = np.where(inside, np.minimum(rmin, float(val)), rmin)
        rmax = np.where(inside, np.maximum(rmax, float(val)), rmax)
    with np.errstate(invalid="ignore"):
        pad_lo = 1e-12 * (1 + np.abs(rmin))
        pad_hi = 1e-12 * (1 + np.abs(rmax))
    return np.where(np.isfinite(rmin), rmin - pad_lo, rmin), np.where(np.isfinite(rmax), rmax + pad_hi, rmax)


def node_bounds(Ws: Sequence[np.ndarray], absWs: Sequence[np.ndarray], bs: Sequence[np.ndarray],
                pls: Sequence[PLFunction], xlo: np.ndarray, xhi: np.ndarray,
                zclamp: dict[tuple[int, int], tuple[float, float]]) -> NodeBounds:
    """Interval propagation from the ``x`` box, meeting ``z`` with the path's clamps ``(k, j) -> (lo, hi)``."""
    nb = NodeBounds((xlo, xhi), [], [])
    if np.any(xlo > xhi):
        nb.empty = "x box"
        return nb
    lo, hi = xlo, xhi
    L = len(Ws)
    for k in range(L):
        zlo, zhi = _affine(Ws[k], absWs[k], bs[k], lo, hi)
        nb.zf.append((zlo.copy(), zhi.copy()))
        for (kk, j), (a, b) in zclamp.items():
            if kk == k:
                zlo[j], zhi[j] = max(zlo[j], a), min(zhi[j], b)
        nb.z.append((zlo, zhi))
        if np.any(zlo > zhi):
            nb.empty = f"z[{k}]"
            return nb
        lo, hi = _value_range(pls[k], zlo, zhi)
        if k == L - 1:
            if np.any(lo > 0) or np.any(hi < 0):
                nb.empty = "latent excludes 0"
                nb.h.append((lo, hi))
                return nb
            lo, hi = np.zeros_like(lo), np.zeros_like(hi)
        nb.h.append((lo, hi))
    return nb
