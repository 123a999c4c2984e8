"""The falsifier's engine (private modules; the public API is :mod:`latentcheck.checkers.falsify`)."""

from latentcheck.checkers.falsifier._model import ZeroTarget, jax_pre_activations, zero_target
from latentcheck.checkers.falsifier._pipeline import DTYPES, SCHEMA, FalsifyResult, SearchStats, environment, falsify
from latentcheck.checkers.falsifier._search import Search, SearchState, objective_search, p2_search, p3_search, pool_inversion, run_round
from latentcheck.checkers.falsifier._stages import STAGES, chain
from latentcheck.checkers.falsifier._state import Setup, State
from latentcheck.checkers.falsifier._strategy import (certify_options, constructor, data_finder, none_decider, objective,
                                                      round_picker, searcher, steps_cost, uses_zero_target)

# Each property's strategies, registered by class on import (see _strategy.py).
from latentcheck.checkers.falsifier import search_p2, search_p2_delta, search_p3, search_p3_eps  # noqa: F401,E402

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
