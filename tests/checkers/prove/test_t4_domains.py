"""T4 on {0,1}^n and R>=0^n: the index-class proofs, the m >= 2 family, and planted wrong variants.

The independent checks below use plain Python ints and Fractions; they share no code
with checkers.t4_domains.
"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import numpy as np
import pytest

from latentcheck.checkers.prove.checks import PROVED, REFUTED, prove_claim
from latentcheck.checkers.prove.t4_domains import (
    binary_family_proof,
    binary_family_table,
    binary_family_violations,
    binary_m1_proof,
    check_skeleton,
    nonneg_m1_proof,
    tie_closure_classes,
)
from latentcheck.theorems.catalog import get_claim


# ------------------------------------------------------------------ independent re-checkers
def _cube(n: int, with_zero: bool = True) -> list[tuple[int, ...]]:
    return [p for p in itertools.product((0, 1), repeat=n) if with_zero or any(p)]


def _dot(a, b) -> int | Fraction:
    return sum(x * y for x, y in zip(a, b))


def _p2_violations(points, enc) -> int:
    """Plain-Python count of triples with <x,u> <= <x,v> but <enc x,enc u> > <enc x,enc v>."""
    bad = 0
    for x in points:
        for u in points:
            for v in points:
                if _dot(x, u) <= _dot(x, v) and _dot(enc[x], enc[u]) > _dot(enc[x], enc[v]):
                    bad += 1
    return bad


def _family(n: int, m: int, top=None) -> dict:
    one = (1,) * n
    a = [1] + [0] * (m - 1)
    t = list(top) if top is not None else [1, 1] + [0] * (m - 2)
    return {p: (t if p == one else a) for p in _cube(n)}


# ------------------------------------------------------------------ the family (m >= 2)
@pytest.mark.parametrize("n,m", [(3, 2), (4, 2), (4, 3)])
def test_family_independent_check(n: int, m: int) -> None:
    enc = _family(n, m)
    pts = _cube(n)
    assert _p2_violations(pts, enc) == 0                       # P2 on all of {0,1}^n, zero included
    assert all(any(c != 0 for c in enc[p]) for p in pts if any(p))  # P3
    assert len({tuple(v) for v in enc.values()}) == 2 and m < n     # not constant, P1


@pytest.mark.parametrize("top", [(2, 0), (-1, 0), (0, 1)])
def test_planted_bad_family_fails_everywhere(top) -> None:
    """enc(1) = 2e_1, -e_1 or e_2 (<e_1, enc 1> != 1): the independent checker and the engine both find violations,
    and the symbolic proof does not come out proved."""
    n = 3
    bad_plain = _p2_violations(_cube(n), _family(n, 2, top))
    bad_engine = binary_family_violations(n, binary_family_table(n, 2, top))
    assert bad_plain > 0 and bad_engine == bad_plain
    a, t = np.array([1, 0]), np.array(top)
    assert binary_family_proof((int(a @ t), int(t @ t))).status != PROVED


def test_family_engine_agrees_with_plain_python() -> None:
    for n in (3, 4):
        assert binary_family_violations(n) == _p2_violations(_cube(n), _family(n, 2)) == 0


def test_family_symbolic_proof() -> None:
    r = binary_family_proof()
    assert r.status == PROVED and sum("z3: case" in s for s in r.steps) == 8


# ------------------------------------------------------------------ m = 1 proofs
def test_index_class_proofs_prove() -> None:
    assert check_skeleton(binary_m1_proof()).status == PROVED
    assert check_skeleton(nonneg_m1_proof()).status == PROVED


@pytest.mark.parametrize("make", [binary_m1_proof, nonneg_m1_proof])
@pytest.mark.parametrize("variant", [{"m": 2}, {"with_p3": False}])
def test_planted_false_variants_never_proved(make, variant) -> None:
    """m = 2 (false on {0,1}^n by the family) and dropping P3 (false on {0,1}^2) must not be proved."""
    assert check_skeleton(make(**variant)).status != PROVED


def test_nonneg_n1_not_proved_and_false() -> None:
    """n = 1: f(u) = u satisfies P2 and P3 on R>0 and is not constant; the engine must refuse n >= 1."""
    assert check_skeleton(nonneg_m1_proof(n_min=1)).status != PROVED
    pts = [(Fraction(k, 3),) for k in range(1, 10)]
    enc = {p: p for p in pts}  # f = id on R>0, m = n = 1
    assert _p2_violations(pts, enc) == 0 and len(set(enc.values())) > 1


def test_wrong_tie_is_caught() -> None:
    """A proof whose instance is not a tie (x = e_j outside supp(u)) fails at the sympy step."""
    good = binary_m1_proof()
    model = good.models[0]
    pts = dict(model.points)
    pts["e_z"] = ("const", {"I": 0, "A": 0, "Z": 1})
    bad = dataclasses.replace(good, models=(dataclasses.replace(model, points=pts),),
                              instances=(("supp(u)", "e_z", "u", "one"),))
    r = check_skeleton(bad)
    assert r.status != PROVED and "sympy" in r.reason


def test_binary_m1_exhaustive_small_n() -> None:
    """Independent: every map {0,1}^n \\ {0} -> {-2,-1,1,2} (n = 2) or {-1,1,2} (n = 3) with P2 is constant."""
    for n, values in ((2, (-2, -1, 1, 2)), (3, (-1, 1, 2))):
        pts = _cube(n, with_zero=False)
        for vals in itertools.product(values, repeat=len(pts)):
            enc = {p: (v,) for p, v in zip(pts, vals)}
            if len(set(vals)) > 1:
                assert _p2_violations(pts, enc) > 0


def test_tie_closure_counts_overlap_levels() -> None:
    """Ties and symmetry merge Gram entries into exactly one class per overlap value 0..n."""
    for n in (2, 3, 4):
        assert tie_closure_classes(n) == n + 1


# ------------------------------------------------------------------ the catalog rows
@pytest.mark.parametrize("cid,verdict", [("T4-binary-P3-m1", PROVED), ("T4-nonneg-P3-m1", PROVED),
                                         ("T4-binary-family", PROVED), ("T4-binary-P3-m2", REFUTED)])
def test_catalog_rows(cid: str, verdict: str) -> None:
    v = prove_claim(get_claim(cid), timeout=60)
    assert v.verdict == verdict, v.reason
    assert "machine-checked" in v.scope and "written argument" in v.scope
    if verdict == REFUTED:
        table = {tuple(int(c) for c in k): [int(x) for x in val] for k, val in v.counterexample["encoder_table"].items()}
        pts = sorted(table)
        assert _p2_violations(pts, table) == 0 and len({tuple(x) for x in table.values()}) > 1


def test_claim_text_matches_scope() -> None:
    """Issue 8, item 10: the claim says the scope its check covers."""
    t4 = get_claim("T4").claim
    assert "R^n -> R^m" in t4 and "every n > m >= 1" in t4
    assert "n = 2, m = 1" in get_claim("T4-strict").claim
    assert "every n >= 2" in get_claim("T4-binary-P3-m1").claim
    for cid in ("T1", "T3"):
        assert "m <= 3" in get_claim(cid).claim
    assert "m <= 2" in get_claim("T5-corrected").claim


# ------------------------------------------------------------------ the binary Gram theorem and T4-nonneg
def test_gram_step1_cases_prove_and_wrong_goal_does_not() -> None:
    from latentcheck.checkers.prove.t4_domains import binary_gram_step1_cases

    cases = binary_gram_step1_cases()
    assert len(cases) == 10 and all(check_skeleton(c).status == PROVED for c in cases)
    planted = dataclasses.replace(cases[0], goal=("x", "u", "x", "x"))  # <fx,fu> = |fx|^2: false in general
    assert check_skeleton(planted).status != PROVED


def test_gram_form_independent() -> None:
    """Plain Python: the family's Gram on {0,1}^3 \\ {0} is exactly c0 + cn [x = u = 1] (c0 = cn = 1), and P2 holds."""
    n = 3
    pts = _cube(n, with_zero=False)
    one = (1,) * n
    enc = {p: ((1, 1) if p == one else (1, 0)) for p in pts}
    gram = {(x, u): _dot(enc[x], enc[u]) for x in pts for u in pts}
    assert all(gram[(x, u)] == 1 + (x == u == one) for x in pts for u in pts)
    assert _p2_violations(pts, enc) == 0


