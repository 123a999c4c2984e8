"""The verifier's counterexample search (PGD, sum-of-infeasibilities walks, the MILP slot) and its LP hygiene.

Oracles share no code with the engine: refutations are re-checked by ``tests/_indep.py`` (Fraction forward
pass); on small boxes the answer is decided by z3 over exact rationals (ReLU as ``If``); on the binary domain
by enumerating every nonzero 0/1 input in Fractions.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentcheck.theorems.formats import save_encoder
from latentcheck.checkers.verify import highs_lp, soi, verify
from latentcheck.checkers.verify import run as run_mod
from latentcheck.checkers.verify.bab import Problem
from latentcheck.checkers.verify.pl import piecewise_linear
from latentcheck.theorems.encoder import Encoder

from _indep import encode, layers_of


def _exact(v: float) -> Fraction:
    return Fraction(*float(v).as_integer_ratio())


def _z3_sat(Ws, bs, lo: Fraction, hi: Fraction) -> bool:
    """Whether some nonzero x in [lo, hi]^n has relu-net(x) = 0, decided by z3 (linear real arithmetic, exact)."""
    n = Ws[0].shape[1]
    s = z3.Solver()
    xs = [z3.Real(f"x{i}") for i in range(n)]
    for x in xs:
        s.add(x >= z3.Q(lo.numerator, lo.denominator), x <= z3.Q(hi.numerator, hi.denominator))
    s.add(z3.Or([x != 0 for x in xs]))
    h = xs
    for W, b in zip(Ws, bs):
        zs = []
        for row, bi in zip(W.tolist(), b.tolist()):
            acc = z3.Q(_exact(bi).numerator, _exact(bi).denominator)
            for w, v in zip(row, h):
                q = _exact(w)
                if q:
                    acc = acc + z3.Q(q.numerator, q.denominator) * v
            zs.append(acc)
        h = [z3.If(z > 0, z, z3.RealVal(0)) for z in zs]
    s.add(*[v == 0 for v in h])
    return s.check() == z3.sat


def _binary_sat(Ws, bs) -> bool:
    layers = [(W, b, "relu") for W, b in zip(Ws, bs)]
    n = Ws[0].shape[1]
    return any(all(v == 0 for v in encode(layers, x)) for x in itertools.product((0, 1), repeat=n) if any(x))


def _check_refuted(res, enc, lo: Fraction, hi: Fraction) -> None:
    x = [Fraction(v) for v in res.counterexample]
    assert any(x) and all(lo <= v <= hi for v in x)
    assert all(v == 0 for v in encode(layers_of(enc, ["relu"] * len(enc.layers)), x))


def _planted_sat_encoder(seed: int = 0):
    """relu(W x + b) with a zero-mapped point planted: the latent biases are chosen so that x* (in the box) maps
    to pre-activations <= -1/4 on every latent unit (so the answer is 'refuted', with a margin)."""
    rng = np.random.default_rng(seed)
    W1 = rng.integers(-4, 5, size=(6, 5)) / 4.0
    b1 = rng.integers(-2, 3, size=6) / 4.0
    W2 = rng.integers(-4, 5, size=(3, 6)) / 4.0
    xs = np.array([0.5, -0.25, 0.75, 0.0, -0.5])
    h = np.maximum(W1 @ xs + b1, 0.0)
    b2 = -(W2 @ h) - 0.25
    return Encoder.from_arrays([W1, W2], [b1, b2], ["relu", "relu"]), [W1, W2], [b1, b2]


# --------------------------------------------------------------------------- witnesses are exact
def test_search_witness_is_exact_and_named():
    enc, Ws, bs = _planted_sat_encoder()
    res = verify(enc, "p3", domain="box:-1,1", timeout=30)
    assert res.verdict == "refuted", res.reason
    assert res.method in ("pgd-search+exact", "soi-search+exact", "milp-search+exact", "branch-and-bound")
    _check_refuted(res, enc, Fraction(-1), Fraction(1))


def test_soi_walk_finds_the_planted_point_from_a_wrong_pattern():
    """Start the walk from the all-active pattern (wrong for the planted point): flips reach a feasible pattern."""
    enc, Ws, bs = _planted_sat_encoder(1)
    P = _problem(Ws, bs, -1.0, 1.0)
    zero_ok = [[] for _ in Ws[:-1]] + [soi.zero_pieces(P.pls[-1])]
    pattern = [np.ones(W.shape[0], int) for W in Ws[:-1]] + [np.zeros(Ws[-1].shape[0], int)]
    lp = soi.PatternLP(P, -np.ones(P.n), np.ones(P.n), pattern, 10_000)
    stats = soi.SearchStats()
    seen = []

    def try_point(x):
        q = [_exact(v) for v in np.clip(x, -1, 1)]
        seen.append(q)
        ok = any(q) and all(v == 0 for v in encode([(W, b, "relu") for W, b in zip(Ws, bs)], q))
        return q if ok else None

    attempt = soi._lp_point_tryer(P, try_point, stats)
    found = soi.soi_walk(lp, pattern, zero_ok, attempt, math.inf, stats, np.random.default_rng(0))
    assert found is not None and stats.soi_lps >= 1
    assert all(v == 0 for v in encode([(W, b, "relu") for W, b in zip(Ws, bs)], found))


def _problem(Ws, bs, lo: float, hi: float, binary: bool = False) -> Problem:
    n = Ws[0].shape[1]
    pls = [piecewise_linear("relu") for _ in Ws]
    return Problem([np.asarray(W, float) for W in Ws], [np.asarray(b, float) for b in bs], pls, np.full(n, lo),
                   np.full(n, hi), [Fraction(lo)] * n, [Fraction(hi)] * n, binary, None)


# --------------------------------------------------------------------------- planted bugs
def _unsat_encoder():
    """Latent relu(c - d - e + 1/2) with c = d + e for every x (tests/test_verify_engine.py): never 0."""
    W1 = np.array([[1.0, -1.0], [-1.0, 1.0]])
    W2 = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    W3 = np.array([[1.0, -1.0, -1.0]])
    return Encoder.from_arrays([W1, W2, W3], [np.zeros(2), np.zeros(3), np.array([0.5])], ["relu"] * 3)


def _search_even_when_root_closed(monkeypatch):
    """The encoder's root relaxation is already infeasible, so the portfolio would skip its search: force it."""
    real = run_mod._root_start
    monkeypatch.setattr(run_mod, "_root_start", lambda P, start, deadline: (real(P, start, deadline)[0], False))


