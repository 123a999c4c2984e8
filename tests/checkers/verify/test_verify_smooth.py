"""verify --property p3-eps and --min-latent for one-layer smooth encoders on binary users (issue 19 item 7).

Independent checks: mpmath (its own formulas, 50 digits) for the relaxations and windows; brute force over
all binary users (mpmath) for the verdicts and bounds; ``tests/_indep.py`` intervals for witnesses; the
standalone ``latentcheck recheck`` for certificates, with tampered copies that it must reject.
"""

from __future__ import annotations

import itertools
import json
import shutil
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from latentcheck.theorems.formats import load_encoder, save_encoder
from latentcheck.checkers.cli.app import main
from latentcheck.checkers.verify.api import verify, verify_min_latent
from latentcheck.counterexamples.certificate import save_bound_encoder, sha256_file, write_certificate
from latentcheck.counterexamples.recheck import recheck_path
from latentcheck.theorems.activations import Activation
from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.expr import parse_expression
from latentcheck.theorems.errors import InvalidArgument
from latentcheck.theorems.relaxations import SMOOTH, Line, line_valid, linear_bounds, small_window

from _indep import encode, l2_latent_iv

mp = mpmath.mp


def _f(name: str, t: Fraction):
    """The activation in mpmath, from its textbook formula (not latentcheck's expression)."""
    with mpmath.workdps(50):
        x = mpmath.mpf(t.numerator) / t.denominator
        return {"tanh": lambda: mpmath.tanh(x), "sigmoid": lambda: 1 / (1 + mpmath.exp(-x)),
                "softplus": lambda: mpmath.log1p(mpmath.exp(x)), "elu": lambda: x if x > 0 else mpmath.expm1(x),
                "gelu": lambda: x * (1 + mpmath.erf(x / mpmath.sqrt(2))) / 2,
                "silu": lambda: x / (1 + mpmath.exp(-x))}[name]()


def _m(q: Fraction):
    with mpmath.workdps(50):
        return mpmath.mpf(q.numerator) / q.denominator


# ---------------------------------------------------------------- relaxations
@pytest.mark.parametrize("name", sorted(SMOOTH))
@pytest.mark.parametrize("l,u", [(-3, 2), (Fraction(1, 2), Fraction(7, 2)), (-6, Fraction(-1, 4))])
def test_linear_bounds_hold_at_many_points(name, l, u):
    l, u = Fraction(l), Fraction(u)
    low, high = linear_bounds(name, l, u)
    assert low.a == high.a and low.c < high.c
    for i in range(301):
        t = l + (u - l) * i / 300
        v = _f(name, t)
        with mpmath.workdps(50):
            assert low.a * mpmath.mpf(t.numerator) / t.denominator + mpmath.mpf(low.c.numerator) / low.c.denominator <= v
            assert v <= high.a * mpmath.mpf(t.numerator) / t.denominator + mpmath.mpf(high.c.numerator) / high.c.denominator


def test_line_proof_rejects_too_tight_lines():
    one = Fraction(1)
    # tanh(t) <= t on [0, 1]; touching at 0, so a proof needs a margin (without one: not proved, never wrong)
    assert line_valid("tanh", Line(one, Fraction(1, 1 << 40)), Fraction(0), one, lower=False)
    assert not line_valid("tanh", Line(one, Fraction(0)), Fraction(0), one, lower=True)  # t <= tanh(t): false
    # the tangent moved down by 2^-60: wrong at t = 0 only by 2^-60
    assert not line_valid("tanh", Line(one, -Fraction(1, 1 << 60)), Fraction(0), one, lower=False)
    # the secant of the concave piece used as an upper line: wrong inside
    sec = Line(Fraction(float(_f("tanh", Fraction(2)))) / 2, Fraction(0))
    assert not line_valid("tanh", sec, Fraction(0), Fraction(2), lower=False)
    assert not line_valid("sigmoid", Line(Fraction(1, 4), Fraction(1, 2) + Fraction(1, 1 << 50)), Fraction(-1), one, lower=True)


