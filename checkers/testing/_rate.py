"""The ordering-flip rate behind ``assert_order_preserving``: a statistic, not a search.

Triples ``(x, u, v)`` are drawn with the domain's own sampler
(:meth:`latentcheck.theorems.domains.Domain.sample`; the rows of a data
domain uniformly), evaluated with the falsifier's float evaluation
(:func:`latentcheck.counterexamples.certify.float_encode`, the encoder in
``dtype``), and counted. The worst flip is certified and shrunk by the
falsifier's own stages (:func:`latentcheck.counterexamples.certify.certify_flip`,
:func:`latentcheck.counterexamples.shrink.shrink`). The confidence bound on the
rate is :mod:`latentcheck.checkers.testing._stats`'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from ...counterexamples.candidate import certify_candidate
from ...counterexamples.certify import float_encode, to_counterexample
from ...counterexamples.normalised import _premise_sign
from ...counterexamples.shrink import shrink
from ...theorems.encoder import Encoder
from ...theorems.inputs import normalise_float
from ...theorems.properties import get_property

__all__ = ["FlipSample", "flip_rate", "exact_gap_signs", "certified_flip", "SLACK"]

#: Relative size a latent score difference must exceed to count as a flip (rounding of the dtype).
SLACK = {"float16": 4e-3, "bfloat16": 3e-2, "float32": 1e-6, "float64": 1e-12}
_CHUNK = 2048
#: Jitted samplers of the continuous domains, by (class, label, k, n): compiled once per process.
_DRAWS: dict[tuple, Any] = {}


@dataclass(frozen=True)
class FlipSample:
    """Counts over the sampled triples; ``worst`` is the flip with the largest relative margin (float64 arrays)."""

    triples: int
    ties: int
    flips: int
    tie_violations: int
    worst: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    worst_margin: float
    seconds: float
    evaluations: int


def _in_dtype(X: np.ndarray, dtype: str) -> np.ndarray:
    """``X`` rounded to ``dtype`` and back (so a sampled point is the one the encoder is fed)."""
    import jax.numpy as jnp

    return np.asarray(X, dtype=np.float64).astype(jnp.dtype(dtype)).astype(np.float64)


def _sampler(dom: Any, k: int, n: int, dtype: str) -> Any:
    """``key -> (3, k, n)`` float64 points of the domain: its own sampler (jitted once per process), its own rounding onto it,
    then ``dtype`` (the point the encoder is fed). Data rows are kept bit for bit (a witness must be a row)."""
    import jax

    if dom.is_finite:  # the rows of a data matrix, uniformly
        rows = np.asarray(dom.rows)
        pick = jax.jit(lambda key: jax.random.randint(key, (3, k), 0, rows.shape[0]))
        return lambda key: rows[np.asarray(pick(key))]
    cache_key = (type(dom).__name__, dom.label, k, n)
    if cache_key not in _DRAWS:
        _DRAWS[cache_key] = jax.jit(lambda key: dom.sample(key, (3, k, n)))
    draw = _DRAWS[cache_key]
    snap = getattr(dom, "round_float", None)  # vectorised rounding, where the Domain offers it

    def points(key: Any) -> np.ndarray:
        X = np.asarray(draw(key), dtype=np.float64).reshape(3 * k, n)
        if snap is None:
            R = np.array([[float(q) for q in dom.to_exact(x)] for x in X])
        else:
            R = snap(X)
        return _in_dtype(X if R is None else np.asarray(R, dtype=np.float64), dtype).reshape(3, k, n)

    return points


def exact_gap_signs(X: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Sign of ``<x,v> - <x,u>`` per row, exactly (the float inputs read as rationals).

    Integer-valued rows whose products and sums stay below ``2**52`` are exact
    in float64; other rows are summed as :class:`fractions.Fraction` over the
    support of ``x``.
    """
    X, U, V = (np.asarray(a, dtype=np.float64) for a in (X, U, V))
    out = np.zeros(X.shape[0], dtype=np.int64)
    if X.shape[0] == 0:
        return out
    integral = np.all(X == np.round(X), axis=1) & np.all(U == np.round(U), axis=1) & np.all(V == np.round(V), axis=1)
    fast = integral & (np.sum(np.abs(X) * np.maximum(np.abs(U), np.abs(V)), axis=1) < 2.0 ** 52)
    if np.any(fast):
        out[fast] = np.sign(np.einsum("ij,ij->i", X[fast], V[fast] - U[fast])).astype(np.int64)
    for i in np.nonzero(~fast)[0]:
        g = sum((Fraction(float(X[i, j])) * (Fraction(float(V[i, j])) - Fraction(float(U[i, j]))) for j in np.nonzero(X[i])[0]),
                Fraction(0))
        out[i] = (g > 0) - (g < 0)
    return out


def _normalisation(fn: Any) -> str:

    return fn.inputs.normalise if isinstance(fn, Encoder) else "none"


def _normalised(fn: Any, X: np.ndarray) -> np.ndarray:
    """Rows ``X`` as an Encoder with input normalisation sees them (float64), else ``X``."""

    norm = _normalisation(fn)
    return X if norm == "none" else normalise_float(X, norm)


