"""Assertions for a test suite: does the encoder map a user to zero, does it keep similarity order?

Both accept a ``latentcheck.theorems.Encoder`` or a plain callable mapping one input
``x`` of shape ``(n,)`` to its code of shape ``(m,)`` (so a Flax, Equinox,
JAX, NumPy or exported PyTorch encoder works), search the input domain within
a CI-sized budget, and on failure raise :class:`AssertionError` whose message
holds the shrunk counterexample, how it was certified, where its report was
written, and the one command that reproduces it.

With an Encoder, a counterexample is re-checked outside floating point and
labelled ``exact`` or ``interval``; one that only exists in the float dtype is
labelled ``float-only``. A plain callable can only be evaluated in floats, so
its counterexamples are always ``float-only``: pass an Encoder (build one from
your weights with ``Encoder.from_arrays``) to get certified ones.
"""

from __future__ import annotations

import json
import math
import re
import time
import warnings
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from latentcheck.checkers.testing import _session
from latentcheck.checkers.testing._engine import DomainSpec, Target, Witness, certify_flip, certify_zero, flip_margins, flip_rate, parse_domain, search_zero, shrink, _flip_slack
from latentcheck.checkers.testing._stats import clopper_pearson_upper
from latentcheck.theorems.errors import InvalidArgument

__all__ = ["assert_nonvanishing", "assert_order_preserving", "NonvanishingResult", "OrderResult"]

_SHRINK_SECONDS = 5.0


@dataclass(frozen=True)
class NonvanishingResult:
    """What :func:`assert_nonvanishing` checked when it passed.

    Attributes:
        evaluations: encoder evaluations spent.
        seconds: wall time.
        seed: the seed used.
        engine: which search ran (``'latentcheck falsify'`` or ``'latentcheck.checkers.testing search'``).
        float_only: a float-only counterexample that was allowed (``allow_float_only=True``), else None.
    """

    evaluations: int
    seconds: float
    seed: int
    engine: str
    float_only: Witness | None = None


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
    """Ties whose latent scores differ beyond rounding (counted in ``flips`` too)."""


# --------------------------------------------------------------------- arguments
def _resolve(seed: Any, budget: Any) -> tuple[int, bool, float]:
    if seed is None:
        used, given = _session.seed_for(_session.current_nodeid()), False
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InvalidArgument(f"seed={seed!r} must be a nonnegative int")
        used, given = int(seed), True
    if budget is None:
        b = _session.budget()
    else:
        try:
            b = float(budget)
        except (TypeError, ValueError):
            raise InvalidArgument(f"budget={budget!r} must be a number of seconds, e.g. budget=10") from None
        if not math.isfinite(b) or b <= 0:
            raise InvalidArgument(f"budget={budget!r} must be a positive number of seconds, e.g. budget=10")
    return used, given, b


