"""Certificates of ``latentcheck verify``: the format and its exact re-check.

A ``proved`` verdict for P3 on a piecewise-linear encoder comes with a
certificate (JSON, schema :data:`SCHEMA`): a branch-and-bound tree over the
input box and the pre-activations, whose every leaf is closed either by
interval arithmetic or by a Farkas certificate (rational multipliers of the
leaf's linear constraints). This module re-checks one in exact rational
arithmetic (python-flint ``fmpq`` and ``fmpq_mat`` throughout). It shares no code with the search
engine (``latentcheck.checkers.verify``): it recomputes every bound itself, checks every
relaxation line against the activation's knots, and trusts nothing but the
weights and the multipliers. :mod:`latentcheck.counterexamples.recheck`
(``latentcheck recheck``) is a second, standalone re-checker of the same format
(Fractions only), which also binds the certificate to its encoder file
(:func:`binding_record` writes what it compares: sizes, activation names,
input semantics, model file).

Variables: ``x`` (inputs), ``z_k`` (pre-activations of layer ``k``), ``h_k``
(its outputs; ``h_{-1} = x``). Rows a leaf may use:

* ``["aff", k, j, mu]``: ``z_kj - W_k[j] . h_{k-1} = b_kj`` (any sign);
* ``["hull", k, j, a, c, "ge"|"le", y]``: ``h_kj >= a z_kj + c`` (or ``<=``), valid
  for the activation on the leaf's interval of ``z_kj`` (checked), ``y >= 0``;
* ``["sum", y]``: ``x_1 + ... + x_n >= 1`` (binary domain, nonzero users), ``y >= 0``.

Their combination ``r . v <= d`` must contradict the leaf's box:
``min over the box of r . v > d`` (the box: the domain's bounds on ``x``,
interval bounds on ``z, h`` propagated exactly through the path's
constraints, and ``h_L = 0`` for the latent layer).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from ..theorems.files import atomic_write_bytes_with, atomic_write_text

__all__ = ["SCHEMA", "CheckResult", "ExactNet", "check_certificate", "check_leaf", "leaf_box",
           "write_certificate", "load_certificate", "sha256_file", "binding_record", "save_bound_encoder",
           "combine", "implied_bound", "check_bounds"]

SCHEMA = "latentcheck.verify-certificate/1"

Bound = "Fraction | None"


def Q(v: Any) -> Any:
    """An exact rational as a python-flint ``fmpq`` (from int, str, Fraction or an exact float)."""
    import flint

    if isinstance(v, flint.fmpq):
        return v
    if isinstance(v, int):
        return flint.fmpq(v)
    if isinstance(v, str) and v.count("/") <= 1:  # "p" or "p/q": the integers read directly (the same value as Fraction(v))
        num, _, den = v.partition("/")
        try:
            return flint.fmpq(int(num), int(den) if den else 1)
        except ValueError:
            pass
    if isinstance(v, float):
        return flint.fmpq(*v.as_integer_ratio())
    q = Fraction(v) if not isinstance(v, Fraction) else v
    return flint.fmpq(q.numerator, q.denominator)


def _fr(v: Any) -> Any:
    return Q(v)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of an exact re-check: ``ok`` and, when not, the first reason."""

    ok: bool
    reason: str
    leaves: int = 0
    min_margin: Fraction | None = None


