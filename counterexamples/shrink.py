"""Hypothesis-style shrinking that keeps the certificate at every step.

A shrink step proposes a simpler witness, screens it cheaply in float64 (the
property's ``shrink_screen``) and accepts it only when the property's
certifier (:func:`latentcheck.counterexamples.candidate.certify_candidate`)
certifies it again (same label or better). The passes are the property's
``shrink_order``, repeated until none makes progress or the check budget is
spent:

1. **fewer nonzeros**: zero out chunks of the support (halves, quarters, ...,
   single entries; smallest entries first), like Hypothesis's
   ``minimize_individual_blocks`` / delta debugging. For binary inputs this
   removes ones. ``zero-uv`` (P2) first tries ``u = 0`` or ``v = 0``.
2. **short rationals** (``round``): round every entry to a multiple of ``2**-k``
   for small ``k`` first (integers when ``k = 0``); ``scale`` then scales and
   rounds to integers for witnesses whose violation survives scaling
   (half-lines). Both only on domains that allow rounding.

A witness is *simpler* when it has fewer nonzeros, then fewer bits
(:attr:`Counterexample.size`). The check budget (``max_checks``) is a count,
not a time, so shrinking is deterministic.
"""

from __future__ import annotations

import time
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from .candidate import certify_candidate
from .types import Counterexample, format_fraction
from ..theorems.blas import serial_blas
from ..theorems.domains import parse_domain
from ..theorems.inputs import normalise_float
from ..theorems.properties import get_property

__all__ = ["shrink"]

_RANK = {"exact": 2, "interval": 1, "float-only": 0}


def _key(vecs: list[list[Fraction]]) -> tuple[int, int]:
    nnz = bits = 0
    for v in vecs:
        for q in v:
            if q:
                nnz += 1
                bits += q.numerator.bit_length() + q.denominator.bit_length()  # bit_length ignores the sign
    return nnz, bits


def _floats(vecs: list[list[Fraction]]) -> list[np.ndarray]:
    return [np.array([float(q) if q else 0.0 for q in v]) for v in vecs]


def _round_vec(v: list[Fraction], k: int, scale: Fraction = Fraction(1)) -> list[Fraction]:
    den = 1 << k
    return [Fraction(round(q * scale * den), den) if q else q for q in v]


def shrink(cx: Counterexample, encoder: Any, *, domain: Any, dtype: str | None = None,
           max_checks: int = 60, deadline: float | None = None) -> tuple[Counterexample, int]:
    """Shrink a certified counterexample; returns ``(smaller, certification calls used)``.

    The result is certified with the same or a stronger label; if nothing
    simpler certifies, ``cx`` comes back unchanged. ``deadline`` (a
    ``time.perf_counter()`` value) stops early; a stop by deadline is noted
    on the result because it makes the outcome depend on the machine's speed.
    """

    if isinstance(domain, str):

        domain = parse_domain(domain)
    if not cx.is_certified:
        return cx, 0
    sh = _Shrinker(get_property(cx.property), encoder, domain, dtype, cx, max_checks, deadline)
    with serial_blas():
        sh.run()
    return sh.result(cx)