# --------------------------------------------------------------------- assertions
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
) -> NonvanishingResult:
    """Assert P3 on a domain: no nonzero input ``x`` has ``enc(x) = 0``.

    Searches the domain for a nonzero ``x`` whose code is exactly the zero
    vector in ``dtype``; fails with the shrunk, certified counterexample.
    Passing is evidence within the budget, not a proof (``latentcheck prove``
    proves T2: a non-vanishing latent activation never maps to 0 in real
    arithmetic).

    Args:
        encoder_fn: a ``latentcheck.theorems.Encoder`` or a callable ``x[n] -> z[m]``.
        n: input dimension (needed for a callable).
        domain: ``'reals'``, ``'nonneg'`` (ratings), ``'binary'`` (implicit
            feedback), ``'sphere'``, or a 2-D array whose rows are the inputs.
        dtype: dtype of the inputs (and of an Encoder's arithmetic):
            ``float16``, ``bfloat16``, ``float32`` or ``float64``.
        budget: seconds for the search (default: ``--latentcheck-budget``, else 10).
        seed: seed of the search (default: from the session seed and the test's id).
        batched: the callable maps ``x[B, n] -> z[B, m]``.
        allow_float_only: pass when the only zero found rounds to 0 in
            ``dtype`` but not in real arithmetic (a float-vanishing hazard).
        report_dir: where to write the report (default: ``latentcheck-reports/``).

    Returns:
        A :class:`NonvanishingResult` when no counterexample was found.

    Raises:
        AssertionError: a counterexample, with the command that reproduces it.
        InvalidArgument: a bad argument, named with the fix.

    Example:
        >>> from latentcheck.theorems import Encoder
        >>> from latentcheck.checkers.testing import assert_nonvanishing
        >>> enc = Encoder.from_arrays([[[1.0, -1.0, 0.5]]], [[0.25]], ["sigmoid"])
        >>> assert_nonvanishing(enc, domain="binary", budget=2).engine  # doctest: +SKIP
        'latentcheck.checkers.testing search'
    """
    __tracebackhide__ = True
    _session.note_call()
    used_seed, seed_given, b = _resolve(seed, budget)
    if not isinstance(allow_float_only, bool):
        raise InvalidArgument(f"allow_float_only={allow_float_only!r} must be True or False")
    t0 = time.perf_counter()
    target = Target(encoder_fn, n, dtype, batched=batched)
    dom = parse_domain(domain, target.n)
    found = _falsify(target, dom, used_seed, b) if target.encoder is not None else None
    if found is not None:
        witness, search = found
    else:
        x, stats = search_zero(target, dom, seed=used_seed, budget=b)
        search = {"engine": "latentcheck.checkers.testing search", "evaluations": stats.evaluations, "seconds": round(stats.seconds, 3),
                  "stopped": stats.stopped, "budget": b, "seed": used_seed}
        witness = None if x is None else _shrink_and_certify_zero(target, dom, x)
    if witness is None or (not witness.is_certified and allow_float_only):
        return NonvanishingResult(int(search["evaluations"]), time.perf_counter() - t0, used_seed, search["engine"], float_only=witness)
    _fail("P3", target, dom, witness, search, used_seed, seed_given, report_dir, extra={})


#: Search rounds of the falsifier where runs must be deterministic (the budget is then only a cap).
DETERMINISTIC_ROUNDS = 40


def _falsify(target: Target, dom: DomainSpec, seed: int, budget: float) -> "tuple[Witness | None, dict] | None":
    """Run ``latentcheck.checkers.falsify`` on an Encoder; None when the falsifier is not installed.

    The falsifier brings the theorems' constructions (T1 basic solutions) and
    an exact repair onto isolated zeros (tanh-like activations), which the
    float search here cannot reach. Its counterexamples are certified and
    shrunk already.
    """
    try:
        from latentcheck.checkers.falsify import falsify
    except ImportError:
        return None
    except Exception as exc:  # a broken install: say so, and still check with the float search
        warnings.warn(f"latentcheck.checkers.falsify could not be imported ({type(exc).__name__}: {exc}); using the float search of checkers.testing instead",
                      RuntimeWarning, stacklevel=3)
        return None
    if dom.rows is not None:
        from latentcheck.checkers.domains import Domain

        domain: Any = Domain("data", rows=dom.rows, source="array")
    else:
        domain = dom.name
    kwargs: dict[str, Any] = {"domain": domain, "dtype": target.dtype, "budget": budget, "seed": seed}
    if _session.deterministic():
        kwargs["max_rounds"] = DETERMINISTIC_ROUNDS
    try:
        res = falsify(target.encoder, "p3", **kwargs)
    except Exception as exc:  # the falsifier failing must not hide the check: fall back, loudly
        warnings.warn(f"latentcheck falsify failed ({type(exc).__name__}: {exc}); using the float search of checkers.testing instead",
                      RuntimeWarning, stacklevel=3)
        return None
    st = res.stats
    search = {"engine": "latentcheck falsify", "evaluations": int(getattr(st, "evaluations", 0)),
              "seconds": round(float(getattr(st, "seconds", 0.0)), 3),
              "status": res.status, "budget": budget, "seed": seed, "falsify_report": res.to_json()}
    chosen = list(res.counterexamples) or list(res.float_only)
    if not chosen:
        return None, search
    cx = min(chosen, key=lambda c: (c.nonzeros, c.size))
    x = cx.witness[0]
    floats = np.array([float(Fraction(v)) for v in x])
    if not cx.is_certified:
        # A rounding hazard needs no exact witness: shrink it in floats to something readable.
        search["engine"] += " + float shrinking"
        return _shrink_and_certify_zero(target, dom, floats), search
    codes = {"enc(x)": target(floats[None])[0].tolist()}
    return Witness("P3", {"x": list(x)}, cx.certified, cx.detail, cx.margin, codes), search