@pytest.mark.parametrize("name", sorted(SMOOTH))
@pytest.mark.parametrize("eps", [Fraction(1, 1000), Fraction(1, 10), Fraction(3, 4)])
def test_small_window_encloses_the_set(name, eps):
    w = small_window(name, eps)
    lo, hi = w.outer
    if hi is not None:
        assert _f(name, hi) >= _m(eps)
    if lo is not None:
        assert _f(name, lo) <= -_m(eps)
    if w.inner is not None:
        a, c = w.inner
        for t in [v for v in (a, c) if v is not None]:
            assert abs(_f(name, t)) < _m(eps)  # the inner ends are inside the set (strict monotonicity does the rest)
        if c is not None and hi is not None:
            assert 0 <= hi - c <= Fraction(1, 1 << 30) * max(1, abs(hi))
    with pytest.raises(InvalidArgument):
        small_window(name, Fraction(0))


def test_window_refuses_other_activations():
    with pytest.raises(InvalidArgument):
        small_window("relu", Fraction(1, 10))


# ---------------------------------------------------------------- verdicts vs brute force
def _true_min(W, b, name, norm) -> Fraction:
    """min over binary x != 0 of |enc(x)|_inf, by brute force in 40-digit mpmath (as a Fraction)."""
    n = W.shape[1]
    best = None
    with mpmath.workdps(40):
        for bits in itertools.product([0, 1], repeat=n):
            k = sum(bits)
            if not k:
                continue
            S = mpmath.sqrt(k) if norm == "l2" else mpmath.mpf(1)
            for_j = []
            for j in range(W.shape[0]):
                zj = sum((Fraction(float(W[j, i])) for i in range(n) if bits[i]), Fraction(0))
                pre = (mpmath.mpf(zj.numerator) / zj.denominator) / S + mpmath.mpf(float(b[j]))
                for_j.append(abs(_sig(name, pre)))
            v = max(for_j)
            best = v if best is None else min(best, v)
        man, exp = best.man_exp
    return Fraction(man) * Fraction(2) ** exp


def _sig(name, x):
    return {"tanh": mpmath.tanh, "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)), "softplus": lambda v: mpmath.log1p(mpmath.exp(v)),
            "elu": lambda v: v if v > 0 else mpmath.expm1(v), "gelu": lambda v: v * (1 + mpmath.erf(v / mpmath.sqrt(2))) / 2,
            "silu": lambda v: v / (1 + mpmath.exp(-v))}[name](x)


def _witness_small(enc, name, norm, x, eps):
    layers = [(np.asarray(enc.layers[0].W), np.asarray(enc.layers[0].b), name)]
    vals = l2_latent_iv(layers, x) if norm == "l2" else encode(layers, x)
    ivq = mpmath.iv.mpf(eps.numerator) / eps.denominator
    return all(max(abs(v.a), abs(v.b)).b < ivq.a if not isinstance(v, Fraction) else abs(v) < eps for v in vals)


CASES = [(seed, name, norm) for seed, name in enumerate(["tanh", "sigmoid", "softplus", "elu", "gelu", "silu"] * 2)
         for norm in ("none", "l2")]


@pytest.mark.parametrize("seed,name,norm", CASES)
def test_verdicts_agree_with_brute_force(seed, name, norm):
    rng = np.random.default_rng(seed)
    n, m = 7, 3
    W, b = rng.normal(size=(m, n)).astype(np.float32), rng.normal(size=m).astype(np.float32)
    enc = Encoder.from_arrays([W], [b], [name])
    true = _true_min(W, b, name, norm)
    decided = 0
    for scale in (Fraction(4, 5), Fraction(6, 5)):
        eps = Fraction(float(true)).limit_denominator(10 ** 6) * scale
        res = verify(enc, f"p3-eps:{eps},1", domain="binary", input_normalise=norm, timeout=20)
        if res.verdict == "proved":
            assert eps <= true
            decided += 1
        elif res.verdict == "refuted":
            x = [int(v) for v in res.counterexample]
            assert any(x) and _witness_small(enc, name, norm, x, eps) and true < eps
            decided += 1
        else:
            assert res.verdict == "unknown"
    # n = 7: the branching on x decides both for activations increasing on the line. gelu and silu have the
    # one-sided window (-inf, C) (their small set is two intervals for small eps) and a search inside (-C, C):
    # sound (checked above), not always decisive
    if SMOOTH[name].increasing_from is None:
        assert decided == 2
    ml = verify_min_latent(enc, domain="binary", input_normalise=norm, timeout=10).min_latent
    assert Fraction(ml["lower"]) <= true <= Fraction(ml["upper"])


