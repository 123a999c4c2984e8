"""Certified LP bound tightening of the unstable pre-activations, on one warm-started HiGHS model.

For each unstable unit, layer by layer, ``min z_kj`` and ``max z_kj`` over the
convex relaxation *including the latent constraint* ``h_L = 0`` (only
zero-mapped inputs matter, so bounds also flow backwards). Each LP is the
previous one with another objective (HiGHS keeps its basis). A bound the LP
improves by more than a small margin is made exact: its dual multipliers,
taken at their exact binary values, imply a bound in rationals
(:func:`latentcheck.counterexamples.certificate.implied_bound`), and that exact
bound is recorded (the re-checker finds it true by construction). It then
clamps the unit at once, in the LP (column bounds and hull lines) and in the
exact box, for the LPs that follow.

The exact box used for a bound may be wider than the re-checker's "box built
so far" (later layers are not re-propagated inside a pass); a bound implied on
a wider box is implied on a narrower one, and a hull line valid on a wider
interval is valid on a narrower one.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any

import numpy as np

from . import bound_methods as BM
from . import invprop as IP
from .bab import BabStats, Problem, _down, _hull_cached, _hulls, _up, _x_box, _zclamp
from .bounds import _range_cached, node_bounds
from ...counterexamples.certificate import Q, implied_bound, leaf_box
from .bab import _cert_rows

__all__ = ["tighten"]

#: A float LP bound must beat the current bound by this (relative to the interval's width) to be worth an exact step
#: (and a derived bound, which the whole certificate's check proves again). 1% (was 0.1%): a bound that shrinks an
#: interval by less hardly moves the unit's hull lines but costs two exact checks. Measured 2026-12-06 (2-core CPU,
#: load about 1-2, one process each, CPU s of the solve, 0.1% -> 1%): box 64-32-8 (+4) 64 -> 28 derived bounds,
#: 1.48 -> 1.35 s; seeds 1 and 4 of it 0.98 -> 0.61, 1.80 -> 1.48; 64-64-32-8 (+6) seeds 1, 3, 4 3.46 -> 3.31,
#: 3.10 -> 3.15, 7.02 -> 5.55; 256-128-32 (+6), still proved at the root, 9.38 -> 9.08. At 5% the trees of
#: 64-64-32-8 grew (seed 1: 55 -> 105 nodes).
_MIN_GAIN = 1e-2


def _latent_exact(pl: Any) -> bool:
    """Whether ``h = 0`` on the latent layer already says all there is: ``s >= 0`` and convex (relu), so the
    relaxation's ``0 >= s(z)`` lines are the exact zero set whatever the interval (no latent bound to tighten)."""
    lo, _hi = pl.range_on(None, None)
    if lo is None or lo < 0:
        return False
    if not pl.knots:
        return True
    slopes = [pl.slope_left] + [(b - a) / (q - p) for p, q, a, b in zip(pl.knots, pl.knots[1:], pl.values, pl.values[1:])]
    slopes.append(pl.slope_right)
    return all(a <= b for a, b in zip(slopes, slopes[1:]))


def _unstable(P: Problem, nb: Any, k: int) -> list[int]:
    if k == len(P.sizes) - 1 and _latent_exact(P.pls[k]):
        return []
    zlo, zhi = nb.z[k]
    knots = [float(q) for q in P.pls[k].knots]
    return [j for j in range(P.sizes[k]) if any(zlo[j] < q < zhi[j] for q in knots)]


def _clamp_unit(P: Problem, lp: Any, nb: Any, box: Any, k: int, j: int, sense: str, val: Any) -> None:
    """Apply a new exact bound on ``z_kj`` to the float bounds, the LP and the exact box."""
    zlo, zhi = nb.z[k]
    if sense == "ge":
        zlo[j] = max(zlo[j], _down(Fraction(str(val))))
        box.z[k][0][j] = val if box.z[k][0][j] is None else max(box.z[k][0][j], val)
    else:
        zhi[j] = min(zhi[j], _up(Fraction(str(val))))
        box.z[k][1][j] = val if box.z[k][1][j] is None else min(box.z[k][1][j], val)
    last = k == len(P.sizes) - 1
    if not last:
        hl, hh = _range_cached(P.pls[k], float(zlo[j]), float(zhi[j]))
        nb.h[k][0][j], nb.h[k][1][j] = hl, hh
        box.h[k][0][j], box.h[k][1][j] = P.net.pl[k].value_range(box.z[k][0][j], box.z[k][1][j])
    zo, ho = P.offs[k]
    lp.clamp(k, j, float(zlo[j]), float(zhi[j]))
    if not last:
        lp.h.changeColBounds(ho + j, float(nb.h[k][0][j]), float(nb.h[k][1][j]))
    lp._load_unit(k, j, _hull_cached(P.pls[k], float(zlo[j]), float(zhi[j])))