def test_a_closed_root_skips_the_search():
    """The root relaxation closes the unsatisfiable encoder: no search runs, and the tree proves it."""
    res = verify(_unsat_encoder(), "p3", domain="box:-1,1", timeout=30)
    assert res.verdict == "proved", res.reason
    assert res.stats["pgd_starts"] == 0 and res.stats["soi_walks"] == 0 and res.stats["nodes"] >= 1


def test_lying_pgd_and_soi_are_caught(monkeypatch):
    """PGD says every point has loss 0 and the SoI LP says every pattern is feasible: every candidate fails the
    exact check, nothing is reported refuted, and the tree still proves P3."""
    _search_even_when_root_closed(monkeypatch)

    def lying_loss(P, X):
        return np.zeros(len(X)), np.zeros_like(X)

    real_soi = soi.PatternLP.soi

    def lying_soi(self, deadline):
        st, _s, v = real_soi(self, deadline)
        return st, 0.0, v

    monkeypatch.setattr(soi, "_pgd_loss_grad", lying_loss)
    monkeypatch.setattr(soi.PatternLP, "soi", lying_soi)
    res = verify(_unsat_encoder(), "p3", domain="box:-1,1", timeout=30)
    assert res.verdict == "proved", res.reason
    assert res.stats["rejected"] >= 1


def test_a_search_returning_a_wrong_point_is_never_reported(monkeypatch):
    """The portfolio itself returns a point that is not a counterexample (bypassing its own check)."""
    _search_even_when_root_closed(monkeypatch)
    monkeypatch.setattr(run_mod, "search_portfolio", lambda P, *a, **k: [Fraction(1)] * P.n)
    res = verify(_unsat_encoder(), "p3", domain="box:-1,1", timeout=30)
    assert res.verdict == "proved", res.reason
    assert res.counterexample is None and res.stats["rejected"] >= 1


def test_a_milp_returning_a_wrong_point_is_never_reported(monkeypatch):
    monkeypatch.setattr(run_mod, "milp_candidate", lambda P, nb, t: ("feasible", np.full(P.n, 0.5)))
    res = verify(_unsat_encoder(), "p3", domain="box:-1,1", timeout=30)
    assert res.verdict == "proved", res.reason