def _shrink_and_certify_zero(target: Target, dom: DomainSpec, x: np.ndarray) -> Witness:
    def still(parts: list[np.ndarray]) -> np.ndarray:
        X = parts[0]
        Z = target(X)
        return np.all(Z == 0, axis=1) & dom.contains(X)

    small = shrink([x], still, dom, time.perf_counter() + _SHRINK_SECONDS)[0]
    witness = certify_zero(target, small)
    if not witness.is_certified and not np.array_equal(small, x):
        original = certify_zero(target, x)
        if original.is_certified:
            return original
    return witness


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
) -> OrderResult:
    """Assert that at most a fraction ``tolerance`` of triples flips similarity order.

    T4 (THEORY.md) shows that exact order preservation (P2) fails for every
    non-constant bottleneck encoder, so this measures a rate: it samples
    ``samples`` triples ``(x, u, v)`` of the domain, orders each so that
    ``<x,u> <= <x,v>``, counts flips ``<enc x, enc u> > <enc x, enc v>``
    beyond the dtype's rounding (a tie ``<x,u> = <x,v>``, decided exactly,
    demands equal latent scores: P2's ``<=`` holds both ways; tied triples
    and their violations are also counted apart), and
    passes when the one-sided Clopper-Pearson upper bound on the flip rate, at
    ``confidence``, is at most ``tolerance``. On failure the message holds the
    rate, the bound and the worst flip found, shrunk and (for an Encoder)
    certified.

    Sampling: ``reals`` standard normal; ``nonneg`` absolute values of normals;
    ``binary`` fair coin flips; ``sphere`` normalised normals; a matrix: its
    rows, uniformly. The rate depends on this distribution: pass your own data
    rows for the rate your users see.

    Args:
        encoder_fn: a ``latentcheck.theorems.Encoder`` or a callable ``x[n] -> z[m]``.
        n: input dimension (needed for a callable).
        tolerance: the largest acceptable flip rate, in ``[0, 1]``.
        domain, dtype, budget, seed, batched, report_dir: as in :func:`assert_nonvanishing`.
        confidence: confidence level of the upper bound.
        samples: number of triples.

    Returns:
        The measured :class:`OrderResult`.
    """
    __tracebackhide__ = True
    _session.note_call()
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
    if not isinstance(confidence, (int, float)) or not 0.5 <= float(confidence) < 1.0:
        raise InvalidArgument(f"confidence={confidence!r} must lie in [0.5, 1), e.g. confidence=0.95")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise InvalidArgument(f"samples={samples!r} must be a positive int, e.g. samples=4096")
    floor = clopper_pearson_upper(0, int(samples), float(confidence))
    if tol < floor:
        raise InvalidArgument(
            f"tolerance={tolerance!r} cannot be met with samples={samples!r}: even with no flip the {float(confidence):.0%} upper bound "
            f"is {floor:.2g}; raise samples (about {math.ceil(3 / max(tol, 1e-9))} for this tolerance) or tolerance"
        )
    used_seed, seed_given, b = _resolve(seed, budget)
    t0 = time.perf_counter()
    target = Target(encoder_fn, n, dtype, batched=batched)
    dom = parse_domain(domain, target.n)
    fs = flip_rate(target, dom, samples=int(samples), seed=used_seed, budget=b)
    rate = fs.flips / fs.triples if fs.triples else 0.0
    upper = clopper_pearson_upper(fs.flips, fs.triples, float(confidence))
    result = OrderResult(fs.flips, fs.triples, fs.ties, rate, upper, tol, float(confidence), used_seed, time.perf_counter() - t0,
                         fs.tie_violations)
    if upper <= tol:
        return result
    witness = None
    if fs.worst is not None:
        witness = _shrink_and_certify_flip(target, dom, *fs.worst)
    search = {"engine": "latentcheck.checkers.testing sampling", "evaluations": fs.evaluations, "seconds": round(fs.seconds, 3),
              "budget": b, "seed": used_seed}
    extra = {"rate": asdict(result)}
    _fail("P2", target, dom, witness, search, used_seed, seed_given, report_dir, extra=extra)