def test_binary_gram_exact_cross_check() -> None:
    """The per-n exact re-check (tie closure, Mobius identities, rank minors) still agrees for n <= 5."""
    from latentcheck.checkers.prove.t4_domains import binary_gram_exact_check

    ok, why = binary_gram_exact_check((2, 3, 4, 5))
    assert ok, why


def test_mobius_identities_exact() -> None:
    from latentcheck.checkers.prove.t4_domains import mobius_identities

    assert all(ok for _, ok in mobius_identities(4))
    import math

    # Independent plain-Python check of the inclusion-exclusion identity behind step 2, n = 4.
    for x in range(1, 16):
        subsets = [s for s in range(1, 16) if s & x == s]
        assert sum((-1) ** (bin(s).count("1") + 1) for s in subsets) == 1
    assert math.comb(4, 1) >= 4 and all(math.comb(6, j) >= 6 for j in range(1, 6))


def test_grid_exploration_independent() -> None:
    """The family on {0,1,2}^2 (top point (2,2)) has no P2 violation, by plain Python and by the engine;
    moving the extra coordinate to a non-top point breaks it."""
    from latentcheck.checkers.prove.t4_domains import grid_points

    pts = [tuple(p) for p in grid_points(2, 2).tolist()]
    good = {p: ((1, 1) if p == (2, 2) else (1, 0)) for p in pts}
    bad = {p: ((1, 1) if p == (1, 2) else (1, 0)) for p in pts}
    assert _p2_violations(pts, good) == 0 == binary_family_violations(2, g=2)
    enc_bad = np.array([bad[p] for p in pts])
    assert _p2_violations(pts, bad) == binary_family_violations(2, enc_bad, g=2) > 0


