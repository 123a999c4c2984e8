"""latentcheck: machine-checked theorems, certified counterexamples and experiments
for latent activations in autoencoder recommenders (arXiv:2411.04315).

The public API is this one flat namespace::

    from latentcheck import Encoder, classify, falsify, prove_all, Counterexample

The packages underneath are ``latentcheck.theorems`` (the mathematics as data:
no JAX or solver at import time), ``latentcheck.checkers`` (the engines and the
command line) and ``latentcheck.counterexamples`` (certified counterexamples and
reports). Names load on first use, so ``import latentcheck`` stays cheap.
"""

from __future__ import annotations

import importlib
import os as _os
import types
from typing import Any

# In a source checkout the three packages sit beside this folder (the layout the
# project keeps); in an installed wheel they are inside it.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "theorems")) and _os.path.isfile(_os.path.join(_root, "theorems", "__init__.py")):
    __path__.append(_root)  # type: ignore[name-defined]  # noqa: F821

__version__ = "0.1.0"

#: Every public name and the package that defines it (tests/test_public_api.py
#: checks this table against each package's ``__all__``).
_HOMES: dict[str, str] = {
    "Activation": "latentcheck.theorems",
    "CATALOG": "latentcheck.theorems",
    "CERTIFIED": "latentcheck.counterexamples",
    "CHECKS": "latentcheck.checkers",
    "CLAIMS": "latentcheck.theorems",
    "Certification": "latentcheck.counterexamples",
    "certifier": "latentcheck.counterexamples",
    "certifier_for": "latentcheck.counterexamples",
    "Claim": "latentcheck.theorems",
    "Classification": "latentcheck.theorems",
    "Counterexample": "latentcheck.counterexamples",
    "DataError": "latentcheck.theorems",
    "Domain": "latentcheck.checkers",
    "EXACT": "latentcheck.counterexamples",
    "Encoder": "latentcheck.theorems",
    "ExpressionSyntaxError": "latentcheck.theorems",
    "FLOAT_ONLY": "latentcheck.counterexamples",
    "FalsifyResult": "latentcheck.checkers",
    "INTERVAL": "latentcheck.counterexamples",
    "InputSemantics": "latentcheck.theorems",
    "InvalidArgument": "latentcheck.theorems",
    "InvalidWeights": "latentcheck.theorems",
    "LatentcheckError": "latentcheck.theorems",
    "Layer": "latentcheck.theorems",
    "NON_VANISHING": "latentcheck.theorems",
    "NonFiniteWeights": "latentcheck.theorems",
    "NonvanishingResult": "latentcheck.checkers.testing",
    "NotExact": "latentcheck.theorems",
    "OrderResult": "latentcheck.checkers.testing",
    "P3_EPS": "latentcheck.theorems",
    "P2_DELTA": "latentcheck.theorems",
    "P1": "latentcheck.theorems",
    "P2": "latentcheck.theorems",
    "P3": "latentcheck.theorems",
    "PROPERTIES": "latentcheck.theorems",
    "PointCheck": "latentcheck.theorems",
    "Property": "latentcheck.theorems",
    "RELU_LIKE": "latentcheck.theorems",
    "SCHEMA": "latentcheck.counterexamples",
    "ShapeMismatch": "latentcheck.theorems",
    "SmtResult": "latentcheck.checkers",
    "T": "latentcheck.theorems",
    "TANH_LIKE": "latentcheck.theorems",
    "UNDECIDED": "latentcheck.counterexamples",
    "UNKNOWN": "latentcheck.theorems",
    "UnknownActivation": "latentcheck.theorems",
    "UnsafeExpression": "latentcheck.theorems",
    "VANISHING": "latentcheck.theorems",
    "Verdict": "latentcheck.checkers",
    "VerifyResult": "latentcheck.checkers",
    "activations": "latentcheck.checkers.testing",
    "assert_nonvanishing": "latentcheck.checkers.testing",
    "assert_order_preserving": "latentcheck.checkers.testing",
    "binary": "latentcheck.checkers.testing",
    "catalog_names": "latentcheck.theorems",
    "certify_flip": "latentcheck.counterexamples",
    "certify_zero": "latentcheck.counterexamples",
    "check_certificate": "latentcheck.counterexamples",
    "binding_record": "latentcheck.counterexamples",
    "recheck_path": "latentcheck.counterexamples",
    "check_flip": "latentcheck.theorems",
    "check_zero": "latentcheck.theorems",
    "claim_ids": "latentcheck.theorems",
    "classify": "latentcheck.theorems",
    "encoders": "latentcheck.checkers.testing",
    "exact_affine": "latentcheck.theorems",
    "falsify": "latentcheck.checkers",
    "parse_domain": "latentcheck.checkers",
    "get_property": "latentcheck.theorems",
    "float_encode": "latentcheck.counterexamples",
    "float_vanishing_threshold": "latentcheck.checkers",
    "float_vanishing_thresholds": "latentcheck.checkers",
    "float_zero_sets": "latentcheck.checkers",
    "format_fraction": "latentcheck.counterexamples",
    "get_activation": "latentcheck.theorems",
    "get_claim": "latentcheck.theorems",
    "interval_affine": "latentcheck.theorems",
    "load_report": "latentcheck.counterexamples",
    "nonneg": "latentcheck.checkers.testing",
    "p1_holds": "latentcheck.theorems",
    "p2_constant_check": "latentcheck.checkers",
    "parse_expression": "latentcheck.theorems",
    "parse_fraction": "latentcheck.counterexamples",
    "prove_all": "latentcheck.checkers",
    "prove_claim": "latentcheck.checkers",
    "reals": "latentcheck.checkers.testing",
    "render_markdown": "latentcheck.counterexamples",
    "rows_of": "latentcheck.checkers.testing",
    "shrink": "latentcheck.counterexamples",
    "sphere": "latentcheck.checkers.testing",
    "strip_timings": "latentcheck.counterexamples",
    "t1_identities": "latentcheck.checkers",
    "t1_witness": "latentcheck.theorems",
    "t3_identities": "latentcheck.checkers",
    "t3_witness": "latentcheck.theorems",
    "t4_m1_all_n": "latentcheck.checkers",
    "to_counterexample": "latentcheck.counterexamples",
    "verify": "latentcheck.checkers",
    "write_report": "latentcheck.counterexamples",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'latentcheck' has no attribute {name!r}; its public names are in latentcheck.__all__")
    value = getattr(importlib.import_module(home), name)
    if isinstance(value, types.ModuleType) and hasattr(value, name):
        # A submodule of the same name (``checkers.falsify``) shadows the function once it is imported.
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
