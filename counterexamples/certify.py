"""Certification: decide a float candidate outside floating point, then label it.

The single source of truth is :func:`latentcheck.theorems.check_zero` /
:func:`latentcheck.theorems.check_flip` (exact rationals for piecewise-linear and
polynomial encoders, interval arithmetic otherwise). This module adds the
domain check and the float re-evaluation in the search's dtype, and turns the
outcome into one label:

=============  ==============================================================
status         meaning
=============  ==============================================================
``exact``      violation certified in exact rational arithmetic
``interval``   violation certified by interval arithmetic
``float-only`` the float computation in ``dtype`` and ``runtime`` violates the
               property, and the real value is PROVED not to (exactly or by
               intervals): a rounding hazard, never a real counterexample
``undecided``  the real value could not be decided (an enclosure contains the
               boundary and no exact value was found); reported as such when
               the float computation violates the property
``refuted``    neither the real nor the float value violates the property
``outside``    the point is not in the domain (or is the zero vector for P3)
=============  ==============================================================

Float runtimes: ``xla-cpu`` / ``xla-gpu`` (JAX, which flushes subnormals to
zero) and ``ieee`` (NumPy, IEEE 754 with subnormals). Float findings are
computed (and re-evaluated at the exact witness) under XLA, then re-evaluated
in IEEE NumPy; one that holds only under XLA says so.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from ._certifier import certifier, certifier_for
from .fast import QVec, as_qvec, check_flip_fast, check_zero_fast, domain_contains
from .types import EXACT, FLOAT_ONLY, INTERVAL, UNDECIDED, Counterexample
from ..theorems.encoder import Encoder
from ..theorems.properties import PointCheck, check_flip, check_zero
from ..theorems.properties.p2 import Ordering
from ..theorems.properties.p3 import NonZero
from ..theorems.inputs import normalise_float
from ..theorems.float_forward import cached_params, forward_fn

__all__ = ["certify_raw", "certify_point", "certify_p3", "certify_p2", "Certification", "certify_zero", "certify_flip", "float_encode", "ieee_encode", "xla_runtime", "to_counterexample"]


@dataclass(frozen=True)
class Certification:
    """The outcome of certifying one candidate.

    Attributes:
        status: ``exact``, ``interval``, ``float-only``, ``refuted``, ``undecided`` or ``outside``.
        check: the :class:`latentcheck.theorems.PointCheck` (``None`` when no exact check was possible).
        float_violates: whether the float computation in ``dtype`` shows the violation.
        detail: one sentence for people.
        margin: the violation's size as an exact string, when certified.
        runtime: for a float finding, where it holds: ``xla-cpu``, ``xla-gpu``, ``ieee`` or ``host``.
        ieee_reproduces: for a float finding of an Encoder, whether IEEE NumPy shows it too.
        notes: remarks for the record (IEEE comparison, input rounding).
        vectors: the witness to record when it differs from the candidate (a float finding moved to the
            candidate rounded to ``dtype``, the point the float computation actually runs at).
    """

    status: str
    check: PointCheck | None
    float_violates: bool | None
    detail: str
    margin: str | None = None
    runtime: str | None = None
    ieee_reproduces: bool | None = None
    notes: tuple[str, ...] = ()
    vectors: tuple[QVec, ...] | None = None

    @property
    def certified(self) -> bool:
        return self.status in (EXACT, INTERVAL)

    @property
    def reportable(self) -> bool:
        """Certified, a float-only hazard, or an undecided candidate whose float computation violates the property."""
        return self.status in (EXACT, INTERVAL, FLOAT_ONLY) or (self.status == UNDECIDED and bool(self.float_violates))


_IEEE_PARAMS: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()


def xla_runtime() -> str:
    """``xla-cpu``, ``xla-gpu``, ... : the XLA backend JAX evaluates on."""
    import jax

    return f"xla-{jax.default_backend()}"


def float_encode(encoder: "Encoder | Callable[[Any], Any]", points: np.ndarray, dtype: str) -> np.ndarray:
    """Evaluate the encoder in ``dtype`` on a batch ``(N, n)`` as the user's JAX code would.

    For an :class:`~theorems.Encoder` this is ``jax.vmap(encoder.jax_fn(dtype))``
    (jitted once per architecture and dtype, the weights passed as arguments);
    for a plain callable it is the callable applied to a ``dtype`` array
    (batched through ``jax.vmap`` when it is JAX-traceable, row by row
    otherwise). Returns a float64 copy of the ``dtype`` results.
    """
    return _float_encode_rt(encoder, points, dtype)[0]


def _float_encode_rt(encoder: Any, points: np.ndarray, dtype: str) -> tuple[np.ndarray, str]:
    """:func:`float_encode` and the runtime it ran in (``xla-*``, or ``host`` for a callable JAX cannot trace)."""
    import jax
    import jax.numpy as jnp

    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[None, :]
    x64 = dtype == "float64"
    if isinstance(encoder, Encoder) and encoder.inputs.normalise != "none":  # the input as the model sees it

        pts = normalise_float(pts, encoder.inputs.normalise)
    if isinstance(encoder, Encoder):
        with jax.enable_x64(x64):
            fn, params = forward_fn(encoder, dtype)
            out = fn(params, jnp.asarray(pts, dtype=dtype))
            return np.asarray(out).astype(np.float64), xla_runtime()
    with jax.enable_x64(x64):
        try:
            out = jax.vmap(encoder)(jnp.asarray(pts, dtype=dtype))
            return np.asarray(out).astype(np.float64), xla_runtime()
        except Exception:  # not traceable: evaluate row by row with numpy inputs
            np_dtype = _np_dtype(dtype)
            return np.stack([np.asarray(encoder(p.astype(np_dtype)), dtype=np.float64) for p in pts]), "host"


def ieee_encode(encoder: Encoder, points: np.ndarray, dtype: str) -> np.ndarray | None:
    """The encoder in ``dtype`` in NumPy (IEEE 754: subnormals kept), float64 copy; ``None`` if NumPy cannot run it."""
    try:
        np_dtype = _np_dtype(dtype)
        per = _IEEE_PARAMS.setdefault(encoder, {})
        if dtype not in per:  # the weights cast once per encoder and dtype (as Encoder.__call__ casts them)
            xla = cached_params(encoder, dtype)  # the same host-side casts, when XLA already made them
            per[dtype] = ([(np.asarray(W).T, np.asarray(b)) for W, b in xla] if xla is not None else
                          [(layer.W.T.astype(np_dtype), layer.b.astype(np_dtype)) for layer in encoder.layers])
        h = np.asarray(points, dtype=np.float64).astype(np_dtype)
        with np.errstate(all="ignore"):
            for (WT, b), layer in zip(per[dtype], encoder.layers):
                h = layer.activation.numpy(h @ WT + b).astype(np_dtype)
        return np.asarray(h).astype(np.float64)
    except Exception:  # e.g. an activation NumPy has no loop for in bfloat16
        return None


def _ieee_verdict(violates_ieee: bool | None, what: str, dtype: str, rt: str, detail: str) -> tuple[bool | None, str]:
    """``(ieee_reproduces, note)`` comparing an XLA float finding with IEEE NumPy."""
    if violates_ieee is None:
        return None, f"IEEE NumPy could not evaluate this encoder in {dtype}; the finding is shown under {rt} only"
    if violates_ieee:
        return True, f"{what} also holds in IEEE NumPy ({dtype}), not only under {rt}"
    return False, f"holds only under flush-to-zero ({rt}: XLA flushes subnormals); IEEE gives {detail}"


def _dtype_point(q: QVec, dtype: str) -> QVec | None:
    """``x`` rounded to ``dtype`` (exactly, as a QVec) when that differs from ``x``; ``None`` when ``x`` is a ``dtype`` vector."""
    rounded = np.asarray(q.floats()).astype(_np_dtype(dtype)).astype(np.float64)
    if not np.all(np.isfinite(rounded)):
        return None
    r = QVec.from_float(rounded)
    return None if r.key() == q.key() else r


def _at_float_point(encoder: Any, q: QVec, domain: Any, dtype: str, runtime: str) -> "Certification | None":
    """A float zero found at ``x`` that is not a ``dtype`` vector, certified again at ``x`` rounded to ``dtype``
    (where the float computation ran): the record then names that point. ``None`` when that is not possible."""
    r = _dtype_point(q, dtype)
    if r is None or r.is_zero or (domain is not None and not domain_contains(domain, r)):
        return None
    # the float computation at x already ran at r (inputs are rounded to dtype first): its zero is known
    inner = certify_zero(encoder, r, domain=domain, dtype=dtype, _float_zero=(True, runtime))
    if not inner.reportable:
        return None
    note = f"the candidate was not a {dtype} vector: recorded at its rounding to {dtype}, where the float computation runs"
    return replace(inner, vectors=(r,), notes=inner.notes + (note,))


def _input_note(q: QVec, dtype: str) -> tuple[str, ...]:
    """A note when ``x`` is not a ``dtype`` number (the float computation then ran at its rounding)."""
    rounded = np.asarray(q.floats()).astype(_np_dtype(dtype)).astype(np.float64)
    if np.all(np.isfinite(rounded)) and QVec.from_float(rounded).key() == q.key():
        return ()
    return (f"x is not exactly a {dtype} vector: the float computation ran at x rounded to {dtype}",)


def _np_dtype(dtype: str) -> Any:
    if dtype == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def float_is_zero(encoder: Any, x: Sequence[Any], dtype: str) -> bool:
    """Whether ``enc(x)`` is exactly the zero vector in ``dtype``."""
    z = float_encode(encoder, np.array([float(v) for v in x])[None, :], dtype)[0]
    return bool(np.all(z == 0))


def float_flip_margin(encoder: Any, x: Sequence[Any], u: Sequence[Any], v: Sequence[Any], dtype: str) -> tuple[float, float]:
    """``(<x,u> - <x,v>, <enc x,enc u> - <enc x,enc v>)`` computed in ``dtype``."""
    np_dtype = _np_dtype(dtype)
    pts = np.array([vec if isinstance(vec, np.ndarray) else [float(a) for a in vec] for vec in (x, u, v)], dtype=np.float64)
    z = float_encode(encoder, pts, dtype).astype(np_dtype)
    p = pts.astype(np_dtype)
    prem = float(np.dot(p[0], p[1]) - np.dot(p[0], p[2]))
    flip = float(np.dot(z[0], z[1]) - np.dot(z[0], z[2]))
    return prem, flip


def certify_zero(encoder: Any, x: Sequence[Any], *, domain: Any = None, dtype: str | None = "float32",
                 move_to_dtype: bool = False, nonvanishing: bool = False,
                 _float_zero: "tuple[bool, str] | None" = None) -> Certification:
    """Certify a P3 candidate: ``x != 0`` in the domain and ``enc(x) = 0`` (the raw chain: an encoder with input
    normalisation is certified by :func:`latentcheck.counterexamples.candidate.certify_candidate`, which checks ``enc(N(x))``).

    With ``move_to_dtype``, a float zero at an ``x`` that is not a ``dtype`` vector is certified again at
    ``x`` rounded to ``dtype`` (the point the float computation ran at), and the result names that point in
    :attr:`Certification.vectors` (the caller must record those vectors, not ``x``). ``nonvanishing``
    (the caller knows by T2 that the latent activation never vanishes) skips the exact check at an ``x``
    that is moved: every label is then decided at the moved point itself.

    ``x`` is a sequence of rationals (``Fraction``, ``int``, exact strings), a
    float array (taken at its exact value) or a :class:`latentcheck.counterexamples.fast.QVec`.
    ``encoder`` may be a plain callable: then no exact re-check exists and a
    float zero is at best ``float-only``.
    """
    q = as_qvec(x)
    if q.is_zero:
        return Certification("outside", None, None, "x is the zero vector, which P3 does not constrain")
    if domain is not None and not domain_contains(domain, q):
        return Certification("outside", None, None, f"x is not in the domain {domain.label}")
    if not isinstance(encoder, Encoder):
        fz, rt = _float_zero or (_float_is_zero_q(encoder, q, dtype) if dtype is not None else (None, None))
        moved = _at_float_point(encoder, q, domain, dtype, rt) if fz and move_to_dtype else None
        if moved is not None:
            return moved
        if fz:
            return Certification(FLOAT_ONLY, None, True, f"enc(x) is exactly 0 in {dtype} under {rt}; a plain callable "
                                 "has no real-valued definition to re-check outside floating point", runtime=rt,
                                 notes=_input_note(q, dtype))
        return Certification("refuted", None, fz, f"enc(x) is nonzero in {dtype}")
    if move_to_dtype and nonvanishing and dtype is not None and _float_zero is None:
        fz, rt = _float_is_zero_q(encoder, q, dtype)  # by T2 x is no real zero: only its float value matters here
        moved = _at_float_point(encoder, q, domain, dtype, rt) if fz else None
        if moved is not None:
            return moved
        _float_zero = (fz, rt)
    chk = check_zero_fast(encoder, q)
    if chk is None:  # outside the vectorised path (e.g. a transcendental hidden activation): the reference check
        chk = check_zero(encoder, q.fractions())
    if chk.violates is True:
        return Certification(chk.certified, chk, None, chk.detail, _margin(chk.margin))
    fz, rt = _float_zero or (_float_is_zero_q(encoder, q, dtype) if dtype is not None else (None, None))
    if not fz:
        return Certification("refuted" if chk.violates is False else UNDECIDED, chk, fz, chk.detail)
    moved = _at_float_point(encoder, q, domain, dtype, rt) if move_to_dtype and _float_zero is None else None
    if moved is not None:
        return moved
    notes = _input_note(q, dtype) if _float_zero is None else ()  # a moved point is a dtype vector
    if chk.violates is None:
        return Certification(UNDECIDED, chk, True, f"enc(x) is exactly 0 in {dtype} under {rt}; the real value could not "
                             f"be decided ({chk.detail})", runtime=rt, notes=notes)
    z = ieee_encode(encoder, q.floats()[None, :], dtype)
    zi = None if z is None else bool(np.all(z == 0))
    big = "" if z is None else f"nonzero, max |enc(x)| = {float(np.max(np.abs(z))):.3g}"
    ieee, note = _ieee_verdict(zi, "the zero", dtype, rt, big)
    return Certification(FLOAT_ONLY, chk, True, f"enc(x) is exactly 0 in {dtype} under {rt}, but the real value is "
                         f"certified nonzero ({chk.certified}: {chk.detail})", runtime=rt, ieee_reproduces=ieee,
                         notes=notes + (note,))


def _float_is_zero_q(encoder: Any, q: QVec, dtype: str) -> tuple[bool, str]:
    z, rt = _float_encode_rt(encoder, q.floats()[None, :], dtype)
    return bool(np.all(z[0] == 0)), rt


def _margin(text: str | None) -> str | None:
    """A margin string as a plain number (the lower end when an interval was printed)."""
    if text is None:
        return None
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1].split(",")[0].strip()
    return t


def certify_flip(encoder: Any, x: Sequence[Any], u: Sequence[Any], v: Sequence[Any], *, domain: Any = None,
                 dtype: str | None = "float32") -> Certification:
    """Certify a P2 candidate ``(x, u, v)``: ``<x,u> <= <x,v>`` and ``<enc x,enc u> > <enc x,enc v>``.

    Vectors as in :func:`certify_zero` (rationals, float arrays or ``QVec``).
    """
    qs = [as_qvec(vec) for vec in (x, u, v)]
    if domain is not None and not all(domain_contains(domain, q) for q in qs):
        return Certification("outside", None, None, f"a vector of the triple is not in the domain {domain.label}")
    if not isinstance(encoder, Encoder):
        fv, rt = None, None
        if dtype is not None:
            prem, flip = float_flip_margin(encoder, *(q.floats() for q in qs), dtype)
            fv, rt = bool(prem <= 0 and flip > 0), _float_encode_rt(encoder, qs[0].floats()[None, :], dtype)[1]
        exact_prem = qs[0].dot(qs[1]) - qs[0].dot(qs[2])
        if fv and exact_prem <= 0:
            return Certification(FLOAT_ONLY, None, True, f"an ordering flip in {dtype} under {rt} (premise exact); a plain "
                                 "callable has no real-valued definition to re-check outside floating point", runtime=rt)
        return Certification("refuted", None, fv, "no flip")
    chk = check_flip_fast(encoder, *qs)
    if chk is None:  # outside the vectorised path: the reference check
        chk = check_flip(encoder, *(q.fractions() for q in qs))
    if chk.violates is True:
        return Certification(chk.certified, chk, None, chk.detail, _margin(chk.margin))
    fv = None
    if dtype is not None:
        prem, flip = float_flip_margin(encoder, *(q.floats() for q in qs), dtype)
        fv = bool(prem <= 0 and flip > 0)
    if not fv:
        return Certification("refuted" if chk.violates is False else UNDECIDED, chk, fv, chk.detail)
    rt = xla_runtime()
    notes = tuple(n for q in qs for n in _input_note(q, dtype))[:1]
    if chk.violates is None:
        return Certification(UNDECIDED, chk, True, f"an ordering flip in {dtype} under {rt}; the real values could not be "
                             f"decided ({chk.detail})", runtime=rt, notes=notes)
    ieee_flip = _ieee_flip(encoder, [q.floats() for q in qs], dtype)
    ieee, note = _ieee_verdict(ieee_flip, "the flip", dtype, rt, "no flip")
    return Certification(FLOAT_ONLY, chk, True, f"an ordering flip in {dtype} under {rt}, but the real values show no "
                         f"flip ({chk.detail})", runtime=rt, ieee_reproduces=ieee, notes=notes + (note,))


def _ieee_flip(encoder: Encoder, vecs: list[np.ndarray], dtype: str) -> bool | None:
    """Whether IEEE NumPy in ``dtype`` shows the flip (``None`` when NumPy cannot run the encoder)."""
    z = ieee_encode(encoder, np.stack(vecs), dtype)
    if z is None:
        return None
    np_dtype = _np_dtype(dtype)
    zz, p = z.astype(np_dtype), np.stack(vecs).astype(np_dtype)
    with np.errstate(all="ignore"):
        prem = float(np.dot(p[0], p[1]) - np.dot(p[0], p[2]))
        flip = float(np.dot(zz[0], zz[1]) - np.dot(zz[0], zz[2]))
    return bool(prem <= 0 and flip > 0)


def to_counterexample(cert: Certification, property: str, vectors: Sequence[Sequence[Any]], *, dtype: str | None,
                      domain: str, origin: str = "", notes: Sequence[str] = ()) -> Counterexample | None:
    """A :class:`Counterexample` for a reportable certification (``None`` otherwise)."""
    if not cert.reportable:
        return None
    margin = cert.margin if cert.certified else None
    if cert.vectors is not None:
        vectors = cert.vectors
    return Counterexample.from_vectors(property, vectors, margin=margin, certified=cert.status, dtype=dtype,
                                       domain=domain, detail=cert.detail, origin=origin,
                                       notes=tuple(notes) + tuple(cert.notes), runtime=cert.runtime,
                                       ieee_reproduces=cert.ieee_reproduces)


def certify_raw(prop: Any, encoder: Any, vectors: Sequence[Sequence[Any]], *, domain: Any = None,
               dtype: str | None = "float32", **options: Any) -> Certification:
    """Certify a candidate witness of ``prop`` for the encoder as it stands (no input normalisation: use
    :func:`latentcheck.counterexamples.candidate.certify_candidate`, which checks ``enc(N(x))``).

    Dispatches, by the property's class, to the certifier registered for it (``@certifier``, see
    :mod:`latentcheck.counterexamples._certifier`: :func:`certify_zero` for P3, :func:`certify_flip` for P2),
    else to :func:`certify_point`, the generic one built on ``prop.check`` (exact / interval) and
    ``prop.float_violates``.
    """
    special = certifier_for(prop)
    if special is not None:
        return special(prop, encoder, vectors, domain=domain, dtype=dtype, **options)
    return certify_point(prop, encoder, vectors, domain=domain, dtype=dtype)


def certify_point(prop: Any, encoder: Any, vectors: Sequence[Sequence[Any]], *, domain: Any = None,
                  dtype: str | None = "float32") -> Certification:
    """The generic certifier: membership exactly, ``prop.check`` outside floating point, ``prop.float_violates``
    on the float computation in ``dtype``; labels as :func:`certify_zero` gives them."""
    qs = [as_qvec(v) for v in vectors]
    if domain is not None and not all(domain_contains(domain, q) for q in qs):
        return Certification("outside", None, None, f"a witness vector is not in the domain {domain.label}")
    chk = prop.check(encoder, [q.fractions() for q in qs]) if isinstance(encoder, Encoder) else None
    if chk is not None and chk.violates is True:
        return Certification(chk.certified, chk, None, chk.detail, _margin(chk.margin))
    fv, rt = _float_violates(prop, encoder, qs, dtype) if dtype is not None else (None, None)
    if not fv:
        return Certification("refuted" if chk is None or chk.violates is False else UNDECIDED, chk, fv,
                             "no violation" if chk is None else chk.detail)
    notes = tuple(n for q in qs for n in _input_note(q, dtype))[:1]
    if chk is None:
        return Certification(FLOAT_ONLY, None, True, f"a violation of {prop.id} in {dtype} under {rt}; a plain callable "
                             "has no real-valued definition to re-check outside floating point", runtime=rt, notes=notes)
    if chk.violates is None:
        return Certification(UNDECIDED, chk, True, f"a violation of {prop.id} in {dtype} under {rt}; the real value could "
                             f"not be decided ({chk.detail})", runtime=rt, notes=notes)
    return Certification(FLOAT_ONLY, chk, True, f"a violation of {prop.id} in {dtype} under {rt}, but the real value "
                         f"shows none ({chk.detail})", runtime=rt, notes=notes)


def _float_violates(prop: Any, encoder: Any, qs: Sequence[QVec], dtype: str) -> tuple[bool, str]:
    """Whether the float computation in ``dtype`` shows ``prop``'s violation at ``qs``, and its runtime."""
    np_dtype = _np_dtype(dtype)
    pts = np.stack([q.floats() for q in qs])
    z, rt = _float_encode_rt(encoder, pts, dtype)
    with np.errstate(all="ignore"):
        p, zz = pts.astype(np_dtype), z.astype(np_dtype)
    if not np.all(np.isfinite(p.astype(np.float64))):
        return False, rt
    return prop.float_violates(list(p), list(zz)), rt



@certifier(NonZero)
def certify_p3(prop: Any, encoder: Any, vectors: Sequence[Sequence[Any]], **options: Any) -> Certification:
    """P3's certifier: :func:`certify_zero` at the one point."""
    return certify_zero(encoder, *vectors, **options)


@certifier(Ordering)
def certify_p2(prop: Any, encoder: Any, vectors: Sequence[Sequence[Any]], **options: Any) -> Certification:
    """P2's certifier: :func:`certify_flip` at the triple."""
    return certify_flip(encoder, *vectors, **options)
