"""latentcheck.checkers: the engines.

Symbolic (sympy) and SMT (z3) proofs, the JAX falsifier, float zero sets
per runtime (IEEE in NumPy, XLA in JAX), the autoencoder study (``latentcheck.checkers.autoencoder``), user-facing test
helpers (``latentcheck.checkers.testing``) and the command line (``latentcheck.checkers.cli``).

Names are re-exported lazily, so ``import checkers`` stays cheap: JAX and z3
load only when an engine that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "Verdict": "latentcheck.checkers.prove",
    "prove_claim": "latentcheck.checkers.prove",
    "prove_all": "latentcheck.checkers.prove",
    "CHECKS": "latentcheck.checkers.prove",
    "falsify": "latentcheck.checkers.falsify",
    "FalsifyResult": "latentcheck.checkers.falsify",
    "float_vanishing_threshold": "latentcheck.checkers.float_vanishing",
    "float_vanishing_thresholds": "latentcheck.checkers.float_vanishing",
    "float_zero_sets": "latentcheck.checkers.float_vanishing",
    "SmtResult": "latentcheck.checkers.smt",
    "p2_constant_check": "latentcheck.checkers.smt",
    "t4_m1_all_n": "latentcheck.checkers.smt",
    "t1_identities": "latentcheck.checkers.symbolic",
    "t3_identities": "latentcheck.checkers.symbolic",
    "verify": "latentcheck.checkers.verify",
    "Domain": "latentcheck.theorems.domains",
    "parse_domain": "latentcheck.theorems.domains",
    "VerifyResult": "latentcheck.checkers.verify",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'latentcheck.checkers' has no attribute {name!r}; its public names are {', '.join(__all__)}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
