"""Bound methods of verify's branch and bound (issue 19): CROWN back-substitution, alpha-CROWN, the cascade.

Soundness first. Nothing the bound methods compute is trusted: a node they close, or a
bound they record as a split, is a certificate leaf re-checked in exact rationals. These
tests check that (a) the float bounds hold at sampled points, (b) the rows written for a
bound imply it exactly, checked here by an exact forward pass of rational points written in
this file (no latentcheck evaluation), (c) every ``proved`` certificate from the new path is
accepted by the standalone re-checker ``docs/recheck_certificate.py``, and a tampered one is
not, (d) verdicts agree with the old engine and with brute force, and (e) planted bugs (a
sign flip in the back-substitution) are caught by the exact check instead of being believed.
"""

from __future__ import annotations

import copy
import importlib.util
import time
from fractions import Fraction
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentcheck.checkers.verify import alpha_crown as AC
from latentcheck.checkers.verify import bab, bound_cache
from latentcheck.checkers.verify import bound_methods as BM
from latentcheck.checkers.verify import verify
from latentcheck.theorems.formats import save_encoder
from latentcheck.checkers.verify.bounds import node_bounds
from latentcheck.checkers.verify.pl import piecewise_linear
from latentcheck.checkers.verify.run import run_p3
from latentcheck.counterexamples.certificate import (SCHEMA, ExactNet, binding_record, check_certificate, check_leaf,
                                                     implied_bound, leaf_box)
from latentcheck.checkers.verify.api import parse_verify_domain
from latentcheck.theorems.encoder import Encoder

ROOT = Path(__file__).resolve().parents[3]


def _recheck_module():
    spec = importlib.util.spec_from_file_location("recheck_certificate_bounds", ROOT / "docs" / "recheck_certificate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RECHECK = _recheck_module()

OLD = {"CASCADE": ("interval", "lp"), "STRONG_K": 1}


def _net(sizes, seed, shift=0.0):
    e = Encoder.random(sizes, "relu", seed=seed)
    bs = [layer.b.copy() for layer in e.layers]
    bs[-1] = bs[-1] + shift
    Ws = [np.asarray(layer.W, float) for layer in e.layers]
    return Encoder.from_arrays(Ws, bs, "relu"), Ws, bs


def _problem(Ws, bs, lo, hi, binary=False, methods=("interval", "crown", "lp")):
    pls = [piecewise_linear("relu") for _ in Ws]
    net = ExactNet.build(Ws, bs, [p.to_json() for p in pls])
    n = Ws[0].shape[1]
    return bab.Problem(Ws, bs, pls, np.full(n, float(lo)), np.full(n, float(hi)), [Fraction(lo)] * n, [Fraction(hi)] * n,
                       binary, net, methods=methods)


def _relax(P):
    nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, P.xlo, P.xhi, {})
    return nb, BM.relaxation(P, nb, bab._hulls(P, nb))


# ---------------------------------------------------------------- independent exact evaluation (Fractions only)
def _q(v) -> Fraction:
    return Fraction(*float(v).as_integer_ratio())


def _pre_activations(Ws, bs, x):
    """Every layer's exact pre-activations at the rational point ``x`` (relu everywhere)."""
    h, out = [Fraction(v) for v in x], []
    for W, b in zip(Ws, bs):
        z = [sum((_q(w) * v for w, v in zip(row, h)), Fraction(0)) + _q(bi) for row, bi in zip(W.tolist(), b.tolist())]
        out.append(z)
        h = [max(Fraction(0), v) for v in z]
    return out


def _with(mode: dict | None):
    saved = {k: getattr(bab, k) for k in ("CASCADE", "STRONG_K")}
    for k, v in (mode or {}).items():
        setattr(bab, k, v)
    return saved


def _verify(enc, dom, mode=None, timeout=30):
    saved = _with(mode)
    bound_cache.clear()
    try:
        return verify(enc, "p3", domain=dom, timeout=timeout)
    finally:
        _with(saved)