def _shrink_and_certify_flip(target: Target, dom: DomainSpec, x: np.ndarray, u: np.ndarray, v: np.ndarray) -> Witness:
    slack = _flip_slack(target.dtype)

    def still(parts: list[np.ndarray]) -> np.ndarray:
        X, U, V = parts
        gap_in, gap_out, scale = flip_margins(target, X, U, V)
        return (gap_in >= 0) & (gap_out > slack * scale) & dom.contains(X) & dom.contains(U) & dom.contains(V)

    small = shrink([x, u, v], still, dom, time.perf_counter() + _SHRINK_SECONDS)
    witness = certify_flip(target, *small)
    if not witness.is_certified and target.encoder is not None:
        original = certify_flip(target, x, u, v)
        if original.is_certified:
            return original
    return witness


# --------------------------------------------------------------------- failure
_PROPERTY = {
    "P3": "P3 (non-zero preservation): a nonzero input is mapped to the zero vector",
    "P2": "P2 (similarity ordering): too many triples flip order",
}


def _fmt_value(text: str) -> str:
    """An exact rational, with a decimal approximation when it is long."""
    if len(text) <= 16:
        return text
    return f"{text} (~{float(Fraction(text)):.6g})"


def _fmt_vector(strings: list[str], name: str, limit: int = 16) -> str:
    if len(strings) <= limit and all(len(v) <= 16 for v in strings):
        return f"{name} = [{', '.join(strings)}]"
    nz = [(i, s) for i, s in enumerate(strings) if s != "0"]
    shown = ", ".join(f"{name}[{i}] = {_fmt_value(s)}" for i, s in nz[:12])
    more = f", ... {len(nz) - 12} more nonzeros in the report" if len(nz) > 12 else ""
    return f"{shown}{more} (the other {len(strings) - len(nz)} of {len(strings)} entries are 0)"


def _fmt_code(values: list[float], limit: int = 8) -> str:
    vals = [f"{v:.6g}" for v in values[:limit]]
    return "[" + ", ".join(vals) + (f", ... ({len(values)} entries)" if len(values) > limit else "") + "]"


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")
    return s[-120:] or "assertion"


def _command(nodeid: str | None, seed: int, seed_given: bool, report: Path, target: Target) -> str:
    if nodeid:
        flag = "" if seed_given else f" --latentcheck-seed={_session.session_seed()}"
        return f"pytest '{nodeid}'{flag}"
    if target.encoder is not None:
        return f"python -m latentcheck.checkers.testing {_shown(report)}"
    return f"call the assertion again with seed={seed}"


