"""The stages of :func:`latentcheck.checkers.falsify`, each ``stage(setup, state) -> state``.

Composed like optax transformations (:func:`chain`): ``decide`` (a theorem settles
the run before any search), ``construct`` (round 0: the theorems' constructions
or a finite domain's rows, repaired and certified), ``search`` (rounds of the
jitted JAX search, their best points certified), ``shrink`` (each kept
counterexample made simpler while it stays certified) and ``conclude`` (status,
histograms and message). A stage returns a new :class:`State` and skips itself
once ``state.status`` is set. The property object supplies everything that
differs between properties; the domain object everything that differs between
domains.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ...theorems.blas import serial_blas
from ._budget import Budget, OutOfTime
from ._rounds import exact_vec, finite_candidate, repair_point
from ._state import Setup, State, enough, full, record, select
from ._strategy import strategy
from ...counterexamples.fast import QVec
from ...counterexamples.candidate import certify_candidate
from ...counterexamples.shrink import shrink as _shrink
from ..verify.falsify_hook import verified_status
from ._model import jax_pre_activations
from ._report import histograms, message
from ._search import run_round

__all__ = ["Stage", "chain", "certify", "certify_all", "keep_state", "decide", "construct", "search", "shrink", "conclude", "STAGES"]

Stage = Callable[[Setup, State], State]


def chain(*stages: Stage) -> Stage:
    """One stage that runs ``stages`` in order (each skipped once a status is set, except ``conclude``)."""

    def run(setup: Setup, state: State) -> State:
        for stage in stages:
            try:
                state = stage(setup, state)
            except KeyboardInterrupt as exc:
                keep_state(exc, state)
                raise
        return state

    return run


def certify(setup: Setup, vectors: Sequence[Any]) -> Any:
    """Certify one candidate under the run's budget (``OutOfTime`` when ``--budget`` is spent)."""

    return setup.timer.run(certify_candidate, setup.prop, setup.encoder, vectors, domain=setup.dom, dtype=setup.dtype,
                           **strategy("certify_options", setup.prop)(setup.prop, setup.nonvanishing))


def certify_all(setup: Setup, state: State, found: Iterable[tuple[list, str]]) -> State:
    """``state`` with every ``(vectors, origin)`` of ``found`` certified and recorded (stops at ``OutOfTime``,
    which it raises again with the state so far attached as ``exc.state``)."""
    for vecs, origin in found:
        try:
            cert = certify(setup, vecs)
        except OutOfTime as exc:
            exc.state = state  # type: ignore[attr-defined]
            raise
        except KeyboardInterrupt as exc:
            keep_state(exc, state)
            raise
        state = record(setup, state, cert, vecs, origin)
    return state


def keep_state(exc: BaseException, state: State) -> None:
    """Attach the work finished before a Ctrl-C (``exc.state``) unless an inner stage already did."""
    if getattr(exc, "state", None) is None:
        exc.state = state  # type: ignore[attr-defined]


def decide(setup: Setup, state: State) -> State:
    """A status settled before any search (T2 and an empty float zero set: ``none-exists``)."""
    if setup.black:
        return state
    act = setup.encoder.activation
    status = strategy("none_decider", setup.prop)(setup.prop, setup.cls, setup.target, act, setup.dtype)
    if status is None:
        return state
    stats = replace(state.stats, seconds=time.perf_counter() - setup.t_start)
    info = {**state.info, "message": setup.target.reason, "histograms": None}
    return replace(state, status=status, stats=stats, info=info)


def _sources(setup: Setup, state: State) -> Iterable[Any]:
    """Round 0's candidates: the property's constructions, or a finite domain's rows."""
    if setup.dom.is_finite:
        find = strategy("data_finder", setup.prop)
        return iter(find(setup.prop, setup.encoder, setup.dom, _enc_fn(setup), target=setup.target, dtype=setup.dtype,
                         black=setup.black))
    if setup.black:
        return iter(())
    limit = max(0.05, min(0.25 * setup.budget, state.deadline - time.perf_counter()))
    build = strategy("constructor", setup.prop)
    return build(setup.prop, setup.encoder, setup.dom, target=setup.target, seed=setup.seed, time_limit=limit)


