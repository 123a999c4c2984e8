"""Wall-clock limits that nest: one stack of deadlines per process.

:func:`time_limit` limits symbolic work that has no timeout of its own
(sympy) with ``SIGALRM``, so it limits only in the main thread (elsewhere
it does not limit, and :func:`remaining` is ``None``).

Limits compose: the effective deadline is the earliest on the stack, so an
inner limit never extends or cancels an outer one. Leaving an inner limit
re-arms the timer for what is left of the outer one. When the outer
deadline passes inside an inner limit, the :class:`Timeout` names the outer
limit; code that catches it inside should call :func:`check` (which raises
again when an enclosing deadline has passed) before carrying on, and in any
case the timer fires again for the outer limit right after the inner one
is left, so an outer deadline is never lost.

:class:`Timeout` derives from ``BaseException`` (like ``KeyboardInterrupt``)
so that ``except Exception`` blocks inside the limited code do not swallow it.
Solvers with their own timeouts (z3, HiGHS) take theirs from
:func:`seconds_left`.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from typing import Any, Iterator, Optional

from .errors import InvalidArgument

__all__ = ["Timeout", "Limit", "time_limit", "remaining", "seconds_left", "check", "validate_seconds"]

#: Delay before the timer fires again after a Timeout nobody let through.
_REFIRE_S = 0.05


class Limit:
    """One entry of the deadline stack (``deadline`` on ``time.monotonic()``)."""

    __slots__ = ("seconds", "deadline")

    def __init__(self, seconds: float, deadline: float) -> None:
        self.seconds = seconds
        self.deadline = deadline


class Timeout(BaseException):
    """Raised when a :func:`time_limit` deadline passes; ``limit`` is the limit whose time is up."""

    def __init__(self, limit: Optional[Limit] = None) -> None:
        super().__init__(f"time limit of {limit.seconds:g} s reached" if limit else "time limit reached")
        self.limit = limit


_stack: list[Limit] = []
_saved_handler: Any = None


def validate_seconds(seconds: float, what: str = "timeout") -> float:
    """``seconds`` as a float when it is positive and finite, else :class:`InvalidArgument`."""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{what}={seconds!r} must be a positive, finite number of seconds, e.g. 30") from None
    if not (s > 0) or not math.isfinite(s):
        raise InvalidArgument(f"{what}={seconds!r} must be a positive, finite number of seconds, e.g. 30")
    return s


def _main() -> bool:
    return threading.current_thread() is threading.main_thread()


def remaining() -> Optional[float]:
    """Seconds left until the earliest active deadline (may be <= 0), or ``None`` without one."""
    if not _main() or not _stack:
        return None
    return min(lim.deadline for lim in _stack) - time.monotonic()


def seconds_left(default: float, floor: float = 0.001) -> float:
    """``default`` capped by :func:`remaining` (never below ``floor``): the timeout to give a solver."""
    left = remaining()
    return max(floor, default if left is None else min(default, left))


def check() -> None:
    """Raise :class:`Timeout` when an active deadline has already passed."""
    if not _main():
        return
    now = time.monotonic()
    for lim in _stack:  # outermost first: the outer limit is the one to report
        if lim.deadline <= now:
            raise Timeout(lim)


#: Functions where Python ignores a raised exception (it prints "Exception ignored"): wait until they return.
_IGNORING = ("__del__", "callback", "_remove", "__exit__")


def _handler(signum: int, frame: Any) -> None:
    now = time.monotonic()
    expired = [lim for lim in _stack if lim.deadline <= now + 1e-4]
    if not expired:  # early or stale signal: re-arm for the earliest deadline
        _arm()
        return
    name = getattr(getattr(frame, "f_code", None), "co_name", "")
    if name.endswith(_IGNORING):
        signal.setitimer(signal.ITIMER_REAL, 0.005)  # a finaliser or GC callback: raise just after it
        return
    signal.setitimer(signal.ITIMER_REAL, _REFIRE_S)  # fires again if this one is swallowed
    raise Timeout(expired[0])


def _arm() -> None:
    if _stack:
        left = min(lim.deadline for lim in _stack) - time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def time_limit(seconds: Optional[float]) -> Iterator[Optional[Limit]]:
    """Raise :class:`Timeout` after ``seconds`` or at an enclosing deadline, whichever comes first.

    ``seconds`` must be positive and finite; ``None`` or ``inf`` adds no limit
    of its own (enclosing limits still apply). Main thread only; elsewhere no limit.
    """
    global _saved_handler
    if seconds is not None and not (isinstance(seconds, (int, float)) and math.isinf(seconds) and seconds > 0):
        seconds = validate_seconds(seconds)
    else:
        seconds = None
    if not _main() or seconds is None:
        yield None
        return
    lim = Limit(seconds, time.monotonic() + seconds)
    if not _stack:
        _saved_handler = signal.signal(signal.SIGALRM, _handler)
    _stack.append(lim)
    _arm()
    try:
        yield lim
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _stack.remove(lim)
        if _stack:
            _arm()  # what is left of the outer limit; at once when it has passed
        else:
            signal.signal(signal.SIGALRM, _saved_handler if _saved_handler is not None else signal.SIG_DFL)
            _saved_handler = None
