"""The exact check of a P3-eps certificate for a one-layer smooth encoder on binary users (schema ``-smooth/1``).

Claim: every binary user ``x != 0`` with ``|x|_2 >= r`` (that is ``k = 1'x >= r^2``) has ``|enc(x)|_inf >= eps``,
where ``enc(x) = s(W x / S + b)`` and ``S = sqrt(k)`` (``l2``), ``K`` (``divide:K``) or 1 (``none``).

The argument (docs/verify.md, "P3-eps for smooth activations"): the window ``(A, C)`` contains
``{t : |s(t)| < eps}`` (checked here with arb balls and the monotonicity facts of
:mod:`latentcheck.theorems.relaxations`), so a user with ``|enc(x)|_inf < eps`` satisfies, for every unit ``j``,
``W_j x - (A - b_j) S >= 0`` (row ``lo``) and ``(C - b_j) S - W_j x >= 0`` (row ``hi``). The cover splits
``k`` into ranges; ``k = 1`` may be closed *item by item* (each single item has a unit outside the window);
each range is closed by a *unit* (one row fails for every user with ``k`` items: the ``k``
largest or smallest weights decide it) or by *Farkas* multipliers ``y >= 0`` of the rows, ``1'x >= klo``,
``1'x <= khi`` and the range's cuts of ``S = sqrt(k)``, whose combination ``R . (x, S) >= D`` has
``max over the box < D``, or by a *tree* that fixes ``x_i = 0`` / ``x_i = 1`` with Farkas or empty leaves. Everything in exact rationals (integer products with the float weights' common
power-of-two denominator); the standalone ``latentcheck recheck`` checks the same certificate with its own code.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from ..theorems.errors import LatentcheckError
from ..theorems.relaxations import ball_value, smooth_facts
from ..theorems.balls import exact_bounds

__all__ = ["SCHEMA_SMOOTH", "CertificateError", "check_smooth_certificate", "check_smooth_box", "window_ok",
           "sign_with_sqrt", "s_kind"]

SCHEMA_SMOOTH = "latentcheck.verify-certificate-smooth/1"


class CertificateError(LatentcheckError):
    """A smooth P3-eps certificate does not hold (the message says where)."""


def _need(cond: bool, why: str) -> None:
    if not cond:
        raise CertificateError(why)


def sign_with_sqrt(a: Fraction, b: Fraction, k: int) -> int:
    """The sign of ``a + b sqrt(k)``, exactly (squares compared when ``a`` and ``b`` differ in sign)."""
    r = math.isqrt(k)
    if r * r == k:
        v = a + b * r
        return (v > 0) - (v < 0)
    sa, sb = (a > 0) - (a < 0), (b > 0) - (b < 0)
    if sa >= 0 and sb >= 0:
        return 1 if sa or sb else 0
    if sa <= 0 and sb <= 0:
        return -1
    return sa if a * a > b * b * k else sb


def s_kind(normalise: str) -> Fraction | None:
    """``S`` for ``none`` (1) and ``divide:K`` (``K``); ``None`` for ``l2`` (``S = sqrt(k)``)."""
    if normalise == "l2":
        return None
    if normalise == "none":
        return Fraction(1)
    _need(normalise.startswith("divide:"), f"normalisation {normalise!r} is not none, l2 or divide:K")
    return Fraction(normalise.split(":", 1)[1])


def window_ok(name: str, eps: Fraction, lo: Fraction | None, hi: Fraction | None) -> None:
    """``{t : |s(t)| < eps}`` lies in ``(lo, hi)``: ``s(hi) >= eps`` and ``s(lo) <= -eps`` as balls, with monotonicity."""
    facts = smooth_facts(name)
    if hi is not None:
        _need(facts.increasing_from is None or hi >= facts.increasing_from, f"{name} is not increasing from {hi}")
        _need(exact_bounds(ball_value(name, hi))[0] >= eps, f"{name}({hi}) >= eps is not proved")
    if lo is not None:
        _need(facts.increasing_from is None, f"{name} is not increasing on the whole line: no lower window end")
        _need(exact_bounds(ball_value(name, lo))[1] <= -eps, f"{name}({lo}) <= -eps is not proved")


def _unit_ok(K: np.ndarray, d: int, b: list, ends: tuple, S: Fraction | None, proof: dict, klo: int, khi: int) -> None:
    j, side = proof["j"], proof["side"]
    _need(isinstance(j, int) and 0 <= j < K.shape[0] and side in ("lo", "hi"), "bad unit proof")
    A, C = ends
    end = C if side == "hi" else A
    _need(end is not None, f"unit proof on side {side} without that window end")
    row = sorted(int(v) for v in K[j])
    if side == "lo":
        row = row[::-1]  # the k largest weights: W_j x <= their sum
    acc = sum(row[:klo - 1])
    for k in range(klo, khi + 1):
        acc += row[k - 1]
        a, c = Fraction(acc, d), -(end - b[j])  # side hi: W_j x - (C - b_j) S > 0; side lo: ... < 0
        sg = sign_with_sqrt(a, c, k) if S is None else ((a + c * S > 0) - (a + c * S < 0))
        _need(sg == (1 if side == "hi" else -1), f"unit {j} ({side}) does not close k = {k}")


def _items_ok(K: np.ndarray, d: int, b: list, ends: tuple, S: Fraction) -> None:
    """Every one-item user ``e_i`` has some ``z_j = W_ji / S + b_j`` outside ``(A, C)``."""
    A, C = ends
    m, n = K.shape
    for i in range(n):
        col = K[:, i].tolist()
        _need(any((C is not None and Fraction(int(col[j]), d) >= (C - b[j]) * S) or
                  (A is not None and Fraction(int(col[j]), d) <= (A - b[j]) * S) for j in range(m)),
              f"the user with item {i} alone is not closed")


def _tree_ok(K: np.ndarray, d: int, b: list, ends: tuple, entry: dict, root: dict) -> int:
    """Every leaf of the branching on ``x_i`` (``le``: ``x_i = 0``, ``ge``: ``x_i = 1``) holds no user."""
    n, klo, khi = K.shape[1], entry["k"][0], entry["k"][1]
    todo, leaves = [(root, {})], 0
    while todo:
        node, fix = todo.pop()
        if "split" in node:
            i = node["split"]
            _need(isinstance(i, int) and 0 <= i < n and i not in fix, f"bad split on x[{i}]")
            todo += [(node["le"], {**fix, i: 0}), (node["ge"], {**fix, i: 1})]
            continue
        leaves += 1
        ones = sum(fix.values())
        if node.get("empty") is True:
            _need(ones > khi or ones + n - len(fix) < klo, "an empty leaf that is not empty")
        else:
            _farkas_ok(K, d, b, ends, entry, node["farkas"], fix)
    return leaves


def _farkas_ok(K: np.ndarray, d: int, b: list, ends: tuple, entry: dict, rows: list, fix: dict | None = None) -> None:
    """``R . (x, S) >= D`` follows from the rows with the multipliers; its maximum over the box is below ``D``."""
    A, C = ends
    m, n = K.shape
    ylo, yhi = [Fraction(0)] * m, [Fraction(0)] * m
    rx, rs, D = Fraction(0), Fraction(0), Fraction(0)  # rx: coefficient added to every x_i
    klo, khi = entry["k"]
    for row in rows:
        kind, y = row[0], Fraction(row[-1])
        _need(y >= 0, "negative multiplier")
        if kind in ("lo", "hi"):
            j = row[1]
            _need(isinstance(j, int) and 0 <= j < m and (A if kind == "lo" else C) is not None, f"bad row {row[:2]}")
            (ylo if kind == "lo" else yhi)[j] += y
            rs += -y * (A - b[j]) if kind == "lo" else y * (C - b[j])
        elif kind == "ksum":
            rx += y if row[1] == "ge" else -y
            D += y * klo if row[1] == "ge" else -y * khi
        else:
            _need(kind == "scut", f"unknown row kind {kind!r}")
            sense, a, c = entry["cuts"][row[1]]
            a, c = Fraction(a), Fraction(c)
            sg = 1 if sense == "ge" else -1  # ge: S - c 1'x >= a; le: c 1'x - S >= -a
            rs += sg * y
            rx += -sg * y * c
            D += sg * y * a
    den = 1
    for v in ylo + yhi:
        den = den * v.denominator // math.gcd(den, v.denominator)
    yint = np.array([int((p - q) * den) for p, q in zip(ylo, yhi)], dtype=object)
    wx = yint.dot(K) if m else np.zeros(n, dtype=object)  # = den * d * sum_j (ylo_j - yhi_j) W_j
    fix = fix or {}
    coef = [Fraction(int(v), den * d) + rx for v in wx.tolist()]  # x_i in [0, 1], or fixed
    top = sum((c if fix[i] else Fraction(0)) if i in fix else max(c, Fraction(0)) for i, c in enumerate(coef))
    slo, shi = Fraction(entry["s"][0]), Fraction(entry["s"][1])
    top += max(rs * slo, rs * shi)
    _need(top < D, f"Farkas rows of k = {klo}..{khi} give no contradiction ({float(top)} >= {float(D)})")


def check_smooth_certificate(cert: dict, K: np.ndarray, d: int, b: list, name: str, n: int) -> int:
    """Check the certificate for ``W = K / d`` (object int array), exact biases ``b``; return the k covered.

    Raises:
        CertificateError: where it fails.
    """
    eps, r = Fraction(cert["eps"]), Fraction(cert["r"])
    win = cert["window"]
    ends = tuple(None if win[key] is None else Fraction(win[key]) for key in ("lo", "hi"))
    window_ok(name, eps, *ends)
    S = s_kind(cert["normalise"])
    covered: set[int] = set()
    for e in cert["cover"]:
        klo, khi = e["k"]
        slo, shi = Fraction(e["s"][0]), Fraction(e["s"][1])
        if S is None:
            _need(0 <= slo and slo * slo <= klo and shi * shi >= khi, f"s box of k = {klo}..{khi} misses sqrt(k)")
            for sense, a, c in e.get("cuts", []):
                a, c = Fraction(a), Fraction(c)
                if sense == "ge":
                    _need(all(a + c * k <= 0 or (a + c * k) ** 2 <= k for k in (klo, khi)), "a secant cut is above sqrt")
                else:
                    _need(sense == "le" and c > 0 and 4 * a * c >= 1, "a tangent cut is below sqrt")
        else:
            _need(slo == shi == S and not e.get("cuts"), f"s must be exactly {S} for this normalisation")
        proof = e["proof"]
        if proof["kind"] == "items":
            _need(klo == khi == 1, "an items proof is for k = 1 only")
            _items_ok(K, d, b, ends, Fraction(1) if S is None else S)  # sqrt(1) = 1 exactly
        elif proof["kind"] == "unit":
            _unit_ok(K, d, b, ends, S, proof, klo, khi)
        elif proof["kind"] == "tree":
            _tree_ok(K, d, b, ends, e, proof["root"])
        else:
            _need(proof["kind"] == "farkas", "unknown proof kind")
            _farkas_ok(K, d, b, ends, e, proof["rows"])
        covered.update(range(klo, khi + 1))
    first = max(1, math.ceil(r * r))
    missing = [k for k in range(first, n + 1) if k not in covered]
    _need(not missing, f"k = {missing[:1]} not covered")
    return len(covered)


# ---------------------------------------------------------------- a box [LO, HI]^n, inputs not normalised
def _box_case(K: np.ndarray, d: int, b: list, ends: tuple, lo: Fraction, hi: Fraction, case: Any, rho: Fraction,
              proof: dict) -> None:
    m, n = K.shape
    blo, bhi = [lo] * n, [hi] * n
    if case is not None:
        i, sg = case
        _need(isinstance(i, int) and 0 <= i < n and sg in (1, -1), "bad case")
        if sg > 0:
            blo[i] = max(lo, rho)
        else:
            bhi[i] = min(hi, -rho)
    if proof["kind"] == "empty":
        _need(any(a > c for a, c in zip(blo, bhi)), "an empty case that is not empty")
        return
    _need(proof["kind"] == "farkas", "unknown proof kind")
    A, C = ends
    y = [Fraction(0)] * m
    D = Fraction(0)
    for kind, j, v in proof["rows"]:
        v = Fraction(v)
        _need(v >= 0 and isinstance(j, int) and 0 <= j < m and kind in ("lo", "hi"), "bad row")
        end = A if kind == "lo" else C
        _need(end is not None, f"a {kind} row without that window end")
        y[j] += v if kind == "lo" else -v  # lo: W_j x >= A - b_j; hi: -W_j x >= b_j - C
        D += v * (A - b[j]) if kind == "lo" else v * (b[j] - C)
    den = 1
    for v in y:
        den = den * v.denominator // math.gcd(den, v.denominator)
    wx = np.array([int(v * den) for v in y], dtype=object).dot(K).tolist()
    top = sum((Fraction(int(c), den * d) * (bhi[i] if c > 0 else blo[i]) for i, c in enumerate(wx)), Fraction(0))
    _need(top < D, f"case {case}: no contradiction")


def check_smooth_box(cert: dict, K: np.ndarray, d: int, b: list, name: str, n: int) -> int:
    """Check a box certificate (``domain.kind = box``, ``normalise = none``); return the cases checked."""
    eps, r, rho = Fraction(cert["eps"]), Fraction(cert["r"]), Fraction(cert["rho"])
    lo, hi = Fraction(cert["domain"]["lo"]), Fraction(cert["domain"]["hi"])
    _need(cert["normalise"] == "none" and lo <= hi, "box certificates are for un-normalised inputs")
    win = cert["window"]
    ends = tuple(None if win[key] is None else Fraction(win[key]) for key in ("lo", "hi"))
    window_ok(name, eps, *ends)
    cases = [None if c["case"] is None else tuple(c["case"]) for c in cert["cases"]]
    if r == 0:
        _need(None in cases, "r = 0 needs the case of the whole box")
    else:
        _need(0 <= rho and rho * rho * n <= r * r, "rho is not at most r / sqrt(n)")
        _need(set(cases) >= {(i, sg) for i in range(n) for sg in (1, -1)}, "the cases do not cover every coordinate and sign")
    for c, case in zip(cert["cases"], cases):
        _box_case(K, d, b, ends, lo, hi, case, rho, c["proof"])
    return len(cases)
