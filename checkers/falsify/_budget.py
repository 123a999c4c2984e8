"""The falsifier's time budget for work that has no timeout of its own (exact certification, shrinking).

:class:`Budget` runs a certification under :func:`latentcheck.theorems.timeouts.time_limit`
with what is left of the deadline. Once the deadline has passed, a stage
may go on checking for ``grace`` seconds (the candidates of the last search
round still get a chance; a small encoder certifies in milliseconds), then
:class:`OutOfTime` stops it. For a small encoder (``enforce=False``) a
check costs milliseconds and runs unlimited, as the search left it. An enclosing deadline (``prove``, a test)
that has passed is raised as it is.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ...theorems.timeouts import Timeout, check as check_deadline, time_limit

__all__ = ["Budget", "OutOfTime"]


class OutOfTime(Exception):
    """The falsify budget ran out during a stage; the stage stops, results so far stand."""


class Budget:
    """What is left of a falsify budget (``deadline`` on ``time.perf_counter()``)."""

    def __init__(self, deadline: float, grace: float, enforce: bool = True) -> None:
        self.deadline = float(deadline)
        self.grace = max(0.001, float(grace))
        self.grace_until: float | None = None
        self.enforce = bool(enforce)

    def new_stage(self) -> None:
        """A new stage (a search round's candidates) gets its own grace after the deadline."""
        self.grace_until = None

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` within the budget (or the stage's grace after it), else :class:`OutOfTime`."""
        if not self.enforce:
            return fn(*args, **kwargs)
        left = self.left()
        if left <= 0:
            now = time.perf_counter()
            if self.grace_until is None:
                self.grace_until = now + self.grace
            left = self.grace_until - now
            if left <= 0:
                raise OutOfTime()
        try:
            with time_limit(max(left, 0.001)):
                return fn(*args, **kwargs)
        except Timeout:
            check_deadline()  # an enclosing deadline goes on up
            raise OutOfTime() from None
