"""The SMT engine (z3): P2 on finite domains, decided for every map at once.

A map ``enc: D -> R^m`` on a finite domain ``D`` is a table of ``|D| * m``
unknown reals. P2 on ``D`` is a finite set of polynomial constraints, one per
triple ``(x, u, v)`` of ``D`` with ``<x,u> <= <x,v>`` (decided exactly, since
``D`` is integral). z3 then answers, like its ``prove()``:

* ``unsat`` of "P2 and not constant": proved (every P2 map on D is constant);
* ``sat``: a counterexample table, converted to exact Fractions and
  re-checked triple by triple before it is reported;
* ``unknown``/timeout: unknown, never proved.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

__all__ = ["SmtResult", "grid_domain", "binary_domain", "p2_constant_check", "p2_table_violations", "t4_concrete_r2", "t4_m1_all_n"]


@dataclass(frozen=True)
class SmtResult:
    status: str  # "proved" | "refuted" | "unknown"
    reason: str
    seconds: float
    table: dict[tuple[int, ...], list[Fraction]] | None = None


def grid_domain(n: int) -> list[tuple[int, ...]]:
    """``{-1, 0, 1}^n`` without the origin."""
    return [p for p in itertools.product((-1, 0, 1), repeat=n) if any(p)]


def binary_domain(n: int) -> list[tuple[int, ...]]:
    """``{0, 1}^n`` without the origin."""
    return [p for p in itertools.product((0, 1), repeat=n) if any(p)]


def _ip(a: Sequence[int], b: Sequence[int]) -> int:
    return sum(x * y for x, y in zip(a, b))


def _model_value(v: Any) -> Fraction:
    import z3

    if z3.is_rational_value(v):
        return Fraction(v.numerator_as_long(), v.denominator_as_long())
    raise ValueError(f"non-rational model value {v}")


def p2_table_violations(domain: Sequence[tuple[int, ...]], table: dict[tuple[int, ...], list[Fraction]],
                        strict: bool = False) -> list[tuple]:
    """Exact re-check: the triples of ``domain`` where the table violates (strict) P2."""
    bad = []
    for x in domain:
        for u in domain:
            for v in domain:
                lhs, rhs = _ip(x, u), _ip(x, v)
                zx = table[x]
                a = sum((p * q for p, q in zip(zx, table[u])), Fraction(0))
                c = sum((p * q for p, q in zip(zx, table[v])), Fraction(0))
                if strict:
                    if lhs < rhs and not a < c:
                        bad.append((x, u, v))
                elif lhs <= rhs and not a <= c:
                    bad.append((x, u, v))
    return bad


def p2_constant_check(domain: Sequence[tuple[int, ...]], m: int, *, strict: bool = False,
                      nonzero: bool = False, timeout_s: float = 20.0) -> SmtResult:
    """Decide: does every map ``domain -> R^m`` with P2 on ``domain`` (and P3 if ``nonzero``) stay constant?

    With ``strict=True`` the question is whether any map satisfies strict P2 at all.
    """
    import z3

    start = time.perf_counter()
    f = {p: [z3.Real(f"e_{'_'.join(map(str, p))}_{i}") for i in range(m)] for p in domain}

    def ip(a: list, b: list) -> Any:
        return z3.Sum([x * y for x, y in zip(a, b)]) if m > 1 else a[0] * b[0]

    solver = z3.SolverFor("QF_NRA")
    solver.set("timeout", int(timeout_s * 1000))
    for x in domain:
        for u in domain:
            for v in domain:
                if u == v:
                    continue
                lhs, rhs = _ip(x, u), _ip(x, v)
                if strict:
                    if lhs < rhs:
                        solver.add(ip(f[x], f[u]) < ip(f[x], f[v]))
                elif lhs <= rhs:
                    solver.add(ip(f[x], f[u]) <= ip(f[x], f[v]))
    if nonzero:
        for p in domain:
            solver.add(z3.Or([c != 0 for c in f[p]]))
    if not strict:
        first = domain[0]
        solver.add(z3.Or([z3.Or([a != b for a, b in zip(f[first], f[p])]) for p in domain[1:]]))
    answer = solver.check()
    seconds = time.perf_counter() - start
    if answer == z3.unsat:
        what = "no map satisfies strict P2" if strict else "every P2 map is constant"
        return SmtResult("proved", f"z3: unsat ({what})", seconds)
    if answer == z3.sat:
        model = solver.model()
        try:
            table = {p: [_model_value(model.eval(c, model_completion=True)) for c in f[p]] for p in domain}
        except ValueError as exc:
            return SmtResult("unknown", f"z3 found a model with irrational values ({exc}); not re-checked", seconds)
        bad = p2_table_violations(domain, table, strict=strict)
        if bad:
            return SmtResult("unknown", f"z3's model failed the exact re-check at {bad[0]}", seconds)
        if nonzero and any(all(c == 0 for c in table[p]) for p in domain):
            return SmtResult("unknown", "z3's model maps a point to 0 despite P3", seconds)
        if not strict and all(table[p] == table[domain[0]] for p in domain):
            return SmtResult("unknown", "z3's model is constant; not a counterexample", seconds)
        return SmtResult("refuted", "z3: sat; the model was re-checked exactly on every triple", seconds, table)
    return SmtResult("unknown", f"z3: {solver.reason_unknown() or 'unknown'}", seconds)


def t4_concrete_r2(timeout_s: float = 20.0) -> SmtResult:
    """T4 for ``n = 2, m = 1`` in one z3 query over concrete coordinates.

    Symbolic ``p, q != 0`` in ``R^2``, ``f(p) != f(q)``, the proof's points
    ``y = A + A_perp`` (``A_perp = (-A_2, A_1)``) and ``w`` with ``<A,w> = <A,A>``,
    ``<y,w> = <y,B>`` (for ``A, B`` = ``p, q`` and ``q, p``), and 12 instances of P2
    whose premises z3 must evaluate itself. Unsat: no map ``R^2 -> R`` is a counterexample.
    """
    import z3

    start = time.perf_counter()

    def ip(a: Sequence[Any], b: Sequence[Any]) -> Any:
        return a[0] * b[0] + a[1] * b[1]

    p, q = z3.RealVector("p", 2), z3.RealVector("q", 2)
    pts: dict[str, Sequence[Any]] = {"p": p, "q": q}
    side: list[Any] = []
    triples: list[tuple[str, str, str]] = []
    for tag, (A, B, a, b) in {"": (p, q, "p", "q"), "r": (q, p, "q", "p")}.items():
        y = [A[0] - A[1], A[1] + A[0]]
        w = z3.RealVector(f"w{tag}", 2)
        pts["y" + tag], pts["w" + tag] = y, w
        side += [ip(A, w) == ip(A, A), ip(y, w) == ip(y, B)]
        for x, u, v in [(a, "y" + tag, a), (a, "w" + tag, a), ("y" + tag, "w" + tag, b)]:
            triples += [(x, u, v), (x, v, u)]
    f = {k: z3.Real(f"f_{k}") for k in pts}
    solver = z3.SolverFor("QF_NRA")
    solver.set("timeout", int(timeout_s * 1000))
    solver.add(side)
    solver.add(z3.Or(p[0] != 0, p[1] != 0), z3.Or(q[0] != 0, q[1] != 0))
    for x, u, v in triples:
        solver.add(z3.Implies(ip(pts[x], pts[u]) <= ip(pts[x], pts[v]), f[x] * f[u] <= f[x] * f[v]))
    solver.add(f["p"] != f["q"])
    answer = solver.check()
    seconds = time.perf_counter() - start
    if answer == z3.unsat:
        return SmtResult("proved", f"z3: unsat with {len(triples)} instances of P2 (n=2, m=1, concrete coordinates)", seconds)
    if answer == z3.sat:
        return SmtResult("unknown", "z3: sat; the instantiation is too weak (not a counterexample to T4)", seconds)
    return SmtResult("unknown", f"z3: {solver.reason_unknown() or 'unknown'}", seconds)


def t4_m1_all_n(timeout_s: float = 20.0) -> SmtResult:
    """T4 for ``m = 1`` and every ``n >= 2``, in two machine-checked steps.

    Geometry (sympy, dimension-free): for nonzero ``A`` and any ``B`` in ``R^n``, with
    ``A_perp = -A_{j+1} e_j + A_j e_{j+1}`` (nonzero, orthogonal to ``A``, for a ``j`` with
    ``(A_j, A_{j+1}) != 0``), ``y = A + A_perp`` and ``w = alpha A + beta y`` with
    ``beta = (<A,B> + <A_perp,B> - |A|^2) / |A_perp|^2``, ``alpha = 1 - beta``, the identities
    ``<A,y> = <A,A>``, ``<A,w> = <A,A>`` and ``<y,w> = <y,B>`` hold in terms of the inner products
    alone (so in every dimension), and ``w != 0`` since ``<A,w> = |A|^2 > 0``.

    Logic (z3): at those points the premises of six P2 instances (and their mirrors) are
    equalities, so P2 gives ``f(A)(f(y)-f(A)) = 0``, ``f(A)(f(w)-f(A)) = 0`` and
    ``f(y)(f(w)-f(B)) = 0`` for ``(A, B) = (p, q)`` and ``(q, p)``; with ``f(p) != f(q)`` this is unsat.
    """
    import sympy as sp
    import z3

    start = time.perf_counter()
    a, c = sp.symbols("normA2 normAperp2", positive=True)
    sAB, tPB = sp.symbols("ipAB ipAperpB", real=True)
    # Inner products of A, A_perp, B with <A, A_perp> = 0.
    ip_A_y, ip_y_y, ip_y_B = a, a + c, sAB + tPB
    beta = (sAB + tPB - a) / c
    alpha = 1 - beta
    ip_A_w = alpha * a + beta * ip_A_y
    ip_y_w = alpha * ip_A_y + beta * ip_y_y
    geometry = [
        ("<A,y> = <A,A>", sp.simplify(ip_A_y - a) == 0),
        ("<A,w> = <A,A>", sp.simplify(ip_A_w - a) == 0),
        ("<y,w> = <y,B>", sp.simplify(ip_y_w - ip_y_B) == 0),
    ]
    j = 0
    vec = sp.symbols("A0:3", real=True)
    perp = [-vec[j + 1], vec[j], 0]
    geometry.append(("<A,A_perp> = 0", sp.expand(sum(x * y for x, y in zip(vec, perp))) == 0))
    if not all(ok for _, ok in geometry):
        bad = [name for name, ok in geometry if not ok]
        return SmtResult("unknown", f"sympy did not verify {bad}", time.perf_counter() - start)

    f = {k: z3.Real(f"f_{k}") for k in ("p", "q", "y", "w", "yr", "wr")}
    solver = z3.Solver()
    solver.set("timeout", int(timeout_s * 1000))
    for A, B, y, w in (("p", "q", "y", "w"), ("q", "p", "yr", "wr")):
        solver.add(f[A] * (f[y] - f[A]) == 0, f[A] * (f[w] - f[A]) == 0, f[y] * (f[w] - f[B]) == 0)
    solver.add(f["p"] != f["q"])
    answer = solver.check()
    seconds = time.perf_counter() - start
    if answer == z3.unsat:
        return SmtResult("proved", "sympy: the points' inner-product identities hold in every dimension; "
                         "z3: the P2 instances at those points force f(p) = f(q) (unsat)", seconds)
    return SmtResult("unknown", f"z3: {answer} ({solver.reason_unknown() if answer != z3.sat else 'logic step failed'})", seconds)
