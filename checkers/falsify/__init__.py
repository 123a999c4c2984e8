"""``latentcheck.checkers.falsify``: find, certify and shrink counterexamples to P3, P2 and any registered property.

The public API (stable; other modules and the pytest helpers build on it)::

    from latentcheck.checkers.falsify import falsify
    result = falsify(encoder, "p3", domain="reals", dtype="float32", budget=2.0, seed=0)
    result.status            # 'counterexample' | 'float-only' | 'none-found' | 'none-exists'
    result.counterexamples   # certified only ('exact' or 'interval')
    result.float_only        # rounding hazards of the dtype, never real counterexamples
    result.stats             # evaluations, restarts, rounds, timings
    result.to_json()         # the report (schema latentcheck.falsify/1)

``property`` is any registered property (:func:`latentcheck.theorems.properties.get_property`):
``"p3"``, ``"p2"``, ``"p3-eps:EPS,R"`` (``|enc(x)|_inf >= eps`` for ``|x| >= r``), ``"p2-delta:DELTA"``
(ordering required only where ``<x,v> - <x,u> >= delta |x|^2``). ``domain`` is a name
(``reals``, ``nonneg``, ``binary``, ``sphere``, ``box:LO,HI``, ``data:PATH``) or a domain object
(:mod:`latentcheck.theorems.domains`).

``encoder`` is a :class:`latentcheck.theorems.Encoder` (certified results) or a plain
callable ``f(x[n]) -> z[m]`` with ``n=`` given (float search only: every
finding is ``float-only``; wrap weights in an ``Encoder`` to certify).

The engine is composable like optax: :func:`falsify` is a chain of stages
``stage(setup, state) -> state`` (``STAGES``: decide, construct, search, shrink,
conclude); :func:`p3_search` / :func:`p2_search` / :func:`objective_search`
return a :class:`Search` of two pure functions ``init(key, seeds, mask)`` and
``step(state)`` over a batch of restarts; :func:`run_round` jits a round.

The modules are private (``_pipeline``, ``_search``, ...); each property's strategies live in
``search_<property>.py``, registered by property class (``_strategy.py``).
"""

from ._model import ZeroTarget, jax_pre_activations, zero_target
from ._pipeline import DTYPES, SCHEMA, FalsifyResult, SearchStats, environment, falsify, with_inputs
from ._search import Search, SearchState, objective_search, p2_search, p3_search, pool_inversion, run_round
from ._stages import STAGES, chain
from ._state import Setup, State
from ._strategy import (certify_options, constructor, data_finder, none_decider, objective,
                                                      round_picker, searcher, steps_cost, uses_zero_target)

# Each property's strategies, registered by class on import (see _strategy.py).
from . import search_p2, search_p2_delta, search_p3, search_p3_eps  # noqa: F401,E402

__all__ = [
    "falsify",
    "FalsifyResult",
    "SearchStats",
    "SCHEMA",
    "DTYPES",
    "environment",
    "with_inputs",
    "Search",
    "SearchState",
    "p3_search",
    "p2_search",
    "objective_search",
    "STAGES",
    "chain",
    "Setup",
    "State",
    "pool_inversion",
    "run_round",
    "ZeroTarget",
    "zero_target",
    "jax_pre_activations",
    "objective",
    "searcher",
    "constructor",
    "data_finder",
    "round_picker",
    "none_decider",
    "uses_zero_target",
    "steps_cost",
    "certify_options",
]
