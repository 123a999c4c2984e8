"""Hypothesis-style shrinking that keeps the certificate at every step.

A shrink step proposes a simpler witness, screens it cheaply in float64 and
accepts it only when :func:`latentcheck.counterexamples.certify_zero` /
:func:`certify_flip` certify it again (same label or better). Passes, in
order, repeated until none makes progress or the check budget is spent:

1. **fewer nonzeros**: zero out chunks of the support (halves, quarters, ...,
   single entries; smallest entries first), like Hypothesis's
   ``minimize_individual_blocks`` / delta debugging. For binary inputs this
   removes ones. For P2 it also tries ``u = 0`` or ``v = 0``.
2. **short rationals**: round every entry to a multiple of ``2**-k`` for
   small ``k`` first (integers when ``k = 0``); then scale-and-round to
   integers for witnesses whose violation survives scaling (half-lines).

A witness is *simpler* when it has fewer nonzeros, then fewer bits
(:attr:`Counterexample.size`). The check budget (``max_checks``) is a count,
not a time, so shrinking is deterministic.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from latentcheck.counterexamples.certify import certify_flip, certify_zero
from latentcheck.counterexamples.types import EXACT, Counterexample, format_fraction

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


def _sparse_dot(a: list[Fraction], b: list[Fraction]) -> Fraction:
    acc = Fraction(0)
    for p, q in zip(a, b):
        if p and q:
            acc += p * q
    return acc


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
    import time

    from latentcheck.checkers.falsifier._blas import serial_blas

    if isinstance(domain, str):
        from latentcheck.checkers.domains import parse_domain

        domain = parse_domain(domain)
    if not cx.is_certified:
        return cx, 0
    prop = cx.property
    vecs = [cx.vector(n) for n in cx.names]
    start_key = _key(vecs)
    cur = {"key": start_key, "arrs": _floats(vecs), "pre1": None}
    need = _RANK[cx.certified]
    checks = 0
    last = {"cert": None}
    first = encoder.layers[0]

    def first_pre(x: np.ndarray) -> np.ndarray:
        return first.W @ x + first.b

    def latent_pre(pre1: np.ndarray) -> np.ndarray:
        """The latent pre-activations from the first layer's (float64)."""
        h = pre1
        for k, layer in enumerate(encoder.layers[1:]):
            h = encoder.layers[k].activation.numpy(h)
            h = layer.W @ h + layer.b
        return h

    def float_ok(cand: list[list[Fraction]], arrs: list[np.ndarray], pre1: np.ndarray | None) -> bool:
        """A cheap float64 screen before the exact certification (which alone decides)."""
        if prop == "P3":
            if not np.any(arrs[0]):
                return False
            pre = latent_pre(first_pre(arrs[0]) if pre1 is None else pre1)
            z = encoder.activation.numpy(pre)
            scale = 1e-9 * (1.0 + float(np.max(np.abs(pre))))
            return bool(np.all(np.abs(z) <= scale))
        x, u, v = cand
        prem = _sparse_dot(x, u) - _sparse_dot(x, v)
        if prem > 0:
            return False
        z = encoder(np.stack(arrs))
        return bool(z[0] @ z[1] - z[0] @ z[2] > 1e-12 * (1 + abs(z[0] @ z[1])))

    timed_out = {"hit": False}

    def try_accept(cand: list[list[Fraction]], arrs: list[np.ndarray] | None = None, ck: tuple[int, int] | None = None,
                   pre1: np.ndarray | None = None) -> bool:
        nonlocal checks, vecs
        if deadline is not None and time.perf_counter() > deadline:
            timed_out["hit"] = True
            checks = max_checks
            return False
        if checks >= max_checks:
            return False
        ck = _key(cand) if ck is None else ck
        if ck >= cur["key"]:
            return False
        arrs = _floats(cand) if arrs is None else arrs
        if not float_ok(cand, arrs, pre1):
            return False
        checks += 1
        cert = certify_zero(encoder, cand[0], domain=domain, dtype=dtype) if prop == "P3" else \
            certify_flip(encoder, *cand, domain=domain, dtype=dtype)
        if cert.certified and _RANK[cert.status] >= need:
            vecs = cand
            cur.update(key=ck, arrs=arrs, pre1=None)
            last["cert"] = cert
            return True
        return False

    with serial_blas():
        progress = True
        while progress and checks < max_checks:
            progress = False
            # Pass 0 (P2): u = 0 or v = 0 when the domain holds 0.
            if prop == "P2" and domain.contains_zero:
                for i in (1, 2):
                    if any(vecs[i]):
                        cand = [list(v) for v in vecs]
                        cand[i] = [Fraction(0)] * len(cand[i])
                        progress |= try_accept(cand)
            # Pass 1: fewer nonzeros, chunk by chunk (x stays nonzero for P2). A candidate's key and float
            # screen come from the current point's (a chunk removed: O(chunk) work, not O(n)).
            for i in range(len(vecs)):
                support = sorted((j for j, q in enumerate(vecs[i]) if q), key=lambda j: (abs(vecs[i][j]), j))
                size = max(1, len(support) // 2)
                while size >= 1 and checks < max_checks and len(support) > 1:
                    pos = 0
                    while pos < len(support) and checks < max_checks:
                        chunk = set(support[pos:pos + size])
                        if len(chunk) == len(support):
                            break
                        cols = np.fromiter(sorted(chunk), dtype=np.int64)
                        cand = [list(v) for v in vecs]
                        cand[i] = [Fraction(0) if j in chunk else q for j, q in enumerate(cand[i])]
                        gone = sum(vecs[i][j].numerator.bit_length() + vecs[i][j].denominator.bit_length() for j in chunk)
                        ck = (cur["key"][0] - len(chunk), cur["key"][1] - gone)
                        arrs = [a if k != i else a.copy() for k, a in enumerate(cur["arrs"])]
                        arrs[i][cols] = 0.0
                        pre1 = None
                        if prop == "P3":
                            if cur["pre1"] is None:
                                cur["pre1"] = first_pre(cur["arrs"][0])
                            pre1 = cur["pre1"] - first.W[:, cols] @ cur["arrs"][0][cols]
                        if try_accept(cand, arrs, ck, pre1):
                            support = [j for j in support if j not in chunk]
                            progress = True
                        else:
                            pos += size
                    size //= 2
            # Pass 2: short rationals.
            if domain.name in ("reals", "nonneg"):
                for k in (0, 1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32):
                    if try_accept([_round_vec(v, k) for v in vecs]):
                        progress = True
                        break
                if prop == "P3":
                    for s in (2, 4, 16, 64, 256, 1024):
                        if try_accept([_round_vec(v, 0, Fraction(s)) for v in vecs]):
                            progress = True
                            break
    if _key(vecs) == start_key or last["cert"] is None:
        return cx, checks
    cert = last["cert"]
    notes = cx.notes + (f"shrunk from {start_key[0]} nonzeros / {start_key[1]} bits to {_key(vecs)[0]} / {_key(vecs)[1]}",)
    if timed_out["hit"]:
        notes += ("shrinking stopped at its time limit",)
    return replace(cx, witness=tuple(tuple(format_fraction(q) for q in v) for v in vecs), certified=cert.status,
                   margin=cert.margin, detail=cert.detail, notes=notes), checks
