"""P2-delta, ordering preservation with a margin: ``<x,v> - <x,u> >= delta |x|^2`` implies
``<enc x, enc u> <= <enc x, enc v>``.

A relaxed P2 readers of the paper ask about: the ordering must be kept only
where the inputs' preference is clear by ``delta |x|^2`` (``delta >= 0`` an
exact rational, ``p2-delta:DELTA``; ``delta = 0`` is P2 itself). A witness is
a triple ``(x, u, v)`` with the premise decided exactly and
``<enc x, enc u> > <enc x, enc v>`` certified (exact rationals or intervals).
At ``x = 0`` the premise reads ``0 >= 0``: T5's zero-user flips are witnesses
for every ``delta``.

Its search and its certifier live with their engines:
``checkers/falsify/search_p2_delta.py`` and ``counterexamples/certifier_p2_delta.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, ClassVar, Sequence

from ..errors import InvalidArgument
from ._core import PointCheck, _as_fractions, dot, latent_flip
from ._registry import parse_params, register
from .p2 import P2, Ordering
from ..catalog import Claim

__all__ = ["P2_DELTA", "OrderingMargin"]


@dataclass(frozen=True)
class OrderingMargin(Ordering):
    """P2-delta as an object: P2's float check with the premise ``delta |x|^2``, its own exact check."""

    params: ClassVar[tuple[str, ...]] = ("DELTA",)

    @property
    def spec(self) -> str:
        d = self.delta
        return f"{self.id}:{d.numerator if d.denominator == 1 else f'{d.numerator}/{d.denominator}'}"

    def with_params(self, text: str) -> "OrderingMargin":
        (delta,) = parse_params(self.id, text, self.params)
        if delta < 0:
            raise InvalidArgument(f"property {self.id}:{text} needs DELTA >= 0, e.g. p2-delta:1/10")
        return replace(self, delta=delta)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "delta": self.spec.partition(":")[2]}

    def check(self, encoder: Any, vectors: Sequence[Sequence[Fraction]]) -> PointCheck:
        xs, us, vs = (_as_fractions(v) for v in vectors)
        gap, need = dot(xs, vs) - dot(xs, us), self.delta * dot(xs, xs)
        if gap < need:
            return PointCheck(False, "exact", f"premise fails: <x,v> - <x,u> = {gap} < delta |x|^2 = {need}")
        return latent_flip(encoder, xs, us, vs, f"<x,v> - <x,u> = {gap} >= delta |x|^2 = {need}")

    def claims(self) -> tuple[Any, ...]:

        if self.spec != "P2-delta:1/10":
            return ()
        return (Claim("P2-delta-relu", "ReLU fails P2-delta (delta = 1/10): some one-layer relu encoder R^8 -> R^3 (the "
                      "instance in the scope, enc(0) != 0) has an ordering flip whose premise holds with margin "
                      "delta |x|^2 (at T5's zero user)",
                      "beyond", "refuted", "property_refutes",
                      (("property", "p2-delta:1/10"), ("layers", (8, 3)), ("activation", "relu"), ("seed", 0))),)

    def theory_note(self, encoder: Any, cls: Any, domain: Any) -> str:
        note = "at x = 0 the premise holds for every delta, so T5's zero-user flips (enc(0) != 0) are witnesses"
        return f"P2-delta ({self.spec.partition(':')[2]}): {note}; elsewhere the search decides"


P2_DELTA = register(replace(
    OrderingMargin(P2.id, P2.name, P2.statement),
    id="P2-delta", name="ordering preservation with a margin",
    statement="for all x, u, v in D: <x,v> - <x,u> >= delta |x|^2 implies <enc x, enc u> <= <enc x, enc v>",
    arity=3, names=("x", "u", "v"), what="ordering flip", hist_key=P2.hist_key, hist_edges=P2.hist_edges,
    shrink_order=P2.shrink_order, delta=Fraction(1, 10),
))
