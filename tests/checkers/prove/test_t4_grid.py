"""Distinct latent vectors of P2 maps on grids {0..g}^n (checkers/prove/t4_grid.py): soundness against known maps.

The re-checks use plain Python and Fractions (no engine code).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from latentcheck.checkers.prove import t4_grid as G


def _grid(n: int, g: int) -> list[tuple[int, ...]]:
    return [p for p in itertools.product(range(g + 1), repeat=n) if any(p)]


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def _p2_ok(pts, enc) -> bool:
    for x in pts:
        for u in pts:
            for v in pts:
                if _dot(x, u) <= _dot(x, v) and _dot(enc[x], enc[u]) > _dot(enc[x], enc[v]):
                    return False
    return True


@pytest.mark.parametrize("n,g", [(2, 2), (2, 3), (3, 1)])
def test_bound_never_below_the_identity_map(n: int, g: int) -> None:
    """f = id satisfies P2 with m = n and has one vector per point: the closure for m = n must allow that many."""
    pts = _grid(n, g)
    assert _p2_ok(pts, {p: p for p in pts})
    upper, _ = G.grid_upper_bound(n, g, n)
    assert upper >= len(pts)


def test_block_rule_does_work_below_n() -> None:
    """With m = n - 1 the bordered-block rule must cut the identity's count (it is not a map into R^(n-1))."""
    n, g = 3, 1
    assert G.grid_upper_bound(n, g, n - 1)[0] < len(_grid(n, g))


@pytest.mark.parametrize("n,g,m", [(2, 2, 1), (3, 2, 2), (3, 1, 2)])
def test_two_vector_witness_independent(n: int, g: int, m: int) -> None:
    pts = _grid(n, g)
    rows = G.grid_witness(n, g, m).tolist()
    enc = {p: tuple(r) for p, r in zip(pts, rows)}
    assert _p2_ok(pts, enc) and len(set(enc.values())) == 2
    assert G.grid_upper_bound(n, g, m)[0] >= 2


def test_binary_grid_matches_the_gram_theorem() -> None:
    """On {0,1}^n the closure alone gives 2 (T4-binary-gram: at most two distinct latent vectors)."""
    assert G.grid_upper_bound(3, 1, 2)[0] == 2 and G.grid_upper_bound(4, 1, 3)[0] == 2


def test_small_grid_exact_answer_and_witness() -> None:
    """{0,1,2}^2, m = 1: exactly 2 (closure + z3 unsat on every 3-set; the witness re-checked here)."""
    a = G.grid_answer(2, 2, 1, timeout_s=20)
    assert a.exact and a.upper == 2


def test_z3_witness_recheck_independent() -> None:
    """A z3 map that separates two closure representatives on {0,1,2}^2 (m = 1) passes a plain P2 re-check."""
    reps, _ = G._closure(2, 2, 1)
    found = [G.grid_z3_witness(2, 2, 1, pair, timeout_s=20) for pair in itertools.combinations(reps, 2)]
    table = next(t for status, t in found if status == "sat")  # the two-vector map separates the top
    pts = _grid(2, 2)
    enc = {p: tuple(Fraction(v) for v in table[p]) for p in pts}
    assert _p2_ok(pts, enc) and len(set(enc.values())) >= 2


def test_three_values_on_the_3_grid_independent() -> None:
    """The map documented in T4-domains.md for {0..3}^2, m = 1: 1 at (2,3), (3,2), 2 at (3,3), else 0: P2 holds."""
    pts = _grid(2, 3)
    enc = {p: ((2,) if p == (3, 3) else (1,) if p in ((2, 3), (3, 2)) else (0,)) for p in pts}
    assert _p2_ok(pts, enc) and len(set(enc.values())) == 3
