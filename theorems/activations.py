"""Activations as mathematics: a sympy expression in ``t`` plus float functions.

An :class:`Activation` is immutable data. Its class (relu-like, tanh-like,
non-vanishing) is decided from the expression by :func:`latentcheck.theorems.classify`,
never from its name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import sympy as sp

from .errors import ExpressionSyntaxError, UnknownActivation, UnsafeExpression
from .expr import T, parse_expression
from .lower import exact_value, interval_value, is_rational_function_of_t, to_array_fn

__all__ = ["Activation", "CATALOG", "get_activation", "catalog_names"]


@dataclass(frozen=True)
class Activation:
    """A latent activation ``s: R -> R``.

    Attributes:
        name: catalog name, or the expression text for user activations.
        expr: the sympy expression in :data:`latentcheck.theorems.T`.
        jax_name: the ``jax.nn`` / ``jax.numpy`` function used for float
            evaluation of catalog entries (``None``: evaluate ``expr``).
    """

    name: str
    expr: sp.Expr
    jax_name: str | None = None
    jax_kwargs: tuple = field(default=())

    @property
    def is_exact(self) -> bool:
        """True when rational inputs give rational outputs (piecewise-linear, polynomial)."""
        return _is_exact(self.expr)

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
        return exact_value(self.expr, Fraction(q))

    def interval(self, x: Any) -> Any:
        """An mpmath interval enclosing ``s`` over the interval ``x``."""
        return interval_value(self.expr, x)

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
    return {
        name: Activation(name=name, expr=parse_expression(text), jax_name=jax_name, jax_kwargs=kwargs)
        for name, (text, jax_name, kwargs) in _CATALOG_SPECS.items()
    }


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
    if not expr.has(T) and not expr.is_number:
        raise UnknownActivation(f"activation={spec!r} must be a formula in the variable t")
    if isinstance(expr, sp.Symbol) and expr != T:
        raise UnknownActivation(f"activation={spec!r} is unknown")
    return Activation(name=key, expr=expr)
