"""The pipeline: decide -> constructions -> JAX search rounds -> certify -> shrink -> conclude.

:func:`falsify` checks its arguments, builds the run's :class:`Setup` and an empty
:class:`State`, and runs the chain of stages in ``_stages`` (each a function
``stage(setup, state) -> state``, composed like optax transformations). The
property object (``latentcheck.theorems.properties``) and the domain object
(``latentcheck.theorems.domains``) supply everything that differs between
properties and domains.

Rounds are deterministic: round 0 runs the constructions of the theorems,
round ``r >= 1`` a jitted search from ``jax.random.fold_in(PRNGKey(seed), r)``.
The run stops after the first round that yields a certified counterexample
(or, when none can exist over the reals, a float-only one), or when the
budget is spent between rounds. The same seed therefore gives the same
result whenever the search finishes within its budget; only timings differ.
"""

from __future__ import annotations

import functools
import platform
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from ...theorems.domains import Domain, parse_domain
from ._budget import Budget
from ._model import ZeroTarget, zero_target
from ._report import initial_info
from ._stages import STAGES, chain
from ._state import SearchStats, Setup, State, select
from ._strategy import strategy
from ...counterexamples.types import Counterexample
from ...theorems.encoder import Encoder
from ...theorems.errors import InvalidArgument
from ...theorems.properties import Property, get_property
from ...counterexamples.certify import xla_runtime
from ...theorems.classify import classify
from ...theorems.inputs import parse_normalisation, with_input_normalise
from .._env import jax_device, package_version as ver
from ._model import _jax_normaliser

__all__ = ["falsify", "FalsifyResult", "SearchStats", "SCHEMA", "DTYPES", "environment"]

#: Version tag of the JSON report.
SCHEMA = "latentcheck.falsify/1"
DTYPES = ("float16", "bfloat16", "float32", "float64")
#: Reports carry the exact weights of encoders up to this many parameters.
_MAX_RECORDED_PARAMETERS = 10_000