# ------------------------------------------------------------------ the activation
@dataclass(frozen=True)
class _PL:
    knots: tuple[Fraction, ...]
    values: tuple[Fraction, ...]
    sl: Fraction
    sr: Fraction
    offset: Fraction

    @classmethod
    def from_json(cls, d: dict) -> "_PL":
        return cls(tuple(_fr(k) for k in d["knots"]), tuple(_fr(v) for v in d["values"]),
                   _fr(d["slope_left"]), _fr(d["slope_right"]), _fr(d.get("offset", "0")))

    def __call__(self, t: Fraction) -> Fraction:
        if not self.knots:
            return self.sl * t + self.offset
        if t <= self.knots[0]:
            return self.values[0] + self.sl * (t - self.knots[0])
        if t >= self.knots[-1]:
            return self.values[-1] + self.sr * (t - self.knots[-1])
        for (a, va), (b, vb) in zip(zip(self.knots, self.values), zip(self.knots[1:], self.values[1:])):
            if a <= t <= b:
                return va + (vb - va) * (t - a) / (b - a)
        raise AssertionError("unreachable")

    def _pts(self, lo: Fraction | None, hi: Fraction | None) -> list[Fraction]:
        pts = [k for k in self.knots if (lo is None or k > lo) and (hi is None or k < hi)]
        if lo is not None:
            pts.append(lo)
        if hi is not None:
            pts.append(hi)
        return pts or [Q(0)]

    def line_valid(self, a: Fraction, c: Fraction, sense: str, lo: Fraction | None, hi: Fraction | None) -> bool:
        sign = 1 if sense == "ge" else -1
        if any(sign * (self(p) - a * p - c) < 0 for p in self._pts(lo, hi)):
            return False
        left = self.sl if self.knots else self.sl
        right = self.sr if self.knots else self.sl
        if lo is None and sign * (left - a) > 0:
            return False
        if hi is None and sign * (right - a) < 0:
            return False
        return True

    def value_range(self, lo: Fraction | None, hi: Fraction | None) -> tuple[Fraction | None, Fraction | None]:
        vals = [self(p) for p in self._pts(lo, hi)]
        low, high = min(vals), max(vals)
        left = self.sl
        right = self.sr if self.knots else self.sl
        if lo is None and left != 0:
            low, high = (None, high) if left > 0 else (low, None)
        if hi is None and right != 0:
            low, high = (low, None) if right > 0 else (None, high)
        return low, high

    def homogeneous(self) -> bool:
        if not self.knots:
            return self.offset == 0
        return self.knots == (Q(0),) and self.values == (Q(0),)


# ------------------------------------------------------------------ the network, exactly
@dataclass
class ExactNet:
    """Weights as exact rationals (``fmpq_mat``) plus float copies for sign masks."""

    W: list[Any]
    WT: list[Any]
    Wf: list[np.ndarray]
    b: list[list[Fraction]]
    pl: list[_PL]
    Wi: list[Any] = None  # W_k as an integer matrix over a power of 2 (_IntMat), the same numbers
    WTi: list[Any] = None
    absWi: list[Any] = None

    def __post_init__(self) -> None:
        if self.Wi is None:  # built directly rather than through build(): derive the integer forms from Wf
            self.Wi = [_IntMat.from_ratios([v.as_integer_ratio() for v in np.asarray(W, np.float64).ravel().tolist()], W.shape)
                       for W in self.Wf]
            self.WTi = [m.transpose() for m in self.Wi]
            self.absWi = [m.abs() for m in self.Wi]

    @classmethod
    def build(cls, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[dict]) -> "ExactNet":
        import flint

        Ws, WTs, Wf, bs, Wi, WTi, absWi = [], [], [], [], [], [], []
        for W, b in zip(weights, biases):
            W = np.asarray(W, dtype=np.float64)
            if not np.all(np.isfinite(W)) or not np.all(np.isfinite(b)):
                raise ValueError("weights must be finite")
            ratios = [v.as_integer_ratio() for v in W.ravel().tolist()]  # exact: a float64 is p / 2^e
            M = flint.fmpq_mat(W.shape[0], W.shape[1], [flint.fmpq(p, q) for p, q in ratios])
            Ws.append(M)
            WTs.append(M.transpose())
            Wf.append(W)
            bs.append([Q(float(v)) for v in np.asarray(b, dtype=np.float64).tolist()])
            im = _IntMat.from_ratios(ratios, W.shape)
            Wi.append(im)
            WTi.append(im.transpose())
            absWi.append(im.abs())
        return cls(Ws, WTs, Wf, bs, [_PL.from_json(a) for a in activations], Wi, WTi, absWi)

    @property
    def depth(self) -> int:
        return len(self.W)

    def exact_forward(self, x: Sequence[Fraction]) -> list[Fraction]:
        h = [Q(v) for v in x]
        for k in range(self.depth):
            z = self.Wi[k].matvec(h)
            h = [self.pl[k](zi + bi) for zi, bi in zip(z, self.b[k])]
        return h