def _recheck(res, enc, tmp_path):
    assert res.verdict == "proved", res.reason
    save_encoder(enc, tmp_path / "encoder.npz")
    leaves, _ = RECHECK.recheck(copy.deepcopy(res.certificate), tmp_path / "encoder.npz")
    assert leaves >= 1
    return res.certificate


def _leaves(node):
    return [node] if "leaf" in node else _leaves(node["le"]) + _leaves(node["ge"])


# ---------------------------------------------------------------- (a) float bounds hold at sampled points
@pytest.mark.parametrize("sizes,seed", [([5, 7, 6, 3], 0), ([8, 6, 6, 4, 2], 1), ([3, 9, 2], 2)])
def test_crown_bounds_contain_sampled_points(sizes, seed):
    """CROWN's float bounds hold at 4000 sampled points and corners (they may be looser than the intervals on
    some units: the engine acts only on the ones that are tighter)."""
    _enc, Ws, bs = _net(sizes, seed)
    P = _problem(Ws, bs, -1, 1)
    nb, R = _relax(P)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(4000, sizes[0]))
    X[:8] = np.sign(rng.normal(size=(8, sizes[0])))  # some corners
    h = X.T
    for k in range(len(P.sizes)):
        z = Ws[k] @ h + bs[k][:, None]
        lo, hi = BM.crown_layer_bounds(P, R, k, P.xlo, P.xhi)
        tol = 1e-9 * (1 + np.abs(z).max())
        assert np.all(z.min(axis=1) >= lo - tol) and np.all(z.max(axis=1) <= hi + tol)
        h = np.maximum(z, 0)
    if len(P.sizes) > 2:  # back-substitution through a hidden layer is strictly tighter somewhere
        lo, hi = BM.crown_layer_bounds(P, R, len(P.sizes) - 1, P.xlo, P.xhi)
        assert np.any(hi - lo < nb.z[-1][1] - nb.z[-1][0] - 1e-6)


# ---------------------------------------------------------------- (b) rows imply the bound, exactly
@pytest.mark.parametrize("sizes,seed", [([5, 7, 6, 3], 0), ([6, 5, 4, 2], 3)])
def test_rows_imply_the_float_bound_exactly_and_it_holds_at_exact_points(sizes, seed):
    _enc, Ws, bs = _net(sizes, seed)
    P = _problem(Ws, bs, -1, 1)
    _nb, R = _relax(P)
    box = leaf_box(P.net, P.xlo_q, P.xhi_q, {})
    rng = np.random.default_rng(seed)
    pts = [[Fraction(int(v), 64) for v in rng.integers(-64, 65, size=sizes[0])] for _ in range(150)]
    zs = [_pre_activations(Ws, bs, x) for x in pts]
    for k in range(len(P.sizes)):
        lo, hi = BM.crown_layer_bounds(P, R, k, P.xlo, P.xhi)
        for j in range(P.sizes[k]):
            for sense, sign, want in (("ge", 1.0, lo[j]), ("le", -1.0, hi[j])):
                lam = np.zeros(P.sizes[k])
                lam[j] = sign
                rows = bab._cert_rows(BM.certificate_rows(P, R, k, lam, P.xlo, P.xhi))
                got = implied_bound(P.net, box, rows, P.n, P.sizes, k, j, sense)
                assert got is not None
                got = Fraction(int(got.p), int(got.q))
                assert abs(float(got) - want) <= 1e-9 * (1 + abs(want))
                assert all((z[k][j] >= got) if sense == "ge" else (z[k][j] <= got) for z in zs)


def test_alpha_gradient_matches_finite_differences():
    _enc, Ws, bs = _net([6, 8, 5, 3], 4)
    P = _problem(Ws, bs, -1, 1)
    _nb, R = _relax(P)
    rows = AC.latent_rows(P, R)
    rng = np.random.default_rng(0)
    y = AC._simplex(rng.random(len(rows.j)))
    al = [rng.uniform(0.1, 0.9, size=m) for m in P.sizes[:-1]]
    M, dy, da = AC.margin_and_grad(P, R, rows, y, al, P.xlo, P.xhi)
    eps = 1e-7
    for i in range(len(y)):
        y2 = y.copy()
        y2[i] += eps
        fd = (AC.margin_and_grad(P, R, rows, y2, al, P.xlo, P.xhi)[0] - M) / eps
        assert abs(fd - dy[i]) <= 1e-4 * (1 + abs(fd))
    for k in range(len(al)):
        for j in range(len(al[k])):
            a2 = [a.copy() for a in al]
            a2[k][j] += eps
            fd = (AC.margin_and_grad(P, R, rows, y, a2, P.xlo, P.xhi)[0] - M) / eps
            assert abs(fd - da[k][j]) <= 1e-4 * (1 + abs(fd))


