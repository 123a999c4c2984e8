"""Activations as mathematics: a sympy expression in ``t`` plus float functions.

An :class:`Activation` is immutable data. Its class (relu-like, tanh-like,
non-vanishing) is decided from the expression by :func:`latentcheck.theorems.classify`,
never from its name.

A catalogue activation keeps its expression as text and parses it (importing sympy) when ``expr`` is first
used; its exact values (``exact``, ``is_exact``) come from its piecewise-linear form when it has one
(:mod:`latentcheck.theorems.pl_catalog`), so ``latentcheck verify`` on a catalogue encoder never imports sympy.
"""

from __future__ import annotations

import functools
from dataclasses import FrozenInstanceError
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from .errors import ExpressionSyntaxError, UnknownActivation, UnsafeExpression
from .expr import parse_expression
from .lower import exact_value, interval_value, is_rational_function_of_t, to_array_fn
from .pl_catalog import CATALOG_PL
from .symbols import sp, t_symbol

__all__ = ["Activation", "CATALOG", "get_activation", "catalog_names"]


class Activation:
    """A latent activation ``s: R -> R`` (immutable; equal when name, expression and JAX function are).

    Attributes:
        name: catalog name, or the expression text for user activations.
        expr: the sympy expression in :data:`latentcheck.theorems.T` (a catalogue entry parses its text on
            first use).
        jax_name: the ``jax.nn`` / ``jax.numpy`` function used for float
            evaluation of catalog entries (``None``: evaluate ``expr``).
        jax_kwargs: keyword arguments of ``jax_name``, as ``(name, value)`` pairs.
    """

    def __init__(self, name: str, expr: Any, jax_name: str | None = None, jax_kwargs: tuple = ()) -> None:
        for attr, value in (("name", name), ("_expr", expr), ("_text", None), ("jax_name", jax_name),
                            ("jax_kwargs", jax_kwargs)):
            object.__setattr__(self, attr, value)

    @classmethod
    def _catalog_entry(cls, name: str) -> "Activation":
        """The catalogue's ``name``: its expression text is parsed on first use of ``expr``."""
        text, jax_name, kwargs = _CATALOG_SPECS[name]
        act = cls(name, None, jax_name, kwargs)
        object.__setattr__(act, "_text", text)
        return act

    @property
    def expr(self) -> Any:
        """The sympy expression in ``t`` (a catalogue entry's text is parsed, and sympy imported, on first use)."""
        if self._expr is None and self._text is not None:
            object.__setattr__(self, "_expr", parse_expression(self._text))
        return self._expr

    @property
    def catalog_name(self) -> str | None:
        """The catalogue name when this is the catalogue's entry (built from its text), else ``None`` (a user
        activation, even one named like a catalogue entry)."""
        return self.name if self._text is not None and _CATALOG_SPECS[self.name][0] == self._text else None

    @property
    def is_exact(self) -> bool:
        """True when rational inputs give rational outputs (piecewise-linear, polynomial)."""
        return self.catalog_name in CATALOG_PL or _is_exact(self.expr)

    def numpy(self, x: np.ndarray) -> np.ndarray:
        """Float evaluation with numpy (any float dtype; float64 recommended)."""
        x = np.asarray(x)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            return _numpy_fn(self.expr)(x)

    def jax_fn(self) -> Callable[[Any], Any]:
        """The JAX function (imports JAX on first use)."""
        return _jax_fn(self.name, self.expr, self.jax_name, self.jax_kwargs)

    def exact(self, q: Fraction) -> Fraction:
        """Exact rational value at a rational point; :class:`NotExact` otherwise."""
        pl = CATALOG_PL.get(self.catalog_name)
        if pl is not None:  # the catalogue's PL form: the same values as the expression's (tests check the table)
            return pl(Fraction(q))
        return exact_value(self.expr, Fraction(q))

    def interval(self, x: Any) -> Any:
        """An mpmath interval enclosing ``s`` over the interval ``x``."""
        return interval_value(self.expr, x)

    def _key(self) -> tuple:
        return (self.name, self.jax_name, self.jax_kwargs)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        if self._key() != other._key():
            return False
        if self._text is not None and self._text == other._text:  # one text parses to one expression
            return True
        return bool(self.expr == other.expr)

    def __hash__(self) -> int:  # equal activations have equal keys; the expression is not needed for the hash
        return hash(self._key())

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}: an Activation is immutable")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}: an Activation is immutable")

    def __repr__(self) -> str:
        return (f"Activation(name={self.name!r}, expr={self.expr!r}, jax_name={self.jax_name!r}, "
                f"jax_kwargs={self.jax_kwargs!r})")

    def __str__(self) -> str:
        return self.name


@functools.lru_cache(maxsize=256)
def _is_exact(expr: sp.Expr) -> bool:
    return is_rational_function_of_t(expr)


@functools.lru_cache(maxsize=256)
def _numpy_fn(expr: sp.Expr) -> Callable:
    return to_array_fn(expr, np)


