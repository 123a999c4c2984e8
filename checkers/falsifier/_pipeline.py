"""The pipeline: constructions -> JAX search rounds -> refine -> certify -> shrink.

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
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from latentcheck.checkers.domains import Domain, parse_domain
from latentcheck.checkers.falsifier._blas import serial_blas
from latentcheck.checkers.falsifier._budget import Budget, OutOfTime
from latentcheck.checkers.falsifier._constructions import Candidate, jacobian, p2_constructions, p3_constructions
from latentcheck.checkers.falsifier._exact import exact_repair, pivot_columns
from latentcheck.checkers.falsifier._model import ZeroTarget, zero_target
from latentcheck.checkers.falsifier._search import HIST_EDGES_P2, HIST_EDGES_P3, p2_search, p3_search, run_round
from latentcheck.counterexamples._fast import QVec
from latentcheck.counterexamples.certify import Certification, certify_flip, certify_zero, float_encode, to_counterexample
from latentcheck.counterexamples.types import UNDECIDED, Counterexample
from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.errors import InvalidArgument

__all__ = ["falsify", "FalsifyResult", "SearchStats", "SCHEMA", "DTYPES", "environment"]

#: Version tag of the JSON report.
SCHEMA = "latentcheck.falsify/1"
DTYPES = ("float16", "bfloat16", "float32", "float64")
_PROPS = {"p2": "P2", "p3": "P3"}


@dataclass
class SearchStats:
    """Search statistics. ``seconds`` and its companions are timings (vary run to run); the rest is deterministic."""

    evaluations: int = 0
    restarts: int = 0
    rounds: int = 0
    steps_per_round: int = 0
    candidates_checked: int = 0
    certified: int = 0
    float_only: int = 0
    rejected: int = 0
    budget_exhausted: bool = False
    shrink_checks: int = 0
    seconds: float = 0.0
    search_seconds: float = 0.0
    certify_seconds: float = 0.0
    shrink_seconds: float = 0.0
    first_certified_seconds: float | None = None
    compile_seconds: float = 0.0  # XLA compilation of the search round: start-up, outside the budget

    def to_json(self) -> dict[str, Any]:
        timing = {
            "seconds": round(self.seconds, 4),
            "search_seconds": round(self.search_seconds, 4),
            "certify_seconds": round(self.certify_seconds, 4),
            "shrink_seconds": round(self.shrink_seconds, 4),
            "compile_seconds": round(self.compile_seconds, 4),
            "first_certified_seconds": None if self.first_certified_seconds is None else round(self.first_certified_seconds, 4),
            "evaluations_per_second": round(self.evaluations / self.search_seconds, 1) if self.search_seconds > 0 else None,
        }
        return {
            "evaluations": self.evaluations,
            "restarts": self.restarts,
            "rounds": self.rounds,
            "steps_per_round": self.steps_per_round,
            "candidates_checked": self.candidates_checked,
            "certified": self.certified,
            "float_only": self.float_only,
            "rejected": self.rejected,
            "budget_exhausted": self.budget_exhausted,
            "shrink_checks": self.shrink_checks,
            "timing": timing,
        }


@dataclass(frozen=True)
class FalsifyResult:
    """What :func:`falsify` found.

    Attributes:
        property: ``"P3"`` or ``"P2"``.
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

    from latentcheck.checkers._env import jax_device
    from latentcheck.checkers._env import package_version as ver

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
    from latentcheck.theorems.classify import classify

    return classify(act)


@functools.lru_cache(maxsize=64)
def _zero_target(act: Any, dtype: str) -> ZeroTarget:
    return zero_target(_classification(act), act, dtype)


def _finite_candidate(cand: Any) -> bool:
    """False when a float candidate holds NaN or an infinity (it stands for no exact point)."""
    for v in cand.vectors:
        if isinstance(v, QVec) or (isinstance(v, list) and (not v or not isinstance(v[0], (float, np.floating)))):
            continue
        if not np.all(np.isfinite(np.asarray(v, dtype=np.float64))):
            return False
    return True


