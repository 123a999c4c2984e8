"""sympy, imported on first use, and the one real variable ``t`` of every activation.

Importing :mod:`latentcheck.theorems` does not import sympy (about 0.25 s of CPU): ``latentcheck verify`` on a
catalogue piecewise-linear encoder never needs it (the catalogue's PL forms are data,
:mod:`latentcheck.theorems.pl_catalog`). The modules of ``theorems/`` reach sympy through :data:`sp`, which
imports it on its first attribute use, and the variable through :func:`t_symbol`; ``T`` (``symbols.T``,
``expr.T``, ``latentcheck.theorems.T``, ``latentcheck.T``) is the same symbol, built on first access.
"""

from __future__ import annotations

import functools
from typing import Any

import lazy_loader as lazy

__all__ = ["T", "sp", "t_symbol"]


class _Sympy:
    """The ``sympy`` module, imported when one of its names is first used (``sp.Symbol``, ``sp.Max``, ...).

    Unlike ``lazy_loader.load("sympy")`` on its own, nothing is put in ``sys.modules`` before that first use, so
    ``"sympy" in sys.modules`` tells whether sympy was imported. Each name is looked up once.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and inspect probe dunders: never import sympy for them
            raise AttributeError(name)
        value = getattr(lazy.load("sympy"), name)
        self.__dict__[name] = value
        return value

    def __repr__(self) -> str:
        return "<sympy, imported on first use>"


#: The sympy module, imported on first attribute use.
sp: Any = _Sympy()


@functools.lru_cache(maxsize=None)
def t_symbol() -> Any:
    """The one real variable of every activation (a sympy ``Symbol``; imports sympy on the first call)."""
    return sp.Symbol("t", real=True)


def __getattr__(name: str) -> Any:
    """``T``, the variable, built on first access (PEP 562)."""
    if name == "T":
        return t_symbol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
