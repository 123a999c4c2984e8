"""The falsify pipeline's stages, one by one: each is ``stage(setup, state) -> state`` and leaves its input alone."""

from __future__ import annotations

import dataclasses

import numpy as np

from latentcheck.checkers.falsify._pipeline import _start
from latentcheck.checkers.falsify._stages import STAGES, chain, conclude, construct, decide, search, shrink
from latentcheck.checkers.falsify._state import record, select
from latentcheck.checkers.falsify import falsify
from latentcheck.counterexamples.fast import QVec
from latentcheck.counterexamples.candidate import certify_candidate
from latentcheck.theorems import Encoder

RELU = Encoder.random([10, 3], "relu", seed=0)


def _begin(encoder: Encoder = RELU, prop: str = "p3", **kw):
    opts = dict(domain="reals", dtype="float32", budget=5.0, seed=0, restarts=16, n=None, steps=None,
                max_counterexamples=2, shrink=True, max_shrink_checks=40, shrink_budget=None, max_rounds=3, min_rounds=0,
                progress=None)
    opts.update(kw)
    return _start(encoder, prop, **opts)


def _snapshot(state):
    return (state.certified, state.floats, state.undecided, state.status, dataclasses.asdict(state.stats), state.hist.copy())


def _unchanged(before, state) -> bool:
    after = _snapshot(state)
    return all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b for a, b in zip(before, after))


def test_decide_settles_t2_without_search() -> None:
    setup, state = _begin(Encoder.random([6, 2], "t**2 + 1", seed=0))
    before = _snapshot(state)
    out = decide(setup, state)
    assert out.status == "none-exists" and out.info["histograms"] is None
    assert _unchanged(before, state)
    assert construct(setup, out) is out and search(setup, out) is out and conclude(setup, out) is out


def test_decide_leaves_other_runs_alone() -> None:
    setup, state = _begin()
    assert decide(setup, state) is state


def test_construct_certifies_t1_and_is_pure() -> None:
    setup, state = _begin()
    before = _snapshot(state)
    out = construct(setup, state)
    assert out.certified and out.certified[0].certified == "exact" and "T1" in out.certified[0].origin
    assert out.stats.candidates_checked >= 1 and out.stats.evaluations == len(out.candidates)
    assert _unchanged(before, state)


def test_search_stage_runs_rounds() -> None:
    """``min_rounds=1``: the search stage runs a round after the constructions and records what it saw."""
    enc = Encoder.random([8, 6, 2], "relu", seed=3)
    setup, state = _begin(enc, domain="nonneg", min_rounds=1, budget=300.0)  # time never stops this round
    out = search(setup, construct(setup, state))
    assert out.stats.rounds >= 1 and out.stats.evaluations > 0 and out.hist.sum() > 0
    assert out.certified or out.undecided or out.stats.candidates_checked > 0


def test_shrink_stage_keeps_certificates() -> None:
    setup, state = _begin()
    found = construct(setup, state)
    out = shrink(setup, found)
    assert len(out.certified) <= setup.max_counterexamples
    for cx in out.certified:
        cert = certify_candidate(setup.prop, RELU, [cx.vector("x")], domain=setup.dom, dtype="float32")
        assert cert.certified and cx.nonzeros <= max(c.nonzeros for c in found.certified)


def test_conclude_words_come_from_the_property() -> None:
    setup, state = _begin(prop="p2")
    out = conclude(setup, state)
    assert out.status == "none-found" and "ordering flip" in out.info["message"]
    assert "flip_margin_signed_log10" in out.info["histograms"]


def test_record_deduplicates_and_counts() -> None:
    setup, state = _begin()
    x = QVec.from_fractions([0] * 9 + [1])
    cert = certify_candidate(setup.prop, RELU, [x], domain=setup.dom, dtype="float32")
    s1 = record(setup, state, cert, [x], "test")
    s2 = record(setup, s1, cert, [x], "test")
    assert s2.stats.candidates_checked == 2 and len(s2.seen) == 1
    assert len(s2.certified) + len(s2.floats) + len(s2.undecided) + s2.stats.rejected == 1
    assert state.stats.candidates_checked == 0


def test_select_prefers_distinct_origins() -> None:
    from latentcheck.counterexamples.types import Counterexample

    a, b, c = (Counterexample("P3", ((str(i), "1"),), "0", "exact", "float32", "reals", origin=o)
               for i, o in ((1, "A"), (2, "A"), (3, "B")))
    assert select([a, b, c], 2) == (a, c)


def test_chain_of_stages_is_falsify() -> None:
    setup, state = _begin(max_rounds=1000, budget=300.0)  # a budget that never binds: no timing in the result
    out = chain(*STAGES)(setup, state)
    res = falsify(RELU, "p3", budget=300.0, seed=0, restarts=16)
    assert out.status == res.status
    assert [c.witness for c in out.certified] == [c.witness for c in res.counterexamples]
