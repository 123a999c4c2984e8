"""The certifier of P2-delta (:class:`~latentcheck.theorems.properties.p2_delta.OrderingMargin`).

Registered here so that P2-delta does not inherit P2's ``certify_flip`` (which
checks P2's premise, ``delta = 0``): a triple ``(x, u, v)`` is certified by the
generic certifier, with the premise ``<x,v> - <x,u> >= delta |x|^2`` decided
exactly and ``<enc x, enc u> > <enc x, enc v>`` by the property's ``check``
(exact rationals or intervals), and the float computation by ``float_violates``.
"""

from __future__ import annotations

from typing import Any, Sequence

from ._certifier import certifier
from .certify import Certification, certify_point
from ..theorems.properties.p2_delta import OrderingMargin

__all__ = ["certify_ordering_margin"]


@certifier(OrderingMargin)
def certify_ordering_margin(prop: OrderingMargin, encoder: Any, vectors: Sequence[Sequence[Any]], *,
                            domain: Any = None, dtype: str | None = "float32", **options: Any) -> Certification:
    """Certify a P2-delta witness ``[x, u, v]`` (``options``: none apply; the generic certifier decides)."""
    return certify_point(prop, encoder, vectors, domain=domain, dtype=dtype)