def _exact_vec(v: Any, domain: Domain) -> QVec:
    """The exact rational point of the domain that a candidate stands for (a :class:`QVec`)."""
    if isinstance(v, QVec):
        return v
    if isinstance(v, list) and (not v or not isinstance(v[0], (float, np.floating))):
        return QVec.from_fractions(v)
    x = np.asarray(v, dtype=np.float64)
    if domain.name in ("reals", "data"):
        return QVec.from_float(x)
    if domain.name == "nonneg":
        return QVec.from_float(np.where(x > 0, x, 0.0))
    if domain.name == "binary":
        return QVec.from_float((x >= 0.5).astype(np.float64))
    return QVec.from_fractions(domain.to_exact(x))


def _dtype_round(x: np.ndarray, dtype: str) -> np.ndarray:
    from latentcheck.counterexamples.certify import _np_dtype

    return np.asarray(x, dtype=np.float64).astype(_np_dtype(dtype)).astype(np.float64)


def _theory_note(prop: str, encoder: Any, cls: Any, target: ZeroTarget | None, domain: Domain) -> str:
    if not isinstance(encoder, Encoder):
        return "black-box callable: only float search is possible; any finding is float-only"
    one = len(encoder.layers) == 1
    if prop == "P3":
        if cls is None:
            return ""
        if cls.vanishing:
            if one and domain.name == "reals":
                return (f"T1: the latent activation is {cls.cls}, so a one-layer encoder with full-row-rank W and m < n "
                        "has an affine subspace of zero counterexamples")
            return f"the latent activation is {cls.cls}; T1 covers one-layer encoders on R^n, elsewhere the search decides"
        if cls.cls == "non-vanishing":
            return "T2: the latent activation never vanishes, so no real zero counterexample exists for any architecture; only float-only hazards can appear"
        return f"the latent activation's class is {cls.cls}"
    if domain.name == "reals":
        return ("T4: on R^n with m < n every non-constant encoder has an ordering flip (T3 for linear encoders, "
                "T5 with the zero user when enc(0) != 0)")
    return "T4 is proved on R^n; whether it holds on this domain is open, the search decides case by case"


# ------------------------------------------------------------------ falsify
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
    return wrapped


