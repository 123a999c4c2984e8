"""The fuzz property: run the engine on a case, re-check every claim independently.

:func:`check_case` returns an :class:`Outcome` (the engine's status, or why it
refused, and the re-checker's problems); :func:`assert_sound` raises
``AssertionError`` naming the case and each problem. A crash (an exception
that is not the engine's own error type) is a problem too: no input may get
a traceback.
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

import _adapter
import recheck
from _strategies import Case, write_case

__all__ = ["Outcome", "check_case", "assert_sound", "TALLY"]

#: Counts over a session: statuses, refusals, problem kinds (printed by the tests).
TALLY: collections.Counter = collections.Counter()


@dataclass
class Outcome:
    status: str  # the engine's status, "refused" or "crash"
    problems: list = field(default_factory=list)
    detail: str = ""


def check_case(case: Case, budget: float = 0.4, folder: str | None = None) -> Outcome:
    """Run falsify on ``case`` and re-check its report."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        weights, data, domain = write_case(case, folder or tmp)
        if os.environ.get("SOUNDNESS_VERBOSE"):  # print each case, and the stack of one stuck for 60 s
            import faulthandler

            print(f"case: {case.describe()[:400]}", file=sys.stderr, flush=True)
            faulthandler.dump_traceback_later(60, repeat=False)
        try:
            report = _adapter.falsify_report(weights, case.prop, domain=domain, dtype=case.dtype, budget=budget,
                                             seed=case.seed)
        except _adapter.Refused as exc:
            TALLY["refused"] += 1
            return Outcome("refused", [], str(exc))
        except Exception:  # noqa: BLE001 - any other exception is a crash the user would see
            TALLY["crash"] += 1
            return Outcome("crash", [recheck.Problem("crash", traceback.format_exc(limit=4))])
        engine_seconds = time.perf_counter() - t0
        TALLY["engine_over_budget_5s"] += engine_seconds > budget + 5.0
        try:
            problems = recheck.check_report(report, weights, data)
        except MemoryError:
            problems = [recheck.Problem("recheck-memory", "the re-checker ran out of memory on this report")]
    if os.environ.get("SOUNDNESS_VERBOSE"):
        import faulthandler

        faulthandler.cancel_dump_traceback_later()
    TALLY[f"status:{report.get('status')}"] += 1
    TALLY["certified"] += len(report.get("counterexamples", []))
    TALLY["float-only"] += len(report.get("float_only", []))
    for p in problems:
        TALLY[f"problem:{p.kind}"] += 1
    return Outcome(str(report.get("status")), problems)


def assert_sound(case: Case, budget: float = 0.4, ignore: tuple[str, ...] = ()) -> Outcome:
    """:func:`check_case`, raising ``AssertionError`` on any problem whose kind is not in ``ignore``."""
    TALLY["cases"] += 1
    out = check_case(case, budget)
    bad = [p for p in out.problems if p.kind not in ignore]
    if bad:
        lines = "\n".join(f"  - {p}" for p in bad[:6])
        raise AssertionError(f"unsound result ({out.status}) for case {case.describe()}\n{lines}")
    return out