def _improves(val: float, cur: float, width: float, sense: str) -> bool:
    if not math.isfinite(val):
        return False
    if not math.isfinite(cur):
        return True
    gain = (val - cur) if sense == "ge" else (cur - val)
    return gain > _MIN_GAIN * (width if math.isfinite(width) else 1.0) + 1e-9 * (1 + abs(cur))


def _tighten_unit(P: Problem, lp: Any, nb: Any, box: Any, k: int, j: int, entries: list, path: dict, stats: BabStats,
                  t_end: float) -> str:
    """Both bounds of one unit: ``"ok"``, ``"infeasible"`` (the relaxation is empty) or ``"time"``."""

    zo = P.offs[k][0]
    for sense, sign in (("ge", 1.0), ("le", -1.0)):
        if time.perf_counter() > t_end:
            return "time"
        zlo, zhi = nb.z[k]
        if not any(zlo[j] < float(q) < zhi[j] for q in P.pls[k].knots):
            return "ok"  # stable now: nothing left to gain for the relaxation of this unit
        t0 = time.perf_counter()
        st, val, rows = lp.bound(zo + j, sign, t_end)
        stats.lp_seconds += time.perf_counter() - t0
        stats.lps += 1
        if st == "infeasible":
            return "infeasible"
        if st != "optimal":
            continue
        val = sign * val
        cur = zlo[j] if sense == "ge" else zhi[j]
        if not _improves(val, float(cur), float(zhi[j] - zlo[j]), sense):
            continue
        t0 = time.perf_counter()
        crows = _cert_rows(rows)
        exact = implied_bound(P.net, box, crows, P.n, P.sizes, k, j, sense)
        stats.check_seconds += time.perf_counter() - t0
        if exact is None or not _improves(float(exact), float(cur), float(zhi[j] - zlo[j]), sense):
            continue
        # the exact bound rounded outward to a float64 value: a weaker bound, still implied, whose denominator is
        # a power of 2 (exact bounds carry huge denominators that slow every later exact interval step)
        _record(P, k, j, sense, exact, crows, entries, path)
        _clamp_unit(P, lp, nb, box, k, j, sense, Q(path[("z", k, j)][0 if sense == "ge" else 1]))
    return "ok"


#: Passes over the layers (a second pass sees the tighter later layers the first one produced).
_PASSES = 2


def _area(nb: Any, k: int, j: int, pl: Any) -> float:
    """Sort key, most loosely relaxed first: minus ``(beta - lo)(hi - beta)/(hi - lo)`` at the knot nearest the middle."""
    lo, hi = float(nb.z[k][0][j]), float(nb.z[k][1][j])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return -math.inf
    mid = (lo + hi) / 2
    beta = min((float(q) for q in pl.knots if lo < float(q) < hi), key=lambda q: abs(q - mid), default=mid)
    return -(beta - lo) * (hi - beta) / (hi - lo)


def _record(P: Problem, k: int, j: int, sense: str, exact: Any, crows: list, entries: list, path: dict) -> None:
    """Keep an exact bound (rounded outward to a float64 value: short denominators for the exact steps after)."""
    exact = Fraction(_down(Fraction(str(exact))) if sense == "ge" else _up(Fraction(str(exact))))
    entries.append([k, j, sense, str(exact), crows])
    old = path.get(("z", k, j), (None, None))
    path[("z", k, j)] = (exact, old[1]) if sense == "ge" else (old[0], exact)


def _invprop_layer(P: Problem, k: int, entries: list, path: dict, stats: BabStats, t_end: float) -> str:
    """INVPROP bounds (:mod:`.invprop`) of layer ``k``'s unstable units, each kept only when its rows imply it in
    exact rationals (:func:`implied_bound`) and it beats the current bound by ``_MIN_GAIN``: ``"ok"`` or ``"empty"``."""
    xlo, xhi = _x_box(P, path)
    nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, xlo, xhi, _zclamp(path))
    if nb.empty is not None:
        return "empty"
    units = np.asarray(_unstable(P, nb, k), int)
    if not len(units):
        return "ok"
    R = BM.relaxation(P, nb, _hulls(P, nb))
    lo, hi, best = IP.optimise_layer(P, R, k, units, *nb.x, t_end=t_end)
    box = leaf_box(P.net, P.xlo_q, P.xhi_q, path)
    if box.empty is not None:
        return "empty"
    u = len(units)
    for i, j in enumerate(units.tolist()):
        cur_lo, cur_hi = float(nb.z[k][0][j]), float(nb.z[k][1][j])
        for sense, val, col, cur in (("ge", lo[i], i, cur_lo), ("le", hi[i], u + i, cur_hi)):
            if not _improves(float(val), cur, cur_hi - cur_lo, sense):
                continue
            t0 = time.perf_counter()
            crows = _cert_rows(IP.rows_for(P, R, k, best, col, *nb.x))
            exact = implied_bound(P.net, box, crows, P.n, P.sizes, k, j, sense)
            stats.check_seconds += time.perf_counter() - t0
            if exact is not None and _improves(float(exact), cur, cur_hi - cur_lo, sense):
                _record(P, k, j, sense, exact, crows, entries, path)
                stats.invprop_bounds += 1
    return "ok"


