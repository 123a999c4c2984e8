"""The one real variable ``t`` of every activation (``expr`` parses into it, ``lower`` evaluates it)."""

from __future__ import annotations

import sympy as sp

__all__ = ["T"]

#: The one real variable of every activation.
T = sp.Symbol("t", real=True)
