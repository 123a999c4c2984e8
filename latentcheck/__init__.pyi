"""The public API of latentcheck: one flat namespace (docs/api.md lists every name).

Read by ``lazy_loader.attach_stub`` in ``__init__.py``: each name is imported from the module that defines
it on first use, so ``import latentcheck`` loads no JAX or solver; type checkers and readers follow these
imports to the files."""

from .theorems.domains import Domain, parse_domain
from .checkers.encoder_source import EncoderSource
from .checkers.falsify import FalsifyResult, falsify
from .checkers.float_vanishing import float_vanishing_threshold, float_vanishing_thresholds, float_zero_sets
from .checkers.prove.checks import CHECKS, Verdict, prove_all, prove_claim
from .checkers.prove.smt import SmtResult, p2_constant_check, t4_m1_all_n
from .checkers.prove.symbolic import t1_identities, t3_identities
from .checkers.testing.assertions import (
    NonvanishingResult, OrderResult, assert_nonvanishing, assert_order_preserving
)
from .checkers.testing.strategies import activations, binary, encoders, nonneg, reals, rows_of, sphere
from .checkers.search_options import FalsifyOptions, SearchOptions, VerifyOptions
from .checkers.verify import VerifyResult, verify
from .counterexamples import (
    CERTIFIED, Certification, Counterexample, EXACT, FLOAT_ONLY, INTERVAL, SCHEMA, UNDECIDED,
    binding_record, certifier, certifier_for, certify_flip, certify_zero, check_certificate, float_encode, format_fraction,
    load_report, parse_fraction, recheck_path, render_markdown, shrink, strip_timings,
    to_counterexample, write_report
)
from .theorems import (
    Activation, CATALOG, CLAIMS, Claim, Classification, DataError, Encoder, ExpressionSyntaxError,
    encoder_from_torch, load_encoder, save_encoder,
    InputSemantics, InvalidArgument, InvalidWeights, LatentcheckError, Layer, NON_VANISHING,
    NonFiniteWeights, NotExact, P1, P2, P2_DELTA, P3, P3_EPS, PROPERTIES, PointCheck, Property,
    RELU_LIKE, ShapeMismatch, T, TANH_LIKE, UNKNOWN, UnknownActivation, UnsafeExpression, VANISHING,
    catalog_names, check_flip, check_zero, claim_ids, classify, exact_affine, get_activation, get_claim,
    get_property, interval_affine, p1_holds, parse_expression, t1_witness, t3_witness
)
