"""latentcheck.checkers: the engines.

Symbolic (sympy) and SMT (z3) proofs, the JAX falsifier, float zero sets
per runtime (IEEE in NumPy, XLA in JAX), the autoencoder study (``checkers.autoencoder``), user-facing test
helpers (``checkers.testing``) and the command line (``checkers.cli``).

Names are re-exported lazily, so ``import checkers`` stays cheap: JAX and z3
load only when an engine that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "Verdict": "checkers.prove",
    "prove_claim": "checkers.prove",
    "prove_all": "checkers.prove",
    "CHECKS": "checkers.prove",
    "falsify": "checkers.falsify",
    "FalsifyResult": "checkers.falsify",
    "float_vanishing_threshold": "checkers.float_vanishing",
    "float_vanishing_thresholds": "checkers.float_vanishing",
    "float_zero_sets": "checkers.float_vanishing",
    "SmtResult": "checkers.smt",
    "p2_constant_check": "checkers.smt",
    "t4_m1_all_n": "checkers.smt",
    "t1_identities": "checkers.symbolic",
    "t3_identities": "checkers.symbolic",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'checkers' has no attribute {name!r}; its public names are {', '.join(__all__)}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
