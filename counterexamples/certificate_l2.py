"""Exact re-check of ``latentcheck verify --input-normalise l2`` on binary users (schema :data:`SCHEMA_L2`).

The encoder sees ``x / |x|_2`` (Mult-DAE). For a positively homogeneous
piecewise-linear encoder (every activation ``s(l t) = l s(t)`` for ``l > 0``)
with biases ``b_k`` and ``s = |x|_2 = sqrt(1'x) > 0``, induction over the layers
gives ``enc(x / s) = enc_s(x) / s`` where ``enc_s`` is the same network with
every bias ``b_k`` replaced by ``s * b_k``. So a nonzero binary ``x`` is encoded
as 0 iff ``enc_s(x) = 0`` with ``s^2 = 1'x``. This module checks, in exact
rationals (the exact kernel :mod:`latentcheck.theorems.exact_net` for the products, python-flint
``fmpq`` and :class:`fractions.Fraction` elsewhere; the activation read by the one PL form,
:mod:`latentcheck.theorems.pl`):

* a counterexample: ``enc_s(x)`` evaluated exactly in ``Q(sqrt(k))`` (pairs
  ``a + b sqrt(k)``, signs decided exactly), :func:`l2_counterexample_ok`;
* a proof (:func:`check_l2_certificate`): the ``cover`` entries' ranges
  ``[k_lo, k_hi]`` of ``k = 1'x`` cover ``1..n``; each entry's ``s`` interval and
  linear cuts ``s >= a + c 1'x`` / ``s <= a + c 1'x`` hold for every real
  ``s = sqrt(k)``, ``k`` in the range; and the entry's proof: ``unit`` (one-layer
  encoders: for every ``k`` in the range, the sum of the ``k`` smallest weights of
  latent unit ``j`` plus ``sqrt(k) b_j`` is ``> 0``, so ``z_j > 0`` and ``h_j != 0``
  for every user with ``k`` items) or ``tree`` (branch and bound over
  ``x_i in {0, 1}`` and the sign of pre-activations, every leaf closed by exact
  interval bounds or a Farkas combination of valid rows, as in
  ``docs/verify.md``, with rows ``ksum`` and ``scut`` for the range and cuts).

It shares no code with the search (``latentcheck.checkers.verify.l2``) beyond those two.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..theorems.exact_net import ExactNet
from ..theorems.pl import PLFunction, as_fmpq

__all__ = ["SCHEMA_L2", "check_l2_certificate", "l2_counterexample_ok", "sign_qsqrt", "L2Check"]

SCHEMA_L2 = "latentcheck.verify-certificate-l2/1"


class _Reject(Exception):
    pass


def _need(cond: bool, why: str) -> None:
    if not cond:
        raise _Reject(why)


class L2Check:
    """Outcome: ``ok``, the first ``reason`` when not, and how many leaves/units were checked."""

    def __init__(self, ok: bool, reason: str, leaves: int = 0) -> None:
        self.ok, self.reason, self.leaves = ok, reason, leaves


# ------------------------------------------------------------------ Q(sqrt k)
def sign_qsqrt(a: Fraction, b: Fraction, k: int) -> int:
    """The exact sign of ``a + b sqrt(k)`` (``k >= 0`` an integer)."""
    r = math.isqrt(k)
    if r * r == k:
        v = a + b * r
        return (v > 0) - (v < 0)
    sa, sb = (a > 0) - (a < 0), (b > 0) - (b < 0)
    if sa == 0 or sb == 0 or sa == sb:
        return sa or sb
    return sa if a * a > b * b * k else sb  # never equal: sqrt(k) is irrational


def _pl_exact(act: dict, number: Any = Fraction) -> tuple[Any, Any]:
    """``(slope left of 0, slope right of 0)`` of a positively homogeneous activation (the one PL form,
    :class:`latentcheck.theorems.pl.PLFunction`, numbers built by ``number``); rejects any other."""
    pl = PLFunction.from_json(act, number)
    if not pl.knots:
        _need(pl.offset == 0, "an activation with an offset is not positively homogeneous")
        _need(pl.slope_right == pl.slope_left, "a knot-free activation must have one slope")
    _need(pl.positively_homogeneous,
          "an activation with a knot other than 0, or s(0) != 0, is not positively homogeneous")
    return pl.slope_left, pl.slope_right


def _exact_arrays(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray]) -> tuple[list, list]:
    W = [[[Fraction(v) for v in row] for row in np.asarray(M, dtype=np.float64).tolist()] for M in Ws]
    b = [[Fraction(v) for v in np.asarray(v_, dtype=np.float64).tolist()] for v_ in bs]
    return W, b


def l2_counterexample_ok(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], activations: Sequence[dict],
                         x: Sequence[int]) -> bool:
    """Whether the binary user ``x != 0`` is encoded as exactly 0 when the encoder sees ``x/|x|_2``."""
    if any(v not in (0, 1) for v in x) or not any(x):
        return False
    k = int(sum(x))
    slopes = [_pl_exact(a, as_fmpq) for a in activations]
    net = ExactNet.build(Ws, bs, [])
    ha, hb = net.Wi[0].matvec([int(v) for v in x]), net.bq[0]  # enc_s: pairs a + b sqrt(k)
    za, zb = ha, hb
    for layer in range(net.depth):
        if layer > 0:
            za = net.Wi[layer].matvec(ha)
            zb = net.layers[layer].affine_q(hb)
        sl, sr = slopes[layer]
        ha, hb = [], []
        for a, c in zip(za, zb):
            m = sr if sign_qsqrt(a, c, k) >= 0 else sl
            ha.append(m * a)
            hb.append(m * c)
    return all(sign_qsqrt(a, c, k) == 0 for a, c in zip(ha, hb))  # a + c sqrt(k) = 0 (a perfect square k allows a, c != 0)


# ------------------------------------------------------------------ the cover
def _le_sqrt(q: Fraction, k: int) -> bool:
    return q <= 0 or q * q <= k


def _ge_sqrt(q: Fraction, k: int) -> bool:
    return q >= 0 and q * q >= k


def _check_entry_range(e: dict, n: int) -> tuple[int, int, Fraction, Fraction, list]:
    klo, khi = (int(v) for v in e["k"])
    _need(1 <= klo <= khi <= n, f"range {klo}..{khi} is not inside 1..{n}")
    slo, shi = Fraction(e["s"][0]), Fraction(e["s"][1])
    _need(slo >= 0 and _le_sqrt(slo, klo), f"s_lo = {slo} exceeds sqrt({klo})")
    _need(_ge_sqrt(shi, khi), f"s_hi = {shi} is below sqrt({khi})")
    cuts = []
    for sense, a, c in e.get("cuts", []):
        a, c = Fraction(a), Fraction(c)
        if sense == "ge":  # a line below the concave sqrt at both ends is below it in between
            _need(_le_sqrt(a + c * klo, klo) and _le_sqrt(a + c * khi, khi), f"cut s >= {a} + {c} k is not valid")
        else:
            _need(sense == "le", f"cut sense {sense!r}")
            ok = (c > 0 and a - 1 / (4 * c) >= 0) or (c <= 0 and _ge_sqrt(a + c * khi, khi))
            _need(ok, f"cut s <= {a} + {c} k is not valid")
        cuts.append((sense, a, c))
    return klo, khi, slo, shi, cuts


def _check_cover(cover: list, n: int) -> None:
    got = sorted((int(e["k"][0]), int(e["k"][1])) for e in cover)
    nxt = 1
    for a, b in got:
        _need(a <= nxt, f"no entry covers k = {nxt}")
        nxt = max(nxt, b + 1)
    _need(nxt > n, f"no entry covers k = {nxt}")


def _check_unit(e: dict, W: list, b: list, slopes: list, klo: int, khi: int) -> int:
    _need(len(W) == 1, "a 'unit' proof is for one-layer encoders")
    _need(slopes[0][1] != 0, "a 'unit' proof needs s(t) != 0 for t > 0")
    j = int(e["proof"]["j"])
    row = sorted(W[0][j])
    acc = sum(row[:klo - 1], Fraction(0))
    for k in range(klo, khi + 1):
        acc += row[k - 1]
        _need(sign_qsqrt(acc, b[0][j], k) > 0, f"unit {j} can be <= 0 for a user with {k} items")
    return khi - klo + 1


# ------------------------------------------------------------------ trees (python-flint fmpq)
_F = as_fmpq


class _Net:
    """The weights in the exact kernel (``W``, ``|W|``, ``W^T`` as integer matrices) and biases as ``fmpq``."""

    def __init__(self, Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], slopes: list) -> None:
        _need(all(bool(np.all(np.isfinite(M))) for M in Ws) and all(bool(np.all(np.isfinite(v))) for v in bs),
              "weights must be finite")
        self.kernel = ExactNet.build(Ws, bs, [])
        self.W = self.kernel.Wi
        self.b = self.kernel.bq
        self.slopes = [(_F(a), _F(c)) for a, c in slopes]
        self.n = int(np.asarray(Ws[0]).shape[1])
        self.sizes = [int(np.asarray(M).shape[0]) for M in Ws]


def _act(sl: Any, sr: Any, t: Any) -> Any:
    return sr * t if t >= 0 else sl * t


def _box(net: _Net, rng: tuple, xfix: dict, zclamp: dict) -> tuple[dict | None, str]:
    """Exact bounds of every variable on a leaf (``None`` and why when the leaf is empty)."""
    klo, khi, slo, shi = (_F(v) for v in rng[:4])
    zero, one = _F(0), _F(1)
    xlo = [_F(xfix[i]) if i in xfix else zero for i in range(net.n)]
    xhi = [_F(xfix[i]) if i in xfix else one for i in range(net.n)]
    if sum(xlo, zero) > khi or sum(xhi, zero) < klo:
        return None, "no x in the box has 1'x in the range"
    box = {"x": (xlo, xhi), "s": (slo, shi), "z": [], "h": []}
    lo, hi = xlo, xhi
    smid, srad = (slo + shi) / 2, (shi - slo) / 2
    L = len(net.W)
    for k in range(L):
        c = net.W[k].matvec([(a + b) / 2 for a, b in zip(lo, hi)])
        r = net.W[k].abs.matvec([(b - a) / 2 for a, b in zip(lo, hi)])
        zl = [ci - ri + bi * smid - abs(bi) * srad for ci, ri, bi in zip(c, r, net.b[k])]
        zh = [ci + ri + bi * smid + abs(bi) * srad for ci, ri, bi in zip(c, r, net.b[k])]
        for (kk, j), (a, b) in zclamp.items():
            if kk == k:
                zl[j], zh[j] = (zl[j] if a is None else max(zl[j], a)), (zh[j] if b is None else min(zh[j], b))
        if any(a > b for a, b in zip(zl, zh)):
            return None, f"z[{k}] empty"
        sl, sr = net.slopes[k]
        hl, hh = [], []
        for a, b in zip(zl, zh):
            vals = [_act(sl, sr, a), _act(sl, sr, b)] + ([zero] if a < 0 < b else [])
            hl.append(min(vals))
            hh.append(max(vals))
        box["z"].append((zl, zh))
        if k == L - 1:
            if any(a > 0 or b < 0 for a, b in zip(hl, hh)):
                return None, "a latent unit's range excludes 0"
            hl, hh = [zero] * len(hl), [zero] * len(hh)
        box["h"].append((hl, hh))
        lo, hi = hl, hh
    return box, ""


def _line_ok(sl: Any, sr: Any, a: Any, c: Any, sense: str, lo: Any, hi: Any) -> bool:
    sign = 1 if sense == "ge" else -1
    pts = [lo, hi] + ([_F(0)] if lo < 0 < hi else [])
    return all(sign * (_act(sl, sr, p) - a * p - c) >= 0 for p in pts)


def _farkas(net: _Net, box: dict, rows: list, rng: tuple, cuts: list) -> None:
    """The rows' combination ``r . v <= d`` must be impossible on the leaf's box."""
    zero = _F(0)
    n, L = net.n, len(net.W)
    rx, rs = [zero] * n, zero
    rz = [[zero] * m for m in net.sizes]
    rh = [[zero] * m for m in net.sizes]
    mu = [[zero] * m for m in net.sizes]
    d = zero
    for row in rows:
        kind = row[0]
        if kind == "aff":
            k, j, m = int(row[1]), int(row[2]), _F(row[3])
            mu[k][j] += m
        elif kind == "hull":
            k, j, a, c, sense, y = int(row[1]), int(row[2]), _F(row[3]), _F(row[4]), row[5], _F(row[6])
            _need(y >= 0, "a negative multiplier on an inequality")
            zl, zh = box["z"][k][0][j], box["z"][k][1][j]
            _need(_line_ok(*net.slopes[k], a, c, sense, zl, zh), f"line {row[:6]} is not valid on the leaf")
            sg = 1 if sense == "ge" else -1  # ge: a z - h <= -c ; le: h - a z <= c
            rz[k][j] += sg * y * a
            rh[k][j] -= sg * y
            d -= sg * y * c
        elif kind == "ksum":
            y = _F(row[2])
            _need(y >= 0, "a negative multiplier on an inequality")
            sg = -1 if row[1] == "ge" else 1
            rx = [v + sg * y for v in rx]
            d += sg * y * (_F(rng[0]) if row[1] == "ge" else _F(rng[1]))
        elif kind == "scut":
            sense, a, c = cuts[int(row[1])]
            y = _F(row[2])
            _need(y >= 0, "a negative multiplier on an inequality")
            sg = 1 if sense == "ge" else -1  # ge: c 1'x - s <= -a ; le: s - c 1'x <= a
            rx = [v + sg * y * _F(c) for v in rx]
            rs -= sg * y
            d -= sg * y * _F(a)
        else:
            raise _Reject(f"unknown row kind {kind!r}")
    for k in range(L):  # mu (z_k - W_k h_{k-1} - b_k s) = 0
        back = net.W[k].T.matvec(mu[k])
        rz[k] = [u + v for u, v in zip(rz[k], mu[k])]
        rs -= sum((m * bb for m, bb in zip(mu[k], net.b[k])), zero)
        if k == 0:
            rx = [u - v for u, v in zip(rx, back)]
        else:
            rh[k - 1] = [u - v for u, v in zip(rh[k - 1], back)]
    low = _min_dot(rx, *box["x"]) + _min_dot([rs], [box["s"][0]], [box["s"][1]])
    for k in range(L):
        low += _min_dot(rz[k], *box["z"][k]) + _min_dot(rh[k], *box["h"][k])
    _need(low > d, f"no contradiction ({float(low)} <= {float(d)})")


def _min_dot(r: list, lo: list, hi: list) -> Any:
    return sum((ri * (a if ri >= 0 else b) for ri, a, b in zip(r, lo, hi)), _F(0))


def _check_tree(net: _Net, tree: dict, rng: tuple, cuts: list, user_zero: Any = None) -> int:
    leaves = 0
    stack = [(tree, {}, {})]
    while stack:
        node, xfix, zclamp = stack.pop()
        if "split" in node:
            sp = node["split"]
            if sp[0] == "x":
                i = int(sp[1])
                _need(0 <= i < net.n and i not in xfix, f"bad input split {sp}")
                stack.append((node["le"], {**xfix, i: 0}, zclamp))
                stack.append((node["ge"], {**xfix, i: 1}, zclamp))
            else:
                k, j = int(sp[1]), int(sp[2])
                _need(sp[0] == "z" and 0 <= k < len(net.sizes) and 0 <= j < net.sizes[k], f"bad split {sp}")
                a, b = zclamp.get((k, j), (None, None))
                zero = _F(0)
                stack.append((node["le"], xfix, {**zclamp, (k, j): (a, zero if b is None else min(b, zero))}))
                stack.append((node["ge"], xfix, {**zclamp, (k, j): (zero if a is None else max(a, zero), b)}))
            continue
        leaves += 1
        box, why = _box(net, rng, xfix, zclamp)
        if box is None:
            continue  # an empty leaf is closed whatever it claims
        if node.get("leaf") == "point":  # every input fixed: one user, whose exact encoding in Q(sqrt k) is not 0
            _need(user_zero is not None and len(xfix) == net.n, "a point leaf must fix every input")
            _need(not user_zero([xfix[i] for i in range(net.n)]), "a point leaf's user is encoded as exactly 0")
            continue
        _need(node.get("leaf") == "farkas", f"a leaf that is not empty ({node.get('leaf')}) has no Farkas rows")
        _farkas(net, box, node["rows"], rng, cuts)
    return leaves


def check_l2_certificate(cert: dict, Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray]) -> L2Check:
    """Re-check an l2 proof (no nonzero binary user is encoded as 0) in exact rationals."""
    try:
        _need(cert.get("schema") == SCHEMA_L2, "unknown schema")
        _need(cert.get("normalise") == "l2" and cert.get("domain", {}).get("kind") == "binary",
              "an l2 certificate is for l2-normalised binary users")
        _need(len(cert["activations"]) == len(Ws) == len(bs), "one activation per layer")
        slopes = [_pl_exact(a) for a in cert["activations"]]
        n = int(np.asarray(Ws[0]).shape[1])
        _check_cover(cert["cover"], n)
        W, b = (None, None)
        net = None
        leaves = 0
        for e in cert["cover"]:
            klo, khi, slo, shi, cuts = _check_entry_range(e, n)
            if e["proof"]["kind"] == "unit":
                if W is None:
                    W, b = _exact_arrays(Ws, bs)
                leaves += _check_unit(e, W, b, slopes, klo, khi)
            else:
                _need(e["proof"]["kind"] == "tree", f"unknown proof kind {e['proof']['kind']!r}")
                net = net or _Net(Ws, bs, slopes)
                leaves += _check_tree(net, e["proof"]["root"], (klo, khi, slo, shi), cuts,
                                      lambda x: l2_counterexample_ok(Ws, bs, cert["activations"], x))
        return L2Check(True, "", leaves)
    except _Reject as exc:
        return L2Check(False, str(exc))
    except (KeyError, ValueError, TypeError, IndexError, ZeroDivisionError) as exc:
        return L2Check(False, f"malformed certificate: {type(exc).__name__}: {exc}")
