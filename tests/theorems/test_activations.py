"""Activations: float (numpy, JAX), exact and interval evaluations agree; the catalogue's PL table is the
derivation from sympy, and a catalogue entry imports sympy only when its expression is used."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import FrozenInstanceError
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import iv

from latentcheck.theorems import (CATALOG, Activation, NotExact, UnknownActivation, UnsafeExpression, get_activation,
                                  parse_expression)
from latentcheck.theorems.lower import exact_value, is_rational_function_of_t
from latentcheck.theorems.pl import NotPiecewiseLinear, PLFunction, derive_piecewise_linear, piecewise_linear
from latentcheck.theorems.pl_catalog import CATALOG_PL


@pytest.mark.parametrize("name", list(CATALOG))
def test_numpy_and_jax_agree(name: str) -> None:
    import jax.numpy as jnp

    act = CATALOG[name]
    x = np.linspace(-6, 6, 49)
    ours = act.numpy(x)
    theirs = np.asarray(act.jax_fn()(jnp.asarray(x, dtype=jnp.float32)), dtype=np.float64)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(CATALOG))
def test_interval_encloses_float(name: str) -> None:
    act = CATALOG[name]
    for q in (Fraction(-7, 3), Fraction(0), Fraction(1, 5), Fraction(5, 2)):
        enclosure = act.interval(iv.mpf(q.numerator) / q.denominator)
        value = float(act.numpy(np.array([float(q)]))[0])
        assert float(enclosure.a) - 1e-12 <= value <= float(enclosure.b) + 1e-12


def test_exact_for_piecewise_linear_only() -> None:
    assert CATALOG["relu"].exact(Fraction(-3, 7)) == 0
    assert CATALOG["hard_sigmoid"].exact(Fraction(1)) == Fraction(1, 6) + Fraction(1, 2)
    assert CATALOG["tanh"].exact(Fraction(0)) == 0  # sympy knows tanh(0) = 0 exactly
    with pytest.raises(NotExact):
        CATALOG["sigmoid"].exact(Fraction(1))
    assert CATALOG["relu"].is_exact and not CATALOG["tanh"].is_exact


def test_user_expression_float() -> None:
    act = get_activation("Max(0, t - 1) + t**2")
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(act.numpy(x), np.maximum(0, x - 1) + x**2)


def test_unknown_names_and_unsafe_text() -> None:
    with pytest.raises(UnknownActivation) as info:
        get_activation("swish2")
    assert "catalog" in str(info.value)
    with pytest.raises(UnsafeExpression):
        get_activation("t.__class__")


# ------------------------------------------------------------------ the catalogue's PL table (issue 19, item 5)
def _table_mismatches(table: dict) -> list[str]:
    """Catalogue names whose table entry differs from the PL form derived from the expression with sympy, whose
    PL activation has no entry, or whose entry belongs to an activation that is not piecewise linear."""
    bad = []
    for name in CATALOG:
        try:
            derived = derive_piecewise_linear(name)
        except NotPiecewiseLinear:
            derived = None
        if table.get(name) != derived:
            bad.append(name)
    return bad + sorted(set(table) - set(CATALOG))


def test_catalog_pl_table_is_the_derivation() -> None:
    """Every entry of CATALOG_PL is what sympy derives from the catalogue's expression, and every piecewise-linear
    catalogue activation has one (the table cannot drift from the formulas)."""
    assert _table_mismatches(CATALOG_PL) == []
    assert {"relu", "leaky_relu", "identity", "relu6", "hard_tanh", "hard_sigmoid"} <= set(CATALOG_PL)


def test_planted_wrong_table_entries_are_caught() -> None:
    wrong_slope = dict(CATALOG_PL, leaky_relu=PLFunction((Fraction(0),), (Fraction(0),), Fraction(1, 10), Fraction(1)))
    assert _table_mismatches(wrong_slope) == ["leaky_relu"]
    wrong_knot = dict(CATALOG_PL, relu6=PLFunction((Fraction(0), Fraction(7)), (Fraction(0), Fraction(6)), Fraction(0),
                                                   Fraction(0)))
    assert _table_mismatches(wrong_knot) == ["relu6"]
    missing = {k: v for k, v in CATALOG_PL.items() if k != "hard_tanh"}
    assert _table_mismatches(missing) == ["hard_tanh"]
    not_pl = dict(CATALOG_PL, tanh=CATALOG_PL["hard_tanh"])
    assert _table_mismatches(not_pl) == ["tanh"]


def test_piecewise_linear_reads_the_table_for_catalogue_entries_only() -> None:
    assert piecewise_linear("relu") is CATALOG_PL["relu"]
    assert piecewise_linear(CATALOG["hard_sigmoid"]) is CATALOG_PL["hard_sigmoid"]
    # a user activation that takes a catalogue name is not the catalogue's entry: its own expression decides
    impostor = Activation("relu", parse_expression("Max(0, t - 1)"), "jax.nn.relu", ())
    assert impostor.catalog_name is None and CATALOG["relu"].catalog_name == "relu"
    assert piecewise_linear(impostor).knots == (Fraction(1),)
    assert impostor.exact(Fraction(1, 2)) == 0 and CATALOG["relu"].exact(Fraction(1, 2)) == Fraction(1, 2)
    assert impostor != CATALOG["relu"]


RATIONALS = st.fractions(min_value=-20, max_value=20, max_denominator=10 ** 6)


@settings(max_examples=40, deadline=None)
@given(q=RATIONALS)
def test_catalogue_exact_values_agree_with_the_expression(q: Fraction) -> None:
    """``exact`` reads the table for the PL entries: the values of the expression tree, at any rational."""
    for name in CATALOG_PL:
        act = CATALOG[name]
        for p in (q, *piecewise_linear(name).knots):
            assert act.exact(p) == exact_value(act.expr, p), (name, p)


@pytest.mark.parametrize("name", list(CATALOG))
def test_is_exact_agrees_with_the_expression(name: str) -> None:
    assert CATALOG[name].is_exact == is_rational_function_of_t(CATALOG[name].expr)


def test_catalogue_entries_equal_the_same_formula_built_by_hand() -> None:
    by_hand = Activation("leaky_relu", parse_expression("Max(t, t/100)"), "jax.nn.leaky_relu", (("negative_slope", 0.01),))
    assert by_hand == CATALOG["leaky_relu"] and hash(by_hand) == hash(CATALOG["leaky_relu"])
    assert len({by_hand, CATALOG["leaky_relu"]}) == 1
    other = Activation("leaky_relu", parse_expression("Max(t, t/10)"), "jax.nn.leaky_relu", (("negative_slope", 0.01),))
    assert other != CATALOG["leaky_relu"]
    assert copy.deepcopy(CATALOG["relu6"]) == CATALOG["relu6"]
    with pytest.raises(FrozenInstanceError):
        CATALOG["relu"].name = "tanh"  # type: ignore[misc]


_LAZY = """
import json, sys
from fractions import Fraction
import latentcheck.theorems as th
from latentcheck.theorems.pl import piecewise_linear
act = th.get_activation("leaky_relu")
before = [act.exact(Fraction(-3)), act.is_exact, piecewise_linear(act).slope_left, str(act)]
loaded = "sympy" in sys.modules or any(m.startswith("sympy.") for m in sys.modules)
{touch}
after = "sympy.core" in sys.modules
import sympy
t = sympy.Symbol("t", real=True)
import latentcheck
from latentcheck.theorems.expr import T
same = th.T is th.symbols.t_symbol() is T is latentcheck.T
print(json.dumps({{"before": [str(v) for v in before], "loaded_before": loaded, "loaded_after": after,
                  "expr": act.expr == sympy.Max(t, t / 100), "T": th.T == t, "same_T": same}}))