@functools.lru_cache(maxsize=256)
def _jax_fn(name: str, expr: sp.Expr, jax_name: str | None, jax_kwargs: tuple) -> Callable:
    import jax
    import jax.numpy as jnp
    import jax.scipy.special as jss

    if jax_name is not None:
        module, _, attr = jax_name.rpartition(".")
        base = {"jax.nn": jax.nn, "jnp": jnp}[module]
        fn = getattr(base, attr)
        kwargs = dict(jax_kwargs)
        return functools.partial(fn, **kwargs) if kwargs else fn

    class _JaxNamespace:
        def __getattr__(self, item: str) -> Any:
            if item == "erf":
                return jss.erf
            return getattr(jnp, item)

    return to_array_fn(expr, _JaxNamespace())


# name -> (expression text, JAX function, its keyword arguments)
_CATALOG_SPECS: dict[str, tuple[str, str | None, tuple]] = {
    "relu": ("Max(0, t)", "jax.nn.relu", ()),
    "leaky_relu": ("Max(t, t/100)", "jax.nn.leaky_relu", (("negative_slope", 0.01),)),
    "elu": ("Max(t, 0) + Min(exp(t) - 1, 0)", "jax.nn.elu", ()),
    "gelu": ("t/2*(1 + erf(t/sqrt(2)))", "jax.nn.gelu", (("approximate", False),)),
    "silu": ("t/(1 + exp(-t))", "jax.nn.silu", ()),
    "tanh": ("tanh(t)", "jnp.tanh", ()),
    "identity": ("t", None, ()),
    "sigmoid": ("1/(1 + exp(-t))", "jax.nn.sigmoid", ()),
    "softplus": ("log(1 + exp(t))", "jax.nn.softplus", ()),
    "hard_sigmoid": ("Max(0, Min(1, t/6 + 1/2))", "jax.nn.hard_sigmoid", ()),
    "softsign": ("t/(1 + Abs(t))", "jax.nn.soft_sign", ()),
    "exp": ("exp(t)", "jnp.exp", ()),
    "relu6": ("Min(Max(0, t), 6)", "jax.nn.relu6", ()),
    "hard_tanh": ("Max(-1, Min(1, t))", "jax.nn.hard_tanh", ()),
    "erf": ("erf(t)", None, ()),
}


@functools.lru_cache(maxsize=None)
def _catalog() -> dict[str, Activation]:
    return {name: Activation._catalog_entry(name) for name in _CATALOG_SPECS}


def catalog_names() -> list[str]:
    """Names of the catalog activations."""
    return list(_CATALOG_SPECS)


class _Catalog:
    """Read-only mapping view of the catalog (built lazily)."""

    def __getitem__(self, name: str) -> Activation:
        return _catalog()[name]

    def __iter__(self):
        return iter(_CATALOG_SPECS)

    def __len__(self) -> int:
        return len(_CATALOG_SPECS)

    def __contains__(self, name: object) -> bool:
        return name in _CATALOG_SPECS

    def items(self):
        return _catalog().items()

    def values(self):
        return _catalog().values()

    def keys(self):
        return _CATALOG_SPECS.keys()


#: The catalog: name -> :class:`Activation`.
CATALOG = _Catalog()


def get_activation(spec: "str | Activation") -> Activation:
    """A catalog activation by name, or a user activation from an expression in ``t``.

    Example:
        >>> get_activation("sigmoid").expr
        1/(1 + exp(-t))
        >>> get_activation("Max(0, t - 1)").name
        'Max(0, t - 1)'

    Raises:
        UnknownActivation: ``spec`` is neither a catalog name nor a formula in ``t``.
        UnsafeExpression: the formula uses something the restricted parser refuses.
    """
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str):
        raise UnknownActivation(f"activation={spec!r} must be a catalog name or a formula in t")
    key = spec.strip()
    if key in _CATALOG_SPECS:
        return _catalog()[key]
    if key.lower().replace("-", "_") in _CATALOG_SPECS:
        return _catalog()[key.lower().replace("-", "_")]
    if key.isidentifier() and key not in ("t", "pi", "E"):
        raise UnknownActivation(
            f"activation={spec!r} is not in the catalog; use one of {', '.join(_CATALOG_SPECS)} "
            "or a formula in t such as 'Max(0, t - 1)'"
        )
    try:
        expr = parse_expression(key)
    except UnsafeExpression:
        raise
    except ExpressionSyntaxError as exc:
        raise UnknownActivation(
            f"activation={spec!r} is not in the catalog ({', '.join(_CATALOG_SPECS)}) "
            f"and not a formula in t ({exc})"
        ) from None
    if not expr.has(t_symbol()) and not expr.is_number:
        raise UnknownActivation(f"activation={spec!r} must be a formula in the variable t")
    if isinstance(expr, sp.Symbol) and expr != t_symbol():
        raise UnknownActivation(f"activation={spec!r} is unknown")
    return Activation(name=key, expr=expr)
