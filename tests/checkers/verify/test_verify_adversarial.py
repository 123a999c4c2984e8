"""Adversarial soundness cases for ``latentcheck verify`` (and ``falsify``), each with its own ground truth.

The truth is computed here, never with latentcheck's evaluation code:

* **binary** users (``n <= 14``): all ``2^n - 1`` nonzero users, forward pass in ``fractions.Fraction`` with the
  weights taken at their exact stored values; under ``l2`` normalisation the encoder sees ``x / sqrt(k)``
  (``k = 1'x``), computed exactly in ``Q(sqrt k)`` (numbers ``a + b sqrt(k)``, signs decided by squaring);
* **boxes** (``n <= 3``): every pattern of linear pieces of every unit gives a polytope of inputs in the box
  mapped to 0 by affine constraints; a nonzero point exists iff some pattern's polytope has a nonzero vertex
  (a bounded polytope is the hull of its vertices), and vertices are enumerated exactly (every ``n`` rows solved
  in Fractions);
* **p3-eps** (tanh, sigmoid, elu, softplus): ``min over users of |enc(x)|_inf`` with mpmath at 60 digits, and
  ``EPS`` kept at a relative distance ``>= 1e-3`` from it.

A ``proved`` verdict must have no zero user in the truth, a ``refuted`` one must come with a witness the truth
confirms; ``unknown`` is allowed unless a test says the case must be decided. Certificates are re-checked with
the standalone re-checker (``latentcheck.counterexamples.recheck``, Fractions only) and tampered with.
Completeness gaps found by the campaign are ``xfail(strict=True)`` tests at the end, with the reason.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import itertools
import json
import math
from fractions import Fraction as F
from pathlib import Path

import mpmath
import numpy as np
from scipy.optimize import linprog
import pytest
from latentcheck import save_encoder
from latentcheck.checkers.cli.app import main
from latentcheck.checkers.falsify import falsify
from latentcheck.checkers.verify import verify, verify_min_latent
from latentcheck.counterexamples.certificate_l2 import check_l2_certificate
from latentcheck.counterexamples import recheck as standalone
from latentcheck.theorems.encoder import Encoder

TIMEOUT = 10.0
PL = ("relu", "leaky_relu", "identity", "hard_tanh", "relu6")
HOMOGENEOUS = ("relu", "leaky_relu", "identity")
LEAKY = F(1, 100)  # the catalog's leaky_relu: Max(t, t/100)


# ====================================================================== independent ground truth
def _exact(a) -> list:
    """The exact rational values of a float array (1-D or 2-D), from its stored dtype."""
    arr = np.asarray(a)
    if arr.ndim == 2:
        return [[F(*float(v).as_integer_ratio()) for v in row] for row in arr.tolist()]
    return [F(*float(v).as_integer_ratio()) for v in arr.tolist()]


class QS:
    """``a + b sqrt(k)`` with rational ``a, b`` and a fixed integer ``k >= 1``."""

    __slots__ = ("a", "b", "k")

    def __init__(self, a: F, b: F, k: int) -> None:
        self.a, self.b, self.k = F(a), F(b), k

    def __add__(self, o):
        return QS(self.a + o.a, self.b + o.b, self.k) if isinstance(o, QS) else QS(self.a + o, self.b, self.k)

    __radd__ = __add__

    def __mul__(self, c: F):
        return QS(self.a * c, self.b * c, self.k)

    __rmul__ = __mul__

    def sign(self) -> int:
        a, b = self.a, self.b
        if b == 0 or (a >= 0 and b >= 0) or (a <= 0 and b <= 0):
            t = a if b == 0 else (a if a != 0 else b)
            return (t > 0) - (t < 0)
        d = a * a - b * b * self.k  # opposite signs: the larger square wins
        return 0 if d == 0 else ((1 if a > 0 else -1) if d > 0 else (1 if b > 0 else -1))


def _cmp(u, c) -> int:
    """sign(u - c) for ``u`` rational or :class:`QS`."""
    if isinstance(u, QS):
        return (u + (-c)).sign()
    return (u > c) - (u < c)


def _act(name: str, t):
    zero = t * 0
    if name == "identity":
        return t
    if name == "relu":
        return t if _cmp(t, 0) > 0 else zero
    if name == "leaky_relu":
        return t if _cmp(t, 0) > 0 else t * LEAKY
    if name == "hard_tanh":
        return zero + 1 if _cmp(t, 1) >= 0 else (zero - 1 if _cmp(t, -1) <= 0 else t)
    if name == "relu6":
        return zero if _cmp(t, 0) <= 0 else (zero + 6 if _cmp(t, 6) >= 0 else t)
    raise KeyError(name)


def _forward(Wx, bx, acts, x) -> list:
    h = list(x)
    for W, b, a in zip(Wx, bx, acts):
        start = QS(0, 0, h[0].k) if isinstance(h[0], QS) else F(0)
        h = [_act(a, sum((w * v for w, v in zip(row, h)), start) + bi) for row, bi in zip(W, b)]
    return h


def _is_zero(h) -> bool:
    return all((v.sign() == 0) if isinstance(v, QS) else v == 0 for v in h)


def _zero_binary(Wx, bx, acts, bits, l2: bool) -> bool:
    k = sum(bits)
    x = [QS(0, F(v, k), k) for v in bits] if l2 else [F(v) for v in bits]  # x / sqrt(k) = x sqrt(k) / k
    return _is_zero(_forward(Wx, bx, acts, x))


def binary_truth(Ws, bs, acts, l2: bool = False) -> list[tuple]:
    """Every nonzero binary user the encoder maps to exactly 0 (brute force)."""
    Wx, bx = [_exact(W) for W in Ws], [_exact(b) for b in bs]
    n = np.asarray(Ws[0]).shape[1]
    return [bits for bits in itertools.product((0, 1), repeat=n) if any(bits) and _zero_binary(Wx, bx, acts, bits, l2)]


PIECES = {  # (lo, hi, slope, offset) of each linear piece, by hand from the catalog's formulas
    "relu": [(None, F(0), F(0), F(0)), (F(0), None, F(1), F(0))],
    "identity": [(None, None, F(1), F(0))],
    "leaky_relu": [(None, F(0), LEAKY, F(0)), (F(0), None, F(1), F(0))],
    "hard_tanh": [(None, F(-1), F(0), F(-1)), (F(-1), F(1), F(1), F(0)), (F(1), None, F(0), F(1))],
    "relu6": [(None, F(0), F(0), F(0)), (F(0), F(6), F(1), F(0)), (F(6), None, F(0), F(6))],
}


def _solve(A, b):
    n = len(A)
    M = [list(A[i]) + [b[i]] for i in range(n)]
    for c in range(n):
        p = next((r for r in range(c, n) if M[r][c] != 0), None)
        if p is None:
            return None
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [u - f * v for u, v in zip(M[r], M[c])]
    return [M[i][n] / M[i][i] for i in range(n)]


def _dot(a, x):
    return sum((u * v for u, v in zip(a, x)), F(0))


def _nonzero_vertex(ineq, eq, n):
    rows = eq + ineq
    for sel in itertools.combinations(range(len(rows)), n):
        x = _solve([rows[i][0] for i in sel], [rows[i][1] for i in sel])
        if x is not None and any(x) and all(_dot(a, x) <= c for a, c in ineq) and all(_dot(a, x) == c for a, c in eq):
            return x
    return None


def box_truth(Ws, bs, acts, lo: F, hi: F):
    """A nonzero ``x`` in ``[lo, hi]^n`` with ``enc(x) = 0`` exactly, or None (exhaustive over piece patterns)."""
    Wx, bx = [_exact(W) for W in Ws], [_exact(b) for b in bs]
    n = len(Wx[0][0])
    unit = [[F(int(i == j)) for j in range(n)] for i in range(n)]
    box = [(unit[i], F(hi)) for i in range(n)] + [([-v for v in unit[i]], -F(lo)) for i in range(n)]
    choices = [range(len(PIECES[a])) for W, a in zip(Wx, acts) for _ in W]
    for pattern in itertools.product(*choices):
        ineq, A, c, p = list(box), unit, [F(0)] * n, iter(pattern)
        for W, b, a in zip(Wx, bx, acts):
            nA, nc = [], []
            for row, bi in zip(W, b):
                za = [_dot(row, [A[r][j] for r in range(len(row))]) for j in range(n)]
                zc = _dot(row, c) + bi
                plo, phi, s, o = PIECES[a][next(p)]
                if plo is not None:
                    ineq.append(([-v for v in za], zc - plo))
                if phi is not None:
                    ineq.append((za, phi - zc))
                nA.append([s * v for v in za])
                nc.append(s * zc + o)
            A, c = nA, nc
        if any(not any(ra) and rc != 0 for ra, rc in zip(A, c)):
            continue
        x = _nonzero_vertex(ineq, [(ra, -rc) for ra, rc in zip(A, c) if any(ra)], n)
        if x is not None:
            return x
    return None


# ====================================================================== helpers
def _enc(Ws, bs, acts) -> Encoder:
    return Encoder.from_arrays([np.asarray(W) for W in Ws], [np.asarray(b) for b in bs], list(acts))


def _assert_binary(res, Ws, bs, acts, l2=False, must_decide=False):
    truth = binary_truth(Ws, bs, acts, l2)
    assert res.verdict in ("proved", "refuted", "unknown", "proved-float"), res.verdict
    if res.verdict in ("proved", "proved-float"):
        assert not truth, f"{res.verdict} but {truth[0]} is encoded as 0"
    if res.verdict == "refuted":
        x = [F(v) for v in res.counterexample]
        assert all(v in (0, 1) for v in x) and any(x)
        assert tuple(int(v) for v in x) in truth, "the witness is not encoded as exactly 0"
    if must_decide:
        assert res.verdict == ("refuted" if truth else "proved"), res.reason
    return truth


def _assert_box(res, Ws, bs, acts, lo, hi, must_decide=False):
    truth = box_truth(Ws, bs, acts, F(lo), F(hi))
    if res.verdict in ("proved", "proved-float"):
        assert truth is None, f"{res.verdict} but {truth} is encoded as 0"
    if res.verdict == "refuted":
        x = [F(v) for v in res.counterexample]
        assert any(x) and all(F(lo) <= v <= F(hi) for v in x)
        assert _is_zero(_forward([_exact(W) for W in Ws], [_exact(b) for b in bs], acts, x))
    if must_decide:
        assert res.verdict == ("proved" if truth is None else "refuted"), res.reason
    return truth


def _random_net(seed: int, pool, n_range=(1, 9), box=False):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(*n_range))
    if box:
        n = min(n, 3)
    depth = int(rng.integers(1, 3))
    sizes = [n] + [int(rng.integers(1, 4)) for _ in range(depth)]
    kind = ("int", "half", "gauss")[seed % 3]
    acts = [str(rng.choice(pool))] * depth if rng.random() < 0.5 else [str(rng.choice(pool)) for _ in range(depth)]
    if box and sum(sizes[1:]) > 5:  # keep the pattern enumeration small
        acts = [a if len(PIECES[a]) <= 2 else "relu" for a in acts]

    def draw(shape):
        if kind == "int":
            return rng.integers(-2, 3, size=shape).astype(np.float32)
        if kind == "half":
            return (rng.integers(-4, 5, size=shape) / 2).astype(np.float32)
        return rng.standard_normal(shape).astype(np.float32)

    Ws = [draw((sizes[i + 1], sizes[i])) for i in range(depth)]
    bs = [draw((sizes[i + 1],)) if rng.random() < 0.7 else np.zeros(sizes[i + 1], np.float32) for i in range(depth)]
    if depth == 1 and kind != "gauss" and not box and rng.random() < 0.5:  # plant a user: its pre-activations are 0
        u = (rng.random(n) < 0.5).astype(np.float32)
        u[0] = 1.0
        bs[0] = (-(Ws[0].astype(np.float64) @ u)).astype(np.float32)
    return Ws, bs, acts


# ====================================================================== random families with brute-force truth
@pytest.mark.parametrize("seed", range(24))
def test_random_binary_pl_nets(seed: int) -> None:
    """Mixed piecewise-linear nets (relu, leaky_relu, identity, hard_tanh, relu6), n <= 8, planted users."""
    Ws, bs, acts = _random_net(seed, PL)
    _assert_binary(verify(_enc(Ws, bs, acts), "p3", domain="binary", timeout=TIMEOUT), Ws, bs, acts)


@pytest.mark.parametrize("seed", range(16))
def test_random_binary_l2_nets(seed: int) -> None:
    """Positively homogeneous nets with biases under l2 normalisation, truth in Q(sqrt k)."""
    Ws, bs, acts = _random_net(1000 + seed, HOMOGENEOUS)
    res = verify(_enc(Ws, bs, acts), "p3", domain="binary", input_normalise="l2", timeout=TIMEOUT)
    _assert_binary(res, Ws, bs, acts, l2=True)


@pytest.mark.parametrize("seed", range(4))
def test_random_binary_many_items(seed: int) -> None:
    """n from 11 to 13 (up to 8191 users enumerated)."""
    Ws, bs, acts = _random_net(2000 + seed, ("relu", "leaky_relu"), n_range=(11, 14))
    _assert_binary(verify(_enc(Ws, bs, acts), "p3", domain="binary", timeout=TIMEOUT), Ws, bs, acts)


BOXES = [("-1", "1"), ("0", "1"), ("1/2", "2"), ("-2", "-1/3"), ("-1", "0"), ("1", "1")]


@pytest.mark.parametrize("seed", range(12))
def test_random_box_nets(seed: int) -> None:
    """n <= 3 on boxes that contain 0, touch it, or exclude it; truth by exact vertex enumeration."""
    Ws, bs, acts = _random_net(3000 + seed, PL, box=True)
    lo, hi = BOXES[seed % len(BOXES)]
    res = verify(_enc(Ws, bs, acts), "p3", domain=f"box:{lo},{hi}", timeout=TIMEOUT)
    _assert_box(res, Ws, bs, acts, lo, hi)


@pytest.mark.parametrize("seed", range(8))
def test_random_unbounded_domains(seed: int) -> None:
    """reals and nonneg (also with divide:3, which maps them onto themselves), n <= 3, integer or half-integer
    weights. Truth: the box [-10^6, 10^6]^n (or [0, 10^6]^n); a polyhedron of zero-mapped inputs that holds a
    nonzero point holds one with coordinates below Cramer's bound for these sizes (far below 10^6), or 0 and a
    segment from it."""
    rng = np.random.default_rng(11000 + seed)
    n, depth = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    sizes = [n] + [int(rng.integers(1, 3)) for _ in range(depth)]
    acts = [str(rng.choice(["relu", "leaky_relu", "identity", "hard_tanh"])) for _ in range(depth)]
    scale = 2 if seed % 2 else 1
    Ws = [(rng.integers(-2 * scale, 2 * scale + 1, size=(sizes[j + 1], sizes[j])) / scale).astype(np.float32) for j in range(depth)]
    bs = [(rng.integers(-2 * scale, 2 * scale + 1, size=sizes[j + 1]) / scale).astype(np.float32) for j in range(depth)]
    dom = ("reals", "nonneg")[(seed // 2) % 2]
    norm = (None, "divide:3")[seed % 2]
    res = verify(_enc(Ws, bs, acts), "p3", domain=dom, input_normalise=norm, timeout=TIMEOUT)
    truth = box_truth(Ws, bs, acts, F(-10**6) if dom == "reals" else F(0), F(10**6))
    if res.verdict in ("proved", "proved-float"):
        assert truth is None, f"{res.verdict} but {truth} is encoded as 0"
    if res.verdict == "refuted":
        x = [F(v) for v in res.counterexample]
        seen = [v / 3 for v in x] if norm else x
        assert any(x) and (dom == "reals" or min(x) >= 0)
        assert _is_zero(_forward([_exact(W) for W in Ws], [_exact(b) for b in bs], acts, seen))


# ====================================================================== hand-built binary cases
def test_zero_only_at_the_full_user_boundary() -> None:
    """relu(-1'x + n): pre-activation exactly 0 only at the full user (n = 12), positive elsewhere."""
    n = 12
    Ws, bs = [np.full((1, n), -1.0, np.float32)], [np.array([n], np.float32)]
    for act in ("relu", "leaky_relu", "identity"):
        res = verify(_enc(Ws, bs, [act]), "p3", domain="binary", timeout=TIMEOUT)
        assert _assert_binary(res, Ws, bs, [act], must_decide=True) == [(1,) * n]


def test_two_units_meet_only_at_one_user() -> None:
    """relu(1 - x_2 - ... - x_6), relu(1'x - 2), relu(x_1 - x_2): all 0 iff some of x_2..x_6 is 1, at most 2 items
    and x_1 <= x_2 (truth by enumeration)."""
    n = 6
    W = np.array([[0.0] + [-1.0] * (n - 1), [1.0] * n, [1.0, -1.0, 0, 0, 0, 0]], np.float32)
    b = np.array([1.0, -2.0, 0.0], np.float32)
    res = verify(_enc([W], [b], ["relu"]), "p3", domain="binary", timeout=TIMEOUT)
    assert _assert_binary(res, [W], [b], ["relu"], must_decide=True)


def test_float_sum_zero_exact_sum_not() -> None:
    """1e16 x_1 + x_2 - 1e16 x_3 rounds to 0 in float64 at (1, 1, 1) (1e16 + 1 rounds to 1e16) but is 1 exactly,
    and x_1 - 2 x_2 + x_3 is 0 there: a float search sees a zero user where there is none. Never refuted."""
    Ws, bs = [np.array([[1e16, 1.0, -1e16], [1.0, -2.0, 1.0]])], [np.zeros(2)]
    assert float(np.float64(1e16) + np.float64(1.0) - np.float64(1e16)) == 0.0
    for act in ("identity", "leaky_relu"):
        res = verify(_enc(Ws, bs, [act]), "p3", domain="binary", timeout=TIMEOUT)
        assert _assert_binary(res, Ws, bs, [act]) == []
        assert res.verdict != "refuted"


def test_exact_zero_where_float_sum_is_not() -> None:
    """x_1 + 1e16 x_2 - 1e16 x_3 - x_4 is exactly 0 at (1, 1, 1, 1), -1 in left-to-right float64."""
    Ws, bs = [np.array([[1.0, 1e16, -1e16, -1.0]])], [np.zeros(1)]
    res = verify(_enc(Ws, bs, ["identity"]), "p3", domain="binary", timeout=TIMEOUT)
    assert (1, 1, 1, 1) in _assert_binary(res, Ws, bs, ["identity"])


def test_float64_weights_not_float32() -> None:
    """0.1 + 0.2 - 0.3 in exact float64 values is 2^-54, not 0: no user of identity([0.1, 0.2, -0.3] x) is 0."""
    Ws, bs = [np.array([[0.1, 0.2, -0.3]])], [np.zeros(1)]
    res = verify(_enc(Ws, bs, ["identity"]), "p3", domain="binary", timeout=TIMEOUT)
    assert _assert_binary(res, Ws, bs, ["identity"]) == []
    assert res.verdict != "refuted"


@pytest.mark.parametrize("scale", [1e6, 1e-30, 1e-42])
def test_extreme_weight_scales_with_a_planted_user(scale: float) -> None:
    """relu(s (x_1 - x_2) ...): user (1, 1, 0) planted at scale s (1e-42 is a float32 subnormal)."""
    W = (np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]], np.float32) * np.float32(scale)).astype(np.float32)
    b = np.zeros(2, np.float32)
    res = verify(_enc([W], [b], ["relu"]), "p3", domain="binary", timeout=TIMEOUT)
    truth = _assert_binary(res, [W], [b], ["relu"])
    assert (1, 1, 0) in truth