def _shown(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("latentcheck", "jax", "numpy", "hypothesis"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _write_report(directory: Path, payload: dict, target: Target, message: str) -> str | None:
    """Write report.json, report.md and (for an Encoder) encoder.npz; the reason when it cannot."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if target.encoder is not None:
            target.encoder.save(directory / "encoder.npz")
        from latentcheck.checkers._io import atomic_write_text

        atomic_write_text(directory / "report.json", json.dumps(payload, indent=2) + "\n")
        atomic_write_text(
            directory / "report.md",
            f"# latentcheck: {payload['title']}\n\n```\n{message}\n```\n\nMachine-readable: `report.json`"
            + ("; weights: `encoder.npz`" if target.encoder is not None else "") + ".\n",
        )
        return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def _fail(prop: str, target: Target, dom: DomainSpec, witness: Witness | None, search: dict, seed: int, seed_given: bool,
          report_dir: Any, extra: dict) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
    __tracebackhide__ = True
    nodeid = _session.current_nodeid()
    base = Path(report_dir) if report_dir is not None else _session.report_dir()
    name = _slug(nodeid or f"{'assert_nonvanishing' if prop == 'P3' else 'assert_order_preserving'}-seed{seed}")
    directory = base / name
    lines: list[str] = []
    if prop == "P3":
        assert witness is not None
        cert = witness.certified
        lines.append(f"latentcheck: {_PROPERTY['P3']} (domain {dom.label}, dtype {target.dtype}).")
        kind = "certified " + cert if witness.is_certified else f"{witness.certified}, not certified"
        lines.append(f"Counterexample ({kind}; shrunk):")
        lines.append("    " + _fmt_vector(witness.vectors["x"], "x"))
        if witness.is_certified:
            lines.append(f"    enc(x) = 0 in real arithmetic ({target.dtype} evaluation gives {_fmt_code(witness.codes['enc(x)'])})")
        else:
            lines.append(f"    enc(x) = {_fmt_code(witness.codes['enc(x)'])} in {target.dtype}")
        lines.append(f"    {witness.detail}")
        if not witness.is_certified:
            lines.append(f"    float-only: the encoder's {target.dtype} arithmetic returns 0 here; allow_float_only=True accepts such rounding hazards")
    else:
        r = extra["rate"]
        lines.append(f"latentcheck: {_PROPERTY['P2']} (domain {dom.label}, dtype {target.dtype}).")
        lines.append(
            f"Flip rate {r['flips']}/{r['triples']} = {r['rate']:.4f}; upper bound {r['upper']:.4f} at {r['confidence']:.0%} confidence "
            f"> tolerance {r['tolerance']:g} (input ties {r['ties']}, of which {r.get('tie_violations', 0)} have unequal latent scores: "
            "P2's <= demands equal scores on a tie, so these count as flips)."
        )
        if witness is not None:
            kind = "certified " + witness.certified if witness.is_certified else f"{witness.certified}, not certified"
            lines.append(f"Worst flip ({kind}; shrunk):")
            for nm in ("x", "u", "v"):
                lines.append("    " + _fmt_vector(witness.vectors[nm], nm))
            lines.append(f"    {witness.detail}")
        else:
            lines.append(f"No flip was seen: {r['triples']} triples cannot bound the rate below {r['tolerance']:g}; raise samples=.")
    evals = int(search["evaluations"])
    lines.append(f"Search: {evals} evaluation{'s' if evals != 1 else ''} in {search['seconds']:.2f} s, seed {seed} ({search['engine']}; "
                 f"{'Encoder' if target.encoder is not None else 'plain callable'}).")
    payload = {
        "schema": "latentcheck.testing/1",
        "title": _PROPERTY[prop],
        "property": prop,
        "test": nodeid,
        "domain": dom.label,
        "dtype": target.dtype,
        "seed": seed,
        "session_seed": None if seed_given else _session.session_seed(),
        "search": search,
        "encoder": {"kind": target.kind, "n": target.n, "m": target.m,
                    **({"summary": target.encoder.summary()} if target.encoder is not None else {})},
        "counterexample": None if witness is None else {
            "property": witness.property, "certified": witness.certified, "real": witness.is_certified,
            "witness": witness.vectors, "margin": witness.margin, "detail": witness.detail, "codes": witness.codes,
            "dtype": target.dtype, "domain": dom.label,
        },
        **extra,
        "versions": _versions(),
    }
    path = directory / "report.json"
    if target.encoder is not None:
        payload["encoder"]["weights"] = "encoder.npz"
    command = _command(nodeid, seed, seed_given, path, target)
    payload["command"] = command
    lines.append(f"Report: {_shown(path)}")
    lines.append(f"Reproduce: {command}")
    problem = _write_report(directory, payload, target, "\n".join(lines))
    if problem is not None:
        lines[-2] = f"Report: not written to {_shown(path)} ({problem}); pass report_dir= or --latentcheck-report-dir"
        path = None  # type: ignore[assignment]
        if not nodeid:
            lines[-1] = f"Reproduce: call the assertion again with seed={seed}"
    message = "\n".join(lines)
    summary = (f"{prop} {'certified ' + witness.certified if witness and witness.is_certified else 'float-only' if witness else 'rate'}"
               + (f": rate {extra['rate']['rate']:.4f} > {extra['rate']['tolerance']:g}" if prop == "P2" else ""))
    _session.record(_session.Finding(nodeid, prop, witness.certified if witness else "none", summary, _shown(path) if path else None))
    raise AssertionError(message)
