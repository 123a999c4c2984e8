"""The pipeline's data: :class:`Setup` (what a run was asked, fixed) and :class:`State` (what it found so far).

A stage of :func:`latentcheck.checkers.falsify` is a function ``stage(setup, state) -> state``
(like an optax transformation's ``update``): it reads the setup and returns a new
:class:`State` (``dataclasses.replace``), never mutating the one it was given.
:func:`record` is how every stage adds a certified candidate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from ...theorems.domains import Domain
from ...counterexamples.types import UNDECIDED, Counterexample
from ...counterexamples.certify import to_counterexample

__all__ = ["SearchStats", "Setup", "State", "record", "select", "enough", "full"]


@dataclass
class SearchStats:
    """Search statistics. ``seconds`` and its companions are timings (vary run to run); the rest is deterministic."""

    evaluations: int = 0
    restarts: int = 0
    rounds: int = 0
    steps_per_round: int = 0
    candidates_checked: int = 0
    certified: int = 0
    float_only: int = 0
    rejected: int = 0
    budget_exhausted: bool = False
    shrink_checks: int = 0
    seconds: float = 0.0
    search_seconds: float = 0.0
    certify_seconds: float = 0.0
    shrink_seconds: float = 0.0
    first_certified_seconds: float | None = None
    compile_seconds: float = 0.0  # XLA compilation of the search round: start-up, outside the budget

    def to_json(self) -> dict[str, Any]:
        timing = {
            "seconds": round(self.seconds, 4),
            "search_seconds": round(self.search_seconds, 4),
            "certify_seconds": round(self.certify_seconds, 4),
            "shrink_seconds": round(self.shrink_seconds, 4),
            "compile_seconds": round(self.compile_seconds, 4),
            "first_certified_seconds": None if self.first_certified_seconds is None else round(self.first_certified_seconds, 4),
            "evaluations_per_second": round(self.evaluations / self.search_seconds, 1) if self.search_seconds > 0 else None,
        }
        counts = {k: getattr(self, k) for k in ("evaluations", "restarts", "rounds", "steps_per_round", "candidates_checked",
                                                 "certified", "float_only", "rejected", "budget_exhausted", "shrink_checks")}
        return {**counts, "timing": timing}


@dataclass(frozen=True)
class Setup:
    """Everything a run was asked and derived before it starts (fixed for the run).

    ``prop`` is a property object (:mod:`latentcheck.theorems.properties`), ``dom`` a domain
    object; ``target`` the P3-style zero target (``None`` when the property does not use one);
    ``timer`` the :class:`Budget` every certification runs under.
    """

    prop: Any
    encoder: Any
    black: bool
    dom: Domain
    dim: int
    dtype: str
    seed: int
    budget: float
    restarts: int
    steps: int | None
    max_counterexamples: int
    cls: Any
    target: Any
    t_start: float
    timer: Any
    nonvanishing: bool = False
    costly: bool = False
    shrink: bool = True
    max_shrink_checks: int = 40
    shrink_budget: float | None = None
    max_rounds: int = 1000
    min_rounds: int = 0
    progress: Callable[[float, str], None] | None = None

    @property
    def want_float(self) -> bool:
        """Whether float-only findings end the search (float-only targets, black boxes)."""
        return self.target is not None and (self.target.kind in ("float-left", "float-right") or self.black)

    def note(self, frac: float, msg: str) -> None:
        if self.progress is not None:
            self.progress(min(1.0, max(0.0, frac)), msg)


@dataclass(frozen=True)
class State:
    """What the run has found so far (a new one per change)."""

    stats: SearchStats
    info: dict[str, Any]
    deadline: float
    hist: np.ndarray
    certified: tuple[Counterexample, ...] = ()
    floats: tuple[Counterexample, ...] = ()
    undecided: tuple[Counterexample, ...] = ()
    seen: frozenset = frozenset()
    candidates: tuple[Any, ...] = ()
    status: str | None = None


def record(setup: Setup, state: State, cert: Any, vectors: Sequence[Any], origin: str, notes: Sequence[str] = ()) -> State:
    """``state`` with one certified candidate added to the right list (or counted as rejected / a repeat)."""

    st = replace(state.stats, candidates_checked=state.stats.candidates_checked + 1)
    if cert.certified and st.first_certified_seconds is None:
        st.first_certified_seconds = time.perf_counter() - setup.t_start  # the certificate is in hand
    key = tuple(v.key() for v in vectors)
    if key in state.seen:
        return replace(state, stats=st)
    state = replace(state, stats=st, seen=state.seen | {key})
    cx = to_counterexample(cert, setup.prop.spec, vectors, dtype=setup.dtype, domain=setup.dom.label, origin=origin, notes=notes)
    if cx is None:
        st.rejected += 1
        return state
    if cx.is_certified:
        st.certified += 1
        return replace(state, certified=state.certified + (cx,))
    if cx.certified == UNDECIDED:
        st.rejected += 1
        return replace(state, undecided=state.undecided + (cx,))
    st.float_only += 1
    return replace(state, floats=state.floats + (cx,))


def enough(setup: Setup, state: State) -> bool:
    """Whether the search may stop: a certified finding (or a float-only one where those are the aim)."""
    return bool(state.certified) or (setup.want_float and bool(state.floats))


def full(setup: Setup, state: State) -> bool:
    """Whether the constructions found as many findings as are kept."""
    k = setup.max_counterexamples
    return len(state.certified) >= k or (not state.certified and setup.want_float and len(state.floats) >= k)


def select(items: Sequence[Counterexample], k: int) -> tuple[Counterexample, ...]:
    """Keep up to ``k``: first found first, distinct origins preferred, then the simplest."""
    chosen: list[Counterexample] = []
    origins: set = set()
    for cx in items:
        if cx.origin not in origins:
            chosen.append(cx)
            origins.add(cx.origin)
        if len(chosen) >= k:
            return tuple(chosen)
    for cx in items:
        if cx not in chosen and len(chosen) < k:
            chosen.append(cx)
    return tuple(chosen)