# --------------------------------------------------------------------------- agreement with exact oracles
_q4 = st.integers(-4, 4).map(lambda v: v / 4.0)


@st.composite
def _small_relu(draw, n_max: int):
    n = draw(st.integers(2, n_max))
    m1 = draw(st.integers(2, 3))
    m2 = draw(st.integers(1, 2))
    W1 = np.array(draw(st.lists(_q4, min_size=m1 * n, max_size=m1 * n))).reshape(m1, n)
    W2 = np.array(draw(st.lists(_q4, min_size=m2 * m1, max_size=m2 * m1))).reshape(m2, m1)
    b1 = np.array(draw(st.lists(_q4, min_size=m1, max_size=m1)))
    b2 = np.array(draw(st.lists(st.integers(-4, 2).map(lambda v: v / 4.0), min_size=m2, max_size=m2)))
    return [W1, W2], [b1, b2]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_relu(3))
def test_box_verdicts_agree_with_z3(net):
    Ws, bs = net
    enc = Encoder.from_arrays(Ws, bs, ["relu", "relu"])
    res = verify(enc, "p3", domain="box:-1,1", timeout=30)
    truth = _z3_sat(Ws, bs, Fraction(-1), Fraction(1))
    if res.verdict == "refuted":
        _check_refuted(res, enc, Fraction(-1), Fraction(1))
    assert res.verdict in ("refuted" if truth else "proved", "unknown"), (res.verdict, res.reason, truth)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_relu(6))
def test_binary_verdicts_agree_with_enumeration(net):
    Ws, bs = net
    enc = Encoder.from_arrays(Ws, bs, ["relu", "relu"])
    res = verify(enc, "p3", domain="binary", timeout=30)
    truth = _binary_sat(Ws, bs)
    if res.verdict == "refuted":
        _check_refuted(res, enc, Fraction(0), Fraction(1))
        assert all(v in (0, 1) for v in map(Fraction, res.counterexample))
    assert res.verdict in ("refuted" if truth else "proved", "unknown"), (res.verdict, res.reason, truth)


# --------------------------------------------------------------------------- LP hygiene
def _random_lp(seed: int):
    rng = np.random.default_rng(seed)
    h = highs_lp.new_highs()
    n, m = 30, 40
    h.addVars(n, np.full(n, -1.0), np.full(n, 1.0))
    A = rng.normal(size=(m, n))
    for row in A:
        h.addRow(-np.inf, 1.0, n, np.arange(n, dtype=np.int32), row)
    c = rng.normal(size=n)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), c)
    return h, A, c


def test_iteration_limit_falls_back_and_gets_the_same_optimum():
    """Dual simplex stopped after 1 iteration; the fallback (primal simplex, then IPM with crossover) still
    reaches the optimum that an unlimited run finds, and the options are restored."""
    h, A, c = _random_lp(0)
    st0, its0, fb0 = highs_lp.run_with_fallback(h, None, 100_000)
    ref = h.getInfo().objective_function_value
    h.clearSolver()
    st1, its1, fb1 = highs_lp.run_with_fallback(h, None, 1)
    assert (st0, fb0) == ("optimal", 0)
    assert st1 == "optimal" and fb1 >= 1
    assert abs(h.getInfo().objective_function_value - ref) <= 1e-7 * (1 + abs(ref))
    x = np.asarray(h.getSolution().col_value)
    assert np.all(A @ x <= 1.0 + 1e-7) and np.all(np.abs(x) <= 1.0 + 1e-9)
    solver = h.getOptionValue("solver")
    assert (solver[1] if isinstance(solver, tuple) else solver) == "choose"


def test_every_method_stopped_is_an_iteration_limit(monkeypatch):
    monkeypatch.setattr(highs_lp, "_FALLBACKS", ())
    h, _A, _c = _random_lp(1)
    st, _its, fb = highs_lp.run_with_fallback(h, None, 1)
    assert st == "iteration limit" and fb == 0