def test_degenerate_units() -> None:
    """An all-zero weight row with bias 0 (always 0), duplicated units, n = 1 and latent dimension 1."""
    cases = [
        ([np.array([[0.0, 0.0], [1.0, -1.0], [1.0, -1.0]], np.float32)], [np.zeros(3, np.float32)], ["relu"]),
        ([np.array([[0.0, 0.0]], np.float32)], [np.array([0.5], np.float32)], ["relu"]),
        ([np.array([[1.0]], np.float32)], [np.array([-1.0], np.float32)], ["relu"]),
        ([np.array([[1.0]], np.float32)], [np.array([-1.0], np.float32)], ["identity"]),
        ([np.array([[2.0]], np.float32)], [np.array([-1.0], np.float32)], ["identity"]),
        ([np.array([[1.0]], np.float32), np.array([[1.0]], np.float32)], [np.zeros(1, np.float32)] * 2, ["relu", "relu"]),
    ]
    for Ws, bs, acts in cases:
        res = verify(_enc(Ws, bs, acts), "p3", domain="binary", timeout=TIMEOUT)
        _assert_binary(res, Ws, bs, acts, must_decide=True)


# ====================================================================== l2 normalisation
@pytest.mark.parametrize("n, expect", [(3, False), (4, True)])
def test_l2_leaky_zero_only_at_a_perfect_square(n: int, expect: bool) -> None:
    """leaky_relu(-1'x / sqrt(k) + 2) = leaky_relu(2 - sqrt(k)): exactly 0 at k = 4 only."""
    Ws, bs = [np.full((1, n), -1.0, np.float32)], [np.array([2.0], np.float32)]
    res = verify(_enc(Ws, bs, ["leaky_relu"]), "p3", domain="binary", input_normalise="l2", timeout=TIMEOUT)
    truth = _assert_binary(res, Ws, bs, ["leaky_relu"], l2=True, must_decide=True)
    assert bool(truth) is expect


