"""P3-eps for one-layer smooth encoders on a box ``[LO, HI]^n`` (inputs not normalised).

Is there ``x`` in the box with ``|x|_2 >= r`` and ``|enc(x)|_inf < eps``, ``enc(x) = s(W x + b)``? Every ``z_j``
must lie in the proved window ``(A, C)``: linear in ``x``, and ``x`` is continuous, so an LP decides the closed
relaxation. ``|x|_2 >= r`` is not convex: for ``r > 0`` it is covered by ``2n`` cases ``x_i >= rho`` or
``x_i <= -rho`` with a rational ``rho <= r / sqrt(n)`` (some ``|x_i|`` is at least ``r / sqrt(n)``), for
``r = 0`` by one case. Each case: an infeasible LP gives Farkas multipliers (checked exactly, then ``proved``);
a feasible one with the inner window, shrunk, gives a float point, read as exact rationals and accepted only
if it lies in the box, ``|x|^2 >= r^2`` exactly and ``|enc(x)|_inf < eps`` with arb balls (``refuted``).
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any

import numpy as np
import lazy_loader as lazy
from flint import arb, fmpq

from ...counterexamples.certificate_smooth import SCHEMA_SMOOTH, CertificateError, check_smooth_box
from ...theorems.balls import ball_precision, exact_bounds
from ...theorems.errors import NotExact
from ...theorems.relaxations import PREC, SMOOTH, Window, ball_value, is_smooth, small_window
from .l2 import sqrt_bounds
from .result import VerifyResult

#: SciPy loads on first use (lazy_loader): importing this module stays cheap for commands that never solves an LP.
optimize = lazy.load("scipy.optimize", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily

__all__ = ["verify_p3_eps_box", "box_scope"]

_Y_BITS = 40


def box_scope(encoder: Any, normalise: str) -> str | None:
    if len(encoder.layers) != 1:
        return f"the encoder has {len(encoder.layers)} layers; p3-eps for smooth activations is decided for one layer only"
    if not is_smooth(encoder.layers[0].activation):  # the name and the catalogue's expression (not a look-alike)
        return f"activation {encoder.layers[0].activation.name} is not one of {', '.join(SMOOTH)} (the catalogue's)"
    if normalise != "none":
        return f"input normalisation {normalise}: p3-eps on a box is decided for un-normalised inputs only"
    if not getattr(encoder.layers[0], "float64_exact", True):
        return "the stored weights are not exact float64 numbers"
    return None


def _cases(n: int, r: Fraction, lo: Fraction, hi: Fraction) -> tuple[Fraction, list]:
    """``(rho, cases)``: ``[None]`` for ``r = 0``, else ``(i, +1 | -1)`` for every coordinate and sign."""
    if r == 0:
        return Fraction(0), [None]
    rho = r * sqrt_bounds(n)[0] / n  # <= r / sqrt(n)
    return rho, [(i, sg) for i in range(n) for sg in (1, -1)]


def _bounds(n: int, lo: Fraction, hi: Fraction, case: Any, rho: Fraction) -> list | None:
    b = [(float(lo), float(hi))] * n
    if case is None:
        return b
    i, sg = case
    lo_i, hi_i = (max(lo, rho), hi) if sg > 0 else (lo, min(hi, -rho))
    if lo_i > hi_i:
        return None
    b = list(b)
    b[i] = (float(lo_i), float(hi_i))
    return b


def _lp(W: np.ndarray, bvec: np.ndarray, ends: tuple, bounds: list, tags: list, push: np.ndarray | None = None) -> Any:
    """Elastic LP ``min tau`` with ``W_j x + b_j >= A - tau`` and ``<= C + tau`` (the ends given); with ``push``,
    ``tau = 0`` and ``max push . x`` instead (a point far from the origin, for ``|x|_2 >= r``)."""
    A, C = ends
    rows, rhs = [], []
    for kind, j in tags:
        if kind == "lo":  # W_j x >= A - b_j  ->  -W_j x - tau <= b_j - A
            rows.append(np.append(-W[j], -1.0))
            rhs.append(bvec[j] - A)
        else:  # W_j x <= C - b_j
            rows.append(np.append(W[j], -1.0))
            rhs.append(C - bvec[j])
    c = np.zeros(W.shape[1] + 1)
    c[-1] = 1.0
    if push is not None:
        c = np.append(-push, 0.0)
    # no rows when the window has no finite end (EPS at or above sup |s|, e.g. tanh and EPS >= 1): the LP is the box
    A_ub, b_ub = (np.array(rows), np.array(rhs)) if rows else (None, None)
    return optimize.linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds + [(0.0, None if push is None else 0.0)], method="highs")


def _witness(encoder: Any, x: np.ndarray, eps: Fraction, r: Fraction, lo: Fraction, hi: Fraction) -> list | None:
    xs = [min(max(Fraction(float(v)), lo), hi) for v in x]
    if sum(v * v for v in xs) < r * r:
        return None
    layer = encoder.layers[0]
    z = layer.exact_affine(xs)
    with ball_precision(PREC):
        for zj in z:
            lo_b, hi_b = exact_bounds(ball_value(layer.activation.name, arb(fmpq(zj.numerator, zj.denominator))))
            if max(-lo_b, hi_b) >= eps:
                return None
    return xs


def _case_proof(encoder: Any, win: Window, case: Any, rho: Fraction, lo: Fraction, hi: Fraction, eps: Fraction,
                r: Fraction, stats: dict) -> tuple[dict | None, list | None]:
    """``(proof, None)`` closes the case; ``(None, x)`` is a witness; ``(None, None)`` undecided."""
    layer = encoder.layers[0]
    W, bvec = np.asarray(layer.W, dtype=np.float64), np.asarray(layer.b, dtype=np.float64)
    n, m = W.shape[1], W.shape[0]
    bounds = _bounds(n, lo, hi, case, rho)
    if bounds is None:
        return {"kind": "empty"}, None
    A, C = win.outer
    tags = [(k, j) for j in range(m) for k, end in (("lo", A), ("hi", C)) if end is not None]
    stats["lps"] += 1
    res = _lp(W, bvec, (None if A is None else float(A), None if C is None else float(C)), bounds, tags)
    if res.status == 0 and res.fun > 1e-9:
        y = -np.asarray(res.ineqlin.marginals)
        rows = [[k, j, str(Fraction(round(max(v, 0.0) * (1 << _Y_BITS)), 1 << _Y_BITS))] for (k, j), v in zip(tags, y.tolist())
                if round(max(v, 0.0) * (1 << _Y_BITS))]
        return {"kind": "farkas", "rows": rows}, None
    inner = win.inner or (-win.outer[1] if win.outer[1] is not None else None, win.outer[1])
    a_in, c_in = inner
    width = (float(c_in) if c_in is not None else 1.0) - (float(a_in) if a_in is not None else -1.0)
    ends = (None if a_in is None else float(a_in) + 1e-6 * width, None if c_in is None else float(c_in) - 1e-6 * width)
    tags_in = [(k, j) for j in range(m) for k, end in (("lo", ends[0]), ("hi", ends[1])) if end is not None]
    stats["lps"] += 1
    res = _lp(W, bvec, ends, bounds, tags_in)
    if res.status == 0 and res.fun <= 1e-12:
        x = _witness(encoder, res.x[:n], eps, r, lo, hi)
        if x is None and r > 0:  # push outward in the point's orthant
            stats["lps"] += 1
            far = _lp(W, bvec, ends, bounds, tags_in, push=np.where(res.x[:n] < 0, -1.0, 1.0))
            x = _witness(encoder, far.x[:n], eps, r, lo, hi) if far.status == 0 else None
        return None, x
    return None, None


def verify_p3_eps_box(encoder: Any, eps: Fraction, r: Fraction, dom: Any, normalise: str, deadline: float,
                      t0: float) -> VerifyResult:
    """Decide p3-eps on ``dom`` (a Box) for a one-layer smooth encoder (module docstring)."""
    stats = {"lps": 0, "cases": 0, "seconds": 0.0}

    def done(verdict: str, reason: str, method: str, **kw: Any) -> VerifyResult:
        stats["seconds"] = round(time.perf_counter() - t0, 4)
        return VerifyResult(verdict, reason, method, dom.label, stats=stats, **kw)

    why = box_scope(encoder, normalise)
    if why is not None:
        return done("unknown", why, "none")
    name = encoder.layers[0].activation.name
    try:
        win = small_window(name, eps)
    except NotExact as exc:
        return done("unknown", f"the window of {name} could not be enclosed ({exc})", "none")
    lo, hi = dom.lo, dom.hi
    n = encoder.n
    if r * r > n * max(lo * lo, hi * hi):
        return done("proved", f"no point of the box has |x|_2 >= {r}", "interval")
    rho, cases = _cases(n, r, lo, hi)
    proofs, open_cases = [], []
    for case in cases:
        if time.perf_counter() > deadline:
            return done("unknown", f"out of time after {len(proofs)} of {len(cases)} cases", "none")
        stats["cases"] += 1
        proof, x = _case_proof(encoder, win, case, rho, lo, hi, eps, r, stats)
        if x is not None:
            return done("refuted", f"a point of the box with |x|_2 >= {r} has |enc(x)|_inf < {eps} (exact rational x, "
                        "arb balls)", "exact-point", counterexample=[str(v) for v in x])
        if proof is None:
            open_cases.append(case)
        else:
            proofs.append({"case": None if case is None else [case[0], case[1]], "proof": proof})
    if open_cases:
        return done("unknown", f"{len(open_cases)} case(s) (e.g. x_i >= rho or <= -rho for (i, sign) = {open_cases[0]}) "
                    "have a feasible LP relaxation but gave no exact witness", "none")
    return _proved_box(encoder, win, eps, r, rho, dom, proofs, done)


def _proved_box(encoder: Any, win: Window, eps: Fraction, r: Fraction, rho: Fraction, dom: Any, proofs: list,
                done: Any) -> VerifyResult:
    A, C = win.outer
    layer = encoder.layers[0]
    cert = {"schema": SCHEMA_SMOOTH, "property": "p3-eps", "eps": str(eps), "r": str(r),
            "domain": {"kind": "box", "lo": str(dom.lo), "hi": str(dom.hi)}, "normalise": "none",
            "activation_names": [layer.activation.name],
            "window": {"lo": None if A is None else str(A), "hi": None if C is None else str(C)},
            "rho": str(rho), "cases": proofs}
    K, d = layer.kernel.W.integer_form()
    try:
        check_smooth_box(cert, K, d, list(layer.b_exact), layer.activation.name, encoder.n)
    except CertificateError as exc:
        return done("unknown", f"the LP said no such point exists but the exact re-check failed ({exc}): not a proof", "none")
    return done("proved", f"no x in the box with |x|_2 >= {r} has |enc(x)|_inf < {eps}: {len(proofs)} case(s), each "
                "closed by Farkas multipliers re-checked exactly (window proved with arb)", "smooth-box", certificate=cert)
