"""Nested time limits compose: an inner limit never extends or cancels an outer one.

No assertion here is on wall time (that fails on a loaded machine): a busy loop
records whether it ran to its end, so "the limit stopped it" is a fact the test
can check whatever the load.
"""

from __future__ import annotations

import math
import time

import pytest

from latentcheck.theorems.errors import InvalidArgument
from latentcheck.theorems.timeouts import Timeout, check, remaining, seconds_left, time_limit


#: Labels of the busy loops that ran to their end (a limit that works stops them first).
_finished: list[str] = []


def _spin(seconds: float, label: str = "") -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    _finished.append(label)


@pytest.fixture(autouse=True)
def _clear_finished():
    _finished.clear()
    yield


def test_inner_limit_does_not_extend_outer() -> None:
    with pytest.raises(Timeout) as info:
        with time_limit(0.3) as outer:
            with time_limit(5.0):
                _spin(3.0, "inside")
    assert "inside" not in _finished
    assert info.value.limit is outer


def test_outer_limit_still_enforced_after_inner_one_ends() -> None:
    with pytest.raises(Timeout) as info:
        with time_limit(0.4) as outer:
            with time_limit(0.1):
                pass  # ends well before its limit
            with time_limit(0.05):
                try:
                    _spin(1.0, "inner")
                except Timeout as exc:  # the inner limit: handled
                    assert exc.limit is not outer
            _spin(3.0, "after")  # the outer limit must still stop this
    assert _finished == []
    assert info.value.limit is outer


def test_outer_timeout_passes_an_inner_handler_that_swallows_it() -> None:
    with pytest.raises(Timeout) as info:
        with time_limit(0.2) as outer:
            try:
                with time_limit(10.0):
                    _spin(3.0, "inner")
            except Timeout:
                pass  # a careless inner handler: the outer deadline must still win
            _spin(3.0, "after")
    assert info.value.limit is outer
    assert _finished == []


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
    with pytest.raises(Timeout):
        with time_limit(0.1):
            for _ in range(100):
                try:
                    _spin(0.05, "slice")
                except Exception:  # noqa: BLE001 - what sympy-heavy code does
                    pass
    assert len(_finished) < 100  # stopped inside the loop, not after it


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
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with time_limit(0.05):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no timer left armed
    assert signal.getsignal(signal.SIGALRM) is before  # the previous handler is back
    _spin(0.15, "after")  # and no stray alarm fires while this runs
    assert _finished == ["after"]


@pytest.mark.parametrize("bad", [0, -1, -0.5, math.nan, "x"])
def test_bad_seconds_refused(bad) -> None:
    with pytest.raises(InvalidArgument):
        with time_limit(bad):
            pass


def test_classify_inside_prove_limit_keeps_outer_deadline() -> None:
    """The issue's example: a classify (its own 10 s limit) inside a short outer limit."""
    from latentcheck.theorems.classify import classify

    with pytest.raises(Timeout):
        with time_limit(0.3):
            classify("tanh", timeout=10.0)  # may or may not finish in time
            _spin(3.0, "after")
    assert _finished == []


def test_prove_claim_seconds_stay_near_limit(monkeypatch) -> None:
    from latentcheck.checkers.prove import checks as prove_mod
    from latentcheck.theorems.catalog import CLAIMS

    def slow(**kwargs):
        from latentcheck.theorems.classify import classify

        classify("tanh", timeout=30.0)
        _spin(5.0, "check")
        raise AssertionError("not stopped")

    claim = CLAIMS[0]
    monkeypatch.setitem(prove_mod.CHECKS, claim.check, slow)
    v = prove_mod.prove_claim(claim, timeout=0.5)
    assert v.verdict == "unknown" and "timeout" in (v.reason or "")
    assert "check" not in _finished  # the claim's 0.5 s limit stopped the check


@pytest.mark.parametrize("bad", [0, -3, math.nan, math.inf])
def test_prove_claim_refuses_bad_timeout(bad) -> None:
    from latentcheck.checkers.prove.checks import prove_claim
    from latentcheck.theorems.catalog import CLAIMS

    with pytest.raises(InvalidArgument):
        prove_claim(CLAIMS[0], timeout=bad)
