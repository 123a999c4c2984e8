"""sympy, imported on first use, and the one real variable ``t`` of every activation.

Importing :mod:`latentcheck.theorems` does not import sympy (about 0.25 s of CPU): ``latentcheck verify`` on a
catalogue piecewise-linear encoder never needs it (the catalogue's PL forms are data,
:mod:`latentcheck.theorems.pl_catalog`). The modules of ``theorems/`` reach sympy through :data:`sp`, which
imports it on its first attribute use, and the variable through :func:`t_symbol`; ``T`` (``symbols.T``,
``expr.T``, ``latentcheck.theorems.T``, ``latentcheck.T``) is the same symbol, built on first access.
"""

from __future__ import annotations

import functools
import sys
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
        value = getattr(_sympy(), name)
        self.__dict__[name] = value
        return value

    def __repr__(self) -> str:
        return "<sympy, imported on first use>"


def _sympy() -> Any:
    """The sympy module, imported now if it was not (``lazy_loader.load``, then one attribute use runs it).

    An import that fails or is interrupted part way (Ctrl-C, a ``time_limit`` alarm) leaves no half-run sympy in
    ``sys.modules`` (Python 3.11's lazy loader would keep one, which has lost most of its names): it is removed,
    as a failed ``import`` removes it, and the next use imports sympy again."""
    module = lazy.load("sympy")
    try:
        module.__name__  # any attribute runs the lazy import (nothing to do once sympy is loaded)
    except BaseException:
        if sys.modules.get("sympy") is module:
            del sys.modules["sympy"]
        raise
    return module


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