def test_alpha_margin_is_a_bound_its_rows_certify():
    """The optimised margin never exceeds what its rows prove exactly, and it improves on the fixed choices."""
    _enc, Ws, bs = _net([6, 8, 5, 3], 4)
    P = _problem(Ws, bs, -1, 1)
    _nb, R = _relax(P)
    m0, _obj = BM.close_margin(P, R, P.xlo, P.xhi)
    m1, (y, alphas, lrows) = AC.optimise(P, R, P.xlo, P.xhi, steps=60)
    assert m1 >= m0 - 1e-9
    L = len(P.sizes) - 1
    lam = np.zeros(P.sizes[L])
    np.add.at(lam, lrows.j, y * lrows.sigma * lrows.a)
    latent = [(j, side, float(w)) for (j, side), w in zip(lrows.tags, y.tolist()) if w > 0]
    rows = bab._cert_rows(BM.certificate_rows(P, R, L, lam, P.xlo, P.xhi, latent=latent, alphas=alphas))
    box = leaf_box(P.net, P.xlo_q, P.xhi_q, {})
    _ok, _why, margin = check_leaf(P.net, box, rows, P.n, P.sizes)
    assert margin is not None and abs(float(margin) - m1) <= 1e-8 * (1 + abs(m1))


# ---------------------------------------------------------------- (c) proofs from the new path re-check; tampering fails
CROWN_CLOSES = [([6, 8, 6, 3], 6, 1.0, "box:-1,1"), ([5, 6, 3], 5, 0.5, "binary"), ([5, 6, 3], 2, 0.5, "binary")]


@pytest.mark.parametrize("sizes,seed,shift,dom", CROWN_CLOSES)
def test_crown_closed_leaves_recheck_standalone(sizes, seed, shift, dom, tmp_path):
    enc, _Ws, _bs = _net(sizes, seed, shift)
    res = _verify(enc, dom, {"CASCADE": ("interval", "crown", "lp"), "STRONG_K": 1})  # LP root bounds, CROWN at nodes
    assert res.stats["crown_closed"] >= 1, "the case must exercise a node closed by back-substitution"
    cert = _recheck(res, enc, tmp_path)
    crown = [lf for t in cert["trees"] for lf in _leaves(t["root"]) if lf.get("by") == "crown"]
    assert crown
    bad = copy.deepcopy(cert)
    leaf = [lf for t in bad["trees"] for lf in _leaves(t["root"]) if lf.get("by") == "crown"][0]
    for row in leaf["rows"]:
        if row[0] == "aff":
            row[3] = str(-Fraction(row[3]))  # a sign flip of every affine multiplier
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, tmp_path / "encoder.npz")


def _run_without_lp_tightening(enc, dom_text, mode):
    """run_p3 with no LP bound tightening at the root, so the nodes' back-substitution bounds do the work."""
    saved = _with(mode)
    bound_cache.clear()
    try:
        dom = parse_verify_domain(dom_text)
        pls = [piecewise_linear(layer.activation) for layer in enc.layers]
        t0 = time.perf_counter()
        res = run_p3(enc, pls, dom, False, t0 + 60, t0, tighten_seconds=0.0)
    finally:
        _with(saved)
    if res.certificate is not None:
        res.certificate.update(binding_record(enc, "none"))
    return res


