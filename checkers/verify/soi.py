"""Counterexample search for P3 on a piecewise-linear encoder: PGD on the latent and a sum-of-infeasibilities walk.

Both only *search*: every candidate goes through the caller's ``try_point``, which rounds it to an exact
rational input of the domain and checks ``enc(x) = 0`` exactly; a point that fails that check is dropped.

* :func:`pgd_points`: projected (sign) gradient descent on ``sum_j |s_L(z_Lj)|`` over the box, from a batch of
  random starts (and given starts, e.g. LP points); returns the starts ranked by their final loss.
* :class:`PatternLP` and :func:`soi_walk`: on a fixed activation pattern (one piece per unit) the network is
  affine, so "some ``x`` in the box follows the pattern and maps to 0" is an LP. The walk (Reluplex/Marabou
  DeepSoI style) keeps each unit's piece line ``h = a z + c`` exact and its piece interval ``lo_p <= z <= hi_p``
  elastic, minimises the sum of the elastic slacks, and, while that sum is positive, moves the unit with the
  largest slack (not on the tabu list) to the piece its LP value lies on. At sum 0 the pattern is feasible: one
  more LP maximises the margin to the knots (so the float point rounds to an exact one), and the point is tried.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import flint
import numpy as np
import lazy_loader as lazy

from .highs_lp import new_highs, run_with_fallback

#: SciPy loads on first use (lazy_loader): importing this module stays cheap for commands that never solves an LP.
linalg = lazy.load("scipy.linalg", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily

__all__ = ["PatternLP", "SearchStats", "pgd_points", "soi_walk", "search_portfolio", "exact_equality_repair"]

_INF = math.inf
_TOL = 1e-9


@dataclass
class SearchStats:
    """What the search did (merged into the verifier's stats)."""

    pgd_starts: int = 0
    pgd_seconds: float = 0.0
    soi_walks: int = 0
    soi_lps: int = 0
    soi_flips: int = 0
    soi_candidates: int = 0
    soi_seconds: float = 0.0
    lp_iterations: int = 0
    lp_fallbacks: int = 0
    rejected: int = 0  # candidates whose exact check failed
    found_by: str = ""


# --------------------------------------------------------------------------- pieces of an activation
def piece_lines(pl: Any) -> list[tuple[float, float, float, float]]:
    """``(lo, hi, a, c)`` per piece of ``pl``, left to right (float64; ``+-inf`` ends)."""
    ks = [float(k) for k in pl.knots]
    ends = [-_INF] + ks + [_INF]
    return [(ends[i], ends[i + 1], float(a), float(c)) for i, (a, c) in enumerate(pl._pieces)]


def zero_pieces(pl: Any) -> list[int]:
    """The pieces a latent unit may sit on: those where ``s`` is identically 0 if there are any (ReLU: ``z <= 0``),
    else those where ``s`` takes the value 0 at a point (leaky ReLU: ``z = 0``)."""
    flat, point = [], []
    for i, (lo, hi, a, c) in enumerate(piece_lines(pl)):
        if a == 0.0:
            if c == 0.0:
                flat.append(i)
        elif lo - 1e-12 <= -c / a <= hi + 1e-12:
            point.append(i)
    return flat or point


def piece_of(pl: Any, z: np.ndarray) -> np.ndarray:
    """The piece index of each value in ``z`` (a value on a knot gets the piece to its right)."""
    return np.searchsorted(np.asarray([float(k) for k in pl.knots]), z, side="right")


def forward(P: Any, X: np.ndarray) -> list[np.ndarray]:
    """Pre-activations ``z_k`` of every layer for a batch ``X`` (rows are inputs)."""
    zs, h = [], X
    for k, (W, b) in enumerate(zip(P.Ws, P.bs)):
        z = h @ W.T + b
        zs.append(z)
        h = P.pls[k].numpy(z)
    return zs


# --------------------------------------------------------------------------- PGD
def _slope(pl: Any, z: np.ndarray) -> np.ndarray:
    slopes = np.asarray([float(a) for a, _c in pl._pieces])
    return slopes[piece_of(pl, z)]


def _pgd_loss_grad(P: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_j |s_L(z_Lj)|`` per row of ``X`` and its (sub)gradient in ``X``."""
    hs, zs, h = [X], [], X
    for k, (W, b) in enumerate(zip(P.Ws, P.bs)):
        z = h @ W.T + b
        h = P.pls[k].numpy(z)
        zs.append(z)
        hs.append(h)
    loss = np.abs(h).sum(axis=1)
    g = np.sign(h)
    for k in range(len(P.Ws) - 1, -1, -1):
        g = (g * _slope(P.pls[k], zs[k])) @ P.Ws[k]
    return loss, g


def pgd_points(P: Any, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator, starts: list[np.ndarray] | None = None,
               batch: int = 32, steps: int = 150, deadline: float = _INF, sparse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sign-gradient descent on the latent's absolute sum inside ``[lo, hi]`` (finite box; binary: ``[0, 1]``).

    Returns ``(X, loss)``: the final points, best first."""
    lo_f = np.where(np.isfinite(lo), lo, -1.0)
    hi_f = np.where(np.isfinite(hi), hi, 1.0)
    X = lo_f + (hi_f - lo_f) * rng.random((batch, len(lo)))
    if sparse:  # binary users hold few items: start near the 0 corner
        X = lo_f + (hi_f - lo_f) * rng.random((batch, len(lo))) * (rng.random((batch, len(lo))) < 0.05)
    for i, s in enumerate((starts or [])[:batch]):
        X[i] = np.clip(s, lo_f, hi_f)
    width = hi_f - lo_f
    best_X, best_loss = X.copy(), np.full(batch, _INF)
    for t in range(steps):
        loss, g = _pgd_loss_grad(P, X)
        better = loss < best_loss
        best_X[better], best_loss[better] = X[better], loss[better]
        if best_loss.min() == 0.0 or time.perf_counter() > deadline:
            break
        step = 0.1 * (1.0 - t / steps) + 0.002
        X = np.clip(X - step * width * np.sign(g), lo_f, hi_f)
    order = np.argsort(best_loss)
    return best_X[order], best_loss[order]


def _loss_after_flips(P: Any, x: np.ndarray) -> np.ndarray:
    """``sum_j |s_L(z_Lj)|`` at each point ``x`` with one coordinate flipped (0 <-> 1), one row per coordinate.
    The first layer is updated by a rank-one change (no n x n product)."""
    z = P.Ws[0] @ x + P.bs[0]
    Z = z[None, :] + (1.0 - 2.0 * x)[:, None] * P.Ws[0].T
    h = P.pls[0].numpy(Z)
    for k in range(1, len(P.Ws)):
        h = P.pls[k].numpy(h @ P.Ws[k].T + P.bs[k])
    return np.abs(h).sum(axis=1)


def binary_descent(P: Any, x0: np.ndarray, steps: int = 40, deadline: float = _INF) -> np.ndarray | None:
    """Greedy single flips from a 0/1 point, each the one that lowers the latent's absolute sum most (keeping
    ``sum(x) >= 1``); the point where that sum is 0 in float64, or None (a local minimum)."""
    x = np.round(np.clip(x0, 0.0, 1.0))
    loss = float(_pgd_loss_grad(P, x[None, :])[0][0])
    for _ in range(steps):
        if loss == 0.0:
            return x if x.sum() >= 1 else None
        if time.perf_counter() > deadline:
            return None
        ls = _loss_after_flips(P, x)
        ls[(x.sum() + 1.0 - 2.0 * x) < 1] = _INF
        i = int(np.argmin(ls))
        if not ls[i] < loss:
            return None
        x[i], loss = 1.0 - x[i], float(ls[i])
    return x if loss == 0.0 and x.sum() >= 1 else None


# --------------------------------------------------------------------------- the pattern LP
class PatternLP:
    """One HiGHS model for the walk: columns ``x, (z_k, h_k, tlo_k, thi_k) per layer, margin``.

    Rows: ``z_k - W_k h_{k-1} = b_k``; per unit ``h - a z = c`` (its piece's line) and
    ``z + tlo - e m >= lo_p``, ``z - thi + e m <= hi_p`` (``e`` is 1 except for a latent unit on a sloped
    piece, whose zero is a single point); per latent unit ``h - u <= 0``, ``h + w >= 0`` (two more columns after
    ``m``); the binary domain's ``sum(x) >= 1``.
    Walk mode: ``m = 0``, minimise the sum of all slacks. Margin mode: slacks at 0 (so ``h_L = 0``), maximise ``m``.
    A flip rewrites one coefficient and a few row bounds; the model (and its basis) is kept.
    """

    def __init__(self, P: Any, lo: np.ndarray, hi: np.ndarray, pattern: list[np.ndarray], iter_limit: int) -> None:
        self.P, self.iter_limit = P, iter_limit
        self.lines = [piece_lines(pl) for pl in P.pls]
        self.h = new_highs()
        self.iterations = 0
        self.fallbacks = 0
        self._build(lo, hi)
        self.pattern = [np.full(m, -1) for m in P.sizes]
        self.set_pattern(pattern)

    def _build(self, lo: np.ndarray, hi: np.ndarray) -> None:
        P, h = self.P, self.h
        n, L = P.n, len(P.sizes)
        self.cols = []  # per layer (z, h, tlo, thi) offsets
        o = n
        for m in P.sizes:
            self.cols.append((o, o + m, o + 2 * m, o + 3 * m))
            o += 4 * m
        self.mcol = o
        mL = P.sizes[-1]
        self.ucol = o + 1  # u_j, then w_j: the latent slacks
        nv = o + 1 + 2 * mL
        clo, chi, cost = np.full(nv, -_INF), np.full(nv, _INF), np.zeros(nv)
        clo[:n], chi[:n] = lo, hi
        for k, (zo, ho, lo_o, hi_o) in enumerate(self.cols):
            m = P.sizes[k]
            clo[lo_o:lo_o + 2 * m], cost[lo_o:lo_o + 2 * m] = 0.0, 1.0
        clo[self.mcol], chi[self.mcol] = 0.0, 0.0
        clo[self.ucol:], cost[self.ucol:] = 0.0, 1.0
        self.slack_idx = np.concatenate([np.arange(c[2], c[2] + 2 * m) for c, m in zip(self.cols, P.sizes)]
                                        + [np.arange(self.ucol, nv)]).astype(np.int32)
        h.addVars(nv, clo, chi)
        h.changeColsCost(nv, np.arange(nv, dtype=np.int32), cost)
        self.nrows = 0
        self.rows = []  # per layer (line row start, lo row start, hi row start)
        for k, W in enumerate(P.Ws):
            zo, ho, lo_o, hi_o = self.cols[k]
            prev = 0 if k == 0 else self.cols[k - 1][1]
            m, d = W.shape
            for j in range(m):
                nz = np.flatnonzero(W[j])
                self._row(P.bs[k][j], P.bs[k][j], np.r_[zo + j, prev + nz], np.r_[1.0, -W[j][nz]])
            r0 = self.nrows
            for j in range(m):
                self._row(0.0, 0.0, [ho + j, zo + j], [1.0, 0.0])
            r1 = self.nrows
            for j in range(m):
                self._row(-_INF, _INF, [zo + j, lo_o + j, self.mcol], [1.0, 1.0, -1.0])
            r2 = self.nrows
            for j in range(m):
                self._row(-_INF, _INF, [zo + j, hi_o + j, self.mcol], [1.0, -1.0, 1.0])
            self.rows.append((r0, r1, r2))
        ho = self.cols[-1][1]
        for j in range(mL):
            self._row(-_INF, 0.0, [ho + j, self.ucol + j], [1.0, -1.0])
            self._row(0.0, _INF, [ho + j, self.ucol + mL + j], [1.0, 1.0])
        if P.binary:
            self._row(1.0, _INF, np.arange(n), np.ones(n))

    def _row(self, lo: float, hi: float, idx: Any, val: Any) -> None:
        idx, val = np.asarray(idx, np.int32), np.asarray(val, float)
        self.h.addRow(float(lo), float(hi), len(idx), idx, val)
        self.nrows += 1

    def set_unit(self, k: int, j: int, p: int) -> None:
        """Put unit ``(k, j)`` on piece ``p``."""
        if self.pattern[k][j] == p:
            return
        plo, phi, a, c = self.lines[k][p]
        r0, r1, r2 = self.rows[k]
        zo = self.cols[k][0]
        h = self.h
        h.changeCoeff(r0 + j, zo + j, -a)
        h.changeRowBounds(r0 + j, c, c)
        latent_point = k == len(self.P.sizes) - 1 and a != 0.0
        h.changeCoeff(r1 + j, self.mcol, 0.0 if latent_point else -1.0)
        h.changeCoeff(r2 + j, self.mcol, 0.0 if latent_point else 1.0)
        h.changeRowBounds(r1 + j, plo, _INF)
        h.changeRowBounds(r2 + j, -_INF, phi)
        self.pattern[k][j] = p

    def set_pattern(self, pattern: list[np.ndarray]) -> None:
        for k, ps in enumerate(pattern):
            for j in np.flatnonzero(ps != self.pattern[k]).tolist():
                self.set_unit(k, j, int(ps[j]))

    def _solve(self, deadline: float) -> str:
        st, its, fb = run_with_fallback(self.h, deadline, self.iter_limit)
        self.iterations += its
        self.fallbacks += fb
        return st

    def soi(self, deadline: float) -> tuple[str, float, np.ndarray | None]:
        """Minimise the sum of infeasibilities on the current pattern: ``(status, sum, column values)``."""
        self.h.changeColBounds(self.mcol, 0.0, 0.0)
        self.h.changeColCost(self.mcol, 0.0)
        self._slacks_free(True)
        st = self._solve(deadline)
        if st != "optimal":
            return st, _INF, None
        v = np.asarray(self.h.getSolution().col_value)
        return st, float(self.h.getInfo().objective_function_value), v

    def margin(self, deadline: float) -> tuple[str, float, np.ndarray | None]:
        """With every slack at 0, maximise the distance ``m`` of the pre-activations to their piece ends."""
        self._slacks_free(False)
        self.h.changeColBounds(self.mcol, 0.0, 1.0)
        self.h.changeColCost(self.mcol, -1.0)
        st = self._solve(deadline)
        out = (st, _INF, None)
        if st == "optimal":
            out = (st, float(self.h.getSolution().col_value[self.mcol]), np.asarray(self.h.getSolution().col_value))
        self.h.changeColCost(self.mcol, 0.0)
        self.h.changeColBounds(self.mcol, 0.0, 0.0)
        self._slacks_free(True)
        return out

    def _slacks_free(self, free: bool) -> None:
        idx = self.slack_idx
        self.h.changeColsBounds(len(idx), idx, np.zeros(len(idx)), np.full(len(idx), _INF if free else 0.0))

    def violations(self, v: np.ndarray) -> list[tuple[float, int, int, int]]:
        """``(score, layer, unit, wanted direction)`` of the units worth moving, best first: every unit with a
        positive slack (score ``1 + slack``), then the hidden units whose piece end binds (score: the row
        dual, what relaxing that end would lower the sum by, below 1)."""
        out = []
        duals = np.asarray(self.h.getSolution().row_dual)
        L = len(self.cols)
        for k, (_zo, _ho, lo_o, hi_o) in enumerate(self.cols):
            m = self.P.sizes[k]
            tlo, thi = v[lo_o:lo_o + m], v[hi_o:hi_o + m]
            if k == L - 1:  # a latent unit with h > 0 (h < 0) on a rising piece: z wants to go down (up)
                u, w = v[self.ucol:self.ucol + m], v[self.ucol + m:self.ucol + 2 * m]
                tlo, thi = tlo + np.where(w > _TOL, w, 0.0), thi + np.where(u > _TOL, u, 0.0)
            for j in np.flatnonzero((tlo > _TOL) | (thi > _TOL)).tolist():
                out.append((1.0 + float(max(tlo[j], thi[j])), k, j, -1 if tlo[j] > thi[j] else 1))
            if k == L - 1:
                continue
            _r0, r1, r2 = self.rows[k]
            dlo, dhi = np.abs(duals[r1:r1 + m]), np.abs(duals[r2:r2 + m])
            bind = (dlo > _TOL) | (dhi > _TOL)
            bind &= ~((tlo > _TOL) | (thi > _TOL))
            for j in np.flatnonzero(bind).tolist():
                sc = float(max(dlo[j], dhi[j]))
                out.append((min(sc, 0.999), k, j, -1 if dlo[j] > dhi[j] else 1))
        out.sort(reverse=True)
        return out


# --------------------------------------------------------------------------- the walk
def start_pattern(P: Any, x: np.ndarray, zero_ok: list[list[int]]) -> list[np.ndarray]:
    """The pieces the network's pre-activations at ``x`` lie on; latent units moved to their nearest zero piece."""
    zs = forward(P, x[None, :])
    pat = [piece_of(P.pls[k], z[0]) for k, z in enumerate(zs)]
    last = pat[-1]
    for j in range(len(last)):
        if last[j] not in zero_ok[-1]:
            last[j] = min(zero_ok[-1], key=lambda p: abs(p - last[j]))
    return pat


def _next_piece(lp: PatternLP, k: int, j: int, v: np.ndarray, direction: int, zero_ok: list[int] | None) -> int | None:
    """The piece to move unit ``(k, j)`` to: where its LP value lies (or one step in the wanted direction)."""
    cur = int(lp.pattern[k][j])
    z = v[lp.cols[k][0] + j]
    target = int(piece_of(lp.P.pls[k], np.array([z]))[0])
    if target == cur:
        target = cur + direction
    if not 0 <= target < len(lp.lines[k]):
        return None
    if zero_ok is not None:
        allowed = [p for p in zero_ok if p != cur and (p - cur) * direction > 0]
        return min(allowed, key=lambda p: abs(p - target)) if allowed else None
    return target


def soi_walk(lp: PatternLP, pattern: list[np.ndarray], zero_ok: list[list[int]], try_lp_point: Callable, deadline: float,
             stats: SearchStats, rng: np.random.Generator, max_flips: int = 400, tabu_len: int = 8) -> Any:
    """One walk from ``pattern``: returns what ``try_lp_point`` accepted, or None."""
    stats.soi_walks += 1
    lp.set_pattern(pattern)
    tabu: deque = deque(maxlen=tabu_len)
    best, stall = _INF, 0
    for _ in range(max_flips):
        if time.perf_counter() > deadline:
            return None
        st, s, v = lp.soi(deadline)
        stats.soi_lps += 1
        if st != "optimal":
            return None
        if s <= _TOL:
            stats.soi_candidates += 1
            return try_lp_point(lp, v, deadline)
        if s < best - 1e-9:
            best, stall = s, 0
        else:
            stall += 1
            if stall > 40:
                return None
        moved = False
        for _slack, k, j, direction in lp.violations(v):
            if (k, j) in tabu:
                continue
            p = _next_piece(lp, k, j, v, direction, zero_ok[k] if k == len(lp.P.sizes) - 1 else None)
            if p is None:
                continue
            lp.set_unit(k, j, p)
            tabu.append((k, j))
            stats.soi_flips += 1
            moved = True
            break
        if not moved and not _kick(lp, v, tabu, rng, stats):
            return None
    return None


def _kick(lp: PatternLP, v: np.ndarray, tabu: deque, rng: np.random.Generator, stats: SearchStats) -> bool:
    """No unit is worth moving (a local minimum): flip a random hidden unit not on the tabu list, chosen with
    weight ``exp(-distance of its LP value to its piece's nearer end)`` (Marabou's DeepSoI proposes random flips)."""
    cands, weights = [], []
    for k in range(len(lp.cols) - 1):
        z = v[lp.cols[k][0]:lp.cols[k][0] + lp.P.sizes[k]]
        for j in range(len(z)):
            if (k, j) in tabu:
                continue
            plo, phi, _a, _c = lp.lines[k][lp.pattern[k][j]]
            dlo, dhi = z[j] - plo, phi - z[j]
            d, direction = (dlo, -1) if dlo < dhi else (dhi, 1)
            p = int(lp.pattern[k][j]) + direction
            if 0 <= p < len(lp.lines[k]) and math.isfinite(d):
                cands.append((k, j, p))
                weights.append(max(0.0, d))
    if not cands:
        return False
    w = np.exp(-4.0 * (np.asarray(weights) - min(weights)))  # relative to the nearest: never all 0
    w /= w.sum()
    k, j, p = cands[int(rng.choice(len(cands), p=w))]
    lp.set_unit(k, j, p)
    tabu.append((k, j))
    stats.soi_flips += 1
    return True


def _q(v: float) -> Any:
    return flint.fmpq(*float(v).as_integer_ratio())


def _exact_W(P: Any, k: int) -> Any:
    """``W_k`` as an exact ``fmpq_mat`` (the float64 numbers themselves; a proposal only: every point the repair
    returns is checked exactly against the stored weights before it is reported)."""
    W = P.Ws[k]
    return flint.fmpq_mat(W.shape[0], W.shape[1], [_q(v) for v in W.ravel().tolist()])


def _latent_rows(P: Any, pattern: list[np.ndarray], rows: list[int]) -> tuple[Any, list]:
    """On the pattern, ``z_L[rows] = G x + g`` exactly: ``(G as fmpq_mat, g as fmpq list)``."""
    L = len(P.Ws)
    WL = _exact_W(P, L - 1)
    G = flint.fmpq_mat(len(rows), WL.ncols(), [WL[j, i] for j in rows for i in range(WL.ncols())])
    for k in range(L - 2, -1, -1):
        a = [P.pls[k]._pieces[int(p)][0] for p in pattern[k]]
        G = flint.fmpq_mat(G.nrows(), G.ncols(), [G[r, i] * flint.fmpq(a[i].numerator, a[i].denominator)
                                                   for r in range(G.nrows()) for i in range(G.ncols())]) * _exact_W(P, k)
    h = flint.fmpq_mat(P.n, 1, [0] * P.n)
    for k in range(L):
        z = _exact_W(P, k) * h + flint.fmpq_mat(len(P.bs[k]), 1, [_q(v) for v in P.bs[k].tolist()])
        if k == L - 1:
            return G, [z[j, 0] for j in rows]
        pcs = [P.pls[k]._pieces[int(p)] for p in pattern[k]]
        h = flint.fmpq_mat(len(pcs), 1, [flint.fmpq(a.numerator, a.denominator) * z[i, 0] + flint.fmpq(c.numerator, c.denominator)
                                         for i, (a, c) in enumerate(pcs)])
    raise AssertionError("unreachable")


def exact_equality_repair(P: Any, pattern: list[np.ndarray], x: np.ndarray, bounds_too: bool = False) -> list[Fraction] | None:
    """An exact rational input for a latent unit whose zero is a single point of a sloped piece (leaky ReLU,
    hard tanh, identity: ``a z + c = 0``), which no float point hits: those rows ``G x + g = -c/a`` are solved
    exactly for as many coordinates of ``x`` strictly inside the box (chosen by pivoted QR), the rest kept at
    ``x``'s values. ``bounds_too``: when too few coordinates are inside, coordinates at a bound of the box may
    move too (for a homogeneous encoder, whose candidate the caller scales back into the domain). The result is
    only a candidate (the caller checks it exactly). None when no latent unit needs it."""
    last = pattern[-1]
    pcs = P.pls[-1]._pieces
    rows = [j for j in range(len(last)) if pcs[int(last[j])][0] != 0]
    if not rows or len(rows) > P.n:
        return None
    G, g = _latent_rows(P, pattern, rows)
    inside = np.flatnonzero((x > P.xlo + 1e-9) & (x < P.xhi - 1e-9))
    if len(inside) < len(rows) and bounds_too:
        at_bound = np.flatnonzero(~((x > P.xlo + 1e-9) & (x < P.xhi - 1e-9)) & (P.xlo < P.xhi))
        inside = np.concatenate([inside, at_bound])
    if len(inside) < len(rows):
        return None
    Gf = np.array([[float(G[r, i]) for i in inside] for r in range(len(rows))])
    _qm, _rm, piv = linalg.qr(Gf, pivoting=True)
    B = [int(inside[i]) for i in piv[:len(rows)]]
    xq = [_q(v) for v in x.tolist()]
    for i in B:
        xq[i] = flint.fmpq(0)
    rest = G * flint.fmpq_mat(P.n, 1, xq)
    rhs = []
    for r, j in enumerate(rows):
        a, c = pcs[int(last[j])]
        rhs.append(-flint.fmpq(c.numerator, c.denominator) / flint.fmpq(a.numerator, a.denominator) - g[r] - rest[r, 0])
    GB = flint.fmpq_mat(len(rows), len(rows), [G[r, i] for r in range(len(rows)) for i in B])
    try:
        sol = GB.solve(flint.fmpq_mat(len(rows), 1, rhs))
    except ZeroDivisionError:
        return None
    for t, i in enumerate(B):
        xq[i] = sol[t, 0]
    return [Fraction(int(v.p), int(v.q)) for v in xq]


def _lp_point_tryer(P: Any, try_point: Callable, stats: SearchStats) -> Callable:
    """Candidates from a feasible pattern: the margin LP's ``x`` (rounded on the binary domain), then the walk's."""

    def attempt(lp: PatternLP, v: np.ndarray, deadline: float) -> Any:
        cands = []
        st, m, vm = lp.margin(deadline)
        if st == "optimal" and vm is not None:
            cands.append(vm[:P.n])
        cands.append(v[:P.n])
        if not P.binary:
            xe = exact_equality_repair(P, lp.pattern, cands[0])
            if xe is not None:
                found = try_point(xe)
                if found is not None:
                    return found
                stats.rejected += 1
        for x in cands:
            for c in (_binary_cands(P, x, deadline) if P.binary else [x]):
                if P.binary and c.sum() < 1:
                    continue
                found = try_point(c)
                if found is not None:
                    return found
                stats.rejected += 1
        return None

    return attempt


def _binary_cands(P: Any, x: np.ndarray, deadline: float = _INF) -> list[np.ndarray]:
    """0/1 candidates from a point of ``[0, 1]^n``: rounded, and the rounding repaired by greedy flips."""
    out = [np.round(x)]
    fixed = binary_descent(P, x, deadline=deadline)
    if fixed is not None:
        out.append(fixed)
    return out


def search_portfolio(P: Any, lo: np.ndarray, hi: np.ndarray, try_point: Callable, deadline: float, stats: SearchStats,
                     starts: list[np.ndarray] | None = None, seed: int = 0, iter_limit: int = 20000) -> Any:
    """PGD from random starts (and ``starts``), then SoI walks from the best PGD points' patterns, until ``deadline``.

    Returns an exact counterexample accepted by ``try_point``, or None."""
    zero_ok = [[] for _ in P.pls[:-1]] + [zero_pieces(P.pls[-1])]
    if not zero_ok[-1]:
        return None  # the latent activation is never 0: nothing to find (the tree proves it)
    rng = np.random.default_rng(seed)
    lp, attempt = None, _lp_point_tryer(P, try_point, stats)
    rounds = 0
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        X, loss = pgd_points(P, lo, hi, rng, starts if rounds == 0 else None, deadline=deadline, sparse=P.binary)
        stats.pgd_starts += len(X)
        stats.pgd_seconds += time.perf_counter() - t
        for x, l in zip(X[:4], loss[:4]):
            for c in (_binary_cands(P, x, deadline)[1:] if P.binary else ([x] if l <= _TOL else [])):
                found = try_point(c)
                if found is not None:
                    stats.found_by = "pgd"
                    return found
                stats.rejected += 1
        t = time.perf_counter()
        try:
            if lp is None:
                lp = PatternLP(P, lo, hi, start_pattern(P, X[0], zero_ok), iter_limit)
            for x in X[:max(2, 8 >> min(rounds, 2))]:
                if time.perf_counter() > deadline:
                    break
                found = soi_walk(lp, start_pattern(P, x, zero_ok), zero_ok, attempt, deadline, stats, rng)
                if found is not None:
                    stats.found_by = "soi"
                    return found
        finally:
            stats.soi_seconds += time.perf_counter() - t
            if lp is not None:
                stats.lp_iterations, stats.lp_fallbacks = lp.iterations, lp.fallbacks
        rounds += 1
    return None