def _repaired(setup: Setup, cand: Any) -> list:
    """A candidate's exact vectors, repaired onto an isolated zero where the target is one."""
    vecs = [exact_vec(v, setup.dom) for v in cand.vectors]
    t = setup.target
    if (strategy("uses_zero_target", setup.prop)(setup.prop) and t is not None and t.kind == "point" and not cand.exact and not setup.black
            and setup.encoder.inputs.normalise == "none"):  # the repair solves the raw chain
        rep = repair_point(setup.encoder, vecs[0], t, setup.dom)
        if rep is not None:
            return [rep]
    return vecs


def construct(setup: Setup, state: State) -> State:
    """Round 0: the constructions (or data rows), repaired and certified until enough are found or time is up."""
    if state.status is not None:
        return state
    setup.note(0.0, "constructions")
    t0 = time.perf_counter()
    cands: list = []
    with serial_blas():  # small dense solves: one BLAS thread is faster and steadier
        try:
            for cand in _sources(setup, state):
                if cands and time.perf_counter() >= state.deadline:  # constructions count against the budget too
                    raise OutOfTime()
                if not finite_candidate(cand):  # a construction overflowed (huge weights): nothing to certify
                    continue
                cands.append(cand)
                state = certify_all(setup, state, [(_repaired(setup, cand), cand.origin)])
                if full(setup, state):
                    break
        except OutOfTime as exc:
            state = getattr(exc, "state", state)
            state = replace(state, stats=replace(state.stats, budget_exhausted=True))
    st = replace(state.stats, search_seconds=state.stats.search_seconds + time.perf_counter() - t0,
                 evaluations=state.stats.evaluations + len(cands))
    return replace(state, stats=st, candidates=tuple(cands))


def _enc_fn(setup: Setup) -> Callable:
    """The float32 JAX encoder over a batch (the search's view of the encoder)."""
    import jax

    if setup.black:
        return jax.vmap(setup.encoder)

    pre_fn, act_fn = jax_pre_activations(setup.encoder, "float32")
    return lambda X: act_fn(pre_fn(X))


def _seeds(setup: Setup, cands: Sequence[Any], B: int) -> tuple[np.ndarray, np.ndarray]:
    """Round 1's seed points from round 0's candidates, and the mask of restarts they replace."""

    arity, dim = setup.prop.arity, setup.dim
    seeds = np.zeros((B, dim) if arity == 1 else (B, arity, dim), dtype=np.float32)
    mask = np.zeros(B, dtype=bool)
    for k, cand in enumerate(cands[:B]):
        vec = [v.floats() if isinstance(v, QVec) else np.array([float(q) for q in v]) if isinstance(v, list)
               else np.asarray(v, dtype=np.float64) for v in cand.vectors]
        seeds[k] = vec[0] if arity == 1 else np.stack(vec)
        mask[k] = True
    return seeds, mask


def _compiled_round(setup: Setup, state: State) -> tuple[Callable, State]:
    """The jitted search round (compiled now: start-up, outside the budget), and ``state`` with the steps,
    the compile time and the deadline moved by it."""
    import jax
    import jax.numpy as jnp


    B = int(setup.restarts)
    search = strategy("searcher", setup.prop)
    if setup.black:
        srch = search(setup.prop, None, setup.dom, restarts=B, target=setup.target, enc_fn=_enc_fn(setup), n=setup.dim)
        flops = 2.0 * setup.dim * 64
    else:
        srch = search(setup.prop, setup.encoder, setup.dom, restarts=B, target=setup.target)
        flops = 2.0 * sum(layer.W.size for layer in setup.encoder.layers)
    steps = setup.steps
    if steps is None:
        steps = int(np.clip(4e8 / (B * flops * strategy("steps_cost", setup.prop)(setup.prop)), 10, 200))
    seeds, mask = _seeds(setup, state.candidates, B)
    t0 = time.perf_counter()
    rnd = run_round(srch, int(steps)).lower(jax.random.fold_in(jax.random.PRNGKey(int(setup.seed)), 1),
                                           jnp.asarray(seeds), jnp.asarray(mask)).compile()
    compile_s = time.perf_counter() - t0
    setup.timer.deadline = state.deadline + compile_s
    st = replace(state.stats, steps_per_round=int(steps), compile_seconds=compile_s)
    return rnd, replace(state, stats=st, deadline=state.deadline + compile_s)


