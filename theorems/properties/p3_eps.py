"""P3-eps, non-vanishing away from the origin: ``|enc(x)|_inf >= eps`` for every ``x`` in the domain with ``|x| >= r``.

A relaxed P3 readers of the paper ask about: P3 only forbids ``enc(x) = 0``,
while an activation whose outputs approach 0 (sigmoid as ``t -> -inf``) can
make every latent coordinate as small as one likes. Parameters ``eps > 0`` and
``r >= 0`` are exact rationals (``p3-eps:EPS,R``, e.g. ``p3-eps:1/100,1``;
``|x|`` is the Euclidean norm).

A witness is one point ``x`` with ``|x|^2 >= r^2`` decided exactly and every
``|enc_i(x)| < eps`` certified: exactly for rational activations, else by the
upper ends of interval enclosures.

The search, the construction and the certifier live with their engines:
``checkers/falsify/search_p3_eps.py`` and ``counterexamples/certifier_p3_eps.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, ClassVar, Callable, Sequence

import numpy as np

from ..errors import InvalidArgument
from ._core import PointCheck, _as_fractions, floor_decimal, interval_ends
from ._registry import Property, parse_params, register
from ..catalog import Claim

__all__ = ["P3_EPS", "SmallLatent"]


def _abs_bounds(value: Any) -> tuple[Fraction, Fraction]:
    """Exact ``(lower, upper)`` bounds of ``|value|`` (a Fraction or an mpmath interval)."""
    lo, hi = interval_ends(value)
    low = lo if lo > 0 else -hi if hi < 0 else Fraction(0)
    return low, max(-lo, hi)


@dataclass(frozen=True)
class SmallLatent(Property):
    """P3-eps as an object (see the module docstring)."""

    params: ClassVar[tuple[str, ...]] = ("EPS", "R")

    eps: Fraction = Fraction(1, 100)
    r: Fraction = Fraction(1)

    @property
    def spec(self) -> str:
        return f"{self.id}:{_text(self.eps)},{_text(self.r)}"

    def with_params(self, text: str) -> "SmallLatent":
        eps, r = parse_params(self.id, text, self.params)
        if eps <= 0 or r < 0:
            raise InvalidArgument(f"property {self.id}:{text} needs EPS > 0 and R >= 0, e.g. p3-eps:1/100,1")
        return replace(self, eps=eps, r=r)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "eps": _text(self.eps), "r": _text(self.r)}

    def check(self, encoder: Any, vectors: Sequence[Sequence[Fraction]]) -> PointCheck:
        xs = _as_fractions(vectors[0])
        norm2 = sum((v * v for v in xs), Fraction(0))
        if norm2 < self.r * self.r:
            return PointCheck(False, "exact", f"premise fails: |x|^2 = {norm2} < r^2 = {self.r * self.r}")
        vals = encoder.exact(xs) if encoder.is_exact else encoder.mixed(xs)
        how = "exact" if all(isinstance(v, Fraction) for v in vals) else "interval"
        bounds = [_abs_bounds(v) for v in vals]
        top = max(hi for _, hi in bounds)
        if top < self.eps:
            margin = str(self.eps - top) if how == "exact" else floor_decimal(self.eps - top)
            return PointCheck(True, how, f"|x|^2 = {norm2} >= r^2 exactly and every |enc_i(x)| <= {floor_decimal(top, 6) if how == 'interval' else top} "
                              f"< eps = {self.eps} ({'exact rationals' if how == 'exact' else 'upper ends of interval enclosures'})", margin)
        big = [i for i, (lo, _) in enumerate(bounds) if lo >= self.eps]
        if big:
            return PointCheck(False, how, f"|enc_{big[0]}(x)| >= eps = {self.eps}")
        return PointCheck(None, "none", f"max |enc_i(x)| could not be decided against eps = {self.eps}")

    def float_violates(self, points: Sequence[np.ndarray], latents: Sequence[np.ndarray]) -> bool:
        x, z = np.asarray(points[0], dtype=np.float64), np.asarray(latents[0], dtype=np.float64)
        return bool(float(x @ x) >= float(self.r) ** 2 and np.all(np.isfinite(z)) and float(np.max(np.abs(z))) < float(self.eps))

    def shrink_screen(self, vectors: Sequence[Sequence[Fraction]], points: Sequence[np.ndarray],
                      latents: Callable[[], tuple[Any, np.ndarray]]) -> bool:
        if sum((q * q for q in vectors[0] if q), Fraction(0)) < self.r * self.r:
            return False
        z = latents()[1]
        return bool(np.all(np.isfinite(z)) and float(np.max(np.abs(z))) < float(self.eps))

    def claims(self) -> tuple[Any, ...]:

        return (Claim("P3-eps-sigmoid", "Sigmoid fails P3-eps (eps = 1/100, r = 1): some one-layer sigmoid encoder R^8 -> R^3 (the "
                      "instance in the scope) maps an x with |x| >= 1 to a latent with every |enc_i(x)| < 1/100 "
                      "(s(t) -> 0 as t -> -inf)",
                      "beyond", "refuted", "property_refutes",
                      (("property", "p3-eps:1/100,1"), ("layers", (8, 3)), ("activation", "sigmoid"), ("seed", 0))),)

    def theory_note(self, encoder: Any, cls: Any, domain: Any) -> str:
        return (f"P3-eps ({_text(self.eps)}, {_text(self.r)}): an activation that never vanishes can still come within "
                "eps of 0 (sigmoid as t -> -inf); the search decides, certificates bound every |enc_i(x)| from above")


def _text(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


P3_EPS = register(SmallLatent(
    "P3-eps", "non-vanishing away from the origin", "for all x in D with |x| >= r: |enc(x)|_inf >= eps",
    arity=1, names=("x",), what="small-latent counterexample", hist_key="latent_norm_inf_log10",
    hist_edges=tuple(float(e) for e in np.linspace(-45.0, 5.0, 51)), shrink_order=("support", "round"),
))
