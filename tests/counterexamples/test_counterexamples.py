"""Counterexample records, certification labels, shrinking, reports and the command line."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from typer.testing import CliRunner

from latentcheck import counterexamples
from latentcheck.checkers.cli.app import app
from latentcheck.theorems.domains import parse_domain
from latentcheck.checkers.falsify import falsify
from latentcheck.counterexamples import (
    Counterexample,
    certify_flip,
    certify_zero,
    load_report,
    render_markdown,
    shrink,
    strip_timings,
    write_report,
)
from latentcheck.theorems import Encoder, check_flip, check_zero
from latentcheck import save_encoder


def test_public_api_matches_all() -> None:
    for name in counterexamples.__all__:
        assert hasattr(counterexamples, name), name
    import latentcheck.checkers.falsify as f

    for name in f.__all__:
        assert hasattr(f, name), name


def test_counterexample_roundtrip_and_validation() -> None:
    cx = Counterexample.from_vectors("P2", [[0, 0], [Fraction(1, 3), 0], [0, -2]], margin="1/7", certified="exact",
                                     dtype="float32", domain="reals", origin="test")
    assert cx.witness == (("0", "0"), ("1/3", "0"), ("0", "-2"))
    assert Counterexample.from_json(cx.to_json()) == cx
    assert cx.nonzeros == 2 and cx.is_certified
    with pytest.raises(ValueError):
        Counterexample("P3", (("1",),), None, "maybe", None, "reals")
    with pytest.raises(ValueError):
        Counterexample("P2", (("1",),), None, "exact", None, "reals")


def test_certify_labels() -> None:
    enc = Encoder.from_arrays([[[1.0, -1.0]]], [[0.0]], ["relu"])
    assert certify_zero(enc, [0, 1]).status == "exact"
    assert certify_zero(enc, [1, 0]).status == "refuted"
    assert certify_zero(enc, [0, 0]).status == "outside"
    assert certify_zero(enc, [Fraction(1, 2), 1], domain=parse_domain("binary")).status == "outside"
    tiny = Encoder.from_arrays([[[0.0, 0.0]]], [[1e-30]], ["tanh"])
    c = certify_zero(tiny, [1, 0], dtype="float16")
    assert c.status == "float-only" and not c.certified
    sig = Encoder.from_arrays([[[1.0, 2.0]]], [[0.5]], ["sigmoid"])
    f = certify_flip(sig, [0, 0], [1, 0], [-1, 0])
    assert f.status == "interval" and f.certified


def test_shrink_gives_smaller_certified_witnesses() -> None:
    enc = Encoder.random([30, 4], "relu", seed=2)
    res = falsify(enc, "p3", budget=5, seed=0, shrink=False, max_counterexamples=2)
    dom = parse_domain("reals")
    for cx in res.counterexamples:
        small, used = shrink(cx, enc, domain=dom, max_checks=60)
        assert used >= 1
        assert (small.nonzeros, small.size) <= (cx.nonzeros, cx.size)
        assert small.size < cx.size
        assert check_zero(enc, small.vector("x")).violates is True
        assert small.certified == "exact"


def test_shrink_p2_keeps_the_flip() -> None:
    enc = Encoder.random([20, 5], "tanh", seed=3)
    res = falsify(enc, "p2", budget=5, seed=0, shrink=False)
    for cx in res.counterexamples:
        small, _ = shrink(cx, enc, domain=parse_domain("reals"), max_checks=40)
        v = small.vectors()
        assert check_flip(enc, v["x"], v["u"], v["v"]).violates is True
        assert (small.nonzeros, small.size) <= (cx.nonzeros, cx.size)


def test_shrink_binary_has_fewer_ones() -> None:
    rng = np.random.default_rng(0)
    enc = Encoder.from_arrays([rng.normal(size=(3, 24))], [np.full(3, 0.05)], ["relu"])
    x = None
    for _ in range(2000):  # a dense binary zero by rejection sampling
        cand = (rng.random(24) < 0.6).astype(float)
        if np.all(enc.pre_activations(cand) <= 0) and cand.sum() > 3:
            x = cand
            break
    assert x is not None
    cx = Counterexample.from_vectors("P3", [[int(v) for v in x]], margin="0", certified="exact", dtype="float32", domain="binary")
    small, _ = shrink(cx, enc, domain=parse_domain("binary"), max_checks=80)
    assert small.nonzeros < cx.nonzeros
    assert set(small.vector("x")) <= {0, 1}
    assert check_zero(enc, small.vector("x")).violates is True


def test_write_report_and_rerender(tmp_path) -> None:
    enc = Encoder.random([20, 5], "sigmoid", seed=1)
    res = falsify(enc, "p2", budget=5, seed=0, min_rounds=1)
    paths = write_report(res, tmp_path, command="latentcheck falsify ...")
    data = load_report(paths["json"])
    assert data["schema"] == "latentcheck.falsify/1"
    for key in ("property", "encoder", "domain", "dtype", "seed", "versions", "device", "stats", "counterexamples"):
        assert key in data, key
    assert {"evaluations", "restarts", "rounds"} <= set(data["stats"])
    assert paths["markdown"].read_text() == render_markdown(data)
    assert (tmp_path / "flip_margins.png").exists()
    cx = data["counterexamples"][0]
    assert cx["certified"] in ("exact", "interval") and cx["real"] is True
    assert all(isinstance(v, str) for v in cx["witness"]["x"])
    assert "timing" not in strip_timings(data)["stats"]


def test_markdown_never_calls_float_only_real(tmp_path) -> None:
    enc = Encoder.random([24, 6], "sigmoid", seed=2)
    res = falsify(enc, "p3", dtype="float16", budget=5, seed=0)
    text = render_markdown(res.to_json())
    assert "Certified counterexamples" not in text
    assert "NOT a counterexample over the reals" in text
    assert "not counterexamples to P3" in text


runner = CliRunner()


def test_cli_exit_codes_and_json(tmp_path) -> None:
    r = runner.invoke(app, ["falsify", "--property", "p3", "--layers", "16,4", "--activation", "relu", "--budget", "5",
                            "--json", "--no-shrink"])
    assert r.exit_code == 1, r.output
    data = json.loads(r.output)
    assert data["status"] == "counterexample"
    r = runner.invoke(app, ["falsify", "--property", "p3", "--layers", "16,4", "--activation", "sigmoid", "--budget", "1",
                            "--dtype", "float64", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "report.md").exists()
    r = runner.invoke(app, ["report", str(tmp_path / "o" / "report.json")])
    assert r.exit_code == 0 and "latentcheck falsify: P3" in r.output


def test_cli_bad_input_exits_2(tmp_path) -> None:
    from latentcheck.checkers.cli.app import main

    cases = [
        ["falsify", "--property", "p5", "--layers", "4,2", "--activation", "relu"],
        ["falsify", "--property", "p3", "--layers", "4,x", "--activation", "relu"],
        ["falsify", "--property", "p3", "--layers", "4,2"],
        ["falsify", "--property", "p3", "--weights", str(tmp_path / "missing.npz")],
        ["falsify", "--property", "p3", "--layers", "4,2", "--activation", "relu", "--domain", "torus"],
        ["falsify", "--property", "p3", "--layers", "4,2", "--activation", "__import__('os')"],
        ["report", str(tmp_path / "nope.json")],
    ]
    for argv in cases:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv


def test_cli_weights_file_and_same_seed_same_json(tmp_path) -> None:
    enc = Encoder.random([16, 4], "tanh", seed=3)
    path = tmp_path / "w.npz"
    save_encoder(enc, path)
    argv = ["falsify", "--property", "p2", "--weights", str(path), "--budget", "10", "--seed", "7", "--json"]
    a, b = runner.invoke(app, argv), runner.invoke(app, argv)
    assert a.exit_code == b.exit_code == 1
    assert strip_timings(json.loads(a.output)) == strip_timings(json.loads(b.output))


# ---------------------------------------------------------------- the vectorised re-checks equal theorems' decisions
def _random_vectors(rng: np.random.Generator, n: int) -> list[list[Fraction]]:
    import random

    R = random.Random(int(rng.integers(1 << 30)))
    out = [
        [Fraction(float(v)) for v in rng.normal(size=n) * np.exp(rng.normal(size=n) * 4)],  # floats, wide exponents
        [Fraction(R.randint(-10**25, 10**25), R.randint(1, 10**12)) for _ in range(n)],  # odd denominators
        [Fraction(0)] * n,
    ]
    sparse = [Fraction(0)] * n
    sparse[int(rng.integers(n))] = Fraction(int(rng.integers(1, 5)), 3)
    out.append(sparse)
    return out


@pytest.mark.parametrize("sizes,act,hidden", [([9, 3], "relu", None), ([9, 3], "tanh", None), ([9, 3], "sigmoid", None),
                                              ([9, 3], "leaky_relu", None), ([9, 3], "softplus", None),
                                              ([9, 3], "identity", None), ([9, 6, 3], "tanh", "relu"),
                                              ([9, 6, 3], "sigmoid", "relu"), ([9, 6, 3], "relu", "tanh"),
                                              ([9, 3], "gelu", None), ([9, 3], "elu", None), ([9, 3], "silu", None),
                                              ([9, 3], "erf", None), ([9, 3], "exp", None), ([9, 3], "softsign", None)])
def test_fast_checks_equal_theorems(sizes, act, hidden) -> None:
    from latentcheck.counterexamples.fast import QVec, check_flip_fast, check_zero_fast

    rng = np.random.default_rng(len(sizes) * 7 + len(act))
    enc = Encoder.random(sizes, act, hidden, seed=5)
    for _ in range(3):
        vecs = _random_vectors(rng, enc.n)
        # a point with exactly-zero pre-activations where the body is linear enough to build one
        for x in vecs:
            fast = check_zero_fast(enc, QVec.from_fractions(x))
            if fast is not None:
                _same_verdict(fast, check_zero(enc, x))
            else:
                assert not enc.body_is_exact()
        for x, u, v in [(vecs[0], vecs[1], vecs[3]), (vecs[2], vecs[3], vecs[2]), (vecs[1], vecs[0], vecs[0])]:
            fast = check_flip_fast(enc, *(QVec.from_fractions(w) for w in (x, u, v)))
            if fast is not None:
                _same_verdict(fast, check_flip(enc, x, u, v))


def _same_verdict(fast, ref) -> None:
    """The same decision and label; an interval margin (a ball's lower end vs an mpmath interval's) agrees to 1e-15.
    (Balls can be tighter than mpmath's intervals, log1p for softplus: the first coordinate shown nonzero may differ.)"""
    assert (fast.violates, fast.certified) == (ref.violates, ref.certified)
    if fast.certified != "interval":
        assert fast == ref
        return
    assert (fast.margin is None) == (ref.margin is None)
    if fast.margin is None:
        return
    a, b = Fraction(fast.margin), Fraction(ref.margin)
    assert abs(a - b) <= abs(b) * Fraction(1, 10**15)


def test_fast_zero_check_on_real_zeros_and_certify_inputs() -> None:
    # relu(x0 - x1) and tanh(x0 - x1): x = (1, 1, 5) is an exact zero; as Fractions, strings, a float array.
    for act in ("relu", "tanh"):
        enc = Encoder.from_arrays([[[1.0, -1.0, 0.0], [0.5, -0.5, 0.0]]], [[0.0, 0.0]], [act])
        for x in ([1, 1, 5], ["1", "1", "5"], np.array([1.0, 1.0, 5.0])):
            c = certify_zero(enc, x)
            assert c.status == "exact" and c.check == check_zero(enc, [1, 1, 5])


def test_exact_affine_fast_equals_exact_affine() -> None:
    import random

    from latentcheck.counterexamples.fast import QVec, exact_affine_fast
    from latentcheck.theorems.encoder import exact_affine

    rng = np.random.default_rng(0)
    R = random.Random(0)
    fell_back = 0
    for trial in range(40):
        m, n = int(rng.integers(1, 7)), int(rng.integers(1, 25))
        W = rng.normal(size=(m, n)) * np.exp(rng.normal(size=(m, n)) * 6)
        W[rng.random((m, n)) < 0.25] = 0.0
        if trial % 7 == 0:
            W[0, 0] = 1e-300  # exponents spanning ~1000 bits: the limb scheme declines
        b = rng.normal(size=m)
        enc = Encoder.from_arrays([W], [b], ["relu"])
        if trial % 2:
            xs = [Fraction(R.randint(-10**30, 10**30), R.randint(1, 10**20)) if R.random() < 0.7 else Fraction(0) for _ in range(n)]
        else:
            xs = [Fraction(float(v)) for v in rng.normal(size=n) * np.exp(rng.normal(size=n) * 10)]
        out = exact_affine_fast(enc.layers[0], QVec.from_fractions(xs))
        if out is None:
            fell_back += 1
            continue
        assert out == exact_affine(W, b, xs)
    assert fell_back == 0  # FLINT's integers take any float64 exponent span (1e-300 beside 1e+10 too)


def test_qvec_canonical_and_strings() -> None:
    from latentcheck.counterexamples.fast import QVec
    from latentcheck.counterexamples.types import format_fraction

    x = np.array([0.0, -0.75, 3.0, 1e-20, -0.0, 2.0**60])
    a, b = QVec.from_float(x), QVec.from_fractions([Fraction(float(v)) for v in x])
    assert a.key() == b.key() and a.fractions() == [Fraction(float(v)) for v in x]
    assert a.strings() == tuple(format_fraction(Fraction(float(v))) for v in x)
    assert np.array_equal(a.floats(), x)
    q = QVec.from_fractions([Fraction(1, 3), 0, Fraction(-5, 6)])
    assert q.strings() == ("1/3", "0", "-5/6") and q.den == 6
    assert q.dot(QVec.from_fractions([3, 7, 6])) == Fraction(1) - 5


def test_ball_activations_enclose_mpmath_intervals() -> None:
    # The fast path's ball for s(p) and theorems' mpmath interval both enclose s(p): they must overlap, and
    # the ball must be tight (both are rigorous; an enclosure that misses the other shows a wrong operation).
    from latentcheck.counterexamples.fast import ball_fn
    from latentcheck.theorems.activations import get_activation
    from latentcheck.theorems.balls import ball_precision, exact_bounds
    from latentcheck.theorems.lower import to_interval

    rng = np.random.default_rng(1)
    for name in ("sigmoid", "silu", "identity", "exp", "softsign", "tanh", "gelu", "softplus", "elu"):
        act = get_activation(name)
        f = ball_fn(act)
        for v in list(rng.normal(size=25) * 8) + [0.0, 700.0, -700.0]:
            p = Fraction(float(v)) + Fraction(1, 3)
            want = act.interval(to_interval(p))
            with ball_precision():
                lo, hi = exact_bounds(f(p))
            wlo, whi = ((-1) ** r[0] * Fraction(int(r[1])) * Fraction(2) ** int(r[2]) for r in want._mpi_)
            assert lo <= whi and wlo <= hi, name
            # tight: 1e-20 relative, or (cancellation, gelu far left) within 16x of mpmath's width
            assert hi - lo <= max(abs(lo) * Fraction(1, 10**20), 16 * (whi - wlo), Fraction(1, 10**300)), name


def test_float_encode_shares_compilation_and_matches_jax_fn() -> None:
    import jax
    import jax.numpy as jnp

    from latentcheck.counterexamples.certify import float_encode

    X = np.random.default_rng(0).normal(size=(5, 12)) * 30
    for act, dtype in (("sigmoid", "float16"), ("relu", "float32"), ("tanh", "bfloat16")):
        for seed in (0, 1):  # a second encoder of the same shape reuses the compiled function
            enc = Encoder.random([12, 7, 3], act, seed=seed)
            want = np.asarray(jax.jit(jax.vmap(enc.jax_fn(dtype)))(jnp.asarray(X, dtype=dtype))).astype(np.float64)
            assert np.array_equal(float_encode(enc, X, dtype), want)


def test_paper_sized_flip_and_zero_certified_by_constructions() -> None:
    """Paper-sized encoders are refuted by the constructions alone (no search round); speed: benchmarks/falsify_vs_peers.py."""
    for sizes, act, prop in (([1682, 64], "sigmoid", "p2"), ([1682, 64], "relu", "p3")):
        enc = Encoder.random(sizes, act, seed=0)
        res = falsify(enc, prop, budget=10, seed=0, shrink=False, max_counterexamples=1)
        assert res.status == "counterexample" and res.stats.rounds == 0
        cx = res.counterexamples[0]
        if prop == "p2":
            v = cx.vectors()
            assert cx.certified == "interval" and check_flip(enc, v["x"], v["u"], v["v"]).violates is True
            assert cx.nonzeros == 1  # x = 0, v = 0, u a unit vector
        else:
            assert cx.certified == "exact" and check_zero(enc, cx.vector("x")).violates is True
        assert res.stats.first_certified_seconds <= res.stats.seconds


def test_shrink_deep_encoder_incremental_screen_keeps_certificate() -> None:
    enc = Encoder.random([40, 12, 3], "relu", seed=4)
    res = falsify(enc, "p3", budget=5, seed=0, shrink=False, max_counterexamples=1)
    cx = res.counterexamples[0]
    small, used = shrink(cx, enc, domain=parse_domain("reals"), max_checks=40)
    assert used >= 1 and (small.nonzeros, small.size) <= (cx.nonzeros, cx.size)
    assert check_zero(enc, small.vector("x")).violates is True and small.certified == "exact"
