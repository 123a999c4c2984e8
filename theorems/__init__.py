"""latentcheck.theorems: the mathematics as data.

Activations (sympy expressions parsed safely), the encoder object the theorems
quantify over, properties P1-P3 and the theorem catalog. Imports no JAX, no
solver runtime and no sympy at import time (sympy loads on first use:
:mod:`latentcheck.theorems.symbols`).
"""

from .activations import CATALOG, Activation, catalog_names, get_activation
from .catalog import CLAIMS, Claim, claim_ids, get_claim
from .classify import (
    NON_VANISHING,
    RELU_LIKE,
    TANH_LIKE,
    UNKNOWN,
    VANISHING,
    Classification,
    classify,
)
from .constructions import t1_witness, t3_witness
from .domains import Domain, parse_domain
from .encoder import Encoder, Layer, exact_affine, interval_affine
from .errors import (
    DataError,
    ExpressionSyntaxError,
    InvalidArgument,
    InvalidWeights,
    LatentcheckError,
    NonFiniteWeights,
    NotExact,
    ShapeMismatch,
    UnknownActivation,
    UnsafeExpression,
)
from .expr import parse_expression
from .formats import encoder_from_torch, load_encoder, save_encoder
from .inputs import InputSemantics
from . import symbols
from .properties import (P1, P2, P2_DELTA, P3, P3_EPS, PROPERTIES, PointCheck, Property, check_flip, check_zero,
                                             get_property, p1_holds)

__all__ = [
    "Domain",
    "parse_domain",
    "get_property",
    "P3_EPS",
    "P2_DELTA",
    "CLAIMS",
    "Claim",
    "claim_ids",
    "get_claim",
    "t1_witness",
    "t3_witness",
    "Activation",
    "CATALOG",
    "catalog_names",
    "get_activation",
    "Classification",
    "classify",
    "RELU_LIKE",
    "TANH_LIKE",
    "VANISHING",
    "NON_VANISHING",
    "UNKNOWN",
    "Encoder",
    "InputSemantics",
    "Layer",
    "exact_affine",
    "encoder_from_torch",
    "load_encoder",
    "save_encoder",
    "interval_affine",
    "LatentcheckError",
    "InvalidArgument",
    "ExpressionSyntaxError",
    "UnsafeExpression",
    "UnknownActivation",
    "InvalidWeights",
    "ShapeMismatch",
    "NonFiniteWeights",
    "DataError",
    "NotExact",
    "T",
    "parse_expression",
    "Property",
    "P1",
    "P2",
    "P3",
    "PROPERTIES",
    "PointCheck",
    "check_zero",
    "check_flip",
    "p1_holds",
]


def __getattr__(name: str):  # noqa: ANN201 - the sympy symbol
    """``T``, the variable of every activation, built (and sympy imported) on first access (PEP 562)."""
    if name == "T":
        return symbols.t_symbol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