@dataclass(frozen=True)
class FalsifyResult:
    """What :func:`falsify` found.

    Attributes:
        property: the property's spec: ``"P3"``, ``"P2"``, ``"P3-eps:1/100,1"``, ``"P2-delta:1/10"``.
        status: ``"counterexample"`` (at least one certified), ``"float-only"``
            (only rounding hazards of ``dtype``), ``"none-found"`` (nothing within
            the budget: evidence, not proof) or ``"none-exists"`` (a theorem
            rules out a real counterexample, e.g. T2, and ``dtype`` never rounds to 0).
        counterexamples: certified counterexamples only (``exact`` / ``interval``).
        float_only: float-only hazards (never counterexamples to the real property).
        undecided: candidates whose float computation violates the property while the
            real value could not be decided (neither certified nor refuted).
        stats: :class:`SearchStats`.
        info: everything else the report needs (encoder, domain, dtype, seed, theory notes, histograms).
    """

    property: str
    status: str
    counterexamples: tuple[Counterexample, ...]
    float_only: tuple[Counterexample, ...]
    stats: SearchStats
    info: dict[str, Any] = field(default_factory=dict)
    undecided: tuple[Counterexample, ...] = ()

    @property
    def found(self) -> bool:
        """True when a certified counterexample was found."""
        return bool(self.counterexamples)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (schema :data:`SCHEMA`)."""
        out = {"schema": SCHEMA, "property": self.property, "status": self.status}
        out.update({k: v for k, v in self.info.items()})
        out["stats"] = self.stats.to_json()
        out["counterexamples"] = [c.to_json() for c in self.counterexamples]
        out["float_only"] = [c.to_json() for c in self.float_only]
        out["undecided"] = [c.to_json() for c in self.undecided]
        return out


def environment() -> dict[str, Any]:
    """Versions and device, for the report."""
    import copy

    return copy.deepcopy(_environment())


@functools.lru_cache(maxsize=1)
def _environment() -> dict[str, Any]:
    import jax
    import numpy
    import sympy


    platform_name, kind, count = jax_device()
    return {
        "versions": {"latentcheck": ver("latentcheck"), "jax": jax.__version__, "numpy": numpy.__version__,
                     "sympy": sympy.__version__, "python": platform.python_version()},
        "device": {"platform": platform_name, "kind": kind, "count": count},
    }


# ------------------------------------------------------------------ helpers
@functools.lru_cache(maxsize=64)
def _classification(act: Any) -> Any:
    """``latentcheck.theorems.classify`` of an activation (a pure function of its expression: computed once per process)."""

    return classify(act)


@functools.lru_cache(maxsize=64)
def _zero_target(act: Any, dtype: str) -> ZeroTarget:
    return zero_target(_classification(act), act, dtype)


def _jax_traceable(fn: Callable[[Any], Any], dim: int, dtype: str) -> Callable[[Any], Any]:
    """``fn`` itself when JAX can trace it; else ``fn`` behind ``jax.pure_callback`` (NumPy, PyTorch...).

    Such a host function is searched without gradients (random restarts only).
    """
    import jax
    import jax.numpy as jnp

    try:
        jax.eval_shape(fn, jax.ShapeDtypeStruct((dim,), jnp.dtype(dtype)))
        return fn
    except Exception:
        pass
    probe = np.asarray(fn(np.zeros(dim, dtype=dtype)))
    if probe.ndim != 1:
        raise InvalidArgument(f"the encoder callable returned shape {probe.shape} for one input of shape ({dim},); it must return a vector z[m]")
    out = jax.ShapeDtypeStruct(probe.shape, jnp.dtype(dtype))

    def host(x: Any) -> np.ndarray:
        return np.asarray(fn(np.asarray(x)), dtype=dtype)

    @jax.custom_jvp
    def wrapped(x: Any) -> Any:
        return jax.pure_callback(host, out, x, vmap_method="sequential")

    @wrapped.defjvp
    def _no_gradient(primals: Any, tangents: Any) -> Any:
        # An opaque host function has no derivative JAX can see: the search
        # degrades to gradient-free sampling for it (zero tangent).
        (x,) = primals
        y = wrapped(x)
        return y, jnp.zeros_like(y)

    wrapped.__name__ = getattr(fn, "__name__", type(fn).__name__)
    wrapped._latentcheck_inputs = getattr(fn, "_latentcheck_inputs", None)  # type: ignore[attr-defined]
    return wrapped


def falsify(
    encoder: "Encoder | Callable[[Any], Any]",
    property: "str | Property" = "p3",
    *,
    domain: "str | Domain" = "reals",
    dtype: str = "float32",
    budget: float = 2.0,
    seed: int = 0,
    restarts: int = 64,
    steps: int | None = None,
    max_counterexamples: int = 2,
    shrink: bool = True,
    max_shrink_checks: int = 40,
    shrink_budget: float | None = None,
    n: int | None = None,
    max_rounds: int = 1000,
    min_rounds: int = 0,
    progress: Callable[[float, str], None] | None = None,
    input_normalise: str | None = None,
) -> FalsifyResult:
    """Search for certified counterexamples to a property: P3 (zero vectors), P2 (ordering flips), P3-eps, P2-delta.

    A chain of stages (:data:`latentcheck.checkers.falsify._stages.STAGES`), each
    ``stage(setup, state) -> state``. Pipeline: the theorems' constructions (T1 basic solutions, layer-wise
    inversion, T3/T5 flips), then rounds of a jitted, vmapped JAX search
    (:func:`latentcheck.checkers.falsify.p3_search` / :func:`p2_search`), then an exact
    repair (rational rounding, or an exact linear solve onto an isolated zero),
    certification in exact rationals or intervals
    (:func:`latentcheck.counterexamples.certify_zero` / :func:`certify_flip`), and
    Hypothesis-style shrinking that keeps the certificate.

    Args:
        encoder: an :class:`latentcheck.theorems.Encoder`; or a plain callable ``f(x[n]) -> z[m]``
            (JAX-traceable for gradient search, or NumPy; give ``n``). A callable
            cannot be re-checked outside floating point: its findings are
            ``float-only`` and land in :attr:`FalsifyResult.float_only`. Pass an
            ``Encoder`` to get certified counterexamples.
        property: a registered property: ``"p3"``, ``"p2"``, ``"p3-eps"`` (``"p3-eps:EPS,R"``), ``"p2-delta"``
            (``"p2-delta:DELTA"``), any case, or a property object (:mod:`latentcheck.theorems.properties`).
        domain: ``reals``, ``nonneg``, ``binary``, ``sphere``, ``box:LO,HI``, ``data:PATH`` or a
            :class:`latentcheck.theorems.domains.Domain`.
        dtype: float dtype for the float re-evaluation (``float16``, ``bfloat16``, ``float32``, ``float64``);
            the search itself runs in float32.
        budget: seconds for the search rounds (checked between rounds).
        seed: PRNG seed; the same seed gives the same result within the budget.
        restarts: parallel restarts per round.
        steps: Adam steps per round (default: sized to the encoder).
        max_counterexamples: how many certified counterexamples to keep.
        shrink: shrink each kept counterexample while it stays certified.
        max_shrink_checks: certification calls the shrinker may spend per counterexample.
        shrink_budget: seconds for shrinking all kept counterexamples (default: ``budget``); a
            stop by time is noted on the counterexample.
        n: input dimension, required for a plain callable.
        max_rounds: cap on search rounds.
        min_rounds: search rounds to run even when the constructions already succeeded
            (reports use 1, so their histograms show the search).
        progress: called as ``progress(fraction_of_budget, message)``.
        input_normalise: ``none``, ``l2`` or ``divide:K``: overrides ``encoder.inputs.normalise`` (what the model
            file records). The function checked is ``enc(N(x))`` for ``x`` in the domain: the search, the
            certification (exact at rational ``N(x)``; in ``Q(sqrt D)`` or by intervals for an irrational
            ``x/|x|_2``: :mod:`latentcheck.counterexamples.normalised`) and the shrinking all run on it, and the
            witness is the domain point ``x``. P2 compares ``<N x, N u>`` with ``<N x, N v>``.

    Returns:
        A :class:`FalsifyResult`; ``.counterexamples`` holds certified ones only.

    Example:
        >>> from latentcheck.theorems import Encoder
        >>> res = falsify(Encoder.random([12, 3], "relu", seed=0), "p3", budget=5, seed=0)
        >>> res.status, res.counterexamples[0].certified
        ('counterexample', 'exact')
    """
    setup, state = _start(encoder, property, domain=domain, dtype=dtype, budget=budget, seed=seed, restarts=restarts,
                          steps=steps, max_counterexamples=max_counterexamples, shrink=shrink,
                          max_shrink_checks=max_shrink_checks, shrink_budget=shrink_budget, n=n, max_rounds=max_rounds,
                          min_rounds=min_rounds, progress=progress, input_normalise=input_normalise)
    state = _run_stages(setup, state)
    return FalsifyResult(setup.prop.spec, state.status, state.certified, state.floats, state.stats, state.info,
                         select(state.undecided, setup.max_counterexamples))


def _run_stages(setup: Any, state: Any) -> Any:
    """The stages in order; on Ctrl-C what was finished rides on the exception as ``exc.partial``."""
    try:
        return chain(*STAGES)(setup, state)
    except KeyboardInterrupt as exc:
        exc.partial = _interrupted_result(setup, getattr(exc, "state", None) or state)  # type: ignore[attr-defined]
        raise


def _interrupted_result(setup: Any, state: Any) -> FalsifyResult:
    """The result of a run stopped by Ctrl-C: the certified counterexamples found so far, marked ``interrupted``."""
    stats = replace(state.stats, seconds=time.perf_counter() - setup.t_start)
    status = "counterexample" if state.certified else "interrupted"
    found = f"{len(state.certified)} certified counterexample(s) found before it are kept" if state.certified else "nothing was certified before it"
    info = {**state.info, "interrupted": True, "histograms": None,
            "message": f"interrupted (Ctrl-C) after {stats.rounds} search round(s); {found}. The search did not finish: "
                       f"rerun the command for a full result"}
    return FalsifyResult(setup.prop.spec, status, state.certified, state.floats, stats, info,
                         select(state.undecided, setup.max_counterexamples))


def _start(encoder: Any, property: Any, *, domain: Any, dtype: str, budget: float, seed: int, restarts: int,
           n: int | None, input_normalise: str | None = None, **options: Any) -> tuple[Setup, State]:
    """The run's :class:`Setup` and its empty :class:`State` (arguments checked; the budget starts at the end)."""
    t_start = time.perf_counter()
    encoder = with_inputs(encoder, input_normalise)
    prop, dom, black, encoder, dim = _checked_arguments(encoder, property, domain, dtype, budget, restarts, n)
    cls = target = None
    if not black:
        cls = _classification(encoder.activation)
        if strategy("uses_zero_target", prop)(prop):
            target = _zero_target(encoder.activation, dtype)
    else:
        target = ZeroTarget("point", 0.0, 0.0, None, "black box: the search minimises |f(x)|^2")
    info = initial_info(prop, encoder, black, dim, cls, target, dom, dtype, seed, budget)
    info.update(environment())
    deadline = time.perf_counter() + float(budget)  # start-up (JAX, classification) done: the budget starts here
    info["float_runtime"] = _runtime_name()
    if not black and encoder.parameters <= _MAX_RECORDED_PARAMETERS:
        info["weights"] = encoder.exact_weights()
    # Exact checks cost about a millisecond per thousand weights: limit them only where one can be slow.
    costly = not black and sum(layer.W.size for layer in encoder.layers) > 50_000
    timer = Budget(deadline, grace=min(2.0, max(0.5, 0.1 * float(budget))), enforce=costly)
    setup = Setup(prop=prop, encoder=encoder, black=black, dom=dom, dim=dim, dtype=dtype, seed=int(seed),
                  budget=float(budget), restarts=int(restarts), cls=cls, target=target, t_start=t_start, timer=timer,
                  nonvanishing=cls is not None and cls.cls == "non-vanishing", costly=costly, **options)
    hist = np.zeros(len(prop.hist_edges) - 1, dtype=np.int64)
    return setup, State(stats=SearchStats(restarts=int(restarts)), info=info, deadline=deadline, hist=hist)


