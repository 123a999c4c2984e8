"""P2, similarity-ordering preservation: ``<x,u> <= <x,v>`` implies ``<enc x, enc u> <= <enc x, enc v>``.

A witness is a triple ``(x, u, v)`` (an ordering flip). The search is a pool
inversion then projected Adam; T3 (kernel) and T5 (zero user) give constructions
(``checkers/falsify/search_p2.py``); the certifier is ``certify_flip``
(``counterexamples/certify.py``, registered for :class:`Ordering`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from ._core import PointCheck, check_flip
from ._registry import Property, register

__all__ = ["P2", "Ordering"]


@dataclass(frozen=True)
class Ordering(Property):
    """P2 as an object (see the module docstring)."""

    #: required premise margin: ``<x,v> - <x,u> >= delta |x|^2`` (0 for P2 itself).
    delta: Fraction = Fraction(0)

    def check(self, encoder: Any, vectors: Sequence[Sequence[Fraction]]) -> PointCheck:
        return check_flip(encoder, *vectors)

    def float_violates(self, points: Sequence[np.ndarray], latents: Sequence[np.ndarray]) -> bool:
        x, u, v = points
        zx, zu, zv = latents
        with np.errstate(all="ignore"):
            prem = float(np.dot(x, v) - np.dot(x, u) - float(self.delta) * np.dot(x, x))
            flip = float(np.dot(zx, zu) - np.dot(zx, zv))
        return bool(prem >= 0 and flip > 0)

    def shrink_screen(self, vectors: Sequence[Sequence[Fraction]], points: Sequence[np.ndarray],
                      latents: Callable[[], tuple[Any, np.ndarray]]) -> bool:
        x, u, v = vectors
        gap = _sparse_dot(x, v) - _sparse_dot(x, u)
        if gap < 0 or (self.delta and gap < self.delta * _sparse_dot(x, x)):
            return False
        z = latents()[1]
        return bool(z[0] @ z[1] - z[0] @ z[2] > 1e-12 * (1 + abs(z[0] @ z[1])))

    def theory_note(self, encoder: Any, cls: Any, domain: Any) -> str:
        if domain.is_whole:
            return ("T4: on R^n with m < n every non-constant encoder has an ordering flip (T3 for linear encoders, "
                    "T5 with the zero user when enc(0) != 0)")
        return "T4 is proved on R^n; whether it holds on this domain is open, the search decides case by case"


def _sparse_dot(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    acc = Fraction(0)
    for p, q in zip(a, b):
        if p and q:
            acc += p * q
    return acc


P2 = register(Ordering(
    "P2", "similarity-ordering preservation",
    "for all x, u, v in D: <x,u> <= <x,v> implies <enc x, enc u> <= <enc x, enc v>",
    arity=3, names=("x", "u", "v"), what="ordering flip", hist_key="flip_margin_signed_log10",
    hist_edges=tuple(float(e) for e in np.linspace(-6.0, 6.0, 49)), shrink_order=("zero-uv", "support", "round"),
))
