"""One HiGHS model of the convex relaxation, kept alive and changed in place (highspy, warm starts).

Columns: ``x`` (inputs), ``z_k``, ``h_k`` per layer (the offsets of
:class:`latentcheck.checkers.verify.bab.Problem`) and the elastic slack ``s``.
Rows: each affine equality ``z_kj - W_k[j] . h_{k-1} = b_kj`` (exact, one row),
the hull lines of every activation on its interval (a fixed set of row "slots"
per unit, rewritten when the unit's interval changes), each unit's clamp
``lo <= z_kj <= hi`` from the path as two rows, and, on the binary domain, the sum
row ``sum(x) >= 1``; hull, clamp and sum rows are loosened by ``s``. Column
bounds: the domain's box on ``x``, the *forward* interval bounds on ``z`` (which
every ``h_{k-1}`` in its box meets, so the elastic LP is always feasible) and
the value ranges on ``h``. The multipliers of column bounds and clamp rows are
left out of a certificate: the exact re-check's box enforces both.

Two uses, one model:

* ``bound(col, sign)``: ``min sign * v[col]`` with ``s`` fixed at 0 (LP bound tightening);
* ``elastic()``: ``min s``; ``s* > 0`` means the node holds no zero-mapped input and the
  duals are a Farkas certificate (the row multipliers, as certificate rows).

HiGHS's duals satisfy ``c = A^T y + (column duals)``, ``y >= 0`` on a row at its lower
bound and ``<= 0`` at its upper bound; the rows ``a . v <= u`` (multiplier ``-y``) and
``a . v >= l`` (multiplier ``y``) then combine to ``r . v <= d`` with ``r = -(c - column duals)``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import numpy as np

__all__ = ["RelaxLP", "new_highs", "run_with_fallback", "iteration_limit"]

_INF = math.inf
_BANNER_DONE = False
#: HiGHS's dual simplex for both kinds of LP (measured: fewer iterations after a warm start than primal, and
#: the primal simplex's different optimal vertices made the branching choose worse units).
_BOUND_STRATEGY = 1
_NODE_STRATEGY = 1
#: HiGHS's simplex scaling: off (0) for the relaxation's LPs; the fallbacks below turn it back on (1: HiGHS
#: chooses). Measured (2026-12-06, idle 2-core CPU, the benchmark's cases, one process each): the same verdicts
#: with fewer dual simplex iterations and smaller trees, box 64-32-8 (+4) 359 -> 303 nodes, 1.65 -> 1.47 CPU s;
#: 64-64-32-8 473 -> 319 nodes, 6.26 -> 5.11 s; 256-128-32 8.69 -> 8.68 s; binary 1682-200-64 1746 -> 555 search
#: iterations, 1.00 -> 0.61 s. The weights a verify LP holds are one network's (rows of W and hull slopes), already
#: of one scale; a badly scaled one that stalls reaches the iteration limit and the fallback, scaled.
_SCALE_STRATEGY = 0
_FALLBACK_SCALE_STRATEGY = 1
#: After an LP stops at its iteration limit, the same LP is re-run with these (``solver``, ``simplex_strategy``):
#: the primal simplex, then the interior point method (with crossover, so duals and a basis come back).
_FALLBACKS = (("simplex", 4), ("ipm", None))
#: Interior point iterations allowed (its iteration count hardly grows with the model; crossover follows).
_IPM_ITERATIONS = 1000
#: A unit's hull lines are rewritten only when its interval is no longer inside the loaded one, its number of
#: pieces changed, or it shrank below this fraction of the loaded width; otherwise the loaded (looser, still
#: valid: the exact re-check tests each line on the leaf's interval) lines stay, and so does the warm basis.
_REWRITE_WIDTH = 0.75


def iteration_limit(rows: int, cols: int) -> int:
    """Simplex iterations allowed per LP before the fallback (issue 19: one LP of binary 400-64 took 259,235)."""
    return max(5000, 10 * (rows + cols))


def _status(h: Any) -> str:
    import highspy

    st = h.getModelStatus()
    if st == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if st == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    if st == highspy.HighsModelStatus.kIterationLimit:
        return "iteration limit"
    if st == highspy.HighsModelStatus.kTimeLimit:
        return "time limit"
    return str(st)


def _iterations(h: Any) -> int:
    info = h.getInfo()
    return max(0, int(info.simplex_iteration_count)) + max(0, int(info.ipm_iteration_count))


def _int_option(h: Any, name: str) -> int:
    """An integer option's value (highspy 1.16 answers ``(status, value)``, older ones the value)."""
    value = h.getOptionValue(name)
    return int(value[1] if isinstance(value, tuple) else value)