@pytest.mark.parametrize("n, b, expect", [(8, 3.0, False), (9, 3.0, True),
                                          (9, float(np.float32(3.0000002)), False), (10, float(np.float32(3.0000002)), True)])
def test_l2_relu_boundary_and_hair(n: int, b: float, expect: bool) -> None:
    """relu(b - sqrt(k)) under l2: 0 iff k >= b^2; b = 3 puts the boundary exactly at k = 9, and the float32
    above 3 (3 + 2^-22) misses k = 9 by 2.4e-7 (a hair)."""
    Ws, bs = [np.full((1, n), -1.0, np.float32)], [np.array([b], np.float32)]
    res = verify(_enc(Ws, bs, ["relu"]), "p3", domain="binary", input_normalise="l2", timeout=TIMEOUT)
    truth = _assert_binary(res, Ws, bs, ["relu"], l2=True, must_decide=True)
    assert bool(truth) is expect


@pytest.mark.parametrize("act", ["identity", "leaky_relu", "relu"])
def test_l2_float_sqrt2_trap(act: str) -> None:
    """b = fl(sqrt 2): b - sqrt(2) is 0 in float64 but not exactly (sqrt 2 is irrational), so a 2-item user is
    never encoded as 0; with relu, 3 items are (b < sqrt 3)."""
    Ws, bs = [np.full((1, 3), -1.0)], [np.array([math.sqrt(2.0)])]
    assert float(np.float64(math.sqrt(2.0)) - np.sqrt(np.float64(2.0))) == 0.0
    res = verify(_enc(Ws, bs, [act]), "p3", domain="binary", input_normalise="l2", timeout=TIMEOUT)
    truth = _assert_binary(res, Ws, bs, [act], l2=True)
    assert all(sum(u) != 2 for u in truth)
    assert bool(truth) is (act == "relu")


