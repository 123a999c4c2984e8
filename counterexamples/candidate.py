"""Certify a candidate witness of any property: the one entry point of the engines and the shrinker.

:func:`certify_candidate` checks the function the user's encoder computes: for an encoder that normalises its
input it certifies ``enc(N(x))`` (:mod:`latentcheck.counterexamples.normalised`), else the encoder as it stands,
with the certifier registered for the property's class (:func:`latentcheck.counterexamples.certify.certify_raw`).
It sits above both so that neither imports the other's caller.
"""

from __future__ import annotations

from typing import Any, Sequence

from .certify import Certification, certify_raw
from .normalised import certify_normalised
from ..theorems.encoder import Encoder

__all__ = ["certify_candidate"]


def certify_candidate(prop: Any, encoder: Any, vectors: Sequence[Sequence[Any]], *, domain: Any = None,
                      dtype: str | None = "float32", **options: Any) -> Certification:
    """Certify a candidate witness of the property object ``prop`` (``vectors``: ``prop.arity`` points).

    An :class:`Encoder` with an input normalisation is certified as ``enc(N(x))``; otherwise the property's
    registered certifier (``@certifier``) or the generic one decides.
    """
    if isinstance(encoder, Encoder) and encoder.inputs.normalise != "none":  # the function checked is enc(N(x))
        return certify_normalised(prop, encoder, vectors, domain=domain, dtype=dtype, **options)
    return certify_raw(prop, encoder, vectors, domain=domain, dtype=dtype, **options)