def falsify(
    encoder: "Encoder | Callable[[Any], Any]",
    property: str = "p3",
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
) -> FalsifyResult:
    """Search for certified counterexamples to P3 (zero vectors) or P2 (ordering flips).

    Pipeline: the theorems' constructions (T1 basic solutions, layer-wise
    inversion, T3/T5 flips), then rounds of a jitted, vmapped JAX search
    (:func:`latentcheck.checkers.falsifier.p3_search` / :func:`p2_search`), then an exact
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
        property: ``"p3"`` or ``"p2"``.
        domain: ``reals``, ``nonneg``, ``binary``, ``sphere``, ``data:PATH`` or a :class:`latentcheck.checkers.domains.Domain`.
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

    Returns:
        A :class:`FalsifyResult`; ``.counterexamples`` holds certified ones only.

    Example:
        >>> from latentcheck.theorems import Encoder
        >>> res = falsify(Encoder.random([12, 3], "relu", seed=0), "p3", budget=5, seed=0)
        >>> res.status, res.counterexamples[0].certified
        ('counterexample', 'exact')
    """
    t_start = time.perf_counter()
    prop, dom, black, encoder, dim = _checked_arguments(encoder, property, domain, dtype, budget, restarts, n)

    stats = SearchStats(restarts=int(restarts))
    cls = target = None
    if not black:
        cls = _classification(encoder.activation)
        if prop == "P3":
            target = _zero_target(encoder.activation, dtype)
    else:
        target = ZeroTarget("point", 0.0, 0.0, None, "black box: the search minimises |f(x)|^2")
    info = _initial_info(encoder, black, dim, cls, target, dom, dtype, seed, budget, prop)
    info.update(environment())
    deadline = time.perf_counter() + float(budget)  # start-up (JAX, classification) done: the budget starts here
    info["float_runtime"] = _runtime_name()
    if not black and encoder.parameters <= _MAX_RECORDED_PARAMETERS:
        info["weights"] = encoder.exact_weights()

    certified: list[Counterexample] = []
    floats: list[Counterexample] = []
    undecided: list[Counterexample] = []
    hist_counts = np.zeros(len(HIST_EDGES_P3 if prop == "P3" else HIST_EDGES_P2) - 1, dtype=np.int64)
    seen: set = set()
    want_float = target is not None and (target.kind in ("float-left", "float-right") or black)

    def note(frac: float, msg: str) -> None:
        if progress is not None:
            progress(min(1.0, max(0.0, frac)), msg)

    def record(cert: Certification, vectors: Sequence[QVec], origin: str, notes: Sequence[str] = ()) -> None:
        if cert.certified and stats.first_certified_seconds is None:
            stats.first_certified_seconds = time.perf_counter() - t_start  # the certificate is in hand
        stats.candidates_checked += 1
        key = tuple(v.key() for v in vectors)
        if key in seen:
            return
        seen.add(key)
        cx = to_counterexample(cert, prop, vectors, dtype=dtype, domain=dom.label, origin=origin, notes=notes)
        if cx is None:
            stats.rejected += 1
            return
        if cx.is_certified:
            stats.certified += 1
            certified.append(cx)
        elif cx.certified == UNDECIDED:
            stats.rejected += 1
            undecided.append(cx)
        else:
            stats.float_only += 1
            floats.append(cx)

    enc_obj = encoder if not black else encoder
    t2 = cls is not None and cls.cls == "non-vanishing"  # T2: no real zero for any architecture

    # Exact checks cost about a millisecond per thousand weights: limit them only where one can be slow.
    costly = not black and sum(layer.W.size for layer in encoder.layers) > 50_000
    timer = Budget(deadline, grace=min(2.0, max(0.5, 0.1 * float(budget))), enforce=costly)

    def check(vectors: list[QVec]) -> Certification:  # OutOfTime when --budget is spent
        if prop == "P3":
            return timer.run(certify_zero, enc_obj, vectors[0], domain=dom, dtype=dtype, move_to_dtype=True, nonvanishing=t2)
        return timer.run(certify_flip, enc_obj, *vectors, domain=dom, dtype=dtype)

    def enough() -> bool:
        if len(certified) >= 1:
            return True
        return want_float and len(floats) >= 1

    # ---------------------------------------------------------- round 0: constructions and data rows
    note(0.0, "constructions")
    t0 = time.perf_counter()
    if prop == "P3" and target is not None and target.kind == "none":
        from latentcheck.checkers.float_vanishing import none_exists  # T2 and an empty sound XLA zero set in this dtype

        status = "none-exists" if none_exists(cls, encoder.activation, dtype, "xla") else "none-found"
        stats.seconds = time.perf_counter() - t_start
        info["message"] = target.reason
        info["histograms"] = None
        return FalsifyResult(prop, status, (), (), stats, info)
    source: Any = iter(())
    if not black:
        if prop == "P3":
            source = iter(p3_constructions(encoder, target, dom, time_limit=max(0.05, min(0.25 * budget, deadline - time.perf_counter()))))
        else:
            source = p2_constructions(encoder, dom, seed)
    if dom.name == "data":
        source = iter(_data_candidates(encoder, prop, dom, target, dtype, black))
    cands: list[Candidate] = []
    with serial_blas():  # small dense solves: one BLAS thread is faster and steadier
        try:
            for cand in source:
                if cands and time.perf_counter() >= deadline:  # constructions count against the budget too
                    raise OutOfTime()
                if not _finite_candidate(cand):  # a construction overflowed (huge weights): nothing to certify
                    continue
                cands.append(cand)
                vecs = [_exact_vec(v, dom) for v in cand.vectors]
                if prop == "P3" and target is not None and target.kind == "point" and not cand.exact and not black:
                    rep = _repair_point(encoder, vecs[0], target, dom)
                    if rep is not None:
                        vecs = [rep]
                record(check(vecs), vecs, cand.origin)
                if len(certified) >= max_counterexamples or (not certified and want_float and len(floats) >= max_counterexamples):
                    break
        except OutOfTime:
            stats.budget_exhausted = True
    stats.search_seconds += time.perf_counter() - t0
    stats.evaluations += len(cands)

    # ---------------------------------------------------------- rounds of JAX search
    if (not enough() or min_rounds > 0) and dom.name != "data" and max_rounds > 0:
        import jax
        import jax.numpy as jnp

        B = int(restarts)
        if black:
            fn = encoder

            def enc_fn(X: Any) -> Any:
                return jax.vmap(fn)(X)

            if prop == "P3":
                search = p3_search(dim, target, dom, restarts=B, pre_fn=enc_fn, act_fn=lambda z: z)
            else:
                search = p2_search(None, dom, restarts=B, enc_fn=enc_fn, n=dim)
            flops = 2.0 * dim * 64
        else:
            search = p3_search(encoder, target, dom, restarts=B) if prop == "P3" else p2_search(encoder, dom, restarts=B)
            flops = 2.0 * sum(layer.W.size for layer in encoder.layers)
        if steps is None:
            steps = int(np.clip(4e8 / (B * flops * (3 if prop == "P2" else 1)), 10, 200))
        stats.steps_per_round = int(steps)
        rnd = run_round(search, int(steps))
        shape = (B, dim) if prop == "P3" else (B, 3, dim)
        seeds = np.zeros(shape, dtype=np.float32)
        mask = np.zeros(B, dtype=bool)
        k = 0
        for cand in cands[:B]:
            vec = [v.floats() if isinstance(v, QVec) else np.array([float(q) for q in v]) if isinstance(v, list)
                   else np.asarray(v, dtype=np.float64) for v in cand.vectors]
            seeds[k] = vec[0] if prop == "P3" else np.stack(vec)
            mask[k] = True
            k += 1
        base = jax.random.PRNGKey(int(seed))
        t_compile = time.perf_counter()  # XLA compilation is start-up, not search: the budget waits for it
        rnd = rnd.lower(jax.random.fold_in(base, 1), jnp.asarray(seeds), jnp.asarray(mask)).compile()
        stats.compile_seconds = time.perf_counter() - t_compile
        deadline += stats.compile_seconds
        timer.deadline = deadline
        r = 0
        while r < max_rounds:
            r += 1
            if time.perf_counter() >= deadline and (r > 1 or enough() or costly):  # a cheap first round always runs
                stats.budget_exhausted = True
                break
            note((time.perf_counter() - t_start) / budget, f"round {r}")
            t0 = time.perf_counter()
            state = rnd(jax.random.fold_in(base, r), jnp.asarray(seeds), jnp.asarray(mask))
            best_loss = np.asarray(state.best_loss)
            best = np.asarray(state.best_params, dtype=np.float64)
            stats.evaluations += int(state.evaluations)
            hist_counts += np.asarray(state.hist, dtype=np.int64)
            stats.rounds = r
            stats.search_seconds += time.perf_counter() - t0
            mask[:] = False  # seeds only in the first round
            t0 = time.perf_counter()
            timer.new_stage()  # this round's candidates may still be checked in the grace
            try:
                _process_round(prop, encoder, black, dom, target, dtype, best, best_loss, check, record, deadline)
            except OutOfTime:
                stats.budget_exhausted = True
                stats.certify_seconds += time.perf_counter() - t0
                break
            stats.certify_seconds += time.perf_counter() - t0
            if enough() and r >= min_rounds:
                break
    note(1.0, "shrinking")

    # ---------------------------------------------------------- shrink
    certified = _select(certified, max_counterexamples)
    floats = _select(floats, max_counterexamples)
    if shrink and not black:
        from latentcheck.counterexamples.shrink import shrink as _shrink

        t0 = time.perf_counter()
        out = []
        sdeadline = deadline if shrink_budget is None else t0 + float(shrink_budget)  # within --budget by default
        for cx in certified:
            try:
                small, used = Budget(sdeadline, grace=0.001).run(_shrink, cx, encoder, domain=dom, dtype=dtype,
                                                                 max_checks=max_shrink_checks, deadline=sdeadline)
            except OutOfTime:  # the witness as found stands
                small, used = cx, 0
            stats.shrink_checks += used
            out.append(small)
        certified = out
        stats.shrink_seconds = time.perf_counter() - t0
    stats.seconds = time.perf_counter() - t_start
    status = "counterexample" if certified else "float-only" if floats else "undecided" if undecided else "none-found"
    info["histograms"] = _histograms(prop, hist_counts)
    info["message"] = _message(prop, status, certified, floats, stats, dtype, budget, len(undecided))
    left = deadline - time.perf_counter()
    if status == "none-found" and prop == "P3" and not black and not undecided and left > 0.2:
        from latentcheck.checkers.verifier.falsify_hook import verified_status  # an exact real proof, within what is left of --budget

        status = verified_status(encoder, dom.name, left, info)
    return FalsifyResult(prop, status, tuple(certified), tuple(floats), stats, info, tuple(_select(undecided, max_counterexamples)))