# ====================================================================== boxes
def test_box_zero_only_at_a_corner() -> None:
    """relu(x_1 + x_2 - 2 + ...): on [0, 1]^2 the zero set of (relu(2 - x_1 - x_2), relu(x_1 - x_2)) is the corner
    (1, 1) only; on [0, 1/2]^2 it is empty; on [-1, 1]^2 it is bigger."""
    W = np.array([[-1.0, -1.0], [1.0, -1.0]], np.float32)
    b = np.array([2.0, 0.0], np.float32)
    for lo, hi, zero in (("0", "1", True), ("0", "1/2", False), ("-1", "1", True), ("1", "1", True), ("-1", "-1", False)):
        res = verify(_enc([W], [b], ["relu"]), "p3", domain=f"box:{lo},{hi}", timeout=TIMEOUT)
        truth = _assert_box(res, [W], [b], ["relu"], lo, hi, must_decide=True)
        assert (truth is not None) is zero


def test_box_zero_outside_the_box_only() -> None:
    """identity(x_1 + x_2 - 3) is 0 on the line x_1 + x_2 = 3, which misses [-1, 1]^2 and meets [1, 2]^2."""
    W, b = np.array([[1.0, 1.0]], np.float32), np.array([-3.0], np.float32)
    for lo, hi in (("-1", "1"), ("1", "2")):
        res = verify(_enc([W], [b], ["identity"]), "p3", domain=f"box:{lo},{hi}", timeout=TIMEOUT)
        _assert_box(res, [W], [b], ["identity"], lo, hi, must_decide=True)


@pytest.mark.parametrize("domain", ["box:-1e308,1e308", "box:-1e308,-1e300", "box:0,1e308"])
def test_huge_box_and_weights_no_crash(domain: str) -> None:
    """Found by this campaign: weights near 1e30 on a box near the float64 range overflowed the float search to
    NaN, and ``Fraction(nan)`` in the candidate check raised (exit 4). A non-finite candidate is now dropped."""
    W = np.array([[1e30, -1e30, 1.0], [1.0, 1.0, 1.0]], np.float32)
    b = np.array([1e30, -3.0], np.float32)
    with np.errstate(all="ignore"):
        res = verify(_enc([W], [b], ["relu"]), "p3", domain=domain, timeout=TIMEOUT)
    assert res.verdict in ("proved", "refuted", "unknown", "proved-float")
    lo, hi = (F(v) for v in domain[4:].split(","))
    if res.verdict == "refuted":
        x = [F(v) for v in res.counterexample]
        assert any(x) and all(lo <= v <= hi for v in x)
        assert _is_zero(_forward([_exact(W)], [_exact(b)], ["relu"], x))
    # a zero exists in each box: relu(w (x_1 - x_2 + 1) + x_3) = relu(1'x - 3) = 0 at (0, 3/2, 0) in [0, 1e308]^3,
    # at (-1e308, -1e300, -1e300) in the negative box (w ~ 1e30), so "proved" would be false
    assert res.verdict not in ("proved", "proved-float"), res.reason


def test_box_point_domains() -> None:
    """box:c,c is the single point (c, ..., c): decided by evaluating it (c != 0)."""
    W, b = np.array([[1.0, -1.0], [1.0, 1.0]], np.float32), np.array([0.0, -1.0], np.float32)
    for c in ("1/2", "1", "-1", "3"):
        res = verify(_enc([W], [b], ["relu"]), "p3", domain=f"box:{c},{c}", timeout=TIMEOUT)
        _assert_box(res, [W], [b], ["relu"], c, c, must_decide=True)


# ====================================================================== p3-eps (smooth, one layer)
def _act_mp(name: str, t):
    return {"tanh": mpmath.tanh, "sigmoid": lambda u: 1 / (1 + mpmath.exp(-u)), "elu": lambda u: u if u > 0 else mpmath.expm1(u),
            "softplus": lambda u: mpmath.log1p(mpmath.exp(u))}[name](t)


def _min_latent(W, b, act, l2, k_min=1):
    with mpmath.workdps(60):
        best = None
        for bits in itertools.product((0, 1), repeat=W.shape[1]):
            k = sum(bits)
            if k < k_min:
                continue
            sc = mpmath.sqrt(k) if l2 else 1
            v = max(abs(_act_mp(act, mpmath.mpf(sum((mpmath.mpf(float(w)) for w, x in zip(row, bits) if x), mpmath.mpf(0))) / sc
                                 + mpmath.mpf(float(bj)))) for row, bj in zip(W, b))
            best = v if best is None or v < best else best
        return best


@pytest.mark.parametrize("seed", range(12))
def test_p3_eps_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(4000 + seed)
    act = ("tanh", "sigmoid", "elu", "softplus")[seed % 4]
    n, m = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    W = rng.standard_normal((m, n)).astype(np.float32)
    b = (rng.standard_normal(m) - (4 if act in ("sigmoid", "softplus") else 0)).astype(np.float32)
    l2 = seed % 3 == 0
    k_min, r_text = ((2, "7/5") if seed % 4 == 1 else (1, "1"))  # |x|_2 >= 7/5 <=> k >= 2
    mn = _min_latent(W, b, act, l2, k_min)
    if mn is None:
        pytest.skip("no user with enough items")
    rel = (F(1, 2), F(999, 1000), F(1001, 1000), F(2))[seed % 4]
    eps = F(mpmath.nstr(mn * mpmath.mpf(rel.numerator) / rel.denominator, 20)).limit_denominator(10**15)
    res = verify(_enc([W], [b], [act]), f"p3-eps:{eps},{r_text}", domain="binary", input_normalise="l2" if l2 else "none",
                 timeout=TIMEOUT)
    violated = mn < mpmath.mpf(eps.numerator) / eps.denominator
    assert res.verdict in ("proved", "refuted", "unknown")
    if res.verdict == "proved":
        assert not violated
    if res.verdict == "refuted":
        assert violated
        x = [int(F(v)) for v in res.counterexample]
        assert sum(x) >= k_min and set(x) <= {0, 1}
        assert _min_latent(W, b, act, l2, k_min) is not None
    if rel in (F(1, 2), F(2)):  # far from the boundary: must be decided
        assert res.verdict == ("refuted" if violated else "proved"), res.reason


def test_p3_eps_at_a_float_of_the_minimum() -> None:
    """tanh(2 x_1 + 2 x_2 - 1): one item gives tanh(1), two give tanh(3), so the minimum is tanh(1); EPS is the
    float64 nearest tanh(1), a hair above or below it: a decided verdict must be on the right side."""
    W, b = np.array([[2.0, 2.0]], np.float32), np.array([-1.0], np.float32)  # k=1: tanh(1); k=2: tanh(3)
    true_min = mpmath.tanh(1)
    eps = F(float(true_min))
    res = verify(_enc([W], [b], ["tanh"]), f"p3-eps:{eps}", domain="binary", timeout=TIMEOUT)
    with mpmath.workdps(60):
        violated = mpmath.tanh(1) < mpmath.mpf(eps.numerator) / eps.denominator
    assert res.verdict in ("proved", "refuted", "unknown")
    if res.verdict != "unknown":
        assert res.verdict == ("refuted" if violated else "proved")


@pytest.mark.parametrize("act, eps", [("tanh", "1"), ("tanh", "2"), ("sigmoid", "1"), ("sigmoid", "11/10")])
def test_p3_eps_box_with_eps_above_the_range(act: str, eps: str, tmp_path: Path) -> None:
    """Found by this campaign: on a box, EPS >= sup |s| (tanh, sigmoid: 1) leaves the window {t : |s(t)| < EPS}
    without a finite end, the case LP without rows, and scipy's linprog raised (exit 4, "internal error").
    Every point of the box with |x|_2 >= 1 is a witness: refuted, exit 1."""
    W, b = np.array([[1.0, -1.0]], np.float32), np.array([0.5], np.float32)
    res = verify(_enc([W], [b], [act]), f"p3-eps:{eps}", domain="box:-1,1", timeout=TIMEOUT)
    assert res.verdict == "refuted", res.reason
    x = [F(v) for v in res.counterexample]
    assert all(-1 <= v <= 1 for v in x) and sum(v * v for v in x) >= 1
    with mpmath.workdps(50):
        z = sum((mpmath.mpf(float(w)) * mpmath.mpf(v.numerator) / v.denominator for w, v in zip(W[0], x)), mpmath.mpf(0))
        assert abs(_act_mp(act, z + mpmath.mpf(float(b[0])))) < mpmath.mpf(F(eps).numerator) / F(eps).denominator
    path = _npz(tmp_path / "e.npz", W0=W, b0=b, activations=np.array([act]))
    r = _cli(["--weights", path, "--domain", "box:-1,1", "--property", f"p3-eps:{eps}", "--timeout", "5"])
    assert r.exit_code == 1, (r.stdout, r.stderr)