def test_out_of_scope_is_unknown_never_proved():
    rng = np.random.default_rng(0)
    deep = Encoder.from_arrays([rng.normal(size=(4, 6)), rng.normal(size=(2, 4))], [np.zeros(4), np.ones(2)], ["tanh", "tanh"])
    assert verify(deep, "p3-eps:1/100", domain="binary").verdict == "unknown"
    one = Encoder.from_arrays([rng.normal(size=(2, 6))], [np.ones(2)], ["tanh"])
    assert verify(one, "p3-eps:1/100", domain="nonneg").verdict == "unknown"
    assert verify(one, "p3-eps:1/100", domain="box:-1,1", input_normalise="l2").verdict == "unknown"
    relu = Encoder.from_arrays([rng.normal(size=(2, 6))], [np.ones(2)], ["relu"])
    assert verify(relu, "p3-eps:1/100", domain="binary").verdict == "unknown"



@pytest.mark.parametrize("domain", ["binary", "box:-1,1"])
def test_a_user_activation_named_like_a_smooth_one_is_never_proved(domain):
    """An Activation built by hand with the name ``tanh`` but another expression (``Max(0, t - 1)``) is not the
    catalogue's tanh: the smooth engines decide by the name's arb formula, so they must not take it (it was
    "proved"). Here x = e_1 (binary, and in the box, |x|_2 = 1) is encoded as exactly 0."""
    impostor = Activation("tanh", parse_expression("Max(0, t - 1)"), "jnp.tanh", ())
    enc = Encoder.from_arrays([np.eye(2)], [np.zeros(2)], [impostor])
    assert enc.exact([1, 0]) == [0, 0]  # a zero of |enc(x)|_inf with |x|_2 = 1: p3-eps:1/100,1/4 is false
    res = verify(enc, "p3-eps:1/100,1/4", domain=domain, timeout=10)
    assert res.verdict != "proved", res.reason
    assert verify_min_latent(enc, domain="binary", timeout=10).verdict != "proved"
    # the catalogue's own tanh, and the same formula built by hand, are still in scope
    same = Activation("tanh", parse_expression("tanh(t)"), "jnp.tanh", ())
    for act in ("tanh", same):
        ok = Encoder.from_arrays([np.eye(2)], [3 * np.ones(2)], [act])  # z >= 2 on both domains
        assert verify(ok, "p3-eps:1/100,1/4", domain=domain, timeout=10).verdict == "proved"


# ---------------------------------------------------------------- certificates: standalone re-check, tampering
@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory):
    rng = np.random.default_rng(16)  # a cover with all four proof kinds: unit, items, farkas, tree
    W, b = rng.normal(size=(4, 9)).astype(np.float32), (rng.normal(size=4) - 1).astype(np.float32)
    enc = Encoder.from_arrays([W], [b], ["tanh"])
    true = _true_min(W, b, "tanh", "l2")
    eps = Fraction(float(true)).limit_denominator(1000) / 2
    res = verify(enc, f"p3-eps:{eps}", domain="binary", input_normalise="l2", timeout=30)
    assert res.verdict == "proved" and res.certificate["schema"].endswith("smooth/1")
    kinds = {e["proof"]["kind"] for e in res.certificate["cover"]}
    out = tmp_path_factory.mktemp("smooth")
    save_bound_encoder(enc, "l2", out / "encoder.npz")
    cert = {**res.certificate, "encoder_file": "encoder.npz", "encoder_sha256": sha256_file(out / "encoder.npz")}
    write_certificate(cert, out / "certificate.json")
    return out, cert, kinds


def test_certificate_rechecks_standalone(cert_dir):
    out, _, kinds = cert_dir
    code, text = recheck_path(str(out / "certificate.json"))
    assert code == 0 and text.startswith("OK: P3-eps"), text
    assert kinds == {"unit", "items", "farkas", "tree"}


def _tampered(cert_dir, tmp_path, change):
    out, cert, _ = cert_dir
    bad = json.loads(json.dumps(cert))
    change(bad)
    shutil.copy(out / "encoder.npz", tmp_path / "encoder.npz")
    write_certificate(bad, tmp_path / "certificate.json")
    return recheck_path(str(tmp_path / "certificate.json"))