def test_crown_tighten_splits_recheck_and_agree_with_the_old_engine(tmp_path):
    """Without root LP tightening, CROWN bounds of hidden units are recorded as splits whose far side is closed by
    the bound's rows; the certificate re-checks standalone, and the verdict is the old engine's."""
    enc, _Ws, _bs = _net([6, 10, 8, 3], 0, 0.5)
    tight = {"CASCADE": ("interval", "crown", "crown-tighten", "lp"), "STRONG_K": 1}
    res = _run_without_lp_tightening(enc, "box:-1,1", tight)
    old = _run_without_lp_tightening(enc, "box:-1,1", OLD)
    assert res.verdict == old.verdict == "proved", (res.reason, old.reason)
    assert res.stats["crown_splits"] >= 1
    cert = _recheck(res, enc, tmp_path)
    bad = copy.deepcopy(cert)
    split_leaves = [lf for t in bad["trees"] for lf in _leaves(t["root"]) if lf.get("by") == "crown"]
    assert split_leaves
    for row in split_leaves[0]["rows"]:
        if row[0] == "hull":
            row[6] = str(Fraction(row[6]) / 4)  # weaker multipliers: the affine terms no longer cancel
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, tmp_path / "encoder.npz")


@pytest.mark.parametrize("sizes,seed,shift,dom", [([6, 10, 8, 3], 0, 0.5, "box:-1,1"), ([7, 8, 6, 3], 1, 0.5, "binary")])
def test_invprop_bounds_recheck_and_a_too_tight_one_is_refused(sizes, seed, shift, dom, tmp_path):
    """INVPROP's root bounds are the certificate's derived bounds: the standalone re-checker derives each from its
    rows; one made tighter than its rows imply is refused."""
    enc, _Ws, _bs = _net(sizes, seed, shift)
    res = _verify(enc, dom, {"CASCADE": ("interval", "invprop", "crown", "lp"), "STRONG_K": 1})
    assert res.stats["invprop_bounds"] >= 1
    cert = _recheck(res, enc, tmp_path)
    bad = copy.deepcopy(cert)
    entry = bad["trees"][0]["bounds"][0]
    delta = Fraction(1, 2 ** 10)
    entry[3] = str(Fraction(entry[3]) + (delta if entry[2] == "ge" else -delta))
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, tmp_path / "encoder.npz")


# ---------------------------------------------------------------- (d) verdicts agree with the old engine and brute force
def _brute_binary(Ws, bs):
    n = Ws[0].shape[1]
    for bits in product((0, 1), repeat=n):
        if any(bits) and all(v <= 0 for v in _pre_activations(Ws, bs, bits)[-1]):
            return True
    return False


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), shift=st.sampled_from([0.0, 0.3, 0.8]), hidden=st.integers(2, 6),
       dom=st.sampled_from(["binary", "box:-1,1"]))
def test_new_engine_agrees_with_old_and_brute_force(seed, shift, hidden, dom, tmp_path_factory):
    enc, Ws, bs = _net([5, hidden, 3], seed, shift)
    modes = [None, OLD, {"CASCADE": ("interval", "crown", "alpha", "crown-tighten", "lp"), "STRONG_K": 3}]
    results = [_verify(enc, dom, m) for m in modes]
    verdicts = {r.verdict for r in results}
    assert verdicts <= {"proved", "refuted"} and len(verdicts) == 1, [r.reason for r in results]
    if dom == "binary":
        assert (results[0].verdict == "refuted") == _brute_binary(Ws, bs)
    tmp = tmp_path_factory.mktemp("agree")
    for r in results:
        if r.verdict == "proved":
            _recheck(r, enc, tmp)
        else:
            x = [Fraction(v) for v in r.counterexample]
            assert any(x) and all(v <= 0 for v in _pre_activations(Ws, bs, x)[-1])


# ---------------------------------------------------------------- (e) planted bugs are caught by the exact check
ORIG_THROUGH = BM._through_activation


def _sign_flip(R, k, G, alpha=None):
    """The planted bug: each unit's upper line used where its lower line belongs and back (a sign flip in the
    choice): the float bounds come out too tight, i.e. wrong."""
    R2 = copy.copy(R)
    R2.al, R2.au, R2.cl, R2.cu = R.au, R.al, R.cu, R.cl
    return ORIG_THROUGH(R2, k, G, None)


