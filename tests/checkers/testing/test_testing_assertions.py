"""latentcheck.checkers.testing assertions: certified failures with a reproduce command, honest passes, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from latentcheck.checkers.testing import NonvanishingResult, OrderResult, assert_nonvanishing, assert_order_preserving
from latentcheck.checkers.testing._stats import clopper_pearson_lower, clopper_pearson_upper
from latentcheck.theorems import Encoder, InvalidArgument

# Column 1 is <= -b everywhere: the user who only touched item 1 gets the zero code under relu.
W = np.array([[1.0, -1.0, 0.5, 0.25], [0.5, -2.0, 1.0, -0.5]])
B = np.array([0.5, 0.25])


def relu_encoder() -> Encoder:
    return Encoder.from_arrays([W], [B], ["relu"])


def test_relu_encoder_fails_with_a_certified_shrunk_counterexample(tmp_path) -> None:
    with pytest.raises(AssertionError) as info:
        assert_nonvanishing(relu_encoder(), domain="binary", budget=2, seed=0, report_dir=tmp_path)
    msg = str(info.value)
    assert "P3 (non-zero preservation)" in msg and "certified exact" in msg
    assert "x = [0, 1, 0, 0]" in msg
    assert "Reproduce: pytest 'tests/checkers/testing/test_testing_assertions.py::test_relu_encoder_fails" in msg
    report = next(tmp_path.rglob("report.json"))
    data = json.loads(report.read_text())
    assert data["counterexample"]["witness"]["x"] == ["0", "1", "0", "0"]
    assert data["counterexample"]["certified"] == "exact" and data["seed"] == 0
    assert data["encoder"]["weights"] == "encoder.npz" and (report.parent / "report.md").exists()
    # The report re-checks on its own: exit 1 means the counterexample is confirmed.
    out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.testing", str(report)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "confirmed" in out.stdout


def test_sigmoid_encoder_passes_on_binary_inputs() -> None:
    enc = Encoder.from_arrays([W], [B], ["sigmoid"])
    result = assert_nonvanishing(enc, domain="binary", budget=0.5, seed=0)
    assert isinstance(result, NonvanishingResult) and result.float_only is None


def test_float_vanishing_is_reported_as_float_only_and_can_be_allowed(tmp_path) -> None:
    enc = Encoder.from_arrays([W * 4], [B], ["sigmoid"])
    with pytest.raises(AssertionError, match="float-only, not certified") as info:
        assert_nonvanishing(enc, domain="reals", budget=2, seed=0, report_dir=tmp_path)
    assert "rounding hazard" in str(info.value) or "not a real zero" in str(info.value)
    allowed = assert_nonvanishing(enc, domain="reals", budget=2, seed=0, allow_float_only=True, report_dir=tmp_path)
    assert allowed.float_only is not None and allowed.float_only.certified == "float-only"


@pytest.mark.parametrize("kind", ["numpy", "jax", "batched"])
def test_plain_callables_fail_float_only_and_say_how_to_certify(kind: str, tmp_path) -> None:
    import jax
    import jax.numpy as jnp

    fns = {
        "numpy": (lambda x: np.maximum(W @ x + B, 0.0), False),
        "jax": (lambda x: jax.nn.relu(jnp.asarray(W, jnp.float32) @ x + jnp.asarray(B, jnp.float32)), False),
        "batched": (lambda X: np.maximum(X @ W.T + B, 0.0), True),
    }
    fn, batched = fns[kind]
    with pytest.raises(AssertionError) as info:
        assert_nonvanishing(fn, 4, domain="binary", budget=2, seed=0, batched=batched, report_dir=tmp_path)
    msg = str(info.value)
    assert "float-only, not certified" in msg and "pass a theorems.Encoder to certify it" in msg
    assert "x = [0, 1, 0, 0]" in msg and "plain callable" in msg


def test_same_seed_same_counterexample(tmp_path) -> None:
    enc = Encoder.random([10, 3], "relu", seed=4)
    msgs = []
    for _ in range(2):
        with pytest.raises(AssertionError) as info:
            assert_nonvanishing(enc, domain="reals", budget=10, seed=11, report_dir=tmp_path)  # a cap: it stops at the first finding
        msgs.append(str(info.value).split("\nSearch:")[0])
    assert msgs[0] == msgs[1]


def test_order_preservation_measures_a_rate_with_a_bound(tmp_path) -> None:
    enc = Encoder.from_arrays([W], [B], ["sigmoid"])
    ok = assert_order_preserving(enc, domain="binary", tolerance=0.9, seed=0, samples=2000)
    assert isinstance(ok, OrderResult) and 0 < ok.rate <= ok.upper <= 0.9
    assert ok.triples == 2000 and 0 <= ok.tie_violations <= ok.ties <= ok.triples
    with pytest.raises(AssertionError) as info:
        assert_order_preserving(enc, domain="binary", tolerance=0.01, seed=0, samples=2000, report_dir=tmp_path)
    msg = str(info.value)
    assert "P2 (similarity ordering)" in msg and f"Flip rate {ok.flips}/{ok.triples}" in msg
    assert "Worst flip (certified interval; shrunk)" in msg


def test_a_constant_encoder_never_flips() -> None:
    enc = Encoder.from_arrays([np.zeros((2, 4))], [B], ["relu"])
    res = assert_order_preserving(enc, domain="reals", tolerance=0.01, seed=0, samples=4096)
    assert res.flips == 0 and res.upper < 0.01


def test_relu_flip_is_certified_exact(tmp_path) -> None:
    with pytest.raises(AssertionError, match="certified exact"):
        assert_order_preserving(relu_encoder(), domain="reals", tolerance=0.01, seed=0, samples=2000, report_dir=tmp_path)


def test_clopper_pearson_bounds() -> None:
    assert clopper_pearson_upper(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000))
    assert clopper_pearson_upper(10, 10) == 1.0
    # Beta-quantile identity, checked against mpmath directly: P(X <= k | p_upper) = alpha.
    import mpmath

    for k, n in [(1, 10), (5, 100), (300, 10000)]:
        p = clopper_pearson_upper(k, n, 0.95)
        assert float(mpmath.betainc(n - k, k + 1, 0, 1 - p, regularized=True)) == pytest.approx(0.05, abs=1e-6)
        assert clopper_pearson_lower(k, n) < k / n < p


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: assert_nonvanishing(lambda x: x, domain="binary"), r"n=None: a plain callable needs the input dimension"),
        (lambda: assert_nonvanishing(relu_encoder(), domain="ratings"), r"domain='ratings' is unknown; use one of reals, nonneg, binary, sphere.*also take a 2-D array"),
        (lambda: assert_nonvanishing(relu_encoder(), domain=np.ones((3, 5))), r"has rows of length 5 but the encoder takes n=4"),
        (lambda: assert_nonvanishing(relu_encoder(), dtype="float8"), r"dtype='float8' must be one of"),
        (lambda: assert_nonvanishing(relu_encoder(), budget=0), r"budget=0 must be a positive number of seconds"),
        (lambda: assert_nonvanishing(relu_encoder(), seed=-1), r"seed=-1 must be a nonnegative int"),
        (lambda: assert_nonvanishing(relu_encoder(), n=5), r"n=5 but the Encoder takes n=4"),
        (lambda: assert_nonvanishing("relu", 4), r"encoder_fn of type str must be a theorems.Encoder or a callable"),
        (lambda: assert_nonvanishing(lambda x: x[:2] @ np.ones(3), 4), r"calling encoder_fn on inputs of shape \(4,\) failed"),
        (lambda: assert_order_preserving(relu_encoder()), r"tolerance=None: give the largest acceptable fraction"),
        (lambda: assert_order_preserving(relu_encoder(), tolerance=5), r"tolerance=5 must lie between 0 and 1"),
        (lambda: assert_order_preserving(relu_encoder(), tolerance=0.0, samples=100), r"tolerance=0.0 cannot be met with samples=100"),
    ],
)
def test_bad_arguments_name_the_value_and_the_fix(call, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        call()


def test_p2_ties_demand_equal_latent_scores() -> None:
    """P2's <= covers ties: <x,u> = <x,v> exactly with unequal latent scores is a violation.

    Domain: the three unit rows of R^3 (sampled uniformly); encoder z = x0 + x1.
    The tie and tie-violation probabilities are enumerated here over all 27
    triples with integers (no engine code); the sampled counts must match them.
    """
    rows = np.eye(3)
    enc = Encoder.from_arrays([np.array([[1.0, 1.0, 0.0]])], [np.zeros(1)], ["identity"])
    z = [1, 1, 0]
    p_tie = p_viol = p_tie_viol = 0
    for x in range(3):
        for u in range(3):
            for v in range(3):
                du, dv = int(x == u), int(x == v)
                su, sv = z[x] * z[u], z[x] * z[v]
                if du == dv:
                    p_tie += 1
                    p_tie_viol += su != sv
                    p_viol += su != sv
                else:
                    p_viol += (su > sv) if du < dv else (sv > su)
    n = 6000
    res = assert_order_preserving(enc, domain=rows, tolerance=1.0, seed=3, samples=n)
    assert res.triples == n  # ties are part of the sample, not dropped

    def close(count: int, k: int) -> bool:
        p = k / 27
        return abs(count - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1

    assert p_tie_viol > 0 and res.tie_violations > 0
    assert close(res.ties, p_tie) and close(res.tie_violations, p_tie_viol) and close(res.flips, p_viol)
    assert res.rate == res.flips / res.triples


def test_exact_gap_signs_decide_near_ties_exactly() -> None:
    from fractions import Fraction

    from latentcheck.checkers.testing._rate import exact_gap_signs

    x = np.array([[0.1, 0.2, 0.3]])
    u = np.array([[0.3, 0.1, 0.2]])
    v = np.array([[0.2, 0.3, 0.1]])
    exact = sum(Fraction(a) * (Fraction(c) - Fraction(b)) for a, b, c in zip(x[0], u[0], v[0]))
    assert exact_gap_signs(x, u, v)[0] == (exact > 0) - (exact < 0)
    assert exact_gap_signs(x, u, u)[0] == 0  # identical u and v: an exact tie


def test_an_injective_order_keeping_encoder_has_no_tie_violations() -> None:
    enc = Encoder.from_arrays([np.eye(4)], [np.zeros(4)], ["identity"])  # z = x: <z_x,z_u> = <x,u>
    res = assert_order_preserving(enc, domain="binary", tolerance=0.01, seed=1, samples=2000)
    assert res.flips == 0 and res.tie_violations == 0 and res.ties > 0


def test_a_flip_on_data_rows_is_a_certified_triple_of_rows(tmp_path) -> None:
    """On a data domain the worst flip is three rows bit for bit (never rows rounded to the dtype), and certified."""
    from fractions import Fraction

    rows = np.abs(np.random.default_rng(0).normal(size=(40, 4)))
    enc = Encoder.from_arrays([W], [B], ["tanh"])
    with pytest.raises(AssertionError, match=r"Worst flip \(certified interval; shrunk\)"):
        assert_order_preserving(enc, domain=rows, tolerance=0.01, seed=0, samples=1000, report_dir=tmp_path)
    cx = json.loads(next(tmp_path.rglob("report.json")).read_text())["counterexample"]
    exact_rows = [[Fraction(float(v)) for v in row] for row in rows]
    for name in ("x", "u", "v"):
        assert [Fraction(s) for s in cx["witness"][name]] in exact_rows