def run_with_fallback(h: Any, deadline: float | None, limit: int) -> tuple[str, int, int]:
    """Run ``h`` with at most ``limit`` simplex iterations; at the limit re-run it with the primal simplex, then
    with the interior point method. ``(status, iterations, fallbacks used)``; the status is ``"optimal"``,
    ``"infeasible"``, ``"time limit"``, ``"iteration limit"`` (every method stopped) or HiGHS's own."""
    its = fallbacks = 0
    saved, saved_scale = _int_option(h, "simplex_strategy"), _int_option(h, "simplex_scale_strategy")
    h.setOptionValue("simplex_iteration_limit", int(limit))
    h.setOptionValue("ipm_iteration_limit", _IPM_ITERATIONS)
    st = "iteration limit"
    try:
        for attempt in range(1 + len(_FALLBACKS)):
            if attempt:
                solver, strategy = _FALLBACKS[attempt - 1]
                h.setOptionValue("solver", solver)
                h.setOptionValue("simplex_scale_strategy", _FALLBACK_SCALE_STRATEGY)
                if strategy is not None:
                    h.setOptionValue("simplex_strategy", strategy)
                fallbacks += 1
            if deadline is not None:  # HiGHS's clock runs over the object's whole life
                h.setOptionValue("time_limit", h.getRunTime() + max(0.01, deadline - time.perf_counter()))
            h.run()
            its += _iterations(h)
            st = _status(h)
            if st != "iteration limit":
                break
    finally:
        if fallbacks:
            h.setOptionValue("solver", "choose")
            h.setOptionValue("simplex_strategy", saved)
            h.setOptionValue("simplex_scale_strategy", saved_scale)
    return st, its, fallbacks


def new_highs() -> Any:
    """A silent ``highspy.Highs`` (the library prints a banner on stdout at its first construction; it is held back)."""
    global _BANNER_DONE
    import highspy

    if _BANNER_DONE:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        _BANNER_DONE = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("simplex_scale_strategy", _SCALE_STRATEGY)
    return h