@pytest.mark.parametrize("fallbacks", [None, ()])
def test_tiny_iteration_limit_gives_a_right_verdict_or_unknown(monkeypatch, fallbacks):
    """Every tree LP limited to 1 simplex iteration: with the fallback the verdict is right; without it the tree
    stops with 'unknown' (never a wrong verdict). The search is switched off so that the tree answers."""
    monkeypatch.setattr(highs_lp, "iteration_limit", lambda rows, cols: 1)
    if fallbacks is not None:
        monkeypatch.setattr(highs_lp, "_FALLBACKS", fallbacks)
    monkeypatch.setattr(run_mod, "search_portfolio", lambda *a, **k: None)
    monkeypatch.setattr(run_mod, "milp_candidate", lambda P, nb, t: ("unknown", None))
    res = verify(_unsat_encoder(), "p3", domain="box:-1,1", timeout=30)
    if fallbacks is None:
        assert res.verdict == "proved", res.reason
        assert res.stats["tree_lp_fallbacks"] >= 1
    else:
        assert res.verdict in ("proved", "unknown"), res.reason
        if res.verdict == "unknown":
            assert "iteration limit" in res.reason


# --------------------------------------------------------------------------- the peer benchmark's own checks
def _bench():
    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("verify_vs_peers_under_test", root / "benchmarks" / "verify_vs_peers.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_peer_benchmark_checks_catch_wrong_witnesses_and_certificates(tmp_path):
    """The benchmark's checks (standalone re-checker) accept a true witness and a true certificate, and reject
    a planted wrong witness, a float point off the zero set and a certificate with a forged multiplier."""
    B = _bench()
    RC = B._recheck_module()
    enc, Ws, bs = _planted_sat_encoder()
    w = str(tmp_path / "sat.npz")
    save_encoder(enc, w)
    res = verify(enc, "p3", domain="box:-1,1", timeout=30)
    assert B.check_point(RC, w, "box:-1,1", res.counterexample, True)["exact_zero"] is True
    assert B.check_point(RC, w, "box:-1,1", ["1"] * 5, True)["exact_zero"] is False
    assert B.check_point(RC, w, "box:-1,1", [2.0] * 5, False)["exact_zero"] is False  # outside the box
    u = str(tmp_path / "unsat.npz")
    enc_u = _unsat_encoder()
    save_encoder(enc_u, u)
    res_u = verify(enc_u, "p3", domain="box:-1,1", timeout=30)
    assert res_u.verdict == "proved"
    cert = str(tmp_path / "cert.json")
    with open(cert, "w") as fh:
        json.dump(res_u.certificate, fh)
    assert B.check_certificate(RC, u, cert)["ok"] is True
    forged = json.loads(json.dumps(res_u.certificate))
    assert _forge_first_multiplier(forged["trees"][0]["root"])
    with open(cert, "w") as fh:
        json.dump(forged, fh)
    assert B.check_certificate(RC, u, cert)["ok"] is False


def test_peer_benchmark_abcrown_query_pieces():
    """alpha-beta-CROWN's side of the peer benchmark, without torch: the max-tree levels compute the maximum (odd
    sizes carry their last entry), the VNN-LIB text asserts the box and Y_0 <= 0, its counterexample file is
    parsed only when every input is there, and its status words map to sat/unsat/unknown."""
    B = _bench()
    rng = np.random.default_rng(3)
    for m in (1, 2, 3, 5, 8, 13, 16):
        levels = B.maxtree_levels(m)
        assert len(levels) == math.ceil(math.log2(m)) if m > 1 else not levels
        for _ in range(10):
            v = rng.normal(size=m)
            w = v
            for S, D in levels:
                w = S @ w + np.maximum(D @ w, 0)
            assert w.shape == (1,) and w[0] == pytest.approx(v.max(), abs=1e-12)
    text = B.abcrown_vnnlib(3, -1.0, 1.0)
    assert text.count("(assert (>= X_") == 3 and text.count("(assert (<= X_") == 3
    assert "(assert (<= Y_0 0.0))" in text and "(declare-const X_2 Real)" in text and "X_3" not in text
    cex = "((X_0  0.5)\n(X_1  -1.0)\n(X_2  1e-3)\n(Y_0  -0.25))"
    assert B.parse_abcrown_cex(cex, 3) == [0.5, -1.0, 0.001]
    assert B.parse_abcrown_cex(cex, 4) is None  # an input missing
    assert B.abcrown_verdict({"unsafe-pgd": [0]}, 1.0, 30) == "sat"
    assert B.abcrown_verdict({"unsafe-bab": [0]}, 1.0, 30) == "sat"
    assert B.abcrown_verdict({"safe-incomplete": [0]}, 1.0, 30) == "unsat"
    assert B.abcrown_verdict({"safe": [0], "unknown": []}, 1.0, 30) == "unsat"
    assert B.abcrown_verdict({"unknown": [0]}, 31.0, 30) == "TIMEOUT"
    assert B.abcrown_verdict({"unknown": [0]}, 2.0, 30) == "unknown"


def _forge_first_multiplier(node) -> bool:
    """Scale the first hull/aff multiplier of the first Farkas leaf by 3 (the combination no longer cancels)."""
    if node.get("leaf") == "farkas":
        for row in node["rows"]:
            if row[0] in ("hull", "aff"):
                row[-1] = str(Fraction(row[-1]) * 3 + 1)
                return True
        return False
    return any(_forge_first_multiplier(node[k]) for k in ("le", "ge") if k in node)


def test_binary_descent_repairs_a_rounding_and_never_returns_a_nonzero_point():
    """x* = e_2 + e_4 is planted as a zero (latent pre-activations -1/2); x* + e_7 is not (W[0, 7] = 5): one
    flip back repairs it. From anywhere, what the descent returns is a 0/1 point the Fraction pass maps to 0."""
    rng = np.random.default_rng(3)
    W = rng.integers(-4, 5, size=(4, 8)) / 4.0
    W[0, 7] = 5.0
    xs = np.zeros(8)
    xs[[2, 4]] = 1.0
    b = -(W @ xs) - 0.5
    P = _problem([W], [b], 0.0, 1.0, binary=True)
    x0 = xs.copy()
    x0[7] = 1.0
    got = soi.binary_descent(P, x0)
    assert got is not None and np.array_equal(got, xs)
    layers = [(W, b, "relu")]
    for _ in range(20):
        got = soi.binary_descent(P, (rng.random(8) < 0.3).astype(float))
        if got is not None:
            q = [Fraction(int(v)) for v in got]
            assert any(q) and all(v == 0 for v in encode(layers, q))


def _leaky(t: Fraction) -> Fraction:
    return t if t > 0 else t / 100


def test_point_zero_set_is_hit_exactly_by_the_equality_repair():
    """Latent leaky_relu(h1 - h2 + 1/10) (1/10 as its float64 value): 0 only where h1 - h2 = -b exactly, which no
    float point of the LP hits; the SoI's exact repair solves that row in rationals. Checked by hand in Fractions."""
    W1 = np.array([[1.0, 0.5], [-0.5, 1.0]])
    b1 = np.array([0.0, 0.25])
    W2 = np.array([[1.0, -1.0]])
    b2 = np.array([0.1])
    enc = Encoder.from_arrays([W1, W2], [b1, b2], ["relu", "leaky_relu"])
    res = verify(enc, "p3", domain="box:-1,1", timeout=30)
    assert res.verdict == "refuted", res.reason
    x = [Fraction(v) for v in res.counterexample]
    assert any(x) and all(-1 <= v <= 1 for v in x)
    h = [max(Fraction(0), sum(_exact(w) * v for w, v in zip(row, x)) + _exact(bb)) for row, bb in zip(W1.tolist(), b1)]
    z = sum(_exact(w) * v for w, v in zip(W2[0].tolist(), h)) + _exact(b2[0])
    assert _leaky(z) == 0


def test_equality_repair_output_is_only_a_candidate(monkeypatch):
    """A repair that returns a wrong exact point (planted) is rejected by the exact check, never reported."""
    monkeypatch.setattr(soi, "exact_equality_repair", lambda P, pattern, x: [Fraction(1, 3)] * P.n)
    W1 = np.array([[1.0, 0.5], [-0.5, 1.0]])
    enc = Encoder.from_arrays([W1, np.array([[1.0, -1.0]])], [np.zeros(2), np.array([0.1])], ["relu", "leaky_relu"])
    res = verify(enc, "p3", domain="box:-1,1", timeout=20)
    if res.verdict == "refuted":
        assert [Fraction(v) for v in res.counterexample] != [Fraction(1, 3)] * 2
        x = [Fraction(v) for v in res.counterexample]
        h = [max(Fraction(0), sum(_exact(w) * v for w, v in zip(row, x))) for row in W1.tolist()]
        assert _leaky(h[0] - h[1] + _exact(0.1)) == 0
    assert res.stats["rejected"] >= 1