def _checked_arguments(encoder: Any, property: str, domain: Any, dtype: str, budget: float, restarts: int,
                       n: int | None) -> tuple[str, Domain, bool, Any, int]:
    """``(prop, domain, black_box, encoder, n)`` after checking every argument of :func:`falsify`."""
    prop = _PROPS.get(str(property).lower())
    if prop is None:
        raise InvalidArgument(f"property={property!r} must be 'p2' or 'p3'")
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
    if dom.name == "data" and prop == "P2" and dom.rows.shape[0] < 2:
        raise InvalidArgument(f"domain {dom.label!r} has fewer than 2 rows; P2 needs triples")
    return prop, dom, black, encoder, dim


def _initial_info(encoder: Any, black: bool, dim: int, cls: Any, target: Any, dom: Domain, dtype: str, seed: int,
                  budget: float, prop: str) -> dict[str, Any]:
    """The report's setting: encoder, activation class, search target, domain, dtype, seed, budget, theory."""
    return {
        "encoder": encoder.summary() if not black else {"callable": getattr(encoder, "__name__", type(encoder).__name__), "n": dim},
        "activation": cls.to_json() if cls is not None else None,
        "target": None if target is None else {"kind": target.kind, "boundary": target.boundary, "aim": target.aim, "reason": target.reason},
        "domain": dom.describe(),
        "dtype": dtype,
        "search_dtype": "float32",
        "seed": int(seed),
        "budget_seconds": float(budget),
        "theory": _theory_note(prop, encoder, cls, target, dom),
    }


