"""The pytest plugin, run as users run it: a separate pytest process with the installed entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_USER_TESTS = textwrap.dedent(
    """
    import numpy as np
    from latentcheck.theorems import Encoder
    from latentcheck.checkers.testing import assert_nonvanishing

    W = np.array([[1.0, -1.0, 0.5], [0.5, -2.0, 1.0]])
    B = np.array([0.5, 0.25])

    def test_fixtures(latentcheck_seed, latentcheck_budget):
        print("SEED", latentcheck_seed, "BUDGET", latentcheck_budget)

    def test_sigmoid_passes(latentcheck_budget):
        assert_nonvanishing(Encoder.from_arrays([W], [B], ["sigmoid"]), domain="binary", budget=0.5)

    def test_relu_fails():
        assert_nonvanishing(Encoder.from_arrays([W], [B], ["relu"]), domain="binary")
    """
)


def _pytest(tmp_path: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=240, env=env)


def test_plugin_summary_options_fixtures_and_determinism_in_ci(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(_USER_TESTS)
    out = _pytest(tmp_path, "--latentcheck-budget=1.5", "--latentcheck-report-dir=reports", env_extra={"CI": "true"})
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "1 failed, 2 passed" in text
    assert "BUDGET 1.5" in text
    # Deterministic where CI is set: session seed 0, and the per-test seed is a function of it.
    assert "session seed 0 (deterministic)" in text
    summary = text.split("= latentcheck =")[1]
    assert "test_user.py::test_relu_fails: P3 certified exact; report reports/test_user.py_test_relu_fails/report.json" in summary
    assert (tmp_path / "reports" / "test_user.py_test_relu_fails" / "report.json").exists()
    assert "Reproduce: pytest 'test_user.py::test_relu_fails' --latentcheck-seed=0" in text
    seed = re.search(r"SEED \d+", text).group(0)
    again = _pytest(tmp_path, "-k", "fixtures", env_extra={"CI": "true"})
    assert seed in again.stdout


def test_plugin_is_silent_when_unused_and_rejects_bad_options(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_nothing():\n    assert True\n")
    quiet = _pytest(tmp_path)
    assert quiet.returncode == 0 and "= latentcheck =" not in quiet.stdout
    bad = _pytest(tmp_path, "--latentcheck-budget=-1")
    assert bad.returncode != 0
    assert "--latentcheck-budget=-1.0 must be a positive number of seconds" in bad.stderr


def test_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert eps.get("latentcheck") == "latentcheck.checkers.testing.plugin"


def test_loading_the_plugin_imports_no_heavy_library() -> None:
    code = "import sys, latentcheck.checkers.testing.plugin; print(sorted(m for m in ('jax', 'sympy', 'numpy', 'latentcheck.theorems') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_hypothesis_ci_profile_makes_the_session_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis import settings

    from latentcheck.checkers.testing import _session

    monkeypatch.delenv("CI", raising=False)
    saved = dict(_session._state)
    settings.register_profile("_latentcheck_restore", settings.default)
    try:
        settings.register_profile("_latentcheck_random", derandomize=False)
        settings.load_profile("_latentcheck_random")
        assert not _session.deterministic()
        settings.load_profile("ci")  # registered by tests/conftest.py: derandomize=True
        _session.reset()
        assert _session.deterministic() and _session.session_seed() == 0
        assert _session.seed_for("t.py::a") == _session.seed_for("t.py::a") != _session.seed_for("t.py::b")
    finally:
        settings.load_profile("_latentcheck_restore")
        _session._state.update(saved)


def test_an_unwritable_report_dir_still_fails_with_the_counterexample(tmp_path: Path) -> None:
    import numpy as np

    from latentcheck.checkers.testing import assert_nonvanishing
    from latentcheck.theorems import Encoder

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    enc = Encoder.from_arrays([np.array([[1.0, -1.0, 0.5]])], [np.array([0.5])], ["relu"])
    with pytest.raises(AssertionError) as info:
        assert_nonvanishing(enc, domain="binary", budget=1, seed=0, report_dir=blocker)
    assert "Report: not written" in str(info.value) and "certified exact" in str(info.value)
