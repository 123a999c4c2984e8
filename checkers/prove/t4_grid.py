"""How many distinct latent vectors may a P2 map on a grid ``{0..g}^n \\ {0}`` into ``R^m`` have? Exactly.

Upper bound (valid for every map with P2 on the grid, P3 not required): a closure over the Gram entries
``G(x,u) = <f x, f u>`` that merges entries only by three proved rules, until nothing changes:

1. **ties and symmetry**: ``G(x,u) = G(x,v)`` when ``<x,u> = <x,v>`` (P2 in both orders); ``G(x,u) = G(u,x)``;
2. **the bordered-block lemma** (:func:`latentcheck.checkers.prove.t4_gram.bordered_block_lemma`): points
   ``p_1..p_N``, ``N = m + 1``, with every ``G(p_k,p_k)`` in class ``d``, every ``G(p_k,p_l)`` (``k != l``) in
   class ``o``, and a point ``q`` with every ``G(q,p_k)`` in class ``d``: if ``d != o`` as numbers the block has
   a left inverse, so ``N <= m``: impossible; merge ``d`` and ``o``;
3. **equal vectors**: ``G(x,x)``, ``G(x,y)``, ``G(y,y)`` in one class gives ``|f x - f y|^2 = 0``: ``f x = f y``,
   so ``G(x,z) = G(y,z)`` for every ``z``.

The bound is the number of classes of points that rule 3 leaves. Lower bound: an explicit map, re-checked
exactly (int64) on every triple of the grid. Where the two agree the table's answer is exact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from .smt import _model_value, p2_table_violations

__all__ = ["GridAnswer", "grid_upper_bound", "grid_witness", "grid_answer", "grid_table"]


class _UF:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[ra] = rb
        return True


def _points(n: int, g: int) -> np.ndarray:
    return np.array([p for p in itertools.product(range(g + 1), repeat=n) if any(p)], dtype=np.int64)


def _tie_closure(ip: np.ndarray) -> _UF:
    size = len(ip)
    uf = _UF(size * size)
    for x in range(size):
        first: dict[int, int] = {}
        for u in range(size):
            uf.union(x * size + first.setdefault(int(ip[x, u]), u), x * size + u)
            uf.union(x * size + u, u * size + x)
    return uf


def _clique(cands: list[int], size: int, ok) -> list[int] | None:
    """A set of ``size`` candidates pairwise ``ok`` (simple backtracking; grids here are small)."""
    def grow(chosen: list[int], rest: list[int]) -> list[int] | None:
        if len(chosen) == size:
            return chosen
        for i, c in enumerate(rest):
            if all(ok(c, d) for d in chosen):
                found = grow(chosen + [c], rest[i + 1:])
                if found:
                    return found
        return None
    return grow([], cands)


def _block_merge(uf: _UF, size: int, N: int) -> bool:
    """Rule 2 once over every (q, diagonal class, off class); True if something merged."""
    cls = lambda a, b: uf.find(a * size + b)  # noqa: E731
    for q in range(size):
        for d in {cls(p, p) for p in range(size)}:
            cands = [p for p in range(size) if cls(p, p) == d and cls(q, p) == d]
            for o in {cls(a, b) for a in cands for b in cands if a != b} - {d}:
                if _clique(cands, N, lambda a, b: cls(a, b) == o):
                    uf.union(d, o)
                    return True
    return False


def _vector_merge(uf: _UF, size: int, pts_uf: _UF) -> bool:
    """Rule 3: equal vectors; merge their Gram rows. True if something merged."""
    cls = lambda a, b: uf.find(a * size + b)  # noqa: E731
    changed = False
    for x in range(size):
        for y in range(x + 1, size):
            if cls(x, x) == cls(x, y) == cls(y, y) and pts_uf.union(x, y):
                for z in range(size):
                    uf.union(x * size + z, y * size + z)
                changed = True
    return changed


def grid_upper_bound(n: int, g: int, m: int) -> tuple[int, int]:
    """``(upper bound on distinct latent vectors, Gram classes left)`` for P2 maps ``{0..g}^n \\ {0} -> R^m``
    by the closure alone (rules 1-3)."""
    reps, classes = _closure(n, g, m)
    return len(reps), classes


def grid_witness(n: int, g: int, m: int) -> np.ndarray:
    """A map with two latent vectors: ``e_1`` off the top and ``e_1 + e_2`` at the top ``g 1`` (``m >= 2``); for
    ``m = 1``, ``0`` off the top and ``1`` at the top. Rows follow :func:`_points`."""
    pts = _points(n, g)
    enc = np.zeros((len(pts), m), dtype=np.int64)
    top = np.all(pts == g, axis=1)
    if m >= 2:
        enc[:, 0] = 1
        enc[top, 1] = 1
    else:
        enc[top, 0] = 1
    return enc


def _violations(pts: np.ndarray, enc: np.ndarray) -> int:
    ip, lat = pts @ pts.T, enc @ enc.T
    bad = 0
    for x in range(len(pts)):
        a, b = ip[x], lat[x]
        bad += int(np.count_nonzero((a[:, None] <= a[None, :]) & (b[:, None] > b[None, :])))
    return bad


@dataclass(frozen=True)
class GridAnswer:
    """``lower <= max distinct latent vectors <= upper``; ``how`` says what decided each bound."""

    n: int
    g: int
    m: int
    lower: int
    upper: int
    gram_classes: int
    how: str
    witness: dict[str, list[str]] | None = None  # the z3 map reaching ``lower`` (exact strings), if z3 found it

    @property
    def exact(self) -> bool:
        return self.lower == self.upper


def _closure(n: int, g: int, m: int) -> tuple[list[int], int]:
    """Representatives of the point classes the closure leaves, and the number of Gram classes."""
    pts = _points(n, g)
    size = len(pts)
    uf = _tie_closure(pts @ pts.T)
    pts_uf = _UF(size)
    while _block_merge(uf, size, m + 1) or _vector_merge(uf, size, pts_uf):
        pass
    return sorted({pts_uf.find(x) for x in range(size)}), len({uf.find(e) for e in range(size * size)})


def grid_answer(n: int, g: int, m: int, timeout_s: float = 20.0, max_queries: int = 400) -> GridAnswer:
    """Closure bound, the explicit two-vector witness, then z3 over subsets of the representatives, largest
    first: the first ``sat`` (re-checked exactly) is the maximum once every larger subset was ``unsat``."""
    pts = _points(n, g)
    enc = grid_witness(n, g, m)
    lower = len({tuple(r) for r in enc.tolist()}) if _violations(pts, enc) == 0 else 1
    reps, classes = _closure(n, g, m)
    upper, how = len(reps), "closure"
    from math import comb

    decided = True  # False once z3 said unknown: the upper bound then stays where it is
    for k in range(len(reps), lower, -1):
        if comb(len(reps), k) > max_queries:
            return GridAnswer(n, g, m, lower, upper, classes, f"{how}; {comb(len(reps), k)} {k}-subsets: not searched")
        answers = []
        for subset in itertools.combinations(reps, k):
            status, table = grid_z3_witness(n, g, m, subset, timeout_s)
            answers.append(status)
            if status == "sat":
                shown = {"".join(map(str, p)): [str(v) for v in vals] for p, vals in table.items()}
                return GridAnswer(n, g, m, k, upper, classes, f"{how}; z3 witness with {k} (exact re-check)", shown)
        if any(a == "unknown" for a in answers):
            decided, how = False, f"{how}; z3 unknown on some {k}-subset"
        elif decided:
            upper, how = k - 1, f"closure + z3 unsat on every {k}-subset"
    return GridAnswer(n, g, m, lower, upper, classes, how + "; explicit witness")


def grid_table(cases: Sequence[tuple[int, int, int]], timeout_s: float = 20.0) -> list[GridAnswer]:
    return [grid_answer(n, g, m, timeout_s) for n, g, m in cases]


def grid_z3_witness(n: int, g: int, m: int, distinct: Sequence[int], timeout_s: float = 20.0):
    """z3 (QF_NRA): a P2 map on the grid whose latent vectors at the points ``distinct`` (indices into the grid)
    are pairwise different. Returns ``(status, table)``: ``"sat"`` only with a rational model that passes the exact
    re-check on every triple (``smt.p2_table_violations``); ``"unsat"``; or ``"unknown"``."""
    import z3


    pts = [tuple(int(v) for v in p) for p in _points(n, g).tolist()]
    f = {p: [z3.Real(f"f_{'_'.join(map(str, p))}_{i}") for i in range(m)] for p in pts}
    ip = {(a, b): sum(x * y for x, y in zip(a, b)) for a in pts for b in pts}
    lat = lambda a, b: z3.Sum([x * y for x, y in zip(f[a], f[b])])  # noqa: E731
    s = z3.SolverFor("QF_NRA")
    s.set("timeout", int(timeout_s * 1000))
    for x in pts:
        order = sorted(pts, key=lambda u: ip[(x, u)])
        for u, v in zip(order, order[1:]):  # consecutive in <x,.> order: a chain implies every pair
            s.add(lat(x, u) <= lat(x, v) if ip[(x, u)] < ip[(x, v)] else lat(x, u) == lat(x, v))
    for a, b in itertools.combinations([pts[i] for i in distinct], 2):
        s.add(z3.Or([p != q for p, q in zip(f[a], f[b])]))
    answer = s.check()
    if answer != z3.sat:
        return ("unsat" if answer == z3.unsat else "unknown"), None
    model = s.model()
    try:
        table = {p: [_model_value(model.eval(c, model_completion=True)) for c in f[p]] for p in pts}
    except ValueError:
        return "unknown", None
    if p2_table_violations(pts, table):
        return "unknown", None
    return "sat", table
