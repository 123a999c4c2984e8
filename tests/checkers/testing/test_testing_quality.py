"""Quality tier for the strategies: planted bugs are found and shrunk to the known minimal example.

Each test runs Hypothesis's ``find`` (generate, then shrink; deterministic)
on a property that fails only for a narrow set of inputs, and checks that
the shrunk example is exactly the minimal one, argued in the docstring.
"""

from __future__ import annotations

import numpy as np
from hypothesis import Phase, find, settings
from hypothesis import strategies as st

from latentcheck.checkers.testing import activations, encoders, reals
from latentcheck.theorems import Encoder

_FIND = settings(database=None, derandomize=True, max_examples=2000, phases=[Phase.generate, Phase.shrink])


def _buggy_encode(enc: Encoder, x: np.ndarray) -> np.ndarray:
    """A planted off-by-one: the fast path drops the first input column."""
    layer = enc.layers[0]
    return layer.activation.numpy(layer.W[:, 1:] @ x[1:] + layer.b)


def test_off_by_one_column_bug_shrinks_to_the_minimal_encoder_and_input() -> None:
    """The bug shows only when ``W[:, 0] * x[0]`` changes the code.

    Minimal example, entry by entry: ``n = 2`` (the smallest default) forces
    ``m = 1``; the simplest weight draw is all zeros, which the full-rank
    repair turns into ``W = [[1, 0]]``, and it triggers the bug; ``b = [0]``;
    the first catalog activation ``relu``; and ``x = [1, 0]``, since ``x[0]``
    must be positive for ``relu(x[0]) != relu(0)`` and 1 is the simplest
    positive float, while ``x[1]`` plays no part and shrinks to 0.
    """
    pairs = encoders().flatmap(lambda e: st.tuples(st.just(e), reals(e.n)))
    enc, x = find(pairs, lambda p: not np.array_equal(p[0](p[1]), _buggy_encode(*p)), settings=_FIND)
    assert (enc.n, enc.m, len(enc.layers)) == (2, 1, 1)
    assert enc.layers[0].W.tolist() == [[1.0, 0.0]]
    assert enc.layers[0].b.tolist() == [0.0]
    assert enc.activation.name == "relu"
    assert x.tolist() == [1.0, 0.0]


def test_generated_activation_bug_shrinks_to_t() -> None:
    """A property failing for every activation outside the catalog shrinks to the formula ``t``."""
    from latentcheck.theorems import catalog_names

    assert find(activations(), lambda a: a not in catalog_names(), settings=_FIND) == "t"


def test_vanishing_activation_bug_shrinks_to_relu() -> None:
    """Claiming every activation is positive at -1 fails first for the simplest name, ``relu``."""
    from latentcheck.theorems import get_activation

    assert find(activations(), lambda a: not get_activation(a).numpy(np.array(-1.0)) > 0, settings=_FIND) == "relu"