def _first_farkas(c):
    return next(e for e in c["cover"] if e["proof"]["kind"] == "farkas")["proof"]["rows"]


def _leaves(node):
    return [node] if "split" not in node else _leaves(node["le"]) + _leaves(node["ge"])


def _tree_root(c):
    return next(e for e in c["cover"] if e["proof"]["kind"] == "tree")["proof"]["root"]


def _tamper_tree(c, how):
    root = _tree_root(c)
    if how == "tree-split":  # the same variable split twice
        root["ge"] = {"split": root["split"], "le": root["ge"], "ge": root["ge"]}
    elif how == "tree-leaf":  # a Farkas leaf with its multipliers scaled unevenly
        leaf = next(x for x in _leaves(root) if "farkas" in x)
        leaf["farkas"][0][2] = str(Fraction(leaf["farkas"][0][2]) * 5 + 1)
    elif how == "tree-empty":  # a Farkas leaf claimed empty
        leaf = next(x for x in _leaves(root) if "farkas" in x)
        leaf.clear()
        leaf["empty"] = True
    else:  # a wider window (still valid): the items proof of k = 1 (checked first) no longer holds
        c["window"] = {"lo": "-10", "hi": "10"}


@pytest.mark.parametrize("what", ["multiplier", "window", "eps", "hash", "cover", "normalise", "unit",
                                  "tree-split", "tree-leaf", "tree-empty", "items"])
def test_tampered_certificates_are_rejected(cert_dir, tmp_path, what):
    def change(c):
        if what == "multiplier":
            rows = _first_farkas(c)
            rows[0][2] = str(Fraction(rows[0][2]) * 3 + 1)
        elif what == "window":
            c["window"]["hi"] = str(Fraction(c["window"]["hi"]) * Fraction(99, 100))
        elif what == "eps":
            c["eps"] = str(Fraction(c["eps"]) * 2)
        elif what == "hash":
            c["encoder_sha256"] = "0" * 64
        elif what == "cover":
            c["cover"] = c["cover"][:-1]
        elif what == "normalise":
            c["normalise"] = "none"
        elif what.startswith("tree") or what == "items":
            _tamper_tree(c, what)
        else:
            e = c["cover"][0]
            e["proof"] = {"kind": "unit", "j": 0, "side": "hi"}
            e["k"] = [1, 9]
    code, text = _tampered(cert_dir, tmp_path, change)
    assert code == 1 and text.startswith("REJECTED"), text
    if what == "items":
        assert "item" in text, text


