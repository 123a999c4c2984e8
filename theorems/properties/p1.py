"""P1, dimensionality reduction: ``m < n``. A property of the shapes, decided without any point."""

from __future__ import annotations

from dataclasses import dataclass

from ._registry import Property, register

__all__ = ["P1", "p1_holds"]


@dataclass(frozen=True)
class DimensionReduction(Property):
    """P1: the latent dimension is smaller than the input dimension (no witness point: arity 0)."""

    def holds(self, encoder: object) -> bool:
        return encoder.m < encoder.n  # type: ignore[attr-defined]


P1 = register(DimensionReduction("P1", "dimensionality reduction", "m < n"))


def p1_holds(encoder: object) -> bool:
    """P1: the latent dimension is smaller than the input dimension."""
    return P1.holds(encoder)
