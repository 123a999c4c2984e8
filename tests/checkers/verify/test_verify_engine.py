"""The verify engine's speed parts: the warm-started HiGHS model, the integer exact products and the bound cache.

Answers are known by construction (docstrings); proofs are re-checked by the standalone
``docs/recheck_certificate.py`` (no latentcheck import), refutations by a Fraction forward pass here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from latentcheck.checkers.verify import verify
from latentcheck.theorems.encoder import Encoder
from latentcheck import save_encoder

ROOT = Path(__file__).resolve().parents[3]


def _recheck_module():
    spec = importlib.util.spec_from_file_location("recheck_certificate_engine", ROOT / "docs" / "recheck_certificate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RECHECK = _recheck_module()


def _relu_forward(Ws, bs, x):
    h = [Fraction(v) for v in x]
    for W, b in zip(Ws, bs):
        h = [max(Fraction(0), sum((Fraction(float(w)) * v for w, v in zip(row, h)), Fraction(0)) + Fraction(float(bi)))
             for row, bi in zip(np.asarray(W).tolist(), np.asarray(b).tolist())]
    return h


def _three_layer(latent_bias: float):
    """a = relu(x1 - x2), b = relu(x2 - x1); c = relu(a + b), d = relu(a), e = relu(b); latent relu(c - d - e + t).

    a, b >= 0 and at most one is nonzero, so c = a + b = d + e and the latent is relu(t) for every x."""
    W1 = np.array([[1.0, -1.0], [-1.0, 1.0]])
    W2 = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    W3 = np.array([[1.0, -1.0, -1.0]])
    Ws, bs = [W1, W2, W3], [np.zeros(2), np.zeros(3), np.array([latent_bias])]
    return Encoder.from_arrays(Ws, bs, ["relu", "relu", "relu"]), Ws, bs


def test_three_layers_unsat_needs_more_than_intervals(tmp_path):
    """Latent relu(1/2) = 1/2 for every x: P3 holds on the box; intervals alone give c - d - e + 1/2 in [-7/2, 5/2]."""
    enc, _, _ = _three_layer(0.5)
    res = verify(enc, "p3", domain="box:-1,1", timeout=60)
    assert res.verdict == "proved", res.reason
    assert res.stats["lps"] >= 1
    save_encoder(enc, tmp_path / "e.npz")
    leaves, _ = RECHECK.recheck(dict(res.certificate), tmp_path / "e.npz")
    assert leaves >= 1


def test_three_layers_sat_refuted_exactly():
    """Latent relu(0) = 0 for every x: any nonzero x in the box is a counterexample."""
    enc, Ws, bs = _three_layer(0.0)
    res = verify(enc, "p3", domain="box:-1,1", timeout=60)
    assert res.verdict == "refuted", res.reason
    x = [Fraction(v) for v in res.counterexample]
    assert any(x) and all(-1 <= v <= 1 for v in x)
    assert _relu_forward(Ws, bs, x) == [0]


def test_integer_matrix_products_equal_rational_ones():
    """The exact kernel's integer form (an fmpz matrix over a power of 2) gives the fmpq_mat products exactly."""
    from flint import fmpq, fmpq_mat

    from latentcheck.counterexamples.certificate import ExactNet

    def _matvec(M, v):  # the reference: python-flint's rational matrix product, built here
        out = M * fmpq_mat(len(v), 1, [fmpq(q.numerator, q.denominator) for q in v])
        return [out[i, 0] for i in range(out.nrows())]

    rng = np.random.default_rng(3)
    W = rng.normal(size=(6, 9)) * np.exp(rng.normal(size=(6, 9)) * 8)
    W[0, 0], W[1, 1], W[2, 2] = 5e-310, -0.0, 3.0
    net = ExactNet.build([W], [np.zeros(6)], [{"knots": ["0"], "values": ["0"], "slope_left": "0", "slope_right": "1"}])
    Wq = fmpq_mat(6, 9, [fmpq(*w.as_integer_ratio()) for w in W.ravel().tolist()])
    Aq = fmpq_mat(6, 9, [fmpq(*abs(w).as_integer_ratio()) for w in W.ravel().tolist()])
    for _ in range(10):
        v = [Fraction(int(rng.integers(-60, 60)), int(rng.integers(1, 50))) for _ in range(9)]
        u = [Fraction(int(rng.integers(-60, 60)), int(rng.integers(1, 50))) for _ in range(6)]
        assert net.Wi[0].matvec(v) == _matvec(Wq, v)
        assert net.Wi[0].abs.matvec(v) == _matvec(Aq, v)
        assert net.Wi[0].T.matvec(u) == _matvec(Wq.transpose(), u)
    # and against plain Fractions, written here
    v = [Fraction(1, 3)] * 9
    want = [sum((Fraction(float(w)) * Fraction(1, 3) for w in row), Fraction(0)) for row in W.tolist()]
    assert [Fraction(int(q.p), int(q.q)) for q in net.Wi[0].matvec(v)] == want


