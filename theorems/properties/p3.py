"""P3, non-zero preservation: ``enc(x) != 0`` for every ``x != 0`` in the domain.

A witness is one point ``x`` (``x != 0``, ``enc(x) = 0``). The search aims the
latent pre-activations at the activation's zero set (``ZeroTarget``); T1 gives
constructions for vanishing activations and T2 rules out real witnesses for
non-vanishing ones. The search, constructions and the pre-search decision live
in ``checkers/falsify/search_p3.py``; the certifier in ``counterexamples/certify.py``
(``certify_zero``, registered for :class:`NonZero`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from ._core import PointCheck, check_zero
from ._registry import Property, register

__all__ = ["P3", "NonZero"]


@dataclass(frozen=True)
class NonZero(Property):
    """P3 as an object (see the module docstring)."""

    def check(self, encoder: Any, vectors: Sequence[Sequence[Fraction]]) -> PointCheck:
        return check_zero(encoder, vectors[0])

    def float_violates(self, points: Sequence[np.ndarray], latents: Sequence[np.ndarray]) -> bool:
        return bool(np.any(points[0] != 0) and np.all(latents[0] == 0))

    def shrink_screen(self, vectors: Sequence[Sequence[Fraction]], points: Sequence[np.ndarray],
                      latents: Callable[[], tuple[Any, np.ndarray]]) -> bool:
        if not np.any(points[0]):
            return False
        pre, z = latents()
        return bool(np.all(np.abs(z) <= 1e-9 * (1.0 + float(np.max(np.abs(pre))))))

    def theory_note(self, encoder: Any, cls: Any, domain: Any) -> str:
        if cls is None:
            return ""
        if cls.vanishing:
            if len(encoder.layers) == 1 and domain.is_whole:
                return (f"T1: the latent activation is {cls.cls}, so a one-layer encoder with full-row-rank W and m < n "
                        "has an affine subspace of zero counterexamples")
            return f"the latent activation is {cls.cls}; T1 covers one-layer encoders on R^n, elsewhere the search decides"
        if cls.cls == "non-vanishing":
            return "T2: the latent activation never vanishes, so no real zero counterexample exists for any architecture; only float-only hazards can appear"
        return f"the latent activation's class is {cls.cls}"


P3 = register(NonZero(
    "P3", "non-zero preservation", "for all x != 0 in D: enc(x) != 0",
    arity=1, names=("x",), what="zero counterexample", hist_key="latent_norm_log10",
    hist_edges=tuple(float(e) for e in np.linspace(-45.0, 5.0, 51)), shrink_order=("support", "round", "scale"),
    verifiable=True,
))
