"""Three-valued certification and named float runtimes (issue 8, items 3 and 4 of "What to build").

* A real counterexample whose interval does not collapse is resolved exactly where the activation has
  an exact value at an exact rational pre-activation (``tanh(0) = 0``), and re-checked independently.
* Where neither exact values nor intervals decide, the label is ``undecided``, never ``float-only``.
* ``float-only`` means the real value is proved non-violating; it names its runtime (``xla-cpu``...),
  is re-evaluated there, and says when IEEE NumPy does not reproduce it (flush-to-zero).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import _recheck as rc
from latentcheck.counterexamples.certify import certify_flip, certify_zero, xla_runtime
from latentcheck.counterexamples.types import Counterexample
from latentcheck.theorems import Encoder
from latentcheck.theorems.properties import check_zero

Q = Fraction


def _tanh_encoder(W0, W1) -> Encoder:
    return Encoder.from_arrays([W0, W1], [[0.0] * len(W0), [0.0] * len(W1)], ["tanh", "tanh"])


def test_issue_example_two_layer_tanh_is_exact() -> None:
    W0, W1 = [[1, -1, 0], [0, 1, -1]], [[1, 1]]
    enc = _tanh_encoder(W0, W1)
    cert = certify_zero(enc, [1, 1, 1], dtype="float32")
    assert cert.status == "exact" and cert.certified
    Wq = [[[Q(v) for v in r] for r in W0], [[Q(v) for v in r] for r in W1]]
    assert rc.p3_witness_holds(Wq, [[Q(0)] * 2, [Q(0)]], ["tanh", "tanh"], [1, 1, 1])


@pytest.mark.parametrize("W0, W1, x, zero", [
    # a row that meets only exact hidden values stays exact, though another hidden value is transcendental
    ([[1, -1, 0], [1, 0, 0]], [[1, 0]], [2, 2, 5], True),
    # deeper: three tanh layers, every pre-activation exactly 0
    ([[1, 1, -2], [3, -3, 0]], [[1, -1], [2, 5]], [4, 4, 4], True),
    # a nonzero value reached through tanh(1): certified nonzero, not undecided
    ([[1, 0, 0], [0, 1, -1]], [[1, 1]], [1, 1, 1], False),
])
def test_mixed_exact_and_interval_variants(W0, W1, x, zero) -> None:
    layers = [W0, W1] if len(W1) == 1 else [W0, W1, [[1, 1]]]
    enc = Encoder.from_arrays(layers, [[0.0] * len(w) for w in layers], ["tanh"] * len(layers))
    chk = check_zero(enc, x)
    Wq = [[[Q(v) for v in r] for r in w] for w in layers]
    bq = [[Q(0)] * len(w) for w in layers]
    vals = rc.encode(Wq, bq, ["tanh"] * len(layers), [Q(v) for v in x])
    if zero:
        assert chk.violates is True and chk.certified == "exact"
        assert rc.is_exact_zero(vals)
    else:
        assert chk.violates is False
        assert rc.is_clearly_nonzero(vals)


def test_silu_hidden_layer_exact_zero() -> None:
    enc = Encoder.from_arrays([[[1, -1]], [[2]]], [[0.0], [0.0]], ["silu", "relu"])
    assert certify_zero(enc, [3, 3], dtype="float32").status == "exact"


def test_planted_interval_only_resolution_is_caught(monkeypatch) -> None:
    """Plant the old behaviour (no exact activation values): the issue's example falls back to float-only/undecided,
    and the independent re-check shows it is in fact a real counterexample (the label was wrong)."""
    import latentcheck.theorems.encoder as te

    monkeypatch.setattr(te, "exact_activation_value", lambda act, p, enclosure=None: None)
    enc = _tanh_encoder([[1, -1, 0], [0, 1, -1]], [[1, 1]])
    cert = certify_zero(enc, [1, 1, 1], dtype="float32")
    assert not cert.certified
    Wq = [[[Q(1), Q(-1), Q(0)], [Q(0), Q(1), Q(-1)]], [[Q(1), Q(1)]]]
    assert rc.p3_witness_holds(Wq, [[Q(0)] * 2, [Q(0)]], ["tanh", "tanh"], [1, 1, 1])


def test_undecided_is_never_float_only() -> None:
    # tanh(t) - sinh(t)/cosh(t) is identically 0: intervals cannot decide it, sympy does not rewrite it,
    # and in float32 XLA it is exactly 0 at t = 1.
    enc = Encoder.from_arrays([[[1.0]]], [[0.0]], "tanh(t) - sinh(t)/cosh(t)")
    cert = certify_zero(enc, [1], dtype="float32")
    assert cert.float_violates is True
    assert cert.status == "undecided" and cert.reportable and not cert.certified
    assert "not a real counterexample" not in cert.detail.lower()


def test_float_only_names_runtime_and_ieee() -> None:
    enc = Encoder.from_arrays([[[1.0 + 2.0**-30, -1.0]]], [[0.0]], "relu")
    cert = certify_zero(enc, [1, 1], dtype="float32")
    assert cert.status == "float-only" and cert.runtime == xla_runtime() and cert.runtime.startswith("xla-")
    assert cert.runtime in cert.detail and "rounds to exactly 0 in" not in cert.detail
    assert cert.ieee_reproduces is True
    # the real value: (1 + 2**-30) - 1 > 0, independently
    assert rc.encode([[[1 + Q(1, 2**30), Q(-1)]]], [[Q(0)]], ["relu"], [1, 1]) == [Q(1, 2**30)]
    # IEEE NumPy reproduces it (float32 weights round to [1, -1])
    W32 = np.array([[1.0 + 2.0**-30, -1.0]], dtype=np.float32)
    assert np.maximum(W32 @ np.ones(2, dtype=np.float32), 0)[0] == 0


def test_flush_to_zero_only_finding_says_so() -> None:
    enc = Encoder.from_arrays([[[2.0**-140]]], [[0.0]], "identity")  # a float32 subnormal weight
    cert = certify_zero(enc, [1], dtype="float32")
    ieee = np.float32(2.0**-140) * np.float32(1)
    assert ieee != 0  # IEEE keeps the subnormal
    if cert.status == "refuted":  # this XLA build keeps subnormals: then nothing may be reported
        assert cert.float_violates is False
        return
    assert cert.status == "float-only" and cert.ieee_reproduces is False
    assert any("holds only under flush-to-zero" in n and "IEEE gives nonzero" in n for n in cert.notes)
    cx = Counterexample.from_vectors("P3", [[1]], margin=None, certified=cert.status, dtype="float32", domain="reals",
                                     runtime=cert.runtime, ieee_reproduces=cert.ieee_reproduces, notes=cert.notes)
    back = Counterexample.from_json(cx.to_json())
    assert back.runtime == cert.runtime and back.ieee_reproduces is False


def test_float_zero_that_does_not_reproduce_is_dropped() -> None:
    enc = Encoder.from_arrays([[[1.0, -1.0]]], [[0.0]], "relu")
    cert = certify_zero(enc, [2, 1], dtype="float32")  # real and float value 1: nothing to report
    assert cert.status == "refuted" and not cert.reportable


def _p2_interval_holds(Wq, bq, acts, x, u, v) -> bool:
    """Independent P2 re-check for a transcendental encoder: exact premise, latent difference at 120 digits."""
    import mpmath

    xs, us, vs = ([Q(a) for a in vec] for vec in (x, u, v))
    if sum(a * b for a, b in zip(xs, us)) > sum(a * b for a, b in zip(xs, vs)):
        return False
    ex, eu, ev = ([mpmath.mpf(a.numerator) / a.denominator if isinstance(a, Q) else a
                   for a in rc.encode(Wq, bq, acts, vec)] for vec in (xs, us, vs))
    diff = sum(a * b for a, b in zip(ex, eu)) - sum(a * b for a, b in zip(ex, ev))
    return diff > mpmath.mpf(10) ** -60


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_p2_certificates_recheck_independently(act) -> None:
    from latentcheck.checkers.falsify import falsify

    enc = Encoder.random([6, 2], act, seed=3)
    res = falsify(enc, "p2", budget=3, seed=0, shrink=False)
    assert res.counterexamples, res.status
    Wq = [rc.exact_matrix(enc.layers[0].W)]
    bq = [rc.exact_matrix(enc.layers[0].b)]
    for cx in res.counterexamples:
        x, u, v = cx.vector("x"), cx.vector("u"), cx.vector("v")
        if cx.certified == "exact":
            assert rc.p2_witness_holds(Wq, bq, [act], x, u, v)
        else:
            assert cx.certified == "interval" and _p2_interval_holds(Wq, bq, [act], x, u, v)
        # planted: the same witness with u and v swapped is not a flip, and the re-checkers say so
        swapped = rc.p2_witness_holds(Wq, bq, [act], x, v, u) if cx.certified == "exact" else \
            _p2_interval_holds(Wq, bq, [act], x, v, u)
        assert not swapped


def test_callable_float_only_names_runtime() -> None:
    import jax.numpy as jnp

    def f(x):
        return jnp.maximum(x[:1] - x[1:2], 0)

    cert = certify_zero(f, [1, 1], dtype="float32")
    assert cert.status == "float-only" and cert.runtime == xla_runtime()


def test_falsify_records_undecided_apart() -> None:
    from latentcheck.checkers.falsify import falsify

    enc = Encoder.from_arrays([[[1.0, 0.0]]], [[0.0]], "tanh(t) - sinh(t)/cosh(t)")
    res = falsify(enc, "p3", budget=2, seed=0, shrink=False)
    assert not res.float_only and not res.counterexamples  # the real value is never proved nonzero here
    assert res.status == "undecided" and res.undecided
    for cx in res.undecided:
        assert cx.certified == "undecided" and cx.runtime
    data = res.to_json()
    assert "undecided" in data and data["float_runtime"] == xla_runtime()


def test_float_only_witness_reproduces_in_its_runtime() -> None:
    """Each float-only finding is a dtype vector whose float computation, redone here with plain JAX (its named
    runtime) and NumPy, gives what the record says; the real value is nonzero (sigmoid > 0, T2)."""
    import jax
    import jax.numpy as jnp

    from latentcheck.checkers.falsify import falsify

    enc = Encoder.random([40, 4], "sigmoid", seed=2)
    res = falsify(enc, "p3", dtype="float16", budget=5, seed=0, shrink=False)
    assert res.status == "float-only" and res.float_only and not res.counterexamples
    W = jnp.asarray(enc.layers[0].W, dtype="float16")
    b = jnp.asarray(enc.layers[0].b, dtype="float16")
    for cx in res.float_only:
        assert cx.runtime == f"xla-{jax.default_backend()}"
        x = np.array([float(v) for v in cx.vector("x")])
        assert np.array_equal(x.astype(np.float16).astype(np.float64), x)  # the witness is a float16 vector
        z = np.asarray(jax.nn.sigmoid(W @ jnp.asarray(x, dtype="float16") + b))
        assert np.all(z == 0)
        with np.errstate(over="ignore"):
            t = enc.layers[0].W.astype(np.float16) @ x.astype(np.float16) + enc.layers[0].b.astype(np.float16)
            zi = np.float16(1) / (np.float16(1) + np.exp(-t))
        assert cx.ieee_reproduces == bool(np.all(zi.astype(np.float16) == 0))


@pytest.mark.parametrize("p", [Q(1, 3), Q(3, 4), Q(2), Q(-5, 7)])
def test_identically_zero_expression_is_never_certified_nonzero(p) -> None:
    """cosh^2 - sinh^2 - 1 is 0 for every real t (an identity, checked here at 120 digits): enclosures must contain 0.
    Planted history: with endpoints widened at 53 bits the enclosure was [1.35e-16, 1.35e-16] and x was 'refuted'."""
    import mpmath

    mpmath.mp.dps = 120
    t = mpmath.mpf(p.numerator) / p.denominator
    assert abs(mpmath.cosh(t) ** 2 - mpmath.sinh(t) ** 2 - 1) < mpmath.mpf(10) ** -100
    enc = Encoder.from_arrays([[[1.0]]], [[0.0]], "cosh(t)**2 - sinh(t)**2 - 1")
    chk = check_zero(enc, [p])
    assert chk.violates is not False
    assert certify_zero(enc, [p], dtype="float32").status in ("undecided", "exact", "interval")