def _histograms(prop: str, counts: np.ndarray) -> dict[str, Any]:
    """The search's histogram of latent norms (P3) or signed flip margins (P2), as JSON."""
    edges = HIST_EDGES_P3 if prop == "P3" else HIST_EDGES_P2
    key = "latent_norm_log10" if prop == "P3" else "flip_margin_signed_log10"
    return {key: {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}}


#: Reports carry the exact weights of encoders up to this many parameters.
_MAX_RECORDED_PARAMETERS = 10_000


def _runtime_name() -> str:
    from latentcheck.counterexamples.certify import xla_runtime

    return xla_runtime()


def _select(items: list[Counterexample], k: int) -> list[Counterexample]:
    """Keep up to ``k``: first found first, distinct origins preferred, then the simplest."""
    chosen: list[Counterexample] = []
    origins: set = set()
    for cx in items:
        if cx.origin not in origins:
            chosen.append(cx)
            origins.add(cx.origin)
        if len(chosen) >= k:
            return chosen
    for cx in items:
        if cx not in chosen and len(chosen) < k:
            chosen.append(cx)
    return chosen


def _message(prop: str, status: str, certified: list, floats: list, stats: SearchStats, dtype: str, budget: float,
             n_undecided: int = 0) -> str:
    what = "zero counterexample" if prop == "P3" else "ordering flip"
    if status == "counterexample":
        return f"{len(certified)} certified {what}(s) found"
    if status == "float-only":
        rts = sorted({c.runtime for c in floats if c.runtime})
        return (f"no real {what} found; {len(floats)} float-only hazard(s) in {dtype} under {', '.join(rts) or 'XLA'}: "
                f"the float computation violates {prop} where the real value provably does not. Not a counterexample to "
                f"{prop}; a rounding risk of {dtype} in that runtime")
    if status == "undecided":
        return (f"no {what} certified; {n_undecided} candidate(s) violate {prop} in {dtype} floats but their real value "
                "could not be decided (neither a counterexample nor refuted)")
    return (f"no {what} found within the budget ({budget:g} s, {stats.evaluations} evaluations): "
            f"this is evidence, not a proof that {prop} holds")


