"""The falsifier's engine (private modules; the public API is :mod:`latentcheck.checkers.falsify`)."""

from latentcheck.checkers.falsifier._model import ZeroTarget, jax_pre_activations, zero_target
from latentcheck.checkers.falsifier._pipeline import DTYPES, SCHEMA, FalsifyResult, SearchStats, environment, falsify
from latentcheck.checkers.falsifier._search import Search, SearchState, objective_search, p2_search, p3_search, pool_inversion, run_round
from latentcheck.checkers.falsifier._stages import STAGES, chain
from latentcheck.checkers.falsifier._state import Setup, State

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
]