def test_bounds_reused_on_sub_boxes_and_certificates_still_recheck(tmp_path):
    """Derived bounds from box:-1,1 are reused on box:-1/2,1/2 (inside it) but not on box:-2,2 (not inside)."""
    from latentcheck.checkers.verify import bound_cache

    bound_cache.clear()
    enc, _, _ = _three_layer(0.5)
    save_encoder(enc, tmp_path / "e.npz")
    first = verify(enc, "p3", domain="box:-1,1", timeout=60)
    assert first.verdict == "proved" and first.stats["reused_bounds"] == 0
    inner = verify(enc, "p3", domain="box:-1/2,1/2", timeout=60)
    assert inner.verdict == "proved"
    assert inner.stats["reused_bounds"] == len(first.certificate["trees"][0]["bounds"])
    RECHECK.recheck(dict(inner.certificate), tmp_path / "e.npz")
    outer = verify(enc, "p3", domain="box:-2,2", timeout=60)
    assert outer.verdict == "proved" and outer.stats["reused_bounds"] == 0
    RECHECK.recheck(dict(outer.certificate), tmp_path / "e.npz")


def test_bound_cache_keys_and_binary_rule():
    """The key changes with one ulp of one weight; bounds stored for binary (they may use the sum row) are not
    handed to a non-binary query; bounds stored for a box are handed to binary queries inside it."""
    from latentcheck.checkers.verify import bound_cache
    from latentcheck.checkers.verify.pl import piecewise_linear

    pls = [piecewise_linear("relu")]
    W = np.array([[1.0, -2.0]])
    k1 = bound_cache.encoder_key([W], [np.zeros(1)], pls)
    W2 = W.copy()
    W2[0, 0] = np.nextafter(1.0, 2.0)
    assert bound_cache.encoder_key([W2], [np.zeros(1)], pls) != k1
    bound_cache.clear()
    one, zero = Fraction(1), Fraction(0)
    bound_cache.store(k1, [zero, zero], [one, one], True, [["entry"]], {})
    assert bound_cache.lookup(k1, [zero, zero], [one, one], False) is None
    assert bound_cache.lookup(k1, [zero, zero], [one, one], True)[2] is True
    bound_cache.clear()
    bound_cache.store(k1, [-one, -one], [one, one], False, [["entry"]], {})
    entries, _path, same = bound_cache.lookup(k1, [zero, zero], [one, one], True)
    assert entries == [["entry"]] and same is False
    assert bound_cache.lookup(k1, [None, zero], [one, one], False) is None


def test_cli_json_stays_clean_when_the_lp_runs(tmp_path):
    """highspy prints a banner at its first construction; verify --json must still print JSON only.

    (An unsatisfiable case whose tree needs node LPs: a satisfiable one can be refuted by the gradient search
    before HiGHS is ever built.)"""
    e = Encoder.random([8, 12, 8, 3], "relu", seed=5)
    bs = [layer.b.copy() for layer in e.layers]
    bs[-1] = bs[-1] + 1.5
    enc = Encoder.from_arrays([layer.W for layer in e.layers], bs, "relu")
    save_encoder(enc, tmp_path / "e.npz")
    r = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "verify", "--weights", str(tmp_path / "e.npz"),
                        "--domain", "box:-1,1", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    out = json.loads(r.stdout)
    assert out["stats"]["lps"] >= 1
    assert (r.returncode, out["verdict"]) in ((0, "proved"), (1, "refuted")), r.stderr
    if out["verdict"] == "refuted":
        x = [Fraction(v) for v in out["counterexample"]]
        assert any(x) and _relu_forward([layer.W for layer in enc.layers], bs, x) == [0, 0, 0]


