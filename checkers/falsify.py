"""``latentcheck.checkers.falsify``: find, certify and shrink counterexamples to P3 and P2.

The public API (stable; other modules and the pytest helpers build on it)::

    from latentcheck.checkers.falsify import falsify
    result = falsify(encoder, "p3", domain="reals", dtype="float32", budget=2.0, seed=0)
    result.status            # 'counterexample' | 'float-only' | 'none-found' | 'none-exists'
    result.counterexamples   # certified only ('exact' or 'interval')
    result.float_only        # rounding hazards of the dtype, never real counterexamples
    result.stats             # evaluations, restarts, rounds, timings
    result.to_json()         # the report (schema latentcheck.falsify/1)

``encoder`` is a :class:`latentcheck.theorems.Encoder` (certified results) or a plain
callable ``f(x[n]) -> z[m]`` with ``n=`` given (float search only: every
finding is ``float-only``; wrap weights in an ``Encoder`` to certify).

The engine is composable like optax: :func:`p3_search` / :func:`p2_search`
return a :class:`Search` of two pure functions ``init(key, seeds, mask)`` and
``step(state)`` over a batch of restarts; :func:`run_round` jits a round.
"""

from latentcheck.checkers.falsifier import (
    DTYPES,
    SCHEMA,
    FalsifyResult,
    Search,
    SearchState,
    SearchStats,
    ZeroTarget,
    environment,
    falsify,
    p2_search,
    p3_search,
    pool_inversion,
    run_round,
    zero_target,
)

__all__ = [
    "falsify",
    "FalsifyResult",
    "SearchStats",
    "SCHEMA",
    "DTYPES",
    "environment",
    "Search",
    "SearchState",
    "p3_search",
    "p2_search",
    "pool_inversion",
    "run_round",
    "ZeroTarget",
    "zero_target",
]