class _Shrinker:
    """The shrinker's state: the current witness, its key and floats, the checks spent, the last certificate."""

    def __init__(self, prop: Any, encoder: Any, domain: Any, dtype: str | None, cx: Counterexample, max_checks: int,
                 deadline: float | None) -> None:
        self.prop, self.encoder, self.domain, self.dtype = prop, encoder, domain, dtype
        self.vecs = [cx.vector(n) for n in cx.names]
        self.start_key = self.key = _key(self.vecs)
        self.arrs, self.pre1 = _floats(self.vecs), None
        self.need, self.max_checks, self.deadline = _RANK[cx.certified], max_checks, deadline
        self.checks, self.cert, self.timed_out = 0, None, False
        self.first = encoder.layers[0]

    def latents(self, arrs: list[np.ndarray], pre1: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray]:
        """Float64 ``(latent pre-activations, latents)`` of the witness: for one point from the first layer's
        pre-activations ``pre1`` when given; for several ``(None, latents of every point)``."""
        enc = self.encoder
        norm = enc.inputs.normalise
        if norm != "none":  # the function shrunk is enc(N(x)): the float screen sees N(x)

            arrs, pre1 = [normalise_float(a, norm) for a in arrs], None
        if len(arrs) != 1:
            return None, enc(np.stack(arrs))
        h = self.first.W @ arrs[0] + self.first.b if pre1 is None else pre1
        for k, layer in enumerate(enc.layers[1:]):
            h = layer.W @ enc.layers[k].activation.numpy(h) + layer.b
        return h, enc.activation.numpy(h)

    def try_accept(self, cand: list[list[Fraction]], arrs: list[np.ndarray] | None = None,
                   ck: tuple[int, int] | None = None, pre1: np.ndarray | None = None) -> bool:
        """Accept ``cand`` when it is simpler, passes the float screen and certifies again (same label or better)."""
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.timed_out, self.checks = True, self.max_checks
            return False
        if self.checks >= self.max_checks:
            return False
        ck = _key(cand) if ck is None else ck
        if ck >= self.key:
            return False
        arrs = _floats(cand) if arrs is None else arrs
        if not self.prop.shrink_screen(cand, arrs, lambda: self.latents(arrs, pre1)):
            return False
        self.checks += 1
        cert = certify_candidate(self.prop, self.encoder, cand, domain=self.domain, dtype=self.dtype)
        if cert.certified and _RANK[cert.status] >= self.need:
            self.vecs, self.key, self.arrs, self.pre1, self.cert = cand, ck, arrs, None, cert
            return True
        return False

    def run(self) -> None:
        passes = {"zero-uv": self.zero_uv, "support": self.support, "round": self.round, "scale": self.scale}
        progress = True
        while progress and self.checks < self.max_checks:
            progress = False
            for name in self.prop.shrink_order:
                progress |= passes[name]()

    def zero_uv(self) -> bool:
        """``u = 0`` or ``v = 0`` when the domain holds 0."""
        progress = False
        if self.domain.contains_zero:
            for i in (1, 2):
                if any(self.vecs[i]):
                    cand = [list(v) for v in self.vecs]
                    cand[i] = [Fraction(0)] * len(cand[i])
                    progress |= self.try_accept(cand)
        return progress

    def support(self) -> bool:
        """Fewer nonzeros, chunk by chunk (smallest entries first; a vector keeps one nonzero)."""
        progress = False
        for i in range(len(self.vecs)):
            support = sorted((j for j, q in enumerate(self.vecs[i]) if q), key=lambda j: (abs(self.vecs[i][j]), j))
            size = max(1, len(support) // 2)
            while size >= 1 and self.checks < self.max_checks and len(support) > 1:
                pos = 0
                while pos < len(support) and self.checks < self.max_checks:
                    chunk = set(support[pos:pos + size])
                    if len(chunk) == len(support):
                        break
                    if self._drop(i, chunk):
                        support = [j for j in support if j not in chunk]
                        progress = True
                    else:
                        pos += size
                size //= 2
        return progress

    def _drop(self, i: int, chunk: set) -> bool:
        """Try vector ``i`` with the entries ``chunk`` zeroed; its key and float screen come from the current
        point's (a chunk removed: O(chunk) work, not O(n))."""
        cols = np.fromiter(sorted(chunk), dtype=np.int64)
        cand = [list(v) for v in self.vecs]
        cand[i] = [Fraction(0) if j in chunk else q for j, q in enumerate(cand[i])]
        gone = sum(self.vecs[i][j].numerator.bit_length() + self.vecs[i][j].denominator.bit_length() for j in chunk)
        ck = (self.key[0] - len(chunk), self.key[1] - gone)
        arrs = [a if k != i else a.copy() for k, a in enumerate(self.arrs)]
        arrs[i][cols] = 0.0
        pre1 = None
        if len(self.vecs) == 1:
            if self.pre1 is None:
                self.pre1 = self.first.W @ self.arrs[0] + self.first.b
            pre1 = self.pre1 - self.first.W[:, cols] @ self.arrs[0][cols]
        return self.try_accept(cand, arrs, ck, pre1)

    def round(self) -> bool:
        """Every entry to a multiple of ``2**-k``, small ``k`` first."""
        if not self.domain.allows_rounding:
            return False
        return any(self.try_accept([_round_vec(v, k) for v in self.vecs]) for k in (0, 1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32))

    def scale(self) -> bool:
        """Scaled by ``s`` and rounded to integers (violations that survive scaling: half-lines)."""
        if not self.domain.allows_rounding:
            return False
        return any(self.try_accept([_round_vec(v, 0, Fraction(s)) for v in self.vecs]) for s in (2, 4, 16, 64, 256, 1024))

    def result(self, cx: Counterexample) -> tuple[Counterexample, int]:
        if self.key == self.start_key or self.cert is None:
            return cx, self.checks
        notes = cx.notes + (f"shrunk from {self.start_key[0]} nonzeros / {self.start_key[1]} bits to "
                            f"{self.key[0]} / {self.key[1]}",)
        if self.timed_out:
            notes += ("shrinking stopped at its time limit",)
        return replace(cx, witness=tuple(tuple(format_fraction(q) for q in v) for v in self.vecs), certified=self.cert.status,
                       margin=self.cert.margin, detail=self.cert.detail, notes=notes), self.checks
