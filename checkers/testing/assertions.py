"""Assertions for a test suite: does the encoder map a user to zero, does it keep similarity order?

A thin layer over the falsifier. :func:`assert_nonvanishing` is
``latentcheck.checkers.falsify(encoder, "p3", ...)`` with the test's seed and
budget: the same encoder, seed and budget give the same finding as ``falsify``
and ``latentcheck falsify``. :func:`assert_order_preserving` measures a flip
rate on triples drawn with the domain's own sampler and certifies and shrinks
the worst flip with the falsifier's stages (:mod:`._rate`).

Both accept a ``latentcheck.theorems.Encoder`` or a plain callable mapping one
input ``x`` of shape ``(n,)`` to its code of shape ``(m,)`` (a Flax, Equinox,
JAX, NumPy or exported PyTorch encoder), and on failure raise
:class:`AssertionError` whose message holds the counterexample, how it was
certified, where its report was written, and the one command that reproduces it.

With an Encoder, a counterexample is re-checked outside floating point and
labelled ``exact`` or ``interval``; one that only exists in the float dtype is
labelled ``float-only`` (with its runtime). A plain callable can only be
evaluated in floats, so its counterexamples are always ``float-only``: pass an
Encoder (build one from your weights with ``Encoder.from_arrays``) to get
certified ones.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import _session
from ._args import domain_of, dtype_name, seed_and_budget, subject
from ._report import fail
from ._stats import clopper_pearson_upper
from ...theorems.errors import InvalidArgument
from ...counterexamples.certify import float_encode
from ...theorems.encoder import Encoder
from ...theorems.formats import is_torch_module
from ..falsify import falsify
from ._rate import certified_flip, flip_rate
from ...theorems.formats import encoder_from_torch

__all__ = ["assert_nonvanishing", "assert_order_preserving", "NonvanishingResult", "OrderResult"]

#: Search rounds of the falsifier where runs must be deterministic (the budget is then only a cap).
DETERMINISTIC_ROUNDS = 40
_SHRINK_SECONDS = 5.0


@dataclass(frozen=True)
class NonvanishingResult:
    """What :func:`assert_nonvanishing` checked when it passed.

    Attributes:
        evaluations: encoder evaluations spent.
        seconds: wall time.
        seed: the seed used.
        engine: the search that ran (``'latentcheck falsify'``).
        float_only: the float-only (or undecided) counterexample that was
            allowed (``allow_float_only=True``), a ``Counterexample``; else None.
        status: falsify's status (``none-found``, ``none-exists``, ``float-only``, ...).
    """

    evaluations: int
    seconds: float
    seed: int
    engine: str
    float_only: Any = None
    status: str = ""


@dataclass(frozen=True)
class OrderResult:
    """The measured ordering-flip rate.

    Attributes:
        flips: triples that violate P2: strict flips, plus ties
            (``<x,u> = <x,v>`` exactly) whose latent scores differ.
        triples: every sampled triple, ties included (P2's ``<=`` covers ties).
        ties: triples with ``<x,u> = <x,v>`` exactly.
        rate: ``flips / triples``.
        upper: one-sided Clopper-Pearson upper bound at ``confidence``.
        tolerance: the largest acceptable rate.
        confidence: the bound's confidence level.
        seed: the seed used.
        seconds: wall time.
        tie_violations: ties whose latent scores differ beyond rounding (counted in ``flips`` too).
    """

    flips: int
    triples: int
    ties: int
    rate: float
    upper: float
    tolerance: float
    confidence: float
    seed: int
    seconds: float
    tie_violations: int = 0


def _run_falsify(sub: Any, dom: Any, dtype: str, seed: int, budget: float) -> Any:
    """``latentcheck.checkers.falsify`` on P3, capped in rounds where runs must be deterministic."""

    kwargs: dict[str, Any] = {"domain": dom, "dtype": dtype, "budget": budget, "seed": seed}
    if sub.encoder is None:
        kwargs["n"] = sub.n
    if _session.deterministic():
        kwargs["max_rounds"] = DETERMINISTIC_ROUNDS
    return falsify(sub.fn, "p3", **kwargs)


def _chosen(res: Any) -> Any:
    """The counterexample to show: the simplest certified one, else the simplest float-only, else undecided."""
    for group in (res.counterexamples, res.float_only, res.undecided):
        if group:
            return min(group, key=lambda c: (c.nonzeros, c.size))
    return None


def _codes(fn: Any, cx: Any, dtype: str) -> dict[str, list[float]]:
    """The float codes of the witness vectors in ``dtype`` (what the message and the report show)."""

    X = np.array([[float(q) for q in cx.vector(name)] for name in cx.names])
    Z = float_encode(fn, X, dtype)
    return {f"enc({name})": Z[i].tolist() for i, name in enumerate(cx.names)}


def _as_encoder(fn: Any) -> Any:
    """A ``torch.nn.Module`` becomes its Encoder (``encoder_from_torch``: the rules of model files); anything else is kept."""

    if not is_torch_module(fn):
        return fn

    return encoder_from_torch(fn)


def assert_nonvanishing(
    encoder_fn: Any,
    n: int | None = None,
    *,
    domain: Any = "reals",
    dtype: Any = "float32",
    budget: float | None = None,
    seed: int | None = None,
    batched: bool = False,
    allow_float_only: bool = False,
    report_dir: Any = None,
    input_normalise: str | None = None,
) -> NonvanishingResult:
    """Assert P3 on a domain: no nonzero input ``x`` has ``enc(x) = 0``.

    Runs ``latentcheck.checkers.falsify(encoder_fn, "p3", domain=, dtype=,
    budget=, seed=)`` and fails with its simplest counterexample (certified
    and shrunk for an Encoder). Passing is evidence within the budget, not a
    proof (``latentcheck prove`` proves T2: a non-vanishing latent activation
    never maps to 0 in real arithmetic).

    Args:
        encoder_fn: a ``latentcheck.theorems.Encoder``, a ``torch.nn.Module`` (read by ``encoder_from_torch``)
            or a callable ``x[n] -> z[m]``.
        n: input dimension (needed for a callable).
        domain: ``'reals'``, ``'nonneg'`` (ratings), ``'binary'`` (implicit feedback), ``'sphere'``,
            ``'data:PATH'``, or a 2-D array whose rows are the inputs.
        dtype: ``float16``, ``bfloat16``, ``float32`` or ``float64`` (inputs and an Encoder's arithmetic).
        budget: seconds for the search (default: ``--latentcheck-budget``, else 5).
        seed: seed of the search (default: from the session seed and the test's id).
        batched: the callable maps ``x[B, n] -> z[B, m]``.
        allow_float_only: pass when the only zero found is float-only (rounds to 0 in ``dtype``, not in
            real arithmetic) or undecided.
        report_dir: where to write the report (default: ``latentcheck-reports/``).
        input_normalise: ``none``, ``l2`` or ``divide:K``; default: an Encoder's ``inputs.normalise`` (what its
            model file records: a Mult-DAE saved by ``study`` is checked as ``enc(x/|x|_2)``, as it is served).

    Returns:
        A :class:`NonvanishingResult` when no counterexample was found.

    Raises:
        AssertionError: a counterexample, with the command that reproduces it.
        InvalidArgument: a bad argument, named with the fix.
    """
    __tracebackhide__ = True
    _session.note_call()
    used_seed, seed_given, b = seed_and_budget(seed, budget)
    if not isinstance(allow_float_only, bool):
        raise InvalidArgument(f"allow_float_only={allow_float_only!r} must be True or False")
    dt = dtype_name(dtype)
    t0 = time.perf_counter()
    sub = subject(_as_encoder(encoder_fn), n, dt, batched, input_normalise)
    dom = domain_of(domain, sub.n)
    res = _run_falsify(sub, dom, dt, used_seed, b)
    cx = _chosen(res)
    if cx is None or (not cx.is_certified and allow_float_only):
        return NonvanishingResult(int(res.stats.evaluations), time.perf_counter() - t0, used_seed, "latentcheck falsify", cx, res.status)
    search = {"engine": "latentcheck falsify", "status": res.status, "evaluations": int(res.stats.evaluations),
              "seconds": round(float(res.stats.seconds), 3), "budget": b, "seed": used_seed, "falsify_report": res.to_json()}
    fail("P3", sub, dom, dt, cx, _codes(sub.fn, cx, dt), search, used_seed, seed_given, report_dir, extra={})


def _checked_rate_args(tolerance: Any, confidence: Any, samples: Any) -> float:
    """The tolerance as a float, after checking that ``samples`` triples can meet it at ``confidence``."""
    if tolerance is None:
        raise InvalidArgument(
            "tolerance=None: give the largest acceptable fraction of flipped triples, e.g. tolerance=0.05; "
            "exact order preservation (tolerance=0) fails for every non-constant bottleneck encoder (T4)"
        )
    try:
        tol = float(tolerance)
    except (TypeError, ValueError):
        raise InvalidArgument(f"tolerance={tolerance!r} must be a number between 0 and 1, e.g. tolerance=0.05") from None
    if not 0.0 <= tol <= 1.0:
        raise InvalidArgument(f"tolerance={tolerance!r} must lie between 0 and 1 (a fraction of triples), e.g. tolerance=0.05")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.5 <= float(confidence) < 1.0:
        raise InvalidArgument(f"confidence={confidence!r} must lie in [0.5, 1), e.g. confidence=0.95")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise InvalidArgument(f"samples={samples!r} must be a positive int, e.g. samples=4096")
    floor = clopper_pearson_upper(0, int(samples), float(confidence))
    if tol < floor:
        raise InvalidArgument(
            f"tolerance={tolerance!r} cannot be met with samples={samples!r}: even with no flip the {float(confidence):.0%} upper bound "
            f"is {floor:.2g}; raise samples (about {math.ceil(3 / max(tol, 1e-9))} for this tolerance) or tolerance"
        )
    return tol


def assert_order_preserving(
    encoder_fn: Any,
    n: int | None = None,
    *,
    tolerance: float | None = None,
    domain: Any = "reals",
    dtype: Any = "float32",
    confidence: float = 0.95,
    samples: int = 4096,
    budget: float | None = None,
    seed: int | None = None,
    batched: bool = False,
    report_dir: Any = None,
    input_normalise: str | None = None,
) -> OrderResult:
    """Assert that at most a fraction ``tolerance`` of triples flips similarity order.

    T4 shows that exact order preservation (P2) fails for every non-constant
    bottleneck encoder, so this measures a rate over ``samples`` triples drawn
    with the domain's own sampler (``Domain.sample``; a matrix: its rows,
    uniformly; pass your data rows for the rate your users see). Each triple
    is ordered so that ``<x,u> <= <x,v>`` (ties decided exactly; a tie demands
    equal latent scores). It passes when the one-sided Clopper-Pearson upper
    bound on the flip rate at ``confidence`` is at most ``tolerance``; on
    failure the message holds the rate, the bound and the worst flip,
    certified and shrunk by the falsifier's stages for an Encoder.

    Args:
        tolerance: the largest acceptable flip rate, in ``[0, 1]``.
        confidence: confidence level of the upper bound.
        samples: number of triples.
        encoder_fn, n, domain, dtype, budget, seed, batched, report_dir, input_normalise: as in
            :func:`assert_nonvanishing` (the input order is that of the normalised inputs ``<N x, N u>``).

    Returns:
        The measured :class:`OrderResult`.
    """
    __tracebackhide__ = True
    _session.note_call()
    tol = _checked_rate_args(tolerance, confidence, samples)
    used_seed, seed_given, b = seed_and_budget(seed, budget)
    dt = dtype_name(dtype)
    t0 = time.perf_counter()
    sub = subject(_as_encoder(encoder_fn), n, dt, batched, input_normalise)
    dom = domain_of(domain, sub.n)

    fs = flip_rate(sub.fn, dom, sub.n, dt, samples=int(samples), seed=used_seed, budget=b)
    upper = clopper_pearson_upper(fs.flips, fs.triples, float(confidence))
    result = OrderResult(fs.flips, fs.triples, fs.ties, fs.flips / fs.triples, upper, tol, float(confidence), used_seed,
                         time.perf_counter() - t0, fs.tie_violations)
    if upper <= tol:
        return result
    cx = None if fs.worst is None else certified_flip(sub.fn, sub.encoder, dom, dt, fs.worst, _SHRINK_SECONDS)
    search = {"engine": "domain sampling + falsify's certify and shrink", "evaluations": fs.evaluations,
              "seconds": round(fs.seconds, 3), "budget": b, "seed": used_seed}
    codes = {} if cx is None else _codes(sub.fn, cx, dt)
    fail("P2", sub, dom, dt, cx, codes, search, used_seed, seed_given, report_dir, extra={"rate": asdict(result)})
