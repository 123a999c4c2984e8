"""The assertions' arguments, checked and turned into what :func:`latentcheck.checkers.falsify` takes.

Nothing here searches or certifies: an encoder argument becomes an
``Encoder`` or a one-input callable ``x[n] -> z[m]`` (falsify's black-box
form), a domain argument becomes a :class:`latentcheck.theorems.domains.Domain`
through :func:`latentcheck.theorems.domains.parse_domain`, and seed and budget
default to the pytest session's (:mod:`latentcheck.checkers.testing._session`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import _session
from ...theorems.encoder import Encoder
from ...theorems.errors import InvalidArgument, LatentcheckError
from ...counterexamples.certify import float_encode
from ...theorems.domains import Domain, parse_domain
from ..falsify import with_inputs

__all__ = ["Subject", "subject", "dtype_name", "domain_of", "seed_and_budget", "DTYPES"]

DTYPES = ("float16", "bfloat16", "float32", "float64")


@dataclass(frozen=True)
class Subject:
    """The encoder under test as falsify takes it.

    Attributes:
        fn: an ``Encoder``, or a callable mapping one input ``x[n]`` to ``z[m]``.
        n: input dimension.
        m: latent dimension.
        encoder: the ``Encoder`` when one was given (certifiable), else None.
    """

    fn: Any
    n: int
    m: int
    encoder: Encoder | None

    @property
    def kind(self) -> str:
        return "Encoder" if self.encoder is not None else "callable"


def dtype_name(dtype: Any) -> str:
    """``'float32'`` from ``'float32'``, ``np.float32``, ``jnp.float32`` or a dtype object."""
    name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or str(dtype)
    name = str(name).replace("jnp.", "").replace("np.", "")
    if name not in DTYPES:
        raise InvalidArgument(f"dtype={dtype!r} must be one of {', '.join(DTYPES)}")
    return name


def _one_input(fn: Callable, batched: bool) -> Callable:
    """A callable of one input ``x[n]``; a batched ``X[B, n] -> Z[B, m]`` is called on ``x[None]``."""
    if not batched:
        return fn

    def single(x: Any) -> Any:
        return fn(x[None, :])[0]

    single.__name__ = getattr(fn, "__name__", type(fn).__name__)
    return single


def subject(encoder_fn: Any, n: Any, dtype: str, batched: bool = False, input_normalise: Any = None) -> Subject:
    """Check the encoder argument; a callable is called once on zeros to learn ``m`` and to fail early.

    ``input_normalise`` (``none``, ``l2``, ``divide:K``) overrides an Encoder's ``inputs.normalise`` (what its
    file records) and wraps a callable as ``fn(N(x))``: the function checked is the one the model serves."""
    if input_normalise is not None:

        if batched and not isinstance(encoder_fn, Encoder):
            raise InvalidArgument("input_normalise with batched=True is not supported; normalise inside the callable")
        encoder_fn = with_inputs(encoder_fn, str(input_normalise))
    if isinstance(encoder_fn, Encoder):
        if n is not None and int(n) != encoder_fn.n:
            raise InvalidArgument(f"n={n!r} but the Encoder takes n={encoder_fn.n}; leave n out for an Encoder")
        return Subject(encoder_fn, encoder_fn.n, encoder_fn.m, encoder_fn)
    if not callable(encoder_fn):
        raise InvalidArgument(
            f"encoder_fn of type {type(encoder_fn).__name__} must be a theorems.Encoder or a callable x[n] -> z[m] "
            "(a JAX, NumPy, Flax, Equinox or exported PyTorch encoder)"
        )
    if n is None:
        raise InvalidArgument("n=None: a plain callable needs the input dimension, e.g. assert_nonvanishing(encode, n=1682)")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
        raise InvalidArgument(f"n={n!r} must be a positive int (the encoder's input dimension)")
    fn = _one_input(encoder_fn, bool(batched))

    try:
        Z = float_encode(fn, np.zeros((2, int(n))), dtype)
    except Exception as exc:
        raise InvalidArgument(
            f"calling encoder_fn on inputs of shape ({int(n)},) failed with {type(exc).__name__}: {exc}; "
            "it must map one input x[n] to its code z[m] (or pass batched=True for x[B, n] -> z[B, m])"
        ) from exc
    if Z.ndim != 2 or Z.shape[0] != 2:
        raise InvalidArgument(f"encoder_fn returned shape {Z.shape[1:]} for one input; it must return a vector z[m]")
    return Subject(fn, int(n), int(Z.shape[1]), None)


def domain_of(domain: Any, n: int) -> Any:
    """A :class:`~latentcheck.theorems.domains.Domain`: a name or ``data:PATH`` (parse_domain), or a 2-D array of rows."""

    if isinstance(domain, (str, Domain)):
        try:
            dom = parse_domain(domain)
        except LatentcheckError as exc:
            raise type(exc)(f"{exc}; the assertions also take a 2-D array whose rows are the inputs (e.g. your rating matrix)") from None
    else:
        dom = Domain("data", rows=_rows(domain), source=f"array of {len(domain)} rows")
    dom.check_dimension(n)
    return dom


def _rows(domain: Any) -> np.ndarray:
    try:
        rows = np.array(domain, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"domain of type {type(domain).__name__} must be 'reals', 'nonneg', 'binary', 'sphere', 'data:PATH' or a 2-D numeric array of rows"
        ) from None
    if rows.ndim != 2 or rows.shape[0] == 0:
        raise InvalidArgument(f"domain has shape {rows.shape}; a data domain must be a 2-D array with one input per row")
    if not np.all(np.isfinite(rows)):
        raise InvalidArgument("domain holds NaN or infinite values; clean the data first")
    rows.setflags(write=False)
    return rows


def seed_and_budget(seed: Any, budget: Any) -> tuple[int, bool, float]:
    """``(seed used, whether it was given, budget in seconds)``; defaults come from the pytest session."""
    if seed is None:
        used, given = _session.seed_for(_session.current_nodeid()), False
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InvalidArgument(f"seed={seed!r} must be a nonnegative int")
        used, given = int(seed), True
    if budget is None:
        return used, given, _session.budget()
    try:
        b = float(budget)
    except (TypeError, ValueError):
        raise InvalidArgument(f"budget={budget!r} must be a number of seconds, e.g. budget=10") from None
    if not math.isfinite(b) or b <= 0:
        raise InvalidArgument(f"budget={budget!r} must be a positive number of seconds, e.g. budget=10")
    return used, given, b