"""


@pytest.mark.parametrize("touch", ["pass", "act.expr"])
def test_catalogue_activations_do_not_import_sympy_until_expr(touch: str) -> None:
    """In a fresh process: the exact values, exactness and PL form of a catalogue entry import no sympy; the
    first use of ``expr`` does (the second run shows the check sees an import)."""
    out = subprocess.run([sys.executable, "-c", _LAZY.format(touch=touch)], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["before"] == ["-3/100", "True", "1/100", "leaky_relu"]
    assert got["loaded_before"] is False
    assert got["loaded_after"] is (touch == "act.expr")
    assert got["expr"] is True and got["T"] is True and got["same_T"] is True


_INTERRUPTED = """
import sys
from latentcheck.theorems.symbols import sp

class Interrupt:
    armed = True

    def find_spec(self, name, path=None, target=None):
        if self.armed and name == "sympy.core.numbers":
            raise KeyboardInterrupt("Ctrl-C in the middle of sympy's import")
        return None

finder = Interrupt()
sys.meta_path.insert(0, finder)
try:
    sp.Symbol
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted", "sympy" in sys.modules)
finder.armed = False
print(sp.Rational(1, 3) + sp.Integer(1), type(sys.modules["sympy"]).__name__)
"""


def test_an_interrupted_first_sympy_import_is_retried() -> None:
    """Ctrl-C (or a time limit's alarm) during the lazy first import leaves no half-run sympy behind (Python 3.11's
    lazy loader would keep one that has lost most of its names): the next use imports sympy again."""
    out = subprocess.run([sys.executable, "-c", _INTERRUPTED], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["interrupted False", "4/3 module"], out.stdout + out.stderr


def test_copies_keep_what_a_catalogue_entry_is() -> None:
    """pickle, copy and deepcopy (worker processes, JAX aux data) keep ``catalog_name``: a catalogue entry stays the
    table's (its PL form and exact values), a look-alike named ``relu`` stays a user activation."""
    import pickle

    impostor = Activation("relu", parse_expression("Max(0, t - 1)"), "jax.nn.relu", ())
    for act, name in ((CATALOG["hard_tanh"], "hard_tanh"), (get_activation("leaky_relu"), "leaky_relu"), (impostor, None)):
        for dup in (pickle.loads(pickle.dumps(act)), copy.copy(act), copy.deepcopy(act)):
            assert dup == act and hash(dup) == hash(act)
            assert dup.catalog_name == name
            assert piecewise_linear(dup) == piecewise_linear(act) == derive_piecewise_linear(act)
            assert dup.exact(Fraction(1, 2)) == exact_value(act.expr, Fraction(1, 2))
