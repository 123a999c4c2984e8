"""Exit codes a CI can trust, and a Ctrl-C that stops cleanly.

Every command line of latentcheck ends through :func:`run_guarded`:

====  ==========================================================
code  meaning
====  ==========================================================
0     held (nothing found, proved, or every verdict as expected)
1     a finding (a certified counterexample, a refutation)
2     bad input, or an output that cannot be written (one line)
3     unknown (could not be decided within the limits)
4     internal error (a bug: one line, ``--debug`` for the traceback)
130   interrupted (Ctrl-C); what was finished is kept
141   standard output closed early (``| head``): quiet, like ``cat``
====  ==========================================================

An exception nobody expected is never exit 1: it is exit 4 with one line.

Ctrl-C: :func:`install_sigint` (the console script installs it before its
imports) records the interrupt before raising :class:`KeyboardInterrupt`.
Python swallows an exception raised inside a garbage-collector callback or a
finaliser (JAX registers one, ``_xla_gc_callback``), so a Ctrl-C landing
there used to be lost and the command finished with exit 0; the recorded flag
catches that (:func:`poll_interrupt` in progress hooks, and
:func:`run_guarded` at the end).

The segfaults (exit 139; ``segfault at 210 ... in libjax_common.so`` in the
main thread, about 1 interrupt in 25 of ``falsify``) came from a
``KeyboardInterrupt`` raised at a random point inside JAX (dispatching or
compiling the jitted search round): the crash followed at interpreter exit,
and still before it when the exit was ``os._exit``. So inside ``falsify`` and
``study`` the first Ctrl-C is cooperative (:func:`cooperative`): it only sets
the flag, and the work stops at its next progress hook (between search rounds,
between epochs), where no XLA work is in flight; a second Ctrl-C raises at
once. An interrupted command then leaves with ``os._exit(130)`` after flushing
its output, so XLA's threads are not torn down by the interpreter's shutdown.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
import traceback
from typing import Any, Callable, Iterator, Optional

__all__ = ["HELD", "FINDING", "BAD_INPUT", "UNKNOWN", "INTERNAL", "INTERRUPTED", "BROKEN_PIPE",
           "install_sigint", "interrupted", "cooperative", "poll_interrupt", "debug_requested", "internal_error_line",
           "run_guarded", "leave"]

HELD, FINDING, BAD_INPUT, UNKNOWN, INTERNAL = 0, 1, 2, 3, 4
INTERRUPTED = 130
BROKEN_PIPE = 141

#: Functions in which Python ignores a raised exception (it prints "Exception ignored in ...").
_IGNORING = ("__del__", "callback", "_remove", "__exit__")
#: Errors of writing output that are the environment's, not a bug: one line, exit 2.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}

_interrupted = False
_hard = False  # run_guarded for the process's own entry point (may touch file descriptor 1)


_cooperative = 0  # > 0 inside cooperative(): the first Ctrl-C only asks the work to stop at its next safe point


def _on_sigint(signum: int, frame: Any) -> None:
    global _interrupted
    first = not _interrupted
    _interrupted = True
    if _cooperative and first:
        _say("interrupted (Ctrl-C): stopping at the next safe point and keeping what is finished; Ctrl-C again to stop at once")
        return
    name = getattr(getattr(frame, "f_code", None), "co_name", "")
    if name.endswith(_IGNORING):
        return  # raising here would be swallowed; the flag is polled later
    raise KeyboardInterrupt


@contextlib.contextmanager
def cooperative() -> Iterator[None]:
    """Inside, the first Ctrl-C does not raise where it lands: the work stops at its next :func:`poll_interrupt`.

    A :class:`KeyboardInterrupt` raised at a random point inside JAX (a jitted round being dispatched or
    compiled) can crash the process: ``segfault at 210 ... in libjax_common.so`` in about 1 of 25 interrupts of
    ``falsify``, even with ``os._exit``. The falsifier's and the study's progress hooks poll between rounds and
    epochs, where no XLA work is in flight. A second Ctrl-C raises at once.
    """
    global _cooperative
    _cooperative += 1
    try:
        yield
    finally:
        _cooperative -= 1


def install_sigint(reset: bool = True) -> None:
    """Record every Ctrl-C (see the module text); main thread only, a no-op elsewhere."""
    global _interrupted
    if reset:
        _interrupted = False
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


def interrupted() -> bool:
    """Whether a Ctrl-C arrived since :func:`install_sigint`."""
    return _interrupted


def poll_interrupt() -> None:
    """Raise :class:`KeyboardInterrupt` when a Ctrl-C was recorded but swallowed (call it from progress hooks)."""
    if _interrupted:
        raise KeyboardInterrupt


def debug_requested(argv: list[str]) -> bool:
    """``--debug`` among the arguments or ``LATENTCHECK_DEBUG`` set to something other than ``0``/empty."""
    return "--debug" in argv or os.environ.get("LATENTCHECK_DEBUG", "0").strip() not in ("", "0", "false", "no")


def internal_error_line(exc: BaseException) -> str:
    """The one line of an unexpected exception."""
    msg = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return (f"error: internal error: {type(exc).__name__}: {msg[:500]}; rerun with --debug for the traceback, "
            f"and please report it")


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so the interpreter's final flush cannot fail again (own process only)."""
    if not _hard:
        return
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):
        pass


