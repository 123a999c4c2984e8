"""The verifier's piecewise-linear form: :mod:`latentcheck.theorems.pl`, the project's one PL form (re-exported)."""

from __future__ import annotations

from ...theorems.pl import NotPiecewiseLinear, PLFunction, piecewise_linear

__all__ = ["PLFunction", "piecewise_linear", "NotPiecewiseLinear"]
