"""Nested time limits compose: an inner limit never extends or cancels an outer one."""

from __future__ import annotations

import math
import time

import pytest

from latentcheck.theorems.errors import InvalidArgument
from latentcheck.theorems.timeouts import Timeout, check, remaining, seconds_left, time_limit


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_inner_limit_does_not_extend_outer() -> None:
    t0 = time.monotonic()
    with pytest.raises(Timeout) as info:
        with time_limit(0.3) as outer:
            with time_limit(5.0):
                _spin(3.0)
    assert time.monotonic() - t0 < 1.0
    assert info.value.limit is outer


def test_outer_limit_still_enforced_after_inner_one_ends() -> None:
    t0 = time.monotonic()
    with pytest.raises(Timeout) as info:
        with time_limit(0.4) as outer:
            with time_limit(0.1):
                pass  # ends well before its limit
            with time_limit(0.05):
                try:
                    _spin(1.0)
                except Timeout as exc:  # the inner limit: handled
                    assert exc.limit is not outer
            _spin(3.0)  # the outer limit must still stop this
    assert time.monotonic() - t0 < 1.0
    assert info.value.limit is outer


def test_outer_timeout_passes_an_inner_handler_that_swallows_it() -> None:
    t0 = time.monotonic()
    reached_after_inner = []
    with pytest.raises(Timeout) as info:
        with time_limit(0.2) as outer:
            try:
                with time_limit(10.0):
                    _spin(3.0)
            except Timeout:
                pass  # a careless inner handler: the outer deadline must still win
            reached_after_inner.append(True)
            _spin(3.0)
    assert info.value.limit is outer
    assert time.monotonic() - t0 < 1.0


def test_check_raises_for_a_passed_enclosing_deadline() -> None:
    with pytest.raises(Timeout):
        with time_limit(0.2):
            try:
                with time_limit(10.0):
                    _spin(0.5)
            except Timeout:
                check()  # the cooperative way out
                raise AssertionError("check() did not raise for the passed outer deadline")


def test_timeout_is_not_swallowed_by_except_exception() -> None:
    t0 = time.monotonic()
    with pytest.raises(Timeout):
        with time_limit(0.1):
            for _ in range(100):
                try:
                    _spin(0.05)
                except Exception:  # noqa: BLE001 - what sympy-heavy code does
                    pass
    assert time.monotonic() - t0 < 1.0


def test_remaining_and_seconds_left_follow_the_stack() -> None:
    assert remaining() is None
    assert seconds_left(20.0) == 20.0
    with time_limit(2.0):
        assert 1.5 < remaining() <= 2.0
        with time_limit(100.0):
            assert remaining() <= 2.0  # the outer one is earlier
            assert seconds_left(20.0) <= 2.0
        with time_limit(0.5):
            assert remaining() <= 0.5
    assert remaining() is None


def test_timer_restored_after_limits() -> None:
    with time_limit(0.05):
        pass
    _spin(0.15)  # no stray alarm after the limit is left


@pytest.mark.parametrize("bad", [0, -1, -0.5, math.nan, "x"])
def test_bad_seconds_refused(bad) -> None:
    with pytest.raises(InvalidArgument):
        with time_limit(bad):
            pass


def test_classify_inside_prove_limit_keeps_outer_deadline() -> None:
    """The issue's example: a classify (its own 10 s limit) inside a short outer limit."""
    from latentcheck.theorems.classify import classify

    t0 = time.monotonic()
    with pytest.raises(Timeout):
        with time_limit(0.3):
            classify("tanh", timeout=10.0)  # may or may not finish in time
            _spin(3.0)
    assert time.monotonic() - t0 < 1.5


def test_prove_claim_seconds_stay_near_limit(monkeypatch) -> None:
    from latentcheck.checkers import prove as prove_mod
    from latentcheck.theorems.catalog import CLAIMS

    def slow(**kwargs):
        from latentcheck.theorems.classify import classify

        classify("tanh", timeout=30.0)
        _spin(5.0)
        raise AssertionError("not stopped")

    claim = CLAIMS[0]
    monkeypatch.setitem(prove_mod.CHECKS, claim.check, slow)
    v = prove_mod.prove_claim(claim, timeout=0.5)
    assert v.verdict == "unknown" and "timeout" in (v.reason or "")
    assert v.seconds < 0.5 + 0.5


@pytest.mark.parametrize("bad", [0, -3, math.nan, math.inf])
def test_prove_claim_refuses_bad_timeout(bad) -> None:
    from latentcheck.checkers.prove import prove_claim
    from latentcheck.theorems.catalog import CLAIMS

    with pytest.raises(InvalidArgument):
        prove_claim(CLAIMS[0], timeout=bad)
