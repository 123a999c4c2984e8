"""T4 through the Gram rank argument (checkers/prove/t4_gram.py): independent re-checks and planted bugs.

The independent checks build concrete matrices and vectors with Fractions and plain Python; they share
no code with the engine (the formulas for the left inverses are written out again here).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from fractions import Fraction

import pytest
import sympy as sp

from latentcheck.checkers.prove import t4_gram as g
from latentcheck.checkers.prove.checks import PROVED, prove_claim
from latentcheck.checkers.prove.t4_domains import check_skeleton
from latentcheck.theorems.catalog import get_claim


# ------------------------------------------------------------------ independent linear algebra
def _rank(rows: list[list[Fraction]]) -> int:
    a = [r[:] for r in rows]
    rank, col = 0, 0
    ncols = len(a[0]) if a else 0
    while rank < len(a) and col < ncols:
        piv = next((r for r in range(rank, len(a)) if a[r][col] != 0), None)
        if piv is None:
            col += 1
            continue
        a[rank], a[piv] = a[piv], a[rank]
        for r in range(len(a)):
            if r != rank and a[r][col] != 0:
                f = a[r][col] / a[rank][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[rank])]
        rank, col = rank + 1, col + 1
    return rank


def _matmul(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))] for i in range(len(A))]


def _bordered(N: int, delta: Fraction, phi0: Fraction) -> list[list[Fraction]]:
    """Rows p_1..p_N, q; columns p_1..p_N: delta I + phi0 J, and the row phi0 + delta."""
    rows = [[delta * (r == c) + phi0 for c in range(N)] for r in range(N)]
    return rows + [[phi0 + delta] * N]


@pytest.mark.parametrize("N", [2, 3, 4, 6])
def test_bordered_block_full_column_rank_independent(N: int) -> None:
    """delta != 0: the bordered block has rank N, and the two left inverses (written out here) work."""
    rng = random.Random(N)
    cases = [(Fraction(rng.randint(-5, 5) or 1, rng.randint(1, 4)), Fraction(rng.randint(-5, 5), rng.randint(1, 4)))
             for _ in range(6)]
    cases += [(Fraction(N), Fraction(-1)), (Fraction(2), Fraction(-2))]  # delta + N phi0 = 0; phi_d = 0
    for delta, phi0 in cases:
        M = _bordered(N, delta, phi0)
        assert _rank(M) == N
        pd = phi0 + delta
        if delta + N * phi0 != 0:
            k = phi0 / (delta * (delta + N * phi0))
            P = [[(1 / delta) * (r == c) - k for c in range(N)] + [Fraction(0)] for r in range(N)]
            assert _matmul(P, M) == [[Fraction(int(r == c)) for c in range(N)] for r in range(N)]
        if pd != 0:
            P = [[(1 / delta) * (r == c) for c in range(N)] + [-phi0 / (delta * pd)] for r in range(N)]
            assert _matmul(P, M) == [[Fraction(int(r == c)) for c in range(N)] for r in range(N)]


def test_bordered_block_delta_zero_has_low_rank() -> None:
    """The lemma needs delta != 0: with delta = 0 the block has rank 1 (the constant map's Gram)."""
    assert _rank(_bordered(5, Fraction(0), Fraction(3))) == 1


@pytest.mark.parametrize("N", [2, 3, 5])
def test_structured_product_matches_explicit_product(N: int) -> None:
    """The index-class product equals the explicit N x N product at concrete sizes and values."""
    rng = random.Random(7 + N)
    vals = [sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(8)]
    A = g.Structured(diag=vals[0], off=vals[1], rows={"q": vals[2]}, cols={"z": vals[3]}, corner={("q", "z"): vals[4]})
    B = g.Structured(diag=vals[5], off=vals[6], rows={"z": vals[7]}, cols={"w": vals[2]}, corner={("z", "w"): vals[0]})

    def dense(S, row_names, col_names):
        rows = [[S.diag if r == c else S.off for c in range(N)] + [S.cols[k] for k in col_names] for r in range(N)]
        rows += [[S.rows[r]] * N + [S.corner[(r, k)] for k in col_names] for r in row_names]
        return rows

    got = g.structured_product(A, B, sp.Integer(N))
    want = _matmul(dense(A, ["q"], ["z"]), dense(B, ["z"], ["w"]))
    assert dense(got, ["q"], ["w"]) == want


# ------------------------------------------------------------------ the symbolic lemmas and planted bugs
def test_symbolic_lemmas_hold() -> None:
    for results in (g.bordered_block_lemma(), g.binom_at_least_n(), g.binary_step2_symbolic(),
                    g.nonneg_step2_symbolic(), g.reflection_lemmas(), g.gram_constant_lemma()):
        assert results and all(ok for _, ok in results), results


def test_planted_wrong_inverse_is_caught() -> None:
    """Case B without its border column is not a left inverse: the structured check must say so."""
    N = sp.Symbol("N", integer=True)
    d, p0 = sp.symbols("delta phi0", real=True)
    M = g.Structured(diag=p0 + d, off=p0, rows={"q": p0 + d})
    wrong = g.Structured(diag=1 / d, off=sp.Integer(0), cols={"q": sp.Integer(0)})
    assert not g._is_identity(g.structured_product(wrong, M, N))


def test_planted_block_size_one_not_covered() -> None:
    """N = 1 (one point): delta = -phi0 kills both cases; the z3 step must fail when N >= 1 is allowed."""
    assert not all(ok for _, ok in g.bordered_block_lemma(n_min=1))


def test_planted_equal_sets_break_the_overlap_bound() -> None:
    """Allowing S = T (a = j) breaks '<S,T> <= j - 1': the induction step must not verify."""
    assert not all(ok for _, ok in g.binary_step2_symbolic(distinct=False))


def test_nonneg_step1_cases_prove() -> None:
    cases = g.nonneg_step1_cases()
    assert len(cases) == 9 and all(check_skeleton(c).status == PROVED for c in cases)


def test_planted_broken_chain_not_proved() -> None:
    """w = (c, 2, ..., 2) instead of (c, 1, ..., 1): the tie at w against p n c e_2 fails (sympy step)."""
    case = g._positive_chain()
    mb = case.models[1]
    pts = dict(mb.points)
    c = sp.Symbol("c", real=True)
    pts["w"] = ("const", {"P": c, "Q": sp.Integer(2), "R": sp.Integer(2)})
    bad = dataclasses.replace(case, models=(case.models[0], dataclasses.replace(mb, points=pts)))
    r = check_skeleton(bad)
    assert r.status != PROVED and "sympy" in r.reason


def test_planted_zero_chain_without_disjoint_support() -> None:
    """If x_j may be positive (x and u overlapping at j), the tie at x fails: not proved."""
    case = g._zero_chain()
    model = case.models[0]
    pts = dict(model.points)
    xj = sp.Symbol("xj", positive=True)
    pts["x"] = ("sums", {"I": sp.Symbol("c", real=True), "J": xj, "R": sp.Symbol("r", real=True)})
    bad = dataclasses.replace(case, models=(dataclasses.replace(model, points=pts),))
    assert check_skeleton(bad).status != PROVED


def test_planted_wrong_gram_goal_not_proved() -> None:
    """Goal <f x, f u> = <f x, f x> is false in general (f = id on R>=0^n): never proved."""
    case = dataclasses.replace(g._positive_chain(), goal=("x", "u", "x", "x"))
    assert check_skeleton(case).status != PROVED


# ------------------------------------------------------------------ the class models against concrete vectors
def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def test_positive_chain_models_match_concrete_vectors() -> None:
    """n = 4, i = 1: lay the classes out, pick x with x_1 = c and u with <x,u> = p c n; every inner product
    the skeleton uses equals the plain dot product, and every point is in R>=0^4 \\ {0}."""
    n, c, p = 4, Fraction(3, 2), Fraction(1, 5)
    x = [c, Fraction(1), Fraction(0), Fraction(2)]
    u = [Fraction(0), Fraction(0), Fraction(0), p * c * n / 2]  # <x,u> = 2 * p c n / 2
    assert _dot(x, u) == p * c * n
    vecs = {"x": x, "u": u, "pne_i": [p * n, 0, 0, 0], "c1": [c] * n, "p1": [p] * n, "pne_1": [p * n, 0, 0, 0],
            "w": [c, 1, 1, 1], "pnce_2": [0, p * n * c, 0, 0], "one": [1] * n, "pc1": [p * c] * n}
    subs = {sp.Symbol("n", integer=True): n, sp.Symbol("c", real=True): c, sp.Symbol("p", real=True): p,
            sp.Symbol("r", real=True): sum(x[1:]), sp.Symbol("ui", real=True): u[0], sp.Symbol("ur", real=True): sum(u[1:])}
    case = g._positive_chain()
    models = {m.name: m for m in case.models}
    for mname, at, a, b in case.instances:
        model = models[mname]
        for y in (a, b):
            assert Fraction(str(model.ip(at, y).subs(subs))) == _dot(vecs[at], vecs[y])
        assert _dot(vecs[at], vecs[a]) == _dot(vecs[at], vecs[b])  # the premise is a tie
    assert all(all(v >= 0 for v in vec) and any(vec) for vec in vecs.values())


def test_zero_chain_concrete() -> None:
    x, u, e_i, e_j = [2, 0, 1, 0], [0, 3, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]
    assert _dot(x, u) == 0 and _dot(x, u) == _dot(x, e_j) and _dot(e_j, x) == _dot(e_j, e_i)


def test_identity_map_shows_m_lt_n_is_needed() -> None:
    """f = id on R>=0^3 (m = n = 3) satisfies P2; its Gram block on a e_1..a e_3, a 1 is the bordered block with
    delta = a^2 != 0, of rank 3 = m: the lemma's N <= m holds, so only m < n gives the contradiction."""
    a, n = Fraction(2), 3
    pts = [[a * (i == k) for i in range(n)] for k in range(n)] + [[a] * n]
    gram = [[_dot(p, q) for q in pts[:n]] for p in pts]
    assert gram == _bordered(n, a * a, Fraction(0)) and _rank(gram) == n


# ------------------------------------------------------------------ the catalog rows
@pytest.mark.parametrize("cid", ["T4", "T4-nonneg", "T4-binary-gram"])
def test_rows_proved_with_written_steps_named(cid: str) -> None:
    v = prove_claim(get_claim(cid), timeout=60)
    assert v.verdict == PROVED, v.reason
    assert "written argument" in v.scope and "machine-checked" in v.scope
    assert "z3" in v.method and ("sympy" in v.method or "sympy" in v.certificate)


def test_claim_texts_say_every_m_and_n() -> None:
    assert "every n > m >= 1" in get_claim("T4").claim and "R^n -> R^m" in get_claim("T4").claim
    assert "every n > m >= 1" in get_claim("T4-nonneg").claim
    assert "every n > m >= 1" in get_claim("T4-binary-gram").claim


def test_a_failing_step_is_never_hidden_by_an_earlier_success(monkeypatch) -> None:
    """T4 and T4-nonneg re-check their steps on every call: a planted failing lemma after a proved run gives unknown."""
    from latentcheck.checkers.prove import t4_gram as g

    assert g.nonneg_general_outcome()["verdict"] == "proved"
    monkeypatch.setattr(g, "bordered_block_lemma", lambda timeout_s=20.0, **kw: [("planted: broken lemma", False)])
    assert g.nonneg_general_outcome()["verdict"] == "unknown"
    assert g.rn_every_m_outcome()["verdict"] == "unknown"
