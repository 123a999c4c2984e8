"""Session state shared by the assertions and the pytest plugin (stdlib only).

Kept free of numpy, JAX and sympy so that the pytest plugin, which pytest
loads into every run, costs nothing until an assertion is called.

* Seeds: one session seed (``--latentcheck-seed``; else 0 where Hypothesis's
  ``derandomize`` is on, as in the ``ci`` profile, or where ``CI`` is set;
  else random, and reported with every failure), and per test a seed derived
  from it and the test's node id, so tests do not depend on their order.
* Budget: seconds per assertion (``--latentcheck-budget``), default
  :data:`DEFAULT_BUDGET`.
* Findings: every counterexample an assertion raised, for the end-of-run summary.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_REPORT_DIR",
    "Finding",
    "configure",
    "reset",
    "deterministic",
    "session_seed",
    "seed_for",
    "current_nodeid",
    "budget",
    "report_dir",
    "record",
    "findings",
    "seed_was_given",
]

#: Seconds one assertion may search, unless ``budget=`` or ``--latentcheck-budget`` says otherwise.
DEFAULT_BUDGET = 5.0
#: Where reports go, relative to the working directory (or pytest's rootdir under pytest).
DEFAULT_REPORT_DIR = "latentcheck-reports"


@dataclass(frozen=True)
class Finding:
    """One counterexample raised by an assertion (for the end-of-run summary)."""

    nodeid: str | None
    property: str
    certified: str
    summary: str
    report: str | None


_state: dict = {"seed": None, "seed_given": False, "budget": None, "report_dir": None, "findings": [], "calls": 0}


def reset() -> None:
    """Forget the configuration and findings (the plugin calls this at session start)."""
    _state.update(seed=None, seed_given=False, budget=None, report_dir=None, findings=[], calls=0)


def configure(*, seed: int | None = None, budget: float | None = None, report_dir: "str | os.PathLike[str] | None" = None) -> None:
    """Set the session seed, the default budget and the report directory (None leaves a value as it is)."""
    if seed is not None:
        _state["seed"] = int(seed)
        _state["seed_given"] = True
    if budget is not None:
        _state["budget"] = float(budget)
    if report_dir is not None:
        _state["report_dir"] = Path(report_dir)


def deterministic() -> bool:
    """True where runs must be reproducible: Hypothesis's ``derandomize`` (the ``ci`` profile) or ``CI`` set."""
    if os.environ.get("CI"):
        return True
    try:
        from hypothesis import settings

        return bool(settings.default.derandomize)
    except Exception:  # pragma: no cover - hypothesis is a dependency
        return False


def session_seed() -> int:
    """The session seed (chosen once: 0 when :func:`deterministic`, else at random)."""
    if _state["seed"] is None:
        _state["seed"] = 0 if deterministic() else random.SystemRandom().randrange(2**31)
    return int(_state["seed"])


def seed_was_given() -> bool:
    return bool(_state["seed_given"])


def current_nodeid() -> str | None:
    """The running pytest test's node id, from ``PYTEST_CURRENT_TEST``; None outside pytest."""
    raw = os.environ.get("PYTEST_CURRENT_TEST")
    if not raw:
        return None
    return raw.rsplit(" (", 1)[0]


def seed_for(nodeid: str | None) -> int:
    """A seed for one test, derived from the session seed and the test's node id."""
    base = session_seed()
    if not nodeid:
        return base
    digest = hashlib.sha256(f"{base}:{nodeid}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def budget() -> float:
    """Seconds per assertion."""
    return float(_state["budget"]) if _state["budget"] is not None else DEFAULT_BUDGET


def report_dir() -> Path:
    """Where assertions write reports."""
    return Path(_state["report_dir"]) if _state["report_dir"] is not None else Path(DEFAULT_REPORT_DIR)


def record(finding: Finding) -> None:
    _state["findings"].append(finding)


def note_call() -> None:
    _state["calls"] += 1


def calls() -> int:
    return int(_state["calls"])


def findings() -> list[Finding]:
    return list(_state["findings"])
