"""The falsifier's budget and memory: dense matrices stay under the cap, certification stops at the deadline."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from latentcheck.checkers.falsify import _constructions as C
from latentcheck.checkers.falsify._budget import Budget, OutOfTime
from latentcheck.theorems.timeouts import Timeout, time_limit


def test_least_norm_tall_builds_no_m_by_m_matrix() -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((100_000, 10))
    y = W @ rng.standard_normal(10)
    tracemalloc.start()
    x = C.least_norm(W, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2**20  # an m x m Gram matrix would be 80 GB
    assert np.allclose(W @ x, y, atol=1e-8 * np.abs(y).max())  # consistent system: solved


def test_least_norm_past_the_cap_uses_lsqr_and_gives_the_minimum_norm(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    W = rng.standard_normal((40, 200))
    y = rng.standard_normal(40)
    expect = np.linalg.pinv(W) @ y  # the minimum-norm solution, independently
    monkeypatch.setattr(C, "MEMORY_CAP_BYTES", 40 * 40 * 8 - 1)  # the 40 x 40 Gram matrix no longer fits
    assert not C.fits_in_memory(40, 40)
    x = C.least_norm(W, y)
    assert np.allclose(x, expect, atol=1e-6)


def test_square_solution_skips_the_square_solve_past_the_cap(monkeypatch) -> None:
    rng = np.random.default_rng(2)
    W = rng.standard_normal((30, 90))
    y = rng.standard_normal(30)
    calls = []
    real = np.linalg.solve
    monkeypatch.setattr(C, "MEMORY_CAP_BYTES", 30 * 30 * 8 - 1)
    monkeypatch.setattr(np.linalg, "solve", lambda A, b: calls.append(A.shape) or real(A, b))
    x = C.square_solution(W, y)
    assert all(s[0] * s[1] * 8 <= C.MEMORY_CAP_BYTES for s in calls)
    assert np.allclose(W @ x, y, atol=1e-6)


def test_budget_stops_a_slow_check_after_the_grace() -> None:
    b = Budget(time.perf_counter() - 1.0, grace=0.2)  # the deadline has passed
    finished: list[int] = []

    def slow() -> None:
        time.sleep(5.0)
        finished.append(1)

    with pytest.raises(OutOfTime):
        b.run(slow)
    assert finished == []  # stopped inside the call, not after it
    with pytest.raises(OutOfTime):  # the stage's grace is spent
        b.run(lambda: 1)
    b.new_stage()
    assert b.run(lambda: 7) == 7  # a new stage gets its own grace


def test_budget_unenforced_runs_small_checks_as_they_are() -> None:
    b = Budget(time.perf_counter() - 1.0, grace=0.001, enforce=False)
    assert b.run(lambda: (time.sleep(0.05), 3)[1]) == 3


def test_budget_lets_an_enclosing_deadline_through() -> None:
    with pytest.raises(Timeout):
        with time_limit(0.2):
            Budget(time.perf_counter() + 30.0, grace=1.0).run(time.sleep, 5.0)


@pytest.mark.slow
@pytest.mark.parametrize("m", [20_000, 100_000])
def test_wide_latent_layer_gives_a_result_without_memory_error(m: int) -> None:
    """W of m x 10 (no bottleneck): P3 and P2 end with a result within the budget's stages (times: benchmarks/falsify_wide.py)."""
    from latentcheck.checkers.falsify import falsify
    from latentcheck.theorems import Encoder

    rng = np.random.default_rng(0)
    enc = Encoder.from_arrays([rng.standard_normal((m, 10))], [np.zeros(m)], ["relu"])
    for prop, dom in (("p3", "reals"), ("p3", "nonneg"), ("p2", "reals")):
        res = falsify(enc, prop, domain=dom, budget=2.0, seed=0)
        assert res.status in ("counterexample", "none-found", "float-only")
        for cx in res.counterexamples:
            assert cx.is_certified