def _concretize(model, values: dict) -> dict:
    """Lay the classes out consecutively with concrete sizes; return name -> concrete vector (Fractions)."""
    import sympy as sp

    sizes = [int(sp.sympify(size).subs(values)) for _, size in model.classes]
    out = {}
    for name, (kind, vals) in model.points.items():
        vec: list = []
        for (cls, _), size in zip(model.classes, sizes):
            v = Fraction(str(sp.sympify(vals[cls]).subs(values)))
            vec += [v] * size if kind == "const" else ([v / size] * size if size else [])
        out[name] = vec
    return out


@pytest.mark.parametrize("make,values", [
    (binary_m1_proof, [{"n": 4, "k": k} for k in (1, 2, 4)]),
    (nonneg_m1_proof, [{"n": 3, "c": Fraction(1, 2), "d": 3, "s": 2, "t": Fraction(1, 3)}]),
])
def test_class_model_matches_concrete_vectors(make, values) -> None:
    """The written step 'inner products on index classes' against plain dot products on concrete vectors."""
    import sympy as sp

    for vals in values:
        subs = {sp.Symbol(k, integer=True) if k in ("n", "k") else sp.Symbol(k, real=True): v for k, v in vals.items()}
        for model in make().models:
            vecs = _concretize(model, subs)
            for x, (kind, _) in model.points.items():
                if kind != "const":
                    continue
                for y in model.points:
                    assert Fraction(str(model.ip(x, y).subs(subs))) == _dot(vecs[x], vecs[y])


def test_gram_case_models_match_concrete_vectors() -> None:
    import sympy as sp

    from latentcheck.checkers.prove.t4_domains import binary_gram_step1_cases

    for case in binary_gram_step1_cases():
        model = case.models[0]
        syms = {s.name: s for c, size in model.classes for s in sp.sympify(size).free_symbols}
        subs = {syms[k]: v for k, v in {"n": 7, "a": 1, "b": 2, "c": 1}.items() if k in syms}
        vecs = _concretize(model, subs)
        assert all(v in (0, 1) for vec in vecs.values() for v in vec) and all(any(vec) for vec in vecs.values())
        for x in model.points:
            for y in model.points:
                assert Fraction(str(model.ip(x, y).subs(subs))) == _dot(vecs[x], vecs[y])


def _frac_det(rows: list[list[Fraction]]) -> Fraction:
    """Plain Gaussian elimination over Fractions (independent of python-flint)."""
    a = [r[:] for r in rows]
    det = Fraction(1)
    for c in range(len(a)):
        p = next((r for r in range(c, len(a)) if a[r][c] != 0), None)
        if p is None:
            return Fraction(0)
        if p != c:
            a[c], a[p] = a[p], a[c]
            det = -det
        det *= a[c][c]
        for r in range(c + 1, len(a)):
            f = a[r][c] / a[c][c]
            a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return det


def test_step2_minors_independent() -> None:
    """n = 4, j = 2 (N = 6): rebuild the T_j block of D + c0 mu mu^T with Fractions and compare the minors."""
    from latentcheck.checkers.prove.t4_domains import step2_rank_certificate

    assert all(ok for n in (2, 3, 4) for _, ok in step2_rank_certificate(n))
    n, j = 4, 2
    tj = [s for s in range(1, 16) if bin(s).count("1") == j]
    for cj, c0 in ((Fraction(3), Fraction(-1, 2)), (Fraction(1), Fraction(-1, 6)), (Fraction(2), Fraction(0))):
        def e(r, c):
            sign = (1 if bin(r).count("1") % 2 else -1) * (1 if bin(c).count("1") % 2 else -1)
            return (cj if r == c else 0) + c0 * sign
        m1 = _frac_det([[e(r, c) for c in tj] for r in tj])
        m2 = _frac_det([[e(r, c) for c in tj] for r in tj[1:] + [15]])
        assert m1 == cj ** 5 * (cj + 6 * c0) and abs(m2) == abs(c0) * cj ** 5
        assert m1 != 0 or m2 != 0  # c_j != 0: the block keeps rank >= 6 >= n