@pytest.mark.parametrize("seed", range(6))
def test_min_latent_brackets_the_brute_force_minimum(seed: int) -> None:
    """--min-latent: lower <= min over nonzero users of |enc(x)|_inf <= upper (mpmath at 60 digits)."""
    rng = np.random.default_rng(17000 + seed)
    act, l2 = ("tanh", "sigmoid", "elu", "softplus")[seed % 4], seed % 3 == 0
    n, m = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    W = rng.standard_normal((m, n)).astype(np.float32)
    b = (rng.standard_normal(m) - (3 if act in ("sigmoid", "softplus") else 0)).astype(np.float32)
    true_min = _min_latent(W, b, act, l2)
    res = verify_min_latent(_enc([W], [b], [act]), domain="binary", input_normalise="l2" if l2 else None, timeout=TIMEOUT)
    got = res.min_latent or {}
    with mpmath.workdps(60):
        if got.get("lower") is not None:
            lo = F(got["lower"])
            assert mpmath.mpf(lo.numerator) / lo.denominator <= true_min
        if got.get("upper") is not None:
            up = F(got["upper"])
            assert true_min <= mpmath.mpf(up.numerator) / up.denominator
    assert res.verdict == "proved" and got.get("lower") is not None, res.reason


# ====================================================================== certificates: re-check and tamper
def _recheck(cert: dict, enc_path: Path, tmp: Path) -> tuple[int, str]:
    path = tmp / "cert.json"
    path.write_text(json.dumps(cert))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = standalone.main([str(path), "--encoder", str(enc_path)])
    return code, buf.getvalue()


def _box_net():
    rng = np.random.default_rng(5)
    W0, b0 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    W1, b1 = rng.standard_normal((2, 4)).astype(np.float32), (rng.standard_normal(2) + 0.3).astype(np.float32)
    return [W0, W1], [b0, b1], ["relu", "relu"]


def test_certificate_tampering_is_rejected(tmp_path: Path) -> None:
    """A proved box certificate (P3 holds on [-1, 1]^3 by the truth, fails on [-2, 2]^3) re-checks; tampered
    copies that claim something false, or that break a multiplier's sign or a bound, are rejected."""
    Ws, bs, acts = _box_net()
    assert box_truth(Ws, bs, acts, F(-1), F(1)) is None
    assert box_truth(Ws, bs, acts, F(-2), F(2)) is not None
    enc = _enc(Ws, bs, acts)
    res = verify(enc, "p3", domain="box:-1,1", timeout=30)
    assert res.verdict == "proved", res.reason
    enc_path = tmp_path / "encoder.npz"
    save_encoder(enc, enc_path)
    cert = copy.deepcopy(res.certificate)
    cert["encoder_sha256"] = hashlib.sha256(enc_path.read_bytes()).hexdigest()
    assert _recheck(cert, enc_path, tmp_path)[0] == 0

    def rejected(mutate) -> None:
        bad = copy.deepcopy(cert)
        mutate(bad)
        code, out = _recheck(bad, enc_path, tmp_path)
        assert code == 1 and out.startswith("REJECTED"), out

    for lo, hi in (("-2", "2"), ("-1", "11/10")):
        rejected(lambda c: c.__setitem__("domain", {"kind": "box", "lo": lo, "hi": hi}))
    rejected(lambda c: c.__setitem__("domain", {"kind": "reals"}))
    rejected(lambda c: c.__setitem__("activation_names", ["leaky_relu", "relu"]))
    rejected(lambda c: c["activations"][1].__setitem__("slope_left", "1/100"))
    rejected(lambda c: c.__setitem__("normalise", "l2"))
    rejected(lambda c: c.__setitem__("trees", []))
    rejected(lambda c: c["trees"][0].__setitem__("root", {"leaf": "interval"}))
    # every hull multiplier made negative, and every derived bound tightened by 1, one at a time
    hull_rows = [row for tree in cert["trees"] for entry in tree["bounds"] for row in entry[4] if row[0] == "hull"]
    leaf_rows = []

    def collect(node):
        if "rows" in node:
            leaf_rows.extend(r for r in node["rows"] if r[0] == "hull")
        for side in ("le", "ge"):
            if isinstance(node.get(side), dict):
                collect(node[side])

    for tree in cert["trees"]:
        collect(tree["root"])
    assert hull_rows or leaf_rows or cert["trees"][0]["bounds"]
    for ti, tree in enumerate(cert["trees"]):
        for bi, entry in enumerate(tree["bounds"]):
            def tighten(c, ti=ti, bi=bi):
                e = c["trees"][ti]["bounds"][bi]
                e[3] = str(F(e[3]) + (1 if e[2] == "ge" else -1))
            rejected(tighten)
            for ri, row in enumerate(entry[4]):
                if row[0] == "hull" and F(row[6]) > 0:
                    rejected(lambda c, ti=ti, bi=bi, ri=ri: c["trees"][ti]["bounds"][bi][4][ri].__setitem__(
                        6, str(-F(c["trees"][ti]["bounds"][bi][4][ri][6]))))
    # another model's encoder file (a different SHA-256), and the same file with a weight changed and re-hashed
    other = tmp_path / "other.npz"
    save_encoder(_enc([Ws[0] * 2, Ws[1]], bs, acts), other)
    assert _recheck(cert, other, tmp_path)[0] == 1
    arrays = dict(np.load(enc_path))
    arrays["W1"] = (arrays["W1"] - 2.0).astype(arrays["W1"].dtype)
    assert box_truth([arrays["W0"], arrays["W1"]], [arrays["b0"], arrays["b1"]], acts, F(-1), F(1)) is not None
    forged = tmp_path / "forged.npz"
    np.savez(forged, **arrays)
    bad = copy.deepcopy(cert)
    bad["encoder_sha256"] = hashlib.sha256(forged.read_bytes()).hexdigest()
    assert _recheck(bad, forged, tmp_path)[0] == 1


def test_l2_certificate_tampering_is_rejected(tmp_path: Path) -> None:
    """relu(3 - sqrt(k)) on 8 items is never 0 (k <= 8 < 9); the proof's certificate re-checks, and one that claims
    9 items (where the full user is 0) is rejected."""
    n = 8
    Ws, bs = [np.full((1, n), -1.0, np.float32)], [np.array([3.0], np.float32)]
    enc = _enc(Ws, bs, ["relu"])
    res = verify(enc, "p3", domain="binary", input_normalise="l2", timeout=TIMEOUT)
    assert res.verdict == "proved" and not binary_truth(Ws, bs, ["relu"], l2=True)
    enc_path = tmp_path / "encoder.npz"
    save_encoder(Encoder.from_arrays(Ws, bs, ["relu"]), enc_path, meta={"normalise": "l2"})
    cert = copy.deepcopy(res.certificate)
    cert["encoder_sha256"] = hashlib.sha256(enc_path.read_bytes()).hexdigest()
    code, out = _recheck(cert, enc_path, tmp_path)
    assert code == 0, out
    W9 = [np.full((1, 9), -1.0, np.float32)]
    assert binary_truth(W9, bs, ["relu"], l2=True) == [(1,) * 9]
    nine = tmp_path / "nine.npz"
    save_encoder(Encoder.from_arrays(W9, bs, ["relu"]), nine, meta={"normalise": "l2"})
    bad = copy.deepcopy(cert)
    bad["n"] = 9
    bad["sizes"] = [9, 1]
    bad["encoder_sha256"] = hashlib.sha256(nine.read_bytes()).hexdigest()
    assert _recheck(bad, nine, tmp_path)[0] == 1  # k = 9 not covered
    for s_hi in ("3", "301/100"):  # the cover stretched to k = 9 with a valid s range: the unit argument fails there
        stretched = copy.deepcopy(bad)
        stretched["cover"][-1]["k"][1], stretched["cover"][-1]["s"][1] = 9, s_hi
        code, out = _recheck(stretched, nine, tmp_path)
        assert code == 1 and out.startswith("REJECTED"), out


