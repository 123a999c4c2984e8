"""Certification: decide a float candidate outside floating point, then label it.

The single source of truth is :func:`theorems.check_zero` /
:func:`theorems.check_flip` (exact rationals for piecewise-linear and
polynomial encoders, interval arithmetic otherwise). This module adds the
domain check and the float re-evaluation in the search's dtype, and turns the
outcome into one label:

=============  ==============================================================
status         meaning
=============  ==============================================================
``exact``      violation certified in exact rational arithmetic
``interval``   violation certified by interval arithmetic
``float-only`` the float computation in ``dtype`` violates the property, but
               the real value does not (or could not be decided): a rounding
               hazard of that dtype, never reported as a real counterexample
``refuted``    neither the real nor the float value violates the property
``undecided``  the enclosure was too wide and the float value does not violate
``outside``    the point is not in the domain (or is the zero vector for P3)
=============  ==============================================================
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from counterexamples._fast import QVec, as_qvec, check_flip_fast, check_zero_fast, domain_contains
from counterexamples.types import EXACT, FLOAT_ONLY, INTERVAL, Counterexample
from theorems.encoder import Encoder
from theorems.properties import PointCheck, check_flip, check_zero

__all__ = ["Certification", "certify_zero", "certify_flip", "float_encode", "to_counterexample"]


@dataclass(frozen=True)
class Certification:
    """The outcome of certifying one candidate.

    Attributes:
        status: ``exact``, ``interval``, ``float-only``, ``refuted``, ``undecided`` or ``outside``.
        check: the :class:`theorems.PointCheck` (``None`` when no exact check was possible).
        float_violates: whether the float computation in ``dtype`` shows the violation.
        detail: one sentence for people.
        margin: the violation's size as an exact string, when certified.
    """

    status: str
    check: PointCheck | None
    float_violates: bool | None
    detail: str
    margin: str | None = None

    @property
    def certified(self) -> bool:
        return self.status in (EXACT, INTERVAL)

    @property
    def reportable(self) -> bool:
        """Certified, or a float-only hazard worth reporting as such."""
        return self.status in (EXACT, INTERVAL, FLOAT_ONLY)


_PARAMS: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
_COMPILED: dict[tuple, Callable] = {}


def _forward_fn(encoder: Encoder, dtype: str) -> tuple[Callable, Any]:
    """A jitted ``f(params, X)`` shared by every encoder of the same architecture and dtype, and this encoder's params.

    The same operations as ``jax.vmap(encoder.jax_fn(dtype))`` (weights cast to
    ``dtype`` on the host, ``s(W @ h + b).astype(dtype)`` per layer), with the
    weights passed as arguments so that a new encoder of a known shape needs no
    new compilation.
    """
    import jax
    import jax.numpy as jnp

    key = (dtype,) + tuple((layer.W.shape, layer.activation.name, layer.activation.expr, layer.activation.jax_name,
                            layer.activation.jax_kwargs) for layer in encoder.layers)
    fn = _COMPILED.get(key)
    if fn is None:
        fns = [layer.activation.jax_fn() for layer in encoder.layers]

        def forward(params: Any, x: Any) -> Any:
            h = jnp.asarray(x, dtype=dtype)
            for (W, b), f in zip(params, fns):
                h = f(W @ h + b).astype(dtype)
            return h

        fn = _COMPILED[key] = jax.jit(jax.vmap(forward, in_axes=(None, 0)))
    per = _PARAMS.setdefault(encoder, {})
    if dtype not in per:
        per[dtype] = [(jnp.asarray(layer.W, dtype=dtype), jnp.asarray(layer.b, dtype=dtype)) for layer in encoder.layers]
    return fn, per[dtype]


def float_encode(encoder: "Encoder | Callable[[Any], Any]", points: np.ndarray, dtype: str) -> np.ndarray:
    """Evaluate the encoder in ``dtype`` on a batch ``(N, n)`` as the user's JAX code would.

    For an :class:`~theorems.Encoder` this is ``jax.vmap(encoder.jax_fn(dtype))``
    (jitted once per architecture and dtype, the weights passed as arguments);
    for a plain callable it is the callable applied to a ``dtype`` array
    (batched through ``jax.vmap`` when it is JAX-traceable, row by row
    otherwise). Returns a float64 copy of the ``dtype`` results.
    """
    import jax
    import jax.numpy as jnp

    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[None, :]
    x64 = dtype == "float64"
    if isinstance(encoder, Encoder):
        with jax.enable_x64(x64):
            fn, params = _forward_fn(encoder, dtype)
            out = fn(params, jnp.asarray(pts, dtype=dtype))
            return np.asarray(out).astype(np.float64)
    with jax.enable_x64(x64):
        try:
            out = jax.vmap(encoder)(jnp.asarray(pts, dtype=dtype))
            return np.asarray(out).astype(np.float64)
        except Exception:  # not traceable: evaluate row by row with numpy inputs
            np_dtype = _np_dtype(dtype)
            return np.stack([np.asarray(encoder(p.astype(np_dtype)), dtype=np.float64) for p in pts])


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


def certify_zero(encoder: Any, x: Sequence[Any], *, domain: Any = None, dtype: str | None = "float32") -> Certification:
    """Certify a P3 candidate: ``x != 0`` in the domain and ``enc(x) = 0``.

    ``x`` is a sequence of rationals (``Fraction``, ``int``, exact strings), a
    float array (taken at its exact value) or a :class:`counterexamples._fast.QVec`.
    ``encoder`` may be a plain callable: then no exact re-check exists and a
    float zero is at best ``float-only``.
    """
    q = as_qvec(x)
    if q.is_zero:
        return Certification("outside", None, None, "x is the zero vector, which P3 does not constrain")
    if domain is not None and not domain_contains(domain, q):
        return Certification("outside", None, None, f"x is not in the domain {domain.label}")
    if not isinstance(encoder, Encoder):
        fz = _float_is_zero_q(encoder, q, dtype) if dtype is not None else None
        if fz:
            return Certification(FLOAT_ONLY, None, True, f"enc(x) is exactly 0 in {dtype}; a plain callable cannot be re-checked outside floating point")
        return Certification("refuted", None, fz, f"enc(x) is nonzero in {dtype}")
    chk = check_zero_fast(encoder, q)
    if chk is None:  # outside the vectorised path (e.g. a transcendental hidden activation): the reference check
        chk = check_zero(encoder, q.fractions())
    if chk.violates is True:
        return Certification(chk.certified, chk, None, chk.detail, _margin(chk.margin))
    fz = _float_is_zero_q(encoder, q, dtype) if dtype is not None else None
    if fz:
        real = ("the real value is certified nonzero (" + chk.certified + ": " + chk.detail + ")") if chk.violates is False \
            else "the real value could not be decided"
        return Certification(FLOAT_ONLY, chk, True, f"enc(x) rounds to exactly 0 in {dtype} but {real}")
    return Certification("refuted" if chk.violates is False else "undecided", chk, fz, chk.detail)


def _float_is_zero_q(encoder: Any, q: QVec, dtype: str) -> bool:
    z = float_encode(encoder, q.floats()[None, :], dtype)[0]
    return bool(np.all(z == 0))


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
        fv = None
        if dtype is not None:
            prem, flip = float_flip_margin(encoder, *(q.floats() for q in qs), dtype)
            fv = bool(prem <= 0 and flip > 0)
        exact_prem = qs[0].dot(qs[1]) - qs[0].dot(qs[2])
        if fv and exact_prem <= 0:
            return Certification(FLOAT_ONLY, None, True, f"an ordering flip in {dtype} (premise exact); a plain callable cannot be re-checked outside floating point")
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
    if fv:
        real = ("the real values show no flip (" + chk.detail + ")") if chk.violates is False else "the real values could not be decided"
        return Certification(FLOAT_ONLY, chk, True, f"an ordering flip in {dtype}, but {real}")
    return Certification("refuted" if chk.violates is False else "undecided", chk, fv, chk.detail)


def to_counterexample(cert: Certification, property: str, vectors: Sequence[Sequence[Any]], *, dtype: str | None,
                      domain: str, origin: str = "", notes: Sequence[str] = ()) -> Counterexample | None:
    """A :class:`Counterexample` for a reportable certification (``None`` otherwise)."""
    if not cert.reportable:
        return None
    margin = cert.margin if cert.certified else None
    return Counterexample.from_vectors(property, vectors, margin=margin, certified=cert.status, dtype=dtype,
                                       domain=domain, detail=cert.detail, origin=origin, notes=tuple(notes))