def _flush() -> Optional[OSError]:
    """Flush stdout and stderr; the error of stdout's flush, if any."""
    failure = None
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError as exc:
            if stream is sys.stdout:
                failure = exc
        except (ValueError, AttributeError):
            pass
    return failure


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def write_error_code(exc: OSError) -> Optional[int]:
    """The exit code of an output that cannot be written (with its line said), or None when ``exc`` is not one."""
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        _silence_stdout()
        return BROKEN_PIPE
    if exc.errno in _WRITE_ERRNOS:
        where = f"{exc.filename}" if exc.filename else "standard output"
        if not exc.filename:
            _silence_stdout()
        _say(f"error: cannot write {where}: {exc.strerror or exc}; free some space or write elsewhere")
        return BAD_INPUT
    return None


def leave(code: int, hard: bool = True) -> "NoReturn":  # noqa: F821
    """Exit with ``code`` after flushing; with ``hard``, an interrupted run leaves with ``os._exit``
    (see the module text). ``hard=False`` (a call from Python, e.g. a test) raises ``SystemExit``."""
    failure = _flush()
    if failure is not None and code != BROKEN_PIPE:
        handled = write_error_code(failure)
        if handled is not None and code != INTERRUPTED:
            code = handled
    if code == INTERRUPTED and hard:
        os._exit(INTERRUPTED)
    sys.exit(code)


def run_guarded(body: Callable[[], Any], argv: list[str], hard: bool = True) -> "NoReturn":  # noqa: F821
    """Run ``body`` (which returns an exit code or raises ``SystemExit``) and leave with the right code.

    A :class:`KeyboardInterrupt` (or a recorded Ctrl-C that something swallowed) is exit 130; an output
    that cannot be written is exit 2 (141 for a closed pipe, quietly); any other exception is exit 4
    with one line (with the traceback first under ``--debug``). ``hard``: the process's own entry point
    (``os._exit`` after an interrupt); ``False`` from Python, where the Ctrl-C handler is put back after.
    """
    global _hard
    _hard = hard
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    install_sigint(reset=not hard)  # the console script's handler may already have seen a Ctrl-C
    try:
        code = _run(body, argv)
    finally:
        if not hard and previous is not None:
            signal.signal(signal.SIGINT, previous)
    leave(code, hard)


def _run(body: Callable[[], Any], argv: list[str]) -> int:
    try:
        code = body()
        code = code if isinstance(code, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else BAD_INPUT)
        if exc.code is not None and not isinstance(exc.code, int):
            _say(str(exc.code))
    except KeyboardInterrupt:
        code = INTERRUPTED
    except OSError as exc:
        code = write_error_code(exc)
        if code is None:
            code = _internal(exc, argv)
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit 4
        code = _internal(exc, argv)
    if _interrupted and code != INTERRUPTED:
        _say("interrupted (Ctrl-C): the result above may be incomplete")
        code = INTERRUPTED
    return code


def _internal(exc: BaseException, argv: list[str]) -> int:
    if debug_requested(argv):
        traceback.print_exception(exc)
    _say(internal_error_line(exc))
    return INTERNAL