def _cert_for(Ws, bs, acts, domain: str, tmp: Path, name: str, normalise: str | None = None):
    enc = _enc(Ws, bs, acts)
    res = verify(enc, "p3", domain=domain, input_normalise=normalise, timeout=TIMEOUT)
    path = tmp / f"{name}.npz"
    save_encoder(Encoder.from_arrays(Ws, bs, acts), path, meta={"normalise": normalise} if normalise else None)
    cert = copy.deepcopy(res.certificate) if res.certificate else None
    if cert is not None:
        cert["encoder_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return res, cert, path


def test_recheck_formula_form_must_be_the_formula(tmp_path: Path) -> None:
    """Found by this campaign: the standalone re-checker took a formula activation's piecewise-linear form from
    the certificate. A proof for ``Abs(t) + 1`` (never 0) relabelled ``Abs(t) - 1`` was accepted ("OK: P3 holds")
    for an encoder that maps a nonzero input of the box to 0. The form is now re-derived from the formula."""
    W, b = np.array([[1.0, 1.0], [1.0, -1.0]], np.float32), np.array([0.5, 0.25], np.float32)
    # Abs(t) - 1 = 0 iff |z| = 1: z_1 = x_1 + x_2 + 1/2 = 1, z_2 = x_1 - x_2 + 1/4 = -1 at x = (-3/8, 7/8)
    x = [F(-3, 8), F(7, 8)]
    assert abs(x[0] + x[1] + F(1, 2)) == 1 and abs(x[0] - x[1] + F(1, 4)) == 1
    res, cert, _ = _cert_for([W], [b], ["Abs(t) + 1"], "box:-1,1", tmp_path, "plus")
    assert res.verdict == "proved" and cert is not None
    _, _, minus = _cert_for([W], [b], ["Abs(t) - 1"], "box:0,2", tmp_path, "minus")
    forged = copy.deepcopy(cert)
    forged["activation_names"] = ["Abs(t) - 1"]
    forged["encoder_sha256"] = hashlib.sha256(minus.read_bytes()).hexdigest()
    code, out = _recheck(forged, minus, tmp_path)
    assert code == 1 and "not that formula" in out, out
    # genuine certificates of formula activations still re-check, hidden and latent
    res, cert, path = _cert_for([W], [b], ["Abs(t) - 1"], "box:0,2", tmp_path, "genuine")
    assert res.verdict == "proved" and _recheck(cert, path, tmp_path)[0] == 0
    Ws = [np.array([[1.0, 1.0], [2.0, -1.0]], np.float32), np.array([[1.0, -1.0]], np.float32)]
    bs = [np.array([-0.5, 0.25], np.float32), np.array([3.0], np.float32)]
    res, cert, path = _cert_for(Ws, bs, ["min(Max(0, t), Max(0, 2 - t))", "Max(0, t - 1)"], "box:-1,1", tmp_path, "tent")
    assert res.verdict == "proved", res.reason
    code, out = _recheck(cert, path, tmp_path)
    assert code == 0 and "re-derived from its formula" in out, out


HAND = {  # formula -> the same function written by hand in Python on Fractions
    "Max(0, t - 1)": lambda t: max(F(0), t - 1),
    "Abs(t) - 1": lambda t: abs(t) - 1,
    "min(Max(0, t), Max(0, 2 - t))": lambda t: min(max(F(0), t), max(F(0), 2 - t)),
    "Max(t, 0.01*t)": lambda t: max(t, t / 100),
    "Max(-1, Min(1, 3*t/2 - 1/3))": lambda t: max(F(-1), min(F(1), F(3, 2) * t - F(1, 3))),
    "Abs(Abs(t) - 1) - 1/2": lambda t: abs(abs(t) - 1) - F(1, 2),
    "-Min(t, -t, 1/3)": lambda t: -min(t, -t, F(1, 3)),
    "2**-1*t + 1e-3": lambda t: t / 2 + F(1, 1000),
}


@pytest.mark.parametrize("text", sorted(HAND))
def test_recheck_formula_pl_by_hand(text: str) -> None:
    """The re-checker's form of a formula against the formula written by hand, at every knot of the form, at
    many exact points and far beyond the outer knots (a piecewise-linear function is fixed by its values at its
    knots and its end slopes)."""
    form = standalone.formula_pl(text)
    for p in set(form[0]) | {F(k, 7) for k in range(-70, 71)} | {form[0][0] - 1000, form[0][-1] + 1000}:
        assert _fval_form(form, p) == HAND[text](p), (text, p)


def _fval_form(form, t):
    """The form's value at ``t``, written apart from the re-checker's: as the sum of its left end's line and the
    slope changes at each knot to the left of ``t`` (a piecewise-linear function is its left line plus hinges)."""
    K, V, sl, sr = form
    slopes = [sl] + [(V[i + 1] - V[i]) / (K[i + 1] - K[i]) for i in range(len(K) - 1)] + [sr]
    value = V[0] + sl * (t - K[0])
    for i, k in enumerate(K):
        if t > k:
            value += (slopes[i + 1] - slopes[i]) * (t - k)
    return value


@pytest.mark.parametrize("text", ["Max(0, t)*Max(0, t)", "t**2", "sin(t)", "t/t", "Max(0, t", "Max()", "0x10*t", "__import__"])
def test_recheck_formula_outside_the_language_is_rejected(text: str) -> None:
    with pytest.raises(standalone.Rejected):
        standalone.formula_pl(text)


def test_report_with_edited_weights_needs_the_model(tmp_path: Path) -> None:
    """A falsify report whose embedded weights and witness were edited together re-checks against the embedded
    weights (by design); the campaign found the OK came without a word about the model file. Now a note says
    the embedded weights are not bound to it, and ``--model`` rejects the witness."""
    f32 = np.float32
    W, b = np.array([[1, -1], [2, 1]], f32), np.array([0, -1], f32)
    model = _npz(tmp_path / "m.npz", W0=W, b0=b, activations=np.array(["relu"]))
    assert binary_truth([W], [b], ["relu"]) == [(0, 1)]
    out = tmp_path / "fo"
    code = 0
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(["falsify", "--property", "p3", "--weights", model, "--domain", "binary", "--budget", "1", "--out", str(out), "--no-plots"])
        except SystemExit as exc:
            code = exc.code
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    report["weights"][0]["W"], report["weights"][0]["b"] = [["1", "-1"], ["-1", "-1"]], ["0", "1"]
    for c in report["counterexamples"]:
        c["witness"]["x"] = ["1", "1"]  # 0 under the edited weights, not under m.npz
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(report))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = standalone.main([str(forged)])
    assert code == 0 and "not bound to the model file" in buf.getvalue(), buf.getvalue()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = standalone.main([str(forged), "--model", model])
    assert code == 1 and "REJECTED" in buf.getvalue(), buf.getvalue()


# ====================================================================== CLI: bad input is exit 2, one line
class _Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.exit_code, self.stdout, self.stderr = code, out, err