def with_inputs(encoder: Any, input_normalise: str | None) -> Any:
    """The encoder with ``input_normalise`` applied: an ``Encoder``'s input semantics overridden, a callable
    wrapped as ``fn(N(x))`` (in JAX)."""

    if input_normalise is None:
        return encoder
    norm = parse_normalisation(input_normalise)
    if isinstance(encoder, Encoder):
        return with_input_normalise(encoder, norm)
    if norm == "none" or not callable(encoder):
        return encoder

    nf, fn = _jax_normaliser(norm), encoder

    def normalised(x: Any) -> Any:
        return fn(nf(x))

    normalised.__name__ = getattr(fn, "__name__", type(fn).__name__)
    normalised._latentcheck_inputs = {"normalise": norm, "normalise_from": "option"}  # type: ignore[attr-defined]
    return normalised


def _checked_arguments(encoder: Any, property: Any, domain: Any, dtype: str, budget: float, restarts: int,
                       n: int | None) -> tuple[Property, Domain, bool, Any, int]:
    """``(property, domain, black_box, encoder, n)`` after checking every argument of :func:`falsify`."""
    prop = get_property(property)
    if not prop.falsifiable:
        raise InvalidArgument(f"property={property!r} ({prop.id}: {prop.statement}) has no witness points to search; "
                              "use p3, p2, p3-eps or p2-delta")
    if dtype not in DTYPES:
        raise InvalidArgument(f"dtype={dtype!r} must be one of {', '.join(DTYPES)}")
    if not (budget > 0):
        raise InvalidArgument(f"budget={budget!r} must be a positive number of seconds")
    if int(restarts) < 1:
        raise InvalidArgument(f"restarts={restarts!r} must be at least 1")
    dom = parse_domain(domain)
    black = not isinstance(encoder, Encoder)
    if black:
        if not callable(encoder):
            raise InvalidArgument(f"encoder={encoder!r} must be a theorems.Encoder or a callable x[n] -> z[m]")
        if n is None:
            raise InvalidArgument("n=None: a plain callable encoder needs its input dimension, e.g. falsify(fn, n=1682)")
        dim = int(n)
        encoder = _jax_traceable(encoder, dim, dtype)
    else:
        dim = encoder.n
    dom.check_dimension(dim)
    if dom.is_finite and prop.arity > 1 and dom.rows.shape[0] < 2:
        raise InvalidArgument(f"domain {dom.label!r} has fewer than 2 rows; {prop.id} needs triples")
    return prop, dom, black, encoder, dim


def _runtime_name() -> str:

    return xla_runtime()