def _one_round(setup: Setup, state: State, rnd: Callable, r: int, seeds: Any, mask: Any) -> tuple[State, bool]:
    """Search round ``r`` and its candidates certified; ``(state, out_of_time)``."""
    import jax

    t0 = time.perf_counter()
    out = rnd(jax.random.fold_in(jax.random.PRNGKey(int(setup.seed)), r), seeds, mask)
    best_loss, best = np.asarray(out.best_loss), np.asarray(out.best_params, dtype=np.float64)
    st = replace(state.stats, evaluations=state.stats.evaluations + int(out.evaluations), rounds=r,
                 search_seconds=state.stats.search_seconds + time.perf_counter() - t0)
    state = replace(state, stats=st, hist=state.hist + np.asarray(out.hist, dtype=np.int64))
    t0 = time.perf_counter()
    setup.timer.new_stage()  # this round's candidates may still be checked in the grace
    timed_out = False
    try:
        pick = strategy("round_picker", setup.prop)
        state = certify_all(setup, state, pick(setup.prop, setup, best, best_loss))
    except OutOfTime as exc:
        state, timed_out = getattr(exc, "state", state), True
    st = replace(state.stats, certify_seconds=state.stats.certify_seconds + time.perf_counter() - t0,
                 budget_exhausted=state.stats.budget_exhausted or timed_out)
    return replace(state, stats=st), timed_out


def search(setup: Setup, state: State) -> State:
    """Rounds of the jitted JAX search until enough is found, the budget is spent or ``max_rounds`` ran."""
    if state.status is not None or setup.dom.is_finite or setup.max_rounds <= 0:
        return state
    if enough(setup, state) and setup.min_rounds <= 0:
        return state
    import jax.numpy as jnp

    rnd, state = _compiled_round(setup, state)
    seeds, mask = _seeds(setup, state.candidates, int(setup.restarts))
    no_seeds = jnp.asarray(np.zeros_like(mask))
    seeds, mask = jnp.asarray(seeds), jnp.asarray(mask)
    try:
        for r in range(1, setup.max_rounds + 1):
            if time.perf_counter() >= state.deadline and (r > 1 or enough(setup, state) or setup.costly):
                return replace(state, stats=replace(state.stats, budget_exhausted=True))  # a cheap first round always runs
            setup.note((time.perf_counter() - setup.t_start) / setup.budget, f"round {r}")
            state, timed_out = _one_round(setup, state, rnd, r, seeds, mask if r == 1 else no_seeds)
            if timed_out or (enough(setup, state) and r >= setup.min_rounds):
                break
    except KeyboardInterrupt as exc:  # Ctrl-C: the rounds finished so far stand
        keep_state(exc, state)
        raise
    return state


def shrink(setup: Setup, state: State) -> State:
    """Keep ``max_counterexamples`` of each kind; shrink each certified one while it stays certified."""
    if state.status is not None:
        return state
    setup.note(1.0, "shrinking")
    k = setup.max_counterexamples
    state = replace(state, certified=select(state.certified, k), floats=select(state.floats, k))
    if not setup.shrink or setup.black:
        return state

    t0 = time.perf_counter()
    sdeadline = state.deadline if setup.shrink_budget is None else t0 + float(setup.shrink_budget)  # within --budget
    out, used = [], 0
    for cx in state.certified:
        try:
            small, n = Budget(sdeadline, grace=0.001).run(_shrink, cx, setup.encoder, domain=setup.dom, dtype=setup.dtype,
                                                          max_checks=setup.max_shrink_checks, deadline=sdeadline)
        except OutOfTime:  # the witness as found stands
            small, n = cx, 0
        used += n
        out.append(small)
    st = replace(state.stats, shrink_checks=state.stats.shrink_checks + used, shrink_seconds=time.perf_counter() - t0)
    return replace(state, certified=tuple(out), stats=st)


def conclude(setup: Setup, state: State) -> State:
    """The status, the histograms and the message (and an exact proof where the property has a verifier)."""
    if state.status is not None:
        return state

    st = replace(state.stats, seconds=time.perf_counter() - setup.t_start)
    status = ("counterexample" if state.certified else "float-only" if state.floats else
              "undecided" if state.undecided else "none-found")
    info = {**state.info, "histograms": histograms(setup.prop, state.hist)}
    info["message"] = message(setup.prop, status, state.certified, state.floats, st, setup.dtype, setup.budget,
                              len(state.undecided))
    left = state.deadline - time.perf_counter()
    if status == "none-found" and setup.prop.verifiable and not setup.black and not state.undecided and left > 0.2:

        status = verified_status(setup.encoder, setup.dom, left, info)
    return replace(state, status=status, stats=st, info=info)


#: The pipeline of :func:`latentcheck.checkers.falsify`.
STAGES: tuple[Stage, ...] = (decide, construct, search, shrink, conclude)