def test_other_encoder_is_refused(cert_dir, tmp_path):
    out, cert, _ = cert_dir
    with np.load(out / "encoder.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["W0"] = arrays["W0"].copy()
    arrays["W0"][0, 0] += 1
    np.savez(tmp_path / "encoder.npz", **arrays)
    write_certificate(cert, tmp_path / "certificate.json")
    code, text = recheck_path(str(tmp_path / "certificate.json"))
    assert code == 1 and "SHA-256" in text


# ---------------------------------------------------------------- CLI
def _cli(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().out


def test_cli_exit_codes(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "sig.npz", W0=rng.normal(size=(3, 8)).astype(np.float32), b0=rng.normal(size=3).astype(np.float32),
             activations=np.array(["sigmoid"]))
    np.savez(tmp_path / "deep.npz", W0=rng.normal(size=(3, 8)), b0=np.zeros(3), W1=rng.normal(size=(2, 3)), b1=np.zeros(2),
             activations=np.array(["tanh", "tanh"]))
    w = str(tmp_path / "sig.npz")
    code, out = _cli(["verify", "--property", "p3-eps:1/1000", "--weights", w, "--domain", "binary", "--out", str(tmp_path / "o"), "--json"], capsys)
    assert code == 0, out
    assert json.loads(out)["property"] == "p3-eps:1/1000,1"
    assert recheck_path(str(tmp_path / "o" / "certificate.json"))[0] == 0
    assert _cli(["verify", "--property", "p3-eps:9/10", "--weights", w, "--domain", "binary"], capsys)[0] == 1
    assert _cli(["verify", "--property", "p3-eps:0", "--weights", w, "--domain", "binary"], capsys)[0] == 2
    assert _cli(["verify", "--property", "p3-eps:1/100", "--weights", str(tmp_path / "deep.npz"), "--domain", "binary"], capsys)[0] == 3
    code, out = _cli(["verify", "--min-latent", "--weights", w, "--domain", "binary", "--timeout", "10", "--json"], capsys)
    ml = json.loads(out)["min_latent"]
    assert code == 0 and 0 < Fraction(ml["lower"]) <= Fraction(ml["upper"])


# ---------------------------------------------------------------- a trained ML-100K encoder
@pytest.mark.data
@pytest.mark.slow
def test_trained_ml100k_sigmoid_encoder(ml100k_path, tmp_path):
    from latentcheck.checkers.study.data import liang_split, load_ratings
    from latentcheck.checkers.study.models import MultDAE
    from latentcheck.checkers.study.train import TrainConfig, train_multdae

    s = liang_split(load_ratings(ml100k_path))
    model = MultDAE(n_items=s.n_items, hidden=(32,), latent="sigmoid")
    res = train_multdae(model, s, TrainConfig(epochs=2, batch_size=500, lr=3e-3, eval_every=2), test=False)
    enc = model.encoder(res.params)
    out = verify_min_latent(enc, domain="binary", input_normalise="l2", timeout=120)
    ml = out.min_latent
    assert out.verdict == "proved" and 0 < Fraction(ml["lower"]) <= Fraction(ml["upper"])
    x = ml["witness_items"]
    user = [1 if i in x else 0 for i in range(enc.n)]
    vals = l2_latent_iv([(np.asarray(enc.layers[0].W), np.asarray(enc.layers[0].b), "sigmoid")], user)
    assert max(v.b for v in vals) <= mpmath.iv.mpf(Fraction(ml["upper"]).numerator) / Fraction(ml["upper"]).denominator
    save_bound_encoder(enc, "l2", tmp_path / "encoder.npz")
    cert = {**out.certificate, "encoder_file": "encoder.npz", "encoder_sha256": sha256_file(tmp_path / "encoder.npz")}
    write_certificate(cert, tmp_path / "certificate.json")
    assert recheck_path(str(tmp_path / "certificate.json"))[0] == 0


# ---------------------------------------------------------------- the engine's own exact check (planted bugs)
def test_engine_check_rejects_planted_bugs(cert_dir):
    from latentcheck.counterexamples.certificate_smooth import CertificateError, check_smooth_certificate

    out, cert, _ = cert_dir
    enc = load_encoder(str(out / "encoder.npz"))
    K, d = enc.layers[0].kernel.W.integer_form()
    args = (K, d, list(enc.layers[0].b_exact), "tanh", enc.n)
    assert check_smooth_certificate(json.loads(json.dumps(cert)), *args) == enc.n
    for change in (lambda c: c.update(eps=str(Fraction(c["eps"]) * 2)),
                   lambda c: c["window"].update(hi=str(Fraction(c["window"]["hi"]) / 2)),
                   lambda c: _first_farkas(c)[0].__setitem__(2, str(Fraction(_first_farkas(c)[0][2]) * 7 + 1)),
                   lambda c: _tamper_tree(c, "tree-empty")):
        bad = json.loads(json.dumps(cert))
        change(bad)
        with pytest.raises(CertificateError):
            check_smooth_certificate(bad, *args)


def test_radius_restricts_the_users():
    rng = np.random.default_rng(5)
    W, b = rng.normal(size=(3, 6)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    enc = Encoder.from_arrays([W], [b], ["sigmoid"])
    assert verify(enc, "p3-eps:1/2,3", domain="binary").verdict == "proved"  # |x|_2 >= 3 needs 9 > 6 items
    res = verify(enc, "p3-eps:1/1000,2", domain="binary")  # users with at least 4 items
    assert res.verdict == "proved" and min(e["k"][0] for e in res.certificate["cover"]) == 4


@pytest.mark.parametrize("name", ["gelu", "silu", "softplus", "elu"])
def test_recheck_evaluates_every_activation(name, tmp_path):
    """The standalone re-checker's own interval formulas (gelu: its own erf series) accept a true window end and
    reject one moved inside the small set."""
    rng = np.random.default_rng(2)
    W, b = rng.normal(size=(3, 6)).astype(np.float32), (rng.normal(size=3) + 3).astype(np.float32)
    enc = Encoder.from_arrays([W], [b], [name])
    res = verify(enc, "p3-eps:1/50", domain="binary", timeout=20)
    assert res.verdict == "proved", res.reason
    save_bound_encoder(enc, "none", tmp_path / "encoder.npz")
    cert = {**res.certificate, "encoder_file": "encoder.npz", "encoder_sha256": sha256_file(tmp_path / "encoder.npz")}
    write_certificate(cert, tmp_path / "certificate.json")
    assert recheck_path(str(tmp_path / "certificate.json"))[0] == 0
    hi = Fraction(cert["window"]["hi"])
    cert["window"]["hi"] = str(hi - abs(hi) / 10 - Fraction(1, 100))  # inside the small set
    write_certificate(cert, tmp_path / "certificate.json")
    code, text = recheck_path(str(tmp_path / "certificate.json"))
    assert code == 1 and "window hi" in text, text


# ---------------------------------------------------------------- a box
@pytest.mark.parametrize("seed", range(6))
def test_box_verdicts_are_sound(seed, tmp_path):
    rng = np.random.default_rng(seed)
    name = ["tanh", "sigmoid", "elu"][seed % 3]
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    enc = Encoder.from_arrays([W], [b], [name])
    layers = [(W, b, name)]
    seen = set()
    for spec, eps, r in (("1/100,0", Fraction(1, 100), Fraction(0)), ("1/10,2", Fraction(1, 10), Fraction(2)),
                         ("1/2,1", Fraction(1, 2), Fraction(1))):
        res = verify(enc, f"p3-eps:{spec}", domain="box:-1,1", timeout=20)
        seen.add(res.verdict)
        if res.verdict == "refuted":
            x = [Fraction(v) for v in res.counterexample]
            assert all(-1 <= v <= 1 for v in x) and sum(v * v for v in x) >= r * r
            assert _witness_small(enc, name, "none", x, eps)
        elif res.verdict == "proved":  # no sampled point of the box with |x| >= r is a counterexample
            pts = rng.uniform(-1, 1, size=(4000, 5))
            pts = pts[(pts ** 2).sum(axis=1) >= float(r) ** 2]
            z = pts @ W.T + b
            act = {"tanh": np.tanh, "sigmoid": lambda t: 1 / (1 + np.exp(-t)), "elu": lambda t: np.where(t > 0, t, np.expm1(t))}[name]
            assert np.all(np.abs(act(z)).max(axis=1) >= float(eps) * (1 - 1e-9))
            save_bound_encoder(enc, "none", tmp_path / "encoder.npz")
            cert = {**res.certificate, "encoder_file": "encoder.npz", "encoder_sha256": sha256_file(tmp_path / "encoder.npz")}
            write_certificate(cert, tmp_path / "certificate.json")
            assert recheck_path(str(tmp_path / "certificate.json"))[0] == 0
    assert seen & {"proved", "refuted"}


def test_box_certificate_tampering(tmp_path):
    rng = np.random.default_rng(0)
    rng.normal(size=(3, 5)), rng.normal(size=3)
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    enc = Encoder.from_arrays([W], [b], ["sigmoid"])
    res = verify(enc, "p3-eps:1/10,2", domain="box:-1,1", timeout=20)
    assert res.verdict == "proved" and res.certificate["domain"]["kind"] == "box"
    save_bound_encoder(enc, "none", tmp_path / "encoder.npz")
    good = {**res.certificate, "encoder_file": "encoder.npz", "encoder_sha256": sha256_file(tmp_path / "encoder.npz")}
    write_certificate(good, tmp_path / "certificate.json")
    assert recheck_path(str(tmp_path / "certificate.json"))[0] == 0
    for what, change in (("rho", lambda c: c.update(rho=str(Fraction(c["rho"]) * 2))), ("case", lambda c: c["cases"].pop()),
                         ("multipliers", lambda c: [row.__setitem__(2, "0") for row in c["cases"][0]["proof"]["rows"]]),
                         ("box", lambda c: c["domain"].update(lo="-100", hi="100")), ("r", lambda c: c.update(r="1"))):
        bad = json.loads(json.dumps(good))
        change(bad)
        write_certificate(bad, tmp_path / "certificate.json")
        code, text = recheck_path(str(tmp_path / "certificate.json"))
        assert code == 1, (what, text)