def _pl_exact(name: str, t: Fraction) -> Fraction:
    return {"relu": max(t, Fraction(0)), "leaky_relu": max(t, t / 100),
            "hard_tanh": max(Fraction(-1), min(Fraction(1), t))}[name]


def _forward(Ws, bs, acts, x):
    h = [Fraction(v) for v in x]
    for W, b, a in zip(Ws, bs, acts):
        h = [_pl_exact(a, sum((Fraction(float(w)) * v for w, v in zip(row, h)), Fraction(0)) + Fraction(float(bi)))
             for row, bi in zip(np.asarray(W).tolist(), np.asarray(b).tolist())]
    return h


def _mixed(first: str, beta: float):
    """Layer 1 (``first``): a = s(t), b = s(-t), c = s(t) or the stable s(t + 10), with t = x1 - x2; latent relu.

    leaky_relu: s(t) - s(-t) = 101 t / 100 and c = t + 10 on the box, so 100 a - 100 b - 101 c + 1010 = 0.
    hard_tanh (odd): s(t) - s(-t) = 2 s(t) = 2 c, so a - b - 2 c = 0. Either way the latent is relu(beta)."""
    if first == "leaky_relu":
        W1, b1 = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, -1.0]]), np.array([0.0, 0.0, 10.0])
        W2, b2 = np.array([[100.0, -100.0, -101.0]]), np.array([1010.0 + beta])
    else:
        W1, b1 = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, -1.0]]), np.zeros(3)
        W2, b2 = np.array([[1.0, -1.0, -2.0]]), np.array([beta])
    Ws, bs, acts = [W1, W2], [b1, b2], [first, "relu"]
    return Encoder.from_arrays(Ws, bs, acts), Ws, bs, acts


@pytest.mark.parametrize("first", ["leaky_relu", "hard_tanh"])
def test_mixed_layers_known_answers(first, tmp_path):
    """Other piecewise-linear hidden layers (more hull lines per unit, rewritten in the LP's row slots)."""
    enc, Ws, bs, acts = _mixed(first, 0.5)
    res = verify(enc, "p3", domain="box:-1,1", timeout=60)
    assert res.verdict == "proved", res.reason
    save_encoder(enc, tmp_path / "m.npz")
    RECHECK.recheck(dict(res.certificate), tmp_path / "m.npz")
    enc, Ws, bs, acts = _mixed(first, 0.0)
    res = verify(enc, "p3", domain="box:-1,1", timeout=60)
    assert res.verdict == "refuted", res.reason
    x = [Fraction(v) for v in res.counterexample]
    assert any(x) and all(-1 <= v <= 1 for v in x) and _forward(Ws, bs, acts, x) == [0]


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "relu6", "hard_tanh", "hard_sigmoid", "Abs(t) - 1",
                                  "Max(0, t) + Max(0, t - 1)"])
def test_hull_lines_valid_and_tight(name):
    """The fast hull lines (pieces and chord, or the monotone chain) are valid on the interval, each is a chord
    between two of the points (ends and knots), and both sides meet the graph at the interval's ends; checked by
    brute force over those points in Fractions."""
    import random

    from latentcheck.checkers.verify.pl import piecewise_linear

    pl = piecewise_linear(name)
    rng = random.Random(5)
    for _ in range(150):
        lo = Fraction(rng.randint(-900, 900), rng.randint(1, 60))
        hi = lo + Fraction(rng.randint(1, 900), rng.randint(1, 60))
        lines = pl.hull_lines(lo, hi)
        pts = [lo] + [k for k in pl.knots if lo < k < hi] + [hi]
        for a, c, sense in lines:
            vals = [pl(p) - (a * p + c) for p in pts]
            assert all(v >= 0 for v in vals) if sense == "ge" else all(v <= 0 for v in vals)  # valid (s is PL)
            assert sum(v == 0 for v in vals) >= 2  # a chord through two of the points
        ge = [(a, c) for a, c, s in lines if s == "ge"]
        le = [(a, c) for a, c, s in lines if s == "le"]
        # the lower envelope of the ge lines is the lower hull: at the ends it meets the graph
        for p in (lo, hi):
            assert max(a * p + c for a, c in ge) == pl(p) and min(a * p + c for a, c in le) == pl(p)