def _cli(args: list[str]) -> _Run:
    """``latentcheck verify ARGS`` through the console entry point's guard (exit codes, one-line errors)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["verify", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return _Run(code, out.getvalue(), err.getvalue())


def _npz(path: Path, **arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize("case", ["nan", "inf_bias", "shape", "complex", "lo_gt_hi", "box_nan", "box_inf", "eps0",
                                  "eps_nan", "timeout0", "normalise", "sphere", "p2"])
def test_cli_bad_input_is_exit_2(case: str, tmp_path: Path) -> None:
    f32 = np.float32
    good = _npz(tmp_path / "good.npz", W0=np.array([[1, -1]], f32), b0=np.zeros(1, f32), activations=np.array(["relu"]))
    weights = {
        "nan": dict(W0=np.array([[1, np.nan]], f32), b0=np.zeros(1, f32)),
        "inf_bias": dict(W0=np.array([[1, 1]], f32), b0=np.array([-np.inf], f32)),
        "shape": dict(W0=np.ones((2, 3), f32), b0=np.zeros(2, f32), W1=np.ones((1, 3), f32), b1=np.zeros(1, f32)),
        "complex": dict(W0=np.array([[1 + 1j, 1]]), b0=np.array([0j])),
    }
    args = {"lo_gt_hi": ["--domain", "box:1,0"], "box_nan": ["--domain", "box:nan,1"], "box_inf": ["--domain", "box:0,inf"],
            "eps0": ["--property", "p3-eps:0"], "eps_nan": ["--property", "p3-eps:nan"], "timeout0": ["--timeout", "0"],
            "normalise": ["--input-normalise", "divide:0"], "sphere": ["--domain", "sphere"], "p2": ["--property", "p2"]}
    if case in weights:
        path = _npz(tmp_path / f"{case}.npz", **weights[case], activations=np.array(["relu"] * (len(weights[case]) // 2)))
        r = _cli(["--weights", path, "--domain", "binary", "--timeout", "5"])
    else:
        r = _cli(["--weights", good, "--domain", "binary", "--timeout", "5", *args[case]])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("error: ") and r.stderr.strip().count("\n") == 0, r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_cli_exit_codes_match_the_truth(tmp_path: Path) -> None:
    """relu(x_1 - x_2) on binary: (1, 1) is 0 -> exit 1; relu(x_1 + x_2) -> exit 0."""
    f32 = np.float32
    for W, code in (([[1, -1]], 1), ([[1, 1]], 0)):
        path = _npz(tmp_path / f"e{code}.npz", W0=np.array(W, f32), b0=np.zeros(1, f32), activations=np.array(["relu"]))
        assert bool(binary_truth([np.array(W, f32)], [np.zeros(1, f32)], ["relu"])) is (code == 1)
        r = _cli(["--weights", path, "--domain", "binary", "--timeout", "5", "--json"])
        assert r.exit_code == code, (r.stdout, r.stderr)
        assert json.loads(r.stdout)["verdict"] == ("refuted" if code else "proved")


# ====================================================================== falsify: a finding must be real
@pytest.mark.parametrize("seed", range(3))
def test_falsify_findings_are_real(seed: int) -> None:
    Ws, bs, acts = _random_net(5000 + 3 * seed, ("relu", "leaky_relu"))
    truth = binary_truth(Ws, bs, acts)
    res = falsify(_enc(Ws, bs, acts), "p3", domain="binary", budget=0.5, seed=0, restarts=8).to_json()
    if res["status"] == "none-exists":
        assert not truth
    for ce in res["counterexamples"]:
        if ce["property"] == "P3" and ce["certified"] == "exact":
            assert tuple(int(F(v)) for v in ce["witness"]["x"]) in truth


# ====================================================================== a gap found here, since closed
# An identity latent with generic float weights on box:-1,1 (enc(0) = 0, so the cone cases x_i = +-1): the zero set
# is a plane through 0, but the leaf with every unit fixed was only feasible in floating point and verify said unknown.
# Now the latent equalities are solved exactly at such a leaf (coordinates at the box's bounds may move too, and the
# homogeneous encoder's point is scaled back into the domain).
@pytest.mark.parametrize("seed,shape,acts", [(0, [(1, 3)], ["identity"]), (1, [(2, 4)], ["identity"]),
                                             (2, [(3, 5), (2, 3)], ["leaky_relu", "identity"]),
                                             (3, [(4, 6), (2, 4)], ["relu", "identity"])])
def test_linear_latent_plane_in_a_box(seed, shape, acts) -> None:
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal(s).astype(np.float32) for s in shape] if seed else \
        [np.array([[-1.0076346397399902, 0.22413000464439392, -0.6808055639266968]], np.float32)]
    bs = [np.zeros(W.shape[0], np.float32) for W in Ws]
    res = verify(_enc(Ws, bs, acts), "p3", domain="box:-1,1", timeout=TIMEOUT)
    if len(Ws) == 1:
        assert box_truth(Ws, bs, acts, F(-1), F(1)) is not None
        _assert_box(res, Ws, bs, acts, "-1", "1", must_decide=True)
    assert res.verdict == "refuted", res.reason
    x = [F(v) for v in res.counterexample]
    assert any(x) and all(F(-1) <= v <= F(1) for v in x)
    assert _is_zero(_forward([_exact(W) for W in Ws], [_exact(b) for b in bs], acts, x)), "not an exact zero (own forward pass)"


@pytest.mark.parametrize("domain", ["reals", "nonneg", "box:-1,2"])
def test_linear_latent_zero_on_other_domains(domain) -> None:
    """A 2x4 linear encoder whose kernel holds a positive vector (the last column is built from the others so that
    W p ~ 0 for p = (1, 2, 3, 4); the float32 kernel then holds a vector next to p, positive too): refuted on every
    domain around 0, with an exact witness inside it (own forward pass)."""
    rng = np.random.default_rng(7)
    W = rng.standard_normal((2, 4))
    W[:, 3] = -(W[:, :3] @ np.array([1.0, 2.0, 3.0])) / 4.0
    Ws, bs, acts = [W.astype(np.float32)], [np.zeros(2, np.float32)], ["identity"]
    res = verify(_enc(Ws, bs, acts), "p3", domain=domain, timeout=TIMEOUT)
    assert res.verdict == "refuted", res.reason
    x = [F(v) for v in res.counterexample]
    lo = {"reals": None, "nonneg": F(0), "box:-1,2": F(-1)}[domain]
    hi = F(2) if domain == "box:-1,2" else None
    assert any(x) and all((lo is None or v >= lo) and (hi is None or v <= hi) for v in x)
    assert _is_zero(_forward([_exact(W) for W in Ws], [_exact(b) for b in bs], acts, x))


def test_linear_latent_without_a_nonneg_kernel_vector_is_proved_on_nonneg() -> None:
    """The same shape with a kernel that meets the nonnegative orthant only at 0 (a float LP says so with a margin:
    over the simplex, |W x|_inf stays above 0.05): proved on nonneg, refuted on reals."""
    rng = np.random.default_rng(7)
    Ws, bs, acts = [rng.standard_normal((2, 4)).astype(np.float32)], [np.zeros(2, np.float32)], ["identity"]
    W = Ws[0].astype(np.float64)
    # min t  s.t.  -t <= (W x)_j <= t, sum x = 1, x >= 0
    A_ub = np.block([[W, -np.ones((2, 1))], [-W, -np.ones((2, 1))]])
    lp = linprog(np.r_[np.zeros(4), 1.0], A_ub=A_ub, b_ub=np.zeros(4), A_eq=np.r_[np.ones(4), 0.0][None, :], b_eq=[1.0],
                 bounds=[(0, None)] * 5)
    assert lp.status == 0 and lp.fun > 0.05
    assert verify(_enc(Ws, bs, acts), "p3", domain="nonneg", timeout=TIMEOUT).verdict == "proved"
    assert verify(_enc(Ws, bs, acts), "p3", domain="reals", timeout=TIMEOUT).verdict == "refuted"


# ====================================================================== found by a review, since fixed
@pytest.mark.parametrize("bias", [1.0000001, 0.9999999, 2.0000001])
def test_binary_x_split_never_repeats(bias) -> None:
    """The LP stretched x0 >= 1 to x0 = 1 + 1e-7 and the tree split x0 again, a child equal to its parent, until the
    time limit (unknown at timeout >= 3): now the LP point is clipped to the node's box."""
    Ws, bs = [np.array([[-1.0, -1.0]])], [np.array([bias])]
    res = verify(_enc(Ws, bs, ["leaky_relu"]), "p3", domain="binary", timeout=6)
    _assert_binary(res, Ws, bs, ["leaky_relu"], must_decide=True)
    assert res.stats["nodes"] < 50