class RelaxLP:
    """The relaxation of one :class:`Problem` over a node's float bounds ``nb`` and hull lines ``hulls``."""

    def __init__(self, P: Any, nb: Any, hulls: list) -> None:
        self.P = P
        self.h = new_highs()
        self.h.setOptionValue("presolve", "off")
        self.s = P.nv - 1
        self.n_rows = 0
        self.tags: list = []  # per row: ("aff", k, j) | ("hull", k, j, slot) | ("sum",)
        self.slots: list[list[list[int]]] = []  # [k][j] -> row indices
        self.loaded: list[list[Any]] = []  # [k][j] -> the lines in its slots
        self.slot_coef: list[list[list[tuple]]] = []  # [k][j] -> per slot the (z, s) coefficients now in the model
        self.iv: list[tuple[np.ndarray, np.ndarray]] = []  # per layer: the float intervals the loaded lines are for
        self.cost_col: int | None = None
        self.iterations = 0  # simplex + IPM iterations over the model's life
        self.fallbacks = 0  # LPs re-run after the iteration limit
        self.limit: int | None = None  # iterations per LP (None: iteration_limit of the model's size)
        self.rewrites = 0  # units whose hull lines were rewritten at a node
        self._build(nb, hulls)

    # ------------------------------------------------------------------ building
    def _add_rows(self, lo: np.ndarray, hi: np.ndarray, starts: np.ndarray, idx: np.ndarray, val: np.ndarray) -> None:
        self.h.addRows(len(lo), np.asarray(lo, float), np.asarray(hi, float), len(idx), np.asarray(starts, np.int32),
                       np.asarray(idx, np.int32), np.asarray(val, float))
        self.n_rows += len(lo)

    def _build(self, nb: Any, hulls: list) -> None:
        P = self.P
        lo, hi = self._col_bounds(nb)
        self.h.addVars(P.nv, lo, hi)
        for k, W in enumerate(P.Ws):
            zo, _ = P.offs[k]
            prev = 0 if k == 0 else P.offs[k - 1][1]
            m, d = W.shape
            cols = np.concatenate([zo + np.arange(m)[:, None], prev + np.tile(np.arange(d), (m, 1))], axis=1)
            vals = np.concatenate([np.ones((m, 1)), -W], axis=1)
            keep = vals != 0.0
            keep[:, 0] = True
            starts = np.concatenate([[0], np.cumsum(keep.sum(axis=1))[:-1]])
            self._add_rows(P.bs[k], P.bs[k], starts, cols[keep], vals[keep])
            self.tags += [("aff", k, j) for j in range(m)]
        self.clamp_rows = []
        for k in range(len(P.Ws)):  # z - s <= hi ; z + s >= lo (free rows until the path clamps the unit)
            m, zo = P.sizes[k], P.offs[k][0]
            first = self.n_rows
            idx = np.stack([np.repeat(zo + np.arange(m), 2), np.full(2 * m, self.s)], axis=1).ravel()
            val = np.stack([np.ones(2 * m), np.tile([-1.0, 1.0], m)], axis=1).ravel()
            self._add_rows(np.full(2 * m, -_INF), np.full(2 * m, _INF), np.arange(0, 4 * m, 2), idx, val)
            self.tags += [None] * (2 * m)
            self.clamp_rows.append(first)
        self.clamped = [np.zeros(m, bool) for m in P.sizes]
        for k in range(len(P.Ws)):
            self.slots.append([[] for _ in range(P.sizes[k])])
            self.loaded.append([None] * P.sizes[k])
            self.slot_coef.append([[] for _ in range(P.sizes[k])])
            self.iv.append((nb.z[k][0].copy(), nb.z[k][1].copy()))
            for j in range(P.sizes[k]):
                self._load_unit(k, j, hulls[k][j])
        self._load_clamps(nb)
        if P.binary:
            self._add_rows(np.array([1.0]), np.array([_INF]), np.array([0]), np.r_[np.arange(P.n), self.s],
                           np.r_[np.ones(P.n), 1.0])
            self.tags.append(("sum",))
        self.h.changeColCost(self.s, 0.0)

    def _col_bounds(self, nb: Any) -> tuple[np.ndarray, np.ndarray]:
        P = self.P
        lo, hi = np.full(P.nv, -_INF), np.full(P.nv, _INF)
        lo[:P.n], hi[:P.n] = nb.x
        for k in range(len(P.sizes)):
            zo, ho = P.offs[k]
            m = P.sizes[k]
            lo[zo:zo + m], hi[zo:zo + m] = nb.zf[k]
            lo[ho:ho + m], hi[ho:ho + m] = nb.h[k]
        lo[self.s], hi[self.s] = 0.0, _INF
        return lo, hi

    def _load_unit(self, k: int, j: int, lines: tuple) -> None:
        """Write a unit's hull lines into its row slots (adding slots when there are more lines than rows)."""
        if self.loaded[k][j] == lines:
            return
        zo, ho = self.P.offs[k]
        slots = self.slots[k][j]
        for i, (_a, _c, sense, fa, fc) in enumerate(lines):
            sg = -1.0 if sense == "le" else 1.0  # le: h - a z - s <= c ; ge: h - a z + s >= c
            rlo, rhi = (-_INF, fc) if sense == "le" else (fc, _INF)
            coef = self.slot_coef[k][j]
            if i < len(slots):
                r = slots[i]
                if coef[i][0] != -fa:  # only the coefficients that differ: each change costs HiGHS a refactor
                    self.h.changeCoeff(r, zo + j, -fa)
                if coef[i][1] != sg:
                    self.h.changeCoeff(r, self.s, sg)
                coef[i] = (-fa, sg)
                self.h.changeRowBounds(r, rlo, rhi)
                self.tags[r] = ("hull", k, j, i)
            else:
                self._add_rows(np.array([rlo]), np.array([rhi]), np.array([0]), np.array([ho + j, zo + j, self.s]),
                               np.array([1.0, -fa, sg]))
                slots.append(self.n_rows - 1)
                coef.append((-fa, sg))
                self.tags.append(("hull", k, j, i))
        for r in slots[len(lines):]:
            self.h.changeRowBounds(r, -_INF, _INF)  # an unused slot: a free row
        self.loaded[k][j] = lines

    def clamp(self, k: int, j: int, lo: float, hi: float) -> None:
        """Set the clamp rows of ``z_kj`` to ``[lo, hi]``."""
        r = self.clamp_rows[k] + 2 * j
        self.h.changeRowBounds(r, -_INF, hi)
        self.h.changeRowBounds(r + 1, lo, _INF)
        self.clamped[k][j] = True

    def _load_clamps(self, nb: Any) -> None:
        for k in range(len(self.P.sizes)):
            (flo, fhi), (zlo, zhi) = nb.zf[k], nb.z[k]
            tight = (zlo > flo) | (zhi < fhi)
            for j in np.flatnonzero(tight | self.clamped[k]).tolist():
                if tight[j]:
                    self.clamp(k, j, float(zlo[j]), float(zhi[j]))
                else:
                    r = self.clamp_rows[k] + 2 * j
                    self.h.changeRowsBounds(2, np.array([r, r + 1], np.int32), np.full(2, -_INF), np.full(2, _INF))
                    self.clamped[k][j] = False

    # ------------------------------------------------------------------ a node
    def load(self, nb: Any, hulls: list) -> None:
        """Move the model to another node's bounds and hull lines (only the units that changed are rewritten)."""
        lo, hi = self._col_bounds(nb)
        idx = np.arange(self.P.nv, dtype=np.int32)
        self.h.changeColsBounds(len(idx), idx, lo, hi)
        self._load_clamps(nb)
        for k in range(len(self.P.sizes)):
            keep = self._keep(k, nb.z[k][0], nb.z[k][1], hulls[k])
            for j, lines in enumerate(hulls[k]):
                if self.loaded[k][j] != lines and not keep[j]:
                    self._load_unit(k, j, lines)
                    self.iv[k][0][j], self.iv[k][1][j] = nb.z[k][0][j], nb.z[k][1][j]
                    self.rewrites += 1

    def _keep(self, k: int, zlo: np.ndarray, zhi: np.ndarray, lines: list) -> np.ndarray:
        """Units whose loaded lines may stay: the new interval lies inside the loaded one, has as many lines
        (the same pieces meet it) and is not much narrower (see ``_REWRITE_WIDTH``)."""
        llo, lhi = self.iv[k]
        inside = (zlo >= llo) & (zhi <= lhi)
        with np.errstate(invalid="ignore"):
            wide = (zhi - zlo) >= _REWRITE_WIDTH * (lhi - llo)
        same = np.array([self.loaded[k][j] is not None and len(self.loaded[k][j]) == len(lines[j])
                         for j in range(len(lines))], bool)
        return inside & wide & same & np.isfinite(llo) & np.isfinite(lhi)

    def _set_cost(self, col: int | None, sign: float) -> None:
        if self.cost_col is not None:
            self.h.changeColCost(self.cost_col, 0.0)
        self.cost_col = col
        if col is not None:
            self.h.changeColCost(col, sign)

    def _run(self, deadline: float | None) -> str:
        limit = self.limit if self.limit is not None else iteration_limit(self.n_rows, self.P.nv)
        st, its, fb = run_with_fallback(self.h, deadline, limit)
        self.iterations += its
        self.fallbacks += fb
        return st

    def bound(self, col: int, sign: float, deadline: float | None = None) -> tuple[str, float, list]:
        """``min sign * v[col]`` over the relaxation (``s = 0``): ``(status, value, certificate rows)``."""
        self.h.changeColBounds(self.s, 0.0, 0.0)
        self._set_cost(col, sign)
        self.h.setOptionValue("simplex_strategy", _BOUND_STRATEGY)
        st = self._run(deadline)
        if st != "optimal":
            return st, math.nan, []
        return st, float(self.h.getInfo().objective_function_value), self.dual_rows()

    def elastic(self, deadline: float | None = None) -> tuple[str, float, np.ndarray | None, list]:
        """``min s``: ``(status, s*, the point, certificate rows)``."""
        self.h.changeColBounds(self.s, 0.0, _INF)
        self._set_cost(self.s, 1.0)
        self.h.setOptionValue("simplex_strategy", _NODE_STRATEGY)
        st = self._run(deadline)
        if st != "optimal":
            return st, math.nan, None, []
        v = np.asarray(self.h.getSolution().col_value)
        return st, float(self.h.getInfo().objective_function_value), v, self.dual_rows()

    def dual_rows(self) -> list:
        """The row multipliers as certificate rows (floats; :func:`bab._cert_rows` makes them exact strings)."""
        y = np.asarray(self.h.getSolution().row_dual)
        out: list = []
        aff: dict = {}
        for r in np.flatnonzero(y).tolist():
            tag, yr = self.tags[r], float(y[r])
            if tag is None:
                continue
            if tag[0] == "aff":
                aff[(tag[1], tag[2])] = aff.get((tag[1], tag[2]), 0.0) - yr
            elif tag[0] == "hull":
                k, j, i = tag[1], tag[2], tag[3]
                a, c, sense, _fa, _fc = self.loaded[k][j][i]
                lam = -yr if sense == "le" else yr
                if lam > 0:
                    out.append(("hull", k, j, a, c, sense, lam))
            elif tag[0] == "sum" and yr > 0:
                out.append(("sum", yr))
        out += [("aff", k, j, mu) for (k, j), mu in aff.items() if mu != 0.0]
        return out