def _repair_point(encoder: Encoder, q: QVec, target: ZeroTarget, dom: Domain) -> QVec | None:
    """Exact repair onto an isolated rational zero (exact bodies only)."""
    if target.exact is None or not encoder.body_is_exact() or dom.name not in ("reals", "nonneg"):
        return None
    x = q.fractions()
    xf = q.floats()
    J = jacobian(encoder, xf)
    allowed = None
    if dom.name == "nonneg":
        allowed = np.nonzero(xf > 0)[0]
    S = pivot_columns(J, encoder.m, allowed)
    if S is None:
        return None
    try:
        rep = exact_repair(encoder, x, S, target.exact)
    except ZeroDivisionError:
        return None
    return None if rep is None else QVec.from_fractions(rep)


def _process_round(prop: str, encoder: Any, black: bool, dom: Domain, target: ZeroTarget | None, dtype: str,
                   best: np.ndarray, best_loss: np.ndarray, check: Callable, record: Callable, deadline: float) -> None:
    order = np.argsort(best_loss, kind="stable")
    finite = [int(i) for i in order if np.isfinite(best_loss[i])]
    if prop == "P3":
        top = finite[:8]
        if not top:
            return
        X = best[top]
        Xd = _dtype_round(X, dtype)
        fz = np.all(float_encode(encoder, Xd, dtype) == 0, axis=1)
        repaired = 0
        for j, i in enumerate(top):
            x = X[j]
            if not black:
                pre = encoder.pre_activations(x[None, :])
                in_set = bool(target.satisfied(pre, 0.0)[0]) if target.kind != "point" else bool(
                    np.max(np.abs(pre - target.boundary)) < 1e-2 * max(1.0, float(np.max(np.abs(pre)))))
                if in_set:
                    vec = _exact_vec(x, dom)
                    if target.kind == "point":
                        if repaired >= 2:
                            continue
                        repaired += 1
                        rep = _repair_point(encoder, vec, target, dom)
                        if rep is not None:
                            record(check([rep]), [rep], "gradient search + exact repair")
                            continue
                    record(check([vec]), [vec], "gradient search")
                    continue
            if fz[j]:
                vec = _exact_vec(Xd[j], dom)
                record(check([vec]), [vec], f"gradient search (float zero in {dtype})")
        return
    top = finite[:8]
    for i in top:
        trip = best[i]
        vecs = [_exact_vec(v, dom) for v in trip]
        record(check(vecs), vecs, "pool inversion + gradient search")


def _data_candidates(encoder: Any, prop: str, dom: Domain, target: ZeroTarget | None, dtype: str, black: bool) -> list[Candidate]:
    rows = dom.rows
    out: list[Candidate] = []
    if prop == "P3":
        nz = np.nonzero(np.any(rows != 0, axis=1))[0]
        zf = float_encode(encoder, rows[nz], dtype)
        hit = set(int(i) for i in nz[np.all(zf == 0, axis=1)])
        if not black and target is not None:
            pre = encoder.pre_activations(rows[nz])
            hit |= set(int(i) for i in nz[target.satisfied(pre, 0.0)])
        for i in sorted(hit)[:16]:
            out.append(Candidate([_data_row(dom, i)], f"data row {i}"))
        return out
    import jax.numpy as jnp

    from latentcheck.checkers.falsifier._search import pool_inversion

    if black:
        import jax

        enc_fn = jax.vmap(encoder)
    else:
        from latentcheck.checkers.falsifier._model import jax_pre_activations

        pre_fn, act_fn = jax_pre_activations(encoder, "float32")

        def enc_fn(X: Any) -> Any:
            return act_fn(pre_fn(X))

    P = jnp.asarray(rows, dtype=jnp.float32)
    X = P[: min(256, rows.shape[0])]
    ui, vi, margin = pool_inversion(enc_fn, X, P)
    margin = np.asarray(margin)
    for i in np.argsort(-margin, kind="stable")[:8]:
        if margin[i] > 0:
            u, v = int(ui[i]), int(vi[i])
            out.append(Candidate([_data_row(dom, int(i)), _data_row(dom, u), _data_row(dom, v)], f"data rows x={int(i)}, u={u}, v={v}"))
    return out


def _data_row(dom: Domain, i: int) -> QVec:
    """Row ``i`` at its stored value (a float64 copy would round wide integers and long doubles)."""
    if dom.rows_src is None:
        return QVec.from_float(dom.rows[i])
    return QVec.from_fractions(dom.exact_row(i))