def _invprop(P: Problem, entries: list, path: dict, stats: BabStats, passes: int, t_end: float) -> str:
    """Passes of INVPROP bounds over the hidden layers, first to last (a later pass sees the tighter relaxation of
    every layer, the latent term's back-substitution crosses them all)."""
    t0 = time.perf_counter()
    try:
        for _ in range(passes):
            before = len(entries)
            for k in range(len(P.sizes) - 1):
                if time.perf_counter() > t_end:
                    return "time"
                if _invprop_layer(P, k, entries, path, stats, t_end) == "empty":
                    return "empty"
            if len(entries) == before:
                break
        return "ok"
    finally:
        stats.crown_seconds += time.perf_counter() - t0


#: The LP bounds run after INVPROP when, on a probe of the widest unstable units, they tighten by this share of
#: the interval's width on average (the LP has the exact relaxation INVPROP's optimisation approaches).
_LP_PROBE_UNITS = 4
_LP_PROBE_GAIN = 0.005


def _closed_already(P: Problem, path: dict, stats: BabStats, t_end: float) -> bool:
    """Whether the root needs no bounds: empty intervals, or an elastic LP optimum ``s* > 0`` (one LP; the tree's
    root then closes with it)."""
    xlo, xhi = _x_box(P, path)
    nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, xlo, xhi, _zclamp(path))
    if nb.empty is not None:
        return True
    t0 = time.perf_counter()
    st, s, _v, _rows = P.relax(nb, _hulls(P, nb)).elastic(t_end)
    stats.lp_seconds += time.perf_counter() - t0
    stats.lps += 1
    return st == "optimal" and s > 1e-9


def _lp_worth_it(P: Problem, path: dict, stats: BabStats, t_end: float) -> bool:
    """Whether the LP bounds are worth their two LPs per unit after INVPROP: probe the widest unstable units of
    the last hidden layer (float only; nothing is recorded)."""
    xlo, xhi = _x_box(P, path)
    nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, xlo, xhi, _zclamp(path))
    k = len(P.sizes) - 2
    if nb.empty is not None or k < 0:
        return False
    units = _unstable(P, nb, k)
    if not units:
        return False
    zlo, zhi = nb.z[k]
    units = sorted(units, key=lambda j: -(zhi[j] - zlo[j]))[:_LP_PROBE_UNITS]
    lp = P.relax(nb, _hulls(P, nb))
    gains = []
    for j in units:
        for sign in (1.0, -1.0):
            t0 = time.perf_counter()
            st, val, _rows = lp.bound(P.offs[k][0] + j, sign, t_end)
            stats.lp_seconds += time.perf_counter() - t0
            stats.lps += 1
            if st == "infeasible":
                return True
            if st == "optimal":
                cur = zlo[j] if sign > 0 else -zhi[j]
                gains.append(max(0.0, val - cur) / (zhi[j] - zlo[j]))
    return bool(gains) and float(np.mean(gains)) > _LP_PROBE_GAIN


def tighten(P: Problem, deadline: float, stats: BabStats, max_seconds: float, passes: int | None = None,
            entries: list | None = None, path: dict | None = None) -> tuple[list, dict]:
    """Derived bounds ``[k, j, sense, value, rows]`` (certificate entries) and the clamps they give (a ``path``).

    With ``"invprop"`` in the problem's cascade, INVPROP back-substitution bounds first (a batched optimisation
    per layer instead of two LPs per unit), and the LP bounds after them only with ``"lp-tighten"``.
    Continues from ``entries``/``path`` when given (bounds reused from an earlier query). Stops early when the
    relaxation is already empty (the root's elastic LP then closes the tree) or the interval bounds exclude 0
    from a latent unit.
    """
    t_end = min(deadline, time.perf_counter() + max_seconds)
    entries = list(entries or [])
    path = dict(path or {})
    if "invprop" in P.methods and P.bounded:
        if _closed_already(P, path, stats, t_end):
            return entries, path
        st = _invprop(P, entries, path, stats, _PASSES if passes is None else passes, t_end)
        if st == "empty" or not ("lp-tighten" in P.methods or _lp_worth_it(P, path, stats, t_end)):
            return entries, path
    for _ in range(_PASSES if passes is None else passes):
        before = len(entries)
        for k in range(len(P.sizes)):
            xlo, xhi = _x_box(P, path)
            nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, xlo, xhi, _zclamp(path))
            if nb.empty is not None:
                return entries, path
            lp = P.relax(nb, _hulls(P, nb))
            box = leaf_box(P.net, P.xlo_q, P.xhi_q, path)
            if box.empty is not None:
                return entries, path
            order = sorted(_unstable(P, nb, k), key=lambda j: _area(nb, k, j, P.pls[k]))
            for j in order:
                st = _tighten_unit(P, lp, nb, box, k, j, entries, path, stats, t_end)
                if st != "ok":
                    return entries, path
        if len(entries) == before:
            break
    return entries, path
