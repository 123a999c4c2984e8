"""One engine: the CLI, the API and the pytest helpers give the same finding for the same encoder, seed and budget.

``latentcheck falsify --json``, :func:`latentcheck.checkers.falsify.falsify`
and :func:`latentcheck.checkers.testing.assert_nonvanishing` (called directly
and from a user's pytest run through the plugin's seed) must agree on the
status and on the counterexample vector. The witnesses are also re-checked
here with plain integer arithmetic (no latentcheck code), so agreement on a
wrong answer would still fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from latentcheck.checkers.falsify import falsify
from latentcheck.checkers.testing import assert_nonvanishing
from latentcheck.theorems import Encoder
from latentcheck import load_encoder, save_encoder

# The budget only caps the run (it stops at the first round with a finding); it is generous because falsify's
# shrinking stops at the budget's deadline, and a shrink cut short by a loaded machine would show another witness.
SEED, BUDGET, DOMAIN = 5, 10.0, "nonneg"


def _encoder() -> Encoder:
    return Encoder.random([10, 3], "relu", seed=4)


def _simplest(counterexamples: list[dict]) -> list[str]:
    """The witness the assertions show: fewest nonzeros, then fewest bits."""
    def key(c: dict) -> tuple[int, int]:
        qs = [Fraction(v) for v in c["witness"]["x"]]
        return sum(1 for q in qs if q), sum(abs(q.numerator).bit_length() + q.denominator.bit_length() for q in qs if q)

    return min(counterexamples, key=key)["witness"]["x"]


def _is_real_zero(enc: Encoder, x: list[str]) -> bool:
    """relu(W x + b) == 0 exactly, with the weights read as exact rationals (independent of the engine)."""
    layer = enc.layers[0]
    xs = [Fraction(v) for v in x]
    pre = [sum((Fraction(float(w)) * q for w, q in zip(row, xs)), Fraction(float(b))) for row, b in zip(layer.W, layer.b)]
    return any(xs) and all(q >= 0 for q in xs) and all(p <= 0 for p in pre)


def _cli(weights: Path, seed: int) -> dict:
    from typer.testing import CliRunner

    from latentcheck.checkers.cli.app import app

    res = CliRunner().invoke(app, ["falsify", "-p", "p3", "--weights", str(weights), "--domain", DOMAIN, "--seed", str(seed),
                                   "--budget", str(BUDGET), "--json"])
    assert res.exit_code == 1, res.output  # 1: a certified counterexample
    out = res.stdout
    return json.loads(out[out.index("{"):])


def _assertion_report(enc: Encoder, tmp_path: Path) -> tuple[dict, str]:
    with pytest.raises(AssertionError) as info:
        assert_nonvanishing(enc, domain=DOMAIN, seed=SEED, budget=BUDGET, report_dir=tmp_path)
    return json.loads(next(tmp_path.rglob("report.json")).read_text()), str(info.value)


def test_cli_api_and_assertion_give_the_same_finding(tmp_path: Path) -> None:
    enc = _encoder()
    weights = tmp_path / "enc.npz"
    save_encoder(enc, weights)
    cli = _cli(weights, SEED)
    api = falsify(load_encoder(weights), "p3", domain=DOMAIN, seed=SEED, budget=BUDGET).to_json()
    report, message = _assertion_report(enc, tmp_path / "reports")
    assert cli["status"] == api["status"] == report["search"]["status"] == "counterexample"
    assert [c["witness"] for c in cli["counterexamples"]] == [c["witness"] for c in api["counterexamples"]]
    x = report["counterexample"]["witness"]["x"]
    assert x == _simplest(api["counterexamples"]) and report["counterexample"]["certified"] == "exact"
    assert f"x = [{', '.join(x)}]" in message
    assert _is_real_zero(enc, x)


def test_a_plain_callable_gives_the_same_float_finding_from_the_api_and_the_assertion(tmp_path: Path) -> None:
    import jax.numpy as jnp

    enc = _encoder()
    W, b = (jnp.asarray(a, dtype=jnp.float32) for a in (enc.layers[0].W, enc.layers[0].b))

    def encode(x):
        return jnp.maximum(W @ x + b, 0.0)

    api = falsify(encode, "p3", domain=DOMAIN, seed=SEED, budget=BUDGET, n=enc.n)
    with pytest.raises(AssertionError) as info:
        assert_nonvanishing(encode, enc.n, domain=DOMAIN, seed=SEED, budget=BUDGET, report_dir=tmp_path)
    report = json.loads(next(tmp_path.rglob("report.json")).read_text())
    assert api.status == report["search"]["status"] == "float-only"
    assert report["counterexample"]["witness"]["x"] == _simplest([c.to_json() for c in api.float_only])
    assert "float-only, not certified" in str(info.value)
    z = np.maximum(np.asarray(enc.layers[0].W) @ np.array([float(Fraction(v)) for v in report["counterexample"]["witness"]["x"]])
                   + enc.layers[0].b, 0.0)
    assert np.all(z <= 1e-6)  # float64 re-evaluation: the code is (numerically) zero


_USER_TEST = textwrap.dedent(
    """
    from latentcheck import load_encoder
    from latentcheck.checkers.testing import assert_nonvanishing

    def test_p3(latentcheck_seed):
        print("SEED", latentcheck_seed)
        assert_nonvanishing(load_encoder({weights!r}), domain={domain!r}, budget={budget!r})
    """
)


def test_the_plugin_seed_gives_the_api_finding(tmp_path: Path) -> None:
    enc = _encoder()
    weights = tmp_path / "enc.npz"
    save_encoder(enc, weights)
    (tmp_path / "test_user.py").write_text(_USER_TEST.format(weights=str(weights), domain=DOMAIN, budget=BUDGET))
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS")}
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", "--latentcheck-seed=3",
                          "--latentcheck-report-dir=reports"], cwd=tmp_path, capture_output=True, text=True, timeout=240, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    seed = int(out.stdout.split("SEED ")[1].split()[0])
    report = json.loads(next((tmp_path / "reports").rglob("report.json")).read_text())
    assert report["seed"] == seed
    api = falsify(enc, "p3", domain=DOMAIN, seed=seed, budget=BUDGET)
    assert api.status == report["search"]["status"] == "counterexample"
    assert report["counterexample"]["witness"]["x"] == _simplest([c.to_json() for c in api.counterexamples])
    assert _is_real_zero(enc, report["counterexample"]["witness"]["x"])


def test_the_independent_recheck_rejects_a_planted_wrong_witness() -> None:
    """The re-checker above can fail: a point pushed along a positive weight column is no zero of relu(W x + b)."""
    enc = _encoder()
    W = np.asarray(enc.layers[0].W)
    i, j = np.unravel_index(int(np.argmax(W)), W.shape)
    assert W[i, j] > 0
    x = ["0"] * enc.n
    x[j] = "1000"
    assert not _is_real_zero(enc, x)
    assert not _is_real_zero(enc, ["0"] * enc.n)  # the zero vector is not a counterexample to P3