def _exact_signs(fn: Any, X: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Exact signs of ``<N x, N v> - <N x, N u>`` (``divide:K`` scales both sides alike; ``l2`` in ``Q(sqrt)``)."""
    if _normalisation(fn) != "l2":
        return exact_gap_signs(X, U, V)

    def q(a: np.ndarray) -> list[Fraction]:
        return [Fraction(float(v)) for v in a]

    return np.array([-_premise_sign(q(x), q(u), q(v)) for x, u, v in zip(X, U, V)], dtype=np.int64)


def _count(fn: Any, X: np.ndarray, U: np.ndarray, V: np.ndarray, dtype: str) -> dict[str, Any]:
    """One chunk: ties, flips (strict flips and tie violations), and the chunk's worst flip."""

    k = X.shape[0]
    Z = float_encode(fn, np.concatenate([X, U, V]), dtype)
    ZX, ZU, ZV = Z[:k], Z[k:2 * k], Z[2 * k:]
    NX, NU, NV = _normalised(fn, X), _normalised(fn, U), _normalised(fn, V)  # P2 compares the inputs the model sees
    xu, xv = np.einsum("ij,ij->i", NX, NU), np.einsum("ij,ij->i", NX, NV)
    gap_out = np.einsum("ij,ij->i", ZX, ZU) - np.einsum("ij,ij->i", ZX, ZV)
    scale = np.einsum("ij,ij->i", np.abs(ZX), np.abs(ZU)) + np.einsum("ij,ij->i", np.abs(ZX), np.abs(ZV)) + 1e-30
    sign = np.sign(xv - xu).astype(np.int64)
    near = np.abs(xv - xu) <= 1e-9 * (1.0 + np.abs(xv) + np.abs(xu))
    if np.any(near):
        sign[near] = _exact_signs(fn, X[near], U[near], V[near])
    tie = sign == 0
    # Orient: u has the smaller input score; on a tie, the larger latent score (P2's <= holds both ways).
    swap = (sign < 0) | (tie & (gap_out < 0))
    gap_out = np.where(swap, -gap_out, gap_out)
    bad = gap_out > SLACK[dtype] * scale
    out = {"ties": int(np.sum(tie)), "flips": int(np.sum(bad)), "tie_violations": int(np.sum(tie & bad)), "worst": None,
           "margin": -np.inf}
    if np.any(bad):
        rel = np.where(bad, gap_out / scale, -np.inf)
        i = int(np.argmax(rel))
        u, v = (V[i], U[i]) if swap[i] else (U[i], V[i])
        out["worst"], out["margin"] = (X[i], u, v), float(rel[i])
    return out


def flip_rate(fn: Any, dom: Any, n: int, dtype: str, *, samples: int, seed: int, budget: float) -> FlipSample:
    """Sample ``samples`` triples (at least one chunk, more while ``budget`` seconds last) and count P2 violations.

    Each triple is ordered so that ``<x,u> <= <x,v>`` (near-ties decided
    exactly); a flip is ``<enc x,enc u> - <enc x,enc v>`` above the dtype's
    rounding slack relative to ``|enc x|(|enc u| + |enc v|)``. A tie
    ``<x,u> = <x,v>`` with unequal latent scores violates P2 too (counted in
    ``flips`` and apart in ``tie_violations``). Same seed, same triples. The
    first chunk always runs; ``budget`` bounds the time of the others.
    """
    import jax

    t0 = time.perf_counter()
    base = jax.random.PRNGKey(int(seed))
    sample = _sampler(dom, min(_CHUNK, samples), n, dtype)
    totals = {"triples": 0, "ties": 0, "flips": 0, "tie_violations": 0}
    worst, margin = None, -np.inf
    chunk = 0
    t_budget = t0  # reset after the first chunk: compiling the sampler is start-up, not sampling
    while totals["triples"] < samples and (chunk == 0 or time.perf_counter() - t_budget < budget):
        k = min(_CHUNK, samples - totals["triples"])
        X, U, V = sample(jax.random.fold_in(base, chunk))[:, :k]
        got = _count(fn, X, U, V, dtype)
        for name in ("ties", "flips", "tie_violations"):
            totals[name] += got[name]
        totals["triples"] += k
        if got["worst"] is not None and got["margin"] > margin:
            worst, margin = got["worst"], got["margin"]
        chunk += 1
        t_budget = t_budget if chunk > 1 else time.perf_counter()
    return FlipSample(totals["triples"], totals["ties"], totals["flips"], totals["tie_violations"], worst,
                      float(margin) if worst is not None else 0.0, time.perf_counter() - t0, 3 * totals["triples"])


def certified_flip(fn: Any, encoder: Any, dom: Any, dtype: str, triple: tuple[np.ndarray, ...], seconds: float) -> Any:
    """The sampled flip as a :class:`~latentcheck.counterexamples.Counterexample` (certified and shrunk for an Encoder).

    The float triple is moved to exact points of the domain (``Domain.to_exact``)
    and certified there; None when the flip does not hold at those points.
    """

    vecs = [dom.to_exact(np.asarray(a, dtype=np.float64)) for a in triple]
    cert = certify_candidate(get_property("p2"), fn, vecs, domain=dom, dtype=dtype)  # enc(N(x)) for an Encoder
    cx = to_counterexample(cert, "P2", vecs, dtype=dtype, domain=dom.label, origin="flip-rate sample")
    if cx is None or encoder is None or not cx.is_certified:
        return cx
    small, _ = shrink(cx, encoder, domain=dom, dtype=dtype, max_checks=40, deadline=time.perf_counter() + seconds)
    return small