def test_planted_sign_flip_is_caught_by_the_exact_check(monkeypatch):
    """With the lines chosen by the wrong sign, back-substitution 'closes' the tree of a satisfiable query (no
    counterexample is accepted here, so only closing can end it); the exact re-check refuses the certificate."""
    enc, Ws, bs = _net([5, 6, 3], 1, 0.0)
    assert any(v != 0 for v in enc.exact([Fraction(0)] * 5))
    assert _verify(enc, "box:-1,1").verdict == "refuted"  # the honest engine: a counterexample exists
    monkeypatch.setattr(BM, "_through_activation", _sign_flip)
    P = _problem(Ws, bs, -1, 1)
    _nb, R = _relax(P)
    lo, hi = BM.crown_layer_bounds(P, R, 1, P.xlo, P.xhi)
    rng = np.random.default_rng(0)
    z = np.stack([Ws[1] @ np.maximum(Ws[0] @ x + bs[0], 0) + bs[1] for x in rng.uniform(-1, 1, size=(2000, 5))])
    assert np.any(z < lo - 1e-9) or np.any(z > hi + 1e-9), "the planted bug must produce wrong float bounds"
    saved = _with({"STRONG_K": 1})
    try:
        stats = bab.BabStats()
        status, root = bab.solve_tree(P, time.perf_counter() + 30, lambda x: None, stats, {})
    finally:
        _with(saved)
    assert status == "closed" and stats.crown_closed >= 1, "the bug must have closed a node"
    cert = {"schema": SCHEMA, "property": "p3", "domain": {"kind": "box", "lo": "-1", "hi": "1"}, "normalise": "none",
            "activations": [p.to_json() for p in P.pls], "nonzero": {"kind": "enc0-nonzero"},
            "trees": [{"bounds": [], "root": root}]}
    chk = check_certificate(cert, Ws, bs)
    assert not chk.ok and "leaf" in chk.reason


def test_planted_bug_in_recorded_bound_is_refused_by_the_exact_check():
    """A bound recorded with a split is only as good as its rows: rows of a too-tight (sign-flipped) CROWN
    bound do not close the split's far side in exact arithmetic."""
    _enc, Ws, bs = _net([5, 7, 6, 3], 0)
    P = _problem(Ws, bs, -1, 1)
    _nb, R = _relax(P)
    nb, R = _relax(P)
    lo, _hi = BM.crown_layer_bounds(P, R, 2, P.xlo, P.xhi)
    j = int(np.argmax(lo - nb.z[2][0]))  # the unit where CROWN beats the interval most
    assert lo[j] > nb.z[2][0][j] + 1e-2
    lam = np.zeros(P.sizes[2])
    lam[j] = 1.0
    honest = bab._cert_rows(BM.certificate_rows(P, R, 2, lam, P.xlo, P.xhi))
    beta = bab._dyadic(float(lo[j]) - 1e-3, True)  # the far side z <= beta is empty: the rows close it
    box = leaf_box(P.net, P.xlo_q, P.xhi_q, {("z", 2, j): (None, beta)})
    assert box.empty is None and check_leaf(P.net, box, honest, P.n, P.sizes)[0]
    too_high = bab._dyadic(float(lo[j]) + 1e-3, False)  # a bound past CROWN's: the rows cannot close that side
    box = leaf_box(P.net, P.xlo_q, P.xhi_q, {("z", 2, j): (None, too_high)})
    assert box.empty is None and not check_leaf(P.net, box, honest, P.n, P.sizes)[0]


def test_unknown_cascade_stage_is_refused():
    from latentcheck.theorems.errors import InvalidArgument

    _enc, Ws, bs = _net([3, 4, 2], 0)
    with pytest.raises(InvalidArgument, match="unknown bound method"):
        bab.Problem(Ws, bs, [piecewise_linear("relu")] * 2, np.full(3, -1.0), np.full(3, 1.0), [Fraction(-1)] * 3,
                    [Fraction(1)] * 3, False, None, methods=("interval", "crwon", "lp"))
