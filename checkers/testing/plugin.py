"""latentcheck's pytest plugin (entry point ``pytest11``: ``latentcheck = checkers.testing.plugin``).

Adds, to every pytest run in an environment where latentcheck is installed:

* options ``--latentcheck-budget SECONDS`` (search budget per assertion),
  ``--latentcheck-seed N`` (session seed; reproduces a failing run) and
  ``--latentcheck-report-dir DIR`` (default ``<rootdir>/latentcheck-reports``);
* fixtures ``latentcheck_seed`` (this test's seed) and ``latentcheck_budget``;
* at the end of the run, a ``latentcheck`` section listing every
  counterexample an assertion raised and where its report was written.

Where Hypothesis's ``derandomize`` is on (its ``ci`` profile) or ``CI`` is
set, the session seed is 0 unless given, so CI runs are deterministic;
elsewhere it is drawn at random and printed with every failure.

The plugin imports only the standard library and :mod:`latentcheck.checkers.testing._session`
at load time and prints nothing unless an assertion ran, so it is free for
test suites that do not use it.
"""

from __future__ import annotations

import math

import pytest

from . import _session

_saved: list[tuple[dict, set[str]]] = []
_failed: set[str] = set()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("latentcheck", "latentcheck assertions (checkers.testing)")
    group.addoption(
        "--latentcheck-budget",
        action="store",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"seconds each latentcheck assertion may search (default {_session.DEFAULT_BUDGET:g})",
    )
    group.addoption(
        "--latentcheck-seed",
        action="store",
        type=int,
        default=None,
        metavar="N",
        help="session seed of the latentcheck assertions (default: 0 in CI / Hypothesis's ci profile, else random)",
    )
    group.addoption(
        "--latentcheck-report-dir",
        action="store",
        default=None,
        metavar="DIR",
        help="where latentcheck assertions write reports (default: <rootdir>/latentcheck-reports)",
    )


def pytest_configure(config: pytest.Config) -> None:
    budget = config.getoption("latentcheck_budget", default=None)
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise pytest.UsageError(f"--latentcheck-budget={budget!r} must be a positive number of seconds, e.g. --latentcheck-budget=10")
    seed = config.getoption("latentcheck_seed", default=None)
    if seed is not None and seed < 0:
        raise pytest.UsageError(f"--latentcheck-seed={seed!r} must be a nonnegative int")
    report_dir = config.getoption("latentcheck_report_dir", default=None)
    # Keep the outer session's state when pytest runs inside pytest (pytester).
    _saved.append((dict(_session._state, findings=list(_session._state["findings"])), set(_failed)))
    _session.reset()
    _failed.clear()
    _session.configure(seed=seed, budget=budget, report_dir=report_dir or (config.rootpath / _session.DEFAULT_REPORT_DIR))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _saved:
        state, failed = _saved.pop()
        _session._state.update(state)
        _failed.clear()
        _failed.update(failed)


@pytest.fixture
def latentcheck_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: derived from the session seed and the test's node id."""
    return _session.seed_for(request.node.nodeid)


@pytest.fixture
def latentcheck_budget() -> float:
    """Seconds each latentcheck assertion may search (``--latentcheck-budget``)."""
    return _session.budget()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _failed.add(report.nodeid)


def pytest_terminal_summary(terminalreporter: "pytest.TerminalReporter", exitstatus: int, config: pytest.Config) -> None:
    # Only counterexamples that failed a test (one caught by pytest.raises is the test's business).
    found = [f for f in _session.findings() if f.nodeid is None or f.nodeid in _failed]
    if not found:
        return
    tr = terminalreporter
    tr.section("latentcheck")
    seed = _session.session_seed()
    how = "given" if _session.seed_was_given() else ("deterministic" if _session.deterministic() else "random")
    tr.write_line(f"{_session.calls()} assertion(s), session seed {seed} ({how}), budget {_session.budget():g} s each")
    tr.write_line(f"{len(found)} counterexample(s):")
    for f in found:
        where = f.report or "(report not written)"
        tr.write_line(f"  {f.nodeid or '(outside a test)'}: {f.summary}; report {where}")
    if not _session.seed_was_given():
        tr.write_line(f"rerun with --latentcheck-seed={seed} to reproduce")
