"""The piecewise-linear forms of the catalogue's piecewise-linear activations, as data (no sympy).

``latentcheck verify`` on a catalogue encoder reads its activations' PL forms here instead of deriving them
from sympy expressions (:func:`latentcheck.theorems.pl.derive_piecewise_linear`), so the verify path never
imports sympy (about 0.25 s of CPU per process, issue 19). :class:`latentcheck.theorems.activations.Activation`
evaluates a catalogue entry exactly with the same form (``exact``, ``is_exact``).

Soundness: each entry is what the derivation gives for the catalogue's expression text
(``activations._CATALOG_SPECS``); ``tests/theorems/test_activations.py`` derives every entry again from sympy,
checks equality, and checks that every piecewise-linear catalogue activation has an entry. The numbers are
written from the formulas, knot by knot.
"""

from __future__ import annotations

from fractions import Fraction as Q

from .pl_form import PLFunction

__all__ = ["CATALOG_PL"]

#: catalogue name -> its exact PL form (knots, values at the knots, slopes left and right, offset without knots).
CATALOG_PL: dict[str, PLFunction] = {
    # Max(0, t): 0 left of 0, slope 1 right of it.
    "relu": PLFunction(knots=(Q(0),), values=(Q(0),), slope_left=Q(0), slope_right=Q(1)),
    # Max(t, t/100): slope 1/100 left of 0, 1 right of it.
    "leaky_relu": PLFunction(knots=(Q(0),), values=(Q(0),), slope_left=Q(1, 100), slope_right=Q(1)),
    # t: no knot, s(t) = 1 t + 0.
    "identity": PLFunction(knots=(), values=(), slope_left=Q(1), slope_right=Q(1), offset=Q(0)),
    # Max(0, Min(1, t/6 + 1/2)): 0 up to t = -3, 1 from t = 3.
    "hard_sigmoid": PLFunction(knots=(Q(-3), Q(3)), values=(Q(0), Q(1)), slope_left=Q(0), slope_right=Q(0)),
    # Min(Max(0, t), 6): 0 up to t = 0, 6 from t = 6.
    "relu6": PLFunction(knots=(Q(0), Q(6)), values=(Q(0), Q(6)), slope_left=Q(0), slope_right=Q(0)),
    # Max(-1, Min(1, t)): -1 up to t = -1, 1 from t = 1.
    "hard_tanh": PLFunction(knots=(Q(-1), Q(1)), values=(Q(-1), Q(1)), slope_left=Q(0), slope_right=Q(0)),
}