@pytest.mark.parametrize("text", ["(((1e12**64)**64)**64)*t", "(" * 101 + "t" + ")" * 101, "(" * 400 + "t" + ")" * 400,
                                  "1e13*t", "Max(t, 2**5000)"])
def test_formula_reader_refuses_huge_or_deep_text(text) -> None:
    """Constants of more than 4000 bits and literals above 1e12 (the engine's reader refuses them too) and nesting
    deeper than 100 are refused at once, never a hang or a RecursionError."""
    with pytest.raises(standalone.Rejected):
        standalone.formula_pl(text)


@pytest.mark.parametrize("text,hand", [("Max(t^1, 0)", lambda t: max(t, 0)), ("1_0*t - Abs(t)", lambda t: 10 * t - abs(t)),
                                       ("(" * 99 + "t" + ")" * 99, lambda t: t)])
def test_formula_reader_reads_what_the_engine_reads(text, hand) -> None:
    form = standalone.formula_pl(text)
    for p in [F(k, 3) for k in range(-9, 10)]:
        assert _fval_form(form, p) == hand(p), (text, p)


# ====================================================================== completeness gaps found (sound, but weak)


# A gap found here, since closed: binary, leaky_relu(-1'x + 9 - 1e-7) on 9 items: every user is nonzero (the full user
# gives -1e-9 after the leak), but the LP leaf was feasible within its tolerance and an integral LP point that failed
# the exact check was not branched on further: unknown. Now such a node branches on a free input, and a node with
# every input fixed (one user) is closed by its exact box.
@pytest.mark.parametrize("bias,truth_zero", [(9 - 1e-7, False), (4 - 1e-7, False), (4.0, True), (9 + 1e-7, False)])
def test_binary_leaky_hair_margin(bias, truth_zero, tmp_path: Path) -> None:
    n = 9
    Ws, bs = [np.full((1, n), -1.0)], [np.array([bias])]
    enc = _enc(Ws, bs, ["leaky_relu"])
    res = verify(enc, "p3", domain="binary", timeout=TIMEOUT)
    truth = _assert_binary(res, Ws, bs, ["leaky_relu"], must_decide=True)
    assert bool(truth) == truth_zero
    if res.verdict == "proved":
        enc_path = tmp_path / "encoder.npz"
        save_encoder(enc, enc_path)
        cert = copy.deepcopy(res.certificate)
        cert["encoder_sha256"] = hashlib.sha256(enc_path.read_bytes()).hexdigest()
        code, out = _recheck(cert, enc_path, tmp_path)
        assert code == 0, out


@pytest.mark.xfail(strict=True, reason="box:0,0 holds no nonzero input, so P3 holds trivially; verify answers unknown "
                   "('enc(0) = 0 and the encoder is not positively homogeneous') for relu6/hard_tanh encoders")
def test_gap_box_of_only_zero() -> None:
    W, b = np.array([[1.0, -1.0]], np.float32), np.zeros(1, np.float32)
    res = verify(_enc([W], [b], ["hard_tanh"]), "p3", domain="box:0,0", timeout=TIMEOUT)
    assert res.verdict == "proved", res.reason


@pytest.mark.xfail(strict=True, reason="binary, identity(-1'x + 10.25) on 20 items: the pre-activation lies in 10.25 - Z "
                   "and is never 0, but the LP relaxation reaches 0 at 1'x = 10.25 and branch and bound closes the users one "
                   "by one (C(12, 6) = 1716 leaves at n = 12; C(20, 10) at n = 20): unknown at the time limit. An "
                   "integrality (lattice) argument on 1'x would close it at the root")
def test_gap_fractional_offset_of_an_integer_sum() -> None:
    n = 20
    Ws, bs = [np.full((1, n), -1.0)], [np.array([10.25])]
    assert not any(k == F(41, 4) for k in range(n + 1))  # truth without enumerating 2^20 users
    res = verify(_enc(Ws, bs, ["identity"]), "p3", domain="binary", timeout=2.0)
    assert res.verdict == "proved", res.reason


# A gap found here, since closed: l2, relu(fl(sqrt 2) - 1'x/|x|) on 2 items: fl(sqrt 2)^2 > 2, so no user is 0, but at
# k = 2 the node with every input fixed keeps s in [sqrt 2 -+ 2^-40] and its interval contains the zero: unknown. Now
# such a node (one user) is a "point" leaf, its user's encoding checked exactly in Q(sqrt k) by both re-checkers.
def _sqrt2_case(tmp: Path, bias: float):
    Ws, bs = [np.full((1, 2), -1.0)], [np.array([bias])]
    enc = _enc(Ws, bs, ["relu"])
    path = tmp / f"enc-{bias!r}.npz"
    save_encoder(enc, path, meta={"normalise": "l2", "rows": "users", "values": "binary"})
    return Ws, bs, enc, path


def test_l2_fixed_node_exact_sign(tmp_path: Path) -> None:
    Ws, bs, enc, enc_path = _sqrt2_case(tmp_path, math.sqrt(2.0))
    assert binary_truth(Ws, bs, ["relu"], l2=True) == []
    res = verify(enc, "p3", domain="binary", input_normalise="l2", timeout=TIMEOUT)
    assert res.verdict == "proved", res.reason
    assert res.stats["leaves_point"] >= 1
    cert = copy.deepcopy(res.certificate)
    cert["encoder_sha256"] = hashlib.sha256(enc_path.read_bytes()).hexdigest()
    code, out = _recheck(cert, enc_path, tmp_path)
    assert code == 0, out


def test_l2_point_leaves_are_checked(tmp_path: Path) -> None:
    """The point leaves of the fl(sqrt 2) proof, re-checked against an encoder whose 2-item user IS encoded as 0
    (bias 1.4 < sqrt 2; the file's hash put in the certificate, as a forger would), and a point leaf moved to a
    node that does not fix every input: both re-checkers reject."""
    _Ws, _bs, enc, _p = _sqrt2_case(tmp_path, math.sqrt(2.0))
    cert = verify(enc, "p3", domain="binary", input_normalise="l2", timeout=TIMEOUT).certificate
    Ws, bs, _e, bad_path = _sqrt2_case(tmp_path, 1.4)
    assert (1, 1) in binary_truth(Ws, bs, ["relu"], l2=True)
    forged = copy.deepcopy(cert)
    forged["encoder_sha256"] = hashlib.sha256(bad_path.read_bytes()).hexdigest()
    code, out = _recheck(forged, bad_path, tmp_path)
    assert code == 1 and "REJECTED" in out, out
    chk = check_l2_certificate(forged, [np.asarray(W, np.float64) for W in Ws], [np.asarray(b, np.float64) for b in bs])
    assert not chk.ok
    # a point leaf on a node that fixes no input
    _W2, _b2, _e2, good_path = _sqrt2_case(tmp_path, math.sqrt(2.0))
    moved = copy.deepcopy(cert)
    moved["encoder_sha256"] = hashlib.sha256(good_path.read_bytes()).hexdigest()
    trees = [e for e in moved["cover"] if e["proof"]["kind"] == "tree"]
    assert trees
    trees[0]["proof"]["root"] = {"leaf": "point"}
    code, out = _recheck(moved, good_path, tmp_path)
    assert code == 1 and "point leaf" in out, out
    chk = check_l2_certificate(moved, [np.full((1, 2), -1.0)], [np.array([math.sqrt(2.0)])])
    assert not chk.ok and "point leaf" in chk.reason, chk.reason