@dataclass(frozen=True)
class _IntMat:
    """An exact rational matrix as an integer matrix ``M`` and one integer ``scale``: the matrix is ``M / scale``.

    A float64 matrix has a power of 2 as a common denominator, so ``M`` is its entries shifted to integers;
    a product with a rational vector is then one integer product over the vector's common denominator
    (python-flint's ``fmpz_mat``), several times faster than ``fmpq_mat`` and equal to it exactly.
    """

    M: Any
    scale: int

    @classmethod
    def from_ratios(cls, ratios: list[tuple[int, int]], shape: tuple[int, int]) -> "_IntMat":
        import flint

        D = max((q for _p, q in ratios), default=1)
        if any(D % q for _p, q in ratios):  # never for float64 entries (powers of 2); kept general
            D = 1
            for _p, q in ratios:
                D = D * q // math.gcd(D, q)
        return cls(flint.fmpz_mat(shape[0], shape[1], [p * (D // q) for p, q in ratios]), D)

    def transpose(self) -> "_IntMat":
        return _IntMat(self.M.transpose(), self.scale)

    def abs(self) -> "_IntMat":
        import flint

        r, c = self.M.nrows(), self.M.ncols()
        return _IntMat(flint.fmpz_mat(r, c, [abs(int(self.M[i, j])) for i in range(r) for j in range(c)]), self.scale)

    def matvec(self, v: Sequence[Any]) -> list:
        import flint

        qs = [Q(x) for x in v]
        dens = [int(x.q) for x in qs]
        D = max(dens, default=1)
        if any(D % d for d in dens):
            D = 1
            for d in dens:
                D = D * d // math.gcd(D, d)
        col = flint.fmpz_mat(len(qs), 1, [int(x.p) * (D // d) for x, d in zip(qs, dens)])
        out = self.M * col
        den = self.scale * D
        return [flint.fmpq(out[i, 0], den) for i in range(out.nrows())]


def _to_fmpq(v: float) -> Any:
    import flint

    return Q(float(v))


def _matvec(M: Any, v: Sequence[Fraction]) -> list[Fraction]:
    import flint

    col = flint.fmpq_mat(len(v), 1, [Q(q) for q in v])
    out = M * col
    return [out[i, 0] for i in range(out.nrows())]


def _interval_affine(net: ExactNet, k: int, lo: list, hi: list) -> tuple[list, list]:
    """Exact bounds of ``W_k h + b_k`` for ``h`` in the box ``[lo, hi]`` (``None`` = infinite)."""
    Wf = net.Wf[k]
    lo_f = [Q(0) if v is None else v for v in lo]
    hi_f = [Q(0) if v is None else v for v in hi]
    mid = [(a + b) / 2 for a, b in zip(lo_f, hi_f)]
    rad = [(b - a) / 2 for a, b in zip(lo_f, hi_f)]
    import flint

    c = net.Wi[k].matvec(mid)
    r = net.absWi[k].matvec(rad)
    lo_inf = np.array([v is None for v in lo])
    hi_inf = np.array([v is None for v in hi])
    down = ((Wf > 0) & lo_inf[None, :]).any(axis=1) | ((Wf < 0) & hi_inf[None, :]).any(axis=1)
    up = ((Wf > 0) & hi_inf[None, :]).any(axis=1) | ((Wf < 0) & lo_inf[None, :]).any(axis=1)
    zlo = [None if down[i] else c[i] - r[i] + net.b[k][i] for i in range(len(c))]
    zhi = [None if up[i] else c[i] + r[i] + net.b[k][i] for i in range(len(c))]
    del flint
    return zlo, zhi


def abs_mat(net: ExactNet, k: int) -> Any:
    """``|W_k|`` exactly, cached on the network itself.

    (A module-level cache keyed by ``id(net)`` handed a freed network's matrix to a new network that got
    the same id: wrong shapes, or worse, wrong bounds of the right shape.)
    """
    cache = net.__dict__.setdefault("_abs_cache", {})
    if k not in cache:
        import flint

        W = net.Wf[k]
        cache[k] = flint.fmpq_mat(W.shape[0], W.shape[1], [_to_fmpq(abs(v)) for v in W.ravel().tolist()])
    return cache[k]


def _meet(a: Fraction | None, b: Fraction | None, lower: bool) -> Fraction | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if lower else min(a, b)


@dataclass
class LeafBox:
    """Exact bounds of every variable in a leaf, or why the leaf is empty."""

    x: tuple[list, list]
    z: list[tuple[list, list]]
    h: list[tuple[list, list]]
    empty: str | None = None


def leaf_box(net: ExactNet, xlo: list, xhi: list, path: dict) -> LeafBox:
    """Bounds of a leaf: the ``x`` box met with the path, then exact interval propagation.

    ``path`` maps ``("x", i)`` or ``("z", k, j)`` to ``[lo, hi]`` (``None`` = no bound).
    """
    xlo = [None if v is None else Q(v) for v in xlo]
    xhi = [None if v is None else Q(v) for v in xhi]
    path = {key: (None if lo is None else Q(lo), None if hi is None else Q(hi)) for key, (lo, hi) in path.items()}
    for key, (lo, hi) in path.items():
        if key[0] == "x":
            xlo[key[1]] = _meet(xlo[key[1]], lo, True)
            xhi[key[1]] = _meet(xhi[key[1]], hi, False)
    box = LeafBox((xlo, xhi), [], [])
    for i, (a, b) in enumerate(zip(xlo, xhi)):
        if a is not None and b is not None and a > b:
            box.empty = f"x{i}: empty interval [{a}, {b}]"
            return box
    hlo, hhi = xlo, xhi
    for k in range(net.depth):
        zlo, zhi = _interval_affine(net, k, hlo, hhi)
        for key, (lo, hi) in path.items():
            if key[0] == "z" and key[1] == k:
                zlo[key[2]] = _meet(zlo[key[2]], lo, True)
                zhi[key[2]] = _meet(zhi[key[2]], hi, False)
        box.z.append((zlo, zhi))
        hlo, hhi = [], []
        for j, (a, b) in enumerate(zip(zlo, zhi)):
            if a is not None and b is not None and a > b:
                box.empty = f"z[{k}][{j}]: empty interval [{a}, {b}]"
                return box
            lo, hi = net.pl[k].value_range(a, b)
            hlo.append(lo)
            hhi.append(hi)
        if k == net.depth - 1:
            for j, (lo, hi) in enumerate(zip(hlo, hhi)):
                if (lo is not None and lo > 0) or (hi is not None and hi < 0):
                    box.empty = f"latent unit {j}: its values lie in [{lo}, {hi}], which excludes 0"
                    box.h.append((hlo, hhi))
                    return box
            hlo, hhi = [Q(0)] * len(hlo), [Q(0)] * len(hhi)
        box.h.append((hlo, hhi))
    return box


def _min_dot(r: list[Fraction], lo: list, hi: list) -> Fraction | None:
    total = Q(0)
    for ri, a, b in zip(r, lo, hi):
        if ri > 0:
            if a is None:
                return None
            total += ri * a
        elif ri < 0:
            if b is None:
                return None
            total += ri * b
    return total


def combine(net: ExactNet, box: LeafBox, rows: Sequence[Sequence[Any]], n: int, sizes: Sequence[int]) -> tuple[list, list, list, Fraction] | str:
    """``(rx, rz, rh, d)`` with ``r . v <= d`` on the leaf, or the reason a row is refused."""
    rx = [Q(0)] * n
    rz = [[Q(0)] * m for m in sizes]
    rh = [[Q(0)] * m for m in sizes]
    mus = [[Q(0)] * m for m in sizes]
    d = Q(0)
    for row in rows:
        kind = row[0]
        if kind == "aff":
            k, j, mu = int(row[1]), int(row[2]), _fr(row[3])
            mus[k][j] += mu
            rz[k][j] += mu
            d += mu * net.b[k][j]
        elif kind == "hull":
            k, j, a, c, sense, y = int(row[1]), int(row[2]), _fr(row[3]), _fr(row[4]), row[5], _fr(row[6])
            if y < 0:
                return f"hull row of unit ({k}, {j}) has a negative multiplier {y}"
            zlo, zhi = box.z[k][0][j], box.z[k][1][j]
            if not net.pl[k].line_valid(a, c, sense, zlo, zhi):
                return f"line h {'>=' if sense == 'ge' else '<='} {a} z + {c} is not valid for unit ({k}, {j}) on [{zlo}, {zhi}]"
            sg = 1 if sense == "le" else -1  # le: h - a z <= c ; ge: a z - h <= -c
            rh[k][j] += sg * y
            rz[k][j] -= sg * y * a
            d += sg * y * c
        elif kind == "sum":
            y = _fr(row[1])
            if y < 0:
                return f"sum row has a negative multiplier {y}"
            rx = [v - y for v in rx]
            d -= y
        else:
            return f"unknown row kind {kind!r}"
    for k in range(net.depth):
        if any(mus[k]):
            back = net.WTi[k].matvec(mus[k])
            if k == 0:
                rx = [a - b for a, b in zip(rx, back)]
            else:
                rh[k - 1] = [a - b for a, b in zip(rh[k - 1], back)]
    return rx, rz, rh, d


def _min_all(box: LeafBox, rx: list, rz: list, rh: list) -> Fraction | None:
    total = _min_dot(rx, *box.x)
    for k in range(len(rz)):
        for r, bnd in ((rz[k], box.z[k]), (rh[k], box.h[k])):
            if total is None:
                return None
            part = _min_dot(r, *bnd)
            total = None if part is None else total + part
    return total


def check_leaf(net: ExactNet, box: LeafBox, rows: Sequence[Sequence[Any]], n: int, sizes: Sequence[int]) -> tuple[bool, str, Fraction | None]:
    """Exact check of one Farkas leaf: ``(ok, reason, margin)``."""
    comb = combine(net, box, rows, n, sizes)
    if isinstance(comb, str):
        return False, comb, None
    rx, rz, rh, d = comb
    total = _min_all(box, rx, rz, rh)
    if total is None:
        return False, "the combination leaves a term on an unbounded variable", None
    margin = total - d
    if margin <= 0:
        return False, f"the combination gives no contradiction (margin {float(margin):.3g} <= 0)", margin
    return True, "ok", margin


def implied_bound(net: ExactNet, box: LeafBox, rows: Sequence[Sequence[Any]], n: int, sizes: Sequence[int],
                  k: int, j: int, sense: str) -> Fraction | None:
    """The bound on ``z_kj`` (upper for ``le``, lower for ``ge``) that the rows imply on the box, or ``None``."""
    comb = combine(net, box, rows, n, sizes)
    if isinstance(comb, str):
        return None
    rx, rz, rh, d = comb
    rho = rz[k][j]
    if (sense == "le" and rho <= 0) or (sense == "ge" and rho >= 0):
        return None
    rz = [list(v) for v in rz]
    rz[k][j] = Q(0)
    rest = _min_all(box, rx, rz, rh)
    if rest is None:
        return None
    return (d - rest) / rho


def check_bounds(net: ExactNet, xlo: list, xhi: list, entries: Sequence[Sequence[Any]], n: int, sizes: Sequence[int],
                 allow_sum: bool) -> tuple[dict, str | None]:
    """Check derived bounds in order; return the clamps they give (``path`` form) or the first reason to refuse."""
    clamps: dict = {}
    for e in entries:
        k, j, sense, value, rows = int(e[0]), int(e[1]), e[2], _fr(e[3]), e[4]
        if not allow_sum and any(r[0] == "sum" for r in rows):
            return clamps, "a derived bound uses the sum row outside the binary domain"
        box = leaf_box(net, xlo, xhi, clamps)
        if box.empty is None:
            got = implied_bound(net, box, rows, n, sizes, k, j, sense)
            if got is None or (sense == "le" and got > value) or (sense == "ge" and got < value):
                return clamps, f"derived bound z[{k}][{j}] {'<=' if sense == 'le' else '>='} {value} does not follow from its rows"
        old = clamps.get(("z", k, j), (None, None))
        clamps[("z", k, j)] = (old[0], _meet(old[1], value, False)) if sense == "le" else (_meet(old[0], value, True), old[1])
    return clamps, None


# ------------------------------------------------------------------ the whole certificate
def _domain_box(dom: dict, n: int) -> tuple[list, list]:
    kind = dom["kind"]
    if kind == "box":
        return [_fr(dom["lo"])] * n, [_fr(dom["hi"])] * n
    if kind == "binary":
        return [Q(0)] * n, [Q(1)] * n
    if kind == "nonneg":
        return [Q(0)] * n, [None] * n
    if kind == "reals":
        return [None] * n, [None] * n
    raise ValueError(f"unknown domain kind {kind!r}")


def _cases(cert: dict, net: ExactNet, n: int) -> tuple[list[tuple[list, list, bool]], str | None]:
    """The boxes the trees must close (with the sum row allowed or not), or why the argument fails."""
    dom, nz = cert["domain"], cert["nonzero"]
    lo, hi = _domain_box(dom, n)
    kind = nz["kind"]
    zero_in = all((a is None or a <= 0) and (b is None or b >= 0) for a, b in zip(lo, hi))
    if kind == "binary-sum":
        if dom["kind"] != "binary":
            return [], "the sum row is valid on the binary domain only"
        return [(lo, hi, True)], None
    if kind == "zero-outside-domain":
        return ([(lo, hi, False)], None) if not zero_in else ([], "0 lies in the domain")
    if kind == "enc0-nonzero":
        if not zero_in:
            return [(lo, hi, False)], None
        out = net.exact_forward([Q(0)] * n)
        if all(v == 0 for v in out):
            return [], "enc(0) = 0, so the trees must not cover 0"
        return [(lo, hi, False)], None
    if kind == "cone":
        if not zero_in:
            return [], "the cone argument needs 0 in the domain"
        if any(v != 0 for bk in net.b for v in bk) or not all(p.homogeneous() for p in net.pl):
            return [], "the cone argument needs zero biases and positively homogeneous activations"
        need = {(i, 1) for i in range(n) if hi[i] is None or hi[i] > 0}
        need |= {(i, -1) for i in range(n) if lo[i] is None or lo[i] < 0}
        given = [(int(i), int(s)) for i, s in nz["cases"]]
        if set(given) != need or len(given) != len(cert["trees"]):
            return [], "the cone cases do not cover every coordinate and sign the domain allows"
        boxes = []
        for i, s in given:
            clo = [Q(-1) if (a is None or a < 0) else Q(0) for a in lo]
            chi = [Q(1) if (b is None or b > 0) else Q(0) for b in hi]
            clo[i] = chi[i] = Q(s)
            boxes.append((clo, chi, False))
        return boxes, None
    return [], f"unknown nonzero argument {kind!r}"


def _walk(tree: dict, start: dict) -> Any:
    """Yield ``(path, leaf)`` for every leaf; splits must cover their variable."""
    stack = [(tree, dict(start))]
    while stack:
        node, path = stack.pop()
        if "leaf" in node:
            yield path, node
            continue
        var = node["split"]
        if var[0] == "x":
            key = ("x", int(var[1]))
            cuts = ((None, Q(0)), (Q(1), None))  # binary inputs: x <= 0 or x >= 1
        elif var[0] == "z":
            key = ("z", int(var[1]), int(var[2]))
            beta = _fr(var[3])
            cuts = ((None, beta), (beta, None))
        else:
            raise ValueError(f"unknown split {var!r}")
        for side, (lo, hi) in zip(("le", "ge"), cuts):
            old = path.get(key, (None, None))
            new = dict(path)
            new[key] = (_meet(old[0], lo, True), _meet(old[1], hi, False))
            stack.append((node[side], new))


def check_certificate(cert: dict, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> CheckResult:
    """Re-check a ``proved`` certificate exactly against the encoder's weights."""
    if cert.get("schema") != SCHEMA:
        return CheckResult(False, f"schema {cert.get('schema')!r} is not {SCHEMA}")
    if cert.get("normalise", "none") != "none":
        return CheckResult(False, "only --input-normalise none certificates are defined")
    net = ExactNet.build(weights, biases, cert["activations"])
    n = int(np.asarray(weights[0]).shape[1])
    sizes = [int(np.asarray(W).shape[0]) for W in weights]
    cases, why = _cases(cert, net, n)
    if why is not None:
        return CheckResult(False, why)
    if len(cases) != len(cert["trees"]):
        return CheckResult(False, f"{len(cert['trees'])} trees for {len(cases)} cases")
    if cert["domain"]["kind"] != "binary" and any(_has_x_split(t["root"]) for t in cert["trees"]):
        return CheckResult(False, "x splits are valid on the binary domain only")
    leaves, margins = 0, []
    for (lo, hi, allow_sum), tree in zip(cases, cert["trees"]):
        clamps, why = check_bounds(net, lo, hi, tree.get("bounds", []), n, sizes, allow_sum)
        if why is not None:
            return CheckResult(False, why, leaves)
        for path, leaf in _walk(tree["root"], clamps):
            leaves += 1
            box = leaf_box(net, lo, hi, path)
            if leaf["leaf"] not in ("interval", "farkas"):
                return CheckResult(False, f"leaf {leaves}: kind {leaf['leaf']!r} is not a proof", leaves)
            if leaf["leaf"] == "interval":
                if box.empty is None:
                    return CheckResult(False, f"leaf {leaves}: claimed empty by intervals, but the exact bounds are not", leaves)
                continue
            if box.empty is not None:
                continue  # an empty box needs no multipliers
            rows = leaf["rows"]
            if not allow_sum and any(r[0] == "sum" for r in rows):
                return CheckResult(False, f"leaf {leaves}: uses the sum row outside the binary domain", leaves)
            ok, reason, margin = check_leaf(net, box, rows, n, sizes)
            if not ok:
                return CheckResult(False, f"leaf {leaves}: {reason}", leaves)
            margins.append(margin)
    return CheckResult(True, "every leaf is closed exactly", leaves, min(margins) if margins else None)


def _has_x_split(tree: dict) -> bool:
    stack = [tree]
    while stack:
        node = stack.pop()
        if "split" in node:
            if node["split"][0] == "x":
                return True
            stack += [node["le"], node["ge"]]
    return False


# ------------------------------------------------------------------ files
def sha256_file(path: "str | os.PathLike[str]") -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_certificate(cert: dict, path: "str | os.PathLike[str]") -> None:
    """Write JSON atomically (temp file in the same folder, then rename; the folder is created)."""

    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_text(path, json.dumps(cert, indent=1))


def load_certificate(path: "str | os.PathLike[str]") -> dict:
    with open(path) as fh:
        return json.load(fh)


# ------------------------------------------------------------------ binding a certificate to its model
def model_record(encoder: Any) -> dict | None:
    """The model file the encoder was read from: its provenance record, else path and SHA-256 (``None``: built in Python)."""
    prov = getattr(encoder, "provenance", None)
    if prov is not None:
        return prov.record()
    if getattr(encoder, "source_sha256", None) is not None:
        return {"path": encoder.source_path, "sha256": encoder.source_sha256}
    return None


def binding_record(encoder: Any, normalise: str | None = None) -> dict:
    """What a certificate or report claims about its encoder (``latentcheck recheck`` compares each with the file):
    sizes, activation names, input semantics (with the normalisation actually decided) and the model file."""
    inputs = encoder.inputs.record()
    if normalise is not None and normalise != inputs.get("normalise"):
        inputs = {**inputs, "normalise": normalise, "normalise_from": "option"}
    out = {"sizes": [int(v) for v in encoder.sizes], "activation_names": [layer.activation.name for layer in encoder.layers],
           "inputs": inputs}
    rec = model_record(encoder)
    if rec is not None:
        out["model"] = rec
    return out


def save_bound_encoder(encoder: Any, normalise: str, path: "str | os.PathLike[str]") -> None:
    """Write the encoder a certificate is about as ``.npz`` atomically: ``W0, b0, ...`` at their stored values
    (float16/32/64; other dtypes as their exact float64 widening), ``activations`` and ``latentcheck_normalise``."""
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(encoder.layers):
        for key, exact, src in ((f"W{i}", layer.W, layer.W_src), (f"b{i}", layer.b, layer.b_src)):
            keep = src is not None and np.asarray(src).dtype in (np.float16, np.float32, np.float64)
            arrays[key] = np.asarray(src if keep else exact)
    arrays["activations"] = np.array([layer.activation.name for layer in encoder.layers], dtype=np.str_)
    arrays["latentcheck_normalise"] = np.array(normalise, dtype=np.str_)

    atomic_write_bytes_with(path, lambda fh: np.savez(fh, **arrays), ".npz")
