"""The certifier of P3-eps (:class:`~latentcheck.theorems.properties.p3_eps.SmallLatent`).

A witness ``x`` is certified by the generic certifier: membership in the domain
exactly, ``|x|^2 >= r^2`` and every ``|enc_i(x)| < eps`` by the property's
``check`` (exact rationals, else the upper ends of interval enclosures), and
the float computation in the run's dtype by its ``float_violates``.
"""

from __future__ import annotations

from typing import Any, Sequence

from ._certifier import certifier
from .certify import Certification, certify_point
from ..theorems.properties.p3_eps import SmallLatent

__all__ = ["certify_small_latent"]


@certifier(SmallLatent)
def certify_small_latent(prop: SmallLatent, encoder: Any, vectors: Sequence[Sequence[Any]], *, domain: Any = None,
                         dtype: str | None = "float32", **options: Any) -> Certification:
    """Certify a P3-eps witness ``[x]`` (``options``: none apply; the generic certifier decides)."""
    return certify_point(prop, encoder, vectors, domain=domain, dtype=dtype)
